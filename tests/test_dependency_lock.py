"""requirements/lock.txt is the whole install (Makefile, SECURITY.md supply chain): every package
pinned and hash-checked, so that a substituted release of any of them stops `make`.

These checks catch a pyproject.toml edited without `make lock`, and a lock edited by hand into
something pip would install without checking (no network: they read the files only).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
BUILD_LOCK = ROOT / "requirements" / "build.txt"


@dataclass(frozen=True)
class Locked:
    line: str  # the entry as written, for the failure messages
    requirement: Requirement
    hashes: frozenset[str]


def _entries(path: Path) -> list[Locked]:
    """The lock's entries, continuation lines joined and `# via` comments dropped. Anything else
    (an option such as --index-url or -e, a URL) is kept as an entry so that the checks fail."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        pending += " " + line.removesuffix("\\").strip()
        if not line.endswith("\\"):
            logical.append(pending.strip())
            pending = ""
    assert not pending, f"{path.name} ends inside a continued line"
    entries = []
    for line in logical:
        words = line.split(" --hash=")
        hashes = frozenset(word.strip() for word in words[1:])
        entries.append(Locked(line, Requirement(words[0].strip()), hashes))
    return entries


def _by_name(entries: list[Locked]) -> dict[NormalizedName, list[Locked]]:
    found: dict[NormalizedName, list[Locked]] = {}
    for entry in entries:
        found.setdefault(canonicalize_name(entry.requirement.name), []).append(entry)
    return found


def _pin(requirement: Requirement) -> str:
    """The exact version of `name==version`; anything else is not a pin."""
    specs = list(requirement.specifier)
    assert len(specs) == 1, f"{requirement} is not pinned to one version"
    assert specs[0].operator == "==", f"{requirement} is not pinned with =="
    assert "*" not in specs[0].version, f"{requirement} pins a range"
    return specs[0].version


def _pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def _declared() -> list[Requirement]:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    return [Requirement(r) for r in declared]


def _build_requires() -> list[Requirement]:
    build_system = _pyproject()["build-system"]
    assert isinstance(build_system, dict)
    return [Requirement(r) for r in build_system["requires"]]


@pytest.mark.parametrize("path", [LOCK, BUILD_LOCK], ids=lambda p: p.name)
def test_every_entry_is_pinned_hashed_and_from_the_index(path: Path) -> None:
    entries = _entries(path)
    assert entries
    for entry in entries:
        requirement = entry.requirement
        assert requirement.url is None, f"{entry.line}: a URL bypasses the index"
        assert not requirement.extras, f"{entry.line}: extras are resolved into their own entries"
        _pin(requirement)
        assert entry.hashes, f"{entry.line}: no --hash, so pip would not check what it downloads"
        for digest in entry.hashes:
            algorithm, _, value = digest.partition(":")
            assert algorithm == "sha256", entry.line
            assert len(value) == 64, entry.line
            assert set(value) <= set("0123456789abcdef"), entry.line


def test_every_declared_dependency_is_locked_at_its_pinned_version() -> None:
    locked = _by_name(_entries(LOCK))
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        versions = {_pin(entry.requirement) for entry in locked.get(name, [])}
        assert versions == {_pin(requirement)}, (
            f"pyproject.toml asks for {requirement}, the lock has {name} {sorted(versions)}: "
            "run `make lock` and commit both"
        )


def test_what_the_declared_extras_pull_in_is_locked() -> None:
    # psycopg[binary] is psycopg plus psycopg-binary: the extra's own requirements, read from the
    # installed metadata, are in the lock at versions they accept.
    locked = _by_name(_entries(LOCK))
    for requirement in _declared():
        for extra in requirement.extras:
            pulled = [
                dependency
                for dependency in map(Requirement, metadata.requires(requirement.name) or [])
                if dependency.marker is not None
                and dependency.marker.evaluate({"extra": extra})
                and not dependency.marker.evaluate({"extra": ""})
            ]
            assert pulled, f"{requirement}: the extra {extra!r} pulls in nothing"
            for dependency in pulled:
                entries = locked.get(canonicalize_name(dependency.name), [])
                assert entries, f"{requirement} needs {dependency.name}, not in the lock"
                assert any(
                    dependency.specifier.contains(_pin(e.requirement), prereleases=True)
                    for e in entries
                ), f"{requirement} needs {dependency}, the lock has {[e.line for e in entries]}"


def test_the_build_backend_is_locked_and_installed_first_with_the_same_hashes() -> None:
    # The Makefile installs requirements/build.txt before building anything without isolation
    # (pip does not hash-check an isolated build environment's downloads).
    locked = _by_name(_entries(LOCK))
    build = _by_name(_entries(BUILD_LOCK))
    wanted = {canonicalize_name(r.name): _pin(r) for r in _build_requires()}
    assert {name: _pin(entries[0].requirement) for name, entries in build.items()} == wanted
    for name, entries in build.items():
        (entry,) = entries
        assert [(_pin(e.requirement), e.hashes) for e in locked[name]] == [
            (_pin(entry.requirement), entry.hashes)
        ], f"{name}: build.txt and lock.txt disagree; run `make lock`"
