"""Uploads lose their metadata before the first byte is stored (threat model M13, ASVS 14.2.8).

A photo from a phone carries where it was taken (EXIF GPS), the device's make and serial and
the owner's name; a PDF carries its author, the software and account that made it, an XMP
packet with the same and more, attached files, and scripts. Any of these can name the person
who took a photo of an injury or scanned a letter, or the flat where it was done, to whoever
later reads the server's disk or a copy of a file. So nothing is stored as uploaded:

- images (JPEG, PNG, WebP) are re-encoded from their pixels alone, upright;
- PDFs are rebuilt page by page, keeping what a page shows and nothing else;
- anything else, and anything that cannot be parsed, is refused, never stored as it came.

What a file is comes from its bytes (magic numbers, then Pillow or pypdf), never its name.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}
MAX_IMAGE_PIXELS = 40_000_000
DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024
# A newspaper picture needs no more: a 40-megapixel photo from a good camera is about 15 MB as
# a JPEG, a phone's about 5 MB.
DEFAULT_MAX_IMAGE_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"

# Keys dropped wherever they appear in what a page reaches: metadata streams (XMP), private
# application data, attached files, scripts and actions, annotations (comments carry their
# author's name and date; file-attachment annotations carry files), thumbnails (which can show
# an earlier version of the page), article beads and modification dates.
PDF_DROPPED_KEYS = frozenset(
    {
        "/Metadata",
        "/PieceInfo",
        "/AF",
        "/EF",
        "/EmbeddedFiles",
        "/AA",
        "/OpenAction",
        "/JS",
        "/JavaScript",
        "/Annots",
        "/Thumb",
        "/B",
        "/LastModified",
        "/SpiderInfo",
    }
)
# JPEG segments that may be kept inside a PDF's images: JFIF (APP0) and Adobe (APP14, which
# says how to read the colours). Every other APPn (EXIF, XMP, IPTC, vendor notes) and comments
# go.
_JPEG_KEPT_APP = {0xE0, 0xEE}


@dataclass(frozen=True)
class Cleaned:
    """An upload with its metadata removed: the bytes to store and what they are."""

    data: bytes
    extension: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.extension]


class CleanedFile(ContentFile[bytes]):
    """Bytes that already went through `clean_document`, so that a model saving them does not
    clean (and, for a JPEG, re-encode) them a second time."""

    def __init__(self, cleaned: Cleaned) -> None:
        super().__init__(cleaned.data, name=f"upload.{cleaned.extension}")
        self.extension = cleaned.extension
        self.media_type = cleaned.media_type


def cleaned_upload(upload: File[bytes] | IO[bytes]) -> CleanedFile:
    """`upload` without its metadata, ready to store; ValidationError if it cannot be cleaned."""
    if isinstance(upload, CleanedFile):
        return upload
    return CleanedFile(clean_document(upload))


def max_upload_bytes() -> int:
    return int(getattr(settings, "SOLIDARITY_UPLOAD_MAX_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def max_image_bytes() -> int:
    return int(getattr(settings, "SOLIDARITY_IMAGE_MAX_BYTES", DEFAULT_MAX_IMAGE_BYTES))


def refuse_large_image(size: int) -> None:
    """ValidationError if an image of `size` bytes is over the limit.

    Called before Pillow reads the file (resource exhaustion, ASVS 5.2.1): parsing and
    re-encoding cost memory and time in proportion to what was sent.
    """
    limit = max_image_bytes()
    if size > limit:
        raise ValidationError(
            _("This image is larger than %(limit)s MB.") % {"limit": limit // (1024 * 1024)},
            code="too_large",
        )


def refuse_too_many_pixels(width: int, height: int) -> None:
    """ValidationError for an image over MAX_IMAGE_PIXELS, known from its header alone: a small
    file can declare a huge canvas (a decompression bomb) that decoding would allocate."""
    if width * height > MAX_IMAGE_PIXELS:
        raise ValidationError(
            _("This image is too large (over 40 megapixels)."), code="too_many_pixels"
        )


def refuse_unsupported_format(image_format: str) -> None:
    """ValidationError unless Pillow's name for the format is one we re-encode."""
    if image_format not in IMAGE_FORMATS:
        raise ValidationError(
            _("Upload a JPEG, PNG or WebP image (this one is %(format)s).")
            % {"format": image_format or _("unknown")},
            code="not_image",
        )


