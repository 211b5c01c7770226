"""Tags on supporters, as OSDI (Action Network) has them: the API and any later back-office
page call these, so that a tag is made and put on a person one way only.

Both are idempotent, as in Action Network: a tag's name is unique within its section, so asking
for an existing name returns that tag, and tagging a person twice returns the first tagging.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from solidarity.core.models import Section

from .models import Supporter, Tag, Tagging

MAX_NAME = Tag._meta.get_field("name").max_length or 100


def clean_tag_name(name: object) -> str:
    """The name with outer and repeated inner spaces removed; ValidationError if unusable."""
    if not isinstance(name, str) or not " ".join(name.split()):
        raise ValidationError(_("Give the tag a name."))
    cleaned = " ".join(name.split())
    if not cleaned.isprintable():  # NUL and other control characters (PostgreSQL refuses NUL)
        raise ValidationError(_("A tag's name cannot hold control characters."))
    if len(cleaned) > MAX_NAME:
        raise ValidationError(_("A tag's name has at most %(n)s characters.") % {"n": MAX_NAME})
    return cleaned


def create_tag(section: Section, name: object) -> tuple[Tag, bool]:
    """The section's tag of this name, made if new; and whether it was made."""
    cleaned = clean_tag_name(name)
    existing = Tag.objects.filter(section=section, name=cleaned).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return Tag.objects.create(section=section, name=cleaned), True
    except IntegrityError:  # made at the same moment by another request
        return Tag.objects.get(section=section, name=cleaned), False


def tag_supporter(tag: Tag, supporter: Supporter) -> tuple[Tagging, bool]:
    """Put `tag` on `supporter` (once); and whether the tagging is new."""
    try:
        with transaction.atomic():
            tagging, made = Tagging.objects.get_or_create(tag=tag, supporter=supporter)
    except IntegrityError:
        return Tagging.objects.get(tag=tag, supporter=supporter), False
    return tagging, made
