"""Password rules of our own, beside Django's length, common-list and similarity validators
(`settings.AUTH_PASSWORD_VALIDATORS`; ASVS 6.1.2, 6.2.1, 6.2.11).

Threat: an adversary guessing passwords of *this* organisation (online against the login, or
offline against a seized database) tries first the words that belong to us. A password made
mostly of them is weak however long it is, so `ContextWordsValidator` removes them, with the
digits, spaces and punctuation stuck to them ("Solidarity2012!"), and what is left must still be as
long as the minimum length.

The banned words come from two places, and only these two:

1. The fixed list `FIXED_WORDS` below: the product's name in our three languages (Solidarity,
   Солидарность, Ынтымақ/Yntymaq), the organisation's name (Socialist Resistance of Kazakhstan,
   Социалистическое Сопротивление Казахстана), its newspaper (Солидарность), its international
   (CWI) and its campaigns and causes (ONJ, Kazakhstan 2012, Zhanaozen, Zhanartu, Campaign
   Kazakhstan), each written once: the Cyrillic, Kazakh and Latin spellings meet in the
   normalisation below.
2. The records at the time of checking: every word of four letters or more in the names of the
   sections (`core.Section`: name in en/ru/kk and slug) and of the *public* organisations
   (`documentation.Organisation` with `is_public`: names, abbreviation, newspaper). Names of
   unpublished organisations are left out on purpose: a refusal would tell a user of one section
   that another section records an organisation of that name (M4).

Both the password and the words are compared in one "skeleton" form: case-folded, accents
dropped, Cyrillic (Russian and Kazakh letters) transliterated to Latin, simple leetspeak undone
(0→o, 1/!/|→i, 3→e, 4/@→a, 5/$→s, 7→t), spelling variants merged (l/i, q/k, x/kh/h, zh/j,
ts/c) and doubled letters collapsed. So "S0lidarnost", "солидарность" and "SOLIDARNOST" are the
same word, as are "Kazakhstan" and "Казахстан", or "Қазақстан" and "Qazaqstan". The error says
which kind of word (ours, or a record's name) took too much, never the word or the password.

`BreachedPasswordValidator` (ASVS 6.2.12) refuses a password found in Have I Been Pwned's
"Pwned Passwords" (the SHA-1 file ordered by hash, at `SOLIDARITY_BREACHED_PASSWORDS`), looked
up on this machine only: the adversary is a state, and no password, hash or hash prefix of ours
may reach a third-party service. See `BreachedPasswordValidator`.

A password protecting a key for sealed data must be longer (threat model M7): the key is
wrapped under it, and a memory snapshot of the server allows offline guessing.
`SealedKeyLengthValidator` asks SEALED_MIN_LENGTH characters of a user who holds such a key or a
role that will give them one (their words-free rest must be as long too), and
`safety.keys.setup_user_key` refuses to wrap a key under a shorter password.
"""

# Cyrillic and Latin letters side by side are what the transliteration table is about:
# ruff: noqa: RUF001
from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

SEALED_MIN_LENGTH = 16

FIXED_WORDS = (
    # The product, in English, Russian and Kazakh.
    "Solidarity",
    "Солидарность",  # also the newspaper
    "Ынтымақ",  # also covers Ынтымақтастық
    # The organisation: Socialist Resistance of Kazakhstan; "socialist" also covers
    # Социалистическое and Sotsialisticheskoe, "socialism" the website socialismkz.info.
    "Socialist",
    "Socialism",
    "Resistance",
    "Сопротивление",
    "Kazakhstan",  # also Казахстан, Qazaqstan, and "Kazakhstan 2012" with its digits
    "Қазақстан",  # also Kazakstan
    "Trotsky",
    "Троцкий",
    # Its international, the Committee for a Workers' International.
    "CWI",
    # Campaigns and causes: ONJ (ОНЖ), Zhanaozen (Жанаозен, Жаңаөзен), the trade union Zhanartu,
    # and 'Campaign Kazakhstan'.
    "ONJ",
    "Zhanaozen",
    "Zhanartu",
    "Campaign",
    "Кампания",
)

