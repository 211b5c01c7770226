"""An article's HTML is made once, when it is saved, and served only while its stamp is current:
made by today's renderer, from this body, under this server's key. Anything else is converted
afresh, so a tightened allow-list takes effect at once and a stale or forged copy never shows."""

from __future__ import annotations

import importlib
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from solidarity.publishing import public_data, services
from solidarity.publishing.models import Article
from solidarity.publishing.services import render_markdown, renderer_version

from .test_publishing_admin import staff_client
from .test_publishing_mirror import mirror, paper
from .test_publishing_pages import Newspaper

__all__ = ["paper", "staff_client"]  # fixtures, used by name

HOSTILE = (
    "Intro with **bold**\n\n<script>alert('x')</script>\n\n"
    '<a href="javascript:steal()" onclick="steal()">click</a> <img src="https://tracker.example/p.gif">'
)


def _stored(article: Article) -> tuple[str, str]:
    article.refresh_from_db()
    return article.body_html, article.body_html_stamp


def _feed() -> str:
    return reverse("publishing:language_feed", args=["en"])


def _no_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> str:
        raise AssertionError("converted Markdown although the stored HTML is current")

    monkeypatch.setattr(services, "render_markdown", refuse)


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    converted: list[str] = []

    def counting(text: str) -> str:
        converted.append(text)
        return render_markdown(text)

    monkeypatch.setattr(services, "render_markdown", counting)
    return converted


def test_saving_stores_the_sanitised_html(paper: Newspaper) -> None:
    paper.en.body = HOSTILE
    paper.en.save()
    html, stamp = _stored(paper.en)
    assert html == render_markdown(HOSTILE)
    assert "<strong>bold</strong>" in html
    lowered = html.lower()
    for forbidden in ("<script", "alert(", "javascript:", "onclick", "tracker.example"):
        assert forbidden not in lowered
    assert stamp.startswith(renderer_version() + ".")


