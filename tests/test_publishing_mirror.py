"""`solidarity mirror DIR`: complete, relative links only, nothing non-public, incremental."""

from __future__ import annotations

import io
import json
import os
import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import feedparser
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from solidarity.campaigns.models import Campaign, Petition
from solidarity.core import buildcache
from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.publishing import mirror as mirror_module
from solidarity.publishing import public_data
from solidarity.publishing.mirror import MANIFEST, file_for
from solidarity.publishing.models import Article

from .test_public_boundary import World, build_world, crawl, shows
from .test_publishing_pages import Newspaper, build_newspaper

LANGS = ("en", "ru", "kk")
RANDOM_HEX = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{16,}")


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.resources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "src" or (tag == "link" and name == "href"):
                self.resources.append(value)
            elif name in {"href", "action", "formaction"}:
                self.hrefs.append(value)


@pytest.fixture
def paper(section: Section, settings: pytest.FixtureRequest, tmp_path: Path) -> Newspaper:
    settings.MEDIA_ROOT = str(tmp_path / "media")  # type: ignore[attr-defined]
    newspaper = build_newspaper(section)
    newspaper.en.internal_notes = "canary-article-internal-notes"
    newspaper.en.save()
    newspaper.issue.internal_notes = "canary-issue-internal-notes"
    newspaper.issue.save()
    newspaper.draft.title = "canary-draft-title"
    newspaper.draft.save()
    newspaper.scheduled.body = "canary-scheduled-body"
    newspaper.scheduled.save()
    return newspaper


