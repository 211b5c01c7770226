"""An urgent action's number and an issue's year and number are unique within their section, not
across all sections: a global check ("already exists") would tell a section organiser which
numbers another section has used, i.e. what it holds (threat model D6). Each section numbers its
own; the public addresses use the slugs, which stay globally unique (tests/test_slug_oracle.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from solidarity.campaigns.models import Campaign, Target, UrgentAction
from solidarity.core.models import Section
from solidarity.publishing.models import Issue
from tests.conftest import verified_login
from tests.test_admin import page, read_form
from tests.test_slug_oracle import other, own, user_in  # noqa: F401  (fixtures)

UA_ADD = reverse("admin:campaigns_urgentaction_add")
ISSUE_ADD = reverse("admin:publishing_issue_add")
UA_TAKEN = "An urgent action with this number already exists in this section."
ISSUE_TAKEN = "An issue with this number already exists this year in this section."


def urgent_action(section: Section, number: str, slug: str) -> UrgentAction:
    campaign = Campaign.objects.get_or_create(
        section=section, slug=f"{section.slug}-campaign", defaults={"title_en": "Free them"}
    )[0]
    return UrgentAction(
        section=section,
        campaign=campaign,
        number=number,
        slug=slug,
        issued_on=dt.date(2012, 3, 1),
        deadline=dt.date(2012, 4, 1),
        title_en="Lawyer jailed",
        what_happened_en="Sentenced to six years.",
        recommended_points_en="Release her.",
    )


# -- Urgent actions through the admin -----------------------------------------------------------


@pytest.fixture
def organiser(own: Section, other: Section) -> Client:  # noqa: F811
    """A section organiser of one section of two: the other section's records are invisible."""
    return verified_login(Client(), user_in(own, role="section_organiser"))


def add_urgent_action(client: Client, section: Section, number: str) -> tuple[int, str]:
    """Post the add form; the status and where it redirects to (or the page shown)."""
    campaign = Campaign.objects.get_or_create(
        section=section, slug=f"{section.slug}-campaign", defaults={"title_en": "Free them"}
    )[0]
    target = Target.objects.get_or_create(
        section=section, name="Embassy of Kazakhstan", defaults={"kind": "embassy", "country": "GB"}
    )[0]
    data = read_form(client, UA_ADD)
    data.update(
        {
            "number": number,
            "slug": "ua",
            "campaign": str(campaign.pk),
            "issued_on": "2012-03-01",
            "deadline": "2012-04-01",
            "title_en": "Lawyer jailed",
            "what_happened_en": "Sentenced to six years.",
            "recommended_points_en": "Release her.",
            "targets": str(target.pk),
            "section": str(section.pk),
        }
    )
    response = client.post(UA_ADD, data)
    return response.status_code, response.get("Location") or page(response)


def test_an_urgent_action_number_another_section_used_is_saved_without_error(
    organiser: Client,
    own: Section,  # noqa: F811
    other: Section,  # noqa: F811
) -> None:
    urgent_action(other, "UA 3/12", "their-ua").save()
    status, where = add_urgent_action(organiser, own, "UA 3/12")
    assert status == 302, where
    assert where == reverse("admin:campaigns_urgentaction_changelist")
    assert UrgentAction.objects.get(section=own).number == "UA 3/12"
    assert UrgentAction.objects.get(section=other).slug == "their-ua"


def test_an_urgent_action_number_of_ones_own_section_is_refused(
    organiser: Client,
    own: Section,  # noqa: F811
) -> None:
    assert add_urgent_action(organiser, own, "UA 3/12")[0] == 302
    status, shown = add_urgent_action(organiser, own, "UA 3/12")
    assert status == 200
    assert UA_TAKEN in shown
    assert UrgentAction.objects.filter(section=own).count() == 1


# -- Issues through the admin -------------------------------------------------------------------


@pytest.fixture
def editor(own: Section, other: Section) -> Client:  # noqa: F811
    """An editor of one section of two."""
    return verified_login(Client(), user_in(own, role="editor"))


def add_issue(client: Client, section: Section, year: int, number: int) -> tuple[int, str]:
    data = read_form(client, ISSUE_ADD)
    data.update(
        {"number": str(number), "year": str(year), "slug": "issue", "section": str(section.pk)}
    )
    response = client.post(ISSUE_ADD, data)
    return response.status_code, response.get("Location") or page(response)


def test_an_issue_number_another_section_used_this_year_is_saved_without_error(
    editor: Client,
    own: Section,  # noqa: F811
    other: Section,  # noqa: F811
) -> None:
    Issue.objects.create(section=other, slug="2012-12", year=2012, number=12)
    status, where = add_issue(editor, own, 2012, 12)
    assert status == 302, where
    assert where == reverse("admin:publishing_issue_changelist")
    mine = Issue.objects.get(section=own)
    assert (mine.year, mine.number) == (2012, 12)
    assert mine.slug != "2012-12"  # the slug stays globally unique (random ending)


def test_an_issue_number_of_ones_own_section_is_refused_in_that_year_only(
    editor: Client,
    own: Section,  # noqa: F811
) -> None:
    assert add_issue(editor, own, 2012, 12)[0] == 302
    status, shown = add_issue(editor, own, 2012, 12)
    assert status == 200
    assert ISSUE_TAKEN in shown
    assert add_issue(editor, own, 2013, 12)[0] == 302
    assert Issue.objects.filter(section=own, number=12).count() == 2


# -- The constraints themselves -----------------------------------------------------------------


def test_the_urgent_action_constraint_is_per_section(
    own: Section,  # noqa: F811
    other: Section,  # noqa: F811
) -> None:
    urgent_action(own, "UA 3/12", "ua-a").save()
    theirs = urgent_action(other, "UA 3/12", "ua-b")
    theirs.full_clean()
    theirs.save()
    again = urgent_action(own, "UA 3/12", "ua-c")
    with pytest.raises(ValidationError) as error:
        again.full_clean()
    assert error.value.messages == [UA_TAKEN]
    with pytest.raises(IntegrityError), transaction.atomic():
        again.save()


def test_the_issue_constraint_is_per_section_and_year(
    own: Section,  # noqa: F811
    other: Section,  # noqa: F811
) -> None:
    Issue.objects.create(section=own, slug="a", year=2012, number=12)
    theirs = Issue(section=other, slug="b", year=2012, number=12)
    theirs.full_clean()
    theirs.save()
    Issue(section=own, slug="c", year=2013, number=12).full_clean()
    again = Issue(section=own, slug="d", year=2012, number=12)
    with pytest.raises(ValidationError) as error:
        again.full_clean()
    assert error.value.messages == [ISSUE_TAKEN]
    with pytest.raises(IntegrityError), transaction.atomic():
        again.save()
