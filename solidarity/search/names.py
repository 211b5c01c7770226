"""Matching people's names across Cyrillic and Latin scripts and their many spellings.

The same person is written Өктешбаев (Kazakh Cyrillic), Уктешбаев (Russian Cyrillic),
Ukteshbayev (English), Öktešbaev (scholarly), Oktesbaev (diacritics dropped) or
Uteshbaev (a letter lost). This module turns every such spelling into forms that can be
compared and indexed:

- :func:`fold` gives a readable, script-independent ASCII form of a name (one library
  transliteration, lower case, no punctuation). It is what scores are computed on.
- :func:`name_keys` gives a few short keys per name for a database index. Keys are built
  from phonetic skeletons of each token, so spellings from different transliteration
  conventions, token orders and one-letter typos still share keys with the stored name.
  Search looks candidates up by key, then re-ranks a few dozen with :func:`score`.
- :func:`match_reason` and :func:`likely_same_person` explain and decide duplicate
  warnings, without merging namesakes or siblings.

Why PyICU (and not rigour, normality or unidecode) for the Cyrillic-to-Latin step
-------------------------------------------------------------------------------------
Measured with PyICU 2.17 / ICU 72, rigour 2.6.1, normality 3.1.0, unidecode 1.4.0 on the
Kazakh letters ӘӨҰҮҚҒҢҺІ:

- ``unidecode``: ``@OU'UK'G'N'HI`` — Ә becomes ``@`` and the other eight letters gain
  apostrophes (``Zhan'aozen``); Kazakh names come out broken.
- ``normality.ascii_text`` (3.1.0): ``A???K?G??I`` — Ө, Ұ, Ү, Ң and Һ are lost.
  ``normality.latinize_text`` leaves Ө, Ұ, Ү, Ң and Һ in Cyrillic.
- ICU ``Any-Latin``/``Cyrillic-Latin``: leaves Ө, Ұ, Ү, Ң, Һ untouched (ISO 9 has no rule
  for them in ICU's generic Cyrillic transform).
- ``rigour.text.ascii_text`` (Rust core): ``AOUUQGNHI`` — correct and very fast (0.1 µs per
  name against 11 µs for ICU), but rigour depends on normality, which itself requires
  PyICU, plus jinja2, orjson, python-stdnum, prefixdate and others: it brings everything
  ICU needs and more.
- ICU ``Kazakh-Latin/BGN`` (the BGN/PCGN 1979 Kazakh system, part of CLDR): ``ÄÖUÜQGHNGHI``
  — every Kazakh letter handled, Russian letters too (щ → shch, я → ya), and it is a
  published standard maintained by Unicode CLDR rather than rules of our own.

So :func:`fold` uses ICU ``Kazakh-Latin/BGN; Any-Latin; Latin-ASCII`` (Any-Latin catches
the odd Greek or Arabic name). Our own rules are limited to what no library does:

- a small table for Latin letters with diacritics whose plain ASCII fold would lose
  information (ISO 9 ``š`` must become ``sh``, not ``s``; Kazakh Latin ``ş`` likewise);
- ң → n before ICU: BGN writes ``ng``, but Kazakh names are usually written with ``n``
  (Zhanaozen, Zhenis, Mynbayev) and Kazakh Latin's ``ñ`` folds to ``n``; reading every
  ``ng`` as ң instead would make Инга and Инна one name;
- the phonetic skeleton used by the keys, which has to reconcile English, German,
  French, ISO 9, ICAO, BGN/PCGN and Kazakh Latin 2021 conventions that no
  transliteration library tries to invert.

The phonetic skeleton
---------------------
Each folded token is rewritten so that the conventions' differences disappear:

- every sibilant and affricate is one class ``s`` (s, z, c, ts, tz, zh, sh, ch, sch, tsch,
  tch, shch, dzh, dj, j for ж, ž, š, č, ş): German writes ж as ``sh`` and з as ``s``,
  French writes ш as ``ch``, ISO 9 with its diacritics dropped writes ж as ``z``; only a
  single class lets all of them meet;
- ``kh``/``h``/``x`` (Kazakh and Uzbek Latin) → ``h``, and an ``h`` after a sibilant goes
  (BGN's Askhat for Асхат and Kazakh Latin's Ashat meet); ``gh``/``ğ`` → ``g``; ``q`` →
  ``k``; ``w`` → ``v``; doubled letters collapse;
- ``y``/``i``/``ı`` → ``i``; ``o``/``u``/``ö``/``ü``/``ū`` → ``u`` (Kazakh ө and ү are written
  о or у in Russian: Өктешбаев is Уктешбаев); ё in every spelling (``yo``, ``jo``, ``io``,
  ``ë``, ``e``) → ``e``, as Russian itself usually writes it;
- the glide before ``e`` is dropped at the start of a word and after a vowel (Yerlan/Erlan,
  Sergeyev/Sergeev/Sergejew, Ukteshbayev/Ukteshbaev) but kept elsewhere, so that Яна and
  Анна, Алия and Алла stay apart;
- surname endings ``-ov``/``-ow``/``-off``/``-ev``/``-ew``/``-eff`` and their feminine
  forms merge (Gorbachev/Gorbatschow/Gorbachyov, Smirnov/Smirnoff);
- patronymic endings (-ович, -евич, -овна, -евна, -ична, Kazakh -ұлы and -қызы, written
  joined or apart) are reduced to the father's name, so Нариманович and Нариманұлы match.

Latin spellings are ambiguous where conventions disagree: ``ch`` is ч in English and
French but х in German (Muchamedsjanow), ``j`` is ж in Kazakh Latin, French and common
English (Janaozen) but a glide in German and ISO 9 (Muhamedzjanov), ``x`` is х in Kazakh
and Uzbek Latin but ``ks`` in Alexander. A Latin token therefore gets every reading (at
most eight, usually one or two); Cyrillic tokens have exactly one.

Keys (:data:`KEY_WEIGHTS` ranks them for candidate selection):

- ``p:`` an unordered pair of token skeletons: very selective, order-free, and still
  present when the patronymic or the given name is missing from either side;
- ``q:`` the same pair on consonant skeletons (vowels dropped, voiced and voiceless
  consonants merged), for vowel spellings that differ between Kazakh and Russian forms;
- ``i:`` one token skeleton with the initial of another token, for the "Ukteshbayev E."
  and "E. N. Ukteshbayev" of news reports and court documents;
- ``n:`` one token skeleton, for single-word queries such as a surname alone;
- ``c:`` one token's consonant skeleton and, when it has four or more consonants, each
  variant with one consonant deleted: two spellings of such a word one consonant apart (a
  typo, a letter lost as in Uteshbaev) always share one of these keys.

Keys depend on these rules and on ICU's transform data: when the rules change,
:data:`KEYS_VERSION` changes, and after either change stored keys must be rebuilt.
"""

