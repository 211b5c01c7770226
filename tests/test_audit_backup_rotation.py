"""`solidarity backup --into DIR` keeps a series of backups named by their UTC time, deletes the
oldest beyond --keep only once the new one is complete, and never touches any other file; a
file of the series restores like any backup."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from pytest_django import Settings

from solidarity.audit.backup import BackupReader, content_digests
from solidarity.audit.keys import read_backup_private
from tests.test_backup import (  # fresh_database: imported to register the fixture
    _cli,
    _cli_env,
    fresh_database,  # noqa: F401
    make_data,
)

NAME = re.compile(r"solidarity-\d{8}T\d{6}Z\.backup")


def run(*args: str) -> str:
    out = StringIO()
    call_command("backup", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    call_command("backup-keygen", "--out", str(tmp_path / "keys"), stdout=StringIO())
    return tmp_path / "keys"


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    directory = tmp_path / "backups"
    directory.mkdir()
    return directory


def into(directory: Path, keys: Path, *extra: str) -> str:
    return run("--into", str(directory), "--recipient", str(keys / "backup.pub"), *extra)


def contents(directory: Path) -> dict[str, bytes | None]:
    return {p.name: (p.read_bytes() if p.is_file() else None) for p in sorted(directory.iterdir())}


def test_into_writes_a_backup_named_by_its_utc_time(db: None, keys: Path, backups: Path) -> None:
    """One file, named solidarity-YYYYMMDDTHHMMSSZ.backup for the time it was made, readable
    with the private key, and no temporary file left beside it."""
    make_data()
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    output = into(backups, keys)
    after = dt.datetime.now(dt.UTC)
    [written] = [p.name for p in backups.iterdir()]
    assert NAME.fullmatch(written)
    made = dt.datetime.strptime(written, "solidarity-%Y%m%dT%H%M%SZ.backup").replace(tzinfo=dt.UTC)
    assert before <= made <= after
    assert f"Backup written to {backups.resolve() / written}" in output
    assert "No older backup deleted (keeping 14)" in output
    reader = BackupReader(backups / written, read_backup_private(keys / "backup.key"))
    kinds = [header["kind"] for header, _ in reader.messages()]
    assert kinds[0] == "manifest"
    assert "rows" in kinds


def test_keep_deletes_only_the_oldest_of_the_series(db: None, keys: Path, backups: Path) -> None:
    """Two earlier backups of the series (made with older names), then a run with --keep 2:
    the oldest goes, the other and the new one stay, and nothing else in the directory is
    touched: other names, a near-miss, a temporary file of a run in progress, a directory
    named like a backup."""
    make_data()
    pub = str(keys / "backup.pub")
    oldest, older = "solidarity-20240101T020000Z.backup", "solidarity-20240102T020000Z.backup"
    run("--to", str(backups / oldest), "--recipient", pub)
    run("--to", str(backups / older), "--recipient", pub)
    (backups / "notes.txt").write_text("the operator's notes")
    (backups / "solidarity-20230101T020000Z.backup.bak").write_text("a copy by hand")
    (backups / "solidarity-2023-01-01.backup").write_text("another naming")
    (backups / ".solidarity-20230101T020000Z.backup.1a2b3c4d.partial").write_text("in progress")
    (backups / "solidarity-20230101T000000Z.backup").mkdir()
    unrelated = {k: v for k, v in contents(backups).items() if k not in (oldest, older)}
    kept = (backups / older).read_bytes()

    output = into(backups, keys, "--keep", "2")

    now = contents(backups)
    series = sorted(name for name in now if NAME.fullmatch(name) and now[name] is not None)
    assert len(series) == 2
    assert series[0] == older
    assert now[older] == kept
    assert oldest not in now
    assert {k: v for k, v in now.items() if k not in series} == unrelated
    assert f"Deleted 1 older backups (kept 2):\n  {oldest}\n" in output
    assert older not in output


def test_a_series_backup_restores_into_a_fresh_instance(
    db: None,
    keys: Path,
    backups: Path,
    tmp_path: Path,
    fresh_database: str | None,  # noqa: F811 - the fixture imported above
) -> None:
    """`restore` takes the newest file of the series as it takes any backup."""
    make_data()
    (backups / "solidarity-20240101T020000Z.backup").write_bytes(b"an old one")
    into(backups, keys, "--keep", "2")
    newest = sorted(p for p in backups.iterdir() if NAME.fullmatch(p.name))[-1]
    expected = content_digests()

    env = _cli_env(tmp_path / "restored", fresh_database)
    restored = _cli(env, "restore", "--from", str(newest), "--key", str(keys / "backup.key"))
    assert restored.returncode == 0, restored.stderr
    assert "content hashes match" in restored.stdout
    rows = sum(d["rows"] for d in expected.values())
    assert f": {rows} rows in {len(expected)} tables (content hashes match)" in restored.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--keep", "0"], "Keep at least one backup"),
        (["--keep", "-3"], "Keep at least one backup"),
        (["--to", "{dir}/one.backup"], "not allowed with argument"),
    ],
    ids=["keep-0", "keep-negative", "to-and-into"],
)
def test_wrong_combinations_are_refused(
    db: None, keys: Path, backups: Path, arguments: list[str], message: str
) -> None:
    args = [a.format(dir=backups) for a in arguments]
    with pytest.raises(CommandError, match=message):
        into(backups, keys, *args)
    assert list(backups.iterdir()) == []


def test_a_target_is_required_and_keep_goes_with_into_only(
    db: None, keys: Path, tmp_path: Path
) -> None:
    pub = str(keys / "backup.pub")
    with pytest.raises(CommandError, match="one of the arguments --to --into is required"):
        run("--recipient", pub)
    with pytest.raises(CommandError, match="--keep goes with --into only"):
        run("--to", str(tmp_path / "one.backup"), "--keep", "3", "--recipient", pub)
    assert not (tmp_path / "one.backup").exists()


def test_keep_from_the_setting_must_be_at_least_one(
    db: None, keys: Path, backups: Path, settings: Settings
) -> None:
    settings.SOLIDARITY_BACKUP_KEEP = 0
    with pytest.raises(CommandError, match="Keep at least one backup"):
        into(backups, keys)
    settings.SOLIDARITY_BACKUP_KEEP = 1
    (backups / "solidarity-20240101T020000Z.backup").write_bytes(b"an old one")
    output = into(backups, keys)
    assert "solidarity-20240101T020000Z.backup" in output
    assert len(list(backups.iterdir())) == 1


def test_the_directory_must_exist(db: None, keys: Path, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="is not a directory; create it first"):
        into(tmp_path / "missing", keys)
    assert not (tmp_path / "missing").exists()
    (tmp_path / "a-file").write_text("")
    with pytest.raises(CommandError, match="is not a directory"):
        into(tmp_path / "a-file", keys)


@pytest.mark.parametrize("place", ["DATA_DIR", "MEDIA_ROOT", "STATIC_ROOT"])
def test_a_directory_inside_the_data_is_refused(
    db: None, keys: Path, tmp_path: Path, settings: Settings, place: str
) -> None:
    """A backup inside what is backed up or served would be copied (or published) with the
    data and backed up again; reaching it through a symbolic link changes nothing."""
    root = tmp_path / place.lower()
    setattr(settings, place, root)
    inside = root / "backups"
    inside.mkdir(parents=True)
    link = tmp_path / "backups-link"
    link.symlink_to(inside)
    for directory in (inside, link):
        with pytest.raises(CommandError, match=f"is inside .*{place}"):
            into(directory, keys)
    assert list(inside.iterdir()) == []


def test_a_failed_backup_deletes_nothing(db: None, keys: Path, backups: Path) -> None:
    """Neither an unreadable recipient key nor a name already taken (another file of this
    second) deletes a backup, overwrites one, or leaves a temporary file."""
    old = [f"solidarity-2024010{day}T020000Z.backup" for day in range(1, 4)]
    for name in old:
        (backups / name).write_bytes(f"backup {name}".encode())
    bad_key = backups.parent / "bad.pub"
    bad_key.write_text("# not a key\n!!!\n")
    before = contents(backups)

    with pytest.raises(CommandError):
        run("--into", str(backups), "--recipient", str(bad_key), "--keep", "1")
    assert contents(backups) == before

    # Every name the run could take in the next minute is taken already.
    start = dt.datetime.now(dt.UTC)
    for second in range(60):
        moment = start + dt.timedelta(seconds=second)
        (backups / f"solidarity-{moment:%Y%m%dT%H%M%SZ}.backup").write_bytes(b"taken")
    before = contents(backups)
    with pytest.raises(CommandError, match="exists already"):
        into(backups, keys, "--keep", "1")
    assert contents(backups) == before
