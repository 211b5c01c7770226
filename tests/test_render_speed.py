"""Cheaper rendering of the public pages, each shortcut writing exactly what it replaced.

- `{% party %}` and `{% place %}` are what the includes of public/_party.html and _place.html
  wrote (several per record page and timeline entry; an include cost more than its text).
- `{% event_entries %}` is the timeline's {% for %} loop of `{% event_entry %}`.
- `{% links_to %}`, `{% topic_links %}`, `{% translation_links %}`: article.html's loops.
- `{% filter_fields %}`: event_list.html's loop over the filter form's fields.
- `buildcache.table`: a list reads the active language once, not once per item.
- `same_on_every_page` is not searched for blocks by every {% extends %}, and holds none.
"""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client
from django.utils import translation

from solidarity.core import buildcache
from solidarity.core.translation import Translated
from solidarity.public import data
from solidarity.public.forms import TimelineFilterForm
from solidarity.public.templatetags import public_tags
from solidarity.public.values import Party, PartyKind, PlaceInfo, TimelineFilters
from solidarity.publishing.public_data import Link, TopicInfo, Translation
from tests import test_public_pages
from tests.test_public_pages import Case

case = test_public_pages.case

# The templates the tags replaced, as they were (public/_party.html, public/_place.html).
OLD_PARTY = (
    '{% load public_tags %}{% if party.kind == "person" %}<a href="{% record_url '
    "'public:person' party.slug %}\">{% text party.name %}</a>{% elif party.kind == "
    '"organisation" %}<a href="{% record_url \'public:organisation\' party.slug %}">'
    '{% text party.name %}</a>{% elif party.kind == "withheld" %}<span class="withheld">'
    "{% text party.name %}</span>{% else %}{% text party.name %}{% endif %}"
)
OLD_PLACE = (
    "{% load public_tags %}{% if place %}{% text place.name %}{% for outer in place.within %}"
    ", {% text outer %}{% endfor %}{% endif %}"
)
OLD_TIMELINE = (
    "{% load public_tags %}<div>\n  {% for event in items %}\n    {% event_entry event %}\n"
    "  {% endfor %}\n</div>"
)

HOSTILE = Translated('<b>"Tom" & Jerry</b>', "ru", True)
PLAIN = Translated("Amina Sadykova", "en", False)
PARTIES = [
    Party(PartyKind.PERSON, PLAIN, "amina-sadykova"),
    Party(PartyKind.PERSON, HOSTILE, "tom"),
    Party(PartyKind.ORGANISATION, HOSTILE, "org-1"),
    Party(PartyKind.WITHHELD, Translated("Name withheld", "en", False)),
    Party(PartyKind.DESCRIPTION, HOSTILE),
    Party(PartyKind.DESCRIPTION, Translated("", "en", False)),
    None,
]
PLACES = [
    PlaceInfo("almaty", PLAIN, (HOSTILE, Translated("Kazakhstan", "en", False))),
    PlaceInfo("x", HOSTILE, ()),
    None,
]


@pytest.mark.parametrize("party", PARTIES)
@pytest.mark.parametrize("in_build", [False, True])
def test_a_party_is_what_its_include_wrote(party: Party | None, in_build: bool) -> None:
    with translation.override("ru"), buildcache.active() if in_build else nullcontext():
        old = Template(OLD_PARTY).render(Context({"party": party}))
        new = Template("{% load public_tags %}{% party party %}").render(Context({"party": party}))
    assert new == old
    if party is not None and party.name is HOSTILE:
        assert "<b>" not in new and "&amp; Jerry" in new


@pytest.mark.parametrize("place", PLACES)
def test_a_place_is_what_its_include_wrote(place: PlaceInfo | None) -> None:
    old = Template(OLD_PLACE).render(Context({"place": place}))
    new = Template("{% load public_tags %}{% place place %}").render(Context({"place": place}))
    assert new == old
    if place is not None:
        assert "&lt;b&gt;&quot;Tom&quot; &amp; Jerry&lt;/b&gt;" in new


@pytest.mark.django_db
def test_the_timeline_entries_are_the_loop_s_live_and_in_a_build(case: Case) -> None:
    tag = Template("{% load public_tags %}<div>\n  {% event_entries items %}\n</div>")
    for code in ("en", "ru", "kk"):
        with translation.override(code):
            items = data.timeline(TimelineFilters(), None).items
            assert len(items) >= 2
            old = Template(OLD_TIMELINE).render(Context({"items": items}))
            assert tag.render(Context({"items": items})) == old
            with buildcache.active():
                built = data.timeline(TimelineFilters(), None).items
                assert tag.render(Context({"items": built})) == old
                # Each entry was kept, per language, and is what the single tag gives.
                entries = buildcache.table(public_tags.event_entry)
                assert entries is not None and set(entries) >= {e.slug for e in built}
                assert public_tags.event_entry(built[0]) is entries[built[0].slug][1]
    assert Template("{% load public_tags %}[{% event_entries none %}]").render(Context()) == "[]"


