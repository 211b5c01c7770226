"""Partial dates: parsing, precision, bounds, ordering and display."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from solidarity.core.partialdate import MAX_DAY, MIN_DAY, PartialDate, Precision


@pytest.mark.parametrize(
    ("typed", "text", "precision", "earliest", "latest", "shown"),
    [
        ("2011-12-16", "2011-12-16", Precision.DAY, "2011-12-16", "2011-12-16", "16 December 2011"),
        ("2012-06", "2012-06", Precision.MONTH, "2012-06-01", "2012-06-30", "June 2012"),
        ("June 2012", "2012-06", Precision.MONTH, "2012-06-01", "2012-06-30", "June 2012"),
        ("December 2011", "2011-12", Precision.MONTH, "2011-12-01", "2011-12-31", "December 2011"),
        ("2002", "2002", Precision.YEAR, "2002-01-01", "2002-12-31", "2002"),
        ("c. 2002", "2002~", Precision.APPROXIMATE, "2001-01-01", "2003-12-31", "c. 2002"),
        ("2002~", "2002~", Precision.APPROXIMATE, "2001-01-01", "2003-12-31", "c. 2002"),
        (
            "between 2011 and 2012",
            "2011/2012",
            Precision.RANGE,
            "2011-01-01",
            "2012-12-31",
            "between 2011 and 2012",
        ),
        ("2024-02", "2024-02", Precision.MONTH, "2024-02-01", "2024-02-29", "February 2024"),
        (
            "16 Dec 2011",
            "2011-12-16",
            Precision.DAY,
            "2011-12-16",
            "2011-12-16",
            "16 December 2011",
        ),
    ],
)
def test_it_reads_what_people_type(
    typed: str, text: str, precision: Precision, earliest: str, latest: str, shown: str
) -> None:
    """Canonical and everyday forms parse to the same canonical text, bounds and display."""
    value = PartialDate.parse(typed)
    assert value.text == text
    assert value.precision is precision
    assert value.earliest == dt.date.fromisoformat(earliest)
    assert value.latest == dt.date.fromisoformat(latest)
    with translation.override("en"):
        assert value.display() == shown
    assert PartialDate.parse(value.text) == value


def test_open_ranges_say_before_and_after() -> None:
    """A range open on one side has an unbounded end and reads as before/after."""
    before = PartialDate.parse("before 5 March 2012")
    assert before.text == "../2012-03-05"
    assert (before.earliest, before.latest) == (MIN_DAY, dt.date(2012, 3, 5))
    after = PartialDate.parse("after 2011")
    assert after.text == "2011/.."
    assert after.latest == MAX_DAY
    with translation.override("en"):
        assert before.display() == "before 5 March 2012"
        assert after.display() == "after 2011"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("June-ish 2012", "is not a date we understand"),
        ("2012/2011", "the end (2011) is before the start (2012)"),
        ("2011-02-30", "there is no such day or month"),
        ("2011-13", "there is no such day or month"),
        ("../..", "a range needs at least one known end"),
        ("   ", "Enter a date."),
    ],
)
def test_it_says_what_is_wrong(typed: str, message: str) -> None:
    """Bad input is refused with a message naming the problem, never guessed at."""
    with pytest.raises(ValidationError) as error, translation.override("en"):
        PartialDate.parse(typed)
    assert message in " ".join(error.value.messages)


def test_values_order_by_their_bounds() -> None:
    """Sorting goes by the latest possible day: 'before March 2012' sits before June 2012,
    not before everything, and a whole year sorts at its end."""
    values = [PartialDate.parse(v) for v in ["2012-06", "2011-12-16", "../2012-03-05", "2011"]]
    assert [v.text for v in sorted(values)] == ["2011-12-16", "2011", "../2012-03-05", "2012-06"]
    threat, death = PartialDate.parse("before June 2012"), PartialDate.parse("June 2012")
    assert threat < death
    assert PartialDate.parse("2011-12").overlaps_year(2011)
    assert not PartialDate.parse("2011-12").overlaps_year(2012)
    assert PartialDate.parse("2011/2012").overlaps_year(2012)


def test_display_follows_the_language() -> None:
    """Month names come from the active language's catalogue."""
    value = PartialDate.parse("2012-06")
    with translation.override("ru"):
        shown = value.display()
    assert shown.endswith("2012")
