"""The root command, its global options, and how errors become exit codes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from scrapeyard import __version__, errors
from scrapeyard.cli import common, crawl, db, demo, jobs, keys, serve, worker
from scrapeyard.cli import datasets as dataset_commands
from scrapeyard.cli import imports as import_commands
from scrapeyard.cli import schedules as schedule_commands
from scrapeyard.cli import webhooks as webhook_commands

app = typer.Typer(
    name="scrapeyard",
    help="Web scraping and crawling jobs on a durable SQL job queue.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(jobs.app, name="jobs")
app.add_typer(db.app, name="db")
app.add_typer(keys.app, name="keys")
app.add_typer(schedule_commands.app, name="schedules")
app.add_typer(webhook_commands.app, name="webhooks")
app.add_typer(dataset_commands.app, name="datasets")
app.command("worker")(worker.worker)
app.command("workers")(worker.workers)
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("api")(serve.api)
app.command("crawl")(crawl.crawl)
app.command("scrape")(crawl.scrape)
app.command("import")(import_commands.import_file)


def _version(value: bool) -> None:
    if value:
        print(f"scrapeyard {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="YAML settings file (default: ./scrapeyard.yaml when present).",
            envvar="SCRAPEYARD_CONFIG",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Database URL; overrides SCRAPEYARD_DATABASE_URL and the config file.",
        ),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option("--log-level", help="debug, info, warning or error.")
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option("--log-format", help="text (default) or json: one JSON object per line."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Settings come from defaults < scrapeyard.yaml < SCRAPEYARD_* variables < flags."""
    common.GLOBAL_OPTIONS.update(
        config_file=config,
        database_url=database_url,
        log_level=log_level,
        log_format=log_format,
    )


def main() -> None:
    """Console-script entry point: run the app, turning our errors into exit codes."""
    try:
        app()
    except errors.ScrapeyardError as exc:
        common.fail(exc)
    except KeyboardInterrupt:
        sys.exit(130)
