"""Slugs are unique across sections (public addresses use them alone), so "a person with this
slug already exists" would tell an insider what another section holds (threat model D6). For a
user who cannot see every section, every new or changed slug gets a random ending, taken or not,
and the uniqueness error never appears; users who see every section keep the plain check
(solidarity/safety/slugs.py, through the common admin base and the CSV import)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from solidarity.api import importers
from solidarity.campaigns.models import Campaign, Petition
from solidarity.core.models import Section
from solidarity.documentation.models import Person, Source
from solidarity.safety.models import Role
from tests.conftest import verified_login
from tests.test_admin import FormData, change_url, cite, page, read_form

ENDING = "-[a-z0-9]{6}"
TAKEN = "Person with this Slug already exists."
RANDOM_ENDING_HELP = "A random ending is added to the slug you type"
PERSON_ADD = reverse("admin:documentation_person_add")


@pytest.fixture
def own(db: None) -> Section:
    return Section.objects.create(slug="own", name_en="Own section", kind="national")


@pytest.fixture
def other(db: None) -> Section:
    return Section.objects.create(slug="other", name_en="Other section", kind="national")


@pytest.fixture
def hidden(other: Section) -> Person:
    """The other section's person whose slug the insider types."""
    return Person.objects.create(
        section=other, slug="aigul-member", given_name="Aigul", family_name="Member"
    )


@pytest.fixture
def source(own: Section) -> Source:
    return Source.objects.create(section=own, slug="own-source", title="A report")


def user_in(*sections: Section, role: str = "coordinator", superuser: bool = False) -> User:
    name = f"{role}-{'-'.join(s.slug for s in sections)}{'-su' if superuser else ''}"
    user = User.objects.create_user(name, is_staff=True, is_superuser=superuser)
    for section in sections:
        Role.objects.create(user=user, section=section, role=role)
    return user


@pytest.fixture
def insider(own: Section, other: Section) -> Client:
    """A coordinator of one section of two: the other section's records are invisible."""
    return verified_login(Client(), user_in(own))


def person_form(client: Client, section: Section, source: Source, slug: str) -> FormData:
    data = read_form(client, PERSON_ADD)
    data.update(
        {
            "given_name": "Aigul",
            "family_name": "Member",
            "slug": slug,
            "section": str(section.pk),
            "confirm_new_person": "on",  # the namesake of another section is someone else
        }
    )
    prefix = next(k for k in data if k.endswith("-TOTAL_FORMS") and "citation" in k)
    base = prefix.removesuffix("-TOTAL_FORMS")
    data.update({prefix: "1", f"{base}-0-source": str(source.pk)})
    data[f"{base}-0-reliability"] = "reliable"
    return data


def add_person(client: Client, section: Section, source: Source, slug: str) -> tuple[int, str]:
    """Post the add form; the status and where it redirects to (or the page shown)."""
    response = client.post(PERSON_ADD, person_form(client, section, source, slug))
    return response.status_code, response.get("Location") or page(response)


def test_a_slug_another_section_holds_is_saved_with_an_ending_and_no_error(
    insider: Client, own: Section, source: Source, hidden: Person
) -> None:
    status, where = add_person(insider, own, source, "aigul-member")
    assert status == 302, where
    assert TAKEN not in where
    mine = Person.objects.get(section=own)
    assert re.fullmatch("aigul-member" + ENDING, mine.slug)
    hidden.refresh_from_db()
    assert hidden.slug == "aigul-member"


def test_a_free_slug_gets_an_ending_too_so_both_look_the_same(
    insider: Client, own: Section, source: Source, hidden: Person
) -> None:
    taken = add_person(insider, own, source, "aigul-member")
    free = add_person(insider, own, source, "nobody-has-this")
    assert taken[0] == free[0] == 302
    assert taken[1] == free[1] == reverse("admin:documentation_person_changelist")
    slugs = sorted(Person.objects.filter(section=own).values_list("slug", flat=True))
    assert re.fullmatch("aigul-member" + ENDING, slugs[0])
    assert re.fullmatch("nobody-has-this" + ENDING, slugs[1])


def test_the_slug_help_says_why_an_ending_is_added(
    insider: Client, own: Section, other: Section
) -> None:
    assert RANDOM_ENDING_HELP in page(insider.get(PERSON_ADD))
    full = verified_login(Client(), user_in(own, other))
    assert RANDOM_ENDING_HELP not in page(full.get(PERSON_ADD))


@pytest.mark.parametrize("who", ["roles in every section", "superuser"])
def test_a_user_who_sees_every_section_keeps_the_plain_check(
    own: Section, other: Section, source: Source, hidden: Person, who: str
) -> None:
    """Nothing is hidden from them, so the error tells them nothing new; a free slug is kept."""
    # The superuser has a role in one section only, but may grant themselves any.
    user = user_in(own, superuser=True) if who == "superuser" else user_in(own, other)
    client = verified_login(Client(), user)
    status, shown = add_person(client, own, source, "aigul-member")
    assert status == 200
    assert TAKEN in shown
    assert not Person.objects.filter(section=own).exists()
    assert add_person(client, own, source, "aigul-free")[0] == 302
    assert Person.objects.get(section=own).slug == "aigul-free"


