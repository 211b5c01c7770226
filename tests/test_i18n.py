"""The interface in English, Russian and Kazakh: language in the address, a switch that
remembers the choice, marked fallbacks, dates and counts in each language, full catalogues."""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import re
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from solidarity.core.models import Section
from solidarity.core.partialdate import PartialDate
from solidarity.documentation.models import (
    Act,
    Citation,
    Event,
    Organisation,
    Person,
    Place,
    Source,
)

ORIGIN = "http://testserver"
LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
CATALOGUES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/django.po"))
FORMACTION = re.compile(
    r'<button type="submit" name="language" value="(\w+)"[^>]*formaction="([^"]+)"'
)


@dataclass
class Site:
    section: Section
    place: Place
    organisation: Organisation
    person: Person
    event: Event
    english_only: Event


@pytest.fixture
def site(section: Section, public_source: Source) -> Site:
    place = Place.objects.create(
        section=section,
        is_public=True,
        slug="zhanaozen",
        name_en="Zhanaozen",
        name_ru="Жанаозен",
        name_kk="Жаңаөзен",
        kind="city",
    )
    organisation = Organisation.objects.create(
        section=section,
        is_public=True,
        slug="srk",
        name_en="Socialist Resistance of Kazakhstan",
        name_ru="Социалистическое сопротивление Казахстана",
        name_kk="Қазақстанның социалистік қарсылығы",
        kind="political",
        founded="2002",
    )
    person = Person.objects.create(
        section=section,
        is_public=True,
        slug="esenbek-ukteshbayev",
        given_name="Esenbek",
        family_name="Ukteshbayev",
    )
    event = Event.objects.create(
        section=section,
        is_public=True,
        slug="zhanaozen-massacre",
        type="massacre",
        title_en="Zhanaozen massacre",
        title_ru="Жанаозенская бойня",
        title_kk="Жаңаөзен қырғыны",
        date="2011-12-16",
        place=place,
    )
    english_only = Event.objects.create(
        section=section,
        is_public=True,
        slug="oil-strike",
        type="strike",
        title_en="Oil workers' strike",
        date="2011-05",
        place=place,
    )
    Act.objects.create(event=event, type="assault", victim=person)
    for fact in (organisation, person, event, english_only):
        Citation.objects.create(fact=fact, source=public_source, reliability="reliable")
    return Site(section, place, organisation, person, event, english_only)


