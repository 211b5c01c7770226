"""A labelled set of people and the ways searchers spell their names, for the search bench.

``build(n_people, seed)`` makes, deterministically, ``n_people`` realistic Kazakh and
Russian people (given name, patronymic, surname, birth year; Russian Cyrillic as stored,
plus the Kazakh Cyrillic form for Kazakhs) and, for each, the query spellings a researcher,
lawyer or journalist would type:

==================  ============================================================
variant_kind        what the query is
==================  ============================================================
ru_cyrillic         Russian Cyrillic, "Given Patronymic Surname"
ru_official_order   Russian Cyrillic, "Surname Given Patronymic" (official order)
kk_cyrillic         Kazakh Cyrillic with the Kazakh patronymic (-ұлы / -қызы)
kk_latin_2021       Kazakh Latin alphabet of 2021 (ä ğ q ñ ö ū ü ı ş)
scholarly           ISO 9 for Russian letters, Kazakh Latin for Kazakh ones (Öktešbaev)
iso9                ISO 9:1995 with its diacritics
iso9_ascii          ISO 9 with the diacritics dropped (Oktesbaev), as people type it
bgn_pcgn            BGN/PCGN 1947 Russian system (Kazakhs: their Russian form)
bgn_pcgn_kk         BGN/PCGN 1979 Kazakh system, from the Kazakh form
icao                ICAO Doc 9303 passport spelling, "SURNAME GIVEN"
english             usual English spelling, "Given Surname"
english_full        usual English with the patronymic
english_kk          English spelling of the Kazakh form (Janaozen style: ж as j)
german              German (Duden) transliteration, "Given Surname"
french              French transliteration, "Given Surname"
missing_patronymic  Russian Cyrillic, "Given Surname"
surname_given       English, "Surname Given" (swapped)
surname_initial     English surname and the given name's initial (Ukteshbayev E.)
typo_latin          English "Given Surname" with one letter changed, lost, added or swapped
typo_cyrillic       Russian Cyrillic full name with one such typo
==================  ============================================================

It also gives record pairs for duplicate detection (``Dataset.pairs``): the same person
recorded twice (in another script, with a typo, in the Kazakh form, in official order,
with or without a patronymic) and different people who look alike: namesakes whose
fathers differ, siblings whose given names differ by one letter (Ерлан/Ержан), a brother
and a sister, unrelated people with the same surname.

The transliteration tables below are the published standards written out as data, not
calls into the library under test, so the bench measures the matcher against spellings
it did not produce itself. Letters the standards leave out (Kazakh letters in ICAO Doc
9303, ц ч щ ю я in the 2021 Kazakh alphabet) follow the common practice noted beside them.

Run ``python -m bench.names_dataset`` for counts.
"""

# Cyrillic and Latin letters side by side are what this module is about:
# ruff: noqa: RUF001, RUF002, RUF003
from __future__ import annotations

import random
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

# --- Names --------------------------------------------------------------------------------
# Kazakh names in Kazakh Cyrillic; their Russian forms are derived by `russify`.

# fmt: off
KK_MALE = (
    "Абай", "Адилет", "Айбек", "Айдар", "Айдос", "Азамат", "Алибек", "Алмас", "Амангелді",
    "Арман", "Асан", "Асқар", "Асхат", "Әлихан", "Бауыржан", "Бақыт", "Бейбіт", "Бекзат",
    "Берік", "Болат", "Ғалым", "Дамир", "Данияр", "Дархан", "Дәурен", "Ербол", "Ерболат",
    "Ержан", "Ерлан", "Ермек", "Ернар", "Есенбек", "Жандос", "Жанболат", "Жасұлан", "Жақсылық",
    "Қайрат", "Қанат", "Кенжебек", "Мейрам", "Медет", "Мұхтар", "Нариман", "Нұрбол", "Нұржан",
    "Нұрлан", "Нұрсұлтан", "Олжас", "Рүстем", "Самат", "Санжар", "Серік", "Сырым", "Талғат",
    "Темір", "Төлеген", "Ұлан", "Шыңғыс", "Ілияс", "Жеңіс", "Әділбек", "Сәкен", "Тұрсынбек",
    "Өмірзақ", "Мұрат", "Марат",
)
KK_FEMALE = (
    "Айгерім", "Айгүл", "Айжан", "Айнұр", "Айым", "Әлия", "Аружан", "Әсел", "Әсем", "Балжан",
    "Гүлмира", "Гүлнар", "Дана", "Дина", "Динара", "Жазира", "Жанар", "Жанна", "Индира",
    "Камила", "Қамшат", "Қарлығаш", "Лаура", "Мадина", "Меруерт", "Мөлдір", "Назгүл",
    "Салтанат", "Сәуле", "Ұлжан", "Шолпан", "Эльмира", "Зарина", "Гүлжан", "Ақмарал", "Балнұр",
    "Күлпаш",
)
# Fathers' names; the surname roots below are grandfathers' names or old clan names.
KK_SURNAME_ROOTS = (
    "Өктешбай", "Жақсыбек", "Құрман", "Нұрғали", "Тоқа", "Жұмабай", "Сәрсенбай", "Әбілқайыр",
    "Төлеу", "Кәрім", "Ахмет", "Бекмұхамбет", "Есім", "Ибраим", "Қасым", "Мұхамедияр", "Оспан",
    "Сейіт", "Тұрсын", "Үсен", "Шәкен", "Ысқақ", "Әбдіраш", "Байжан", "Ғабит", "Дүйсен",
    "Жетпісбай", "Иманғали", "Қонысбай", "Мақаш", "Нұрпейіс", "Орынбай", "Сұлтанғазы",
    "Тәжібай", "Уәли", "Хамит", "Шаңырақ", "Әшім", "Бөкей", "Ділдәбек", "Елеу", "Жаңабай",
    "Исабек", "Қуаныш", "Мырзахмет", "Нарымбет", "Өтеп", "Рахым", "Сыздық", "Тілеуберді",
    "Үмбет", "Шалабай", "Ыбырай", "Әуезхан", "Бимағамбет", "Досмұхамед", "Ерғали", "Жүнісбек",
    "Құдайберген", "Мамыт", "Ниязбек", "Сапарғали",
)

