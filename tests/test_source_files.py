"""Files attached to sources: stored and served without metadata, only in the back office.

Fixtures are made here, by Pillow and pypdf: a phone photo with EXIF GPS, artist, device serial,
XMP and a comment, and a PDF with an author, XMP (document and page), an attached file, scripts
and an annotation, each carrying a canary. No canary may be in the bytes stored on disk or in
the bytes the back office serves, in any encoding PDF strings or EXIF use.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.http import FileResponse
from django.test import Client
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)
from pytest_django import Settings

from solidarity.audit.models import AuditEntry
from solidarity.core.models import Section
from solidarity.documentation.models import Source, SourceFile
from solidarity.safety.models import Role
from solidarity.safety.sanitise import clean_document, strip_jpeg_segments

from .conftest import verified_login
from .test_admin import read_form

PHOTO_CANARIES = ["CanaryArtist1", "CanaryGpsDatum2", "CanarySerial3", "CanaryXmp4"]
PHOTO_CANARIES += ["CanaryComment5", "CanaryMake6"]
PDF_CANARIES = ["CanaryAuthor7", "CanaryCreator8", "CanaryProducer9", "CanaryTitle10"]
PDF_CANARIES += ["CanaryDocXmp11", "CanaryAttachedName12", "CanaryAttachedBody13"]
PDF_CANARIES += ["CanaryOpenScript14", "CanaryPageXmp15", "CanaryAnnotAuthor16"]
PDF_CANARIES += ["CanaryPageScript17", "CanaryKeywords18"]
CAPTION = "CanaryCaption19"


# -- Fixtures made here --------------------------------------------------------------------------


def phone_photo() -> bytes:
    """40 by 20 pixels, red on the left and blue on the right, taken "rotated": EXIF orientation 6
    says to turn it a quarter clockwise, so upright it is 20 by 40 with red on top."""
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    image.paste((0, 0, 255), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation
    exif[0x013B] = "CanaryArtist1"  # artist
    exif[0x010F] = "CanaryMake6"  # camera make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (43.0, 15.0, 30.0)  # latitude
    gps[3], gps[4] = "E", (51.0, 9.0, 0.0)  # longitude
    gps[18] = "CanaryGpsDatum2"
    exif.get_ifd(0x8769)[0xA431] = "CanarySerial3"  # body serial number
    out = io.BytesIO()
    image.save(
        out,
        "JPEG",
        exif=exif.tobytes(),
        comment=b"CanaryComment5",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">CanaryXmp4</x:xmpmeta>',
    )
    data = out.getvalue()
    assert all(c.encode() in data for c in PHOTO_CANARIES), "the fixture lost a canary"
    return data


def _name(value: str) -> NameObject:
    return NameObject(value)


def _stream(writer: PdfWriter, data: bytes, **entries: PdfObject) -> IndirectObject:
    stream = StreamObject()
    stream.update({_name(f"/{k}"): v for k, v in entries.items()})
    stream._data = data
    return writer._add_object(stream)


def _xmp(writer: PdfWriter, canary: str) -> IndirectObject:
    packet = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{canary}</dc:creator></x:xmpmeta>'
    return _stream(writer, packet.encode(), Type=_name("/Metadata"), Subtype=_name("/XML"))


def _script(writer: PdfWriter, canary: str) -> IndirectObject:
    action = DictionaryObject(
        {
            _name("/S"): _name("/JavaScript"),
            _name("/JS"): TextStringObject(f"app.alert('{canary}');"),
        }
    )
    return writer._add_object(action)


def court_ruling(pages: int = 2) -> bytes:
    """A PDF of `pages` pages, each with a line of text and the phone photo (EXIF and all) as
    an image, with metadata, XMP, an attached file, scripts and a comment around them."""
    writer = PdfWriter()
    photo = phone_photo()
    for number in range(1, pages + 1):
        page = writer.add_blank_page(612, 792)
        font = DictionaryObject(
            {
                _name("/Type"): _name("/Font"),
                _name("/Subtype"): _name("/Type1"),
                _name("/BaseFont"): _name("/Helvetica"),
            }
        )
        image = _stream(
            writer,
            photo,
            Type=_name("/XObject"),
            Subtype=_name("/Image"),
            Width=NumberObject(40),
            Height=NumberObject(20),
            ColorSpace=_name("/DeviceRGB"),
            BitsPerComponent=NumberObject(8),
            Filter=_name("/DCTDecode"),
        )
        page[_name("/Resources")] = DictionaryObject(
            {
                _name("/Font"): DictionaryObject({_name("/F1"): writer._add_object(font)}),
                _name("/XObject"): DictionaryObject({_name("/Im1"): image}),
            }
        )
        text = (
            f"BT /F1 12 Tf 72 720 Td (Ruling page {number}) Tj ET q 80 0 0 40 72 600 cm /Im1 Do Q"
        )
        page[_name("/Contents")] = _stream(writer, text.encode())
        page[_name("/Metadata")] = _xmp(writer, "CanaryPageXmp15")
        page[_name("/AA")] = DictionaryObject({_name("/O"): _script(writer, "CanaryPageScript17")})
        comment = DictionaryObject(
            {
                _name("/Type"): _name("/Annot"),
                _name("/Subtype"): _name("/Text"),
                _name("/Rect"): ArrayObject([FloatObject(0), FloatObject(0)] * 2),
                _name("/T"): TextStringObject("CanaryAnnotAuthor16"),
            }
        )
        page[_name("/Annots")] = ArrayObject([writer._add_object(comment)])
    writer.add_metadata(
        {
            "/Author": "CanaryAuthor7",
            "/Creator": "CanaryCreator8",
            "/Producer": "CanaryProducer9",
            "/Title": "CanaryTitle10",
            "/Keywords": "CanaryKeywords18",
        }
    )
    writer._root_object[_name("/Metadata")] = _xmp(writer, "CanaryDocXmp11")
    writer._root_object[_name("/OpenAction")] = _script(writer, "CanaryOpenScript14")
    writer.add_attachment("CanaryAttachedName12.txt", b"CanaryAttachedBody13")
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert all(c in pdf_text(data) for c in PDF_CANARIES), "the fixture lost a canary"
    return data


def pdf_text(data: bytes) -> str:
    """Everything a PDF holds, readable: its raw bytes, every string and name of every object,
    and every stream decoded (a canary could hide in a compressed stream or an escaped string).
    """
    parts = [data.decode("latin-1")]
    reader = PdfReader(io.BytesIO(data))
    numbers = [(n, g) for g, entries in reader.xref.items() for n in entries]
    numbers += [(n, 0) for n in reader.xref_objStm]
    for number, generation in numbers:
        obj = IndirectObject(number, generation, reader).get_object()
        parts.append(repr(obj))
        if isinstance(obj, StreamObject):
            parts.append(obj.get_data().decode("latin-1"))
    return "\n".join(parts)


def leaked(canaries: list[str], data: bytes) -> list[str]:
    """The canaries found in `data` as ASCII, UTF-16 (EXIF comments, PDF strings) or hex."""
    forms = {
        c: [
            c.encode(),
            c.encode("utf-16-be"),
            c.encode("utf-16-le"),
            c.encode().hex().encode(),
            c.encode().hex().upper().encode(),
        ]
        for c in canaries
    }
    text = data
    if data.startswith(b"%PDF"):
        text = data + pdf_text(data).encode("latin-1", errors="replace")
    return [c for c, encoded in forms.items() if any(e in text for e in encoded)]


# -- Fixtures ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings: Settings, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def source(section: Section) -> Source:
    return Source.objects.create(
        section=section, slug="ruling-2012", title="Ruling of the Aktau court", is_public=True
    )


@pytest.fixture
def researcher(db: None, django_user_model: type[User], section: Section) -> User:
    user = django_user_model.objects.create_user(
        username="researcher", password="a long passphrase", is_staff=True
    )
    Role.objects.create(user=user, section=section, role="researcher")
    return user


@pytest.fixture
def browser(client: Client, researcher: User) -> Client:
    return verified_login(client, researcher)


@pytest.fixture
def outsider(db: None, django_user_model: type[User]) -> Client:
    """A coordinator of another section: must not learn that the file exists."""
    other = Section.objects.create(slug="abroad", name_en="Section abroad", kind="national")
    user = django_user_model.objects.create_user(
        username="outsider", password="a long passphrase", is_staff=True
    )
    Role.objects.create(user=user, section=other, role="coordinator")
    return verified_login(Client(), user)


def upload(client: Client, source: Source, name: str, data: bytes) -> Any:
    """Post the source's change page as rendered, with one new file row."""
    url = reverse("admin:documentation_source_change", args=[source.pk])
    form = read_form(client, url)
    assert form["files-TOTAL_FORMS"] == "0", "the page offers no file row to add"
    form["files-TOTAL_FORMS"] = "1"
    form["files-0-caption"] = CAPTION
    form["files-0-file"] = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(url, form)