# Cyrillic and Latin letters side by side are what this module is about:
# ruff: noqa: RUF001, RUF002, RUF003
from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import combinations, product
from types import MappingProxyType
from typing import Final, Literal

import icu  # type: ignore[import-untyped]  # PyICU ships no type information
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rapidfuzz.distance import OSA, Levenshtein

from solidarity.search.given_names import GIVEN_NAME_GROUPS

KEYS_VERSION: Final = 1
"""Bumped whenever :func:`name_keys` would produce different keys for the same name."""

KEY_WEIGHTS: Final[Mapping[str, float]] = MappingProxyType(
    {"p": 8.0, "i": 5.0, "q": 4.0, "n": 3.0, "c": 1.0}
)
"""Weight of a shared key by kind, for ranking candidates before :func:`score` re-ranks
them: a shared pair of tokens says far more than one shared consonant skeleton."""

MAX_TOKENS: Final = 6
"""Names longer than this are cut for keys: pairs grow quadratically, and real names
(given name, patronymic, surname, maybe a double surname) never need more."""

_ICU_CHAIN: Final = "Kazakh-Latin/BGN; Any-Latin; Latin-ASCII"

# Latin letters whose generic ASCII fold would merge sounds that conventions keep apart
# (ISO 9 š is sh, not s; â is я, not a), marks for soft and hard signs, and ң (see the
# module docstring). Applied before ICU, on lower-cased text.
_BEFORE_ICU: Final = str.maketrans(
    {
        "š": "sh",
        "ž": "zh",
        "č": "ch",
        "ŝ": "shch",
        "ĉ": "ch",
        "ş": "sh",
        "ș": "sh",
        "ç": "ch",
        "ğ": "g",
        "ñ": "n",
        "ŋ": "n",
        "ң": "н",
        "ë": "yo",
        "è": "e",
        "â": "ya",
        "û": "yu",
        "ə": "a",
        "ɵ": "o",
        "ı": "i",
        "ʹ": "",
        "ʺ": "",
        "'": "",
        "’": "",
        "‘": "",
        "ʼ": "",
        "`": "",
        "´": "",
        "·": "",
    }
)
_RAW_TOKEN_SPLIT: Final = re.compile(r"[^\w'’‘ʼ`´ʹʺ·\u0300-\u036f]+")
# A double quote inside a word is a hard sign (Ob"edkov), not a quotation.
_QUOTE_IN_WORD: Final = re.compile(r"(?<=\w)[\"”](?=\w)")
_NON_ALNUM: Final = re.compile(r"[^a-z0-9]+")
# ICU writes soft and hard signs as ' and ", and BGN separates н·г (to tell it from ң)
# with a middle dot: none of them may split a word.
_SIGNS: Final = re.compile(r"['\"`·]")
_CYRILLIC: Final = re.compile(r"[\u0400-\u04ff\u0500-\u052f]")
_LATIN: Final = re.compile(r"[A-Za-z\u00c0-\u024f]")