RU_MALE = (
    "Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Валерий", "Василий",
    "Виктор", "Владимир", "Вячеслав", "Геннадий", "Георгий", "Глеб", "Григорий", "Денис",
    "Дмитрий", "Евгений", "Егор", "Иван", "Игорь", "Илья", "Кирилл", "Константин", "Леонид",
    "Максим", "Михаил", "Никита", "Николай", "Олег", "Павел", "Пётр", "Роман", "Руслан",
    "Семён", "Сергей", "Станислав", "Степан", "Тимофей", "Фёдор", "Юрий", "Ярослав", "Эдуард",
)
RU_FEMALE = (
    "Алла", "Анастасия", "Анна", "Валентина", "Вера", "Вероника", "Галина", "Дарья", "Евгения",
    "Екатерина", "Елена", "Зоя", "Инна", "Ирина", "Ксения", "Лариса", "Любовь", "Людмила",
    "Марина", "Мария", "Надежда", "Наталья", "Нина", "Ольга", "Оксана", "Полина", "Светлана",
    "Софья", "Тамара", "Татьяна", "Юлия", "Яна", "Алёна", "Алина",
)
RU_SURNAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
    "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев",
    "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
    "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов",
    "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
    "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв",
    "Быков", "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов",
    "Пономарёв", "Голубев", "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв",
    "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков", "Колесников", "Гончаров",
    "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов", "Громов",
    "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков",
    "Горбунов", "Анисимов", "Ерёмин", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов",
    "Юдин", "Белоусов", "Нестеров", "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков",
    "Левин", "Митрофанов", "Воронов", "Аксёнов", "Софронов", "Мальцев", "Логинов", "Горшков",
    "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков", "Сафонов", "Плотников",
    "Демин", "Хохлов", "Фадеев", "Молчанов", "Игнатов", "Литвинов", "Ершов", "Ушаков",
    "Дементьев", "Рябов", "Мухин", "Калашников", "Леонтьев", "Лобанов", "Кузин", "Корнилов",
    "Евдокимов", "Бородин", "Платонов", "Некрасов", "Балашов", "Бобров", "Жданов", "Блинов",
    "Игнатьев", "Коротков", "Муравьёв", "Крюков", "Беляков", "Богомолов", "Дроздов", "Лавров",
    "Зуев", "Петухов", "Ларин", "Никулин", "Серов", "Терентьев", "Зотов", "Устинов", "Фокин",
    "Самойлов", "Константинов", "Сахаров", "Шишкин", "Самсонов", "Черкасов", "Чистяков",
    "Носов", "Рожков", "Шевченко", "Бондаренко", "Коваленко", "Кравченко", "Савчук", "Мельник",
    "Ткачук", "Шевчук", "Кравчук", "Мухамедзянов", "Сафиуллин", "Хабибуллин", "Галиев",
    "Зарипов", "Гарипов", "Валиев", "Каримов", "Ахметзянов", "Кураминов", "Сокольский",
    "Вишневский", "Ковальский", "Левандовский",
)
# fmt: on

