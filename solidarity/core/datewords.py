"""How a partial date is written in each interface language.

"16 December 2011", "16 декабря 2011", "2011 жылғы 16 желтоқсан": the order of day, month and
year, and the form of the month, differ by language and by the phrase around the date.
Russian says "до 5 марта 2012" (genitive) but "между июнем 2012 и июлем 2013" (instrumental);
Kazakh puts the case ending on the month or the year before its postposition ("2012 жылғы
5 наурызға дейін", "2012 жылдан кейін"). So each phrase is one catalogue message for each
precision, and the month is taken from the set of names that fits its place in the phrase.
English reads the same in every place.
"""

from __future__ import annotations

import datetime as dt

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

# Twelve month names for each place a month can take in a phrase (see _month_place).
_MONTHS: dict[str, tuple[Promise, ...]] = {
    "alone": (
        pgettext_lazy("month with a year only: “June 2012”", "January"),
        pgettext_lazy("month with a year only: “June 2012”", "February"),
        pgettext_lazy("month with a year only: “June 2012”", "March"),
        pgettext_lazy("month with a year only: “June 2012”", "April"),
        pgettext_lazy("month with a year only: “June 2012”", "May"),
        pgettext_lazy("month with a year only: “June 2012”", "June"),
        pgettext_lazy("month with a year only: “June 2012”", "July"),
        pgettext_lazy("month with a year only: “June 2012”", "August"),
        pgettext_lazy("month with a year only: “June 2012”", "September"),
        pgettext_lazy("month with a year only: “June 2012”", "October"),
        pgettext_lazy("month with a year only: “June 2012”", "November"),
        pgettext_lazy("month with a year only: “June 2012”", "December"),
    ),
    "date": (
        pgettext_lazy("month in a date or after “c.”: “16 June 2012”, “c. June 2012”", "January"),
        pgettext_lazy("month in a date or after “c.”: “16 June 2012”, “c. June 2012”", "February"),
        pgettext_lazy("month in a date or after “c.”: “16 June 2012”, “c. June 2012”", "March"),
        pgettext_lazy("month in a date or after “c.”: “16 June 2012”, “c. June 2012”", "April"),
        pgettext_lazy("month in a date or after “c.”: “16 June 2012”, “c. June 2012”", "May"),
        pgettext_lazy("month in a date or after “c.”: “16 June 2012”, “c. June 2012”", "June"),
        pgettext_lazy("month in a date or after “c.”: “16 June 2012”, “c. June 2012”", "July"),
        pgettext_lazy("month in a date or after “c.”: “16 June 2012”, “c. June 2012”", "August"),
        pgettext_lazy("month in a date or after “c.”: “16 June 2012”, “c. June 2012”", "September"),
        pgettext_lazy("month in a date or after “c.”: “16 June 2012”, “c. June 2012”", "October"),
        pgettext_lazy("month in a date or after “c.”: “16 June 2012”, “c. June 2012”", "November"),
        pgettext_lazy("month in a date or after “c.”: “16 June 2012”, “c. June 2012”", "December"),
    ),
    "before": (
        pgettext_lazy("month after “before”: “before 5 June 2012”", "January"),
        pgettext_lazy("month after “before”: “before 5 June 2012”", "February"),
        pgettext_lazy("month after “before”: “before 5 June 2012”", "March"),
        pgettext_lazy("month after “before”: “before 5 June 2012”", "April"),
        pgettext_lazy("month after “before”: “before 5 June 2012”", "May"),
        pgettext_lazy("month after “before”: “before 5 June 2012”", "June"),
        pgettext_lazy("month after “before”: “before 5 June 2012”", "July"),
        pgettext_lazy("month after “before”: “before 5 June 2012”", "August"),
        pgettext_lazy("month after “before”: “before 5 June 2012”", "September"),
        pgettext_lazy("month after “before”: “before 5 June 2012”", "October"),
        pgettext_lazy("month after “before”: “before 5 June 2012”", "November"),
        pgettext_lazy("month after “before”: “before 5 June 2012”", "December"),
    ),
    "after": (
        pgettext_lazy("month after “after”: “after 5 June 2012”", "January"),
        pgettext_lazy("month after “after”: “after 5 June 2012”", "February"),
        pgettext_lazy("month after “after”: “after 5 June 2012”", "March"),
        pgettext_lazy("month after “after”: “after 5 June 2012”", "April"),
        pgettext_lazy("month after “after”: “after 5 June 2012”", "May"),
        pgettext_lazy("month after “after”: “after 5 June 2012”", "June"),
        pgettext_lazy("month after “after”: “after 5 June 2012”", "July"),
        pgettext_lazy("month after “after”: “after 5 June 2012”", "August"),
        pgettext_lazy("month after “after”: “after 5 June 2012”", "September"),
        pgettext_lazy("month after “after”: “after 5 June 2012”", "October"),
        pgettext_lazy("month after “after”: “after 5 June 2012”", "November"),
        pgettext_lazy("month after “after”: “after 5 June 2012”", "December"),
    ),
    "range": (
        pgettext_lazy("month as an end of a range: “between June 2012 and …”", "January"),
        pgettext_lazy("month as an end of a range: “between June 2012 and …”", "February"),
        pgettext_lazy("month as an end of a range: “between June 2012 and …”", "March"),
        pgettext_lazy("month as an end of a range: “between June 2012 and …”", "April"),
        pgettext_lazy("month as an end of a range: “between June 2012 and …”", "May"),
        pgettext_lazy("month as an end of a range: “between June 2012 and …”", "June"),
        pgettext_lazy("month as an end of a range: “between June 2012 and …”", "July"),
        pgettext_lazy("month as an end of a range: “between June 2012 and …”", "August"),
        pgettext_lazy("month as an end of a range: “between June 2012 and …”", "September"),
        pgettext_lazy("month as an end of a range: “between June 2012 and …”", "October"),
        pgettext_lazy("month as an end of a range: “between June 2012 and …”", "November"),
        pgettext_lazy("month as an end of a range: “between June 2012 and …”", "December"),
    ),
}

