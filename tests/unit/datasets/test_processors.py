"""Record processors: the registry, the built-ins, and how a failing one is handled."""

from __future__ import annotations

from typing import Any

import pytest

from scrapeyard import errors
from scrapeyard.datasets import processors

PAGE = {
    "url": "https://www.acme.example/contact",
    "metadata": {
        "title": "Contact us | ACME Widgets",
        "open_graph": {"og:site_name": "ACME Widgets GmbH"},
    },
    "jsonld": [{"@type": "Organization", "name": "ACME (from JSON-LD)"}],
}


def _run(names: list[str], record: dict[str, Any], source: dict[str, Any] | None = None) -> Any:
    chain = processors.registry.chain(names)
    return processors.run(chain, record, processors.Context(source or record, "DE"))


def test_domain_from_the_url_else_from_the_email() -> None:
    assert _run(["domain"], {"url": "https://www.acme.example/a"})["domain"] == "acme.example"
    assert _run(["domain"], {"email": "ann@shop.example"})["domain"] == "shop.example"
    assert (
        _run(["domain"], {"website": "https://b.example/", "email": "x@a.example"})["domain"]
        == "b.example"
    )
    assert "domain" not in _run(["domain"], {"name": "no address"})


def test_company_from_open_graph_then_json_ld_then_the_title() -> None:
    assert _run(["company"], {}, PAGE)["company"] == "ACME Widgets GmbH"
    no_og = {**PAGE, "metadata": {"title": PAGE["metadata"]["title"]}}  # type: ignore[index]
    assert _run(["company"], {}, no_og)["company"] == "ACME (from JSON-LD)"
    title_only = {"metadata": {"title": "Contact us | ACME Widgets"}}
    assert _run(["company"], {}, title_only)["company"] == "ACME Widgets"
    assert "company" not in _run(["company"], {}, {"metadata": {"title": "Welcome"}})


def test_country_from_the_first_phone_number() -> None:
    assert _run(["country"], {"phone": "+49301234567"})["country"] == "DE"
    assert _run(["country"], {"phones": ["+16502530000"]})["country"] == "US"
    assert "country" not in _run(["country"], {"phone": "0301234567"})


def test_built_ins_never_overwrite_a_field_already_set() -> None:
    record = {"url": "https://a.example/", "domain": "mine", "company": "Mine", "country": "FR"}
    source = {**PAGE, "phone": "+49301234567"}
    assert _run(["domain", "company", "country"], dict(record), source) == record


def test_processors_run_in_order_and_custom_ones_register() -> None:
    registry = processors.Registry()

    @registry("upper")
    def upper(record: dict[str, Any], context: processors.Context) -> dict[str, Any]:
        return {**record, "name": record["name"].upper()}

    @registry("suffix")
    def suffix(record: dict[str, Any], context: processors.Context) -> dict[str, Any]:
        record["name"] += f" ({context.region})"
        return record

    chain = registry.chain(["upper", "suffix"])
    assert processors.run(chain, {"name": "acme"}, processors.Context({}, "DE")) == {
        "name": "ACME (DE)"
    }
    with pytest.raises(errors.InvalidInput, match="already registered"):
        registry.add("upper", suffix)
    with pytest.raises(errors.InvalidInput, match="unknown record processor 'nope'"):
        registry.chain(["nope"])


def test_a_processor_that_rejects_or_fails_rejects_the_record_with_its_name() -> None:
    registry = processors.Registry()

    @registry("picky")
    def picky(record: dict[str, Any], context: processors.Context) -> dict[str, Any]:
        raise errors.RecordRejected("no name")

    @registry("broken")
    def broken(record: dict[str, Any], context: processors.Context) -> dict[str, Any]:
        return record["missing"]  # type: ignore[no-any-return]

    context = processors.Context({})
    with pytest.raises(errors.RecordRejected, match="no name"):
        processors.run(registry.chain(["picky"]), {}, context)
    with pytest.raises(errors.RecordRejected, match="processor 'broken' failed: KeyError"):
        processors.run(registry.chain(["broken"]), {}, context)


def test_company_from_a_title_skips_the_part_that_names_the_page() -> None:
    source = {"metadata": {"title": "ACME Widgets - Home"}}
    assert _run(["company"], {}, source)["company"] == "ACME Widgets"
