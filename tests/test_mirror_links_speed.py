"""The mirror's cheaper link discovery, rewriting and writing (issue 6): each shortcut gives
what the slower way gave, and a page's links lead where they led."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.utils import translation

from solidarity.publishing import mirror as mirror_module
from solidarity.publishing.mirror import _Page

# What the mirror did before: a match of the name, kept if white space precedes it.
_OLD_ATTRIBUTE = re.compile(r"""(href|src|action)=(?:"([^"]*)"|'([^']*)')""")
_OLD_HREFLANG = re.compile(r"<link\b[^>]*\bhreflang=[^>]*>\n?")


def _old_values(text: str) -> list[str]:
    return [
        match[2] if match[2] is not None else match[3]
        for match in _OLD_ATTRIBUTE.finditer(text)
        if match.start() > 0 and text[match.start() - 1].isspace()
    ]


def _new_values(text: str) -> list[str]:
    values = mirror_module._ATTRIBUTE_VALUE.split(text)[1::3]
    return [value[1:-1] for value in values if value is not None]


ATTRIBUTE_TEXTS = [
    '<a href="/en/">a</a> <img src="/static/x.png"> <form action="/en/events/">',
    "<a\nhref='/en/events/'>c</a><img\tsrc=\"/en/x/\">",
    'href="/at/the/start/" <a data-href="/en/people/">a</a>',
    '<button formaction="/i18n/setlang/?next=/ru/">ru</button><a href="">empty</a>',
    # The value of what is no link is skipped whole, as before: no link is found inside it.
    """<a data-href="x src='/en/inside/'">a</a> <a title="see href='/en/title/'">t</a>""",
    "<a\u00a0href=\"/en/nbsp/\">non-breaking space</a><a\u2003src='/en/em/'>",
    '<a href="/en/unclosed/>x</a> <a href="/en/next/">',
    "<p>href= and src= in text, action=\"</p> <a href='/en/after/'>",
    "",
]


@pytest.mark.parametrize("text", ATTRIBUTE_TEXTS)
def test_link_values_are_the_matches_after_white_space(text: str) -> None:
    assert _new_values(text) == _old_values(text)


HREFLANG_TEXTS = [
    "<head>\n<title>x</title>\n</head><body>no hints</body>",
    '<head>\n  <link rel="alternate" hreflang="ru" href="/ru/">\n'
    '  <link rel="alternate" hreflang="kk" href="/kk/">\n<meta x>\n</head>',
    '<link rel="alternate" hreflang="ru" href="/ru/">',
    '<link rel="a" title="a>b" hreflang="ru" href="/ru/">\n<p>x</p>',
    '<a hreflang="ru" href="/ru/">not a link tag</a> <link hreflang="kk" href="/kk/">',
    '<link rel="alternate" hreflang="ru" href="/ru/" <p>unclosed',
    '<link rel="alternate" hreflang="en" href="/en/">X<link hreflang="ru">\n\n<p>hreflang=</p>',
]


@pytest.mark.parametrize("text", HREFLANG_TEXTS)
def test_hreflang_hints_are_stripped_as_by_one_pass_over_the_page(text: str) -> None:
    expected = _OLD_HREFLANG.sub("", text)
    assert mirror_module._strip_hreflang(text) == expected


def _old_resolved(host: str, page_url: str, href: str) -> tuple[str, str] | None:
    base = "/" if href.startswith("/") and not href.startswith("//") else page_url
    parts = urlsplit(urljoin(f"http://{host}{base}", html.unescape(href.strip())))
    if parts.scheme not in {"http", "https"} or parts.netloc != host:
        return None
    return (parts.path + (f"?{parts.query}" if parts.query else ""), parts.fragment)


HREFS = [
    "/",
    "/en/",
    "/en/people/someone/",
    "/en/people/someone",
    "/en//x/",
    "/en/./x/",
    "/en/../x/",
    "/en/x/.",
    "/en/x/..",
    "/en/x?y=1",
    "/en/x/#part",
    "/en/%D0%B0/",
    "/en/a&amp;b/",
    " /en/",
    "/en/x;p",
    "/en/\tx/",
    "/en/x~y_z-1/",
    "/static/public/site.css",
    "http://{host}",
    "http://{host}/",
    "http://{host}/en/events/",
    "https://{host}/en/events/?page=2",
    "http://{host}//x/",
    "http://{host}x/en/",
    "http://elsewhere.example/en/",
    "HTTP://{host}/en/",
    "//{host}/en/",
    "?page=2",
    "index.html",
    "#top",
    "",
    "mailto:someone@example.org",
    "/én/",
]


