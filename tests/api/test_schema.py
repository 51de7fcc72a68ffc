"""Schemathesis against the live API's ``/openapi.json``: no 5xx, no answer outside the schema.

Every operation gets schema-valid and schema-invalid requests, with an admin key. The
event stream is left out: it stays open while its job runs, and has tests of its own.
"""

from __future__ import annotations

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from scrapeyard.api.options import ApiOptions
from tests.api import live
from tests.api.conftest import StartServer

EXAMPLES = 25
"""Per operation and mode: enough to find a 5xx, small enough to run in seconds."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_the_api_answers_within_its_schema(start_server: StartServer, admin_key: str) -> None:
    unlimited = ApiOptions(
        rate_limit=1e9,
        rate_burst=10**9,
        stream_poll_interval=live.FAST.stream_poll_interval,
        max_wait=0.2,  # no worker runs here: a scrape waits briefly, then answers 202
    )
    url = start_server(unlimited)
    config = schemathesis.Config.from_dict({"auth": {"openapi": {"apiKey": {"bearer": admin_key}}}})
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=config).exclude(
        path_regex="/events$"
    )
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tested.append(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            extra = [negative_data_rejection] if mode is GenerationMode.NEGATIVE else []

            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis.settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case) -> None:
                case.call_and_validate(checks=CHECKS, additional_checks=extra, timeout=30)  # noqa: B023

            try:
                check()
            except hypothesis.errors.Unsatisfiable:
                # No parameters and no body: nothing can be made invalid.
                assert mode is GenerationMode.NEGATIVE, operation.label
    assert "POST /v1/jobs" in tested and "GET /metrics" in tested
