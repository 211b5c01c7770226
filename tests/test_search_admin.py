"""The back office's search: the people list and the site-wide page use the name index,
duplicates are named after a save, and a coordinator can merge two people and undo it."""

# Cyrillic and Latin names side by side are what these tests are about:
from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from solidarity.core.models import Section
from solidarity.documentation.models import (
    Act,
    Citation,
    Detention,
    Event,
    Involvement,
    Membership,
    Organisation,
    Participation,
    Person,
    PersonName,
    Prosecution,
    Source,
)
from solidarity.safety.models import Role
from solidarity.search import services
from solidarity.search.merge import MergeError, merge_people, unmerge
from solidarity.search.models import MergeRecord, NameKey
from tests.conftest import verified_login
from tests.test_admin import page, read_form
from tests.test_search_index import make_person

CHANGELIST = "/admin/documentation/person/"


def user_with_role(username: str, section: Section, role: str) -> User:
    user = User.objects.create_user(username, password="a long test passphrase", is_staff=True)
    Role.objects.create(user=user, section=section, role=role)
    return user


@pytest.fixture
def coordinator(client: Client, section: Section) -> Client:
    return verified_login(client, user_with_role("coordinator", section, "coordinator"))


@pytest.fixture
def researcher(client: Client, section: Section) -> Client:
    return verified_login(client, user_with_role("researcher", section, "researcher"))


@pytest.fixture
def other_section() -> Section:
    return Section.objects.create(slug="abroad", name_en="Section abroad", kind="national")


def changelist_names(client: Client, query: str) -> list[str]:
    response = client.get(CHANGELIST, {"q": query}, follow=True)
    assert response.status_code == 200
    return [str(p) for p in response.context["cl"].result_list]


def test_the_people_list_finds_any_spelling(
    researcher: Client, section: Section, other_section: Section
) -> None:
    """The list's search box uses the index (Latin finds Cyrillic) within the user's sections."""
    make_person(section, "esenbek", "Есенбек", "Өктешбаев")
    make_person(other_section, "elsewhere", "Есенбек", "Уктешбаев")
    assert changelist_names(researcher, "Ukteshbayev") == ["Есенбек Өктешбаев"]
    assert changelist_names(researcher, "Uteshbaev E.") == ["Есенбек Өктешбаев"]
    # The plain text search still works beside it.
    assert changelist_names(researcher, "esenbek") == ["Есенбек Өктешбаев"]


def test_the_site_wide_search_page_lists_every_kind(
    researcher: Client, section: Section, other_section: Section
) -> None:
    """One box finds people and organisations of the user's sections, private ones too."""
    make_person(section, "taxir", "Тахир", "Мухамедзянов", public=False)
    make_person(other_section, "taxir-abroad", "Тахир", "Мухамедзянов")
    Organisation.objects.create(
        section=section, slug="mukhamedzyanov-fund", name_en="Mukhamedzyanov Fund", kind="other"
    )
    response = researcher.get("/admin/find/", {"q": "Muhamedzjanov"}, follow=True)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert sorted((r["label"], str(r["object"])) for r in rows) == [
        ("organisation", "Mukhamedzyanov Fund"),
        ("person", "Тахир Мухамедзянов"),
    ]
    person = Person.objects.get(slug="taxir")
    assert reverse("admin:documentation_person_change", args=[person.pk]) in page(response)
    empty = page(researcher.get("/admin/find/", {"q": "Qwertyuiop"}, follow=True))
    assert "No record of your sections matches" in empty


def test_the_site_wide_search_needs_a_login(client: Client, db: None) -> None:
    """Without a back office session the page redirects to the login."""
    response = client.get("/admin/find/", {"q": "Muhamedzjanov"})
    assert response.status_code == 302


