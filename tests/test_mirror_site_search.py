"""The header's search by name, on every page, leads to the mirror's offline search.

The site's name search (/en/search/?q=…) cannot work in a static copy. Before, its form became
an empty "Filters" box on every page of the mirror; now it is the same form sent to search.html,
which reads the words from its own address (?q=…), from file:// too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from solidarity.core.models import Section

from .test_publishing_browser import offline_page
from .test_publishing_mirror import mirror, paper, public_petition  # noqa: F401
from .test_publishing_pages import Newspaper

FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.DOTALL)
SITE_SEARCH = re.compile(r'<form class="site-search" action="([^"]+)" method="get" role="search">')
EMPTY_FILTERS = re.compile(r'<nav class="filters mirror-filters"[^>]*>\s*</nav>')
LABELS = {"en": "Search names", "ru": "Поиск по именам", "kk": "Есім бойынша іздеу"}


def test_every_page_searches_the_copy_and_no_filters_box_is_empty(
    paper: Newspaper,  # noqa: F811
    section: Section,
    tmp_path: Path,
) -> None:
    public_petition(section, "search")
    dest = tmp_path / "mirror"
    mirror(dest, "-q")
    # Every page but the redirects (the root index.html, old addresses).
    pages = [p for p in dest.rglob("*.html") if 'http-equiv="refresh"' not in p.read_text()]
    assert len(pages) > 50
    notes = 0
    for page in pages:
        text = page.read_text()
        assert not EMPTY_FILTERS.search(text), page
        forms = FORM.findall(text)
        # The header's search is the only form left; its action leads to the search page of
        # the page's language (the default language's outside a language's directory).
        assert len(forms) == 1, (page, forms)
        found = SITE_SEARCH.match(forms[0])
        assert found is not None, (page, forms[0])
        code = page.relative_to(dest).parts[0]
        search = (dest / (code if code in LABELS else "en") / "search.html").resolve()
        assert (page.parent / found[1]).resolve() == search, (page, found[1])
        assert 'name="q"' in forms[0]
        if code in LABELS:
            assert f">{LABELS[code]}</label>" in forms[0], page
        # A petition's form (it posts) becomes a note; the language switch, links.
        notes += 'class="mirror-form"' in text
        assert 'formaction="' not in text, page
    assert notes, "the petition's form did not become a note"
    campaign = (dest / "en/campaigns/search-campaign/index.html").read_text()
    assert '<nav class="language-switch">' in campaign


@pytest.mark.browser
def test_the_header_search_works_offline(paper: Newspaper, tmp_path: Path) -> None:  # noqa: F811
    """From a person's page on disk (file://), offline: words typed in the header's search
    reach search.html, which shows what it found."""
    dest = tmp_path / "usb stick" / "mirror"
    mirror(dest, "-q")
    with offline_page(dest / "en/people/natalya-sokolova/index.html") as page:
        page.get_by_label("Search names").fill("natalya free")
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_url("**/search.html?q=natalya+free")
        assert page.locator("#search-input").input_value() == "natalya free"
        result = page.locator("#search-results a").first
        assert result.inner_text() == "Free Natalya Sokolova"
        result.click()
        page.wait_for_url("**/en/newspaper/articles/free-natalya/index.html")
