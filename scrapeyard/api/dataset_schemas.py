"""Request and response bodies of the datasets and imports endpoints.

Dataset settings are described here for OpenAPI; their rules (a valid JSON Schema,
registered processors, known regions, durations) are checked by
``scrapeyard.datasets.spec``, which names the offending field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from scrapeyard.api.schemas import Job, _Model

FieldType = Literal["text", "url", "email", "phone", "price", "raw"]
State = Literal["new", "changed", "unchanged", "gone"]


class _Aliased(_Model):
    # "schema" is a BaseModel attribute: the field is ``json_schema``, spelt "schema".
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DatasetSettings(_Aliased):
    """A dataset's settings; those left out keep their value (or default)."""

    key: list[str] | None = Field(
        None,
        max_length=10,
        description="The fields that identify a record (empty: the whole record). "
        "A dataset that holds records keeps its key.",
    )
    json_schema: dict[str, Any] | None = Field(
        None, alias="schema", description="A JSON Schema records must match, else rejected."
    )
    processors: list[str] | None = Field(
        None, description="Record processors, in order: `domain`, `company`, `country`, ..."
    )
    types: dict[str, FieldType] | None = Field(
        None, description="Field types where the names do not tell (`sku_link`: `url`)."
    )
    region: str | None = Field(
        None, max_length=2, description="Default region for phone numbers, e.g. `DE`."
    )
    retention: float | str | None = Field(
        None,
        description="Archive and remove records not seen for this long (`90d`, or seconds).",
    )


class Dataset(_Aliased):
    """A dataset and its settings."""

    name: str = Field(description="Its name (letters, digits, `-`, `_`, `.`).")
    key: list[str] = Field(description="The fields that identify a record (empty: all).")
    json_schema: dict[str, Any] | None = Field(
        None, alias="schema", description="The JSON Schema records must match, if any."
    )
    processors: list[str] = Field(description="Record processors run in this order.")
    types: dict[str, str] = Field(description="Field types given where names do not tell.")
    region: str | None = Field(description="Default region for phone numbers, if any.")
    retention: float | None = Field(description="Seconds, or null to keep records forever.")
    records: int = Field(description="Records it holds, in every state.")
    created_at: datetime = Field(description="When it was created.")
    updated_at: datetime = Field(description="When its settings last changed.")


class DatasetList(_Model):
    """Every dataset, by name."""

    datasets: list[Dataset] = Field(description="The datasets, by name.")


class Run(_Model):
    """One run that fed a dataset: a crawl, a scrape or an import."""

    id: int = Field(description="The run's id.")
    job_id: int | None = Field(description="The job that ran it, if any.")
    source: str = Field(description="`crawl`, `scrape` or `import`.")
    full: bool = Field(description="Whether records it did not see were stamped `gone`.")
    status: Literal["running", "succeeded", "failed"] = Field(description="Where it is.")
    received: int = Field(description="Rows it brought.")
    new: int = Field(description="Records it added.")
    changed: int = Field(description="Records whose content changed.")
    unchanged: int = Field(description="Records it saw again as they were.")
    gone: int = Field(description="Stamped gone (an import: removed, as it replaced them).")
    rejected: int = Field(description="Rows refused (see the rejects).")
    duplicates: int = Field(description="Rows whose key an earlier row of the run had.")
    error: str | None = Field(description="Why it failed, if it did.")
    started_at: datetime = Field(description="When it started.")
    finished_at: datetime | None = Field(description="When it ended, if it has.")


class DatasetDetail(Dataset):
    """A dataset with its records by state and its latest runs."""

    states: dict[State, int] = Field(description="How many records are in each state.")
    runs: list[Run] = Field(description="The latest runs, newest first.")


class RunList(_Model):
    """A dataset's runs."""

    runs: list[Run] = Field(description="Its runs, newest first.")


class DatasetRecord(_Model):
    """A record as the dataset keeps it."""

    key: dict[str, Any] = Field(description="The values of the dataset's key fields.")
    state: State = Field(description="`new`, `changed`, `unchanged` or `gone`.")
    first_seen_at: datetime = Field(description="When a run first brought it.")
    last_seen_at: datetime = Field(description="When a run last brought it.")
    data: dict[str, Any] = Field(description="The normalised, enriched record.")


class DatasetRecordPage(_Model):
    """A page of records."""

    records: list[DatasetRecord] = Field(description="The records, in insertion order.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class Changes(DatasetRecordPage):
    """What the latest run found new, changed or gone (an import's removals are counted
    in the run, their records no longer exist)."""

    run: Run | None = Field(description="The latest run that succeeded.")


class Reject(_Model):
    """A row the dataset refused, and why."""

    line: int | None = Field(description="Its line in the imported file.")
    reason: str = Field(description="Why it was refused, naming the field.")
    data: dict[str, Any] | None = Field(description="The row as it came, if it could be read.")


class RejectPage(_Model):
    """A page of a run's rejects."""

    run_id: int | None = Field(description="The run they come from (the latest by default).")
    rejects: list[Reject] = Field(description="The refused rows, in order.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class ImportStarted(_Model):
    """An import accepted: its job, and where to follow it."""

    job: Job = Field(description="The import job.")
    status_url: str = Field(description="`GET` for its status and progress.")
    events_url: str = Field(description="`GET` for live Server-Sent Events.")
    dataset_url: str = Field(description="`GET` for the dataset once it is done.")