def _read_all(upload: File[bytes] | IO[bytes], limit: int, too_large: str | None = None) -> bytes:
    """The whole upload, rewound; ValidationError if it is over `limit` bytes, with the
    message `too_large` (a "%(limit)s MB" text; "This file is larger…" by default).

    At most one byte over the limit is read, whatever the file's size claims to be: nothing
    past it is held in memory or parsed (resource exhaustion, ASVS 5.2.1).
    """
    upload.seek(0)
    data = upload.read(limit + 1)
    upload.seek(0)
    if len(data) > limit:
        message = too_large or _("This file is larger than %(limit)s MB.")
        raise ValidationError(
            message % {"limit": limit // (1024 * 1024)},
            code="too_large",
        )
    return data


def clean_document(upload: File[bytes] | IO[bytes]) -> Cleaned:
    """A PDF, JPEG, PNG or WebP upload without its metadata; ValidationError for anything else.

    The size limit is checked first, then the kind from the first bytes: a PDF by its header,
    an image by what Pillow recognises in it.
    """
    data = _read_all(upload, max_upload_bytes())
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    if PDF_MAGIC in data[:1024]:
        return Cleaned(clean_pdf(data), "pdf")
    try:
        image_data, image_format = _clean_image(io.BytesIO(data))
    except ValidationError as error:
        if error.code != "not_image":
            raise
        raise ValidationError(
            _("Upload a PDF, JPEG, PNG or WebP file; this file is none of them."),
            code="unsupported",
        ) from None
    return Cleaned(image_data, IMAGE_FORMATS[image_format])


# -- Images ----------------------------------------------------------------------------------


def strip_image_metadata(upload: File[bytes]) -> ContentFile[bytes]:
    """The picture alone, re-encoded in its own format without EXIF, GPS, XMP or comments;
    ValidationError if it is over the byte limit (`max_image_bytes`) or cannot be read.

    The orientation EXIF carries is applied to the pixels first, so the photo stays upright.
    """
    head = _read_all(
        upload, max_image_bytes(), too_large=_("This image is larger than %(limit)s MB.")
    )
    data, image_format = _clean_image(io.BytesIO(head))
    name = upload.name or "image"
    stem = name.rsplit(".", 1)[0]
    return ContentFile(data, name=f"{stem}.{IMAGE_FORMATS[image_format]}")


def _clean_image(upload: File[bytes] | IO[bytes]) -> tuple[bytes, str]:
    try:
        with Image.open(upload) as original:
            refuse_too_many_pixels(original.width, original.height)
            image_format = original.format or ""
            refuse_unsupported_format(image_format)
            upright = ImageOps.exif_transpose(original)
            # A fresh image holds pixels only: nothing of the original's info (EXIF, XMP, ICC
            # profile, comments, PNG text chunks) travels along.
            clean = Image.new(upright.mode, upright.size)
            palette = upright.getpalette()
            if upright.mode == "P" and palette:
                clean.putpalette(palette)
            clean.paste(upright)
            if image_format == "JPEG" and clean.mode not in {"RGB", "L"}:
                clean = clean.convert("RGB")
            out = io.BytesIO()
            options = {"quality": 90} if image_format in {"JPEG", "WEBP"} else {}
            clean.save(out, format=image_format, **options)
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise ValidationError(
            _("This file is not an image we can read."), code="not_image"
        ) from None
    except (OSError, SyntaxError, ValueError):
        # A truncated or corrupt image: refused, never stored as it came.
        raise ValidationError(
            _("This image is damaged and cannot be read."), code="damaged"
        ) from None
    return out.getvalue(), image_format


# -- PDFs --------------------------------------------------------------------------------------


def clean_pdf(data: bytes) -> bytes:
    """The pages of a PDF in a new file: no document information, XMP, attached files, scripts,
    actions, annotations or outline, and no EXIF inside the JPEG images the pages show.

    Only the pages are copied into a fresh document, so whatever hangs off the original's
    catalog (info dictionary, XMP, embedded files, JavaScript, OpenAction, forms, outline,
    earlier revisions) is left behind; what hangs off the pages is scrubbed first. The result
    is read back and checked before it is returned.
    """
    from pypdf import PdfReader, PdfWriter

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ValidationError(
                _(
                    "This PDF is encrypted or password-protected. Remove the protection (for "
                    "example, print it to a new PDF) and upload it again."
                ),
                code="encrypted",
            )
        writer = PdfWriter()
        for page in reader.pages:
            _scrub(page, set())
            writer.add_page(page)
        if not writer.pages:
            raise ValidationError(_("This PDF has no pages."), code="no_pages")
        writer.metadata = None
        out = io.BytesIO()
        writer.write(out)
        cleaned = out.getvalue()
        _check_clean(cleaned, len(writer.pages))
    except ValidationError:
        raise
    except Exception:  # pypdf raises many kinds on a malformed file; none is stored
        raise ValidationError(
            _("This PDF is damaged or uses features we cannot read, so it was not stored."),
            code="damaged",
        ) from None
    return cleaned


def _scrub(obj: Any, seen: set[tuple[int, int]]) -> None:
    """Drop the keys of PDF_DROPPED_KEYS from everything `obj` reaches, except its parent."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

    if isinstance(obj, IndirectObject):
        key = (obj.idnum, obj.generation)
        if key in seen:
            return
        seen.add(key)
        obj = obj.get_object()
    if isinstance(obj, DictionaryObject):
        for name in PDF_DROPPED_KEYS & set(obj.keys()):
            del obj[name]
        if isinstance(obj, StreamObject) and obj.get("/Subtype") == "/Image":
            _strip_embedded_jpeg(obj)
        for name, value in list(obj.items()):
            # The parent leads up the page tree to the other pages: each is scrubbed in turn.
            if name not in {"/Parent", "/P"}:
                _scrub(value, seen)
    elif isinstance(obj, ArrayObject):
        for item in obj:
            _scrub(item, seen)


def _strip_embedded_jpeg(stream: Any) -> None:
    filters = stream.get("/Filter")
    names = list(filters) if isinstance(filters, list) else [filters]
    if "/DCTDecode" not in names:
        return
    if names != ["/DCTDecode"]:
        # A JPEG under further compression: refused rather than stored with its EXIF unread.
        raise ValidationError(
            _("This PDF holds images in a form we cannot clean, so it was not stored."),
            code="unsupported_image",
        )
    stream._data = strip_jpeg_segments(stream._data)


def strip_jpeg_segments(data: bytes) -> bytes:
    """A JPEG without its EXIF, XMP, IPTC and comment segments, pixels untouched (lossless)."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG stream")
    out = bytearray(data[:2])
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("malformed JPEG stream")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the compressed pixels and the rest, kept as they are
            out += data[pos:]
            return bytes(out)
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment = data[pos : pos + 2 + length]
        dropped = (0xE0 <= marker <= 0xEF and marker not in _JPEG_KEPT_APP) or marker == 0xFE
        if not dropped:
            out += segment
        pos += 2 + length
    raise ValueError("JPEG stream without image data")


def _check_clean(data: bytes, pages: int) -> None:
    """Read the new file back: the same number of pages, and no dropped key anywhere in it."""
    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject, IndirectObject

    reader = PdfReader(io.BytesIO(data))
    if len(reader.pages) != pages or "/Info" in reader.trailer:
        raise ValueError("the rebuilt PDF is not as built")
    numbers = [(n, g) for g, entries in reader.xref.items() for n in entries]
    numbers += [(n, 0) for n in reader.xref_objStm]
    for number, generation in numbers:
        obj = IndirectObject(number, generation, reader).get_object()
        if isinstance(obj, DictionaryObject) and PDF_DROPPED_KEYS & set(obj.keys()):
            raise ValueError("a dropped key survived the rebuild")
