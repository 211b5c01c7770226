"""Before forking its workers, the mirror learns once what each of them would learn again.

Forked workers share the parent's build cache (copy-on-write): every article's summary in
each language, and what one page of each kind and language teaches (the newspaper's
languages and topics, the fragments of every page), are learnt once rather than per worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.utils import translation

from solidarity.core import buildcache
from solidarity.publishing import mirror as mirror_module
from solidarity.publishing import public_data

from .test_publishing_mirror import files_of, mirror, paper  # noqa: F401
from .test_publishing_pages import Newspaper


@contextmanager
def _in_process(self: mirror_module.Mirror, size: int) -> Iterator[None]:
    """A pool that is none: the test database is in memory, which no child could open."""
    mirror_module._WORKER = self
    try:
        yield None
    finally:
        mirror_module._WORKER = None


@pytest.fixture
def would_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mirror_module, "_can_fork", lambda: True)
    monkeypatch.setattr(mirror_module.Mirror, "_pool", _in_process)


@pytest.mark.usefixtures("would_fork")
def test_the_parent_learns_summaries_and_one_page_of_each_kind(
    paper: Newspaper,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mirror_module, "WARM_SUMMARIES_FROM", 0)
    builder = mirror_module.Mirror(tmp_path / "mirror", workers=2)
    with translation.override(settings.LANGUAGE_CODE), buildcache.active():
        planned = builder._plan("site")
        to_render = list(planned.items())
        rendered = builder._warm(to_render)
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                summarised = public_data._summary_table()
                for article in (paper.en, paper.ru, paper.kk):
                    assert article.pk in summarised, (code, article.slug)
                # Only what the site shows: not an article still to be published.
                assert paper.scheduled.pk not in summarised
    kinds = {
        (translation.get_language_from_path(page.url), builder._match(page.url).url_name)  # type: ignore[union-attr]
        for page in rendered
    }
    assert len(kinds) == len(rendered)  # one page of each kind and language
    assert ("ru", "front") in kinds and ("kk", "article") in kinds
    assert all(page.kind == "page" for page in rendered if "feed" not in page.url)
    assert {urlsplit(page.url).path for page in rendered} <= set(planned)


def test_nothing_is_learnt_outside_a_build_cache(paper: Newspaper, tmp_path: Path) -> None:  # noqa: F811
    builder = mirror_module.Mirror(tmp_path / "mirror", workers=2)
    assert builder._warm([("/en/newspaper/", "x")]) == []


def test_a_build_that_would_fork_writes_the_same_files(
    paper: Newspaper,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mirror(tmp_path / "one", "-q", "--workers", "1")
    warmed: list[int] = []
    warm = mirror_module.Mirror._warm

    def counted(self: mirror_module.Mirror, to_render: list[tuple[str, str]]) -> list[object]:
        found = warm(self, to_render)
        warmed.append(len(found))
        return found  # type: ignore[return-value]

    monkeypatch.setattr(mirror_module, "_can_fork", lambda: True)
    monkeypatch.setattr(mirror_module.Mirror, "_pool", _in_process)
    monkeypatch.setattr(mirror_module.Mirror, "_warm", counted)
    monkeypatch.setattr(mirror_module, "WARM_SUMMARIES_FROM", 0)
    mirror(tmp_path / "two", "-q", "--workers", "2")
    assert warmed and warmed[0] > 10
    one, two = files_of(tmp_path / "one"), files_of(tmp_path / "two")
    assert one.keys() == two.keys()
    for name, path in one.items():
        assert path.read_bytes() == two[name].read_bytes(), name
