"""Partial dates: what a source actually says about when something happened.

Sources rarely give a day. "June 2012", "c. 2002", "December 2011", "between 2011 and 2012",
"before 5 March 2012" are all facts we must store without inventing precision. A PartialDate is
an ISO-8601 prefix whose length is its precision (as FollowTheMoney stores dates), extended the
way EDTF does for the two cases a prefix cannot say:

    2011-12-16        day
    2012-06           month
    2002              year
    2002~  2012-06~   approximate ("c. 2002")
    2011/2012         range (either side any precision; ".." is an open side)
    ../2012-03-05     open start: "before 5 March 2012"

Every value also has its earliest and latest possible day, so values filter as intervals and
sort by their latest possible day (then their earliest). Parsing accepts the canonical form
above and the phrases people type ("June 2012", "c. 2002", "between 2011 and 2012"), and says
precisely what it could not understand.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import total_ordering

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import datewords

MIN_DAY = dt.date(1, 1, 1)
MAX_DAY = dt.date(9999, 12, 31)


class Precision(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    APPROXIMATE = "approximate"
    RANGE = "range"

    @property
    def label(self) -> str:
        return str(PRECISION_LABELS[self])


PRECISION_LABELS = {
    Precision.DAY: gettext_lazy("day"),
    Precision.MONTH: gettext_lazy("month"),
    Precision.YEAR: gettext_lazy("year"),
    Precision.APPROXIMATE: gettext_lazy("approximate"),
    Precision.RANGE: gettext_lazy("range"),
}

_ISO = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?$")

_MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (
        calendar.month_name[number].lower(),
        calendar.month_abbr[number].lower(),
    )
}


@total_ordering
@dataclass(frozen=True)
class PartialDate:
    """A date known to some precision. Build it with `PartialDate.parse`."""

    text: str
    precision: Precision
    earliest: dt.date
    latest: dt.date

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def parse(cls, value: str) -> PartialDate:
        """Read the canonical form or a common English phrase; raise ValidationError if neither."""
        raw = " ".join(value.split())
        if not raw:
            raise ValidationError(_("Enter a date."), code="empty")
        canonical = _canonical_from_phrase(raw)
        return cls._from_canonical(canonical, original=raw)

    @classmethod
    def _from_canonical(cls, text: str, original: str) -> PartialDate:
        if "/" in text:
            start_text, _sep, end_text = text.partition("/")
            if start_text == ".." and end_text == "..":
                raise ValidationError(
                    _("“%(value)s”: a range needs at least one known end.") % {"value": original},
                    code="open_range",
                )
            start = None if start_text == ".." else cls._single(start_text, original)
            end = None if end_text == ".." else cls._single(end_text, original)
            earliest = start.earliest if start else MIN_DAY
            latest = end.latest if end else MAX_DAY
            if start and end and end.latest < start.earliest:
                raise ValidationError(
                    _("“%(value)s”: the end (%(end)s) is before the start (%(start)s).")
                    % {"value": original, "end": end.display(), "start": start.display()},
                    code="end_before_start",
                )
            canonical = f"{start.text if start else '..'}/{end.text if end else '..'}"
            return cls(canonical, Precision.RANGE, earliest, latest)
        return cls._single(text, original)

    @classmethod
    def _single(cls, text: str, original: str) -> PartialDate:
        approximate = text.endswith("~")
        core = text[:-1] if approximate else text
        match = _ISO.match(core)
        if not match:
            raise ValidationError(
                _(
                    "“%(value)s” is not a date we understand. Write 2011-12-16, 2012-06, 2002, "
                    "c. 2002, June 2012, 2011/2012 or between 2011 and 2012."
                )
                % {"value": original},
                code="unknown_precision",
            )
        year = int(match["y"])
        month = int(match["m"]) if match["m"] else None
        day = int(match["d"]) if match["d"] else None
        if year < 1:
            raise ValidationError(_("“%(value)s”: year 0 does not exist.") % {"value": original})
        try:
            if month is None:
                earliest, latest, precision = dt.date(year, 1, 1), dt.date(year, 12, 31), "year"
            elif day is None:
                last = calendar.monthrange(year, month)[1]
                earliest, latest = dt.date(year, month, 1), dt.date(year, month, last)
                precision = "month"
            else:
                earliest = latest = dt.date(year, month, day)
                precision = "day"
        except ValueError:
            raise ValidationError(
                _("“%(value)s”: there is no such day or month.") % {"value": original},
                code="invalid_day",
            ) from None
        if approximate:
            # "c. 2002" is honest about doubt: widen by one unit each side so that filters and
            # ordering never exclude the true date.
            if precision == "year":
                earliest, latest = dt.date(year - 1, 1, 1), dt.date(year + 1, 12, 31)
            elif precision == "month":
                earliest = (earliest - dt.timedelta(days=1)).replace(day=1)
                nxt = latest + dt.timedelta(days=1)
                latest = nxt.replace(day=calendar.monthrange(nxt.year, nxt.month)[1])
            else:
                earliest, latest = earliest - dt.timedelta(days=3), latest + dt.timedelta(days=3)
            return cls(core + "~", Precision.APPROXIMATE, earliest, latest)
        return cls(core, Precision(precision), earliest, latest)

    # -- reading ------------------------------------------------------------------------------

    @property
    def year(self) -> int:
        return self.earliest.year if self.earliest != MIN_DAY else self.latest.year

    def overlaps_year(self, year: int) -> bool:
        return self.earliest.year <= year <= self.latest.year

    def display(self) -> str:
        """The form a reader expects, in the active language: "16 December 2011", "June 2012",
        "c. 2002", "before 5 March 2012"; "16 декабря 2011", "2012 жылғы маусым"."""
        if self.precision is Precision.RANGE:
            start_text, _sep, end_text = self.text.partition("/")
            if start_text == "..":
                return datewords.write(end_text, "before")
            if end_text == "..":
                return datewords.write(start_text, "after")
            return datewords.write_range(start_text, end_text)
        return datewords.write(self.text)

    def __str__(self) -> str:
        return self.display()

    def _key(self) -> tuple[dt.date, dt.date, str]:
        # Ordered by the latest day it can have happened, then the earliest: "before 5 March
        # 2012" belongs just before March 2012, not before everything ever recorded, and a
        # threat "before June 2012" comes before a death "in June 2012".
        return (self.latest, self.earliest, self.text)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._key() < other._key()


def _canonical_from_phrase(raw: str) -> str:
    """Turn what people type into the canonical text; leave anything else for the ISO parser."""
    lowered = raw.lower().strip()
    between = re.match(r"^(?:between|from)\s+(.+?)\s+(?:and|to)\s+(.+)$", lowered)
    if between:
        return f"{_canonical_from_phrase(between[1])}/{_canonical_from_phrase(between[2])}"
    before = re.match(r"^(?:before|by|until)\s+(.+)$", lowered)
    if before:
        return f"../{_canonical_from_phrase(before[1])}"
    after = re.match(r"^(?:after|since)\s+(.+)$", lowered)
    if after:
        return f"{_canonical_from_phrase(after[1])}/.."
    approx = re.match(r"^(?:c\.|ca\.|circa|about|around|approx\.?)\s*(.+)$", lowered)
    if approx:
        return _canonical_from_phrase(approx[1]) + "~"
    month_year = re.match(r"^(?:(\d{1,2})\s+)?([a-z]+)\.?\s+(\d{4})$", lowered)
    if month_year and month_year[2] in _MONTHS:
        month = _MONTHS[month_year[2]]
        if month_year[1]:
            return f"{month_year[3]}-{month:02d}-{int(month_year[1]):02d}"
        return f"{month_year[3]}-{month:02d}"
    return lowered
