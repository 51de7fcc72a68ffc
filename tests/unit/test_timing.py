"""Fire times: cron in a time zone (across daylight-saving changes), intervals, parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scrapeyard import errors
from scrapeyard.queue.timing import Timing, describe_interval, parse_every


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1h30m", 5400),
     ("1.5h", 5400), (" 10S ", 10), ("1w", 604800)],
)  # fmt: skip
def test_intervals_are_read_in_the_usual_spellings(text: str, seconds: float) -> None:
    assert parse_every(text) == seconds


@pytest.mark.parametrize("text", ["", "fast", "15x", "m15", "1h 30q", "0s", "-5m", "400d"])
def test_a_bad_interval_names_the_field_and_the_problem(text: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        parse_every(text)
    assert caught.value.field == "every"


def test_intervals_are_described_as_they_are_written() -> None:
    assert [describe_interval(s) for s in (10, 900, 5400, 90061, 1.5)] == [
        "10s",
        "15m",
        "1h30m",
        "1d1h1m1s",
        "1.5s",
    ]


def test_a_cron_schedule_fires_in_its_own_time_zone() -> None:
    timing = Timing(cron="0 6 * * *", timezone="Europe/Berlin")
    # 06:00 in Berlin is 05:00 UTC in winter and 04:00 UTC in summer.
    assert timing.after(utc(2026, 1, 10, 12)) == utc(2026, 1, 11, 5)
    assert timing.after(utc(2026, 7, 10, 12)) == utc(2026, 7, 11, 4)
    # Across the spring change (29 March 2026) the local time stays 06:00.
    assert timing.upcoming(utc(2026, 3, 28, 0), 2) == [utc(2026, 3, 28, 5), utc(2026, 3, 29, 4)]


def test_hourly_cron_keeps_every_real_hour_when_clocks_go_back() -> None:
    timing = Timing(cron="0 * * * *", timezone="Europe/Berlin")
    # 25 October 2026: 02:00-03:00 local happens twice; each real hour fires once.
    fires = timing.upcoming(utc(2026, 10, 24, 22, 30), 4)
    assert fires == [utc(2026, 10, 24, 23), utc(2026, 10, 25, 0), utc(2026, 10, 25, 1),
                     utc(2026, 10, 25, 2)]  # fmt: skip


def test_the_last_fire_at_or_before_a_moment() -> None:
    cron = Timing(cron="*/15 * * * *")
    assert cron.at_or_before(utc(2026, 1, 1, 10, 14, 59), grid=utc(2026, 1, 1)) == utc(
        2026, 1, 1, 10
    )
    assert cron.at_or_before(utc(2026, 1, 1, 10, 15), grid=utc(2026, 1, 1)) == utc(
        2026, 1, 1, 10, 15
    )
    assert cron.before(utc(2026, 1, 1, 10, 15), grid=utc(2026, 1, 1)) == utc(2026, 1, 1, 10)

    every = Timing(interval=600)
    grid = utc(2026, 1, 1, 0, 0, 7)
    assert every.at_or_before(utc(2026, 1, 1, 1, 5), grid=grid) == utc(2026, 1, 1, 1, 0, 7)
    assert every.after(utc(2026, 1, 1, 1, 5), grid=grid) == utc(2026, 1, 1, 1, 10, 7)
    assert every.upcoming(grid, 3, grid=grid) == [
        grid + timedelta(minutes=10 * i) for i in range(3)
    ]


def test_grace_is_a_minute_or_half_the_period() -> None:
    assert Timing(interval=10).grace(utc(2026, 1, 1)) == 5
    assert Timing(interval=1).grace(utc(2026, 1, 1)) == 2
    assert Timing(cron="0 * * * *").grace(utc(2026, 1, 1)) == 60


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "* * *"}, "cron"),
        ({"cron": "0 0 30 2 *"}, "cron"),
        ({"cron": "0 * * * *", "timezone": "Mars/Olympus"}, "timezone"),
        ({"cron": "0 * * * *", "timezone": "A" * 300}, "timezone"),
        ({"cron": "0 * * * *", "timezone": "../etc/passwd"}, "timezone"),
        ({}, "cron"),
        ({"cron": "0 * * * *", "interval": 60}, "cron"),
        ({"interval": 0.1}, "interval"),
    ],
)
def test_a_bad_timing_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        Timing(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