# Given names one letter apart that are different names: siblings and the duplicate
# detector's hardest negatives. (male?, first, second).
ONE_LETTER_SIBLINGS: tuple[tuple[bool, str, str], ...] = (
    (True, "Ерлан", "Ержан"),
    (True, "Нұрлан", "Нұржан"),
    (True, "Марат", "Мұрат"),
    (True, "Арман", "Арлан"),
    (True, "Алмас", "Алмат"),
    (True, "Серік", "Берік"),
    (True, "Самат", "Санат"),
    (True, "Ербол", "Ерлан"),
    (False, "Дана", "Дина"),
    (False, "Әсел", "Әсем"),
    (False, "Айгүл", "Айгерім"),
    (False, "Жанар", "Жанна"),
)
RU_ONE_LETTER_SIBLINGS: tuple[tuple[bool, str, str], ...] = (
    (False, "Алина", "Алёна"),
    (False, "Дина", "Нина"),
    (False, "Мария", "Марина"),
    (False, "Инна", "Инга"),
    (True, "Илья", "Ильяс"),
    (True, "Роман", "Роберт"),
    # Pairs the matcher's list of known names may lack, to keep the measure honest.
    (False, "Лиза", "Лина"),
    (False, "Ника", "Нина"),
    (False, "Дарина", "Марина"),
)

# --- Kazakh Cyrillic → Russian Cyrillic ---------------------------------------------------

_RUSSIFY = {
    "ә": "а",
    "ғ": "г",
    "қ": "к",
    "ң": "н",
    "ө": "о",
    "ұ": "у",
    "ү": "у",
    "һ": "х",
    "і": "и",
}


def russify(word: str) -> str:
    """The Russian spelling of a Kazakh word: Өктешбаев → Уктешбаев, Айгүл → Айгуль.

    Word-initial Ө is usually written У in Russian (Өтеп → Утеп); ү before л takes a soft
    sign (Гүлнар → Гульнар), as Russian spelling of these names does.
    """
    lower = word.lower()
    out: list[str] = []
    for index, letter in enumerate(lower):
        if letter == "ө" and index == 0:
            out.append("у")
        elif letter == "л" and index > 0 and lower[index - 1] == "ү":
            out.append("ль")
        else:
            out.append(_RUSSIFY.get(letter, letter))
    return _capitalize("".join(out).replace("льь", "ль"))


def _capitalize(word: str) -> str:
    return word[:1].upper() + word[1:]


_CYR_VOWELS = frozenset("аеёиоуыэюяәөұүі")
_SIBILANTS = frozenset("жчшщ")


def _surname_from_root(root: str, female: bool) -> str:
    """Өктешбай → Өктешбаев, Құрман → Құрманов, Нұрғали → Нұрғалиев (+а for women)."""
    lower = root.lower()
    if lower.endswith("й"):
        base = lower[:-1] + "ев"
    elif lower[-1] in _CYR_VOWELS or lower[-1] in _SIBILANTS or lower[-1] == "ц":
        base = lower + "ев"
    else:
        base = lower + "ов"
    return _capitalize(base + ("а" if female else ""))


def _female_surname(surname: str) -> str:
    """Иванов → Иванова, Ильин → Ильина, Сокольский → Сокольская; -енко, -ук unchanged."""
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    if surname.endswith("ский"):
        return surname[:-4] + "ская"
    return surname


def russian_patronymic(father: str, female: bool) -> str:
    """Сергей → Сергеевич/Сергеевна, Юрий → Юрьевич, Дмитрий → Дмитриевич, Игорь →
    Игоревич, Илья → Ильич/Ильинична, Никита → Никитич/Никитична, Нурлан → Нурланович,
    Жаксыбай → Жаксыбаевич."""
    if father == "Илья":
        return "Ильинична" if female else "Ильич"
    if father.endswith("а"):
        return father[:-1] + ("ична" if female else "ич")
    if father.endswith("ий"):
        # Юрий → Юрьевич, Василий → Васильевич; after two consonants Дмитрий → Дмитриевич.
        two_consonants = father[-4].lower() not in _CYR_VOWELS
        stem = father[:-2] + ("иев" if two_consonants else "ьев")
    elif father.endswith(("й", "ь")):
        stem = father[:-1] + "ев"
    elif father[-1] in _CYR_VOWELS or father[-1] in _SIBILANTS or father[-1] == "ц":
        stem = father + "ев"
    else:
        stem = father + "ов"
    return stem + ("на" if female else "ич")


def kazakh_patronymic(father: str, female: bool) -> str:
    """Нариман → Нариманұлы / Нариманқызы, written joined as in Kazakh documents."""
    return father + ("қызы" if female else "ұлы")


# --- Transliteration tables ---------------------------------------------------------------

Table = Mapping[str, str]

ISO9: Table = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "ë", "ж": "ž",
    "з": "z", "и": "i", "й": "j", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "c",
    "ч": "č", "ш": "š", "щ": "ŝ", "ъ": "ʺ", "ы": "y", "ь": "ʹ", "э": "è", "ю": "û",
    "я": "â",
    # Kazakh letters, from ISO 9's table of non-Slavic Cyrillic.
    "ә": "a̋", "ғ": "ġ", "қ": "ķ", "ң": "ņ", "ө": "ô", "ұ": "u̇", "ү": "ù", "һ": "ḩ",
    "і": "ì",
}  # fmt: skip