# Latin spellings whose sound depends on the convention (see the module docstring), with
# their readings, English first: S stands for the sibilant class until the end.
_AMBIGUOUS: Final = (("x", ("h", "kS")), ("ch", ("S", "h")), ("j", ("S", "y")))
_SIBILANTS: Final = re.compile(r"zh|sh|[szc]")
_AFFRICATES: Final = re.compile(r"[td]+S")
# After kh → h, an h following a sibilant goes too: BGN's s·h (Асхат, Askhat) and
# Kazakh Latin's sh (Ashat) are the same letters, and so is Ашат.
_DIGRAPHS: Final = (
    ("kh", "h"),
    ("gh", "g"),
    ("ph", "f"),
    ("th", "t"),
    ("ck", "k"),
    ("Sh", "S"),
)
_LETTERS: Final = str.maketrans({"q": "k", "w": "v"})
_DOUBLES: Final = re.compile(r"(.)\1+")
_YO: Final = re.compile(r"(^|[b-df-hj-np-tv-zS])[yi]o")
_VOWEL_CLASSES: Final = str.maketrans({"y": "i", "o": "u"})
_GLIDE_BEFORE_E: Final = re.compile(r"(^|[aeiu])i+(?=e)")
_FINAL_OV: Final = re.compile(r"[eu][vf](a?)$")
# Patronymic endings on the folded token, in every convention: -ович/-евич (ovich, ovic,
# ovitch, owitsch, yevich, jewitsch), -овна/-евна, -ична, Kazakh -ұлы (uly, ouly) and
# -қызы (qyzy, kyzy, kysy). The glide is part of the ending (yevich) but a plain i is
# not, so Алиевич and Aliyevich both leave the root "ali".
_PATRONYMIC: Final = re.compile(
    r"(?:(?:[oe]|[yj]e)[vw]i(?:ch|c|tch|tsch|tsh)"
    r"|(?:[oe]|[yj]e)[vw]na"
    r"|i(?:ch|c|tch|tsch)na"
    r"|o?u(?:ly|li|lu)"
    r"|[qk][yi][zs][yi])$"
)
_SHORT_PATRONYMIC: Final = re.compile(r"i(?:ch|c|tch|tsch)$")
_SEPARATE_PATRONYMIC: Final = frozenset({"uli", "kisi"})
_SURNAME_ENDING: Final = re.compile(r"(v|va|in|ina|ski|ska|skaia|enku|uk|ian|bai|uli)$")
_CONSONANT_CLASSES: Final = str.maketrans(
    {"a": None, "e": None, "i": None, "u": None, "b": "p", "d": "t", "g": "k", "h": "k", "v": "f"}
)
_VOWELS: Final = frozenset("aeiu")

_local = threading.local()


def _transliterator() -> icu.Transliterator:
    # ICU transliterators are not safe to share between threads (the server is threaded),
    # and building one takes milliseconds: one per thread.
    transliterator: icu.Transliterator | None = getattr(_local, "transliterator", None)
    if transliterator is None:
        transliterator = icu.Transliterator.createInstance(_ICU_CHAIN)
        _local.transliterator = transliterator
    return transliterator


def fold(text: str) -> str:
    """Return the script-independent comparison form of a name: lower-case ASCII words.

    Cyrillic (Russian and Kazakh) goes through ICU's BGN/PCGN Kazakh transform, Latin
    letters with diacritics through a small table and ICU's Latin-ASCII, so
    ``fold("Өктешбаев") == fold("Öktešbaev") == "okteshbaev"`` and ``fold("Жаңаөзен")``
    is ``"zhanaozen"``. Apostrophes and soft or hard signs vanish inside words; any other
    punctuation separates words. Folding twice changes nothing.
    """
    lowered = unicodedata.normalize("NFC", _QUOTE_IN_WORD.sub("", text)).lower()
    latin = _transliterator().transliterate(lowered.translate(_BEFORE_ICU))
    # Marks ICU leaves behind (the dot of a lower-cased İ) must not split a word either.
    decomposed = unicodedata.normalize("NFKD", _SIGNS.sub("", latin).lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NON_ALNUM.split(plain)).strip()


def _readings(token: str, cyrillic: bool) -> list[str]:
    """The ways a folded token can be read: one for Cyrillic, up to eight for Latin. The
    first reading follows English conventions."""
    if cyrillic:
        # ICU's output has no j or x, and its ch is always ч.
        return [token.replace("ch", "S")]
    readings = [token]
    for spelling, sounds in _AMBIGUOUS:
        if spelling in token:
            readings = [r.replace(spelling, sound) for sound in sounds for r in readings]
    return readings


def _phonetic(reading: str) -> str:
    """Reduce one reading of a folded token to its phonetic skeleton (module docstring)."""
    s = _AFFRICATES.sub("S", _SIBILANTS.sub("S", reading))
    for digraph, replacement in _DIGRAPHS:
        s = s.replace(digraph, replacement)
    s = _DOUBLES.sub(r"\1", s.translate(_LETTERS))
    s = _DOUBLES.sub(r"\1", _YO.sub(r"\1e", s).translate(_VOWEL_CLASSES))
    s = _DOUBLES.sub(r"\1", _GLIDE_BEFORE_E.sub(r"\1", s))
    return _DOUBLES.sub(r"\1", _FINAL_OV.sub(r"v\1", s)).lower()


