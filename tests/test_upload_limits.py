"""Files are refused over their size limit before they are parsed (ASVS 5.2.1): newspaper
images (`SOLIDARITY_IMAGE_MAX_BYTES`, and at most 40 megapixels) in the back office and in the
model, and CSV files (`importers.MAX_FILE_BYTES`) in the back office and `solidarity import`.

Django receives an upload whole before any form sees it, so these limits spare the decoding
and checking, not the receiving."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from PIL import Image
from pytest_django import Settings

from solidarity.api.importers import MAX_FILE_BYTES
from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.publishing.models import Article, ArticleImage
from solidarity.safety.models import Role

from .test_publishing_pages import jpeg

MB = 1024 * 1024
# A good CSV row: imported if nothing stopped the file. Blank lines, which the reader skips,
# make it as large as a test needs.
GOOD_CSV = "slug,given_name,family_name,name_ru,section,is_public\n" + (
    "ainur-kurmanov,Ainur,Kurmanov,Айнур Курманов,home,true\n"
)


@pytest.fixture
def editor(staff_client: Client, section: Section) -> Client:
    """The back office's superuser as editor and coordinator of the section."""
    user = User.objects.get(username="staff")
    Role.objects.create(user=user, section=section, role="coordinator")
    return staff_client


@pytest.fixture
def media(settings: Settings, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    return root


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def padded_jpeg(size: int) -> bytes:
    """A real JPEG of exactly `size` bytes: bytes after its end marker are ignored by Pillow."""
    picture = jpeg()
    return picture + b"\0" * (size - len(picture))


def add_article_with_image(client: Client, section: Section, name: str, data: bytes) -> str:
    response = client.post(
        reverse("admin:publishing_article_add"),
        {
            "title": "Picket at the embassy",
            "slug": "picket",
            "language": "en",
            "standfirst": "",
            "body": "Text",
            "section": section.pk,
            "images-TOTAL_FORMS": "1",
            "images-INITIAL_FORMS": "0",
            "images-0-caption": "Picket",
            "images-0-credit": "",
            "images-0-alt_text": "People with placards",
            "images-0-position": "0",
            "images-0-image": SimpleUploadedFile(name, data, content_type="image/jpeg"),
            "campaign_links-TOTAL_FORMS": "0",
            "campaign_links-INITIAL_FORMS": "0",
        },
    )
    if response.status_code == 302:
        return ""
    assert response.status_code == 200  # the form again, with the reason
    return response.content.decode()


def assert_nothing_saved(media: Path) -> None:
    assert not Article.objects.exists()
    assert not ArticleImage.objects.exists()
    assert files_under(media) == [], "a refused upload left bytes on the disk"


# -- Newspaper images ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [padded_jpeg(MB + 1), b"\xff\xd8\xff" + b"\1" * MB],
    ids=["readable-jpeg", "unreadable-bytes"],
)
def test_an_article_image_over_the_limit_is_refused_before_it_is_decoded(
    editor: Client, section: Section, media: Path, settings: Settings, data: bytes
) -> None:
    """The reason names the limit; nothing is saved. Bytes Pillow cannot read get the size
    reason too, not "not a valid image": the size is checked before the image is opened."""
    settings.SOLIDARITY_IMAGE_MAX_BYTES = MB
    page = add_article_with_image(editor, section, "big.jpg", data)
    assert "This image is larger than 1 MB." in page
    assert "Upload a valid image" not in page
    assert_nothing_saved(media)


def test_an_article_image_at_the_limit_is_stored(
    editor: Client, section: Section, media: Path, settings: Settings
) -> None:
    settings.SOLIDARITY_IMAGE_MAX_BYTES = MB
    assert add_article_with_image(editor, section, "photo.jpg", padded_jpeg(MB)) == ""
    image = Article.objects.get(slug="picket").images.get()
    assert image.image.size < MB  # re-encoded from its pixels: the padding is gone


def test_an_article_image_over_40_megapixels_is_refused_in_the_form(
    editor: Client, section: Section, media: Path
) -> None:
    """A small file can declare a huge picture: its header is enough to refuse it, with the
    reason next to the field rather than a server error when the model cleans it on save."""
    out = io.BytesIO()
    Image.new("1", (8000, 5001)).save(out, format="PNG")
    assert len(out.getvalue()) < MB
    page = add_article_with_image(editor, section, "huge.png", out.getvalue())
    assert "This image is too large (over 40 megapixels)." in page
    assert_nothing_saved(media)


def test_an_article_image_in_another_format_is_refused_in_the_form(
    editor: Client, section: Section, media: Path
) -> None:
    """A GIF is an image Django accepts but we do not re-encode: refused with the reason,
    not a server error when the model cleans it on save."""
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="GIF")
    page = add_article_with_image(editor, section, "photo.gif", out.getvalue())
    assert "Upload a JPEG, PNG or WebP image (this one is GIF)." in page
    assert_nothing_saved(media)


def test_the_model_refuses_an_image_over_the_limit(
    section: Section, media: Path, settings: Settings
) -> None:
    """Other ways in than the back office (commands, scripts) meet the same limit on save."""
    settings.SOLIDARITY_IMAGE_MAX_BYTES = MB
    article = Article.objects.create(section=section, slug="x", language="en", title="X", body="")
    with pytest.raises(ValidationError) as refused:
        ArticleImage.objects.create(
            article=article, image=ContentFile(padded_jpeg(MB + 1), name="big.jpg")
        )
    assert "This image is larger than 1 MB." in refused.value.messages
    assert not ArticleImage.objects.exists()
    assert files_under(media) == []


# -- CSV imports ----------------------------------------------------------------------------------


def oversized_csv() -> str:
    text = GOOD_CSV + "\n" * (MAX_FILE_BYTES + 1 - len(GOOD_CSV.encode()))
    assert len(text.encode()) == MAX_FILE_BYTES + 1
    return text


def test_a_csv_file_over_the_limit_is_refused_in_the_back_office(
    editor: Client, section: Section
) -> None:
    response = editor.post(
        "/admin/import/",
        {
            "kind": "people",
            "file": SimpleUploadedFile("people.csv", oversized_csv().encode(), "text/csv"),
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The file is larger than 10 MB; split it." in page
    assert 'name="confirm"' not in page
    assert not Person.objects.exists()


def test_a_csv_file_over_the_limit_is_refused_by_the_command(
    section: Section, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(oversized_csv(), encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("import", "people", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert str(refused.value) == (
        f"{path} is larger than 10 MB, the most one import takes; split it."
    )
    assert not Person.objects.exists()


def test_a_csv_file_at_the_limit_is_imported_by_the_command(
    section: Section, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(GOOD_CSV + "\n" * (MAX_FILE_BYTES - len(GOOD_CSV.encode())), "utf-8")
    assert path.stat().st_size == MAX_FILE_BYTES
    call_command("import", "people", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert Person.objects.get().slug == "ainur-kurmanov"