KAZAKH_LATIN_2021: Table = {
    "а": "a", "ә": "ä", "б": "b", "в": "v", "г": "g", "ғ": "ğ", "д": "d", "е": "e",
    "ж": "j", "з": "z", "и": "i", "й": "i", "к": "k", "қ": "q", "л": "l", "м": "m",
    "н": "n", "ң": "ñ", "о": "o", "ө": "ö", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ұ": "ū", "ү": "ü", "ф": "f", "х": "h", "һ": "h", "ы": "y", "і": "ı",
    "ш": "ş", "э": "e",
    # Not in the 2021 alphabet: loans are written as they sound.
    "ё": "io", "ц": "ts", "ч": "ch", "щ": "şş", "ъ": "", "ь": "", "ю": "iu", "я": "ia",
}  # fmt: skip

# The "scholarly" spelling seen in German and English academic writing on Kazakhstan:
# ISO 9 consonants with the Kazakh Latin vowels (Öktešbaev, Žanaözen).
SCHOLARLY: Table = {
    **ISO9,
    "ә": "ä", "ғ": "ğ", "қ": "q", "ң": "ñ", "ө": "ö", "ұ": "ū", "ү": "ü", "һ": "h",
    "і": "i", "и": "i", "й": "j",
}  # fmt: skip

ICAO_9303: Table = {
    "а": "A", "б": "B", "в": "V", "г": "G", "д": "D", "е": "E", "ё": "E", "ж": "ZH",
    "з": "Z", "и": "I", "й": "I", "к": "K", "л": "L", "м": "M", "н": "N", "о": "O",
    "п": "P", "р": "R", "с": "S", "т": "T", "у": "U", "ф": "F", "х": "KH", "ц": "TS",
    "ч": "CH", "ш": "SH", "щ": "SHCH", "ъ": "IE", "ы": "Y", "ь": "", "э": "E", "ю": "IU",
    "я": "IA",
    # Kazakh letters as Kazakhstan's passports write them (Doc 9303 has no rule).
    "ә": "A", "ғ": "G", "қ": "K", "ң": "N", "ө": "O", "ұ": "U", "ү": "U", "һ": "H",
    "і": "I",
}  # fmt: skip

BGN_PCGN_RU: Table = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "ë", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "”", "ы": "y", "ь": "’", "э": "e", "ю": "yu",
    "я": "ya",
}  # fmt: skip

BGN_PCGN_KK: Table = {
    "а": "a", "ә": "ä", "б": "b", "в": "v", "г": "g", "ғ": "gh", "д": "d", "е": "e",
    "ё": "ë", "ж": "zh", "з": "z", "и": "ī", "й": "y", "к": "k", "қ": "q", "л": "l",
    "м": "m", "н": "n", "ң": "ng", "о": "o", "ө": "ö", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "ū", "ұ": "u", "ү": "ü", "ф": "f", "х": "kh", "һ": "h", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ʺ", "ы": "y", "і": "i", "ь": "ʹ", "э": "ė",
    "ю": "yu", "я": "ya",
}  # fmt: skip

ENGLISH: Table = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}  # fmt: skip

# English spelling of Kazakh forms as Kazakh media write them: ж as j, no diacritics.
ENGLISH_KK: Table = {
    **ENGLISH,
    "ж": "j", "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u",
    "һ": "h", "і": "i",
}  # fmt: skip

GERMAN: Table = {
    "а": "a", "б": "b", "в": "w", "г": "g", "д": "d", "е": "e", "ё": "jo", "ж": "sh",
    "з": "s", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "ch", "ц": "z",
    "ч": "tsch", "ш": "sch", "щ": "schtsch", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "ju", "я": "ja",
}  # fmt: skip

FRENCH: Table = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "io", "ж": "j",
    "з": "z", "и": "i", "й": "ï", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "ou", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "tch", "ш": "ch", "щ": "chtch", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "iou", "я": "ia",
}  # fmt: skip


def _context(word: str, index: int) -> tuple[str, str]:
    previous = word[index - 1] if index > 0 else ""
    following = word[index + 1] if index + 1 < len(word) else ""
    return previous, following


def _iotated_start(previous: str) -> bool:
    """Е and Ё are iotated (ye, je) at the start of a word and after a vowel or a sign."""
    return previous == "" or previous in _CYR_VOWELS or previous in "ъьй"


def _plain(table: Table) -> Callable[[str], str]:
    def letter_by_letter(word: str) -> str:
        return "".join(table.get(letter, letter) for letter in word)

    return letter_by_letter