@pytest.mark.parametrize("template", HREFS)
def test_links_are_resolved_as_urljoin_resolves_them(tmp_path: Path, template: str) -> None:
    """Plain root-relative and own absolute addresses skip urljoin: with the same result."""
    builder = mirror_module.Mirror(tmp_path)
    href = template.format(host=builder.host)
    for page in ("/en/people/", "/ru/events/?year=2011"):
        assert builder._resolve_href(page, href) == _old_resolved(builder.host, page, href)


ACTIONS = [
    "/i18n/setlang/?next=/ru/people/x/",
    "/i18n/setlang/?next=/kk/",
    "/i18n/setlang/?next=/en/x/&amp;y=1",
    "/i18n/setlang/?next=",
    "/i18n/setlang/?next=/a+b/",
    "/i18n/setlang/?next=/a%20b/",
    "/i18n/setlang/?next=/x/#f",
    " /i18n/setlang/?next=/x/",
    "/?next=/a/",
    "?next=/a/",
    "/i18n/setlang/?next=/ru/люди/",
    "/i18n/setlang/?other=/x/",
    "/a//b/?next=/x/",
]


@pytest.mark.parametrize("action", ACTIONS)
def test_a_switch_s_query_is_read_as_parse_qsl_reads_it(action: str) -> None:
    assert mirror_module._query(action) == parse_qsl(urlsplit(html.unescape(action)).query)


def _pages(*urls: str) -> dict[str, _Page]:
    return {url: _Page(url, "", "page") for url in urls}


NAVIGATION = (
    '<a href="/en/">home</a> <a href="/en/people/">people</a> '
    '<a href="/en/people/a/sub/">a\'s part</a> <a href="/en/people/b/">b</a> '
    '<a href="http://{host}/en/people/a/">a, absolute</a> <a href="/en/gone/">gone</a> '
    '<link href="/static/public/site.css">'
)
EXPECTED = {
    "/en/people/a/": (
        '<a href="../../index.html">home</a> <a href="../index.html">people</a> '
        '<a href="sub/index.html">a\'s part</a> <a href="../b/index.html">b</a> '
        '<a href="index.html">a, absolute</a> <a href="../../offline.html">gone</a> '
        '<link href="../../../static/public/site.css">'
    ),
    "/en/people/b/": (
        '<a href="../../index.html">home</a> <a href="../index.html">people</a> '
        '<a href="../a/sub/index.html">a\'s part</a> <a href="index.html">b</a> '
        '<a href="../a/index.html">a, absolute</a> <a href="../../offline.html">gone</a> '
        '<link href="../../../static/public/site.css">'
    ),
}


@pytest.mark.parametrize(
    "order", [["/en/people/a/", "/en/people/b/"], ["/en/people/b/", "/en/people/a/"]]
)
def test_pages_beside_each_other_share_links_but_their_own(
    tmp_path: Path, order: list[str]
) -> None:
    """A link made for one page of a directory is reused by the pages beside it, except one
    that leads into a page's own directory, whichever page came first."""
    builder = mirror_module.Mirror(tmp_path)
    pages = _pages("/en/", "/en/people/", "/en/people/a/", "/en/people/b/", "/en/people/a/sub/")
    text = NAVIGATION.format(host=builder.host)
    with translation.override("en"):
        for _round in range(2):
            for url in order:
                statics: set[str] = set()
                own = mirror_module.file_for(url)
                made = builder._rewrite_links(url, own, text, "text/html", pages, statics)
                assert made == EXPECTED[url]
                assert statics == {"public/site.css"}


def test_directories_are_made_once_and_again_if_removed(tmp_path: Path) -> None:
    builder = mirror_module.Mirror(tmp_path)
    names = ["en/people/a/index.html", "en/people/b/index.html", "ru/x/y/z/index.html"]
    for name in names:
        builder._write(name, b"<p>x</p>", {})
    assert all((tmp_path / name).read_bytes() == b"<p>x</p>" for name in names)
    (tmp_path / "en/people/b/index.html").unlink()
    (tmp_path / "en/people/b").rmdir()
    (tmp_path / "en/people/a/index.html").unlink()
    (tmp_path / "en/people/a").rmdir()
    (tmp_path / "en/people").rmdir()
    # Its parent was made by this process but is gone: made again, with the parent.
    builder._directories.discard(f"{tmp_path}/en/people/c")
    builder._write("en/people/c/index.html", b"<p>c</p>", {})
    assert (tmp_path / "en/people/c/index.html").read_bytes() == b"<p>c</p>"
    assert not list(tmp_path.rglob(".tmp-*"))