def _consonants(form: str) -> str:
    """Consonant skeleton: vowels dropped, voiced and voiceless pairs merged."""
    return _DOUBLES.sub(r"\1", form.lstrip("=").translate(_CONSONANT_CLASSES))


@dataclass(frozen=True)
class _Token:
    text: str
    """The folded token, as written."""
    forms: frozenset[str]
    """Phonetic skeletons, one per reading; a patronymic's are ``=`` + the father's name."""
    primary: str
    """The form of the first reading (English conventions), for ordered comparisons."""
    patronymic: bool
    cyrillic: bool
    """Written in Cyrillic: then the token has exactly one reading."""

    @cached_property
    def consonants(self) -> frozenset[str]:
        return frozenset(c for c in (_consonants(f) for f in self.forms) if c)

    @cached_property
    def initials(self) -> frozenset[str]:
        """First sound of each form: Е., Ye. and Есенбек all give ``e``; Ж., Zh. and J. ``s``."""
        return frozenset(f.lstrip("=")[:1] for f in self.forms if f.lstrip("="))

    @property
    def is_initial(self) -> bool:
        """An initial (Е., Zh., Ye.): one sound, compatible with any name it starts."""
        return len(self.primary.lstrip("=")) <= 1


def _father_form(form: str) -> str:
    """A patronymic's root as a comparable form: ``=`` marks it, and a final й after a
    vowel goes (Жақсыбайұлы and Жаксыбаевич both give ``=saksiba``)."""
    if len(form) > 3 and form.endswith("i") and form[-2] in _VOWELS:
        form = form[:-1]
    return "=" + form


def _make_token(text: str, cyrillic: bool) -> _Token:
    match = _PATRONYMIC.search(text)
    if match and match.start() >= 3:
        root = text[: match.start()]
        forms = [_father_form(_phonetic(r)) for r in _readings(root, cyrillic)]
        return _Token(text, frozenset(forms), forms[0], patronymic=True, cyrillic=cyrillic)
    forms = [_phonetic(r) for r in _readings(text, cyrillic)]
    return _Token(text, frozenset(forms), forms[0], patronymic=False, cyrillic=cyrillic)


@lru_cache(maxsize=32768)
def _word_tokens(word: str) -> tuple[_Token, ...]:
    """The tokens of one written word. Cached: given names, patronymics and surnames recur
    across thousands of records, and folding is the costly step."""
    cyrillic = bool(_CYRILLIC.search(word))
    return tuple(_make_token(folded, cyrillic) for folded in fold(word).split())


@lru_cache(maxsize=8192)
def _analyse(name: str) -> tuple[_Token, ...]:
    """Tokens of a name with their phonetic forms; a separate ұлы/қызы joins its father."""
    result: list[_Token] = []
    for word in _RAW_TOKEN_SPLIT.split(_QUOTE_IN_WORD.sub("", name)):
        for token in _word_tokens(word):
            if token.forms <= _SEPARATE_PATRONYMIC and result and not result[-1].patronymic:
                father = result.pop()
                forms = [_father_form(f) for f in sorted(father.forms)]
                token = _Token(
                    text=f"{father.text} {token.text}",
                    forms=frozenset(forms),
                    primary=_father_form(father.primary),
                    patronymic=True,
                    cyrillic=father.cyrillic,
                )
            result.append(token)
    return tuple(result)


def _deletions(consonants: str) -> set[str]:
    if len(consonants) < 4:
        return {consonants}
    return {consonants} | {consonants[:i] + consonants[i + 1 :] for i in range(len(consonants))}


def name_keys(full_name: str) -> set[str]:
    """Index keys for a name, in any script, order or spelling (see the module docstring).

    Two spellings of the same name share at least one key; keys are order-independent over
    tokens, so "Өктешбаев Есенбек" and "Esenbek Ukteshbayev" share pair keys. An initial
    only counts beside a full token ("Ukteshbayev E."); empty names give no keys. Keys are
    short ASCII strings prefixed by their kind (``p:``, ``i:``, ``q:``, ``n:``, ``c:``),
    weighted by :data:`KEY_WEIGHTS`.
    """
    analysed = _analyse(full_name)[:MAX_TOKENS]
    tokens = [t for t in analysed if not t.is_initial]
    keys: set[str] = set()
    for token, other in product(tokens, analysed):
        if other is not token:
            keys.update(f"i:{form}|{initial}" for form in token.forms for initial in other.initials)
    for token in tokens:
        keys.update("n:" + form for form in token.forms)
        for consonants in token.consonants:
            keys.update("c:" + variant for variant in _deletions(consonants))
    for first, second in combinations(tokens, 2):
        for a, b in product(first.forms, second.forms):
            keys.add("p:" + "|".join(sorted((a, b))))
        for a, b in product(first.consonants, second.consonants):
            keys.add("q:" + "|".join(sorted((a, b))))
    return keys


