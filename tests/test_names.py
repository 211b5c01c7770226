"""Name matching across scripts: folding, index keys, scores and duplicate decisions."""

# Cyrillic and Latin letters side by side are what these tests are about:
# ruff: noqa: RUF001
from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.names_dataset import SCHEMES, build, transliterate
from solidarity.search.given_names import GIVEN_NAME_GROUPS
from solidarity.search.names import (
    fold,
    key_weight,
    likely_same_person,
    match_reason,
    name_keys,
    same_given_name,
    score,
    split_name,
)

# No example database: the suite must leave nothing behind in the working tree.
FAST = settings(max_examples=100, deadline=None, database=None)

SPELLINGS = {
    "Өктешбаев": ["Уктешбаев", "Ukteshbayev", "Uteshbaev", "Öktešbaev", "Oktesbaev"],
    "Жаңаөзен": ["Zhanaozen", "Janaozen", "Žanaözen", "Жанаозен"],
    "Мухамедзянов": [
        "Mukhamedzyanov",
        "Muhamedzjanov",
        "Mukhamedzianov",
        "Muchamedsjanow",
        "MUKHAMEDZIANOV",
    ],
}


@pytest.mark.parametrize(
    ("canonical", "spelling"),
    [(canonical, spelling) for canonical, spellings in SPELLINGS.items() for spelling in spellings],
)
def test_every_spelling_shares_a_key_and_scores_high(canonical: str, spelling: str) -> None:
    """Each spelling from the issue shares an index key with the Cyrillic form and scores
    at least 0.85 against it."""
    assert name_keys(spelling) & name_keys(canonical)
    assert score(spelling, canonical) >= 0.85


def test_fold_gives_one_ascii_form_for_kazakh_and_scholarly_spellings() -> None:
    """Kazakh Cyrillic, ISO 9 and Kazakh Latin spellings of one name fold alike."""
    assert fold("Өктешбаев") == fold("Öktešbaev") == "okteshbaev"
    assert fold("Жаңаөзен") == fold("Žanaözen") == fold("Zhanaözen") == "zhanaozen"
    assert fold("Ökteşbaev") == "okteshbaev"


@pytest.mark.parametrize("letter", list("ӘӨҰҮҚҒҢҺІәөұүқғңһі"))
def test_fold_keeps_every_kazakh_letter(letter: str) -> None:
    """No Kazakh letter is dropped or turned into a symbol: each folds to Latin letters."""
    assert re.fullmatch(r"[a-z]+", fold(letter))


def test_fold_drops_signs_inside_words_and_splits_on_punctuation() -> None:
    """Soft and hard signs, apostrophes and BGN's middle dot stay inside the word; hyphens,
    commas and dots separate words."""
    assert fold("Ильяс") == "ilyas"
    assert fold('Ob"edkov') == "obedkov"
    assert fold("Iman·galiev") == "imangaliev"
    assert fold("Қасым-Жомарт Тоқаев, А.") == "qasym zhomart toqaev a"
    assert fold("") == ""


def test_keys_ignore_order_and_a_missing_patronymic() -> None:
    """The official "Surname Given Patronymic" order and an English "Given Surname" share a
    pair key with the stored "Given Patronymic Surname"."""
    stored = name_keys("Есенбек Нариманович Өктешбаев")
    assert {k for k in stored & name_keys("Ukteshbayev Esenbek") if k.startswith("p:")}
    assert {k for k in stored & name_keys("Өктешбаев Есенбек Нариманович") if k.startswith("p:")}


def test_keys_match_patronymics_in_every_form() -> None:
    """Нариманович, Нариманұлы, Nariman uly and Narimanowitsch are the same patronymic."""
    keys = [
        name_keys(name)
        for name in (
            "Тахир Нариманович",
            "Тахир Нариманұлы",
            "Takhir Nariman uly",
            "Tahir Narimanowitsch",
        )
    ]
    assert set.intersection(*[{k for k in ks if k.startswith("p:")} for ks in keys])


def test_keys_survive_a_one_letter_typo() -> None:
    """A changed, lost or added consonant still leaves a shared consonant key."""
    stored = name_keys("Мухамедзянов")
    for typo in ("Mukhamedzyabov", "Mukhamedyanov", "Mukhamedzyanlov"):
        assert stored & name_keys(typo), typo


