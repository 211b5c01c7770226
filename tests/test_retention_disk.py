"""A purged supporter leaves nothing on disk: after `solidarity purge --vacuum` on a real SQLite
instance (secure_delete on, WAL mode), neither the database file nor its write-ahead log holds
any value of the purged rows, while a confirmed signer's row is still there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

WRITE = """
import datetime as dt, json
from django.db import connection
from django.utils import timezone
from solidarity.campaigns import services
from solidarity.campaigns.models import Campaign, Petition, Signature, Supporter
from solidarity.core.models import Section

section = Section.objects.create(slug="home", name_en="Home", kind="home")
campaign = Campaign.objects.create(section=section, is_public=True, slug="c", title_en="C")
petition = Petition.objects.create(
    section=section, is_public=True, campaign=campaign, slug="p", title_en="P", text_en="T"
)
for email, word in [("gone-4d1@example.org", "Canary 4d1"), ("kept@example.org", "Kept 9e2")]:
    details = services.SupporterDetails(email=email, name=word + " name", country=word + " land")
    services.sign_petition(
        petition, details, comment=word + " comment", processing_consent=True,
        base_url="http://x",
    )
old = timezone.now() - dt.timedelta(days=3)
Supporter.objects.update(created_at=old)
Signature.objects.update(created_at=old)
kept = Signature.objects.get(supporter__email_index=services.email_index("kept@example.org"))
services.confirm_signature(services.signature_token(kept))
values = {}
with connection.cursor() as cursor:
    for sql in [
        "SELECT email, email_index, name, country FROM campaigns_supporter",
        "SELECT email_index, token_hash, comment FROM campaigns_signature",
    ]:
        cursor.execute(sql + " ORDER BY id")
        for i, row in enumerate(cursor.fetchall()):
            values.setdefault("gone" if i == 0 else "kept", []).extend(
                v for v in row if v and len(v) >= 12
            )
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print("VALUES", json.dumps(values))
"""


def _run(data_dir: Path, *args: str) -> str:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(SOLIDARITY_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    env.pop("SOLIDARITY_KEYRING_FILE", None)
    result = subprocess.run(
        [sys.executable, "-m", "solidarity", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _disk(data_dir: Path) -> bytes:
    database = data_dir / "solidarity.sqlite3"
    wal = Path(f"{database}-wal")
    return database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_a_purged_supporter_is_not_in_the_database_file_after_vacuum(tmp_path: Path) -> None:
    data_dir = tmp_path / "instance"
    _run(data_dir, "migrate", "-v0")
    out = _run(data_dir, "shell", "-c", WRITE)
    values = json.loads(out.split("VALUES ", 1)[1])
    gone, kept = values["gone"], values["kept"]
    assert len(gone) >= 4 and len(kept) >= 4
    # The canaries are on disk before the purge, or the test would prove nothing.
    before = _disk(data_dir)
    assert all(v.encode() in before for v in gone + kept)

    report = _run(data_dir, "purge", "--vacuum")
    assert "unconfirmed signatures (older than 2 days, 0:00:00): deleted 1" in report
    assert "Database file rewritten (VACUUM)." in report

    after = _disk(data_dir)
    assert [v for v in gone if v.encode() in after] == []
    assert all(v.encode() in after for v in kept)