def test_an_unchanged_slug_is_left_alone_and_a_changed_one_gets_an_ending(
    insider: Client, own: Section, source: Source
) -> None:
    person = Person.objects.create(
        section=own, slug="own-person", given_name="Ainur", family_name="Kurmanov"
    )
    cite(person, source)
    url = change_url(person)
    data = read_form(insider, url)
    data["occupation_en"] = "teacher"
    assert insider.post(url, data).status_code == 302
    person.refresh_from_db()
    assert (person.slug, person.occupation_en) == ("own-person", "teacher")
    data = read_form(insider, url)
    data["slug"] = "ainur-kurmanov"
    assert insider.post(url, data).status_code == 302
    person.refresh_from_db()
    assert re.fullmatch("ainur-kurmanov" + ENDING, person.slug)


def test_the_ending_fits_the_fields_length(insider: Client, own: Section, source: Source) -> None:
    typed = "a" * 50  # SlugField's max_length
    assert add_person(insider, own, source, typed)[0] == 302
    slug = Person.objects.get(section=own).slug
    assert len(slug) == 50
    assert re.fullmatch("a" * 43 + ENDING, slug)


def test_other_validation_is_unchanged(insider: Client, own: Section, source: Source) -> None:
    """Only the slug's uniqueness is left out: a malformed slug is still refused."""
    status, shown = add_person(insider, own, source, "not a slug!")
    assert status == 200
    assert "Enter a valid “slug”" in shown
    assert not Person.objects.filter(section=own).exists()


def test_campaigns_go_through_the_same_base(own: Section, other: Section) -> None:
    """The campaigns back office shares the admin base: a section organiser's campaign whose
    slug another section holds is saved with an ending."""
    Campaign.objects.create(section=other, slug="free-them", title_en="Theirs")
    client = verified_login(Client(), user_in(own, role="section_organiser"))
    url = reverse("admin:campaigns_campaign_add")
    data = read_form(client, url)
    data.update({"slug": "free-them", "title_en": "Ours", "section": str(own.pk)})
    response = client.post(url, data)
    assert response.status_code == 302, page(response)
    assert re.fullmatch("free-them" + ENDING, Campaign.objects.get(section=own).slug)


# -- The CSV import ------------------------------------------------------------------------------

IMPORT = reverse("admin_import")
PEOPLE = "slug,given_name,family_name,section\naigul-member,Aigul,Member,own\n"


def _upload(client: Client, text: str) -> str:
    upload = SimpleUploadedFile("people.csv", text.encode(), content_type="text/csv")
    response = client.post(IMPORT, {"kind": "people", "file": upload})
    assert response.status_code == 200
    return page(response)


def _confirm(client: Client, report: str) -> str:
    token = re.search(r'name="pending" value="([^"]+)"', report)
    assert token is not None, report
    response = client.post(IMPORT, {"pending": token.group(1), "confirm": "Import"})
    assert response.status_code == 200
    return page(response)


def test_an_import_does_not_say_another_sections_slug_is_taken(
    own: Section, other: Section, hidden: Person
) -> None:
    """The back-office import adds the insider's row with an ending instead of "taken", says
    so on the page, and a second import of the same file finds that record again."""
    user = user_in(own)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_person", "change_person"])
    )
    client = verified_login(Client(), user)
    assert "A random ending is added to the slug of every person" in page(client.get(IMPORT))
    report = _upload(client, PEOPLE)
    assert "taken" not in report
    assert "would give: 1 new" in report
    assert "Imported people: 1 new" in _confirm(client, report)
    mine = Person.objects.get(section=own)
    assert re.fullmatch("aigul-member" + ENDING, mine.slug)
    again = _upload(client, PEOPLE)
    assert "would give: 0 new, 0 updated, 1 unchanged" in again
    hidden.refresh_from_db()
    assert (hidden.slug, hidden.section_id) == ("aigul-member", other.pk)


def test_an_import_asks_which_record_when_several_have_the_ending(own: Section) -> None:
    user = user_in(own)
    for ending in ("abc123", "def456"):
        Person.objects.create(
            section=own, slug=f"aigul-member-{ending}", given_name="A", family_name="M"
        )
    Section.objects.create(slug="third", name_en="Third", kind="national")
    report = importers.run("people", PEOPLE, dry_run=True, only_good=False, user=user)
    assert [str(e) for e in report.errors] == [
        "line 2, column slug: several of your records have the slug 'aigul-member' with an "
        "ending added; write the whole slug of the one you mean"
    ]


def test_the_command_line_import_matches_the_slug_anywhere(
    own: Section, other: Section, hidden: Person
) -> None:
    """Run by the operator (no user), every section is open: the row updates that person."""
    text = "slug,given_name,family_name,section\naigul-member,Aigul,Renamed,other\n"
    report = importers.run("people", text, dry_run=False, only_good=False)
    assert report.errors == [] and report.updated == 1
    hidden.refresh_from_db()
    assert hidden.family_name == "Renamed"


def test_another_sections_closed_petition_is_missing_not_closed(
    own: Section, other: Section
) -> None:
    """A signature row naming another section's unpublished petition reads as a missing one;
    "not accepting signatures" would tell the insider it exists."""
    campaign = Campaign.objects.create(section=other, slug="theirs", title_en="Theirs")
    Petition.objects.create(
        section=other, campaign=campaign, slug="their-petition", title_en="Secret"
    )
    text = "petition,name,email,country,processing_consent\n"
    text += "their-petition,Anna Berg,anna@example.org,Sweden,true\n"
    report = importers.run("signatures", text, dry_run=True, only_good=False, user=user_in(own))
    assert [str(e) for e in report.errors] == [
        "line 2, column petition: no petition 'their-petition'"
    ]
