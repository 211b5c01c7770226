"""The partial-date input of every form: what people type, what it becomes, and what it says
when it cannot understand."""

from __future__ import annotations

import pytest
from django import forms

from solidarity.core.fields import PartialDateFormField
from solidarity.core.partialdate import PartialDate, Precision

UNDERSTOOD = (
    "Write 2011-12-16, 2012-06, 2002, c. 2002, June 2012, 2011/2012 or between 2011 and 2012."
)


class DateForm(forms.Form):
    date = PartialDateFormField(required=False)


class RequiredDateForm(forms.Form):
    date = PartialDateFormField()


@pytest.mark.parametrize(
    ("typed", "canonical", "precision", "shown"),
    [
        ("2011-12-16", "2011-12-16", Precision.DAY, "16 December 2011"),
        ("16 December 2011", "2011-12-16", Precision.DAY, "16 December 2011"),
        ("June 2012", "2012-06", Precision.MONTH, "June 2012"),
        ("2012-06", "2012-06", Precision.MONTH, "June 2012"),
        ("2002", "2002", Precision.YEAR, "2002"),
        ("c. 2002", "2002~", Precision.APPROXIMATE, "c. 2002"),
        ("between 2011 and 2012", "2011/2012", Precision.RANGE, "between 2011 and 2012"),
        ("2011/2012", "2011/2012", Precision.RANGE, "between 2011 and 2012"),
        ("before 5 March 2012", "../2012-03-05", Precision.RANGE, "before 5 March 2012"),
        ("after 2012", "2012/..", Precision.RANGE, "after 2012"),
        ("  June   2012 ", "2012-06", Precision.MONTH, "June 2012"),
    ],
)
def test_it_accepts_what_people_write(
    typed: str, canonical: str, precision: Precision, shown: str
) -> None:
    """Each common way of writing a date becomes the canonical value at the right precision."""
    form = DateForm({"date": typed})
    assert form.is_valid(), form.errors
    value = form.cleaned_data["date"]
    assert isinstance(value, PartialDate)
    assert value.text == canonical
    assert value.precision is precision
    assert value.display() == shown


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("June-ish 2012", f"“June-ish 2012” is not a date we understand. {UNDERSTOOD}"),
        ("Juin 2012", f"“Juin 2012” is not a date we understand. {UNDERSTOOD}"),
        ("12/06/2012", f"“12/06/2012” is not a date we understand. {UNDERSTOOD}"),
        ("2012-02-30", "“2012-02-30”: there is no such day or month."),
        ("2012-13", "“2012-13”: there is no such day or month."),
        ("0000", "“0000”: year 0 does not exist."),
        (
            "between 2012 and 2011",
            "“between 2012 and 2011”: the end (2011) is before the start (2012).",
        ),
        ("../..", "“../..”: a range needs at least one known end."),
    ],
)
def test_it_says_exactly_what_it_did_not_understand(typed: str, message: str) -> None:
    """A date that cannot be read is refused with a message naming the input and the fix."""
    form = DateForm({"date": typed})
    assert not form.is_valid()
    assert form.errors["date"] == [message]


def test_an_empty_optional_date_is_none() -> None:
    """Leaving an optional date empty stores no date rather than an invented one."""
    form = DateForm({"date": "   "})
    assert form.is_valid()
    assert form.cleaned_data["date"] is None


def test_a_required_date_must_be_given() -> None:
    """A required date left empty gets Django's usual required message."""
    form = RequiredDateForm({"date": ""})
    assert not form.is_valid()
    assert form.errors["date"] == ["This field is required."]


def test_the_input_shows_the_canonical_text() -> None:
    """A stored value is shown as its canonical text, which always reads back the same."""
    form = DateForm(initial={"date": PartialDate.parse("before 5 March 2012")})
    html = str(form["date"])
    assert 'value="../2012-03-05"' in html
    assert PartialDate.parse("../2012-03-05") == PartialDate.parse("before 5 March 2012")


def test_retyping_the_same_date_is_not_a_change() -> None:
    """Typing "June 2012" over a stored 2012-06 is no change, so nothing is logged or saved."""
    form = DateForm({"date": "June 2012"}, initial={"date": PartialDate.parse("2012-06")})
    assert not form.has_changed()
    changed = DateForm({"date": "July 2012"}, initial={"date": PartialDate.parse("2012-06")})
    assert changed.has_changed()
