"""When a schedule fires: a cron expression in a time zone, or a fixed interval.

Cron expressions are read by croniter: five fields (minute hour day month weekday), an
optional sixth for seconds, or an alias (``@hourly``, ``@daily``, ``@weekly``...). They
are evaluated in the schedule's IANA time zone, so ``0 6 * * *`` in ``Europe/Berlin``
fires at six in Berlin on both sides of a daylight-saving change. Intervals are written
``90``, ``90s``, ``15m``, ``2h``, ``1d`` or combined (``1h30m``); an interval schedule
fires on a fixed grid that starts one interval after it was created (in whole seconds).

Every time here is an aware datetime; what is stored and compared is UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from scrapeyard import errors

MIN_INTERVAL = 1.0
MAX_INTERVAL = 366 * 86400.0
MAX_GRACE = 60.0
MIN_GRACE = 2.0
"""A fire time counts as on time for half the period, but at least ``MIN_GRACE`` (the
schedulers tick each second) and at most ``MAX_GRACE``."""
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_EVERY = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_every(text: str, *, field: str = "every") -> float:
    """Seconds in ``90``, ``90s``, ``15m``, ``1h30m``, ``2d``...; ``InvalidInput`` if not."""
    cleaned = text.strip().lower()
    try:
        seconds = float(cleaned)
    except ValueError:
        parts = _EVERY.findall(cleaned)
        if not parts or _EVERY.sub("", cleaned).strip():
            raise errors.InvalidInput(
                field, f"{text!r} is not an interval: write e.g. 90s, 15m, 2h, 1d or 1h30m"
            ) from None
        seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    return check_interval(seconds, field=field)


def check_interval(seconds: float, *, field: str = "interval") -> float:
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise errors.InvalidInput(
            field, f"must be between {MIN_INTERVAL:g} second and {MAX_INTERVAL / 86400:g} days"
        )
    return float(seconds)


def describe_interval(seconds: float) -> str:
    """``1h30m`` for 5400: the shortest spelling ``parse_every`` reads back."""
    remaining = round(seconds)
    if remaining != seconds or remaining == 0:
        return f"{seconds:g}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def zone(name: str, *, field: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long
        raise errors.InvalidInput(
            field, f"{name!r} is not a known time zone; use an IANA name like Europe/Berlin or UTC"
        ) from None


def check_cron(expression: str, *, field: str = "cron") -> str:
    expression = " ".join(expression.split())
    fields = expression.split(" ")
    if not expression.startswith("@") and len(fields) not in (5, 6):
        raise errors.InvalidInput(
            field,
            f"{expression!r} has {len(fields)} fields; a cron expression has five "
            "(minute hour day month weekday) or six (with seconds last)",
        )
    if not croniter.is_valid(expression):
        raise errors.InvalidInput(field, f"{expression!r} is not a valid cron expression")
    try:
        croniter(expression, datetime.now(UTC)).get_next(datetime)
    except Exception as exc:  # croniter raises several kinds for impossible dates
        raise errors.InvalidInput(field, f"{expression!r} never fires: {exc}") from None
    return expression


@dataclass(frozen=True)
class Timing:
    """A cron expression in a time zone, or an interval in seconds: exactly one of them."""

    cron: str | None = None
    timezone: str = "UTC"
    interval: float | None = None

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.interval is None):
            raise errors.InvalidInput("cron", "give either a cron expression or an interval")
        zone(self.timezone)
        if self.cron is not None:
            object.__setattr__(self, "cron", check_cron(self.cron))
        if self.interval is not None:
            check_interval(self.interval)

    def first(self, created: datetime) -> datetime:
        """The first fire time of a schedule made (or resumed) at ``created``."""
        if self.interval is not None:
            return created.replace(microsecond=0) + timedelta(seconds=self.interval)
        return self.after(created)

    def after(self, moment: datetime, *, grid: datetime | None = None) -> datetime:
        """The first fire time strictly after ``moment``.

        Interval schedules keep to their grid: ``grid`` is any fire time they had.
        """
        if self.interval is not None:
            step = timedelta(seconds=self.interval)
            if grid is None:
                return moment + step
            if grid > moment:
                return grid
            steps = (moment - grid) // step + 1
            return grid + steps * step
        assert self.cron is not None
        local = moment.astimezone(zone(self.timezone))
        fire: datetime = croniter(self.cron, local).get_next(datetime)
        return fire.astimezone(UTC)

    def at_or_before(self, moment: datetime, *, grid: datetime) -> datetime:
        """The last fire time at or before ``moment`` (interval schedules: on ``grid``)."""
        if self.interval is not None:
            step = timedelta(seconds=self.interval)
            return grid + ((moment - grid) // step) * step
        assert self.cron is not None
        local = moment.astimezone(zone(self.timezone))
        previous: datetime = croniter(self.cron, local).get_prev(datetime)
        following = self.after(previous)
        return following if following <= moment else previous.astimezone(UTC)

    def before(self, moment: datetime, *, grid: datetime) -> datetime:
        """The last fire time strictly before ``moment``."""
        return self.at_or_before(moment - timedelta(microseconds=1), grid=grid)

    def upcoming(
        self, moment: datetime, count: int, *, grid: datetime | None = None
    ) -> list[datetime]:
        """The next ``count`` fire times from ``moment`` on (``moment`` itself included)."""
        times: list[datetime] = []
        current = moment - timedelta(microseconds=1)
        for _ in range(count):
            current = self.after(current, grid=grid)
            times.append(current)
        return times

    def grace(self, fire: datetime) -> float:
        """How late a fire at ``fire`` may still run as on time, in seconds."""
        period = (self.after(fire, grid=fire) - fire).total_seconds()
        return min(MAX_GRACE, max(MIN_GRACE, period / 2))

    def describe(self) -> str:
        if self.interval is not None:
            return f"every {describe_interval(self.interval)}"
        return f"{self.cron} ({self.timezone})"