def get(client: Client, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return response.content.decode()


# -- Every page in every language ---------------------------------------------------------------

PAGES = [
    ("/", {"ru": "Последние события", "kk": "Соңғы оқиғалар", "en": "Latest events"}),
    ("/events/", {"ru": "Отфильтровать", "kk": "Сүзу", "en": "Filter"}),
    ("/events/zhanaozen-massacre/", {"ru": "Действия", "kk": "Әрекеттер", "en": "Acts"}),
    ("/people/", {"ru": "<h1>Люди</h1>", "kk": "<h1>Адамдар</h1>", "en": "<h1>People</h1>"}),
    (
        "/people/esenbek-ukteshbayev/",
        {"ru": "История статуса", "kk": "Мәртебе тарихы", "en": "Status timeline"},
    ),
    (
        "/organisations/",
        {"ru": "<h1>Организации</h1>", "kk": "<h1>Ұйымдар</h1>", "en": "<h1>Organisations</h1>"},
    ),
    ("/organisations/srk/", {"ru": "Идеология", "kk": "Идеологиясы", "en": "Ideology"}),
    (
        "/sources/",
        {
            "ru": "источники, на которые ссылается сайт",
            "kk": "Сайт сілтеме жасайтын барлық дереккөздер",
            "en": "Every source cited on this site",
        },
    ),
]
NAVIGATION = {
    "ru": ["Хроника", "Люди", "Организации", "Источники"],
    "kk": ["Хроника", "Адамдар", "Ұйымдар", "Дереккөздер"],
    "en": ["Timeline", "People", "Organisations", "Sources"],
}


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
@pytest.mark.parametrize(("path", "expected"), PAGES, ids=[p for p, _ in PAGES])
def test_every_public_page_answers_in_each_language(
    client: Client, site: Site, path: str, expected: dict[str, str], language: str
) -> None:
    """/ru/… and /kk/… pages are in that language throughout, say so in <html lang>, and name
    their versions in the other languages with hreflang."""
    # The browser asks for English: the address decides.
    html = get(client, f"/{language}{path}", accept_language="en")
    assert f'<html lang="{language}">' in html
    assert expected[language] in html
    for label in NAVIGATION[language]:
        assert f">{label}</a>" in html
    if language != "en":
        assert ">Timeline</a>" not in html and "Every fact on this site" not in html
    for other in ("en", "ru", "kk"):
        assert (
            f'<link rel="alternate" hreflang="{other}" href="http://testserver/{other}{path}">'
            in html
        )


def test_content_and_dates_follow_the_language(client: Client, site: Site) -> None:
    """Titles, place names, event types and dates are those of the page's language."""
    ru = get(client, "/ru/events/zhanaozen-massacre/")
    assert "Жанаозенская бойня" in ru and "Жанаозен" in ru and "массовое убийство" in ru.lower()
    assert "16 декабря 2011" in ru
    kk = get(client, "/kk/events/zhanaozen-massacre/")
    assert "Жаңаөзен қырғыны" in kk and "жаппай қырғын" in kk.lower()
    assert "2011 жылғы 16 желтоқсан" in kk
    en = get(client, "/en/events/zhanaozen-massacre/")
    assert "Zhanaozen massacre" in en and "16 December 2011" in en
    ru_org = get(client, "/ru/organisations/")
    assert "основана: 2002" in ru_org


def test_counts_are_grouped_the_way_each_language_writes_numbers(
    client: Client, site: Site
) -> None:
    """1 002 events: a comma in English, a non-breaking space in Russian and Kazakh, with the
    right plural form."""
    Event.objects.bulk_create(
        Event(
            section=site.section,
            is_public=True,
            slug=f"protest-{n}",
            type="protest",
            title_en=f"Protest {n}",
            date=PartialDate.parse("2014-01"),
            date_earliest=dt.date(2014, 1, 1),
            date_latest=dt.date(2014, 1, 31),
        )
        for n in range(1000)
    )
    assert "1,002 events on the timeline" in get(client, "/en/")
    assert "1\xa0002 события в хронике" in unescape(get(client, "/ru/"))
    assert "хроникада 1\xa0002 оқиға" in unescape(get(client, "/kk/"))
    assert "События 1\u201325 из 1\xa0002" in unescape(get(client, "/ru/events/"))


# -- Addresses without a language ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.5", "/ru/"),
        ("kk", "/kk/"),
        ("en-GB,en;q=0.8", "/en/"),
        ("de-DE,de;q=0.9", "/en/"),
    ],
)
def test_root_redirects_to_the_negotiated_language(
    client: Client, site: Site, accept_language: str, expected: str
) -> None:
    """ "/" leads to the language the browser asks for, English when it asks for none of ours."""
    response = client.get("/", headers={"accept-language": accept_language})
    assert response.status_code == 302
    assert response["Location"] == expected


def test_unprefixed_public_addresses_keep_their_path_and_query(client: Client, site: Site) -> None:
    """An old link to /events/… lands on the same page with the language in front."""
    response = client.get("/events/?year=2011", headers={"accept-language": "kk"})
    assert response.status_code == 302
    assert response["Location"] == "/kk/events/?year=2011"
    response = client.get("/people/esenbek-ukteshbayev/", headers={"accept-language": "ru"})
    assert response["Location"] == "/ru/people/esenbek-ukteshbayev/"


# -- The switch ----------------------------------------------------------------------------------


def switch_targets(html: str) -> dict[str, str]:
    return {code: unescape(action) for code, action in FORMACTION.findall(html)}


def test_switch_keeps_the_page_and_remembers_the_choice(client: Client, site: Site) -> None:
    """Choosing Қазақша on a Russian page shows the same page in Kazakh, and the choice is
    kept in a cookie: later visits to "/" go to Kazakh whatever the browser asks for."""
    html = get(client, "/ru/events/zhanaozen-massacre/", accept_language="en")
    targets = switch_targets(html)
    assert set(targets) == {"en", "ru", "kk"}
    assert 'value="ru" lang="ru"' in html and 'aria-current="true">Русский</button>' in html

    response = client.post(
        targets["kk"], {"language": "kk"}, headers={"accept-language": "en", "origin": ORIGIN}
    )
    assert response.status_code == 302
    assert response["Location"] == "/kk/events/zhanaozen-massacre/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "kk"
    assert cookie["max-age"] == 365 * 24 * 60 * 60 and cookie["httponly"]

    kk = get(client, response["Location"], accept_language="en")
    assert '<html lang="kk">' in kk and "Жаңаөзен қырғыны" in kk
    home = client.get("/", headers={"accept-language": "ru"})
    assert home["Location"] == "/kk/"
    assert client.get("/events/", headers={"accept-language": "ru"})["Location"] == "/kk/events/"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"origin": "http://testserver"}, 302),
        ({"origin": "null", "sec-fetch-site": "same-origin"}, 302),
        ({"sec-fetch-site": "same-origin"}, 302),
        ({"origin": "https://attacker.example"}, 403),
        ({"origin": "null", "sec-fetch-site": "cross-site"}, 403),
        ({}, 403),
    ],
)
def test_switch_refuses_posts_from_other_sites(
    site: Site, headers: dict[str, str], status: int
) -> None:
    """The switch is guarded by the request's origin: another site cannot change a reader's
    language, and the public pages need no CSRF token or cookie for it."""
    client = Client(enforce_csrf_checks=True)
    page = client.get("/en/")
    assert "csrfmiddlewaretoken" not in page.content.decode() and not page.cookies
    response = client.post("/i18n/setlang/?next=/kk/", {"language": "kk"}, headers=headers)
    assert response.status_code == status
    assert (settings.LANGUAGE_COOKIE_NAME in response.cookies) == (status == 302)


