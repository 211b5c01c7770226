"""Shared fixtures. Tests run through real interfaces on a real database (SQLite by default,
PostgreSQL when DATABASE_URL is set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from solidarity.core.models import Section
from solidarity.documentation.models import Source


@pytest.fixture
def section(db: None) -> Section:
    return Section.objects.create(slug="home", name_en="Home organisation", kind="home")


@pytest.fixture
def public_source(section: Section) -> Source:
    return Source.objects.create(
        section=section,
        is_public=True,
        slug="cwi-2002",
        title="Kazakhstan - CWI section established",
        publisher="Committee for a Workers' International",
        published="2002-05-23",
        accessed="2012-03-05",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests need Debian's Chromium; skip them without it, except in CI where they
    must run (a skipped safety or browser test in CI would be a silent hole)."""
    if Path("/usr/bin/chromium").exists() or os.environ.get("CI") == "true":
        return
    skip = pytest.mark.skip(reason="needs /usr/bin/chromium (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
