"""Why a record was found, in the reader's language: the reasons of the public search (HTML and
JSON), of the back office's search and of its duplicate warnings are worded when shown, in
English, Russian or Kazakh."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django.utils import translation

from solidarity.core.models import Section
from solidarity.documentation.models import Citation, Event, Organisation, Person, Source
from solidarity.safety.models import Role
from solidarity.search import services
from solidarity.search.names import likely_same_person, match_reason
from tests.conftest import verified_login
from tests.test_admin import read_form
from tests.test_search_index import make_person

# (a, b) → the reason in English, Russian and Kazakh.
MATCH_REASONS = [
    (
        ("Өктешбаев", "Ukteshbayev"),
        (
            "same name in another script",
            "то же имя другим алфавитом",
            "аты-жөні бірдей, басқа әліпбиде",
        ),
    ),
    (
        ("Есенбек Өктешбаев", "Есенбек Өктешбаев"),
        ("same name", "то же имя", "аты-жөні бірдей"),
    ),
    (
        ("Тахир Нариманович Мухамедзянов", "Tahir Mukhamedzyanov"),
        (
            "same given name and surname in another script, patronymic missing",
            "те же имя и фамилия другим алфавитом, отчество не указано",
            "аты мен тегі бірдей, басқа әліпбиде, әкесінің аты көрсетілмеген",
        ),
    ),
    (
        ("Есенбек Өктешбаев", "Ерлан Өктешбаев"),
        (
            "same surname, different given name",
            "та же фамилия, другое имя",
            "тегі бірдей, аты басқа",
        ),
    ),
]


@pytest.mark.parametrize(("names", "expected"), MATCH_REASONS, ids=lambda v: str(v[0]))
def test_match_reasons_are_worded_in_the_active_language(
    names: tuple[str, str], expected: tuple[str, str, str]
) -> None:
    """One comparison, three wordings: the reason follows the language active when it is asked
    for, so nothing worded in one language is ever shown in another."""
    for language, wording in zip(("en", "ru", "kk"), expected, strict=True):
        with translation.override(language):
            assert match_reason(*names) == wording, language


def test_duplicate_reasons_with_birth_years_in_each_language() -> None:
    """The clauses about birth years, numbers included, are translated too."""
    cases = {
        "en": "same surname in another script, different given name, born 1970 and 1985",
        "ru": "та же фамилия другим алфавитом, другое имя, годы рождения: 1970 и 1985",
        "kk": "тегі бірдей, басқа әліпбиде, аты басқа, туған жылдары: 1970 және 1985",
    }
    for language, wording in cases.items():
        with translation.override(language):
            likely, _score, reason = likely_same_person(
                ["Есенбек Өктешбаев"], ["Yerlan Ukteshbayev"], 1970, 1985
            )
        assert not likely
        assert reason == wording, language
    with translation.override("ru"):
        reason = likely_same_person(["Есенбек Өктешбаев"], ["Esenbek Ukteshbayev"], 1970, 1971)[2]
    assert reason == (
        "то же имя другим алфавитом, годы рождения отличаются на один год, "
        "больше нечем их различить"
    )
    with translation.override("kk"):
        assert likely_same_person(["Айнур Соколова"], ["Ainur Sokolova"], 1985, 1985)[2] == (
            "аты-жөні бірдей, басқа әліпбиде, туған жылы бірдей"
        )


def test_organisation_and_event_reasons_say_name_and_title(section: Section) -> None:
    """An organisation's name and an event's title are words of their own in Russian and
    Kazakh (название, атауы; заголовок, тақырыбы), not a person's name."""
    Organisation.objects.create(
        section=section,
        is_public=True,
        slug="zhanartu",
        name_en="Zhanartu",
        name_ru="Жанарту",
        kind="trade_union",
    )
    Event.objects.create(
        section=section,
        is_public=True,
        slug="strike",
        type="strike",
        title_en="Zhanaozen oil workers strike",
        date="2011-05",
    )
    with translation.override("ru"):
        assert services.search("Жанарту", public_only=True)[0].reason == "то же название"
        hit = services.search("Zhanaozen strike", public_only=True)[0]
        assert hit.reason == "заголовок в другом написании"
    with translation.override("kk"):
        assert services.search("Жанарту", public_only=True)[0].reason == "атауы бірдей"
        assert services.search("Zhanartu", public_only=True)[0].reason == (
            "атауы бірдей, басқа әліпбиде"
        )


@pytest.fixture
def esenbek(section: Section) -> Person:
    """A person recorded in Cyrillic only, so that a Latin query is a match in another script."""
    return make_person(section, "esenbek-oktesbaev", "Есенбек", "Өктешбаев")


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("en", "same name in another script"),
        ("ru", "то же имя другим алфавитом"),
        ("kk", "аты-жөні бірдей, басқа әліпбиде"),
    ],
)
def test_public_search_gives_reasons_in_the_page_language(
    client: Client, esenbek: Person, language: str, reason: str
) -> None:
    """/ru/search/ and /kk/search/ explain their results in Russian and Kazakh, in the HTML
    page and in the JSON answer alike, whatever language the browser asks for."""
    url = f"/{language}/search/"
    query = {"q": "Esenbek Okteshbaev"}
    html = client.get(url, query, headers={"accept-language": "en"})
    assert html.status_code == 200
    assert f"<p>{reason}</p>" in html.content.decode()
    answer = client.get(url, query, headers={"accept": "application/json", "accept-language": "en"})
    first = json.loads(answer.content)["results"][0]
    assert first["name"] == "Есенбек Өктешбаев"
    assert first["reason"] == reason


def coordinator_of(client: Client, section: Section) -> Client:
    user = User.objects.create_user("coord", password="a long test passphrase", is_staff=True)
    Role.objects.create(user=user, section=section, role="coordinator")
    return verified_login(client, user)


@pytest.mark.parametrize(
    ("language", "wanted"),
    [
        ("ru", ("возможно, уже записан", "то же имя другим алфавитом", "тот же год рождения")),
        ("kk", ("бұрын жазылған болуы мүмкін", "бірдей, басқа әліпбиде", "туған жылы бірдей")),
    ],
)
def test_duplicate_warning_of_the_back_office_is_in_the_users_language(
    client: Client,
    section: Section,
    public_source: Source,
    language: str,
    wanted: tuple[str, ...],
) -> None:
    """A Russian- or Kazakh-speaking coordinator saving a person is told in their language why
    another record may be the same person; the site-wide search says why too."""
    coordinator = coordinator_of(client, section)
    coordinator.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    make_person(section, "ainur", "Айнур", "Соколова", birth_year=1985)
    person = make_person(section, "ainur-2", "Ainur", "Sokolova", birth_year=1985)
    Citation.objects.create(
        content_type=ContentType.objects.get_for_model(Person),
        object_id=person.pk,
        source=public_source,
    )
    url = reverse("admin:documentation_person_change", args=[person.pk])
    response = coordinator.post(url, read_form(coordinator, url), follow=True)
    assert response.status_code == 200
    warning = " ".join(str(m) for m in response.context["messages"])
    assert "Айнур Соколова" in warning
    for words in wanted:
        assert words in warning, (language, words, warning)
    assert "same birth year" not in warning and "another script" not in warning

    search = coordinator.get("/admin/find/", {"q": "Айнур Соколова"}, follow=True)
    reasons = {row["hit"].reason for row in search.context["rows"]}
    english = {"same name", "same name in another script"}
    assert reasons and not reasons & english
