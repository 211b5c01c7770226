"""An article's JSON-LD in Chromium, under the site's strict CSP: readable, and no violation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, sync_playwright
from pytest_django.live_server_helper import LiveServer

from solidarity.core.models import Section

from .test_publishing_pages import build_newspaper

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
READ_JSON_LD = """() => Array.from(
    document.querySelectorAll('script[type="application/ld+json"]'),
    (s) => JSON.parse(s.textContent),
)"""
# An inline script without the page's nonce: the CSP must refuse it, and the console must say
# so, which proves the listener below would have seen a violation by the JSON-LD block too.
INJECT_INLINE_SCRIPT = """() => {
    const s = document.createElement('script');
    s.textContent = 'window.injected = true';
    document.head.appendChild(s);
}"""


@pytest.mark.browser
def test_an_article_s_json_ld_reads_in_chromium_with_no_csp_violation(
    live_server: LiveServer,
    transactional_db: None,
    monkeypatch: pytest.MonkeyPatch,
    settings: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    """The NewsArticle parses in the browser, and the page reports no CSP violation for it."""
    # Playwright's sync API runs an event loop in this thread; the ORM is only used before it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.MEDIA_ROOT = str(tmp_path / "media")  # type: ignore[attr-defined]
    section = Section.objects.create(slug="home", name_en="Home organisation", kind="home")
    paper = build_newspaper(section)
    paper.en.title = "Free Natalya </script><script>window.pwned = true</script>"
    paper.en.save()

    console: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_context().new_page()

            def record(message: ConsoleMessage) -> None:
                console.append(message.text)

            page.on("console", record)
            response = page.goto(f"{live_server.url}/en/newspaper/articles/free-natalya/")
            assert response is not None and response.ok
            assert "script-src" in response.headers["content-security-policy"]
            blocks = page.evaluate(READ_JSON_LD)
            assert page.evaluate("() => window.pwned === undefined")
            violations_of_the_page = [m for m in console if "Content Security Policy" in m]

            page.evaluate(INJECT_INLINE_SCRIPT)
            page.wait_for_timeout(200)
            assert page.evaluate("() => window.injected === undefined")
        finally:
            browser.close()

    assert violations_of_the_page == [], violations_of_the_page
    assert any("Content Security Policy" in m for m in console), console
    [article] = blocks
    assert article["@type"] == "NewsArticle"
    assert article["headline"] == paper.en.title
    assert article["url"] == f"{live_server.url}/en/newspaper/articles/free-natalya/"
    assert article["image"][0]["caption"] == "Picket in Almaty"
    assert json.dumps(article["about"], ensure_ascii=False).count("Natalya Sokolova") == 1