def test_an_article_written_in_the_back_office_has_its_html(
    staff_client: Client, paper: Newspaper
) -> None:
    data = {
        "title": "Written in the back office",
        "slug": "back-office",
        "language": "en",
        "standfirst": "",
        "body": "Written *here* <script>alert(1)</script>",
        "section": paper.section.pk,
        "publish_at_0": "2012-06-01",
        "publish_at_1": "10:00:00",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "campaign_links-TOTAL_FORMS": "0",
        "campaign_links-INITIAL_FORMS": "0",
    }
    response = staff_client.post(reverse("admin:publishing_article_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    article = Article.objects.get(slug="back-office")
    assert article.body_html == "<p>Written <em>here</em> </p>"
    assert article.body_html_stamp.startswith(renderer_version() + ".")


def test_editing_the_body_updates_the_html(paper: Newspaper) -> None:
    paper.en.body = "First *version*."
    paper.en.save()
    paper.en.body = "Second *version*."
    paper.en.save(update_fields=["body"])  # the HTML is saved with it
    html, _stamp = _stored(paper.en)
    assert html == "<p>Second <em>version</em>.</p>"


def test_saving_other_fields_converts_nothing(
    paper: Newspaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    converted = _counting(monkeypatch)
    paper.en.title = "A new title"
    paper.en.save()
    assert converted == []


def test_pages_and_feeds_serve_the_stored_html(
    client: Client, paper: Newspaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = public_data.article_url(paper.en.slug, "en")
    fresh = {u: client.get(u).content for u in (url, _feed())}
    assert b"Body of <em>Free Natalya Sokolova</em>." in fresh[url]
    _no_rendering(monkeypatch)
    # The same bytes as before, without converting anything.
    assert {u: client.get(u).content for u in (url, _feed())} == fresh


def test_a_new_renderer_makes_readers_convert_afresh_without_writing(
    client: Client, paper: Newspaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tightened allow-list (or any renderer change) takes effect at once, with no migration."""
    url = public_data.article_url(paper.en.slug, "en")
    before = client.get(url).content
    stored = _stored(paper.en)
    monkeypatch.setattr(services, "renderer_version", lambda: "tightened-policy")
    converted = _counting(monkeypatch)
    assert client.get(url).content == before
    assert client.get(_feed()).status_code == 200
    assert paper.en.body in converted
    assert _stored(paper.en) == stored  # a public read never writes


def test_a_body_changed_behind_save_is_never_shown_stale(client: Client, paper: Newspaper) -> None:
    """`QuerySet.update` skips `save()`: the stamp no longer matches the body, so the page
    converts the new body (e.g. a name removed to protect someone is gone at once)."""
    Article.objects.filter(pk=paper.en.pk).update(body="Names *removed*.")
    page = client.get(public_data.article_url(paper.en.slug, "en")).content.decode()
    assert "Names <em>removed</em>." in page
    assert "Body of" not in page


def test_html_written_into_the_database_is_not_served(client: Client, paper: Newspaper) -> None:
    """A database write alone cannot forge the stamp (it is keyed with the server's secret)."""
    _html, stamp = _stored(paper.en)
    Article.objects.filter(pk=paper.en.pk).update(body_html="<script>alert('owned')</script>")
    assert Article.objects.get(pk=paper.en.pk).body_html_stamp == stamp
    for url in (public_data.article_url(paper.en.slug, "en"), _feed()):
        content = client.get(url).content.decode()
        assert "owned" not in content
        assert "Body of" in content  # converted from the body instead


def test_the_command_rerenders_stale_html(
    paper: Newspaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = Article.objects.count()
    updated_at = Article.objects.get(pk=paper.en.pk).updated_at
    monkeypatch.setattr(services, "renderer_version", lambda: "upgraded")
    out = io.StringIO()
    call_command("rerender_articles", "--dry-run", stdout=out, stderr=io.StringIO())
    assert f"{count} of {count} articles would be re-rendered" in out.getvalue()
    assert not _stored(paper.en)[1].startswith("upgraded.")  # a dry run changes nothing

    err = io.StringIO()
    call_command("rerender_articles", stdout=out, stderr=err)
    assert f"Re-rendered {count} of {count} articles" in out.getvalue()
    assert f"{count}/{count} articles checked, {count} stale" in err.getvalue()
    html, stamp = _stored(paper.en)
    assert stamp.startswith("upgraded.")
    assert html == render_markdown(paper.en.body)
    assert Article.objects.get(pk=paper.en.pk).updated_at == updated_at  # nobody edited it

    out = io.StringIO()
    call_command("rerender_articles", "--quiet", stdout=out)
    assert f"Re-rendered 0 of {count} articles" in out.getvalue()


def test_the_mirror_uses_the_stored_html(
    paper: Newspaper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror(tmp_path / "fresh", "--quiet", "--workers", "1")
    _no_rendering(monkeypatch)
    mirror(tmp_path / "stored", "--quiet", "--workers", "1")
    page = "en/newspaper/articles/free-natalya/index.html"
    # The page shows the body, as before (the two builds differ in nothing but the converting).
    fresh = (tmp_path / "fresh" / page).read_text()
    assert "Body of <em>Free Natalya Sokolova</em>." in fresh
    assert (tmp_path / "stored" / page).read_text() == fresh


def test_the_migration_fills_existing_rows(paper: Newspaper) -> None:
    """The data migration's function, with the migration's own historical model."""
    Article.objects.update(body_html="", body_html_stamp="")
    state = MigrationExecutor(connection).loader.project_state(
        ("publishing", "0003_article_body_html")
    )
    migration = importlib.import_module("solidarity.publishing.migrations.0003_article_body_html")
    migration.fill_body_html(state.apps, None)
    for article in Article.objects.all():
        assert article.body_html == render_markdown(article.body)
        assert article.body_html_stamp.startswith(renderer_version() + ".")
    assert services.refresh_stored_html(batch_size=2) == 0  # all current, in small batches
