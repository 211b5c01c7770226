"""`solidarity audit verify | checkpoint | keygen`: check the audit chain, sign its head."""

from __future__ import annotations

import json
import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from solidarity.audit import keys, services


class Command(BaseCommand):
    help = (
        "Check and anchor the tamper-evident audit log. `verify` walks the hash chain and names "
        "the first bad entry; with --checkpoint it also detects truncation. `checkpoint` writes "
        "a signed statement of the chain's head to keep off the server. `keygen` creates the "
        "signing key pair."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(
            dest="action", required=True, metavar="verify|checkpoint|keygen"
        )
        verify = sub.add_parser("verify", help="check every entry of the chain")
        verify.add_argument("--checkpoint", type=Path, help="a checkpoint file kept off-server")
        verify.add_argument(
            "--public-key", type=Path, help="the public key the checkpoint was signed with"
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
                self.verify(options["checkpoint"], options["public_key"])
            elif action == "checkpoint":
                self.checkpoint(options["key"], options["out"])
            else:
                self.keygen(options["out"])
        except (keys.KeyFileError, services.CheckpointError) as error:
            raise CommandError(str(error)) from error

    def verify(self, checkpoint: Path | None, public_key: Path | None) -> None:
        if (checkpoint is None) != (public_key is None):
            raise CommandError("--checkpoint and --public-key go together.")
        result = services.verify_chain()
        if not result.ok:
            raise CommandError(
                f"The audit log is NOT intact: {result.problem}. First bad entry: "
                f"{result.first_bad_seq} ({result.entries} entries before it check out)."
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