def mirror(dest: Path, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("mirror", str(dest), *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def files_of(dest: Path) -> dict[str, Path]:
    return {
        str(p.relative_to(dest)): p for p in dest.rglob("*") if p.is_file() and p.name != MANIFEST
    }


def test_mirror_holds_every_public_page_and_nothing_else(
    client: Client, section: Section, paper: Newspaper, tmp_path: Path
) -> None:
    """Every page a visitor can reach is in the mirror; no canary of hidden data is."""
    world: World = build_world(section)
    dest = tmp_path / "mirror"
    mirror(dest, "-q")
    files = files_of(dest)

    site = crawl(client, ["/en/", "/ru/", "/kk/", "/en/newspaper/"])
    for url, response in site.items():
        parts = urlsplit(url)
        if response.status_code != 200 or parts.path.startswith(("/static/", "/i18n/")):
            continue
        # Other queries are a form's options (a letter's language, the timeline by person):
        # forms do not work offline; the timeline by person is reached from each person.
        if parts.query and not parts.query.startswith(("page=", "type=", "year=", "place=")):
            continue
        if "/newspaper/articles/" in parts.path:
            # An article is mirrored under its own language only (the live site answers under
            # every language prefix).
            rest = parts.path.split("/", 2)[2]
            assert any(file_for(f"/{lang}/{rest}") in files for lang in LANGS), url
            continue
        assert file_for(url) in files, f"{url} is missing from the mirror"
    for expected in [
        "index.html",
        "en/index.html",
        "ru/newspaper/articles/svobodu-natale/index.html",
        "kk/newspaper/articles/natalyaga-bostandyq/index.html",
        "en/newspaper/articles/free-natalya/index.html",
        f"en/newspaper/articles/free-natalya/images/{paper.image.pk}.jpg",
        "en/newspaper/issues/2012-12/index.html",
        "en/newspaper/topics/prisoners/index.html",
        "en/newspaper/authors/a-zhaksylyk/index.html",
        "en/feeds/newspaper/en.atom",
        "en/feeds/events.atom",
        "en/events/index--type-strike.html",
        "en/events/index--year-2011.html",
        "static/public/site.css",
        "search.html",
        "search.js",
        "search-index.json",
        "search-index.js",
        "en/offline.html",
        "ru/offline.html",
        "kk/offline.html",
    ]:
        assert expected in files, expected
    for hidden in ("scheduled-piece", "draft-piece", "draft-topic", "unused-pen-name", "2012-13"):
        assert not any(hidden in name for name in files), hidden

    canaries = dict(world.canaries)
    canaries.update(
        {
            "canary-article-internal-notes": "article notes",
            "canary-issue-internal-notes": "issue notes",
            "canary-draft-title": "draft",
            "canary-scheduled-body": "scheduled",
            "Hidden Person": "private person",
        }
    )
    for name, path in files.items():
        if name.startswith("static/"):
            continue  # copies of the code's stylesheets, not data (a colour can match a year)
        # Entry ids (urn:uuid:…) and digests are random hex, which can contain a year canary.
        text = RANDOM_HEX.sub("", path.read_bytes().decode(errors="replace"))
        leaked = [f"{c} ({label})" for c, label in canaries.items() if shows(c, text)]
        assert not leaked, f"{name} leaks {leaked}"
    manifest = RANDOM_HEX.sub("", (dest / MANIFEST).read_text())
    assert not [c for c in canaries if c in manifest]


def test_every_link_is_relative_and_leads_to_a_file(paper: Newspaper, tmp_path: Path) -> None:
    """No link in any page or feed points at the site's address; each one resolves to a file."""
    dest = tmp_path / "mirror"
    mirror(dest, "-q")
    files = files_of(dest)
    checked = 0
    for name, path in files.items():
        if name.endswith(".html"):
            parser = Links()
            parser.feed(path.read_text())
            for value in parser.resources:
                assert not urlsplit(value).scheme and not value.startswith("/"), (name, value)
            links = parser.hrefs + parser.resources
        elif name.endswith(".atom"):
            feed = feedparser.parse(path.read_bytes())
            assert not feed.bozo, name
            links = [link.href for entry in feed.entries for link in entry.links]
            links += [link.href for link in feed.feed.links]
        else:
            continue
        for value in links:
            parts = urlsplit(value)
            if parts.scheme in {"https", "mailto"} or (
                parts.scheme == "http" and parts.netloc not in {"localhost", "testserver"}
            ):
                continue
            assert not parts.scheme and not parts.netloc, (name, value)
            assert not value.startswith("/"), (name, value)
            if not parts.path:
                continue
            target = (path.parent / unquote(parts.path)).resolve()
            assert target.is_file(), f"{name}: {value} leads nowhere"
            assert dest.resolve() in target.parents, (name, value)
            checked += 1
    assert checked > 100


def test_forms_become_links_offline(paper: Newspaper, tmp_path: Path) -> None:
    """The language switch becomes links; the timeline filter becomes links to filter pages;
    the only form left is the header's search, sent to the offline search page."""
    dest = tmp_path / "mirror"
    mirror(dest, "-q")
    article = (dest / "en/newspaper/articles/free-natalya/index.html").read_text()
    assert article.count("<form") == 1 and "csrfmiddlewaretoken" not in article
    assert '<form class="site-search" action="../../../search.html"' in article  # en/search.html
    assert 'href="../../../../ru/index.html"' in article
    timeline = (dest / "en/events/index.html").read_text()
    assert timeline.count("<form") == 1
    assert '<form class="site-search" action="../search.html"' in timeline
    assert 'href="index--type-strike.html"' in timeline


def test_search_index_finds_articles_and_people(paper: Newspaper, tmp_path: Path) -> None:
    """The offline search index lists published articles and public records, nothing else."""
    dest = tmp_path / "mirror"
    mirror(dest, "-q")
    index = json.loads((dest / "search-index.json").read_text())
    titles = {entry["title"]: entry for entry in index}
    assert titles["Free Natalya Sokolova"]["url"] == "en/newspaper/articles/free-natalya/index.html"
    assert titles["Natalya Sokolova"]["kind"] == "person"
    assert "Scheduled piece" not in titles and "Hidden Person" not in titles
    for entry in index:
        assert (dest / entry["url"]).is_file()
    script = (dest / "search-index.js").read_text()
    assert script.startswith("window.solidaritySearchIndex = ")


def snapshot(dest: Path) -> dict[str, int]:
    return {name: path.stat().st_mtime_ns for name, path in files_of(dest).items()}


def test_a_rerun_rewrites_only_what_changed(paper: Newspaper, tmp_path: Path) -> None:
    """Nothing changed: nothing written. One body edited: its page and feeds. Unpublished: gone."""
    dest = tmp_path / "mirror"
    first = mirror(dest)
    assert "mirror: " in first  # the progress counter on stderr
    before = snapshot(dest)

    again = mirror(dest)
    assert "(0 written," in again and "0 deleted" in again
    assert snapshot(dest) == before

    Article.objects.filter(pk=paper.en.pk).update(body="A *new* body.")
    output = mirror(dest)
    after = snapshot(dest)
    changed = {name for name in after if after[name] != before.get(name)}
    assert "en/newspaper/articles/free-natalya/index.html" in changed
    assert changed <= {
        "en/newspaper/articles/free-natalya/index.html",
        *(f"{lang}/feeds/newspaper/en.atom" for lang in LANGS),
        *(
            f"{lang}/feeds/topics/{t}.atom"
            for lang in ("en", "ru", "kk")
            for t in ("prisoners", "strikes")
        ),
    }, changed
    assert (
        "A <em>new</em> body."
        in (dest / "en/newspaper/articles/free-natalya/index.html").read_text()
    )
    assert f"({len(changed)} written," in output

    paper.en.is_public = False
    paper.en.save()
    mirror(dest, "-q")
    assert not (dest / "en/newspaper/articles/free-natalya/index.html").exists()
    assert not (dest / f"en/newspaper/articles/free-natalya/images/{paper.image.pk}.jpg").exists()
    assert "Free Natalya" not in (dest / "en/newspaper/index.html").read_text()


def test_quiet_mode_prints_nothing(paper: Newspaper, tmp_path: Path) -> None:
    """-q: no counter, no summary."""
    assert mirror(tmp_path / "m", "-q") == ""


def test_it_refuses_a_directory_that_holds_something_else(tmp_path: Path, db: None) -> None:
    """The mirror deletes stale files, so it will not start in a directory it did not make."""
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CommandError, match="holds no mirror"):
        mirror(tmp_path, "-q")
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_files_are_written_atomically(paper: Newspaper, tmp_path: Path) -> None:
    """No temporary file is left behind, and files are readable by a static web server."""
    dest = tmp_path / "mirror"
    mirror(dest, "-q")
    assert not list(dest.rglob(".tmp-*"))
    assert all(os.stat(p).st_mode & 0o004 for p in files_of(dest).values())


def test_a_changed_title_reaches_every_page_that_shows_it(paper: Newspaper, tmp_path: Path) -> None:
    """Lists, topic, author, issue, month, feeds and search index all show the new title."""
    dest = tmp_path / "mirror"
    mirror(dest, "-q")
    Article.objects.filter(pk=paper.en.pk).update(title="Sokolova is free")
    mirror(dest, "-q")
    showing = [
        "en/newspaper/index.html",
        "ru/newspaper/index.html",
        "en/newspaper/language/en/index.html",
        "en/newspaper/topics/prisoners/index.html",
        "kk/newspaper/topics/prisoners/index.html",
        "en/newspaper/authors/a-zhaksylyk/index.html",
        "en/newspaper/issues/2012-12/index.html",
        "en/newspaper/articles/free-natalya/index.html",
        "en/feeds/newspaper/en.atom",
        "ru/feeds/topics/prisoners.atom",
        "search-index.json",
    ]
    for name in showing:
        text = (dest / name).read_text()
        assert "Sokolova is free" in text, name
    months = list(dest.glob("en/newspaper/archive/*/*/index.html"))
    assert any("Sokolova is free" in p.read_text() for p in months)


def test_a_record_made_non_public_leaves_the_mirror(paper: Newspaper, tmp_path: Path) -> None:
    """A person withdrawn from the public site: their pages, timeline, search entry and every
    link to them are gone after the next run."""
    dest = tmp_path / "mirror"
    mirror(dest, "-q")
    person_files = [f"{lang}/people/natalya-sokolova/index.html" for lang in LANGS]
    assert all((dest / name).exists() for name in person_files)
    index = json.loads((dest / "search-index.json").read_text())
    assert "Natalya Sokolova" in {entry["title"] for entry in index}
    article = dest / "en/newspaper/articles/free-natalya/index.html"
    assert "people/natalya-sokolova" in article.read_text()

    Person.objects.filter(slug="natalya-sokolova").update(is_public=False)
    mirror(dest, "-q")
    files = files_of(dest)
    assert not any("natalya-sokolova" in name for name in files), [
        name for name in files if "natalya-sokolova" in name
    ]
    index = json.loads((dest / "search-index.json").read_text())
    assert "Natalya Sokolova" not in {entry["title"] for entry in index}
    for name, path in files.items():
        if name.endswith((".html", ".atom")):
            assert "people/natalya-sokolova" not in path.read_text(), name


def _squares_in(batch: list[int]) -> list[tuple[int, int]]:
    return [(n * n, os.getpid()) for n in batch]


def test_work_is_shared_between_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With workers, batches run in forked processes and come back in order."""
    monkeypatch.setattr(mirror_module, "_can_fork", lambda: True)
    builder = mirror_module.Mirror(tmp_path, workers=2)
    results = list(builder._parallel(_squares_in, [[1, 2], [3], [4, 5], [6]]))
    assert [value for batch in results for value, _pid in batch] == [1, 4, 9, 16, 25, 36]
    assert os.getpid() not in {pid for batch in results for _value, pid in batch}


def test_no_workers_inside_a_transaction(db: None) -> None:
    """A child process would not see uncommitted rows (nor an in-memory test database)."""
    assert not mirror_module._can_fork()


def test_the_build_cache_lives_only_during_a_build(paper: Newspaper) -> None:
    """The live site always reads fresh data; a build asks each question once per language."""
    before = public_data.languages()
    Article.objects.filter(language="kk").update(is_public=False)
    assert public_data.languages() != before  # no cache outside a build
    with buildcache.active():
        first = public_data.languages()
        Article.objects.filter(language="kk").update(is_public=True)
        assert public_data.languages() is first
        with translation.override("ru"):
            assert public_data.languages() is not first
    assert public_data.languages() == before


def test_relative_links_match_posixpath() -> None:
    """The fast relative path is the one os.path would compute, quoted."""
    names = [
        "index.html",
        "en/index.html",
        "en/events/index--type-strike.html",
        "en/newspaper/articles/free-natalya/index.html",
        "ru/newspaper/articles/свободу/index.html",
        "static/public/site.css",
        "en/events/index.html",
    ]
    for source in names:
        for target in names:
            expected = quote(posixpath.relpath(target, posixpath.dirname(source) or "."))
            assert mirror_module._relative(source, target) == expected, (source, target)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_what_the_mirror_adds_is_in_the_pages_language(
    paper: Newspaper, section: Section, tmp_path: Path, workers: str
) -> None:
    """The filter links' heading and the notes on forms that need the live site follow the
    page's language, whatever page was rendered before (campaign pages switch the language)."""
    public_petition(section)
    dest = tmp_path / "mirror"
    mirror(dest, "-q", "--workers", workers)
    expected = {
        "en": ("Filters", "This form needs the live site."),
        "ru": ("Фильтры", "Для этой формы нужен работающий сайт."),
        "kk": ("Сүзгілер", "Бұл пішінге жұмыс істеп тұрған сайт қажет."),
    }
    notes = 0
    for code, (heading, note) in expected.items():
        timeline = (dest / code / "events/index.html").read_text()
        assert f'aria-label="{heading}"' in timeline, code
        for page in (dest / code).rglob("*.html"):
            text = page.read_text()
            if 'class="mirror-form"' in text:
                notes += 1
                assert note in text, page
    assert notes, "no page had a form that needs the live site"


def public_petition(section: Section, slug: str = "mirror") -> None:
    """A public campaign (`<slug>-campaign`) with a public petition: its signing form posts,
    so the mirror must point it to the live site."""
    campaign = Campaign.objects.create(
        section=section, is_public=True, slug=f"{slug}-campaign", title_en="Mirror campaign"
    )
    Petition.objects.create(
        section=section,
        is_public=True,
        campaign=campaign,
        slug=f"{slug}-petition",
        title_en="Free them",
        text_en="We call for their release.",
        goal=100,
    )
