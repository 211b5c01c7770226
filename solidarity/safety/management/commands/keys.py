"""`solidarity keys setup USERNAME` and `solidarity keys grant`: coordinators' keys for sealed
data, from the command line (the back office has the same under "My key"). `recovery-keygen`,
`recovery-set`, `recovery-remove` and `recover`: a section's offline recovery key
(solidarity/safety/recovery.py), here only."""

from __future__ import annotations

import getpass
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from solidarity.audit.keys import (
    KeyFileError,
    read_recovery_private,
    read_recovery_public,
    write_recovery_pair,
)
from solidarity.core.models import Section
from solidarity.safety.key_rotation import reseal_for, rotate_user_key
from solidarity.safety.keys import (
    KeyRefused,
    grant_sealed,
    setup_user_key,
    unlock_private_key,
    user_key,
)
from solidarity.safety.recovery import recover, remove_recovery_key, set_recovery_key


def _user(username: str) -> Any:
    model = get_user_model()
    try:
        return model._default_manager.get(**{model.USERNAME_FIELD: username})
    except model.DoesNotExist:
        raise CommandError(f"No user “{username}”.") from None


def _password(path: str | None, prompt: str) -> str:
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\n")
        except OSError as error:
            raise CommandError(f"Cannot read the password file: {error}") from error
    return getpass.getpass(prompt)


def _section(slug: str) -> Section:
    section = Section.objects.filter(slug=slug).first()
    if section is None:
        raise CommandError(f"No section “{slug}”.")
    return section


