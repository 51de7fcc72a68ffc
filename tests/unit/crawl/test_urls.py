"""URL normalisation, hashing and crawl scope."""

from __future__ import annotations

import random
import string

import pytest

from scrapeyard import errors
from scrapeyard.crawl import urls


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("HTTP://Example.COM/", "http://example.com/"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("http://example.com/a#section", "http://example.com/a"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/../../a", "http://example.com/a"),
        ("http://example.com/a/b/..", "http://example.com/a/"),
        ("http://example.com/%7euser/%2fx", "http://example.com/~user/%2Fx"),
        ("http://example.com/%41%42c", "http://example.com/ABc"),
        ("http://example.com/a b", "http://example.com/a%20b"),
        ("http://example.com/100%", "http://example.com/100%25"),
        ("http://example.com/?b=2&a=1", "http://example.com/?a=1&b=2"),
        ("http://example.com/?a=1&&b=", "http://example.com/?a=1&b="),
        ("http://example.com/?utm_source=x&id=3&UTM_Medium=y", "http://example.com/?id=3"),
        ("http://example.com/?utm_source=x", "http://example.com/"),
        ("http://bücher.de/straße?q=ü", "http://xn--bcher-kva.de/stra%C3%9Fe?q=%C3%BC"),
        ("http://EXAMPLE.com./", "http://example.com/"),
        ("http://[0:0::1]:8080/", "http://[::1]:8080/"),
        ("http://127.1/", "http://127.0.0.1/"),
        ("http://2130706433/", "http://127.0.0.1/"),
        ("  http://example.com/a\n\tb  ", "http://example.com/ab"),
        ("http://user:pw@example.com/", "http://user:pw@example.com/"),
    ],
)
def test_normalize(url: str, normalized: str) -> None:
    assert urls.normalize(url) == normalized


def test_normalizing_twice_changes_nothing() -> None:
    once = urls.normalize("HTTP://Example.com:80/a/../b c/%7e?z=1&a=%2f#x")

    assert urls.normalize(once) == once


def test_configured_parameters_are_stripped_too() -> None:
    normalizer = urls.Normalizer(["sessionid", "mc_*"])

    assert (
        normalizer("http://example.com/?SessionId=1&mc_cid=2&mc_eid=3&utm_x=4&page=2")
        == "http://example.com/?page=2"
    )


def test_an_empty_parameter_name_is_refused() -> None:
    with pytest.raises(errors.InvalidInput, match=r"strip_params\[1\]"):
        urls.Normalizer(["ok", "*"])


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://example.com:99999/", "Port out of range"),
        ("http://example.com:abc/", "malformed"),
        ("http://[::1", "malformed"),
        ("http://exa mple.com/", "host"),
        ("http://exa\x00mple.com/", "control characters"),
        ("http://example.com/\x7f", "control characters"),
        ("http://" + "a" * 9000 + ".com/", "longer than"),
        ("http:///path", "no host"),
        ("http://1.2.3.4.5/", "IPv4"),
        ("http://[fe80::1%25eth0]/", "IPv6"),
        ("http://xn--a.com/", "host"),
        ("//example.com/", "not an absolute URL"),
        ("example.com/page", "not an absolute URL"),
    ],
)
def test_malformed_urls_are_refused_clearly(url: str, problem: str) -> None:
    with pytest.raises(errors.InvalidInput, match=problem) as caught:
        urls.normalize(url)

    assert caught.value.field == "url"


@pytest.mark.parametrize("url", ["ftp://example.com/", "mailto:a@b.c", "javascript:void(0)"])
def test_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(errors.UnsupportedScheme):
        urls.normalize(url)


def test_random_junk_never_raises_anything_unexpected() -> None:
    rng = random.Random(4)
    alphabet = string.printable + "\x00\x7fé[]@:%#?"
    for _ in range(3000):
        junk = "http://" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        try:
            urls.normalize(junk)
        except (errors.InvalidInput, errors.UnsupportedScheme):
            pass


