"""The newspaper's back office: writing, previewing, linking translations, uploading images."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from solidarity.core.models import Section
from solidarity.publishing.models import Article
from solidarity.safety.models import Role

from .test_publishing_pages import Newspaper, build_newspaper, jpeg


@pytest.fixture
def staff_client(staff_client: Client, section: Section) -> Client:
    """The back office's superuser, an editor of the newspaper's section: being a superuser
    alone grants no section's articles (solidarity.safety.policy)."""
    Role.objects.create(user=User.objects.get(username="staff"), section=section, role="editor")
    return staff_client


@pytest.fixture
def paper(section: Section, settings: pytest.FixtureRequest, tmp_path: Path) -> Newspaper:
    settings.MEDIA_ROOT = str(tmp_path / "media")  # type: ignore[attr-defined]
    return build_newspaper(section)


def test_the_change_page_previews_the_sanitised_body(
    staff_client: Client, paper: Newspaper
) -> None:
    """Editors see the body as readers will: rendered, with scripts removed."""
    paper.en.body = "**Bold** <script>alert(1)</script>"
    paper.en.save()
    url = reverse("admin:publishing_article_change", args=[paper.en.pk])
    html = staff_client.get(url).content.decode()
    assert "<strong>Bold</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "published" in html


def test_an_article_is_written_as_a_translation_with_an_image(
    staff_client: Client, paper: Newspaper
) -> None:
    """“Translation of” joins the group; the campaign is linked; the upload gets a new name."""
    from django.apps import apps
    from django.core.files.uploadedfile import SimpleUploadedFile

    campaign = apps.get_model("campaigns", "Campaign")._default_manager.create(
        section=paper.section, is_public=True, slug="free-them", title_en="Free them"
    )
    data = {
        "title": "Soqolova erkindikke",
        "slug": "second-kk",
        "language": "kk",
        "standfirst": "",
        "body": "Mätin",
        "section": paper.section.pk,
        "is_public": "on",
        "publish_at_0": "2012-06-01",
        "publish_at_1": "10:00:00",
        "translation_of": paper.scheduled.pk,
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-0-caption": "Picket",
        "images-0-credit": "Staff",
        "images-0-alt_text": "People with placards",
        "images-0-position": "0",
        "images-0-image": SimpleUploadedFile("gps.jpg", jpeg(), content_type="image/jpeg"),
        "campaign_links-TOTAL_FORMS": "1",
        "campaign_links-INITIAL_FORMS": "0",
        "campaign_links-0-linked_campaign": campaign.pk,
    }
    response = staff_client.post(reverse("admin:publishing_article_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    article = Article.objects.get(slug="second-kk")
    assert article.translation_group == paper.scheduled.translation_group
    assert article.campaign_links.get().campaign == campaign
    image = article.images.get()
    assert image.image.name is not None and "gps" not in image.image.name


def test_a_translation_in_the_same_language_is_refused(
    staff_client: Client, paper: Newspaper
) -> None:
    """The form says why instead of saving a second English text in one group."""
    url = reverse("admin:publishing_article_change", args=[paper.scheduled.pk])
    response = staff_client.post(
        url,
        {
            "title": "Scheduled piece",
            "slug": "scheduled-piece",
            "language": "en",
            "body": "x",
            "section": paper.section.pk,
            "translation_of": paper.en.pk,
            "images-TOTAL_FORMS": "0",
            "images-INITIAL_FORMS": "0",
            "campaign_links-TOTAL_FORMS": "0",
            "campaign_links-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "A translation must be in another language." in response.content.decode()