def _bgn_pcgn_ru(word: str) -> str:
    out: list[str] = []
    for index, letter in enumerate(word):
        previous = word[index - 1] if index > 0 else ""
        if letter in "её" and _iotated_start(previous):
            out.append("y" + BGN_PCGN_RU[letter])
        elif (previous, letter) in {("т", "с"), ("ш", "ч"), ("к", "х"), ("з", "х"), ("с", "х")}:
            # BGN/PCGN marks letter pairs that would read as one digraph.
            out.append("·" + BGN_PCGN_RU[letter])
        else:
            out.append(BGN_PCGN_RU.get(letter, letter))
    return "".join(out)


def _english(word: str) -> str:
    out: list[str] = []
    for index, letter in enumerate(word):
        previous, following = _context(word, index)
        last = index == len(word) - 1
        if letter == "е" and _iotated_start(previous) and previous != "й":
            out.append("ye")
        elif letter == "ё" and previous in _SIBILANTS:
            out.append("o")
        elif letter == "й" and previous in "иы" and last:
            continue  # Дмитрий → Dmitry: the usual English drops the й of -ий, -ый
        elif letter in "иы" and following == "й" and index == len(word) - 2:
            out.append("y")
        elif letter == "я" and previous == "и" and last:
            out.append("a")  # Мария → Maria, Юлия → Yulia
        else:
            out.append(ENGLISH.get(letter, letter))
    return "".join(out)


def _english_kk(word: str) -> str:
    return "".join(ENGLISH_KK.get(letter, letter) for letter in word)


