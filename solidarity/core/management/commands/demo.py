"""`solidarity demo`: a working back office with the seed case in one command.

Migrates, loads the seed case, makes sure there is a superuser "admin", and prints how to log
in. Running it again changes nothing: the case loads idempotently, and an existing admin's
password is never reset (it is only shown again if it is still the one this command made).
"""

from __future__ import annotations

import os
import secrets
import stat
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import UserManager
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from solidarity.campaigns.demo import load_demo_campaigns
from solidarity.documentation.seed import SEED_CASE, SeedError, load_case

ADMIN_USERNAME = "admin"
LOGIN_FILENAME = "demo-admin-password"
LOGIN_URL = "http://127.0.0.1:8000/admin/"


class Command(BaseCommand):
    help = (
        "Set up the demo: migrate the database, load the seed case, create the superuser "
        f"“{ADMIN_USERNAME}” if missing, and print how to log in. Safe to run again."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="Never prompt. The demo never does; the flag is accepted for scripts and CI.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity: int = options["verbosity"]
        self.stdout.write("Bringing the database schema up to date (migrate)…")
        call_command(
            "migrate", interactive=False, verbosity=max(verbosity - 1, 0), stdout=self.stdout
        )
        try:
            report = load_case(SEED_CASE)
        except SeedError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Seed case loaded from {SEED_CASE}: {report.summary()}.")
        campaigns = load_demo_campaigns()
        self.stdout.write(f"Campaigns loaded: {', '.join(c.title_en for c in campaigns)}.")
        if verbosity >= 2:
            for line in report.lines():
                self.stdout.write(f"  {line}")

        password_file = Path(settings.DATA_DIR) / LOGIN_FILENAME
        password = ensure_admin(password_file)
        granted = grant_demo_roles()
        if granted:
            self.stdout.write(
                f"The demo admin was made coordinator of {granted} section(s): being a "
                "superuser alone shows no section data (docs/threat-model.md, D5)."
            )
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("The demo is ready. Log in to the back office:"))
        self.stdout.write(f"  URL:       {LOGIN_URL}")
        self.stdout.write(f"  User:      {ADMIN_USERNAME}")
        if password is None:
            self.stdout.write(
                "  Password:  not known to the demo: the account existed already, or its "
                "password was changed. The demo never resets it; to set a new one run:\n"
                f"             solidarity changepassword {ADMIN_USERNAME}"
            )
        else:
            self.stdout.write(f"  Password:  {password}")
            self.stdout.write(f"             (kept in {password_file}, readable only by you)")
        self.stdout.write(
            "  Second factor: every staff login needs one. At the first login you scan a QR "
            "code with an authenticator app (any TOTP app) and receive ten backup codes."
        )
        self.stdout.write("")
        self.stdout.write("Start the server with:")
        self.stdout.write("  solidarity serve")
        self.stdout.write(f"then open {LOGIN_URL} (the public site is at http://127.0.0.1:8000/).")


def ensure_admin(password_file: Path) -> str | None:
    """Create the demo superuser if missing; return its password if the demo still knows it."""
    user_model = get_user_model()
    manager = user_model._default_manager
    user = manager.filter(**{user_model.USERNAME_FIELD: ADMIN_USERNAME}).first()
    if user is None:
        password = secrets.token_urlsafe(18)
        # One transaction: if the password cannot be written down, no account is left behind
        # with a password nobody knows.
        with transaction.atomic():
            cast("UserManager[Any]", manager).create_superuser(
                ADMIN_USERNAME, email="", password=password
            )
            _write_private(password_file, password)
        return password
    saved = _read_private(password_file)
    # hashers.check_password, not user.check_password: the latter may re-hash and save the
    # user, and a second run of the demo must not change the database.
    if saved and check_password(saved, user.password):
        return saved
    return None


def grant_demo_roles() -> int:
    """Make the demo admin coordinator of every section it has no role in; return how many.

    Only the demo does this: in production an administrator runs the system and reads section
    data only through a role that someone granted on purpose.
    """
    from solidarity.core.models import Section
    from solidarity.safety.models import Role

    user_model = get_user_model()
    admin = user_model._default_manager.get(**{user_model.USERNAME_FIELD: ADMIN_USERNAME})
    granted = 0
    for section in Section.objects.exclude(
        pk__in=Role.objects.filter(user=admin).values("section")
    ):
        Role.objects.create(user=admin, section=section, role="coordinator")
        granted += 1
    return granted


def _write_private(path: Path, secret: str) -> None:
    # The file holds a superuser's password: created 0600 from its first byte (never created
    # readable and chmod-ed later), so another account on the machine cannot read it.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    os.replace(partial, path)


def _read_private(path: Path) -> str:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode != 0o600:
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""