def key_weight(key: str) -> float:
    """The weight of one key from :func:`name_keys`, by its kind prefix."""
    return KEY_WEIGHTS.get(key.partition(":")[0], 0.0)


def _token_similarity(a: _Token, b: _Token) -> float:
    """1.0 for the same spelling, close to 1 for the same sounds in another convention."""
    if a.is_initial or b.is_initial:
        # An initial is compatible with any name starting with that sound, never certain.
        return 0.8 if a.initials & b.initials else 0.0
    sounds = max(Levenshtein.normalized_similarity(x, y) for x in a.forms for y in b.forms)
    spelling = Levenshtein.normalized_similarity(a.text, b.text)
    return 0.85 * sounds + 0.15 * spelling


def _align(query: Sequence[_Token], candidate: Sequence[_Token]) -> list[tuple[float, int, int]]:
    """Pair tokens best-first, each used once: token order never matters."""
    scored = sorted(
        (
            (_token_similarity(q, c), i, j)
            for i, q in enumerate(query)
            for j, c in enumerate(candidate)
        ),
        reverse=True,
    )
    used_query: set[int] = set()
    used_candidate: set[int] = set()
    pairs: list[tuple[float, int, int]] = []
    for similarity, i, j in scored:
        if i in used_query or j in used_candidate:
            continue
        used_query.add(i)
        used_candidate.add(j)
        pairs.append((similarity, i, j))
    return pairs


def score(query: str, candidate_name: str) -> float:
    """Similarity in [0, 1] of a query to one candidate name, for re-ranking candidates.

    Tokens are aligned regardless of order and compared on their phonetic skeletons (with
    a small weight on the folded spelling, so an exact spelling ranks first). Every query
    token must find its match; candidate tokens the query leaves out (a patronymic, a
    given name) cost only a little, since searching by surname alone is normal. Names
    written as one word on one side and two on the other are compared whole as well.
    """
    query_tokens = _analyse(query)
    candidate_tokens = _analyse(candidate_name)
    if not query_tokens or not candidate_tokens:
        return 0.0
    pairs = _align(query_tokens, candidate_tokens)
    matched = sum(similarity for similarity, _, _ in pairs)
    aligned = 0.9 * matched / len(query_tokens) + 0.1 * matched / len(candidate_tokens)
    if len(query_tokens) == len(candidate_tokens):
        return aligned
    joined = Levenshtein.normalized_similarity(
        "".join(t.primary.lstrip("=") for t in query_tokens),
        "".join(t.primary.lstrip("=") for t in candidate_tokens),
    )
    return max(aligned, 0.9 * joined)


def script_of(text: str) -> Literal["cyrillic", "latin", "mixed", "none"]:
    """Which script a name is written in, for messages such as "in another script"."""
    cyrillic = bool(_CYRILLIC.search(text))
    latin = bool(_LATIN.search(text))
    if cyrillic and latin:
        return "mixed"
    return "cyrillic" if cyrillic else "latin" if latin else "none"


@lru_cache(maxsize=1)
def _given_name_groups() -> tuple[dict[str, int], dict[str, frozenset[int]]]:
    """Known given names → the index of their name: by folded spelling, and by phonetic
    form. The spelling tells apart names the coarse phonetic classes merge (Жанат and
    Санат, Азат and Асхат); the form recognises them in any other convention."""
    spellings: dict[str, int] = {}
    forms: dict[str, set[int]] = {}
    for index, line in enumerate(GIVEN_NAME_GROUPS):
        for variant in line.split():
            for token in _analyse(variant):
                spellings.setdefault(token.text, index)
                for form in token.forms:
                    forms.setdefault(form, set()).add(index)
    return spellings, {form: frozenset(groups) for form, groups in forms.items()}


def _known_groups(token: _Token) -> frozenset[int]:
    """Which known names a token can be: one for a known spelling, else every name one of
    its readings sounds like (Aijan may be Айжан or Аян)."""
    spellings, forms = _given_name_groups()
    if token.text in spellings:
        return frozenset({spellings[token.text]})
    return frozenset().union(*(forms.get(form, frozenset()) for form in token.forms))


def _same_given(a: _Token, b: _Token) -> bool:
    groups_a, groups_b = _known_groups(a), _known_groups(b)
    if groups_a and groups_b:
        return bool(groups_a & groups_b)
    if a.forms & b.forms:
        return True
    if OSA.distance(a.text, b.text) == 1 and Levenshtein.distance(a.text, b.text) == 2:
        return True  # two letters swapped (Жазира, Жазриа): a slip, never another name
    distance, x, y = min((Levenshtein.distance(x, y), x, y) for x in a.forms for y in b.forms)
    if distance > 1:
        return False
    (operation,) = Levenshtein.editops(x, y)
    if operation.src_pos == 0 and operation.dest_pos == 0:
        return False  # names differ in their first letter (Дарина, Марина); typos rarely do
    if bool(groups_a) != bool(groups_b) and min(len(x), len(y)) > 4:
        return True  # one real name and an unknown one a letter away: its misspelling
    changed = {y[operation.dest_pos]} if operation.tag != "delete" else set()
    if operation.tag != "insert":
        changed.add(x[operation.src_pos])
    # A consonant is what tells short names apart (Ерлан/Ержан, Арман/Арлан): two short
    # names a consonant apart are taken as two names, not as one name and a typo.
    return not (min(len(x), len(y)) <= 7 and not changed <= _VOWELS)


