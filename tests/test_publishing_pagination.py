"""The newspaper's long lists (month, topic, author, issue) come in pages of PER_PAGE articles,
paginated exactly as the documentation site's lists are; the static mirror holds every page."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.paginator import Paginator
from django.test import Client
from django.utils import timezone, translation

from solidarity.core.models import Section
from solidarity.publishing import public_data
from solidarity.publishing.models import Article, Byline, Issue, Topic

# The tests use pages of 25 (the documentation lists' size) rather than the newspaper's 100, to
# make fewer articles; the code reads the size when it runs (see _small_pages).
PER_PAGE = 25
COUNT = 2 * PER_PAGE + 10  # three pages: 25, 25 and 10


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public_data, "ARTICLES_PER_PAGE", PER_PAGE)


START = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
SLUG = re.compile(r'href="/en/newspaper/articles/([a-z0-9-]+)/"')
NEXT = re.compile(r'<a rel="next" href="([^"]+)"')
PREV = re.compile(r'<a rel="prev" href="([^"]+)"')


@dataclass
class Paper:
    published: list[str]  # oldest first
    unpublished: list[str]


@pytest.fixture
def paper(section: Section) -> Paper:
    topic = Topic.objects.create(slug="repression", name_en="Repression")
    byline = Byline.objects.create(slug="staff", name="Staff")
    issue = Issue.objects.create(
        section=section, is_public=True, slug="2024-03", number=3, year=2024
    )

    def article(slug: str, when: dt.datetime, *, public: bool = True) -> str:
        created = Article.objects.create(
            section=section,
            is_public=public,
            slug=slug,
            language="en",
            title=f"Title of {slug}",
            body="Body.",
            publish_at=when,
            byline=byline,
            issue=issue,
        )
        created.topics.add(topic)
        return slug

    published = [article(f"piece-{n:02d}", START + dt.timedelta(hours=n)) for n in range(COUNT)]
    unpublished = [
        # Among the others in every list, on what would be the second page.
        article("draft-piece", START + dt.timedelta(hours=COUNT // 2, minutes=30), public=False),
        article("scheduled-piece", timezone.now() + dt.timedelta(days=2)),
    ]
    return Paper(published, unpublished)


LISTS = {
    "month": ("/en/newspaper/archive/2024/03/", True),
    "topic": ("/en/newspaper/topics/repression/", True),
    "author": ("/en/newspaper/authors/staff/", True),
    # An issue lists its articles as it printed them: the first first.
    "issue": ("/en/newspaper/issues/2024-03/", False),
}


def get(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def slugs(html: str) -> list[str]:
    return list(dict.fromkeys(SLUG.findall(html)))


def link(pattern: re.Pattern[str], html: str) -> str | None:
    match = pattern.search(html)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_long_list_comes_in_pages_in_its_order(client: Client, paper: Paper, name: str) -> None:
    """Following "next" from the first page walks every published article once, in the list's
    order, 25 to a page, with "previous" back; nothing unpublished is on any page."""
    base, latest_first = LISTS[name]
    expected = paper.published[::-1] if latest_first else paper.published
    html = get(client, base)
    pages = [slugs(html)]
    assert "page 1 of 3" in html and link(PREV, html) is None
    while (following := link(NEXT, html)) is not None:
        assert following == f"?page={len(pages) + 1}"
        html = get(client, base + following)
        assert f"page {len(pages) + 1} of 3" in html
        # The first page by its own address: one address (and one mirror file) per page.
        assert link(PREV, html) == (base if len(pages) == 1 else f"?page={len(pages)}")
        pages.append(slugs(html))
    assert [len(p) for p in pages] == [PER_PAGE, PER_PAGE, COUNT - 2 * PER_PAGE]
    assert [s for p in pages for s in p] == expected
    for unpublished in paper.unpublished:
        assert all(unpublished not in p for p in pages)


@pytest.mark.parametrize(
    ("query", "number"),
    [("abc", 1), ("", 1), ("1", 1), ("2", 2), ("99", 3), ("0", 3), ("-1", 3)],
)
def test_a_bad_page_number_gives_the_nearest_page_as_on_the_documentation_site(
    client: Client, paper: Paper, query: str, number: int
) -> None:
    """The documentation site's rule (Paginator.get_page): not a number → the first page, out
    of range → the last. Never an error page."""
    html = get(client, f"/en/newspaper/topics/repression/?page={query}")
    assert f"page {number} of 3" in html
    first = (number - 1) * PER_PAGE
    assert slugs(html) == paper.published[::-1][first : first + PER_PAGE]
    # What the documentation site's `_paginate` gives for the same input.
    assert Paginator(range(COUNT), PER_PAGE).get_page(query).number == number


def test_a_short_list_has_no_page_navigation(client: Client, paper: Paper) -> None:
    Article.objects.filter(slug__in=paper.published[: COUNT - PER_PAGE]).update(is_public=False)
    html = get(client, "/en/newspaper/topics/repression/")
    assert len(slugs(html)) == PER_PAGE
    assert 'class="pagination"' not in html and link(NEXT, html) is None


def test_a_list_of_unpublished_articles_only_is_not_found(client: Client, paper: Paper) -> None:
    Article.objects.filter(slug__in=paper.published).update(is_public=False)
    for base, _order in LISTS.values():
        assert client.get(base).status_code == 404, base
        assert client.get(f"{base}?page=2").status_code == 404, base


def test_the_language_edition_is_bounded_and_not_paginated(client: Client, paper: Paper) -> None:
    """It shows the latest LATEST articles and links to the (paginated) archive."""
    html = get(client, "/en/newspaper/language/en/")
    assert slugs(html) == paper.published[::-1][: public_data.LATEST]
    assert 'class="pagination"' not in html


def fingerprints() -> dict[str, str]:
    with translation.override("en"):
        return public_data.newspaper_pages(["en"])


def test_each_page_of_a_list_has_its_own_fingerprint(paper: Paper) -> None:
    """Changing an article on page 2 changes page 2's fingerprint, not pages 1 and 3'."""
    base = "/en/newspaper/topics/repression/"
    before = fingerprints()
    assert {base, f"{base}?page=2", f"{base}?page=3"} <= set(before)
    assert f"{base}?page=1" not in before and f"{base}?page=4" not in before
    on_page_two = paper.published[::-1][PER_PAGE + 3]
    Article.objects.filter(slug=on_page_two).update(title="A new title")
    after = fingerprints()
    assert after[f"{base}?page=2"] != before[f"{base}?page=2"]
    for url in (base, f"{base}?page=3"):
        assert after[url] == before[url], url


def test_the_mirror_holds_every_page_and_links_them(paper: Paper, tmp_path: Path) -> None:
    """The later pages are found by following links, written as files of their own, linked to
    each other; a changed article rewrites the page that shows it, not the others."""
    dest = tmp_path / "mirror"
    call_command("mirror", str(dest), "-q", stdout=io.StringIO(), stderr=io.StringIO())
    folder = dest / "en/newspaper/topics/repression"
    names = sorted(p.name for p in folder.glob("index*.html"))
    # The first page once: "previous" on page 2 leads to its own address, not "?page=1".
    assert names == ["index--page-2.html", "index--page-3.html", "index.html"]
    second = (folder / "index--page-2.html").read_text()
    assert link(NEXT, second) == "index--page-3.html"
    assert link(PREV, second) == "index.html"
    shown = re.findall(r'href="(\.\./\.\./articles/piece-\d+/index\.html)"', second)
    assert len(set(shown)) == PER_PAGE
    assert all((folder / href).is_file() for href in shown)
    assert link(NEXT, (folder / "index.html").read_text()) == "index--page-2.html"
    for lister in ("archive/2024/03", "authors/staff", "issues/2024-03"):
        assert (dest / "en/newspaper" / lister / "index--page-3.html").is_file(), lister

    written = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.html")}
    Article.objects.filter(slug=paper.published[::-1][PER_PAGE + 3]).update(title="A new title")
    call_command("mirror", str(dest), "-q", stdout=io.StringIO(), stderr=io.StringIO())
    rewritten = {p.name for p in folder.glob("*.html") if p.stat().st_mtime_ns != written[p.name]}
    assert rewritten == {"index--page-2.html"}
    assert "A new title" in (folder / "index--page-2.html").read_text()


@pytest.mark.parametrize(
    ("address", "number", "expected"),
    [
        ("/en/people/?page=2", 1, "/en/people/"),
        ("/en/people/?page=2", 3, "?page=3"),
        ("/en/events/?person=anna&page=3", 2, "?person=anna&page=2"),
        ("/en/events/?person=anna&page=2", 1, "?person=anna"),
    ],
)
def test_page_links_keep_the_filters_and_give_the_first_page_its_own_address(
    address: str, number: int, expected: str
) -> None:
    """Shared by the documentation and newspaper lists (public/_pagination.html)."""
    from django.template import Context
    from django.test import RequestFactory

    from solidarity.public.templatetags.public_tags import page_link

    request = RequestFactory().get(address)
    assert page_link(Context({"request": request}), number) == expected