def _german(word: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(word):
        letter = word[index]
        previous, following = _context(word, index)
        last = index == len(word) - 1
        if letter == "к" and following == "с":
            out.append("x")  # Александр → Alexander
            index += 2
            continue
        if letter == "е" and _iotated_start(previous):
            out.append("je")
        elif letter == "ё" and previous in _SIBILANTS:
            out.append("o")
        elif letter == "с" and previous in _CYR_VOWELS and following in _CYR_VOWELS:
            out.append("ss")
        elif letter == "й" and previous in "иы" and last:
            pass  # Дмитрий → Dmitri
        else:
            out.append(GERMAN.get(letter, letter))
        index += 1
    return "".join(out)


def _french(word: str) -> str:
    out: list[str] = []
    for index, letter in enumerate(word):
        previous, following = _context(word, index)
        last = index == len(word) - 1
        if letter == "г" and following in "еиэы":
            out.append("gu")  # Геннадий → Guennadi
        elif letter == "е" and previous in _CYR_VOWELS:
            out.append("ie")
        elif letter == "с" and previous in _CYR_VOWELS and following in _CYR_VOWELS:
            out.append("ss")
        elif letter == "й" and previous in "иы" and last:
            pass  # Дмитрий → Dmitri
        elif letter == "й" and previous in _CYR_VOWELS:
            out.append("ï")
        elif letter == "н" and last and previous == "и":
            out.append("ne")  # Путин → Poutine
        else:
            out.append(FRENCH.get(letter, letter))
    return "".join(out)


def _kazakh_capitalize(word: str) -> str:
    # Kazakh Latin pairs dotted İ/i (и, й) and dotless I/ı (і), as Turkish does.
    if not word:
        return word
    first = {"i": "İ", "ı": "I"}.get(word[0], word[0].upper())
    return first + word[1:]


Scheme = Callable[[str], str]

SCHEMES: dict[str, Scheme] = {
    "iso9": _plain(ISO9),
    "scholarly": _plain(SCHOLARLY),
    "kk_latin_2021": _plain(KAZAKH_LATIN_2021),
    "icao": _plain(ICAO_9303),
    "bgn_pcgn": _bgn_pcgn_ru,
    "bgn_pcgn_kk": _plain(BGN_PCGN_KK),
    "english": _english,
    "english_kk": _english_kk,
    "german": _german,
    "french": _french,
}
"""Every transliteration scheme, word by word, on lower-case Cyrillic."""


RUSSIAN_BASED = frozenset({"bgn_pcgn", "english", "german", "french"})
"""Schemes written from the Russian spelling: a Kazakh name goes through `russify` first,
as the foreign press spells Kazakh names from their Russian form (Ukteshbayev)."""


def transliterate(name: str, scheme: str) -> str:
    """Transliterate a Cyrillic name word by word with one of :data:`SCHEMES`."""
    words: list[str] = []
    for word in name.split():
        if scheme in RUSSIAN_BASED:
            word = "-".join(russify(part) for part in word.split("-"))
        parts = [SCHEMES[scheme](part.lower()) for part in word.split("-")]
        if scheme == "icao":
            words.append("-".join(parts))
        elif scheme == "kk_latin_2021":
            words.append("-".join(_kazakh_capitalize(p) for p in parts))
        else:
            words.append("-".join(_capitalize(p) for p in parts))
    return " ".join(words)


def strip_diacritics(text: str) -> str:
    """What a searcher types when the keyboard has no š: Öktešbaev → Oktesbaev."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.replace("ı", "i").replace("ʺ", "").replace("ʹ", "")


# --- The dataset --------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """One person as the database would hold them: the Russian Cyrillic name in the
    person's fields, and the Kazakh Cyrillic form as a second name form for Kazakhs."""

    person_id: int
    origin: Literal["kk", "ru"]
    female: bool
    given: str
    patronymic: str
    surname: str
    birth_year: int | None
    father: str
    """The father's given name, in the script of the person's first name form."""
    kazakh: tuple[str, str, str] | None = None

    @property
    def full_name(self) -> str:
        return f"{self.given} {self.patronymic} {self.surname}"

    @property
    def names(self) -> tuple[str, ...]:
        """Every stored name form: Russian Cyrillic, and Kazakh Cyrillic for Kazakhs."""
        if self.kazakh is None:
            return (self.full_name,)
        return (self.full_name, " ".join(self.kazakh))


class Query(NamedTuple):
    query: str
    person_id: int
    variant_kind: str


@dataclass(frozen=True)
class PairCase:
    """Two records to compare; ``same`` says whether they are one person."""

    a_names: tuple[str, ...]
    a_birth_year: int | None
    b_names: tuple[str, ...]
    b_birth_year: int | None
    same: bool
    kind: str


@dataclass(frozen=True)
class Dataset:
    people: tuple[Person, ...]
    queries: tuple[Query, ...]
    pairs: tuple[PairCase, ...]


_RU_ALPHABET = "абвгдежзийклмнопрстуфхцчшщыэюя"
_LATIN_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def typo(word: str, rng: random.Random, alphabet: str) -> str:
    """One slip of the keyboard: a letter changed, lost, doubled-in or two swapped.

    The first letter is kept: people rarely mistype it, and it keeps the word readable.
    """
    if len(word) < 4:
        return word
    position = rng.randrange(1, len(word) - 1)
    operation = rng.choice(("replace", "delete", "insert", "swap"))
    lower = word[position].islower()
    letter = rng.choice(alphabet) if lower else rng.choice(alphabet).upper()
    if operation == "replace":
        while letter.lower() == word[position].lower():
            letter = rng.choice(alphabet)
        return word[:position] + letter + word[position + 1 :]
    if operation == "delete":
        return word[:position] + word[position + 1 :]
    if operation == "insert":
        return word[:position] + letter + word[position:]
    if word[position] == word[position + 1]:
        return word[:position] + word[position + 1 :]
    return word[:position] + word[position + 1] + word[position] + word[position + 2 :]


def _typo_in_name(name: str, rng: random.Random, alphabet: str) -> str:
    words = name.split()
    candidates = [i for i, w in enumerate(words) if len(w) >= 4]
    index = rng.choice(candidates)
    words[index] = typo(words[index], rng, alphabet)
    return " ".join(words)


class _Maker:
    """Draws people with a shared random generator; ids are given in creation order."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.people: list[Person] = []

    def year(self, known: float = 0.85) -> int | None:
        return self.rng.randint(1945, 2002) if self.rng.random() < known else None

    def kazakh(
        self,
        female: bool,
        given_kk: str | None = None,
        father_kk: str | None = None,
        root: str | None = None,
        year: int | None = None,
    ) -> Person:
        rng = self.rng
        given_kk = given_kk or rng.choice(KK_FEMALE if female else KK_MALE)
        father_kk = father_kk or rng.choice(KK_MALE)
        root = root or rng.choice(KK_SURNAME_ROOTS)
        surname_kk = _surname_from_root(root, female)
        person = Person(
            person_id=len(self.people),
            origin="kk",
            female=female,
            given=russify(given_kk),
            patronymic=russian_patronymic(russify(father_kk), female),
            surname=russify(surname_kk),
            birth_year=year,
            father=father_kk,
            kazakh=(given_kk, kazakh_patronymic(father_kk, female), surname_kk),
        )
        self.people.append(person)
        return person

    def russian(
        self,
        female: bool,
        given: str | None = None,
        father: str | None = None,
        surname: str | None = None,
        year: int | None = None,
    ) -> Person:
        rng = self.rng
        given = given or rng.choice(RU_FEMALE if female else RU_MALE)
        father = father or rng.choice(RU_MALE)
        surname = surname or rng.choice(RU_SURNAMES)
        person = Person(
            person_id=len(self.people),
            origin="ru",
            female=female,
            given=given,
            patronymic=russian_patronymic(father, female),
            surname=_female_surname(surname) if female else surname,
            birth_year=year,
            father=father,
        )
        self.people.append(person)
        return person


def _queries(person: Person) -> list[Query]:
    given, patronymic, surname = person.given, person.patronymic, person.surname
    full = person.full_name
    kazakh_full = " ".join(person.kazakh) if person.kazakh else full
    short = f"{given} {surname}"
    given_latin = transliterate(given, "english")
    seed_rng = random.Random(f"typo-{person.person_id}-{full}")  # bench data, not security
    spellings: list[tuple[str, str]] = [
        ("ru_cyrillic", full),
        ("ru_official_order", f"{surname} {given} {patronymic}"),
        ("iso9", transliterate(kazakh_full, "iso9")),
        ("iso9_ascii", strip_diacritics(transliterate(kazakh_full, "iso9"))),
        ("bgn_pcgn", transliterate(full, "bgn_pcgn")),
        ("english", transliterate(short, "english")),
        ("english_full", transliterate(full, "english")),
        ("german", transliterate(short, "german")),
        ("french", transliterate(short, "french")),
        ("missing_patronymic", short),
        ("surname_given", transliterate(f"{surname} {given}", "english")),
        ("surname_initial", f"{transliterate(surname, 'english')} {given_latin[:1]}."),
        ("typo_latin", _typo_in_name(transliterate(short, "english"), seed_rng, _LATIN_ALPHABET)),
        ("typo_cyrillic", _typo_in_name(full, seed_rng, _RU_ALPHABET)),
    ]
    if person.kazakh is not None:
        given_kk, _, surname_kk = person.kazakh
        spellings += [
            ("kk_cyrillic", kazakh_full),
            ("kk_latin_2021", transliterate(kazakh_full, "kk_latin_2021")),
            ("scholarly", transliterate(f"{given_kk} {surname_kk}", "scholarly")),
            ("bgn_pcgn_kk", transliterate(kazakh_full, "bgn_pcgn_kk")),
            ("icao", transliterate(f"{surname_kk} {given_kk}", "icao")),
            ("english_kk", transliterate(f"{given_kk} {surname_kk}", "english_kk")),
        ]
    else:
        spellings.append(("icao", transliterate(f"{surname} {given}", "icao")))
    return [Query(text, person.person_id, kind) for kind, text in spellings]


def _second_records(person: Person, rng: random.Random) -> list[PairCase]:
    """The same person entered again from another source."""
    cases: list[PairCase] = []
    names = person.names
    year = person.birth_year
    english = transliterate(f"{person.given} {person.surname}", "english")
    options: list[tuple[str, tuple[str, ...]]] = [
        ("duplicate_latin", (english,)),
        ("duplicate_typo", (_typo_in_name(person.full_name, rng, _RU_ALPHABET),)),
        (
            "duplicate_official_order",
            (f"{person.surname} {person.given} {person.patronymic}",),
        ),
        ("duplicate_german", (transliterate(person.full_name, "german"),)),
        ("duplicate_no_patronymic", (f"{person.given} {person.surname}",)),
    ]
    if person.kazakh is not None:
        options.append(("duplicate_kazakh_form", (" ".join(person.kazakh),)))
        options.append(
            ("duplicate_kk_latin", (transliterate(" ".join(person.kazakh), "kk_latin_2021"),))
        )
    kind, other = rng.choice(options)
    cases.append(PairCase((names[0],), year, other, year, True, kind))
    return cases


def _look_alikes(first: Person, second: Person, kind: str) -> list[PairCase]:
    """Two different people, compared as stored and with the second one's record typed in
    English from a foreign source, the harder case."""
    english = transliterate(second.full_name, "english")
    return [
        PairCase(first.names, first.birth_year, second.names, second.birth_year, False, kind),
        PairCase(first.names, first.birth_year, (english,), second.birth_year, False, kind),
    ]


def build(n_people: int, seed: int) -> Dataset:
    """Make ``n_people`` people, their query spellings and duplicate-detection pairs.

    The same (n_people, seed) always gives the same dataset. About two people in five come
    in look-alike pairs (namesakes, one-letter siblings, a brother and a sister, unrelated
    people with one surname); every other person gets a second record of themselves.
    """
    if n_people < 2:
        raise ValueError("A dataset needs at least two people to hold look-alike pairs.")
    rng = random.Random(seed)  # bench data, not security
    maker = _Maker(rng)
    pairs: list[PairCase] = []

    while len(maker.people) < n_people:
        roll = rng.random()
        kazakh = rng.random() < 0.65
        female = rng.random() < 0.4
        room_for_two = n_people - len(maker.people) >= 2
        if roll < 0.08 and room_for_two:
            # Namesakes: same given name and surname, different fathers.
            year = maker.year()
            same_year = rng.random() < 0.5
            if kazakh:
                fathers = [(a, b) for male, a, b in ONE_LETTER_SIBLINGS if male]
                if rng.random() < 0.3:
                    # Fathers a letter apart too: Ерланович and Ержанович are two families.
                    father, other_father = rng.choice(fathers)
                else:
                    father = rng.choice(KK_MALE)
                    other_father = rng.choice([n for n in KK_MALE if n != father])
                first = maker.kazakh(female, father_kk=father, year=year)
                assert first.kazakh is not None
                second = maker.kazakh(
                    female,
                    given_kk=first.kazakh[0],
                    father_kk=other_father,
                    root=_root_of(first),
                    year=year if same_year else maker.year(),
                )
            else:
                first = maker.russian(female, year=year)
                second = maker.russian(
                    female,
                    given=first.given,
                    father=rng.choice([n for n in RU_MALE if n != first.father]),
                    surname=_male_surname(first),
                    year=year if same_year else maker.year(),
                )
            pairs.extend(_look_alikes(first, second, "namesake"))
        elif roll < 0.16 and room_for_two:
            # Siblings whose given names are one letter apart; twins share a birth year.
            year = maker.year()
            twins = rng.random() < 0.4
            other_year = year if twins or year is None else year + rng.randint(1, 8)
            if kazakh:
                male, a, b = rng.choice(ONE_LETTER_SIBLINGS)
                father = rng.choice(KK_MALE)
                root = rng.choice(KK_SURNAME_ROOTS)
                first = maker.kazakh(not male, a, father, root, year)
                second = maker.kazakh(not male, b, father, root, other_year)
            else:
                male, a, b = rng.choice(RU_ONE_LETTER_SIBLINGS)
                father = rng.choice(RU_MALE)
                surname = rng.choice(RU_SURNAMES)
                first = maker.russian(not male, a, father, surname, year)
                second = maker.russian(not male, b, father, surname, other_year)
            pairs.extend(_look_alikes(first, second, "one_letter_siblings"))
        elif roll < 0.20 and room_for_two:
            # A brother and a sister.
            year = maker.year()
            if kazakh:
                father = rng.choice(KK_MALE)
                root = rng.choice(KK_SURNAME_ROOTS)
                first = maker.kazakh(False, None, father, root, year)
                second = maker.kazakh(True, None, father, root, maker.year())
            else:
                father = rng.choice(RU_MALE)
                surname = rng.choice(RU_SURNAMES)
                first = maker.russian(False, None, father, surname, year)
                second = maker.russian(True, None, father, surname, maker.year())
            pairs.extend(_look_alikes(first, second, "brother_sister"))
        elif roll < 0.24 and room_for_two:
            # Unrelated people with the same surname.
            if kazakh:
                root = rng.choice(KK_SURNAME_ROOTS)
                first = maker.kazakh(female, root=root, year=maker.year())
                second = maker.kazakh(female, root=root, year=maker.year())
            else:
                surname = rng.choice(RU_SURNAMES)
                first = maker.russian(female, surname=surname, year=maker.year())
                second = maker.russian(female, surname=surname, year=maker.year())
            if first.given != second.given:
                pairs.extend(_look_alikes(first, second, "same_surname"))
        else:
            person = (
                maker.kazakh(female, year=maker.year())
                if kazakh
                else maker.russian(female, year=maker.year())
            )
            pairs.extend(_second_records(person, rng))

    people = tuple(maker.people)
    queries = tuple(query for person in people for query in _queries(person))
    return Dataset(people=people, queries=queries, pairs=tuple(pairs))


def _root_of(person: Person) -> str:
    """The surname root a Kazakh person's surname was made from."""
    assert person.kazakh is not None
    surname = person.kazakh[2].removesuffix("а")
    for root in KK_SURNAME_ROOTS:
        if _surname_from_root(root, False) == surname:
            return root
    raise LookupError(f"No surname root for {surname}.")


def _male_surname(person: Person) -> str:
    if not person.female:
        return person.surname
    if person.surname.endswith("ская"):
        return person.surname[:-4] + "ский"
    return person.surname.removesuffix("а")


def main() -> None:
    dataset = build(200, seed=5)
    origins = Counter(p.origin for p in dataset.people)
    print(
        f"{len(dataset.people)} people ({origins['kk']} Kazakh, {origins['ru']} Russian), "
        f"{len(dataset.queries)} queries, {len(dataset.pairs)} record pairs"
    )
    print("\nqueries by kind:")
    for kind, count in sorted(Counter(q.variant_kind for q in dataset.queries).items()):
        example = next(q.query for q in dataset.queries if q.variant_kind == kind)
        print(f"  {kind:20} {count:5}   e.g. {example}")
    print("\nrecord pairs by kind:")
    for kind, count in sorted(Counter(p.kind for p in dataset.pairs).items()):
        same = next(p.same for p in dataset.pairs if p.kind == kind)
        print(f"  {kind:26} {count:4}   {'same person' if same else 'different people'}")


if __name__ == "__main__":
    main()