def stored_bytes(item: SourceFile) -> bytes:
    with item.file.open("rb") as handle:
        data: bytes = handle.read()
    return data


def served_bytes(client: Client, item: SourceFile) -> tuple[FileResponse, bytes]:
    response = client.get(reverse("documentation_source_file", args=[item.pk]))
    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    return response, b"".join(response.streaming_content)


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# -- Metadata is gone ----------------------------------------------------------------------------


def test_a_photo_is_stored_and_served_without_its_exif_and_upright(
    browser: Client, source: Source, media: Path
) -> None:
    """GPS, artist, camera, serial, XMP and comment are in neither the stored nor the served
    bytes; the picture is turned upright by its orientation tag, and its name is random."""
    response = upload(browser, source, "IMG_20120616_Zhanaozen.jpg", phone_photo())
    assert response.status_code == 302, response.content.decode()[:2000]
    item = SourceFile.objects.get(source=source)
    assert item.media_type == "image/jpeg"
    assert item.caption == CAPTION
    assert "Zhanaozen" not in item.file.name and "IMG_" not in item.file.name
    stored = stored_bytes(item)
    _, served = served_bytes(browser, item)
    assert served == stored
    assert leaked(PHOTO_CANARIES, stored) == []
    with Image.open(io.BytesIO(stored)) as picture:
        assert picture.format == "JPEG"
        assert picture.size == (20, 40)
        assert not picture.getexif(), "some EXIF survived"
        assert "xmp" not in picture.info and "comment" not in picture.info
        red, _green, blue = picture.getpixel((10, 5))  # type: ignore[misc]
        assert red > 200 and blue < 50, "the top of the upright photo should be red"
    assert [p.name for p in files_under(media)] == [Path(item.file.name).name]


