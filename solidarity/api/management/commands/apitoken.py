"""`solidarity apitoken create|list|revoke|rotate`: API tokens from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from solidarity.api.models import ApiToken
from solidarity.api.scopes import SCOPES
from solidarity.api.tokens import PREFIX_LENGTH, create_token, revoke_token, rotate_token


class Command(BaseCommand):
    help = "Create, list, revoke and rotate API tokens. A new token's secret is printed once only."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Make a token for a user.")
        create.add_argument("username")
        create.add_argument(
            "--scope",
            action="append",
            default=[],
            dest="scopes",
            help="May be given more than once. One of: " + ", ".join(SCOPES),
        )
        create.add_argument("--name", default="", help="What the token is for.")
        listing = actions.add_parser("list", help="List tokens (never their secrets).")
        listing.add_argument("username", nargs="?", help="Only this user's tokens.")
        revoke = actions.add_parser("revoke", help="Revoke a token by its number or prefix.")
        revoke.add_argument("token", help="The number shown by 'list', or the token's prefix.")
        rotate = actions.add_parser(
            "rotate",
            help="Replace a token by a new one (same user, name, scopes) and revoke it at once.",
        )
        rotate.add_argument("token", help="The number shown by 'list', or the token's prefix.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options["username"], options["scopes"], options["name"])
        elif action == "list":
            self._list(options["username"])
        elif action == "rotate":
            self._rotate(options["token"])
        else:
            self._revoke(options["token"])

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        return user

    def _create(self, username: str, scopes: list[str], name: str) -> None:
        user = self._user(username)
        try:
            token, secret = create_token(user, name or f"token for {username}", scopes)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stderr.write(
            f"Token {token.pk} ({token.name}) for {username}, scopes: {', '.join(token.scopes)}.\n"
            "This is the only time the token is shown: keep it in a password manager."
        )
        self.stdout.write(secret)

    def _list(self, username: str | None) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("id")
        if username:
            tokens = tokens.filter(user=self._user(username))
        if not tokens:
            self.stdout.write("No API tokens yet. Make one with: solidarity apitoken create USER")
            return
        for token in tokens:
            state = f"revoked {token.revoked:%Y-%m-%d %H:%M}" if token.revoked else "active"
            used = f"{token.last_used:%Y-%m-%d %H:%M}" if token.last_used else "never"
            self.stdout.write(
                f"{token.pk}\t{token.prefix}…\t{token.user.get_username()}\t{token.name}\t"
                f"{','.join(token.scopes)}\tcreated {token.created:%Y-%m-%d}\t"
                f"last used {used}\t{state}"
            )

    def _token(self, which: str) -> ApiToken:
        if which.isdigit():
            token = ApiToken.objects.filter(pk=int(which)).first()
        else:
            matches = list(ApiToken.objects.filter(prefix=which[:PREFIX_LENGTH]))
            if len(matches) > 1:
                raise CommandError(f"More than one token starts with {which!r}: use its number.")
            token = matches[0] if matches else None
        if token is None:
            raise CommandError(f"No token {which!r}; 'solidarity apitoken list' shows them.")
        return token

    def _revoke(self, which: str) -> None:
        token = self._token(which)
        if revoke_token(token):
            self.stdout.write(f"Revoked token {token.pk} ({token.name}).")
        else:
            self.stdout.write(f"Token {token.pk} ({token.name}) was already revoked.")

    def _rotate(self, which: str) -> None:
        old = self._token(which)
        try:
            token, secret = rotate_token(old)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stderr.write(
            f"Token {token.pk} ({token.name}) for {token.user.get_username()}, scopes: "
            f"{', '.join(token.scopes)}, replaces token {old.pk}, which is revoked from now.\n"
            "Put the new token where the old one was used. This is the only time it is shown: "
            "keep it in a password manager."
        )
        self.stdout.write(secret)