# A word of a record's name shorter than this is not banned: "of", "the", "and" are in every
# sentence. Abbreviations and the fixed words are chosen, so three letters is enough for them.
MIN_NAME_WORD = 4
MIN_CHOSEN_WORD = 3

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "j", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "ch", "ш": "sh", "щ": "shch",
    "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    # Kazakh letters, written as their nearest Russian ones.
    "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
}  # fmt: skip
_LEET = {
    "0": "o", "1": "i", "!": "i", "|": "i", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s",
    "7": "t",
}  # fmt: skip
_FOLD = {"l": "i", "q": "k", "x": "h"}
_DIGRAPHS = {"kh": "h", "zh": "j", "ts": "c"}


@dataclass(frozen=True)
class _Letter:
    """One letter of a skeleton and the span of the password it came from."""

    char: str
    start: int
    end: int


def _letters(text: str) -> list[_Letter]:
    letters: list[_Letter] = []
    for index, original in enumerate(text):
        decomposed = unicodedata.normalize("NFKD", original.casefold())
        for char in decomposed:
            if unicodedata.combining(char):
                continue
            latin = _CYRILLIC.get(char, _LEET.get(char, char))
            letters += [_Letter(_FOLD.get(c, c), index, index + 1) for c in latin]
    return letters


def _merge(letters: list[_Letter]) -> list[_Letter]:
    """Digraphs to one letter, then runs of one letter to one."""
    merged: list[_Letter] = []
    for letter in letters:
        previous = merged[-1] if merged else None
        if previous and (previous.char + letter.char in _DIGRAPHS or previous.char == letter.char):
            char = _DIGRAPHS.get(previous.char + letter.char, letter.char)
            merged[-1] = _Letter(char, previous.start, letter.end)
        else:
            merged.append(letter)
    return merged


def _skeleton_letters(text: str) -> list[_Letter]:
    return _merge(_letters(text))


def skeleton(text: str) -> str:
    """The form in which passwords and banned words are compared (see the module docstring)."""
    return "".join(letter.char for letter in _skeleton_letters(text))


def _skeletons(words: Iterable[str], shortest: int) -> set[str]:
    found = (skeleton(word) for word in words)
    return {word for word in found if len(word) >= shortest and word.isalpha()}


def fixed_words() -> set[str]:
    return _skeletons(FIXED_WORDS, MIN_CHOSEN_WORD)


def record_words() -> set[str]:
    """Words of the names of the sections and the public organisations, read now."""
    from solidarity.core.models import Section
    from solidarity.documentation.models import Organisation

    names: list[str] = []
    for row in Section.objects.values_list("name_en", "name_ru", "name_kk", "slug"):
        names += row
    chosen: list[str] = []
    public = Organisation.objects.filter(is_public=True)
    for name_en, name_ru, name_kk, abbreviation, newspaper in public.values_list(
        "name_en", "name_ru", "name_kk", "abbreviation", "newspaper"
    ):
        names += [name_en, name_ru, name_kk, newspaper]
        chosen.append(abbreviation)
    words = [word for name in names for word in re.findall(r"\w+", name)]
    return _skeletons(words, MIN_NAME_WORD) | _skeletons(chosen, MIN_CHOSEN_WORD)


def remaining_length(password: str, banned: set[str]) -> int:
    """How many characters of the password are left once the banned words are taken out,
    with any digits, spaces and punctuation directly before or after them."""
    letters = _skeleton_letters(password)
    text = "".join(letter.char for letter in letters)
    # Characters that are no letter, or a letter with no sound of its own (ь, ъ), go with the
    # word they touch.
    sounding = {index for letter in letters for index in range(letter.start, letter.end)}
    loose = [not c.isalpha() or i not in sounding for i, c in enumerate(password)]
    removed = [False] * len(password)
    for word in banned:
        for match in re.finditer(f"(?={re.escape(word)})", text):
            first, last = letters[match.start()], letters[match.start() + len(word) - 1]
            start, end = first.start, last.end
            while start > 0 and loose[start - 1]:
                start -= 1
            while end < len(password) and loose[end]:
                end += 1
            removed[start:end] = [True] * (end - start)
    return removed.count(False)


