"""The newspaper's public pages: scheduling, translations, issues, topics and bylines."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from solidarity.core.models import Section
from solidarity.documentation.models import Event, Person
from solidarity.publishing.models import Article, ArticleImage, Byline, Issue, Topic
from solidarity.publishing.services import link_translation


@dataclass
class Newspaper:
    section: Section
    issue: Issue
    hidden_issue: Issue
    prisoners: Topic
    strikes: Topic
    draft_topic: Topic
    byline: Byline
    draft_byline: Byline
    en: Article
    ru: Article
    kk: Article
    scheduled: Article
    draft: Article
    person: Person
    hidden_person: Person
    event: Event
    image: ArticleImage


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 10)).save(out, format="JPEG")
    return out.getvalue()


def build_newspaper(section: Section) -> Newspaper:
    now = timezone.now()
    issue = Issue.objects.create(
        section=section, is_public=True, slug="2012-12", number=12, year=2012
    )
    hidden_issue = Issue.objects.create(
        section=section, is_public=False, slug="2012-13", number=13, year=2012
    )
    prisoners = Topic.objects.create(
        slug="prisoners", name_en="Political prisoners", name_ru="Политзаключённые"
    )
    strikes = Topic.objects.create(slug="strikes", name_en="Strikes")
    draft_topic = Topic.objects.create(slug="draft-topic", name_en="Unannounced topic")
    byline = Byline.objects.create(slug="a-zhaksylyk", name="A. Zhaksylyk")
    draft_byline = Byline.objects.create(slug="unused-pen-name", name="Unused Pen Name")
    person = Person.objects.create(
        section=section,
        is_public=True,
        slug="natalya-sokolova",
        given_name="Natalya",
        family_name="Sokolova",
    )
    hidden_person = Person.objects.create(
        section=section, slug="hidden-person", given_name="Hidden", family_name="Person"
    )
    event = Event.objects.create(
        section=section,
        is_public=True,
        slug="zhanaozen-strike",
        type="strike",
        title_en="Zhanaozen oil workers' strike",
        date="2011-05",
    )

    def article(slug: str, language: str, title: str, days_ago: float, **extra: object) -> Article:
        values: dict[str, object] = {
            "section": section,
            "is_public": True,
            "slug": slug,
            "language": language,
            "title": title,
            "standfirst": f"Standfirst of {title}",
            "body": f"Body of *{title}*.",
            "publish_at": now - dt.timedelta(days=days_ago),
            "byline": byline,
            "issue": issue,
        }
        values.update(extra)
        return Article.objects.create(**values)

    en = article("free-natalya", "en", "Free Natalya Sokolova", 3)
    ru = article("svobodu-natale", "ru", "Свободу Наталье Соколовой", 2)
    kk = article("natalyaga-bostandyq", "kk", "Натальяға бостандық", 1)
    link_translation(ru, en)
    link_translation(kk, en)
    for a in (en, ru, kk):
        a.topics.add(prisoners)
    en.topics.add(strikes)
    en.people.add(person, hidden_person)
    en.events.add(event)
    scheduled = article(
        "scheduled-piece", "en", "Scheduled piece", -2, byline=draft_byline, issue=hidden_issue
    )
    scheduled.topics.add(draft_topic)
    draft = article("draft-piece", "en", "Draft piece", 5, is_public=False, byline=draft_byline)
    draft.topics.add(draft_topic)
    image = ArticleImage(article=en, caption="Picket in Almaty", credit="Staff photographer")
    image.image = ContentFile(jpeg(), name="picket.jpg")
    image.save()
    return Newspaper(
        section, issue, hidden_issue, prisoners, strikes, draft_topic, byline, draft_byline,
        en, ru, kk, scheduled, draft, person, hidden_person, event, image,
    )  # fmt: skip


@pytest.fixture
def paper(section: Section, settings: pytest.FixtureRequest, tmp_path: Path) -> Newspaper:
    settings.MEDIA_ROOT = str(tmp_path / "media")  # type: ignore[attr-defined]
    return build_newspaper(section)


def without_token(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def page(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def test_article_page_shows_the_article(client: Client, paper: Newspaper) -> None:
    """Title, standfirst, byline, issue, rendered body, topics, image with caption and credit."""
    html = page(client, "/en/newspaper/articles/free-natalya/")
    assert "<h1>Free Natalya Sokolova</h1>" in html
    assert "Standfirst of Free Natalya Sokolova" in html
    assert "<em>Free Natalya Sokolova</em>" in html
    assert "A. Zhaksylyk" in html and "No. 12 (2012)" in html
    assert 'href="/en/newspaper/topics/prisoners/"' in html
    assert "Picket in Almaty" in html and "Staff photographer" in html
    assert f'src="/en/newspaper/articles/free-natalya/images/{paper.image.pk}.jpg"' in html


def test_translations_link_to_each_other(client: Client, paper: Newspaper) -> None:
    """Each translation links to the others, each under its own language's address."""
    en = page(client, "/en/newspaper/articles/free-natalya/")
    assert 'href="/ru/newspaper/articles/svobodu-natale/"' in en
    assert 'href="/kk/newspaper/articles/natalyaga-bostandyq/"' in en
    ru = page(client, "/ru/newspaper/articles/svobodu-natale/")
    assert 'href="/en/newspaper/articles/free-natalya/"' in ru
    assert 'href="/kk/newspaper/articles/natalyaga-bostandyq/"' in ru