def same_given_name(a: str, b: str) -> bool:
    """Whether two given names (or two fathers' names) can be the same name.

    The same skeleton in any script or convention is the same name (Нұрлан, Нурлан,
    Nurlan). Two different names from the known list (:mod:`.given_names`) are different
    even one letter apart: Ерлан and Ержан, Марат and Мурат, Дана and Дина. Otherwise, for
    names one letter apart:

    - a different first letter makes another name (Дарина, Марина): typos rarely hit it;
    - two swapped letters are a typo (Жазира, Жазриа);
    - an unknown name of five letters or more one letter away from a known name is its
      misspelling (Нурлам for Нурлан);
    - between two unknown names, one changed vowel, or one changed letter in a name longer
      than seven letters, is a typo, and one changed consonant in a shorter name makes
      another name, because that is how short Kazakh and Russian names differ.

    The list keeps the rule honest where it errs: two real names a vowel apart, or a real
    name missing from the list beside its one-letter neighbour, must be listed.
    """
    tokens_a, tokens_b = _analyse(a), _analyse(b)
    if len(tokens_a) != 1 or len(tokens_b) != 1:
        return fold(a) == fold(b) and bool(tokens_a)
    return _same_given(tokens_a[0], tokens_b[0])


@dataclass(frozen=True)
class NameParts:
    """A name split into roles. Empty strings for roles the name does not have."""

    given: str = ""
    patronymic: str = ""
    surname: str = ""
    other: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Parts:
    given: _Token | None
    patronymic: _Token | None
    surname: _Token | None
    other: tuple[_Token, ...]


def _short_patronymic(token: _Token) -> _Token | None:
    match = _SHORT_PATRONYMIC.search(token.text)
    if match is None or token.patronymic or match.start() < 2:
        return None
    root = token.text[: match.start()]
    forms = [_father_form(_phonetic(r)) for r in _readings(root, token.cyrillic)]
    return _Token(token.text, frozenset(forms), forms[0], patronymic=True, cyrillic=token.cyrillic)


def _looks_like_surname(token: _Token) -> bool:
    return not token.patronymic and any(_SURNAME_ENDING.search(f) for f in token.forms)


def _parts(name: str) -> _Parts:
    """Guess roles: patronymics by their endings, surnames by theirs, given names by the
    known list, and otherwise the usual orders (given first in Latin and in "Given
    Patronymic Surname", surname first in the Russian official "Surname Given
    Patronymic")."""
    tokens = [t for t in _analyse(name) if t.text]
    if not tokens:
        return _Parts(None, None, None, ())
    patronymic_index = None
    if len(tokens) >= 2:
        indices = [i for i, t in enumerate(tokens) if t.patronymic]
        patronymic_index = indices[-1] if indices else None
    if patronymic_index is None and len(tokens) == 3:
        # The short form of fathers' names in -а/-я (Ильич, Никитич, Кузьмич) is only
        # read as a patronymic in a three-part name: alone it is a surname (Бабич).
        for index in (1, 2):
            short = _short_patronymic(tokens[index])
            if short is not None and not _known_groups(tokens[index]):
                tokens[index] = short
                patronymic_index = index
                break
    rest = [i for i in range(len(tokens)) if i != patronymic_index]
    given_index: int | None = None
    surname_index: int | None = None
    if len(rest) == 1:
        only = tokens[rest[0]]
        if patronymic_index is not None and _known_groups(only):
            given_index = rest[0]
        else:
            surname_index = rest[0]
    else:
        givens = [i for i in rest if _known_groups(tokens[i])]
        # Марина, Дина, Алина end like surnames (-ина): a known given name is not one.
        surnames = [i for i in rest if _looks_like_surname(tokens[i]) and i not in givens]
        others = [i for i in rest if i not in givens] or rest
        if surnames:
            surname_index = surnames[-1]
        elif patronymic_index is not None and patronymic_index == len(tokens) - 1:
            surname_index = rest[0]
        else:
            surname_index = others[-1]
        remaining = [i for i in rest if i != surname_index]
        if givens and givens[0] in remaining:
            given_index = givens[0]
        elif patronymic_index is not None and patronymic_index - 1 in remaining:
            given_index = patronymic_index - 1
        else:
            given_index = remaining[0]
    roles = {given_index, surname_index, patronymic_index}
    return _Parts(
        given=tokens[given_index] if given_index is not None else None,
        patronymic=tokens[patronymic_index] if patronymic_index is not None else None,
        surname=tokens[surname_index] if surname_index is not None else None,
        other=tuple(t for i, t in enumerate(tokens) if i not in roles),
    )


