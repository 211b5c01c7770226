"""The cost of encryption on a back-office read of 100 people.

    .venv/bin/python -m bench.crypto_bench [--people 100] [--rounds 30]

Builds a throwaway data directory (SQLite, the real settings), migrates it, and stores
--people people with a personal contact (XChaCha20-Poly1305 under the keyring key) and sealed
whereabouts (a data key per value, wrapped for two coordinators with X25519 sealed boxes). A
coordinator's private key is unlocked once (Argon2id, outside the timing, as the unlock page
does once per 5 minutes). Then it times, as the median of --rounds rounds:

- plain: load the people and read what a list page shows (names, birth year, section);
- personal: the same plus every contact decrypted;
- sealed+personal: the same plus every whereabouts unsealed through `read_sealed`, which also
  appends one audit entry per read when the audit app is installed, each in its own commit
  (an fsync each, with synchronous=FULL);
- the same through `read_sealed_many`: one query for the wrapped keys and one commit for the
  page's audit entries.

It prints milliseconds per page and the ratio of each to plain, and the time of the decryption
primitives alone on rows already loaded (the rest of the sealed cost is queries and audit
entries). Everything is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _setup(data_dir: Path) -> None:
    os.environ["SOLIDARITY_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("SOLIDARITY_KEYRING_FILE", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solidarity.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _median_ms(work: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="solidarity-crypto-bench-"))
    try:
        _setup(data_dir)
        from django.contrib.auth.models import User
        from django.db import transaction

        from solidarity.core.models import Section
        from solidarity.documentation.models import Person
        from solidarity.safety.crypto import b64d, decrypt_personal, unseal, unwrap_data_key
        from solidarity.safety.fields import row_aad
        from solidarity.safety.keys import (
            read_sealed,
            read_sealed_many,
            setup_user_key,
            unlock_private_key,
        )
        from solidarity.safety.models import Role, SealedKey

        section = Section.objects.create(slug="bench", name_en="Bench", kind="home")
        users = []
        for name in ("alia", "bolat"):
            user = User.objects.create_user(name, password=f"{name} bench passphrase")
            Role.objects.create(user=user, section=section, role="coordinator")
            setup_user_key(user, f"{name} bench passphrase")
            users.append(user)
        for n in range(args.people):
            # A sealed value is written only in a transaction (safety/fields.py locks the keys).
            with transaction.atomic():
                Person.objects.create(
                    section=section,
                    slug=f"person-{n}",
                    given_name="Person",
                    family_name=f"Number {n}",
                    birth_year=1960 + n % 40,
                    contact=f"+7 700 000 {n:04d}, ask for the neighbour",
                    whereabouts=f"Flat {n}, street {n % 17}, a town far from home",
                )
        reader = users[0]
        private_key = unlock_private_key(reader, "alia bench passphrase")

        def plain() -> list[tuple[str, int | None, int]]:
            return [
                (p.full_name, p.birth_year, p.section_id)
                for p in Person.objects.select_related("section")
            ]

        def personal() -> list[tuple[str, str]]:
            return [(p.full_name, p.contact) for p in Person.objects.select_related("section")]

        def sealed() -> list[tuple[str, str, str]]:
            return [
                (p.full_name, p.contact, read_sealed(reader, p, "whereabouts", private_key))
                for p in Person.objects.select_related("section")
            ]

        def sealed_one_commit() -> list[tuple[str, str, str]]:
            people = list(Person.objects.select_related("section"))
            found = read_sealed_many(reader, people, "whereabouts", private_key)
            return [(p.full_name, p.contact, found[p.pk]) for p in people]

        wrapped = dict(
            SealedKey.objects.filter(user=reader, field_name="whereabouts").values_list(
                "object_id", "wrapped_key"
            )
        )
        loaded = list(Person.objects.all())
        raw = {p.pk: (p.__dict__["contact"], p.__dict__["whereabouts"]) for p in loaded}

        def crypto_only() -> list[str]:
            # The primitives alone, on rows already in memory: no query, no audit entry.
            out = []
            for p in loaded:
                contact, sealed_value = raw[p.pk]
                out.append(decrypt_personal(contact, row_aad(p, "contact")))
                data_key = unwrap_data_key(b64d(wrapped[p.pk]), private_key)
                out.append(unseal(sealed_value.ciphertext, row_aad(p, "whereabouts"), data_key))
            return out

        assert len(sealed()) == args.people
        base = _median_ms(plain, args.rounds)
        with_personal = _median_ms(personal, args.rounds)
        with_sealed = _median_ms(sealed, args.rounds)
        one_commit = _median_ms(sealed_one_commit, args.rounds)
        print(f"{args.people} people, median of {args.rounds} rounds")
        print(f"  plain:            {base:8.2f} ms")
        print(f"  personal:         {with_personal:8.2f} ms  ratio {with_personal / base:5.2f}")
        print(f"  sealed+personal:  {with_sealed:8.2f} ms  ratio {with_sealed / base:5.2f}")
        print(f"  sealed, read_sealed_many: {one_commit:6.2f} ms  ratio {one_commit / base:5.2f}")
        primitives = _median_ms(crypto_only, args.rounds)
        print(f"  decryption alone (no query, no audit): {primitives:6.2f} ms for both fields")
        per_person = (one_commit - base) / args.people
        print(f"  cost per person, both fields, one commit per page: {per_person:.3f} ms")
        return 0
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