def test_surname_and_initial_share_a_weighted_key() -> None:
    """ "Ukteshbayev E." finds Есенбек Өктешбаев through a surname-and-initial key, worth
    more than a lone surname key."""
    shared = name_keys("Ukteshbayev E.") & name_keys("Есенбек Нариманович Өктешбаев")
    assert max(key_weight(k) for k in shared) > key_weight("n:anything")


def test_keys_of_empty_names_and_lone_initials() -> None:
    """Nothing to index gives no keys."""
    assert name_keys("") == set()
    assert name_keys("  -  ") == set()
    assert name_keys("E.") == set()


def test_score_ranks_the_exact_given_name_first() -> None:
    """Erlan Ukteshbayev ranks Ерлан above his brother Ержан, and an unrelated name far
    below."""
    query = "Erlan Ukteshbayev"
    erlan = score(query, "Ерлан Нариманович Өктешбаев")
    erzhan = score(query, "Ержан Нариманович Өктешбаев")
    other = score(query, "Айгүл Серікқызы Жұмабаева")
    assert erlan > erzhan > other
    assert other < 0.5


def test_score_of_a_surname_alone_stays_high() -> None:
    """Searching by surname alone is normal: the missing given name costs little."""
    assert score("Ukteshbayev", "Есенбек Нариманович Өктешбаев") >= 0.85
    assert score("", "Есенбек Өктешбаев") == 0.0


def test_split_name_reads_both_orders_and_kazakh_patronymics() -> None:
    """Roles come from endings and known given names, in either order."""
    official = split_name("Левина Марина Сергеевна")
    assert (official.surname, official.given, official.patronymic) == (
        "levina",
        "marina",
        "sergeevna",
    )
    kazakh = split_name("Есенбек Нариман ұлы Өктешбаев")
    assert (kazakh.given, kazakh.patronymic, kazakh.surname) == (
        "esenbek",
        "nariman uly",
        "okteshbaev",
    )
    short = split_name("Пётр Ильич Дмитриев")
    assert short.patronymic == "ilich"


def test_match_reason_names_what_is_alike() -> None:
    """Reasons say which parts match, in which script, and which part is missing."""
    assert (
        match_reason("Есенбек Нариманович Өктешбаев", "Esenbek Ukteshbayev")
        == "same given name and surname in another script, patronymic missing"
    )
    assert match_reason("Есенбек Өктешбаев", "Есенбек Өктешбаев") == "same name"
    assert match_reason("Өктешбаев", "Ukteshbayev") == "same name in another script"
    assert match_reason("Есенбек Өктешбаев", "Ukteshbayev") == (
        "same surname in another script, given name missing"
    )
    assert match_reason("Ерлан Өктешбаев", "Ержан Өктешбаев") == (
        "same surname, different given name"
    )


def test_same_person_in_another_script_with_the_same_birth_year() -> None:
    """One person recorded from a Russian and an English source is a likely duplicate."""
    same, value, reason = likely_same_person(
        ["Есенбек Нариманович Өктешбаев", "Есенбек Нариманұлы Өктешбаев"],
        ["Esenbek Ukteshbayev"],
        1970,
        1970,
    )
    assert same
    assert value >= 0.8
    assert reason == "same given name and surname in another script, patronymic missing, " + (
        "same birth year"
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ерлан Нариманович Өктешбаев", "Ержан Нариманович Өктешбаев"),
        ("Erlan Ukteshbayev", "Erzhan Ukteshbayev"),
        ("Нурлан Серикович Жумабаев", "Нуржан Серикович Жумабаев"),
        ("Марат Асанович Нурпейисов", "Мурат Асанович Нурпейисов"),
        ("Дана Маратовна Ахметова", "Дина Маратовна Ахметова"),
    ],
)
def test_siblings_a_letter_apart_are_different_people(a: str, b: str) -> None:
    """Ерлан and Ержан are two names, not a typo, even as twins with one birth year."""
    same, value, reason = likely_same_person([a], [b], 1985, 1985)
    assert not same
    assert value <= 0.5
    assert "different given name" in reason