def test_url_hash_is_stable_and_short() -> None:
    digest = urls.url_hash("http://example.com/")

    assert digest == urls.url_hash("http://example.com/")
    assert digest != urls.url_hash("http://example.com/a")
    assert len(digest) == 32 and int(digest, 16) >= 0


# -- scope ------------------------------------------------------------------------------


def test_scope_keeps_to_the_start_site() -> None:
    scope = urls.Scope(["https://example.com/docs/"])

    assert scope.check("https://example.com/other") is None
    assert scope.check("http://example.com/other") is None
    assert scope.check("https://www.example.com/") is None
    assert scope.check("https://EXAMPLE.com:8443/") is None
    assert scope.check("https://blog.example.com/") == urls.OutOfScope.EXTERNAL
    assert scope.check("https://example.org/") == "external"
    assert scope.check("https://notexample.com/") == "external"


def test_scope_with_subdomains_or_external_hosts() -> None:
    subdomains = urls.Scope(["https://www.example.com/"], allow_subdomains=True)
    everything = urls.Scope(["https://example.com/"], allow_external=True)

    assert subdomains.check("https://blog.example.com/") is None
    assert subdomains.check("https://a.b.example.com/") is None
    assert subdomains.check("https://badexample.com/") == "external"
    assert everything.check("https://example.org/") is None


def test_scope_refuses_bad_urls_and_other_schemes() -> None:
    scope = urls.Scope(["https://example.com/"])

    assert scope.check("mailto:someone@example.com") == "scheme"
    assert scope.check("ftp://example.com/file") == "scheme"
    assert scope.check("http://[::1") == "invalid"
    assert scope.check("http://example.com:99999/") == "invalid"
    assert scope.check("http://exa mple.com/") == "invalid"


def test_scope_depth() -> None:
    scope = urls.Scope(["https://example.com/"], max_depth=2)

    assert scope.check("https://example.com/a", 2) is None
    assert scope.check("https://example.com/a", 3) == "too deep"


def test_scope_globs_and_regular_expressions() -> None:
    scope = urls.Scope(
        ["https://example.com/"],
        include_paths=["/blog/*", "re:^/news/\\d{4}/"],
        exclude_paths=["*/drafts/*", "re:\\.pdf$"],
    )

    assert scope.check("https://example.com/blog/2024/post") is None
    assert scope.check("https://example.com/news/2024/x") is None
    assert scope.check("https://example.com/news/latest") == "not included"
    assert scope.check("https://example.com/about") == "not included"
    assert scope.check("https://example.com/blog/drafts/x") == "excluded"
    assert scope.check("https://example.com/blog/file.pdf") == "excluded"
    assert scope.check("https://example.com/blog/x?page=2#top") is None


def test_a_glob_without_a_leading_slash_is_anchored_at_the_root() -> None:
    scope = urls.Scope(["https://example.com/"], include_paths=["products/*"])

    assert scope.check("https://example.com/products/1") is None
    assert scope.check("https://example.com/x/products/1") == "not included"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"include_paths": ["/a", "/b", "re:(unclosed"]}, "include_paths[2]"),
        ({"exclude_paths": ["re:[z-a]"]}, "exclude_paths[0]"),
        ({"include_paths": [""]}, "include_paths[0]"),
        ({"include_paths": "/blog/*"}, "include_paths"),
        ({"exclude_paths": ["/" + "a" * 2000]}, "exclude_paths[0]"),
        ({"max_depth": -1}, "max_depth"),
    ],
)
def test_scope_options_are_validated_up_front(options: dict[str, object], field: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        urls.Scope(["https://example.com/"], **options)  # type: ignore[arg-type]

    assert caught.value.field == field


@pytest.mark.parametrize(
    ("start", "field"),
    [(["https://ok.com/", "ftp://x/"], "start_urls[1]"), (["http://[::1"], "start_urls[0]")],
)
def test_start_urls_are_validated(start: list[str], field: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        urls.Scope(start)

    assert caught.value.field == field