# -- Who holds a key for sealed data -----------------------------------------------------------


def holds_sealed_key(user: Any) -> bool:
    """Whether this user's password protects, or will protect, a private key for sealed data:
    they have a key pair, or a role whose data is sealed to them once they set one up."""
    if user is None or getattr(user, "pk", None) is None:
        return False
    from django.contrib.auth import get_user_model
    from django.db.models import Exists, OuterRef

    from solidarity.core.classification import FieldClass
    from solidarity.safety.models import Role, UserKey
    from solidarity.safety.policy import roles_reading

    # One query for both questions.
    key = UserKey.objects.filter(user=OuterRef("pk"))
    role = Role.objects.filter(user=OuterRef("pk"), role__in=roles_reading(FieldClass.SEALED))
    users = get_user_model()._default_manager.filter(pk=user.pk)
    return bool(users.filter(Exists(key) | Exists(role)).exists())


def required_length(user: Any, min_length: int) -> int:
    return max(min_length, SEALED_MIN_LENGTH) if holds_sealed_key(user) else min_length


def sealed_key_too_short(password: str) -> str | None:
    """Why a key for sealed data may not be wrapped under this password, or None."""
    if len(password) >= SEALED_MIN_LENGTH:
        return None
    return _(
        "Your key for sealed data is protected by your password, so the password must be at "
        "least %(min_length)d characters long. Change your password to a longer passphrase "
        "first, then set up your key."
    ) % {"min_length": SEALED_MIN_LENGTH}


# -- The validators ----------------------------------------------------------------------------


class SealedKeyLengthValidator:
    """SEALED_MIN_LENGTH characters for a user whose password protects a key for sealed data."""

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < SEALED_MIN_LENGTH and holds_sealed_key(user):
            raise ValidationError(
                _(
                    "This password protects your key for sealed data, which could be guessed "
                    "offline: it must be at least %(min_length)d characters long, for example a "
                    "few unrelated words."
                ),
                code="password_too_short_for_sealed_key",
                params={"min_length": SEALED_MIN_LENGTH},
            )

    def get_help_text(self) -> str:
        return _(
            "If you hold a key for sealed data, your password must be at least %(min_length)d "
            "characters long."
        ) % {"min_length": SEALED_MIN_LENGTH}


class ContextWordsValidator:
    """Refuses a password made mostly of our own names (see the module docstring).

    `min_length` is the length the rest must keep: the same as MinimumLengthValidator's, or
    SEALED_MIN_LENGTH for a user who holds a key for sealed data.
    """

    def __init__(self, min_length: int = 12) -> None:
        self.min_length = min_length

    def validate(self, password: str, user: Any = None) -> None:
        needed = required_length(user, self.min_length)
        if len(password) < needed:
            return  # too short anyway: the length validators say so
        fixed = fixed_words()
        records = record_words() - fixed
        if remaining_length(password, fixed | records) >= needed:
            return
        # The messages name the kind of word, never the word found nor the password.
        errors = []
        if remaining_length(password, fixed) < len(password):
            errors.append(
                ValidationError(
                    _(
                        "This password is made mostly of names an attacker would try first "
                        "against us: the name of this application, of the organisation, its "
                        "newspaper or its campaigns. Without them, fewer than %(min_length)d "
                        "characters are left. Add other words."
                    ),
                    code="password_context_words",
                    params={"min_length": needed},
                )
            )
        if remaining_length(password, records) < len(password):
            errors.append(
                ValidationError(
                    _(
                        "This password is made mostly of the name of a section or an "
                        "organisation in our records, which an attacker would try first. "
                        "Without it, fewer than %(min_length)d characters are left. Add other "
                        "words."
                    ),
                    code="password_record_names",
                    params={"min_length": needed},
                )
            )
        raise ValidationError(errors)

    def get_help_text(self) -> str:
        return _(
            "Your password cannot be made mostly of the names of this application, the "
            "organisation, its newspaper, campaigns, sections or organisations in our records."
        )


