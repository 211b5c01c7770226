"""`solidarity reset_second_factor USERNAME`: remove a user's authenticator, backup codes and
security keys.

For a coordinator who lost their phone and their backup codes. Run it only after checking, in
person or by video, that the request comes from them (D7 in docs/threat-model.md): whoever next
logs in with the account's password sets up a new authenticator.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from solidarity.accounts import factors


class Command(BaseCommand):
    help = (
        "Remove every second-factor device (authenticator app, backup codes) of a user, so "
        "that they set up a new one at their next login. Verify who is asking first."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        with transaction.atomic():
            devices = factors.all_devices(user)
            for device in devices:
                device.delete()
        self.stdout.write(
            f"Removed {len(devices)} second-factor device(s) of {username}. They will set up "
            "a new authenticator app at their next login; change their password too if it "
            "may be known to someone else."
        )
