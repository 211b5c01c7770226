"""`solidarity audit verify | head | witness | checkpoint | keygen`: check the audit chain,
print its head, mail it to the witnesses, sign it."""

from __future__ import annotations

import json
import os
import re
from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from solidarity.audit import keys, services, tasks

_HEAD = re.compile(r"(\d+):([0-9a-f]{64})")


def head_argument(text: str) -> tuple[int, str]:
    """`SEQ:HASH` as a witness's mail or `audit head` gives it."""
    match = _HEAD.fullmatch(text.strip().lower())
    if match is None:
        raise ArgumentTypeError(
            f"{text!r} is not a head: give SEQ:HASH, the entry's number and its 64 hex digits."
        )
    seq, head_hash = int(match[1]), match[2]
    if seq == 0 and head_hash != services.GENESIS:
        raise ArgumentTypeError("Head 0 is the empty log's, whose hash is 64 zeros.")
    return seq, head_hash


class Command(BaseCommand):
    help = (
        "Check and anchor the tamper-evident audit log. `verify` walks the hash chain and names "
        "the first bad entry; with --checkpoint or --head it also detects truncation and a "
        "recomputed chain. `head` prints the chain's head as SEQ:HASH, to copy off the server. "
        "`witness` mails the head to SOLIDARITY_AUDIT_WITNESSES now (the background worker "
        "does it every SOLIDARITY_AUDIT_WITNESS_INTERVAL). `checkpoint` writes a signed "
        "statement of the chain's head to keep off the server. `keygen` creates the signing key "
        "pair."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(
            dest="action", required=True, metavar="verify|head|witness|checkpoint|keygen"
        )
        verify = sub.add_parser("verify", help="check every entry of the chain")
        verify.add_argument("--checkpoint", type=Path, help="a checkpoint file kept off-server")
        verify.add_argument(
            "--public-key", type=Path, help="the public key the checkpoint was signed with"
        )
        verify.add_argument(
            "--head",
            type=head_argument,
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="a head kept off the server (a witness's mail, `audit head`): the log must "
            "still hold that entry with that hash; repeatable",
        )
        sub.add_parser("head", help="print the chain's head as SEQ:HASH (after verifying it)")
        sub.add_parser(
            "witness",
            help="mail the chain's head to SOLIDARITY_AUDIT_WITNESSES now (queued for the "
            "background worker), and schedule the daily mail",
        )
        checkpoint = sub.add_parser("checkpoint", help="sign the chain's head")
        checkpoint.add_argument("--key", type=Path, required=True, help="the private signing key")
        checkpoint.add_argument(
            "--out", type=Path, help="write the checkpoint here (default: standard output)"
        )
        keygen = sub.add_parser("keygen", help="create a checkpoint signing key pair")
        keygen.add_argument(
            "--out",
            type=Path,
            required=True,
            help="directory for audit-signing.key (0600) and audit-signing.pub",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "verify":
                self.verify(options["checkpoint"], options["public_key"], options["head"])
            elif action == "head":
                self.head()
            elif action == "witness":
                self.witness()
            elif action == "checkpoint":
                self.checkpoint(options["key"], options["out"])
            else:
                self.keygen(options["out"])
        except (keys.KeyFileError, services.CheckpointError) as error:
            raise CommandError(str(error)) from error

    def verify(
        self, checkpoint: Path | None, public_key: Path | None, heads: list[tuple[int, str]]
    ) -> None:
        if (checkpoint is None) != (public_key is None):
            raise CommandError("--checkpoint and --public-key go together.")
        result = services.verify_chain()
        if result.first_bad_seq is not None:
            behind = sorted({seq for seq, _hash in heads if seq >= result.first_bad_seq})
            witnessed = (
                f" The history below the witnessed head {', '.join(map(str, behind))} was changed."
                if behind
                else ""
            )
            raise CommandError(
                f"The audit log is NOT intact: {result.problem}. First bad entry: "
                f"{result.first_bad_seq} ({result.entries} entries before it check out)."
                f"{witnessed}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"The audit chain is intact: {result.entries} entries, head {result.head_hash}."
            )
            if result.entries
            else "The audit log is empty."
        )
        if checkpoint is not None and public_key is not None:
            try:
                data = json.loads(checkpoint.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise CommandError(f"Cannot read the checkpoint {checkpoint}: {error}") from error
            if not isinstance(data, dict):
                raise CommandError(f"{checkpoint} is not a checkpoint file.")
            match = services.check_checkpoint(data, keys.read_verify_key(public_key))
            self.stdout.write(self.style.SUCCESS(f"Not truncated or rewritten: {match}."))
        problems = []
        for seq, head_hash in heads:
            try:
                match = services.check_head(seq, head_hash, result)
            except services.CheckpointError as error:
                problems.append(str(error))
            else:
                self.stdout.write(self.style.SUCCESS(f"Not truncated or rewritten: {match}."))
        if problems:
            raise CommandError(" ".join(problems))

    def head(self) -> None:
        result = services.verify_chain()
        if result.first_bad_seq is not None:
            # A head copied from a tampered chain would vouch for the tampering.
            raise CommandError(
                f"Refusing to give the head of a broken chain: {result.problem}. Investigate "
                "first (`solidarity audit verify`)."
            )
        self.stdout.write(f"{result.head_seq}:{result.head_hash}")

    def witness(self) -> None:
        queued = tasks.witness_now()
        if not queued:
            raise CommandError(
                "No witnesses: set SOLIDARITY_AUDIT_WITNESSES to the addresses of people off "
                "this server."
            )
        waiting = tasks.ensure_scheduled()
        after = f" The next at {waiting.run_after:%Y-%m-%d %H:%M} UTC." if waiting else ""
        self.stdout.write(
            f"The head was queued for {queued} witnesses; the background worker sends it.{after}"
        )

    def checkpoint(self, key: Path, out: Path | None) -> None:
        signing_key = keys.read_signing_key(key)
        text = json.dumps(services.make_checkpoint(signing_key), indent=2) + "\n"
        if out is None:
            self.stdout.write(text, ending="")
            return
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError as error:
            raise CommandError(f"{out} exists already; keep every checkpoint.") from error
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        self.stdout.write(
            f"Checkpoint written to {out}. Copy it off this server (two people, two places)."
        )

    def keygen(self, out: Path) -> None:
        private, public = out / "audit-signing.key", out / "audit-signing.pub"
        fp = keys.write_signing_pair(private, public)
        self.stdout.write(
            f"Signing key written to {private} (readable only by you) and the public key to "
            f"{public} (fingerprint {fp}). Keep copies of the public key with the people who "
            "hold the checkpoints."
        )