def test_a_pdf_keeps_its_pages_and_text_and_loses_everything_else(
    browser: Client, source: Source
) -> None:
    """Author, producer, title, XMP, the attached file, scripts, comments and the EXIF of the
    photo on its pages are gone from stored and served bytes; pages and text remain."""
    response = upload(browser, source, "ruling.pdf", court_ruling(pages=3))
    assert response.status_code == 302, response.content.decode()[:2000]
    item = SourceFile.objects.get(source=source)
    assert item.media_type == "application/pdf"
    stored = stored_bytes(item)
    _, served = served_bytes(browser, item)
    assert served == stored
    assert leaked(PDF_CANARIES + PHOTO_CANARIES, stored) == []
    reader = PdfReader(io.BytesIO(stored))
    assert not reader.is_encrypted
    assert [page.extract_text().strip() for page in reader.pages] == [
        "Ruling page 1",
        "Ruling page 2",
        "Ruling page 3",
    ]
    assert reader.metadata is None
    root: Any = reader.trailer["/Root"]
    assert set(root.keys()) == {"/Type", "/Pages"}
    resources: Any = reader.pages[0]["/Resources"]
    image = resources["/XObject"]["/Im1"].get_object()
    with Image.open(io.BytesIO(image.get_data())) as picture:
        assert picture.size == (40, 20) and not picture.getexif()


def test_images_in_other_formats_lose_their_text_chunks_too() -> None:
    """A PNG's text chunks and a WebP's EXIF are not re-encoded along with the pixels."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "CanaryPngAuthor20")
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(png, "PNG", pnginfo=info)
    exif = Image.Exif()
    exif[0x013B] = "CanaryWebpArtist21"
    webp = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(webp, "WEBP", exif=exif.tobytes())
    for raw, canary, extension in [
        (png.getvalue(), "CanaryPngAuthor20", "png"),
        (webp.getvalue(), "CanaryWebpArtist21", "webp"),
    ]:
        assert canary.encode() in raw
        cleaned = clean_document(io.BytesIO(raw))
        assert cleaned.extension == extension
        assert leaked([canary], cleaned.data) == []


def test_a_model_saved_outside_the_admin_is_cleaned_as_well(source: Source) -> None:
    """Every way in passes the model's save: the import or the shell cannot store EXIF."""
    item = SourceFile.objects.create(
        source=source, file=ContentFile(phone_photo(), name="photo.jpg")
    )
    assert item.section_id == source.section_id
    assert item.media_type == "image/jpeg"
    assert leaked(PHOTO_CANARIES, stored_bytes(item)) == []