# -- Passwords known from data breaches (ASVS 6.2.12) --------------------------------------------
#
# Threat: attackers guess with the passwords of earlier breaches first, online against the login
# and offline against a seized database; Django's 20,000 common passwords are only their head.
# Have I Been Pwned's "Pwned Passwords" holds the rest (close to a billion), and its online range
# API would tell a foreign service the first five hex digits of the SHA-1 of each new password of
# a user of ours, and when. So the operator downloads the whole file ordered by hash elsewhere and
# copies it here (README.md); it is read in place, never loaded: a binary search over byte
# offsets, about 36 reads of a few hundred bytes for the full 40 GB.

HASH_DIGITS = 40
# A line is the hash, ":" and a count: about 50 bytes. Anything longer is not this file.
MAX_LINE = 128
# Bytes read at both ends of the file by `breached_list_problem` (the deploy check).
SAMPLE_BYTES = 64 * 1024
_BREACHED_LINE = re.compile(rb"([0-9A-Fa-f]{40})(?::([0-9]+))?")


class BreachedListError(Exception):
    """The file cannot be used; the message says why and holds no password nor hash of one."""


@dataclass(frozen=True)
class BreachedEntry:
    """A line of the file: `count` is how often the password was seen, None for a bare hash."""

    digest: bytes
    count: int | None


def parse_breached_line(line: bytes, offset: int) -> BreachedEntry:
    """One line without its end of line (LF or CRLF): HASH or HASH:COUNT."""
    match = _BREACHED_LINE.fullmatch(line.rstrip(b"\r"))
    if match is None:
        raise BreachedListError(
            f"the line at byte {offset} is not {HASH_DIGITS} hexadecimal digits with an "
            "optional :COUNT"
        )
    count = match[2]
    return BreachedEntry(match[1].upper(), None if count is None else int(count))


def _line_at(file: BinaryIO, size: int, position: int) -> BreachedEntry | None:
    """The first line that starts at or after `position`, or None past the last one: one read
    of at most 2 * MAX_LINE bytes."""
    base = max(position - 1, 0)
    file.seek(base)
    chunk = file.read(2 * MAX_LINE)
    at_end = base + len(chunk) >= size
    start = 0
    if position > 0:
        newline = chunk.find(b"\n")  # the end of the line `position - 1` is in
        if newline < 0 and at_end:
            return None
        if newline < 0 or newline >= MAX_LINE:
            raise BreachedListError(f"no end of line within {MAX_LINE} bytes of byte {base}")
        start = newline + 1
    if base + start >= size:
        return None
    end = chunk.find(b"\n", start)
    if end < 0 and at_end:
        end = len(chunk)
    if end < 0 or end - start > MAX_LINE:
        raise BreachedListError(f"no end of line within {MAX_LINE} bytes of byte {base + start}")
    return parse_breached_line(chunk[start:end], base + start)


def find_breached(path: str, digest: bytes) -> BreachedEntry | None:
    """The line of the file at `path` for this upper-case hex SHA-1, or None.

    Binary search for the first line whose hash is not below `digest`, by byte offset: the
    lines at or after any offset start with hashes that only grow, in a file sorted by hash.
    Raises OSError or BreachedListError when the file cannot be read or a line it reads is not
    in the format (an unsorted file gives wrong answers: the deploy check samples the order)."""
    with open(path, "rb", buffering=0) as file:
        size = file.seek(0, 2)
        if size == 0:
            raise BreachedListError("the file is empty")
        low, high = 0, size
        while low < high:
            middle = (low + high) // 2
            entry = _line_at(file, size, middle)
            if entry is None or entry.digest >= digest:
                high = middle
            else:
                low = middle + 1
        entry = _line_at(file, size, low)
    return entry if entry is not None and entry.digest == digest else None


def _sample(lines: list[bytes], offset: int, problems: list[str]) -> list[bytes]:
    """The hashes of these whole lines, or nothing with the first problem recorded."""
    digests: list[bytes] = []
    for line in lines:
        try:
            digests.append(parse_breached_line(line, offset).digest)
        except BreachedListError as error:
            problems.append(str(error))
            return []
        offset += len(line) + 1
    return digests