def split_name(full_name: str) -> NameParts:
    """Split a full name into given name, patronymic and surname, in folded form.

    A best guess from endings (-ов, -ева, -ович, -ұлы…), the known given names and the
    usual orders; used to explain matches, never to store a name.
    """
    parts = _parts(full_name)
    return NameParts(
        given=parts.given.text if parts.given else "",
        patronymic=parts.patronymic.text if parts.patronymic else "",
        surname=parts.surname.text if parts.surname else "",
        other=tuple(t.text for t in parts.other),
    )


_Outcome = Literal["same", "similar", "gender", "different", "initial", "missing", "absent"]
"""How one role (surname, given name, patronymic) of two names compares. "similar" is the
same name spelled differently; "gender" a man's and a woman's form of one surname;
"initial" an initial compatible with the other's name. The order is the order of
strength when several name forms of a record are compared."""

_STRENGTH: Final[tuple[_Outcome, ...]] = (
    "same",
    "similar",
    "gender",
    "different",
    "initial",
    "missing",
    "absent",
)


@dataclass(frozen=True)
class _Comparison:
    surname: _Outcome
    given: _Outcome
    patronymic: _Outcome
    similarity: float
    """Mean similarity of the roles both names have, in [0, 1]."""


def _root(token: _Token) -> _Token:
    """A patronymic compared as its father's given name."""
    if not token.patronymic:
        return token
    forms = frozenset(f.lstrip("=") for f in token.forms)
    return _Token(token.text, forms, token.primary.lstrip("="), False, token.cyrillic)


def _gender_pair(a: _Token, b: _Token) -> bool:
    """Иванов and Иванова: the same family, not the same person."""
    return any(x + "a" == y or y + "a" == x for x in a.forms for y in b.forms)


def _same_surname(a: _Token, b: _Token) -> bool:
    """The same surname, or one typo away from it in a surname of five letters or more."""
    if a.forms & b.forms:
        return True
    if min(len(a.text), len(b.text)) < 5:
        return False
    if OSA.distance(a.text, b.text) <= 1:
        return True
    return any(OSA.distance(x, y) <= 1 for x in a.forms for y in b.forms if len(x) >= 5)


def _compare_surnames(a: _Token | None, b: _Token | None) -> _Outcome:
    if a is None or b is None:
        return "absent" if a is None and b is None else "missing"
    if _gender_pair(a, b):
        return "gender"
    if a.forms & b.forms:
        return "same"
    return "similar" if _same_surname(a, b) else "different"


def _compare_given(a: _Token | None, b: _Token | None) -> _Outcome:
    if a is None or b is None:
        return "absent" if a is None and b is None else "missing"
    a, b = _root(a), _root(b)
    if a.is_initial or b.is_initial:
        return "initial" if a.initials & b.initials else "different"
    if a.forms & b.forms:
        return "same"
    return "similar" if _same_given(a, b) else "different"


def _compare(a_name: str, b_name: str) -> _Comparison:
    a, b = _parts(a_name), _parts(b_name)
    outcomes = (
        _compare_surnames(a.surname, b.surname),
        _compare_given(a.given, b.given),
        _compare_given(a.patronymic, b.patronymic),
    )
    similarities = [
        _token_similarity(_root(x), _root(y))
        for x, y, outcome in zip(
            (a.surname, a.given, a.patronymic),
            (b.surname, b.given, b.patronymic),
            outcomes,
            strict=True,
        )
        if x is not None and y is not None and outcome != "initial"
    ]
    similarity = sum(similarities) / len(similarities) if similarities else 0.0
    return _Comparison(*outcomes, similarity=similarity)


def _strongest(outcomes: Iterable[_Outcome]) -> _Outcome:
    return min(outcomes, key=_STRENGTH.index, default="absent")


# The words of duplicate warnings and search results, one whole message per clause so that each
# language can order its words (Russian and Kazakh do not say "same surname" + "in another
# script" the way English does). They are translated when a reason is worded, i.e. during the
# request that shows it, in that request's language: reasons are never stored.
_SURNAME_WORDS: Final[Mapping[_Outcome, Promise]] = MappingProxyType(
    {
        "similar": gettext_lazy("surname spelled differently"),
        "gender": gettext_lazy("surnames of a man and a woman"),
        "different": gettext_lazy("different surname"),
        "initial": gettext_lazy("different surname"),
        "missing": gettext_lazy("surname missing"),
        "absent": gettext_lazy("no surname"),
    }
)
_GIVEN_WORDS: Final[Mapping[_Outcome, Promise]] = MappingProxyType(
    {
        "same": gettext_lazy("same given name"),
        "similar": gettext_lazy("given name spelled differently"),
        "gender": gettext_lazy("different given name"),
        "different": gettext_lazy("different given name"),
        "initial": gettext_lazy("given name only as an initial"),
        "missing": gettext_lazy("given name missing"),
    }
)
_PATRONYMIC_WORDS: Final[Mapping[_Outcome, Promise]] = MappingProxyType(
    {
        "same": gettext_lazy("same patronymic"),
        "similar": gettext_lazy("patronymic spelled differently"),
        "gender": gettext_lazy("different patronymic"),
        "different": gettext_lazy("different patronymic"),
        "initial": gettext_lazy("patronymic only as an initial"),
        "missing": gettext_lazy("patronymic missing"),
    }
)