def test_namesakes_with_different_patronymics_are_different_people() -> None:
    """Same given name, surname and birth year, but different fathers: namesakes."""
    same, _, reason = likely_same_person(
        ["Есенбек Нариманович Өктешбаев"], ["Есенбек Серикович Өктешбаев"], 1970, 1970
    )
    assert not same
    assert "different patronymic" in reason
    same, _, _ = likely_same_person(
        ["Есенбек Ерланович Өктешбаев"], ["Esenbek Erzhanovich Ukteshbayev"], 1970, 1970
    )
    assert not same


def test_brother_and_sister_and_distant_birth_years_are_different_people() -> None:
    """Иванов and Иванова are a family; people born years apart are not one person."""
    assert not likely_same_person(["Ерлан Өктешбаев"], ["Ерлан Өктешбаева"], 1980, 1980)[0]
    same, _, reason = likely_same_person(
        ["Есенбек Нариманович Өктешбаев"], ["Есенбек Нариманович Өктешбаев"], 1970, 1990
    )
    assert not same
    assert "born 1970 and 1990" in reason


def test_same_names_without_anything_to_confirm_are_not_called_the_same() -> None:
    """Two bare "given name and surname" records could be namesakes: a warning, not a
    verdict."""
    same, value, reason = likely_same_person(
        ["Есенбек Өктешбаев"], ["Esenbek Ukteshbayev"], None, None
    )
    assert not same
    assert value >= 0.6
    assert reason.endswith("nothing else to tell them apart")
    assert likely_same_person([], ["Есенбек Өктешбаев"], None, None) == (
        False,
        0.0,
        "no names to compare",
    )


def test_a_typo_in_a_surname_or_a_swap_in_a_given_name_is_still_the_same_person() -> None:
    """Typos are typos when no real name explains them."""
    assert likely_same_person(
        ["Жазира Турсынбековна Ауезханова"], ["Жазриа Турсынбековна Ауезханова"], 1990, 1990
    )[0]
    assert likely_same_person(
        ["Мухтар Канатович Макашев"], ["Мухтар Канатович Маашев"], 1990, 1990
    )[0]


def test_same_given_name_rule() -> None:
    """Spellings of one name match; known names a letter apart do not; an unknown name a
    letter away from a known one is its misspelling; between two unknown names a vowel is a
    typo and a consonant in a short name makes another name."""
    assert same_given_name("Нұрлан", "Nurlan")
    assert same_given_name("Ахмет", "Ахмед")
    assert not same_given_name("Ерлан", "Ержан")
    assert not same_given_name("Жанат", "Санат")
    assert same_given_name("Кудайберген", "Кудайбирген")
    assert not same_given_name("Бекжол", "Бекбол")
    assert same_given_name("Нурлан", "Нурлам")
    assert same_given_name("Жазира", "Жазриа")


def test_known_given_names_are_all_told_apart() -> None:
    """Every pair of names from the list is different to the matcher, and every spelling
    variant within an entry is the same name."""
    firsts = [line.split()[0] for line in GIVEN_NAME_GROUPS]
    for a, b in itertools.combinations(firsts, 2):
        if abs(len(a) - len(b)) <= 2:
            assert not same_given_name(a, b), (a, b)
    for line in GIVEN_NAME_GROUPS:
        variants = line.split()
        for variant in variants[1:]:
            assert same_given_name(variants[0], variant), (variants[0], variant)


# --- Properties ----------------------------------------------------------------------------

_ONSETS = "бвгджзклмнпрстфхцчшқғһ"
_VOWELS = "аеиоуыэюяәөұүі"
_CODAS = ["", "", "н", "р", "л", "с", "т", "к", "й", "ль"]
_ENDINGS = ["", "ов", "ев", "ин", "бек", "бай", "жан", "ович", "овна", "қызы"]


@st.composite
def cyrillic_words(draw: st.DrawFn) -> str:
    """A word shaped like a Kazakh or Russian name: two or three syllables, an ending."""
    syllables = draw(st.integers(min_value=2, max_value=3))
    word = "".join(
        draw(st.sampled_from(_ONSETS))
        + draw(st.sampled_from(_VOWELS))
        + draw(st.sampled_from(_CODAS))
        for _ in range(syllables)
    )
    return (word + draw(st.sampled_from(_ENDINGS))).capitalize()


