"""Dates on the newspaper's pages, written as Django's `date` filter writes them, for less work.

- `{{ when|day_month_year }}` is `{{ when|date:"j F Y" }}` (26 January 2012). While the mirror
  is built (`solidarity.core.buildcache`) each day is written once per language: thousands of
  articles and list items show a few hundred days, and `date` looked its formats up each time.
- `{{ when|iso_datetime }}` is `{{ when|date:"c" }}`, which is the value's `isoformat()`.

Both are given the value in the current time zone, as `date` is (expects_localtime).
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.formats import date_format

from solidarity.core.buildcache import build_cached

register = template.Library()


@register.filter(expects_localtime=True)
def day_month_year(value: dt.date | None) -> str:
    if value is None or value == "":
        return ""
    # "j F Y" reads the calendar day only: a moment and its day are written alike.
    return _day_month_year(value.date() if isinstance(value, dt.datetime) else value)


@build_cached
def _day_month_year(day: dt.date) -> str:
    return date_format(day, "j F Y")


@register.filter(expects_localtime=True)
def iso_datetime(value: dt.date | None) -> str:
    if value is None or value == "":
        return ""
    return value.isoformat()