def test_a_draft_translation_is_not_linked(client: Client, paper: Newspaper) -> None:
    """A translation that is not yet published is not announced by the others."""
    paper.kk.is_public = False
    paper.kk.save()
    en = page(client, "/en/newspaper/articles/free-natalya/")
    assert "natalyaga-bostandyq" not in en
    page(client, "/kk/newspaper/articles/natalyaga-bostandyq/", 404)


def test_linking_a_translation_in_the_same_language_is_refused(paper: Newspaper) -> None:
    """One text has at most one article per language."""
    from django.core.exceptions import ValidationError

    other = Article.objects.create(
        section=paper.section, slug="other", language="ru", title="Другое", body="x"
    )
    with pytest.raises(ValidationError, match="already has a translation"):
        link_translation(other, paper.en)
    with pytest.raises(ValidationError, match="itself"):
        link_translation(paper.en, paper.en)


def test_scheduled_and_draft_articles_are_not_public(client: Client, paper: Newspaper) -> None:
    """Until publish_at has passed, and while not marked public, an article is a plain 404."""
    not_found = without_token(page(client, "/en/newspaper/articles/no-such-article/", 404))
    for slug in ("scheduled-piece", "draft-piece"):
        html = without_token(page(client, f"/en/newspaper/articles/{slug}/", 404))
        assert html.replace(slug, "no-such-article") == not_found
    for url in (
        "/en/newspaper/",
        "/en/newspaper/archive/",
        "/en/newspaper/topics/",
        "/en/newspaper/authors/",
        "/en/newspaper/issues/",
        "/en/newspaper/language/en/",
    ):
        html = page(client, url)
        for hidden in ("Scheduled piece", "Draft piece", "Unused Pen Name", "Unannounced topic"):
            assert hidden not in html, (url, hidden)
        assert "No. 13" not in html
    page(client, "/en/newspaper/authors/unused-pen-name/", 404)
    page(client, "/en/newspaper/topics/draft-topic/", 404)
    page(client, "/en/newspaper/issues/2012-13/", 404)


def test_a_scheduled_article_appears_when_its_time_comes(client: Client, paper: Newspaper) -> None:
    """Publication needs no action at the scheduled time: the article is simply public then."""
    paper.scheduled.publish_at = timezone.now() - dt.timedelta(seconds=1)
    paper.scheduled.save()
    assert "Scheduled piece" in page(client, "/en/newspaper/articles/scheduled-piece/")
    assert "Scheduled piece" in page(client, "/en/newspaper/")


def test_lists_of_issues_topics_authors_languages_and_months(
    client: Client, paper: Newspaper
) -> None:
    """Each list page leads to its articles."""
    issue = page(client, "/en/newspaper/issues/2012-12/")
    assert "No. 12 (2012)" in issue and "Free Natalya Sokolova" in issue
    assert "Свободу Наталье Соколовой" in issue
    topic = page(client, "/en/newspaper/topics/strikes/")
    assert "Free Natalya Sokolova" in topic and "Свободу" not in topic
    assert "Political prisoners (3)" in page(client, "/en/newspaper/topics/").replace(
        "</a> (", " ("
    )
    author = page(client, "/en/newspaper/authors/a-zhaksylyk/")
    assert author.count("/newspaper/articles/") == 3
    ru_edition = page(client, "/en/newspaper/language/ru/")
    assert "Свободу Наталье Соколовой" in ru_edition and "Free Natalya" not in ru_edition
    page(client, "/en/newspaper/language/de/", 404)
    when = paper.en.publish_at
    assert when is not None
    month = page(client, f"/en/newspaper/archive/{when.year}/{when.month:02d}/")
    assert "Free Natalya Sokolova" in month
    page(client, "/en/newspaper/archive/1999/01/", 404)
    page(client, "/en/newspaper/archive/2012/13/", 404)


def test_linked_people_and_events_only_when_public(client: Client, paper: Newspaper) -> None:
    """The article links the public person and event it is about, never a private one."""
    html = page(client, "/en/newspaper/articles/free-natalya/")
    assert 'href="/en/people/natalya-sokolova/"' in html
    assert 'href="/en/events/zhanaozen-strike/"' in html
    assert "hidden-person" not in html and "Hidden Person" not in html


def test_images_are_served_only_for_published_articles(client: Client, paper: Newspaper) -> None:
    """An image is reachable through its published article only, under its own suffix."""
    url = f"/en/newspaper/articles/free-natalya/images/{paper.image.pk}.jpg"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert client.get(url.replace(".jpg", ".png")).status_code == 404
    other = f"/en/newspaper/articles/draft-piece/images/{paper.image.pk}.jpg"
    assert client.get(other).status_code == 404
    paper.en.is_public = False
    paper.en.save()
    assert client.get(url).status_code == 404


def test_empty_newspaper_says_so(client: Client, section: Section) -> None:
    """With nothing published, each list says so and points somewhere useful."""
    assert "No article has been published yet." in page(client, "/en/newspaper/")
    assert "No issue has been published yet." in page(client, "/en/newspaper/issues/")
    assert "No topic has published articles yet." in page(client, "/en/newspaper/topics/")
    assert "No signed article has been published yet." in page(client, "/en/newspaper/authors/")
