"""The iCalendar feed of actions: valid RFC 5545 that calendar apps can subscribe to."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.test import Client
from django.urls import reverse

from solidarity.campaigns.ical import escape_text, fold
from solidarity.campaigns.models import Action, ActionKind
from solidarity.core.models import Section
from tests.test_campaigns_support import World, make_world


@pytest.fixture
def world(section: Section) -> World:
    return make_world(section)


def _feed(client: Client, world: World) -> bytes:
    response = client.get(reverse("campaigns:campaign_ical", args=[world.campaign.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response.content


def test_the_feed_parses_and_has_every_public_action(world: World, client: Client) -> None:
    """icalendar reads the feed back: one VEVENT per public action, times in UTC."""
    Action.objects.create(
        section=world.section,
        is_public=False,
        campaign=world.campaign,
        kind=ActionKind.DELEGATION,
        title_en="Secret delegation",
        starts_at=dt.datetime(2031, 5, 1, 9, tzinfo=dt.UTC),
    )
    calendar = icalendar.Calendar.from_ical(_feed(client, world))
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == [
        "Protest outside the Kazakh embassy, London",
        "Kundgebung vor der kasachischen Botschaft, Berlin",
    ]
    london, berlin = events
    assert london.decoded("DTSTART") == dt.datetime(2011, 9, 15, 12, tzinfo=dt.UTC)
    assert london.decoded("DTEND") == dt.datetime(2011, 9, 15, 14, tzinfo=dt.UTC)
    # No end given: shown as two hours.
    assert berlin.decoded("DTEND") == dt.datetime(2011, 10, 3, 13, tzinfo=dt.UTC)
    assert str(london["LOCATION"]) == "125 Pall Mall, London"
    assert str(london["STATUS"]) == "CONFIRMED"
    page = "http://testserver" + reverse("campaigns:action", args=[world.protests[0].pk])
    assert str(london["URL"]) == page
    assert page in str(london["DESCRIPTION"])
    assert len({str(e["UID"]) for e in events}) == 2
    assert str(calendar["VERSION"]) == "2.0"


def test_every_line_ends_in_crlf_and_fits_75_octets(world: World, client: Client) -> None:
    """RFC 5545 3.1: CRLF line ends, content lines folded at 75 octets."""
    world.protests[0].title_en = "Пикет возле посольства Казахстана; " * 6
    world.protests[0].save()
    raw = _feed(client, world)
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode()  # folding never splits a UTF-8 character
    event = icalendar.Calendar.from_ical(raw).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Пикет возле посольства Казахстана; " * 6


def test_a_cancelled_action_stays_in_the_feed_as_cancelled(world: World, client: Client) -> None:
    """Subscribers' calendars learn of the cancellation instead of keeping a stale entry."""
    world.protests[1].status = Action.Status.CANCELLED
    world.protests[1].save()
    events = icalendar.Calendar.from_ical(_feed(client, world)).walk("VEVENT")
    assert str(events[1]["STATUS"]) == "CANCELLED"


def test_text_is_escaped_and_long_lines_folded() -> None:
    """Commas, semicolons, backslashes and newlines are escaped; folds start with a space."""
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    folded = fold("SUMMARY:" + "ж" * 80)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == "SUMMARY:" + "ж" * 80


def test_the_site_wide_feed_and_calendar_page(world: World, client: Client) -> None:
    """All campaigns' actions have a feed too, linked from the calendar page."""
    raw = client.get(reverse("campaigns:action_ical")).content
    assert len(icalendar.Calendar.from_ical(raw).walk("VEVENT")) == 2
    page = client.get(reverse("campaigns:action_calendar")).content.decode()
    assert "http://testserver/en/actions.ics" in page