def test_the_jpeg_inside_a_pdf_keeps_its_pixels_and_loses_its_segments() -> None:
    """Stripping the EXIF of an image inside a PDF is lossless: the pixels decode the same."""
    photo = phone_photo()
    stripped = strip_jpeg_segments(photo)
    assert leaked(PHOTO_CANARIES, stripped) == []
    with Image.open(io.BytesIO(photo)) as before, Image.open(io.BytesIO(stripped)) as after:
        assert before.tobytes() == after.tobytes()


# -- What is refused -----------------------------------------------------------------------------


def _refused(response: Any, media: Path, message: str) -> None:
    assert response.status_code == 200  # the form again, with the reason
    assert message in response.content.decode()
    assert not SourceFile.objects.exists()
    assert files_under(media) == [], "a refused upload left bytes on the disk"


def test_text_named_pdf_is_refused(browser: Client, source: Source, media: Path) -> None:
    """What a file is comes from its bytes, not its name."""
    response = upload(browser, source, "ruling.pdf", b"<html><script>alert(1)</script></html>")
    _refused(response, media, "Upload a PDF, JPEG, PNG or WebP file; this file is none of them.")


def test_a_gif_named_jpg_is_refused(browser: Client, source: Source, media: Path) -> None:
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    response = upload(browser, source, "photo.jpg", gif.getvalue())
    _refused(response, media, "Upload a PDF, JPEG, PNG or WebP file; this file is none of them.")


def test_an_encrypted_pdf_is_refused(browser: Client, source: Source, media: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(court_ruling(pages=1))))
    writer.encrypt(user_password="", owner_password="owner secret", algorithm="AES-128")
    encrypted = io.BytesIO()
    writer.write(encrypted)
    response = upload(browser, source, "ruling.pdf", encrypted.getvalue())
    _refused(response, media, "This PDF is encrypted or password-protected.")


def test_a_damaged_pdf_is_refused(browser: Client, source: Source, media: Path) -> None:
    """A file that cannot be parsed is never stored as it came."""
    damaged = court_ruling(pages=1)[:400]
    response = upload(browser, source, "ruling.pdf", damaged)
    _refused(response, media, "This PDF is damaged or uses features we cannot read")


def test_a_file_over_the_limit_is_refused(
    browser: Client, source: Source, media: Path, settings: Settings
) -> None:
    settings.SOLIDARITY_UPLOAD_MAX_BYTES = 2 * 1024 * 1024
    response = upload(browser, source, "big.pdf", b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024))
    _refused(response, media, "This file is larger than 2 MB.")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (phone_photo()[:300], "This image is damaged and cannot be read."),
        (b"GIF89a" + bytes(40), "Upload a PDF, JPEG, PNG or WebP file"),
    ],
    ids=["empty", "truncated-photo", "broken-gif"],
)
def test_what_cannot_be_cleaned_is_refused_with_its_reason(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        clean_document(io.BytesIO(data))
    assert message in " ".join(refused.value.messages)


def test_the_model_refuses_what_the_form_would(source: Source, media: Path) -> None:
    with pytest.raises(ValidationError):
        SourceFile.objects.create(source=source, file=ContentFile(b"MZ\x90\x00", name="x.pdf"))
    assert files_under(media) == []


# -- Who gets the bytes, and how -----------------------------------------------------------------


@pytest.fixture
def stored(source: Source) -> SourceFile:
    return SourceFile.objects.create(
        source=source, caption=CAPTION, file=ContentFile(court_ruling(1), name="ruling.pdf")
    )


def test_the_download_is_an_attachment_nothing_can_run_in(
    browser: Client, stored: SourceFile
) -> None:
    response, _ = served_bytes(browser, stored)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="ruling-2012-{stored.pk}.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_another_sections_file_is_not_found(outsider: Client, stored: SourceFile) -> None:
    """The same 404 as for an id that does not exist (threat model D6)."""
    url = reverse("documentation_source_file", args=[stored.pk])
    missing = reverse("documentation_source_file", args=[stored.pk + 1000])
    assert outsider.get(url).status_code == 404
    assert outsider.get(missing).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client: Client, stored: SourceFile) -> None:
    response = client.get(reverse("documentation_source_file", args=[stored.pk]))
    assert response.status_code == 302
    assert "login" in response["Location"]
    assert not isinstance(response, FileResponse)