def breached_list_problem(path: str) -> str | None:
    """Why the file at `path` cannot serve as the list of breached passwords, or None: it is
    missing or unreadable, empty, its first line (or any whole line of its first and last
    SAMPLE_BYTES) is not HASH[:COUNT], or those lines are not in ascending order of hash (the
    file ordered by prevalence, say, in which the binary search would find nothing)."""
    try:
        with open(path, "rb") as file:
            size = file.seek(0, 2)
            file.seek(0)
            head = file.read(SAMPLE_BYTES)
            tail_start = max(size - SAMPLE_BYTES, 0)
            file.seek(tail_start)
            tail = file.read(SAMPLE_BYTES)
    except OSError as error:
        return f"it cannot be read ({error.strerror or type(error).__name__})"
    if size == 0:
        return "the file is empty"
    first = head.split(b"\n", 1)[0]
    try:
        parse_breached_line(first, 0)
    except BreachedListError:
        return (
            f"its first line is not {HASH_DIGITS} hexadecimal digits with an optional :COUNT "
            "(the SHA-1 file is needed, not the NTLM one)"
        )
    problems: list[str] = []
    samples: list[list[bytes]] = []
    for chunk, start in ((head, 0), (tail, tail_start)):
        lines = chunk.split(b"\n")
        offset = start
        if start > 0:  # the first piece may be the end of a line begun before the sample
            offset += len(lines[0]) + 1
            lines = lines[1:]
        # The last piece is the start of a line cut by the sample, or empty after the last LF.
        if lines and (start + len(chunk) < size or not lines[-1]):
            lines = lines[:-1]
        samples.append(_sample(lines, offset, problems))
    if problems:
        return problems[0]
    for digests in samples:
        if any(a >= b for a, b in pairwise(digests)):
            return (
                "its lines are not in ascending order of hash (the file ordered by prevalence "
                "was downloaded, or a subset was not sorted again)"
            )
    return None


class BreachedPasswordValidator:
    """Refuses a password whose SHA-1 is in the file at `SOLIDARITY_BREACHED_PASSWORDS` with a
    count of at least `min_count` (a bare hash, without a count, always counts). Does nothing
    when the setting is empty.

    Fails closed: when the setting names a file that cannot be read or is not in the format,
    every new password is refused with a message saying it could not be checked, and a
    warning is logged (without the password or its hash). Accepting would silently drop the
    check an operator believes in; `check --deploy` names the problem (accounts.E021)."""

    def __init__(self, min_count: int = 1) -> None:
        self.min_count = min_count

    def validate(self, password: str, user: Any = None) -> None:
        # Read at each call, not at __init__: Django caches the validators for the process.
        path = getattr(settings, "SOLIDARITY_BREACHED_PASSWORDS", None)
        if not path:
            return
        # SHA-1 because it is the key the file is sorted by, not a protection of ours: the hash
        # never leaves this function and is never stored.
        digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
        try:
            entry = find_breached(str(path), digest.encode())
        except (OSError, BreachedListError) as error:
            reason = error.strerror if isinstance(error, OSError) else str(error)
            logger.warning(
                "The list of breached passwords %s cannot be used (%s): new passwords are "
                "refused until it is fixed (solidarity check --deploy).",
                path,
                reason or type(error).__name__,
            )
            raise ValidationError(
                _(
                    "Your password could not be checked against the passwords known from data "
                    "breaches, so it cannot be accepted now. Try again later, and tell an "
                    "administrator if this happens again."
                ),
                code="password_breach_check_failed",
            ) from None
        if entry is not None and (entry.count is None or entry.count >= self.min_count):
            raise ValidationError(
                _(
                    "This password appears in known data breaches, so attackers try it early. "
                    "Choose another one."
                ),
                code="password_breached",
            )

    def get_help_text(self) -> str:
        if not getattr(settings, "SOLIDARITY_BREACHED_PASSWORDS", None):
            return ""
        return _("Your password cannot be one that appears in known data breaches.")