# (phrase, precision, approximate) -> pattern. Placeholders: %(day)s, %(month)s, %(year)s.
_PATTERNS: dict[tuple[str, str, bool], Promise] = {
    ("on", "day", False): pgettext_lazy("partial date", "%(day)s %(month)s %(year)s"),
    ("on", "month", False): pgettext_lazy("partial date", "%(month)s %(year)s"),
    ("on", "day", True): pgettext_lazy("partial date", "c. %(day)s %(month)s %(year)s"),
    ("on", "month", True): pgettext_lazy("partial date", "c. %(month)s %(year)s"),
    ("on", "year", True): pgettext_lazy("partial date", "c. %(year)s"),
    ("before", "day", False): pgettext_lazy("partial date", "before %(day)s %(month)s %(year)s"),
    ("before", "month", False): pgettext_lazy("partial date", "before %(month)s %(year)s"),
    ("before", "year", False): pgettext_lazy("partial date", "before %(year)s"),
    ("before", "day", True): pgettext_lazy("partial date", "before c. %(day)s %(month)s %(year)s"),
    ("before", "month", True): pgettext_lazy("partial date", "before c. %(month)s %(year)s"),
    ("before", "year", True): pgettext_lazy("partial date", "before c. %(year)s"),
    ("after", "day", False): pgettext_lazy("partial date", "after %(day)s %(month)s %(year)s"),
    ("after", "month", False): pgettext_lazy("partial date", "after %(month)s %(year)s"),
    ("after", "year", False): pgettext_lazy("partial date", "after %(year)s"),
    ("after", "day", True): pgettext_lazy("partial date", "after c. %(day)s %(month)s %(year)s"),
    ("after", "month", True): pgettext_lazy("partial date", "after c. %(month)s %(year)s"),
    ("after", "year", True): pgettext_lazy("partial date", "after c. %(year)s"),
    ("range", "day", False): pgettext_lazy("end of a date range", "%(day)s %(month)s %(year)s"),
    ("range", "month", False): pgettext_lazy("end of a date range", "%(month)s %(year)s"),
    ("range", "year", False): pgettext_lazy("end of a date range", "%(year)s"),
    ("range", "day", True): pgettext_lazy("end of a date range", "c. %(day)s %(month)s %(year)s"),
    ("range", "month", True): pgettext_lazy("end of a date range", "c. %(month)s %(year)s"),
    ("range", "year", True): pgettext_lazy("end of a date range", "c. %(year)s"),
}

BETWEEN = pgettext_lazy("partial date", "between %(start)s and %(end)s")
BETWEEN_YEARS = pgettext_lazy("range of two years", "between %(start)s and %(end)s")


def _month_place(phrase: str, precision: str, approximate: bool) -> str:
    if phrase in {"before", "after"}:
        return phrase
    if precision == "day":
        return "date"
    if phrase == "range":
        return "range"
    return "date" if approximate else "alone"


def write(text: str, phrase: str = "on") -> str:
    """One canonical date ("2011-12-16", "2012-06~", "2002") in the words of `phrase`:
    "on" (standing alone), "before", "after", or "range" (one end of a range)."""
    approximate = text.endswith("~")
    parts = [int(p) for p in (text[:-1] if approximate else text).split("-")]
    precision = ("year", "month", "day")[len(parts) - 1]
    if phrase == "on" and precision == "year" and not approximate:
        return str(parts[0])
    values = {"year": parts[0], "day": parts[2] if len(parts) == 3 else ""}
    if len(parts) > 1:
        values["month"] = str(_MONTHS[_month_place(phrase, precision, approximate)][parts[1] - 1])
    return str(_PATTERNS[(phrase, precision, approximate)]) % values


def write_range(start: str, end: str) -> str:
    """A range with both ends known: "between 2011 and 2012"."""
    if _is_plain_year(start) and _is_plain_year(end):
        return str(BETWEEN_YEARS) % {"start": start, "end": end}
    return str(BETWEEN) % {"start": write(start, "range"), "end": write(end, "range")}


def write_day(day: dt.date) -> str:
    """A calendar day as a partial date of day precision is written: "16 December 2011"."""
    return write(f"{day.year:04d}-{day.month:02d}-{day.day:02d}")


def _is_plain_year(text: str) -> bool:
    return text.isdigit()