def test_downloads_and_uploads_are_in_the_audit_log_without_values(
    browser: Client, stored: SourceFile
) -> None:
    served_bytes(browser, stored)
    entries = AuditEntry.objects.filter(model="documentation.SourceFile", object_pk=str(stored.pk))
    actions = {e.action: e for e in entries}
    assert set(actions) == {"create", "file_download"}
    assert "caption" in actions["create"].fields and actions["create"].values == {}
    assert actions["file_download"].actor == f"user:{stored_user(browser)}:researcher"


def stored_user(client: Client) -> int:
    return int(client.session["_auth_user_id"])


# -- Never public --------------------------------------------------------------------------------


def test_no_public_address_serves_the_file(client: Client, stored: SourceFile) -> None:
    """Not under MEDIA_URL, not on the public page of its (public) source, not in the API."""
    name = Path(stored.file.name).name
    for url in [
        f"/media/{stored.file.name}",
        f"/{stored.file.name}",
        f"/static/{stored.file.name}",
    ]:
        assert client.get(url).status_code == 404, url
    for url in [
        "/en/",
        reverse("api:popolo_all"),
        "/en/search/?q=Aktau",
    ]:
        body = client.get(url).content.decode()
        assert CAPTION not in body and name not in body, url


def test_the_mirror_never_copies_a_source_file(stored: SourceFile, tmp_path: Path) -> None:
    dest = tmp_path / "mirror"
    call_command("mirror", str(dest), "-q", stdout=io.StringIO(), stderr=io.StringIO())
    files = files_under(dest)
    assert files, "the mirror wrote nothing: the check below would be blind"
    content = stored_bytes(stored)
    name = Path(stored.file.name).name
    for path in files:
        assert path.name != name
        data = path.read_bytes()
        assert data != content, path
        assert CAPTION.encode() not in data and name.encode() not in data, path


# -- Cleaning up ---------------------------------------------------------------------------------


def test_deleting_or_replacing_a_file_removes_its_bytes(
    stored: SourceFile, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    """A photo of an injury does not outlive its record on the disk."""
    first = Path(stored.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        stored.file = ContentFile(court_ruling(1), name="second.pdf")
        stored.save()
    assert not first.exists()
    second = Path(stored.file.path)
    assert second.exists()
    with django_capture_on_commit_callbacks(execute=True):
        stored.source.delete()
    assert files_under(media) == []


# -- The source's page -----------------------------------------------------------------------


def test_the_source_page_links_the_file_and_saves_back_unchanged(
    browser: Client, stored: SourceFile, media: Path
) -> None:
    """The page uploads as multipart, links the download (not the storage path), and posted
    back as rendered keeps the stored file as it was."""
    url = reverse("admin:documentation_source_change", args=[stored.source_id])
    html = browser.get(url).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert reverse("documentation_source_file", args=[stored.pk]) in html
    assert stored.file.name not in html
    before = stored_bytes(stored)
    response = browser.post(url, read_form(browser, url))
    assert response.status_code == 302, response.content.decode()[:2000]
    stored.refresh_from_db()
    assert stored_bytes(stored) == before
    assert len(files_under(media)) == 1


def test_a_researcher_adds_files_but_only_a_coordinator_removes_them(
    browser: Client,
    stored: SourceFile,
    researcher: User,
    media: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Removing a document destroys evidence: it takes the right to delete the source."""
    url = reverse("admin:documentation_source_change", args=[stored.source_id])
    form = read_form(browser, url)
    form["files-0-DELETE"] = "on"
    assert browser.post(url, form).status_code == 302
    assert SourceFile.objects.filter(pk=stored.pk).exists()

    Role.objects.filter(user=researcher).update(role="coordinator")
    form = read_form(browser, url)
    form["files-0-DELETE"] = "on"
    with django_capture_on_commit_callbacks(execute=True):
        assert browser.post(url, form).status_code == 302
    assert not SourceFile.objects.filter(pk=stored.pk).exists()
    assert files_under(media) == []


def test_an_upload_within_the_limit_never_touches_the_temp_directory() -> None:
    # Django spools larger uploads, metadata and all, to a temp file before we strip them.
    from django.conf import settings as django_settings

    assert (
        django_settings.FILE_UPLOAD_MAX_MEMORY_SIZE >= django_settings.SOLIDARITY_UPLOAD_MAX_BYTES
    )