cyrillic_names = st.lists(cyrillic_words(), min_size=1, max_size=3).map(" ".join)


@FAST
@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    """Folding a folded name changes nothing."""
    assert fold(fold(text)) == fold(text)


@FAST
@given(st.text())
def test_fold_output_is_lowercase_ascii_words(text: str) -> None:
    """Whatever goes in, lower-case ASCII words separated by single spaces come out."""
    assert re.fullmatch(r"(?:[a-z0-9]+(?: [a-z0-9]+)*)?", fold(text))


def _stands_alone(word: str) -> bool:
    """Not a separate Kazakh patronymic word (ұлы, қызы), which binds to the word before."""
    return not re.fullmatch(r"o?u(?:ly|li|lu)|[kq][iy](?:sh|zh|ch|[szc])[iy]", fold(word))


_LATIN_ONSETS = (*"bdgklmnprstvzjyqxw", "sh", "zh", "ch", "kh")


@st.composite
def latin_words(draw: st.DrawFn) -> str:
    """A Latin word of two to four consonant-vowel syllables, in any convention's letters."""
    syllables = draw(st.integers(min_value=2, max_value=4))
    word = "".join(
        draw(st.sampled_from(_LATIN_ONSETS)) + draw(st.sampled_from("aeiouy"))
        for _ in range(syllables)
    )
    return word.capitalize()


name_tokens = (cyrillic_words() | latin_words()).filter(_stands_alone)


@settings(max_examples=50, deadline=None, database=None)
@given(
    st.lists(name_tokens, max_size=4).flatmap(lambda t: st.tuples(st.just(t), st.permutations(t)))
)
def test_name_keys_do_not_depend_on_token_order(orders: tuple[list[str], list[str]]) -> None:
    """Any order of the same tokens gives the same keys."""
    tokens, shuffled = orders
    assert name_keys(" ".join(tokens)) == name_keys(" ".join(shuffled))


@settings(max_examples=60, deadline=None, database=None)
@given(cyrillic_names, st.sampled_from(sorted(SCHEMES)))
def test_every_transliteration_shares_a_key_with_the_cyrillic(name: str, scheme: str) -> None:
    """A Cyrillic name transliterated by any table of the bench (ISO 9, BGN/PCGN, ICAO,
    Kazakh Latin, English, German, French…) still shares a key with the original."""
    assert name_keys(transliterate(name, scheme)) & name_keys(name)


# --- The labelled set ----------------------------------------------------------------------


def test_intended_person_shares_a_key_with_nearly_every_query_spelling() -> None:
    """Over the generated 200-person set, at least 98% of query spellings share a key with
    the person they mean."""
    dataset = build(200, seed=5)
    assert len(dataset.people) == 200
    person_keys = {
        person.person_id: set().union(*(name_keys(name) for name in person.names))
        for person in dataset.people
    }
    shared = sum(1 for q in dataset.queries if name_keys(q.query) & person_keys[q.person_id])
    rate = shared / len(dataset.queries)
    print(f"key recall over {len(dataset.queries)} query spellings: {rate:.4f}")
    assert rate >= 0.98


def test_duplicate_detection_over_the_generated_pairs() -> None:
    """With birth years known, duplicate detection keeps precision ≥ 0.95 at recall ≥ 0.9
    over the set's duplicates, namesakes and one-letter siblings."""
    dataset = build(200, seed=5)
    outcomes = [
        (
            case.same,
            likely_same_person(case.a_names, case.b_names, case.a_birth_year, case.b_birth_year)[0],
        )
        for case in dataset.pairs
        if case.a_birth_year is not None and case.b_birth_year is not None
    ]
    true_positives = sum(1 for truth, said in outcomes if truth and said)
    precision = true_positives / sum(1 for _, said in outcomes if said)
    recall = true_positives / sum(1 for truth, _ in outcomes if truth)
    print(f"duplicates over {len(outcomes)} pairs: precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.95
    assert recall >= 0.9
