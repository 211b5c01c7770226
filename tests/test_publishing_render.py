"""Article bodies are Markdown, sanitised on render; uploaded images lose their metadata."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from solidarity.core.models import Section
from solidarity.publishing.models import Article, ArticleImage
from solidarity.publishing.services import render_markdown, strip_image_metadata

HOSTILE = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="&#106;avascript:alert(1)">encoded</a>',
    '<iframe src="https://evil.example/"></iframe>',
    '<svg onload="alert(1)"><circle/></svg>',
    '<p style="background:url(javascript:alert(1))" onclick="alert(1)">styled</p>',
    '<form action="https://evil.example/"><input name="password"></form>',
    "<object data=x></object><embed src=x>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "![tracker](https://evil.example/pixel.gif)",
    "<style>body{display:none}</style>",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_markup_is_neutralised(hostile: str) -> None:
    """No script, handler, frame, form, style, remote resource or javascript: link survives."""
    html = render_markdown(f"Before\n\n{hostile}\n\nAfter").lower()
    for forbidden in (
        "<script",
        "onerror",
        "onload",
        "onclick",
        "javascript:",
        "<iframe",
        "<svg",
        "<form",
        "<input",
        "<object",
        "<embed",
        "style=",
        "<style",
        "data:",
        "<meta",
        "<base",
        "<link",
        "evil.example/pixel",
        "xlink",
    ):
        assert forbidden not in html, (hostile, html)
    assert "before" in html and "after" in html


def test_ordinary_markdown_renders() -> None:
    """Headings, emphasis, lists, quotes, tables and ordinary links come through."""
    html = render_markdown(
        "## Free them\n\nWe demand **release** and *justice*.\n\n"
        "- one\n- two\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "[CWI](https://www.socialistworld.net/) and [timeline](/en/events/)"
    )
    assert "<h2>Free them</h2>" in html
    assert "<strong>release</strong>" in html and "<em>justice</em>" in html
    assert "<li>one</li>" in html and "<blockquote>" in html and "<table>" in html
    assert 'href="https://www.socialistworld.net/"' in html
    assert 'href="/en/events/"' in html
    assert 'rel="noopener noreferrer"' in html


def _photo_with_metadata(image_format: str = "JPEG") -> bytes:
    image = Image.new("RGB", (40, 20), (200, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"  # Make
    exif[0x0110] = "SecretModel"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90° to view
    exif[0x8825] = {1: "N", 2: (43.0, 15.0, 0.0), 3: "E", 4: (76.0, 55.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format=image_format, exif=exif.tobytes())
    return out.getvalue()


def test_image_metadata_is_stripped_and_orientation_kept() -> None:
    """EXIF (camera, GPS) is gone after re-encoding; the photo is turned upright first."""
    raw = _photo_with_metadata()
    assert b"SecretPhoneMaker" in raw
    clean = strip_image_metadata(ContentFile(raw, name="IMG_0001.jpg"))
    data = clean.read()
    assert b"SecretPhoneMaker" not in data and b"SecretModel" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()
        assert image.info.get("exif") is None
        assert image.size == (20, 40)


def test_png_metadata_is_stripped() -> None:
    """PNG text chunks do not survive either."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Location", "SecretSafeHouse")
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="PNG", pnginfo=info)
    assert b"SecretSafeHouse" in out.getvalue()
    clean = strip_image_metadata(ContentFile(out.getvalue(), name="x.png"))
    assert b"SecretSafeHouse" not in clean.read()


def test_non_images_are_refused() -> None:
    """A file that is not a JPEG, PNG or WebP image is refused with a clear message."""
    with pytest.raises(ValidationError, match="not an image"):
        strip_image_metadata(ContentFile(b"%PDF-1.4 hello", name="x.jpg"))
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="GIF")
    with pytest.raises(ValidationError, match="JPEG, PNG or WebP"):
        strip_image_metadata(ContentFile(out.getvalue(), name="x.gif"))


def test_saving_an_article_image_stores_it_without_metadata(
    section: Section, settings: pytest.FixtureRequest, tmp_path: object
) -> None:
    """Whatever path an upload takes, the stored file has no EXIF and a random name."""
    settings.MEDIA_ROOT = str(tmp_path)  # type: ignore[attr-defined]
    article = Article.objects.create(section=section, slug="a", language="en", title="A", body="b")
    image = ArticleImage(article=article, caption="Protest", credit="Staff")
    image.image = ContentFile(_photo_with_metadata(), name="near-the-safe-house.jpg")
    image.save()
    assert image.image.name is not None
    assert "safe-house" not in image.image.name
    with default_storage.open(image.image.name) as stored:
        assert b"SecretPhoneMaker" not in stored.read()
