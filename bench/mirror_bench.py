"""The static mirror, cold and incremental, beside Pelican building the same articles.

    .venv/bin/python -m bench.mirror_bench --articles 10000 --profiles 1000
    .venv/bin/python -m bench.mirror_bench --quick        # 1,000 articles, 100 profiles

Builds a throwaway data directory with a migrated SQLite database (the real settings: WAL,
synchronous=FULL) and generates, deterministically: the articles (Markdown of about 400
words, in English, Russian and Kazakh, in translation groups of three, with topics, bylines,
issues and links to people and events) and the profiles (public people with a persecution
event each). Then, in the same run:

1. `solidarity mirror` cold, into an empty directory: every public page (documentation site
   in three languages, newspaper, feeds, images, search index);
2. the same mirror again after changing one article's body (incremental);
3. Pelican, building the same articles from Markdown files with its default theme (article,
   index, tag, category, author pages and Atom feeds);
4. writing each output's files again, alone (no rendering), one process: the part of a build
   that is the disk's, not the program's.

It prints the times and the ratios ours/Pelican, the figures that carry across machines. The
aim (issue 6): a cold build at least 3 times faster than Pelican (ratio ≤ 0.33), an incremental
one under 5 s. Everything is removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AIM_COLD_RATIO = 1 / 3
AIM_INCREMENTAL_SECONDS = 5.0
LANGS = ("en", "ru", "kk")
WORDS = {
    "en": [
        "workers",
        "strike",
        "union",
        "oil",
        "prisoner",
        "release",
        "court",
        "police",
        "protest",
        "solidarity",
        "demand",
        "justice",
        "activist",
        "exile",
        "sentence",
        "appeal",
        "campaign",
        "letter",
        "embassy",
    ],
    "ru": [
        "рабочие",
        "забастовка",
        "профсоюз",
        "нефть",
        "заключённый",
        "освобождение",
        "суд",
        "полиция",
        "протест",
        "солидарность",
        "требование",
        "справедливость",
        "активист",
        "ссылка",
        "приговор",
    ],
    "kk": [
        "жұмысшылар",
        "ереуіл",
        "кәсіподақ",
        "мұнай",
        "тұтқын",
        "босату",
        "сот",
        "полиция",
        "наразылық",
        "ынтымақ",
        "талап",
        "әділет",
        "белсенді",
        "жер",
        "аудару",
        "үкім",
    ],
}


def _paragraph(rng: random.Random, lang: str, words: int) -> str:
    text = " ".join(rng.choice(WORDS[lang]) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def article_body(rng: random.Random, lang: str) -> str:
    parts = [_paragraph(rng, lang, 60)]
    parts.append(f"## {_paragraph(rng, lang, 4)[:-1]}")
    parts.append(_paragraph(rng, lang, 80) + " **" + rng.choice(WORDS[lang]) + "**")
    parts.append("\n".join(f"- {_paragraph(rng, lang, 6)}" for _ in range(4)))
    parts.append(f"> {_paragraph(rng, lang, 30)}")
    parts.append(_paragraph(rng, lang, 120) + " [CWI](https://www.socialistworld.net/)")
    parts.append(_paragraph(rng, lang, 100))
    return "\n\n".join(parts)


def setup_django(data_dir: Path) -> None:
    os.environ["SOLIDARITY_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solidarity.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def generate(n_articles: int, n_profiles: int, seed: int = 6) -> list[dict[str, object]]:
    """Fill the database; return the articles as plain dicts (for Pelican's copy)."""
    from django.db import transaction
    from django.utils.text import slugify

    from solidarity.core.models import Section
    from solidarity.documentation.models import Act, Event, Person
    from solidarity.publishing.models import Article, Byline, Issue, Topic
    from solidarity.publishing.services import refresh_body_html

    rng = random.Random(seed)
    start = dt.datetime(2012, 1, 1, tzinfo=dt.UTC)
    with transaction.atomic():
        section = Section.objects.create(slug="bench", name_en="Bench section", kind="home")
        people = Person.objects.bulk_create(
            Person(
                section=section,
                is_public=True,
                slug=f"person-{i}",
                given_name=rng.choice(["Ainur", "Esenbek", "Natalya", "Vadim", "Bolat"]),
                family_name=f"Family{i}",
                summary_en=_paragraph(rng, "en", 40),
                summary_ru=_paragraph(rng, "ru", 40),
            )
            for i in range(n_profiles)
        )
        events = []
        for i, person in enumerate(people):
            day = dt.date(2002, 1, 1) + dt.timedelta(days=rng.randrange(5000))
            events.append(
                Event(
                    section=section,
                    is_public=True,
                    slug=f"event-{i}",
                    type=rng.choice(["detention", "threat", "imprisonment", "release"]),
                    title_en=f"{person.family_name}: {_paragraph(rng, 'en', 4)}",
                    summary_en=_paragraph(rng, "en", 30),
                    date=day.isoformat(),
                    date_earliest=day,
                    date_latest=day,
                )
            )
        Event.objects.bulk_create(events)
        Act.objects.bulk_create(
            Act(event=e, type=e.type, victim=p) for e, p in zip(events, people, strict=True)
        )
        topics = Topic.objects.bulk_create(
            Topic(slug=f"topic-{i}", name_en=f"Topic {i}", name_ru=f"Тема {i}") for i in range(20)
        )
        bylines = Byline.objects.bulk_create(
            Byline(slug=f"author-{i}", name=f"Author {i}") for i in range(50)
        )
        issues = Issue.objects.bulk_create(
            Issue(section=section, is_public=True, slug=f"{2012 + i // 50}-{i % 50 + 1}",
                  number=i % 50 + 1, year=2012 + i // 50)
            for i in range(max(1, n_articles // 100))
        )  # fmt: skip
        plain: list[dict[str, object]] = []
        objects = []
        for i in range(n_articles):
            lang = LANGS[i % 3]
            group = i // 3
            title = f"{_paragraph(rng, lang, 6)[:-1]} {i}"
            when = start + dt.timedelta(minutes=i * 37)
            body = article_body(rng, lang)
            standfirst = _paragraph(rng, lang, 20)
            byline = bylines[group % len(bylines)]
            slug = f"{slugify(title)[:60] or 'article'}-{i}"
            objects.append(
                Article(
                    section=section,
                    is_public=True,
                    slug=slug,
                    language=lang,
                    translation_group=_uuid(seed, group),
                    title=title,
                    standfirst=standfirst,
                    body=body,
                    byline=byline,
                    issue=issues[i * len(issues) // n_articles],
                    publish_at=when,
                )
            )
            plain.append(
                {"title": title, "slug": slug, "lang": lang, "date": when, "body": body,
                 "summary": standfirst, "author": byline.name, "group": group,
                 "tags": []}
            )  # fmt: skip
        # bulk_create skips Article.save(): store each body's HTML the way saving does.
        for article in objects:
            refresh_body_html(article)
        Article.objects.bulk_create(objects, batch_size=500)
        topic_links = []
        people_links = []
        event_links = []
        for article in objects:
            for topic in rng.sample(topics, rng.randint(1, 3)):
                topic_links.append(Article.topics.through(article=article, topic=topic))
            if people:
                k = rng.randrange(len(people))
                people_links.append(Article.people.through(article=article, person=people[k]))
                event_links.append(Article.events.through(article=article, event=events[k]))
        Article.topics.through.objects.bulk_create(topic_links, batch_size=1000)
        Article.people.through.objects.bulk_create(people_links, batch_size=1000)
        Article.events.through.objects.bulk_create(event_links, batch_size=1000)
        names = {t.pk: t.name_en for t in topics}
        by_article: dict[int, list[str]] = {}
        for link in topic_links:
            by_article.setdefault(link.article_id, []).append(names[link.topic_id])
        for i, article in enumerate(objects):
            plain[i]["tags"] = by_article.get(article.pk, [])
    return plain


def _uuid(seed: int, group: int) -> uuid.UUID:
    return uuid.UUID(int=(seed << 64) + group)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the mirror's workers, Pelican):
    on a shared machine it says more than the wall clock."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def build_mirror(dest: Path, workers: int | None) -> tuple[float, float, object]:
    from solidarity.publishing.mirror import build_mirror as build

    started, cpu = time.perf_counter(), cpu_seconds()
    report = build(dest, workers=workers)
    return time.perf_counter() - started, cpu_seconds() - cpu, report


def write_floor(source: Path, dest: Path) -> tuple[float, float, int]:
    """Time (wall, CPU) to write every file of `source` again into `dest`, one process, the way
    the mirror writes a file (a temporary name, then a rename, each directory made once):
    what writing the files alone costs on this disk, whatever renders them. The files are read
    into memory before the clock starts."""
    files = [(p.relative_to(source), p.read_bytes()) for p in source.rglob("*") if p.is_file()]
    made: set[Path] = set()
    started, cpu = time.perf_counter(), cpu_seconds()
    for name, content in files:
        path = dest / name
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        tmp = path.parent / f".tmp-{path.name}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, content)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    return time.perf_counter() - started, cpu_seconds() - cpu, len(files)


def change_one_article() -> None:
    from solidarity.publishing.models import Article

    article = Article.objects.order_by("id")[len(Article.objects.all()) // 2]
    article.body += "\n\nA correction was added to this article."
    article.save()


def write_pelican_site(root: Path, articles: list[dict[str, object]]) -> None:
    content = root / "content"
    content.mkdir(parents=True)
    for a in articles:
        date = a["date"]
        assert isinstance(date, dt.datetime)
        tags = a["tags"]
        assert isinstance(tags, list)
        (content / f"{a['slug']}.md").write_text(
            f"Title: {a['title']}\n"
            f"Date: {date:%Y-%m-%d %H:%M}\n"
            f"Slug: {a['slug']}\n"
            f"Lang: {a['lang']}\n"
            f"Translation: group-{a['group']}\n"
            f"Author: {a['author']}\n"
            f"Category: newspaper\n"
            f"Tags: {', '.join(str(t) for t in tags)}\n"
            f"Summary: {a['summary']}\n\n{a['body']}\n"
        )
    (root / "pelicanconf.py").write_text(
        "SITENAME = 'Solidarity'\n"
        "SITEURL = ''\n"
        "RELATIVE_URLS = True\n"
        "DEFAULT_LANG = 'en'\n"
        "TIMEZONE = 'UTC'\n"
        "ARTICLE_TRANSLATION_ID = 'translation'\n"
        "FEED_ALL_ATOM = 'feeds/all.atom.xml'\n"
        "CATEGORY_FEED_ATOM = 'feeds/{slug}.atom.xml'\n"
        "TRANSLATION_FEED_ATOM = 'feeds/all-{lang}.atom.xml'\n"
        "TAG_FEED_ATOM = 'feeds/tag-{slug}.atom.xml'\n"
        "LOAD_CONTENT_CACHE = False\n"
    )


def build_pelican(root: Path) -> tuple[float, float]:
    pelican = Path(sys.executable).parent / "pelican"
    started, cpu = time.perf_counter(), cpu_seconds()
    subprocess.run(
        [str(pelican), str(root / "content"), "-o", str(root / "output"),
         "-s", str(root / "pelicanconf.py"), "-q"],
        check=True,
        cwd=root,
    )  # fmt: skip
    return time.perf_counter() - started, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--profiles", type=int, default=1_000)
    parser.add_argument("--quick", action="store_true", help="1,000 articles, 100 profiles")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--workers", type=int, default=None, help="the mirror's processes (default: its own)"
    )
    args = parser.parse_args()
    if args.quick:
        args.articles, args.profiles = 1_000, 100

    work = Path(tempfile.mkdtemp(prefix="mirror-bench-"))
    try:
        setup_django(work / "data")
        print(f"Generating {args.articles} articles and {args.profiles} profiles…", flush=True)
        articles = generate(args.articles, args.profiles)

        print(f"Our mirror, cold…  ({load()})", flush=True)
        cold, cold_cpu, report = build_mirror(work / "mirror", args.workers)
        print(f"  {cold:.1f} s, CPU {cold_cpu:.1f} s  {report}", flush=True)
        change_one_article()
        print(f"Our mirror, after changing one article…  ({load()})", flush=True)
        incremental, incremental_cpu, report = build_mirror(work / "mirror", args.workers)
        print(f"  {incremental:.1f} s, CPU {incremental_cpu:.1f} s  {report}", flush=True)

        print(f"Pelican, the same articles…  ({load()})", flush=True)
        write_pelican_site(work / "pelican", articles)
        pelican, pelican_cpu = build_pelican(work / "pelican")
        pelican_files = sum(1 for p in (work / "pelican" / "output").rglob("*") if p.is_file())
        print(f"  {pelican:.1f} s, CPU {pelican_cpu:.1f} s  ({pelican_files} files)", flush=True)

        print(f"Writing the same files alone, one process…  ({load()})", flush=True)
        ours_io, ours_io_cpu, ours_files = write_floor(work / "mirror", work / "floor-ours")
        theirs_io, theirs_io_cpu, _n = write_floor(work / "pelican" / "output", work / "floor-p")
        print(f"  ours {ours_io:.1f} s (CPU {ours_io_cpu:.1f} s, {ours_files} files), "
              f"Pelican's {theirs_io:.1f} s (CPU {theirs_io_cpu:.1f} s)", flush=True)  # fmt: skip

        cold_ratio = cold / pelican
        print()
        print(f"articles {args.articles}, profiles {args.profiles}  ({load()} at the end)")
        print(f"cold build         ours {cold:7.1f} s   Pelican {pelican:7.1f} s   "
              f"ratio ours/Pelican {cold_ratio:.2f}  (aim ≤ {AIM_COLD_RATIO:.2f})")  # fmt: skip
        print(f"  CPU time         ours {cold_cpu:7.1f} s   Pelican {pelican_cpu:7.1f} s   "
              f"ratio {cold_cpu / pelican_cpu:.2f}")  # fmt: skip
        print(f"incremental build  ours {incremental:7.1f} s   "
              f"ratio incremental/Pelican {incremental / pelican:.3f}  "
              f"(aim < {AIM_INCREMENTAL_SECONDS:.0f} s)")  # fmt: skip
        print(f"writing the files  ours {ours_io:7.1f} s   Pelican {theirs_io:7.1f} s   "
              f"ours/Pelican's whole build {ours_io / pelican:.2f}  (one process)")  # fmt: skip
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