def test_a_table_is_per_language_and_only_in_a_build() -> None:
    assert buildcache.table(len) is None
    with buildcache.active():
        with translation.override("en"):
            english = buildcache.table(len)
            assert english is not None
            english["a"] = 1
            assert buildcache.table(len) is english
        with translation.override("kk"):
            assert buildcache.table(len) == {}
        with translation.override("en"):
            assert buildcache.table(len) == {"a": 1}
    with buildcache.active(), translation.override("en"):
        assert buildcache.table(len) == {}, "a new build starts empty"


def test_same_on_every_page_holds_no_block() -> None:
    with pytest.raises(TemplateSyntaxError, match="block"):
        Template(
            "{% load public_tags %}{% same_on_every_page 'x' %}{% block b %}{% endblock %}"
            "{% end_same_on_every_page %}"
        )


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/en/people/", "/ru/events/", "/kk/newspaper/", "/ru/sources/"])
def test_the_layout_s_blocks_are_still_filled(case: Case, client: Client, url: str) -> None:
    # The layout's blocks are found without looking inside same_on_every_page: each page
    # still has its own title, and the layout's parts are all there.
    text = client.get(url).content.decode()
    if url == "/en/people/":
        assert "<title>People · Solidarity</title>" in text
    assert text.count("<title>") == 1 and '<footer class="site-footer">' in text
    assert '<nav aria-label="' in text and 'class="site-search"' in text


# The loops the article's link tags replaced, as article.html had them.
OLD_LINKS = (
    '{% for p in v %}<a href="{{ p.url }}">{{ p.title }}</a>{% if not forloop.last %} · '
    "{% endif %}{% endfor %}"
)
OLD_TOPICS = (
    '{% for t in v %}<a rel="tag" href="{{ t.url }}">{{ t.name.text }}</a>'
    "{% if not forloop.last %} · {% endif %}{% endfor %}"
)
OLD_TRANSLATIONS = (
    '{% for t in v %}<a href="{{ t.url }}" hreflang="{{ t.language }}" lang="{{ t.language }}">'
    "{{ t.language_name }}: {{ t.title }}</a>{% if not forloop.last %} · {% endif %}{% endfor %}"
)
BAD = "<script>\"x\" & 'y'</script>"


@pytest.mark.parametrize("count", [0, 1, 3])
def test_the_article_s_links_are_what_its_loops_wrote(count: int) -> None:
    links = tuple(Link(f"{BAD} {i}", f"/en/people/p-{i}/?a=1&b={BAD}") for i in range(count))
    topics = tuple(
        TopicInfo(f"t{i}", Translated(f"{BAD}{i}", "en", i == 1), f"/en/t/{i}/?{BAD}")
        for i in range(count)
    )
    translations = tuple(
        Translation(f'r"u{i}', f"Qazaq & {i}", f"{BAD}{i}", f"/ru/a/{i}/?&") for i in range(count)
    )
    for tag, old, values in [
        ("links_to", OLD_LINKS, links),
        ("topic_links", OLD_TOPICS, topics),
        ("translation_links", OLD_TRANSLATIONS, translations),
    ]:
        new = Template(f"{{% load newspaper_fragments %}}{{% {tag} v %}}")
        written = new.render(Context({"v": values}))
        assert written == Template(old).render(Context({"v": values}))
        assert "<script>" not in written
        assert written.count(" · ") == max(count - 1, 0)


OLD_FIELDS = (
    '{% for field in form %}\n  <p class="filter">{{ field.label_tag }} {{ field }}</p>\n  '
    "{% endfor %}"
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [{}, {"type": "arrest"}, {"year": "20x1", "person": BAD}, {"place": "nowhere", "year": "2011"}],
)
def test_the_filter_fields_are_what_the_loop_wrote(case: Case, query: dict[str, str]) -> None:
    for in_build in (False, True):
        with translation.override("kk"), buildcache.active() if in_build else nullcontext():
            form = TimelineFilterForm(query or None)
            old = Template(OLD_FIELDS).render(Context({"form": form}))
            new = Template("{% load public_tags %}{% filter_fields form %}")
            written = new.render(Context({"form": form}))
            assert written == old
            assert written.count('<p class="filter">') == len(form.fields) >= 2
            assert "<script>" not in written
