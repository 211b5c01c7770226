"""`solidarity import people|events|signatures FILE.csv`: every bad row reported by line,
column and reason; nothing written unless every row is good or --only-good is given; the same
file twice changes nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from solidarity.campaigns.models import Signature, email_index
from solidarity.core.models import Section
from solidarity.documentation.models import Citation, Event, Person, PersonName, Place, Source
from tests.test_api_support import CampaignWorld, make_campaign_world

PEOPLE = """\
slug,given_name,patronymic,family_name,name_ru,name_kk,name_en,other_names,section,is_public
esenbek-ukteshbayev,Esenbek,,Ukteshbayev,Есенбек Уктешбаев,Есенбек Өктешбаев,Esenbek Uktesh\
bayev,Uteshbaev|Ukteshbaev,home,true
ainur-kurmanov,Ainur,,Kurmanov,Айнур Курманов,,,,home,false
"""

BAD_PEOPLE = """\
slug,given_name,family_name,name_ru,name_en,section,is_public,birth_year
good-one,Anna,Berg,Анна Берг,Anna Berg,home,yes,
bad slug!,Ivan,,Ivan Petrov,Иван Петров,nowhere,perhaps,soon
"""


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args: str) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import", *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue()


@pytest.fixture
def home(section: Section) -> Section:
    return section


def test_people_with_names_in_several_scripts(home: Section, tmp_path: Path) -> None:
    """Each name column becomes a name form in its language and script; other_names are
    variants; the second run of the same file changes nothing."""
    path = write(tmp_path, PEOPLE)
    out, _err = run("people", str(path))
    assert "Imported people: 2 new, 0 updated, 0 unchanged of 2 rows." in out
    person = Person.objects.get(slug="esenbek-ukteshbayev")
    assert person.is_public and person.section == home
    forms = {(n.name, n.language, n.script, n.kind) for n in person.names.all()}
    assert forms == {
        ("Есенбек Уктешбаев", "ru", "Cyrl", "native"),
        ("Есенбек Өктешбаев", "kk", "Cyrl", "native"),
        ("Esenbek Ukteshbayev", "en", "Latn", "transliteration"),
        ("Uteshbaev", "en", "Latn", "variant"),
        ("Ukteshbaev", "en", "Latn", "variant"),
    }
    assert not Person.objects.get(slug="ainur-kurmanov").is_public
    out, _err = run("people", str(path))
    assert "0 new, 0 updated, 2 unchanged" in out
    assert PersonName.objects.count() == 6
    write(tmp_path, PEOPLE.replace("Ainur,,Kurmanov", "Ainur,Amanovich,Kurmanov"))
    out, _err = run("people", str(path))
    assert "0 new, 1 updated, 1 unchanged" in out
    assert Person.objects.get(slug="ainur-kurmanov").patronymic == "Amanovich"


def test_a_dry_run_reports_every_bad_cell_and_imports_nothing(
    home: Section, tmp_path: Path
) -> None:
    """Every fault of every row is named by line, column and reason, and not even the good
    row is written."""
    errors = run_failing("people", str(write(tmp_path, BAD_PEOPLE)), "--dry-run")
    for expected in (
        "line 3, column slug: use only letters",
        "line 3, column section: no section 'nowhere'",
        "line 3, column is_public: write true or false, not 'perhaps'",
        "line 3, column birth_year: write a year such as 1965, not 'soon'",
        "line 3, column family_name: This field cannot be blank.",
        "line 3, column name_ru: 'Ivan Petrov' is not written in Cyrillic letters only",
        "line 3, column name_en: 'Иван Петров' is not written in Latin letters only",
    ):
        assert expected in errors
    assert "line 2" not in errors
    assert not Person.objects.exists()


def test_a_clean_dry_run_says_what_it_would_do(home: Section, tmp_path: Path) -> None:
    """A dry run of a good file reports the counts of the real run and writes nothing."""
    out, _err = run("people", str(write(tmp_path, PEOPLE)), "--dry-run")
    assert "Dry run, nothing written. The import would give: 2 new" in out
    assert not Person.objects.exists()


def test_only_good_imports_the_good_rows(home: Section, tmp_path: Path) -> None:
    """--only-good writes the good rows and still reports the bad ones."""
    out, err = run("people", str(write(tmp_path, BAD_PEOPLE)), "--only-good")
    assert "Imported people: 1 new" in out and "1 bad row (skipped)" in out
    assert "line 3, column section" in err
    assert list(Person.objects.values_list("slug", flat=True)) == ["good-one"]


def test_the_header_must_name_the_right_columns(home: Section, tmp_path: Path) -> None:
    """A missing or unknown column is reported on line 1, and no row is read."""
    errors = run_failing("people", str(write(tmp_path, "slug,given_name,surname\nx,y,z\n")))
    assert "line 1, column family_name: this column is missing" in errors
    assert "line 1, column surname: unknown column" in errors
    assert "line 1, column section: this column is missing" in errors
    errors = run_failing("people", str(write(tmp_path, "")))
    assert "the file is empty" in errors


def test_line_numbers_count_lines_of_the_file(home: Section, tmp_path: Path) -> None:
    """A cell spanning lines does not shift the line numbers of the rows after it; a
    repeated slug is reported with the line of its first appearance."""
    text = (
        "slug,given_name,family_name,section,summary_en\n"
        'anna,Anna,Berg,home,"first line\nsecond line"\n'
        "anna,Anna,Berg,home,\n"
        "bob,Bob,Smith,elsewhere,\n"
    )
    errors = run_failing("people", str(write(tmp_path, text)))
    assert "line 4: the same record as line 2 (anna)" in errors
    assert "line 5, column section: no section 'elsewhere'" in errors


EVENTS = """\
slug,type,title_en,title_ru,title_kk,date,place,sources,section,is_public
zhanaozen-massacre,massacre,Zhanaozen massacre,Жанаозенская трагедия,Жаңаөзен оқиғасы,\
2011-12-16,zhanaozen,cwi-2002|kz-report,home,true
founding,founding,Founding conference,,,2002~,,cwi-2002,home,true
no-source,threat,A threat without a source,,,2012-06,,,home,false
bad-values,rumour,Bad values,,,sometime,atlantis,cwi-2002|nowhere,home,maybe
"""


@pytest.fixture
def sources(home: Section) -> None:
    for slug in ("cwi-2002", "kz-report"):
        Source.objects.create(section=home, is_public=True, slug=slug, title=slug)
    Place.objects.create(
        section=home, is_public=True, slug="zhanaozen", name_en="Zhanaozen", kind="city"
    )


def test_events_need_a_source_and_good_values(sources: None, tmp_path: Path) -> None:
    """A row without a source is bad; so are an unknown type, an unreadable date, and unknown
    places or sources. Nothing is written while any row is bad."""
    errors = run_failing("events", str(write(tmp_path, EVENTS)), "--dry-run")
    assert "line 4, column sources: every event needs at least one source" in errors
    assert "line 5, column type: 'rumour' is not one of:" in errors
    assert "line 5, column date: “sometime” is not a date we understand" in errors
    assert "line 5, column place: no place 'atlantis'" in errors
    assert "line 5, column sources: no source 'nowhere'" in errors
    assert "line 5, column is_public: write true or false" in errors
    assert "line 2" not in errors and "line 3" not in errors
    assert not Event.objects.exists()


def test_events_are_imported_with_their_citations(sources: None, tmp_path: Path) -> None:
    """Good events are written with partial dates, places and one citation per source; the
    same file again changes nothing."""
    path = write(tmp_path, "".join(EVENTS.splitlines(keepends=True)[:3]))
    out, _err = run("events", str(path))
    assert "Imported events: 2 new" in out
    massacre = Event.objects.get(slug="zhanaozen-massacre")
    assert massacre.date is not None and massacre.date.text == "2011-12-16"
    assert massacre.title_kk == "Жаңаөзен оқиғасы" and massacre.place is not None
    cited = Citation.objects.filter(
        content_type=ContentType.objects.get_for_model(Event), object_id=massacre.pk
    )
    assert sorted(c.source.slug for c in cited) == ["cwi-2002", "kz-report"]
    assert Event.objects.get(slug="founding").date_earliest.year == 2001
    out, _err = run("events", str(path))
    assert "0 new, 0 updated, 2 unchanged" in out
    assert Citation.objects.count() == 3


SIGNATURES = """\
petition,name,email,country,processing_consent,public_name_consent,contact_consent,language
release-sokolova,Anna Berg,anna@example.org,Germany,true,true,false,de
release-sokolova,Ben Smith,ben@example.org,UK,true,false,true,en
"""


@pytest.fixture
def world(home: Section) -> CampaignWorld:
    return make_campaign_world(home)


def test_signatures_follow_the_public_form_rules(world: CampaignWorld, tmp_path: Path) -> None:
    """Imported signatures wait for their e-mail confirmation, like any other; no consent, a
    closed petition, a bad address or the same address twice in the file are bad rows."""
    bad = SIGNATURES.replace(",de\n", ",en\n") + (
        "release-sokolova,Carl,carl@example.org,France,false,false,false,en\n"
        "delivered,Dora,dora@example.org,Spain,true,false,false,en\n"
        "release-sokolova,Eve,not-an-address,Italy,true,false,false,en\n"
        "release-sokolova,Ben again,BEN@example.org,UK,true,false,false,en\n"
    )
    errors = run_failing("signatures", str(write(tmp_path, bad)), "--dry-run")
    assert "line 4, column processing_consent: We can only record this with your consent" in (
        errors
    )
    assert "line 5, column petition: this petition is not accepting signatures" in errors
    assert "line 6, column email: This is not an e-mail address" in errors
    assert "line 7: the same record as line 3" in errors
    assert not Signature.objects.exists()
    errors = run_failing("signatures", str(write(tmp_path, SIGNATURES)), "--dry-run")
    assert "line 2, column language: Please choose one of the languages offered." in errors


def test_signatures_are_imported_pending_and_only_once(
    world: CampaignWorld, tmp_path: Path
) -> None:
    """Each new signature is pending and gets its confirmation e-mail; importing the file
    again finds them by e-mail and sends nothing more. Without --base-url nothing is done."""
    path = write(tmp_path, SIGNATURES.replace(",de\n", ",ru\n"))
    with pytest.raises(CommandError, match="--base-url"):
        run("signatures", str(path))
    out, _err = run("signatures", str(path), "--base-url", "https://solidarity.example.org/")
    assert "Imported signatures: 2 new" in out
    assert set(Signature.objects.values_list("status", flat=True)) == {"pending"}
    assert (
        Signature.objects.get(supporter__email_index=email_index("anna@example.org")).public_name
        == "Anna Berg"
    )
    assert DBTaskResult.objects.count() == 2
    out, _err = run("signatures", str(path), "--base-url", "https://solidarity.example.org")
    assert "0 new, 0 updated, 2 unchanged" in out
    assert DBTaskResult.objects.count() == 2 and Signature.objects.count() == 2


def test_a_missing_file_is_a_clear_error(home: Section, tmp_path: Path) -> None:
    """A file that is not there, or not UTF-8, is named in the error."""
    with pytest.raises(CommandError, match="No file"):
        run("people", str(tmp_path / "missing.csv"))
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("slug,given_name\nx,Jürgen\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        run("people", str(latin1))