def _clauses(comparison: _Comparison, other_script: bool) -> list[str]:
    """The words of a duplicate warning for one comparison of roles, in the active language."""
    surname, given, patronymic = comparison.surname, comparison.given, comparison.patronymic
    if surname == "same" and given in {"same", "absent"} and patronymic in {"same", "absent"}:
        return [_("same name in another script") if other_script else _("same name")]
    clauses: list[str] = []
    if surname == "same" and given == "same":
        clauses.append(
            _("same given name and surname in another script")
            if other_script
            else _("same given name and surname")
        )
    else:
        if surname == "same":
            clauses.append(
                _("same surname in another script") if other_script else _("same surname")
            )
        else:
            clauses.append(str(_SURNAME_WORDS[surname]))
        if given != "absent":
            clauses.append(str(_GIVEN_WORDS[given]))
    if patronymic != "absent":
        clauses.append(str(_PATRONYMIC_WORDS[patronymic]))
    return clauses


def join_clauses(clauses: Iterable[str]) -> str:
    """Clauses of a reason as one phrase ("same surname, different given name"); Russian and
    Kazakh separate them with a comma too."""
    return ", ".join(clauses)


def match_reason(a: str, b: str) -> str:
    """Say in a few words why two names look alike, for duplicate warnings.

    For example "same given name and surname in another script, patronymic missing" or
    "same surname, different given name". Roles come from :func:`split_name`. The words are
    in the active language.
    """
    other_script = script_of(a) != script_of(b)
    if fold(a) == fold(b) and fold(a):
        if other_script:
            return _("same name in another script")
        return _("same name") if a.strip() == b.strip() else _("same name, written differently")
    return join_clauses(_clauses(_compare(a, b), other_script))


def likely_same_person(
    a_names: Iterable[str],
    b_names: Iterable[str],
    a_birth_year: int | None,
    b_birth_year: int | None,
) -> tuple[bool, float, str]:
    """Decide whether two person records probably describe one person.

    ``a_names`` and ``b_names`` are every name form of each record; every pair of forms is
    compared and each role keeps its strongest outcome, so a patronymic written in one
    form only still counts. Returns (likely the same, score in [0, 1], reason for the
    warning, such as "same surname in another script, same given name, same birth year").

    It is the same person when the surnames match (in any script or spelling, one typo
    allowed in a surname of five letters or more), the given names are the same name
    (:func:`same_given_name`), nothing conflicts, and at least one more fact confirms it:
    the same patronymic or the same birth year. Namesakes with different patronymics,
    siblings whose given names differ by one letter (Ерлан/Ержан), a brother and a sister
    (Иванов/Иванова) and people born more than a year apart are never the same. Without a
    patronymic or a birth year on both sides, two records with the same given name and
    surname are not called the same person, but their score stays high so that a warning
    can still say so.
    """
    a_names, b_names = list(a_names), list(b_names)
    comparisons = [_compare(a, b) for a in a_names for b in b_names]
    if not comparisons:
        return (False, 0.0, _("no names to compare"))
    combined = _Comparison(
        surname=_strongest(c.surname for c in comparisons),
        given=_strongest(c.given for c in comparisons),
        patronymic=_strongest(c.patronymic for c in comparisons),
        similarity=max(c.similarity for c in comparisons),
    )
    scripts_a = {script_of(name) for name in a_names}
    scripts_b = {script_of(name) for name in b_names}
    clauses = _clauses(combined, other_script=scripts_a.isdisjoint(scripts_b))

    conflict = combined.surname not in {"same", "similar"}
    conflict |= combined.given == "different" or combined.patronymic == "different"
    confirmations = int(combined.patronymic in {"same", "similar"})
    if a_birth_year is not None and b_birth_year is not None:
        if a_birth_year == b_birth_year:
            confirmations += 1
            clauses.append(_("same birth year"))
        elif abs(a_birth_year - b_birth_year) == 1:
            clauses.append(_("birth years one apart"))
        else:
            conflict = True
            clauses.append(
                _("born %(first)s and %(second)s") % {"first": a_birth_year, "second": b_birth_year}
            )

    if conflict:
        return (False, round(min(0.5, 0.5 * combined.similarity), 3), join_clauses(clauses))
    if combined.given not in {"same", "similar"}:
        return (False, round(0.5 * combined.similarity, 3), join_clauses(clauses))
    if confirmations == 0:
        clauses.append(_("nothing else to tell them apart"))
    value = combined.similarity * min(1.0, 0.7 + 0.15 * confirmations)
    return (confirmations > 0, round(value, 3), join_clauses(clauses))