class Command(BaseCommand):
    help = (
        "Set up a coordinator's key pair, grant a coordinator the sealed data of a section, or "
        "make, register and use a section's offline recovery key."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        setup = sub.add_parser(
            "setup", help="Create USERNAME's key pair, protected by their login password."
        )
        setup.add_argument("username")
        setup.add_argument(
            "--password-file", help="Read the password from this file instead of prompting."
        )
        grant = sub.add_parser(
            "grant",
            help=(
                "Wrap for --to every sealed value of --section that --by can read (for a "
                "coordinator added to a section). Needs --by's password."
            ),
        )
        grant.add_argument("--by", required=True, help="A coordinator who can read the values.")
        grant.add_argument("--to", required=True, help="The coordinator to grant them to.")
        grant.add_argument("--section", required=True, help="The section's slug.")
        grant.add_argument(
            "--password-file", help="The password of --by, from this file instead of a prompt."
        )
        rotate = sub.add_parser(
            "rotate",
            help=(
                "Replace USERNAME's key pair (its private key and password may have leaked): "
                "every data key wrapped for the old key is wrapped for the new one. Needs the "
                "password, which protects the new key."
            ),
        )
        rotate.add_argument("username")
        rotate.add_argument(
            "--password-file", help="Read the password from this file instead of prompting."
        )
        rotate.add_argument(
            "--previous-password-file",
            help=(
                "After a password reset the key is still protected by the previous password: "
                "read it from this file instead of prompting."
            ),
        )
        rotate.add_argument(
            "--reseal",
            action="store_true",
            help=(
                "Also rewrite every sealed value USERNAME can read under a fresh data key, so "
                "that a copy of the database taken before no longer matches them."
            ),
        )
        keygen = sub.add_parser(
            "recovery-keygen",
            help=(
                "Create a section recovery key pair in --out: recovery.key (private, 0600) and "
                "recovery.pub. Run it on an offline machine; only recovery.pub goes to the server."
            ),
        )
        keygen.add_argument("--out", type=Path, required=True, help="Directory for the two keys.")
        recovery_set = sub.add_parser(
            "recovery-set",
            help=(
                "Register --public as the recovery key of --section and wrap to it every sealed "
                "value there that --by can read. Needs --by's password; the first key of a "
                "section with two or more coordinators with keys also needs a second "
                "coordinator's (--second); replacing an existing recovery key needs the current "
                "recovery private key (--old-key)."
            ),
        )
        recovery_set.add_argument("--section", required=True, help="The section's slug.")
        recovery_set.add_argument(
            "--public", type=Path, required=True, help="The recovery.pub file."
        )
        recovery_set.add_argument(
            "--by", required=True, help="A coordinator of the section who can read the values."
        )
        recovery_set.add_argument(
            "--password-file", help="The password of --by, from this file instead of a prompt."
        )
        self.add_second(
            recovery_set,
            "Required for the first key of a section with two or more coordinators with keys.",
        )
        recovery_set.add_argument(
            "--old-key",
            type=Path,
            help=(
                "The current recovery.key (private) of --section: required to replace its "
                "recovery key, so that no single coordinator can swap in a key of their own."
            ),
        )
        recovery_set.add_argument(
            "--drop-unopened",
            action="store_true",
            help=(
                "Replace the key even if values wrapped to the old one cannot be re-wrapped to "
                "the new one (they are then no longer recoverable). Still needs --old-key."
            ),
        )
        recovery_remove = sub.add_parser(
            "recovery-remove",
            help=(
                "Delete the recovery key of --section and every data key wrapped to it (one "
                "its coordinators do not trust). Needs the passwords of two different "
                "coordinators of the section with keys (--by and --second)."
            ),
        )
        recovery_remove.add_argument("--section", required=True, help="The section's slug.")
        recovery_remove.add_argument(
            "--by", required=True, help="A coordinator of the section with a key."
        )
        recovery_remove.add_argument(
            "--password-file", help="The password of --by, from this file instead of a prompt."
        )
        self.add_second(recovery_remove, "Required.")
        recover_cmd = sub.add_parser(
            "recover",
            help=(
                "With the section's offline recovery private key, grant every sealed value of "
                "--section to --grant (a coordinator there with a key)."
            ),
        )
        recover_cmd.add_argument("--section", required=True, help="The section's slug.")
        recover_cmd.add_argument(
            "--key", type=Path, required=True, help="The recovery.key file (private)."
        )
        recover_cmd.add_argument(
            "--grant", required=True, help="The coordinator to grant the values to."
        )

    @staticmethod
    def add_second(parser: ArgumentParser, when: str) -> None:
        parser.add_argument(
            "--second",
            help=f"Another coordinator of the section with a key, who confirms. {when}",
        )
        parser.add_argument(
            "--second-password-file",
            help="The password of --second, from this file instead of a prompt.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rotate":
            return self.rotate(options)
        action = options["action"]
        try:
            if action == "recovery-keygen":
                self.recovery_keygen(options["out"])
                return
            if action == "recovery-set":
                self.recovery_set(options)
                return
            if action == "recovery-remove":
                self.recovery_remove(options)
                return
            if action == "recover":
                self.recover_section(options)
                return
            if action == "setup":
                user = _user(options["username"])
                password = _password(options["password_file"], f"Password of {user}: ")
                setup_user_key(user, password)
                self.stdout.write(self.style.SUCCESS(f"Key set up for {user}."))
                return
            granter, grantee = _user(options["by"]), _user(options["to"])
            section = _section(options["section"])
            password = _password(options["password_file"], f"Password of {granter}: ")
            private_key = unlock_private_key(granter, password)
            count = grant_sealed(granter, private_key, grantee, section.pk)
        except KeyRefused as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(f"{count} sealed value(s) of {section} granted to {grantee}.")
        )

    def recovery_keygen(self, out: Path) -> None:
        private, public = out / "recovery.key", out / "recovery.pub"
        try:
            fp = write_recovery_pair(private, public)
        except KeyFileError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Private key: {private} (readable only by you). Move it off this machine now and "
            "delete it here: it must never be on the server. Keep it offline, abroad, in two "
            "places (printed, or on a hardware token); with it and a copy of the database anyone "
            "reads every sealed value of the section, without it a section whose coordinators "
            "are all gone is lost.\n"
            f"Public key:  {public} (fingerprint {fp}). Copy this one to the server and pass it "
            "to `solidarity keys recovery-set --public`."
        )

    def recovery_set(self, options: dict[str, Any]) -> None:
        section, by = _section(options["section"]), _user(options["by"])
        try:
            public_key = read_recovery_public(options["public"])
            # The same reader as `recover`: a file that is not a recovery private key stops here.
            old_key = read_recovery_private(options["old_key"]) if options["old_key"] else None
        except KeyFileError as error:
            raise CommandError(str(error)) from error
        second = _user(options["second"]) if options["second"] else None
        password = _password(options["password_file"], f"Password of {by}: ")
        private_key = unlock_private_key(by, password)
        second_password = ""
        if second is not None:
            second_password = _password(options["second_password_file"], f"Password of {second}: ")
        done = set_recovery_key(
            section,
            public_key,
            by,
            private_key,
            old_private_key=old_key,
            drop_unopened=options["drop_unopened"],
            second=second,
            second_password=second_password,
        )
        verb = "replaced" if done.replaced else "set"
        self.stdout.write(
            self.style.SUCCESS(
                f"Recovery key of section {section.slug} {verb} (fingerprint "
                f"{done.key.fingerprint}): {done.wrapped} sealed value(s) wrapped to it, "
                f"{done.already} already were."
            )
        )
        if done.unopened:
            self.stdout.write(
                self.style.WARNING(
                    f"{done.unopened} sealed value(s) of the section were not sealed for {by} and "
                    "are NOT wrapped to the recovery key: run recovery-set again with the same "
                    "key and the password of a coordinator who can read them."
                )
            )
        if done.unconfirmed:
            self.stdout.write(
                self.style.WARNING(
                    f"Nobody confirmed this recovery key: {by} is the only coordinator of "
                    f"section {section.slug} with a key. Check its fingerprint with the "
                    "custodians; once there are two coordinators, they can remove a key they "
                    "do not trust (keys recovery-remove)."
                )
            )

    def recovery_remove(self, options: dict[str, Any]) -> None:
        section, by = _section(options["section"]), _user(options["by"])
        if not options["second"]:
            raise CommandError(
                "Removing a recovery key needs two coordinators of the section: pass --second."
            )
        second = _user(options["second"])
        password = _password(options["password_file"], f"Password of {by}: ")
        second_password = _password(options["second_password_file"], f"Password of {second}: ")
        deleted = remove_recovery_key(section, by, password, second, second_password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Recovery key of section {section.slug} removed, with the {deleted} data "
                "key(s) wrapped to it. Its sealed values stay open to the coordinators they are "
                "sealed for, but cannot be recovered until a recovery key is registered again "
                "(keys recovery-set)."
            )
        )

    def recover_section(self, options: dict[str, Any]) -> None:
        section, grantee = _section(options["section"]), _user(options["grant"])
        try:
            private_key = read_recovery_private(options["key"])
        except KeyFileError as error:
            raise CommandError(str(error)) from error
        done = recover(section, private_key, grantee)
        self.stdout.write(
            self.style.SUCCESS(
                f"{done.granted} sealed value(s) of section {section.slug} granted to {grantee} "
                f"with the recovery key, {done.already} were theirs already."
            )
        )
        if done.uncovered:
            self.stdout.write(
                self.style.WARNING(
                    f"{done.uncovered} sealed value(s) of the section are not wrapped to the "
                    "recovery key and could not be granted."
                )
            )

    def rotate(self, options: dict[str, Any]) -> None:
        user = _user(options["username"])
        password = _password(options["password_file"], f"Password of {user}: ")
        key = user_key(user)
        previous = ""
        if key is not None and key.needs_rewrap:
            previous = _password(
                options["previous_password_file"], f"Previous password of {user}: "
            )
        try:
            result, private_key = rotate_user_key(user, password, previous)
        except KeyRefused as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Key pair of {user} replaced: {result.rewrapped} wrapped "
                f"key(s) re-wrapped, the unlocked state of {result.unlocked_sessions_ended} "
                "session(s) dropped."
            )
        )
        if options["reseal"]:
            try:
                count = reseal_for(user, private_key)
            except KeyRefused as error:  # RecipientsChanged: the key pair itself was replaced
                raise CommandError(str(error)) from error
            self.stdout.write(self.style.SUCCESS(f"{count} sealed value(s) resealed."))
        else:
            self.stdout.write(
                "A copy of the database taken before still opens with the old key; "
                "--reseal rewrites the values under new data keys."
            )
