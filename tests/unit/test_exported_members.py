"""The public API: ``scrapeyard.__all__`` is sorted and lists exactly what is exported."""

import scrapeyard


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in dir(scrapeyard) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(scrapeyard, name)).__name__ == "module"}
    assert scrapeyard.__all__ == sorted(scrapeyard.__all__)
    assert set(scrapeyard.__all__) - {"__version__"} == public - modules


def test_every_exported_name_resolves() -> None:
    for name in scrapeyard.__all__:
        assert getattr(scrapeyard, name) is not None
