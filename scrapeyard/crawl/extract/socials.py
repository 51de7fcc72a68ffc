"""Recognise links to social-network profiles, for the ``contacts`` format.

A link counts when its host belongs to a known network and its path looks like a
profile, company or channel page rather than a share button, a post or a help page:
``https://twitter.com/acme`` is a profile, ``https://twitter.com/intent/tweet?...`` is
not. Hosts match with any subdomain (``uk.linkedin.com``, ``m.facebook.com``).
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass


@dataclass(frozen=True)
class _Network:
    name: str
    hosts: tuple[str, ...]
    profile: re.Pattern[str]
    """Matches the path of a profile URL."""
    not_profiles: frozenset[str] = frozenset()
    """First path segments that are site pages, not profiles."""


def _first_segment(pattern: str = r"[^/]+") -> re.Pattern[str]:
    return re.compile(rf"/({pattern})/?(?:$|[/?])")


NETWORKS: tuple[_Network, ...] = (
    _Network(
        "linkedin",
        ("linkedin.com",),
        re.compile(r"/(in|company|school|showcase|pub)/[^/?]+", re.IGNORECASE),
    ),
    _Network(
        "twitter",
        ("twitter.com", "x.com"),
        _first_segment(r"[A-Za-z0-9_]{1,15}"),
        frozenset(
            "share intent home search hashtag i login signup explore settings messages "
            "notifications tos privacy about compose".split()
        ),
    ),
    _Network(
        "facebook",
        ("facebook.com", "fb.com", "fb.me"),
        _first_segment(),
        frozenset(
            "sharer sharer.php share share.php dialog plugins tr login login.php help "
            "policies privacy legal watch events groups hashtag search home.php".split()
        ),
    ),
    _Network(
        "instagram",
        ("instagram.com",),
        _first_segment(r"[A-Za-z0-9_.]+"),
        frozenset("p reel reels explore accounts stories tv about legal developer".split()),
    ),
    _Network(
        "youtube",
        ("youtube.com",),
        re.compile(r"/(?:channel/|c/|user/|@)[^/?]+"),
    ),
    _Network("tiktok", ("tiktok.com",), re.compile(r"/@[^/?]+")),
    _Network(
        "github",
        ("github.com",),
        _first_segment(r"[A-Za-z0-9-]+"),
        frozenset(
            "features about pricing login join signup sponsors marketplace explore topics "
            "collections trending settings site security enterprise readme apps contact "
            "customer-stories solutions team notifications new orgs".split()
        ),
    ),
    _Network(
        "pinterest",
        ("pinterest.com",),
        _first_segment(),
        frozenset("pin search ideas today business login".split()),
    ),
    _Network("threads", ("threads.net", "threads.com"), re.compile(r"/@[^/?]+")),
    _Network(
        "telegram",
        ("t.me", "telegram.me"),
        _first_segment(r"[A-Za-z0-9_]{5,}"),
        frozenset({"share", "joinchat"}),
    ),
)


_BY_DOMAIN = {host: network for network in NETWORKS for host in network.hosts}


def network_of(url: str) -> str | None:
    """The network whose profile ``url`` (absolute, http(s)) links to, or None.

    >>> network_of("https://www.linkedin.com/company/acme/")
    'linkedin'
    >>> network_of("https://x.com/intent/post") is None
    True
    """
    # Most links point elsewhere: find the network from the host alone first, cheaply.
    parts = url.split("/", 3)
    if len(parts) < 3:
        return None
    host = parts[2].rpartition("@")[2].partition(":")[0].lower().rstrip(".")
    labels = host.split(".")
    network = None
    for start in range(len(labels) - 1):
        network = _BY_DOMAIN.get(".".join(labels[start:]))
        if network is not None:
            break
    if network is None:
        return None
    try:
        path = urllib.parse.urlsplit(url).path
    except ValueError:
        return None
    if network.profile.match(path) is None:
        return None
    first = path.strip("/").split("/", 1)[0].lower()
    return None if first in network.not_profiles else network.name
