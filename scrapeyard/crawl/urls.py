"""URL normalisation for de-duplication, URL hashes, and the scope of a crawl.

Two spellings of one page must become one frontier row, so every URL is normalised
before it is stored or compared: scheme and host lower-cased, international hosts in
IDNA form, numeric IPv4 hosts in dotted-quad form, default ports dropped, ``.`` and
``..`` segments resolved, percent-encoding made canonical (unreserved characters
decoded, other escapes upper-cased, unsafe characters escaped), query parameters sorted,
tracking parameters (``utm_*`` and a configurable list) removed, fragments dropped.

>>> normalize("HTTP://Example.COM:80/a/./b/../c?b=2&a=1&utm_source=x#top")
'http://example.com/a/c?a=1&b=2'

``url_hash`` turns a normalised URL into a short, stable key for a unique index.
``Scope`` decides which discovered URLs a crawl follows.
"""

from __future__ import annotations

import enum
import fnmatch
import functools
import hashlib
import ipaddress
import re
import socket
import urllib.parse
from collections.abc import Iterable, Sequence

from scrapeyard import errors

MAX_URL_LENGTH = 8192
MAX_PATTERN_LENGTH = 1024
SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

# WHATWG URL parsing strips these from both ends and removes tabs and newlines anywhere;
# any other control character makes the URL invalid here.
_EDGE_JUNK = "".join(chr(c) for c in range(0x21))
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters left as they are in a path or a query parameter; anything else is escaped.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/?:@!$'()*+,;=-._~"
_USERINFO_SAFE = "!$&'()*+,;=:-._~"
_CLEAN_PATH = re.compile(r"[A-Za-z0-9/:@!$&'()*+,;=\-._~]*")
_CLEAN_QUERY = re.compile(r"[A-Za-z0-9/?:@!$'()*+,;=\-._~&]*")
_CLEAN_USERINFO = re.compile(r"[A-Za-z0-9!$&'()*+,;=:\-._~]*")
_HOST_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?")
_NUMERIC_HOST = re.compile(r"(?:[0-9]+|0x[0-9a-f]*)(?:\.(?:[0-9]+|0x[0-9a-f]*))*\.?")


