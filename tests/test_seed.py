"""The seed case loads completely, cites a source for every fact, loads again without changing
anything, and a broken case file changes nothing and says where it is broken."""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.apps import apps
from django.db import transaction
from pytest_django import DjangoDbBlocker

from solidarity.core.models import Section
from solidarity.documentation.models import (
    Detention,
    Event,
    Organisation,
    Person,
    Prosecution,
    Recognition,
    Source,
)
from solidarity.documentation.seed import SEED_CASE, SeedError, load_case
from solidarity.documentation.services import current_status, status_timeline, unsourced_facts
from solidarity.documentation.vocabularies import PersonStatus

Document = dict[str, Any]


def database_snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every core, documentation and auth model, with its primary key."""
    models = [
        model
        for label in ("core", "documentation", "auth")
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    ]
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values()) for model in models
    }


def seed_document() -> Document:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document: Document = yaml.load(SEED_CASE.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    return document


def write_case(tmp_path: Path, document: Document) -> Path:
    path = tmp_path / "case.yaml"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump(document, Dumper=dumper, allow_unicode=True), encoding="utf-8")
    return path


def entry(document: Document, kind: str, slug: str) -> dict[str, Any]:
    found: dict[str, Any] = next(item for item in document[kind] if item["slug"] == slug)
    return found


def timeline(slug: str) -> list[tuple[PersonStatus, str]]:
    return [(c.status, c.date.text) for c in status_timeline(Person.objects.get(slug=slug))]


@pytest.fixture(scope="class")
def seeded(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """The seed case loaded once for a class of tests, and rolled back after the last one."""
    with django_db_blocker.unblock(), transaction.atomic():
        load_case(SEED_CASE)
        yield
        transaction.set_rollback(True)


class TestTheSeedCase:
    """Read from one load of the seed case (each test's own changes are rolled back)."""

    def test_it_loads_every_organisation_with_its_details(self, seeded: None, db: None) -> None:
        """The organisations of the seed are there, with what the seed says about them."""
        srk = Organisation.objects.get(slug="socialist-resistance-of-kazakhstan")
        assert srk.name_ru == "Социалистическое Сопротивление Казахстана"
        assert srk.founded is not None and srk.founded.text == "2002"
        assert srk.newspaper == "Солидарность (Solidarity)"
        assert srk.website == "socialismkz.info"
        assert srk.country is not None and srk.country.slug == "kazakhstan"
        relation = srk.relations.get()
        assert (relation.kind, relation.other.abbreviation) == ("section_of", "CWI")
        assert Organisation.objects.get(slug="zhanartu").name_ru == "Жанарту"
        party = Organisation.objects.get(slug="nazarbayev-national-democratic-party")
        assert party.name_en == "Nursultan Nazarbayev's National Democratic Party"
        assert Organisation.objects.get(slug="government-of-kazakhstan").kind == "state_body"
        assert Section.objects.get(slug="srk").kind == "home"
        assert Section.objects.get(slug="cwi").kind == "international"

    def test_it_loads_every_person_with_all_name_forms(self, seeded: None, db: None) -> None:
        """Each person has their Russian and Kazakh Cyrillic forms and every Latin spelling."""
        expected = {
            "ainur-kurmanov": {"Ainur Kurmanov", "Айнур Курманов", "Айнұр Құрманов"},
            "esenbek-ukteshbayev": {
                "Esenbek Ukteshbayev",
                "Esenbek Ukteshbaev",
                "Esenbek Uteshbaev",
                "Esenbek Öktešbaev",
                "Есенбек Уктешбаев",
                "Есенбек Өктешбаев",
            },
            "takhir-mukhamedzyanov": {
                "Takhir Narimanovich Mukhamedzyanov",
                "Takhir Mukhamedzyanov",
                "Tahir Muhamedzjanov",
                "Тахир Нариманович Мухамедзянов",
            },
            "vadim-kuramshin": {"Vadim Kuramshin", "Вадим Курамшин"},
            "natalya-sokolova": {"Natalya Sokolova", "Natalia Sokolova", "Наталья Соколова"},
            "bolat-atabayev": {"Bolat Atabayev", "Bolat Atabaev", "Болат Атабаев"},
            "nursultan-nazarbayev": {
                "Nursultan Nazarbayev",
                "Нурсултан Назарбаев",
                "Нұрсұлтан Назарбаев",
            },
        }
        for slug, names in expected.items():
            person = Person.objects.get(slug=slug)
            assert names <= set(person.names.values_list("name", flat=True)), slug
            assert person.birth_year is None
            assert person.whereabouts == "" and person.contact == ""
        kk = Person.objects.get(slug="esenbek-ukteshbayev").names.get(name="Есенбек Өктешбаев")
        assert (kk.language, kk.script, kk.kind) == ("kk", "Cyrl", "native")
        leader = Person.objects.get(slug="takhir-mukhamedzyanov").memberships.get()
        assert (leader.organisation.slug, leader.role) == (
            "socialist-resistance-of-kazakhstan",
            "leader",
        )
        assert leader.end is not None and leader.end.text == "2012-06"

    def test_it_loads_every_event_and_source(self, seeded: None, db: None) -> None:
        """All sixteen events and five sources of the seed are there, with the seed's dates."""
        assert set(Event.objects.values_list("slug", flat=True)) == {
            "srk-founding-conference-2002",
            "member-detained-en-route-2002",
            "members-attacked-before-conference-2002",
            "imprisonment-of-kurmanov-and-ukteshbayev",
            "attempts-on-lives-of-kurmanov-and-ukteshbayev",
            "exile-of-kurmanov-and-ukteshbayev",
            "death-threats-against-mukhamedzyanov",
            "death-of-takhir-mukhamedzyanov",
            "zhanaozen-oil-workers-strike-2011",
            "zhanaozen-massacre-2011",
            "imprisonment-of-vadim-kuramshin",
            "imprisonment-of-natalya-sokolova",
            "imprisonment-of-bolat-atabayev",
            "embassy-protests-for-sokolova-and-atabayev",
            "release-of-natalya-sokolova",
            "release-of-bolat-atabayev",
        }
        massacre = Event.objects.get(slug="zhanaozen-massacre-2011")
        assert massacre.part_of is not None and massacre.part_of.slug.startswith("zhanaozen-oil")
        assert massacre.place is not None and massacre.place.name_kk == "Жаңаөзен"
        accused = massacre.acts.get().involvements.values_list(
            "perpetrator_organisation__slug", "degree"
        )
        assert set(accused) == {
            ("government-of-kazakhstan", "accused"),
            ("nazarbayev-national-democratic-party", "accused"),
        }
        founding = Event.objects.get(slug="srk-founding-conference-2002")
        assert founding.type == "founding"
        assert founding.date is not None and founding.date.text == "2002"
        assert founding.place is not None and founding.place.slug == "russia"
        assert set(Source.objects.values_list("title", flat=True)) == {
            "Kazakhstan - CWI section established",
            "Leader of Socialist Movement Kazakhstan found dead",
            "The day Zhanaozen died",
            "Campaign Kazakhstan website",
            "Socialist Resistance of Kazakhstan (Wikipedia article, CC BY-SA)",
        }
        article = Source.objects.get(slug="moscow-news-2012-day-zhanaozen-died")
        assert (article.author, article.published and article.published.text) == (
            "Ainur Kurmanov",
            "2012-03-01",
        )
        assert not Source.objects.exclude(url="").exists()

    def test_every_fact_cites_a_source(self, seeded: None, db: None) -> None:
        """After loading, the data-quality report of unsourced facts is empty."""
        assert unsourced_facts() == []

    def test_status_timelines_follow_the_seed(self, seeded: None, db: None) -> None:
        """Mukhamedzyanov threatened then dead in June 2012; Sokolova and Atabayev imprisoned then
        released; Kurmanov and Ukteshbayev end in exile."""
        assert timeline("takhir-mukhamedzyanov") == [
            (PersonStatus.THREATENED, "../2012-06"),
            (PersonStatus.DEAD, "2012-06"),
        ]
        for slug in ("natalya-sokolova", "bolat-atabayev"):
            assert [status for status, _date in timeline(slug)] == [
                PersonStatus.IMPRISONED,
                PersonStatus.RELEASED,
            ]
        for slug in ("ainur-kurmanov", "esenbek-ukteshbayev"):
            changes = status_timeline(Person.objects.get(slug=slug))
            assert PersonStatus.IMPRISONED in [c.status for c in changes]
            assert current_status(changes) is PersonStatus.IN_EXILE
        assert timeline("vadim-kuramshin") == [(PersonStatus.IMPRISONED, "../2012-03-05")]

    def test_prisoner_records_leave_the_unknown_empty(self, seeded: None, db: None) -> None:
        """Everyone imprisoned has a prosecution and a detention in which nothing is invented, and
        the CWI's recognitions assess no PACE criteria."""
        held = {
            "ainur-kurmanov",
            "esenbek-ukteshbayev",
            "vadim-kuramshin",
            "natalya-sokolova",
            "bolat-atabayev",
        }
        assert set(Prosecution.objects.values_list("person__slug", flat=True)) == held
        for case in Prosecution.objects.select_related("event"):
            assert (case.charge, case.code_article, case.court, case.sentence, case.appeal) == (
                ("",) * 5
            )
            assert case.opened is None and case.verdict_date is None
            assert case.outcome == "unknown"
            assert case.event is not None and case.event.type == "imprisonment"
        assert set(Detention.objects.values_list("person__slug", flat=True)) == held
        assert set(Detention.objects.values_list("correspondence", flat=True)) == {"unknown"}
        assert not Detention.objects.exclude(facility=None).exists()
        sokolova = Detention.objects.get(person__slug="natalya-sokolova")
        assert sokolova.start is None and sokolova.end is not None
        assert sokolova.end.text == "../2016-09-16"
        recognitions = Recognition.objects.all()
        assert {r.person.slug for r in recognitions} == {
            "vadim-kuramshin",
            "natalya-sokolova",
            "bolat-atabayev",
        }
        for recognition in recognitions:
            assert recognition.recognised_by.abbreviation == "CWI"
            assert not recognition.criteria.exists()
            assert "not been assessed" in recognition.reasons

    def test_loading_again_gives_the_identical_database(self, seeded: None, db: None) -> None:
        """The second load finds every record again and writes nothing: same rows, keys,
        values and timestamps."""
        before = database_snapshot()
        again = load_case(SEED_CASE)
        assert not again.changed
        assert again.unchanged.total() > 150
        assert database_snapshot() == before

    def test_a_corrected_file_updates_in_place(
        self, seeded: None, db: None, tmp_path: Path
    ) -> None:
        """Changing a value in the file updates that record, keeping its primary key."""
        before = Source.objects.get(slug="campaign-kazakhstan-website")
        document = seed_document()
        entry(document, "sources", "campaign-kazakhstan-website")["title"] = "Campaign Kazakhstan"
        report = load_case(write_case(tmp_path, document))
        after = Source.objects.get(slug="campaign-kazakhstan-website")
        assert (after.pk, after.title) == (before.pk, "Campaign Kazakhstan")
        assert report.updated == {"sources": 1}

    def test_a_broken_file_leaves_a_loaded_case_exactly_as_it_was(
        self, seeded: None, db: None, tmp_path: Path
    ) -> None:
        """Corrections earlier in a broken file are rolled back with the rest."""
        before = database_snapshot()
        document = seed_document()
        entry(document, "sources", "campaign-kazakhstan-website")["title"] = "Changed"
        entry(document, "people", "bolat-atabayev")["names"].append(
            {"name": "Болат Атабаев", "language": "ru", "script": "Latn", "kind": "native"}
        )
        with pytest.raises(SeedError, match=r"people\[bolat-atabayev\]\.names\[3\]"):
            load_case(write_case(tmp_path, document))
        assert database_snapshot() == before
        assert Source.objects.get(slug="campaign-kazakhstan-website").title != "Changed"


def keep(document: Document, people: Collection[str], events: Collection[str] = ()) -> None:
    """Cut the seed down to the named people and events (after all its sources, places and
    organisations), so that a broken record comes after valid ones without a full load."""
    document["people"] = [p for p in document["people"] if p["slug"] in people]
    document["events"] = [e for e in document["events"] if e["slug"] in events]
    for person in document["people"]:
        for prisoner_record in ("prosecutions", "detentions", "recognitions"):
            person.pop(prisoner_record, None)


def _end_before_start(document: Document) -> None:
    keep(document, {"takhir-mukhamedzyanov"})
    entry(document, "people", "takhir-mukhamedzyanov")["memberships"][0]["start"] = "2013"


def _vague_date(document: Document) -> None:
    keep(document, {"takhir-mukhamedzyanov"})
    entry(document, "people", "takhir-mukhamedzyanov")["memberships"][0]["end"] = "June-ish 2012"


def _unknown_source(document: Document) -> None:
    keep(document, {"takhir-mukhamedzyanov"}, {"death-of-takhir-mukhamedzyanov"})
    event = entry(document, "events", "death-of-takhir-mukhamedzyanov")
    event["citations"][0]["source"] = "no-such-source"


def _member_twice(document: Document) -> None:
    keep(document, {"ainur-kurmanov"})
    memberships = entry(document, "people", "ainur-kurmanov")["memberships"]
    memberships.append(copy.deepcopy(memberships[0]))


def _counsel_twice(document: Document) -> None:
    keep(
        document,
        {"vadim-kuramshin", "natalya-sokolova"},
        {"zhanaozen-oil-workers-strike-2011"},
    )
    event = entry(document, "events", "zhanaozen-oil-workers-strike-2011")
    event["participants"].append({"person": "vadim-kuramshin", "role": "legal_counsel"})


def _whereabouts(document: Document) -> None:
    keep(document, {"ainur-kurmanov"})
    entry(document, "people", "ainur-kurmanov")["whereabouts"] = "a flat somewhere"


def _uncited(document: Document) -> None:
    keep(document, {"bolat-atabayev"}, {"release-of-bolat-atabayev"})
    del entry(document, "events", "release-of-bolat-atabayev")["citations"]


BROKEN: list[tuple[Callable[[Document], None], str, str]] = [
    (_end_before_start, "people[takhir-mukhamedzyanov].memberships[0].end", "before the start"),
    (_vague_date, "people[takhir-mukhamedzyanov].memberships[0].end", "not a date we understand"),
    (
        _unknown_source,
        "events[death-of-takhir-mukhamedzyanov].citations[0].source",
        "no source “no-such-source”",
    ),
    (_member_twice, "people[ainur-kurmanov].memberships[2]", "listed twice"),
    (_counsel_twice, "events[zhanaozen-oil-workers-strike-2011].participants[3]", "listed twice"),
    (_whereabouts, "people[ainur-kurmanov].whereabouts", "never loaded from a file"),
    (_uncited, "events[release-of-bolat-atabayev].citations", "cites no source"),
]


@pytest.mark.parametrize(
    ("breakage", "path", "message"), BROKEN, ids=lambda v: getattr(v, "__name__", "")
)
def test_a_broken_file_says_where_and_writes_nothing(
    db: None, tmp_path: Path, breakage: Callable[[Document], None], path: str, message: str
) -> None:
    """The error names the file, the path in it and the problem; the database is untouched,
    although the records before the broken one were valid."""
    document = seed_document()
    breakage(document)
    case = write_case(tmp_path, document)
    before = database_snapshot()
    with pytest.raises(SeedError) as raised:
        load_case(case)
    assert Organisation.objects.count() == 0
    assert raised.value.path == path
    assert message in raised.value.message
    assert str(raised.value).startswith(f"{case}: {path}: ")
    assert database_snapshot() == before


def test_a_name_form_in_the_wrong_script_is_refused(db: None, tmp_path: Path) -> None:
    """Model rules apply: a Cyrillic name marked Latin is reported at its script."""
    document = seed_document()
    entry(document, "people", "bolat-atabayev")["names"][2]["script"] = "Latn"
    with pytest.raises(SeedError) as raised:
        load_case(write_case(tmp_path, document))
    assert raised.value.path == "people[bolat-atabayev].names[2].script"
    assert "Cyrillic letters" in raised.value.message


def test_an_unreadable_file_is_reported(db: None, tmp_path: Path) -> None:
    """Invalid YAML and unknown keys are errors with a location, not tracebacks."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nsources: [\n", encoding="utf-8")
    with pytest.raises(SeedError, match="not valid YAML"):
        load_case(bad)
    document = seed_document()
    entry(document, "sources", "wikipedia-srk-2016")["licence"] = "CC BY-SA"
    with pytest.raises(SeedError) as raised:
        load_case(write_case(tmp_path, document))
    assert raised.value.path == "sources[wikipedia-srk-2016].licence"