def test_switch_does_not_repeat_the_query_of_a_crafted_link(client: Client, site: Site) -> None:
    """Text put in a link's query is not echoed into the switch or the alternates."""
    html = get(client, "/en/events/?type=Click-here-to-donate")
    assert "Click-here-to-donate" not in html
    assert switch_targets(html)["ru"] == "/i18n/setlang/?next=/ru/events/"


def test_not_found_page_switches_to_the_home_page(client: Client, site: Site) -> None:
    """A 404 page offers the switch without naming its own address, and has no alternates."""
    response = client.get("/ru/people/nobody/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "найдено</h1>" in html and "nobody" not in html
    assert 'hreflang="' not in html
    assert 'name="language" value="kk"' in html


def test_back_office_has_a_language_switch(client: Client, site: Site) -> None:
    """The back office follows the remembered choice and offers the same switch."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "kk"
    html = client.get("/admin/login/", follow=True).content.decode()
    assert '<html lang="kk"' in html
    assert 'action="/i18n/setlang/"' in html and ">Русский</button>" in html
    response = client.post(
        "/i18n/setlang/", {"language": "ru", "next": "/admin/login/"}, headers={"origin": ORIGIN}
    )
    assert response["Location"] == "/admin/login/"
    assert '<html lang="ru"' in client.get("/admin/login/", follow=True).content.decode()


# -- Fallbacks -----------------------------------------------------------------------------------


def test_text_missing_in_a_language_is_marked_in_that_language(client: Client, site: Site) -> None:
    """A title written only in English is shown with its language and marked as untranslated,
    in the words of the page's language."""
    ru = get(client, "/ru/events/")
    assert (
        '<span lang="en">Oil workers&#x27; strike</span> <small class="untranslated">'
        "(нет перевода)</small>" in ru
    )
    kk = get(client, "/kk/events/oil-strike/")
    assert (
        '<span lang="en">Oil workers&#x27; strike</span> <small class="untranslated">'
        "(аударылмаған)</small>" in kk
    )
    assert 'class="untranslated"' not in get(client, "/en/events/oil-strike/")


def test_kazakh_falls_back_to_russian_before_english(client: Client, site: Site) -> None:
    """A name with Russian but no Kazakh text shows the Russian one on Kazakh pages."""
    Organisation.objects.filter(pk=site.organisation.pk).update(name_kk="")
    kk = get(client, "/kk/organisations/srk/")
    assert '<span lang="ru">Социалистическое сопротивление Казахстана</span>' in kk
    assert "(аударылмаған)" in kk


# -- Partial dates -------------------------------------------------------------------------------

DATES = {
    "2011-12-16": ("16 December 2011", "16 декабря 2011", "2011 жылғы 16 желтоқсан"),
    "2012-06": ("June 2012", "июнь 2012", "2012 жылғы маусым"),
    "2002~": ("c. 2002", "около 2002", "шамамен 2002"),
    "2011/2012": (
        "between 2011 and 2012",
        "между 2011 и 2012",
        "2011 және 2012 жылдар аралығында",
    ),
    "../2012-03-05": ("before 5 March 2012", "до 5 марта 2012", "2012 жылғы 5 наурызға дейін"),
    "../2012": ("before 2012", "до 2012", "2012 жылға дейін"),
    "2012/..": ("after 2012", "после 2012", "2012 жылдан кейін"),
    "2012-09/..": ("after September 2012", "после сентября 2012", "2012 жылғы қыркүйектен кейін"),
    "2012-06~": ("c. June 2012", "около июня 2012", "шамамен 2012 жылғы маусым"),
    "2011-12/2012-06": (
        "between December 2011 and June 2012",
        "между декабрём 2011 и июнем 2012",
        "2011 жылғы желтоқсан және 2012 жылғы маусым аралығында",
    ),
}


@pytest.mark.parametrize("text", DATES)
def test_partial_dates_read_naturally_in_each_language(text: str) -> None:
    """Each precision is written with the word order and month forms of the language."""
    date = PartialDate.parse(text)
    for language, expected in zip(("en", "ru", "kk"), DATES[text], strict=True):
        with translation.override(language):
            assert date.display() == expected, language


def test_phrases_still_parse_in_english_whatever_the_language() -> None:
    """Only display follows the language: typing "June 2012" means the same in any of them."""
    with translation.override("kk"):
        assert PartialDate.parse("June 2012").text == "2012-06"
        assert PartialDate.parse("before 5 March 2012").text == "../2012-03-05"


# -- Catalogues ----------------------------------------------------------------------------------


@dataclass
class Entry:
    context: str | None
    msgid: str
    plural: str | None
    msgstrs: list[str]
    flags: set[str]


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, read without any third-party parser."""
    entries: list[Entry] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        current = ""
        for line in block.strip().splitlines():
            if line.startswith("#~"):
                current = ""
            elif line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[current] += ast.literal_eval(line)
            else:
                key, _space, value = line.partition(" ")
                current = key
                fields[key] = ast.literal_eval(value)
        if "msgid" not in fields:
            continue
        msgstrs = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
        entries.append(
            Entry(
                fields.get("msgctxt"), fields["msgid"], fields.get("msgid_plural"), msgstrs, flags
            )
        )
    return entries


def test_there_is_a_catalogue_for_each_interface_language_but_english() -> None:
    """English is the source language; Russian and Kazakh each have a catalogue."""
    assert {path.parent.parent.name for path in CATALOGUES} == {"ru", "kk"}
    assert [code for code, _name in settings.LANGUAGES] == ["en", "ru", "kk"]


@pytest.mark.parametrize("path", CATALOGUES, ids=[p.parent.parent.name for p in CATALOGUES])
def test_every_message_is_translated_and_compiled(path: Path) -> None:
    """No message is left empty or fuzzy, and the committed .mo says what the .po says."""
    entries = read_po(path)
    header = entries[0]
    assert header.msgid == "" and "fuzzy" not in header.flags
    language = path.parent.parent.name
    assert f"Language: {language}\n" in header.msgstrs[0]
    messages = entries[1:]
    assert len(messages) > 300
    untranslated = [e.msgid for e in messages if not all(e.msgstrs)]
    fuzzy = [e.msgid for e in messages if "fuzzy" in e.flags]
    assert not untranslated, f"{language}: untranslated {untranslated}"
    assert not fuzzy, f"{language}: fuzzy {fuzzy}"

    with path.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for e in messages:
        if e.plural is not None:
            assert catalogue.ngettext(e.msgid, e.plural, 1) == e.msgstrs[0], e.msgid
        elif e.context is not None:
            assert catalogue.pgettext(e.context, e.msgid) == e.msgstrs[0], e.msgid
        else:
            assert catalogue.gettext(e.msgid) == e.msgstrs[0], e.msgid


def test_placeholders_survive_translation() -> None:
    """Every %(name)s of a message is in each of its translations: a lost one would crash."""
    for path in CATALOGUES:
        for e in read_po(path)[1:]:
            wanted = set(re.findall(r"%\((\w+)\)s", e.msgid + (e.plural or "")))
            for msgstr in e.msgstrs:
                found = set(re.findall(r"%\((\w+)\)s", msgstr))
                # A plural form may leave the number out ("one"), but invent nothing.
                assert found <= wanted, (path.parent.parent.name, e.msgid)
                if e.plural is None:
                    assert found == wanted, (path.parent.parent.name, e.msgid)


def test_kazakh_catalogue_is_written_in_kazakh() -> None:
    """Kazakh texts use the Kazakh letters, not Russian stand-ins for them."""
    kazakh = "\n".join(
        msgstr for e in read_po(LOCALE_DIR / "kk/LC_MESSAGES/django.po")[1:] for msgstr in e.msgstrs
    )
    for letter in "әғқңөұүі":
        assert letter in kazakh, letter
    for wrong, right in [("Казах", "Қазақ"), ("уйым", "ұйым"), ("куэ", "куә")]:
        assert wrong not in kazakh, f"{wrong} should be {right}"