def _escape_match(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _requote(part: str, safe: str, clean: re.Pattern[str]) -> str:
    """``part`` with canonical percent-encoding: unreserved escapes decoded, others kept
    upper-cased, a stray ``%`` escaped, and characters outside ``safe`` escaped."""
    if clean.fullmatch(part):
        return part
    if "%" in part:
        part = _STRAY_PERCENT.sub("%25", part)
        part = _PERCENT.sub(_escape_match, part)
    return urllib.parse.quote(part, safe=safe + "%")


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on a path that starts with ``/``."""
    if "." not in path:
        return path
    output: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if path.endswith(("/.", "/..")):
        output.append("")
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def _invalid(problem: str) -> errors.InvalidInput:
    return errors.InvalidInput("url", problem)


def canonical_host(host: str) -> str:
    """``host`` as it appears in a normalised URL: lower-case, IDNA, no trailing dot,
    IPv6 in brackets and compressed, numeric IPv4 (``127.1``, ``0x7f000001``) dotted.

    Raises ``InvalidInput`` for a host that cannot be reached by any name or address.
    """
    if not host:
        raise _invalid("the URL has no host")
    if ":" in host:
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError:
            raise _invalid(f"invalid IPv6 address {host!r}") from None
        if address.scope_id:
            raise _invalid("IPv6 zone identifiers are not supported")
        return f"[{address.compressed}]"
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _invalid("the host is not a valid international domain name") from None
    host = host.lower()
    if _NUMERIC_HOST.fullmatch(host):
        # What browsers do: a host whose labels are all numbers is an IPv4 address in
        # some legacy notation; anything inet_aton refuses is not a valid host at all.
        try:
            return socket.inet_ntoa(socket.inet_aton(host.rstrip(".")))
        except OSError:
            raise _invalid(f"invalid IPv4 address {host!r}") from None
    if not _HOST_NAME.fullmatch(host) or len(host) > 254:
        raise _invalid("the host contains characters that are not allowed")
    if "xn--" in host:
        try:
            host.encode("ascii").decode("idna")
        except UnicodeError:
            raise _invalid("the host is not a valid international domain name") from None
    return host.rstrip(".")


class Normalizer:
    """Normalises URLs, removing ``utm_*`` and the query parameters in ``strip_params``.

    A name in ``strip_params`` ending in ``*`` removes every parameter with that prefix
    (``"mc_*"``); names are compared case-insensitively. Results are cached (links
    repeat a lot across the pages of one site).

    Raises ``UnsupportedScheme`` for anything but http and https, and ``InvalidInput``
    (field ``url``) for a URL that is malformed.
    """

    def __init__(self, strip_params: Iterable[str] = (), *, cache_size: int = 16384) -> None:
        names: set[str] = set()
        prefixes: list[str] = ["utm_"]
        for index, name in enumerate(strip_params):
            if not isinstance(name, str) or not name.strip("*"):
                raise errors.InvalidInput(f"strip_params[{index}]", "must be a parameter name")
            name = name.lower()
            if name.endswith("*"):
                prefixes.append(name.rstrip("*"))
            else:
                names.add(name)
        self._strip_names = frozenset(names)
        self._strip_prefixes = tuple(prefixes)
        self._cached = functools.lru_cache(maxsize=cache_size)(self._normalize)

    def __call__(self, url: str) -> str:
        return self._cached(url)

    def _normalize(self, url: str) -> str:
        if len(url) > MAX_URL_LENGTH:
            raise _invalid(f"the URL is longer than {MAX_URL_LENGTH} characters")
        url = _TAB_OR_NEWLINE.sub("", url.strip(_EDGE_JUNK))
        if _CONTROL.search(url):
            raise _invalid("the URL contains control characters")
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise _invalid(f"malformed URL ({exc})") from None
        scheme = parts.scheme.lower()
        if not scheme:
            raise _invalid("not an absolute URL")
        if scheme not in SCHEMES:
            raise errors.UnsupportedScheme(f"{scheme}: URLs are not fetched; only http and https")
        host = canonical_host(parts.hostname or "")
        netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
        userinfo, at, _ = parts.netloc.rpartition("@")
        if at:
            netloc = f"{_requote(userinfo, _USERINFO_SAFE, _CLEAN_USERINFO)}@{netloc}"
        path = _remove_dot_segments(_requote(parts.path or "/", _PATH_SAFE, _CLEAN_PATH))
        if not path.startswith("/"):
            path = "/" + path
        query = self._query(parts.query)
        return f"{scheme}://{netloc}{path}?{query}" if query else f"{scheme}://{netloc}{path}"

    def _query(self, query: str) -> str:
        if not query:
            return ""
        kept = []
        for piece in query.split("&"):
            if not piece:
                continue
            piece = _requote(piece, _QUERY_SAFE, _CLEAN_QUERY)
            if not self._stripped(piece.partition("=")[0]):
                kept.append(piece)
        kept.sort()
        return "&".join(kept)

    def _stripped(self, name: str) -> bool:
        if "%" in name or "+" in name:
            name = urllib.parse.unquote_plus(name)
        name = name.lower()
        return name in self._strip_names or name.startswith(self._strip_prefixes)


_default = Normalizer()


def normalize(url: str) -> str:
    """``url`` normalised with the default rules (only ``utm_*`` parameters removed)."""
    return _default(url)


def url_hash(normalized_url: str) -> str:
    """A stable 32-character key for a normalised URL (16 bytes of BLAKE2b, in hex)."""
    return hashlib.blake2b(normalized_url.encode("utf-8"), digest_size=16).hexdigest()


class OutOfScope(enum.StrEnum):
    """Why ``Scope.check`` refused a URL."""

    INVALID = "invalid"
    """The URL is malformed."""
    SCHEME = "scheme"
    """Not http or https."""
    TOO_DEEP = "too deep"
    """More links away from a start URL than ``max_depth``."""
    EXTERNAL = "external"
    """On another site (or a subdomain, unless ``allow_subdomains``)."""
    EXCLUDED = "excluded"
    """The path matches one of ``exclude_paths``."""
    NOT_INCLUDED = "not included"
    """``include_paths`` is set and the path matches none of them."""


def _compile_patterns(field: str, patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    if isinstance(patterns, str):
        raise errors.InvalidInput(field, "must be a list of patterns")
    compiled = []
    for index, pattern in enumerate(patterns):
        name = f"{field}[{index}]"
        if not isinstance(pattern, str) or not pattern:
            raise errors.InvalidInput(name, "must be a non-empty pattern")
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise errors.InvalidInput(name, f"longer than {MAX_PATTERN_LENGTH} characters")
        if pattern.startswith("re:"):
            try:
                compiled.append(re.compile(pattern[3:]))
            except re.error as exc:
                raise errors.InvalidInput(name, f"invalid regular expression: {exc}") from exc
            continue
        if _CONTROL.search(pattern):
            raise errors.InvalidInput(name, "contains control characters")
        if not pattern.startswith(("/", "*")):
            pattern = "/" + pattern
        compiled.append(re.compile(r"\A" + fnmatch.translate(pattern)))
    return tuple(compiled)


def _site(host: str) -> str:
    return host.removeprefix("www.")


class Scope:
    """Which URLs a crawl follows, decided from its start URLs and options.

    A URL is on the site when its host equals a start URL's host, ``www.`` or not (the
    port is ignored, so http and https of one host are one site); with
    ``allow_subdomains`` any subdomain of it counts too, and with ``allow_external``
    every host does. ``include_paths`` and ``exclude_paths`` are matched against the
    URL's normalised path: shell-style globs matched against the whole path (``*``
    crosses ``/``; a pattern not starting with ``/`` or ``*`` gets a ``/`` in front),
    or, with a ``re:`` prefix, regular expressions searched anywhere in the path.
    ``max_depth`` counts links from a start URL (the start URLs have depth 0).

    >>> scope = Scope(["https://example.com/"], exclude_paths=["/private/*"])
    >>> scope.check("https://example.com/private/x", 1)
    <OutOfScope.EXCLUDED: 'excluded'>
    >>> scope.check("https://www.example.com/about", 1) is None
    True
    """

    def __init__(
        self,
        start_urls: Sequence[str],
        *,
        allow_subdomains: bool = False,
        allow_external: bool = False,
        include_paths: Sequence[str] = (),
        exclude_paths: Sequence[str] = (),
        max_depth: int | None = None,
        normalizer: Normalizer | None = None,
    ) -> None:
        self._normalize = normalizer or _default
        if isinstance(start_urls, str):
            start_urls = [start_urls]
        if not start_urls:
            raise errors.InvalidInput("start_urls", "at least one URL is needed")
        sites = set()
        for index, url in enumerate(start_urls):
            try:
                normalized = self._normalize(url)
            except errors.InvalidInput as exc:
                raise errors.InvalidInput(f"start_urls[{index}]", exc.problem) from None
            except errors.UnsupportedScheme:
                raise errors.InvalidInput(
                    f"start_urls[{index}]", "only http and https URLs can be crawled"
                ) from None
            sites.add(_site(_host(normalized)))
        if max_depth is not None and (isinstance(max_depth, bool) or max_depth < 0):
            raise errors.InvalidInput("max_depth", "must be a number of links, 0 or more")
        self._sites = frozenset(sites)
        self._subdomain_suffixes = tuple("." + site for site in sites)
        self.allow_subdomains = allow_subdomains
        self.allow_external = allow_external
        self.max_depth = max_depth
        self._include = _compile_patterns("include_paths", include_paths)
        self._exclude = _compile_patterns("exclude_paths", exclude_paths)

    def check(self, url: str, depth: int = 0) -> OutOfScope | None:
        """``None`` when the crawl should follow ``url`` found at ``depth``; else why not."""
        try:
            normalized = self._normalize(url)
        except errors.UnsupportedScheme:
            return OutOfScope.SCHEME
        except errors.InvalidInput:
            return OutOfScope.INVALID
        if self.max_depth is not None and depth > self.max_depth:
            return OutOfScope.TOO_DEEP
        if not self.allow_external and not self._on_site(_host(normalized)):
            return OutOfScope.EXTERNAL
        path = _path(normalized)
        if any(pattern.search(path) for pattern in self._exclude):
            return OutOfScope.EXCLUDED
        if self._include and not any(pattern.search(path) for pattern in self._include):
            return OutOfScope.NOT_INCLUDED
        return None

    def _on_site(self, host: str) -> bool:
        site = _site(host)
        if site in self._sites:
            return True
        return self.allow_subdomains and site.endswith(self._subdomain_suffixes)


def _host(normalized_url: str) -> str:
    netloc = normalized_url.split("/", 3)[2]
    host = netloc.rpartition("@")[2]
    if host.startswith("["):
        return host[: host.index("]") + 1]
    return host.partition(":")[0]


def _path(normalized_url: str) -> str:
    rest = normalized_url.split("/", 3)
    return "/" + rest[3].partition("?")[0] if len(rest) > 3 else "/"
