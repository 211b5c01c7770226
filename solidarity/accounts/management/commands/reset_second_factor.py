"""`solidarity reset_second_factor USERNAME [--base-url URL]`: a new start for a member who lost
their second factor (ASVS 6.4.4).

For a coordinator who lost their phone and their backup codes. Run it only after checking, in
person or by video, that the request comes from them (D7 in docs/threat-model.md). In one
transaction it removes every authenticator app, backup code and security key of the account,
takes its password away (a fresh random unusable one) and ends every signed-in session; then it
prints a one-time invitation link, the same kind the back office makes for a new member
(accounts/invitations.py). With the link the member chooses a new password; at their next login
they set up a new second factor.

Why the password goes too: without a factor, the password alone would lead to enrolment, so a
phished password (A3) plus a reset talked out of an administrator would let the adversary enrol
their own authenticator. Now only whoever receives the link, handed over in person after the
identity check, can. Sessions end because the lost phone may still be signed in (a seized
device, A9). The link is printed to the administrator's terminal only: never stored, logged or
put in the audit chain; hand it over in person or by an end-to-end encrypted messenger, never by
e-mail.

The command cannot know the site's address (there is no request, and ALLOWED_HOSTS may name
several hosts): `--base-url https://host` makes a full link, checked against ALLOWED_HOSTS; without
it the path is printed, to put after the site's address.

Audit entries, all by "system:reset_second_factor": one deletion per removed device (names only,
by the audit signals), `invitation_created` and, if any session was live, `sessions_ended`.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.http.request import split_domain_port, validate_host

from solidarity.accounts import factors, hosts, invitations, signed_in


def base_url(value: str) -> str:
    """The site's address as given to --base-url, without a trailing slash; CommandError if it
    is not a bare http(s) origin of an allowed host, or plain http on an HTTPS site (the token
    would cross the network in clear before the redirect to HTTPS)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise CommandError(f"--base-url {value!r}: give the site's address, e.g. https://host")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise CommandError(f"--base-url {value!r}: give the site's address only, without a path")
    domain, _port = split_domain_port(parts.netloc)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        raise CommandError(
            f"--base-url {value!r}: {parts.netloc} is not in ALLOWED_HOSTS "
            "(SOLIDARITY_ALLOWED_HOSTS), so the link would not open."
        )
    backoffice = hosts.backoffice_hosts()
    if backoffice and hosts.normalise(domain) not in backoffice:
        # The welcome page is the back office's: on a public host it answers 404.
        raise CommandError(
            f"--base-url {value!r}: {domain} is not a back-office host "
            "(SOLIDARITY_BACKOFFICE_HOSTS), so the link would not open."
        )
    if parts.scheme == "http" and getattr(settings, "HTTPS", False):
        raise CommandError(f"--base-url {value!r}: the site is served over HTTPS; use https://")
    return f"{parts.scheme}://{parts.netloc}"


class Command(BaseCommand):
    help = (
        "Remove every second-factor device (authenticator app, backup codes, security keys) "
        "of a user, take their password away, end their sessions and print a one-time link "
        "with which they choose a new password; they then set up a new second factor at login. "
        "Verify in person who is asking first, and hand the link over in person."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--base-url",
            default="",
            help="the site's address (e.g. https://solidarity.example.org), to print a full "
            "link; without it the link's path is printed",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        # Every input is checked before anything changes: a typo must not cost the member
        # their factors and password without giving the administrator a link.
        site = base_url(options["base_url"]) if options["base_url"] else ""
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if not user.is_active:
            raise CommandError(
                f"User {username!r} is deactivated: a link would not open. Reactivate the "
                "account first if the reset is wanted."
            )
        with transaction.atomic():
            devices = factors.all_devices(user)
            for device in devices:
                device.delete()
            # by=None: the audit context names the command ("system:reset_second_factor").
            path = invitations.new_link(user, by=None)
            ended = signed_in.end_all(user, by=None)
        self.stdout.write(
            f"Removed {len(devices)} second-factor device(s) of {username}, took their password "
            f"away and ended {ended} session(s)."
        )
        self._print_link(site, path, username)

    def _print_link(self, site: str, path: str, username: str) -> None:
        hours = invitations.lifetime_hours()
        self.stdout.write(
            f"\nOne-time link for {username} to choose a new password (it works once, for "
            f"{hours} hours):\n\n    {site}{path}\n"
        )
        if not site:
            self.stdout.write(
                "Put the site's address before it (e.g. https://solidarity.example.org), or run "
                "the command again with --base-url (that makes a new link and kills this one).\n"
            )
        self.stdout.write(
            "Hand it over in person or by an end-to-end encrypted messenger, never by e-mail "
            "(D7 in docs/threat-model.md). With it they choose a new password; at their next "
            "login they set up a new second factor. Running this command again kills the link."
        )
