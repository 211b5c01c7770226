"""`solidarity keys setup USERNAME` and `solidarity keys grant`: coordinators' keys for sealed
data, from the command line (the back office has the same under "My key")."""

from __future__ import annotations

import getpass
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from solidarity.core.models import Section
from solidarity.safety.keys import KeyRefused, grant_sealed, setup_user_key, unlock_private_key


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


class Command(BaseCommand):
    help = "Set up a coordinator's key pair, or grant a coordinator the sealed data of a section."

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

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "setup":
                user = _user(options["username"])
                password = _password(options["password_file"], f"Password of {user}: ")
                setup_user_key(user, password)
                self.stdout.write(self.style.SUCCESS(f"Key set up for {user}."))
                return
            granter, grantee = _user(options["by"]), _user(options["to"])
            section = Section.objects.filter(slug=options["section"]).first()
            if section is None:
                raise CommandError(f"No section “{options['section']}”.")
            password = _password(options["password_file"], f"Password of {granter}: ")
            private_key = unlock_private_key(granter, password)
            count = grant_sealed(granter, private_key, grantee, section.pk)
        except KeyRefused as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(f"{count} sealed value(s) of {section} granted to {grantee}.")
        )