def test_saving_a_person_names_likely_duplicates(
    coordinator: Client, section: Section, public_source: Source
) -> None:
    """After a save, the same person recorded in another script is named, with the reason."""
    existing = make_person(section, "ainur", "Айнур", "Соколова", birth_year=1985)
    person = make_person(section, "ainur-2", "Ainur", "Sokolova", birth_year=1985)
    Citation.objects.create(
        content_type=ContentType.objects.get_for_model(Person),
        object_id=person.pk,
        source=public_source,
    )
    url = reverse("admin:documentation_person_change", args=[person.pk])
    data = read_form(coordinator, url)
    response = coordinator.post(url, data, follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    warning = next(m for m in messages if "may already be recorded" in m)
    assert "Айнур Соколова" in warning and "(1985)" in warning
    assert "same name in another script" in warning
    assert "same birth year" in warning
    assert f"a={person.pk}&amp;b={existing.pk}" in warning


def test_creating_a_likely_duplicate_is_refused_until_confirmed(
    coordinator: Client, section: Section, public_source: Source
) -> None:
    """Adding the same person in another script is stopped before anything is saved; ticking
    "This is a different person" saves it (namesakes exist)."""
    make_person(section, "esenbek", "Есенбек", "Өктешбаев", birth_year=1970)
    url = reverse("admin:documentation_person_add")
    data = read_form(coordinator, url)
    assert "confirm_new_person" in page(coordinator.get(url))
    data.update(
        {
            "given_name": "Esenbek",
            "family_name": "Ukteshbayev",
            "slug": "esenbek-ukteshbayev",
            "birth_year": "1970",
            "section": str(section.pk),
        }
    )
    prefix = next(k for k in data if k.endswith("-TOTAL_FORMS") and "citation" in k)
    base = prefix.removesuffix("-TOTAL_FORMS")
    data.update({prefix: "1", f"{base}-0-source": str(public_source.pk)})
    data[f"{base}-0-reliability"] = "reliable"
    before = Person.objects.count()
    response = coordinator.post(url, data)
    assert response.status_code == 200
    assert "This person may already be recorded" in page(response)
    assert "Есенбек Өктешбаев (1970)" in page(response)
    assert Person.objects.count() == before
    data["confirm_new_person"] = "on"
    response = coordinator.post(url, data)
    assert response.status_code == 302, page(response)
    assert Person.objects.count() == before + 1


def test_siblings_are_not_named_as_duplicates(coordinator: Client, section: Section) -> None:
    """Ерлан and Ержан, brothers born the same year, are not taken for one person."""
    make_person(section, "erlan", "Ерлан", "Сарсенбаев", patronymic="Нурланович", birth_year=1990)
    person = make_person(
        section, "erzhan", "Ержан", "Сарсенбаев", patronymic="Нурланович", birth_year=1990
    )
    found = services.find_duplicates(
        services.name_forms(person), 1990, Person.objects.all(), exclude=person.pk
    )
    assert found == []


# -- Merging -------------------------------------------------------------------------------------


def snapshot() -> dict[str, Any]:
    """Every row a merge touches, by id: what must come back exactly after an unmerge."""

    def rows(model: Any, *fields: str) -> list[tuple[Any, ...]]:
        return sorted(model.objects.values_list("pk", *fields))

    return {
        "people": rows(
            Person, "slug", "given_name", "patronymic", "family_name", "birth_year", "summary_en"
        ),
        "names": rows(PersonName, "person_id", "name", "language", "script", "kind"),
        "acts": rows(Act, "victim_id"),
        "involvements": rows(Involvement, "perpetrator_id"),
        "participations": rows(Participation, "person_id"),
        "memberships": rows(Membership, "person_id"),
        "prosecutions": rows(Prosecution, "person_id"),
        "detentions": rows(Detention, "person_id"),
        "citations": rows(Citation, "object_id", "source_id", "reliability", "quote"),
        "index": sorted(NameKey.objects.values_list("key", "person_id", "name")),
    }


@pytest.fixture
def two_records(section: Section, public_source: Source) -> tuple[Person, Person]:
    keep = make_person(section, "esenbek", "Есенбек", "Өктешбаев", names=("Esenbek Ukteshbayev",))
    remove = make_person(
        section,
        "esenbek-2",
        "Yesenbek",
        "Ukteshbaev",
        patronymic="Nurlanovich",
        birth_year=1970,
        names=("Esenbek Ukteshbayev", "Есенбек Уктешбаев"),
    )
    remove.summary_en = "Founder of the union."
    remove.save()
    other = make_person(section, "attacker", "Иван", "Иванов")
    organisation = Organisation.objects.create(
        section=section, slug="sr", name_en="Socialist Resistance", kind="political"
    )
    event = Event.objects.create(
        section=section, slug="attack", type="assault", title_en="Attack", date="2006-05"
    )
    act = Act.objects.create(event=event, type="assault", victim=remove)
    other_act = Act.objects.create(event=event, type="threat", victim=other)
    Involvement.objects.create(act=other_act, perpetrator=remove, degree="suspected")
    Participation.objects.create(event=event, person=remove, role="witness")
    Membership.objects.create(
        section=section, person=remove, organisation=organisation, role="founder"
    )
    Prosecution.objects.create(section=section, person=remove, charge="hooliganism")
    Detention.objects.create(section=section, person=remove, start="2006-05")
    person_type = ContentType.objects.get_for_model(Person)
    for person, quote in ((keep, "kept"), (remove, "removed")):
        Citation.objects.create(
            content_type=person_type, object_id=person.pk, source=public_source, quote=quote
        )
    other_source = Source.objects.create(section=section, slug="other", title="Other source")
    Citation.objects.create(content_type=person_type, object_id=remove.pk, source=other_source)
    assert act.pk
    return keep, remove


def test_merge_moves_everything_and_unmerge_restores_it_exactly(
    two_records: tuple[Person, Person],
) -> None:
    """Every name form, event link, membership, prisoner record and citation moves to the
    kept record; undoing the merge restores every row as it was, with the same ids."""
    keep, remove = two_records
    before = snapshot()
    record = merge_people(keep, remove, reason="one person in two scripts")

    assert not Person.objects.filter(pk=remove.pk).exists()
    keep.refresh_from_db()
    assert set(keep.names.values_list("name", flat=True)) == {
        "Esenbek Ukteshbayev",
        "Есенбек Уктешбаев",
        "Yesenbek Nurlanovich Ukteshbaev",
    }
    assert keep.acts.count() == 1 and keep.participations.count() == 1
    assert Involvement.objects.get().perpetrator_id == keep.pk
    assert keep.memberships.count() == 1
    assert keep.prosecutions.count() == 1 and keep.detentions.count() == 1
    assert sorted(keep.citations.values_list("quote", flat=True)) == ["", "kept"]
    assert (keep.patronymic, keep.birth_year) == ("Nurlanovich", 1970)
    assert keep.summary_en == "Founder of the union."
    hits = services.search("Yesenbek Nurlanovich Ukteshbaev", public_only=False)
    assert hits[0].pk == keep.pk
    assert record.removed_name == "Yesenbek Nurlanovich Ukteshbaev"

    restored = unmerge(record)
    assert restored.pk == remove.pk
    assert snapshot() == before
    record.refresh_from_db()
    assert record.unmerged_at is not None
    with pytest.raises(MergeError, match="already been undone"):
        unmerge(record)


def test_a_merge_with_a_conflict_changes_nothing(
    section: Section, two_records: tuple[Person, Person]
) -> None:
    """Both records as witnesses of one event: refused, with every row left as it was."""
    keep, remove = two_records
    Participation.objects.create(event=Event.objects.get(), person=keep, role="witness")
    before = snapshot()
    with pytest.raises(MergeError, match="participations"):
        merge_people(keep, remove)
    assert snapshot() == before
    assert not MergeRecord.objects.exists()


def test_a_coordinator_merges_and_undoes_in_the_back_office(
    coordinator: Client, two_records: tuple[Person, Person]
) -> None:
    """The action leads to the comparison page; merging and undoing work from the pages."""
    keep, remove = two_records
    response = coordinator.post(
        CHANGELIST,
        {"action": "merge_selected", "_selected_action": [keep.pk, remove.pk]},
    )
    assert response.status_code == 302
    url = response["Location"]
    assert url == f"/admin/find/merge/?a={keep.pk}&b={remove.pk}"
    page = coordinator.get(url)
    assert page.status_code == 200
    assert "Likely the same person" in page.content.decode() or page.context["reason"]
    response = coordinator.post(
        "/admin/find/merge/", {"a": keep.pk, "b": remove.pk, "keep": keep.pk, "reason": "same"}
    )
    assert response.status_code == 302
    assert not Person.objects.filter(pk=remove.pk).exists()
    record = MergeRecord.objects.get()
    assert record.reason == "same"
    listing = coordinator.get("/admin/search/mergerecord/")
    assert "Yesenbek Nurlanovich Ukteshbaev" in listing.content.decode()
    coordinator.post(
        "/admin/search/mergerecord/",
        {"action": "undo", "_selected_action": [record.pk]},
    )
    assert Person.objects.filter(pk=remove.pk).exists()


def test_only_a_coordinator_may_merge(
    researcher: Client, two_records: tuple[Person, Person]
) -> None:
    """A researcher gets neither the action nor the page, and the list of merges is hidden."""
    keep, remove = two_records
    changelist = researcher.get(CHANGELIST)
    assert "merge_selected" not in changelist.content.decode()
    response = researcher.post(
        "/admin/find/merge/", {"a": keep.pk, "b": remove.pk, "keep": keep.pk}
    )
    assert response.status_code == 404
    assert Person.objects.filter(pk=remove.pk).exists()
    assert researcher.get("/admin/search/mergerecord/").status_code == 403
