"""Our own system checks, on top of Django's `check --deploy` (M18 in docs/threat-model.md).

Run with `solidarity check --deploy`. Those tagged "security" run on every `check` (and so at
every `runserver`/`migrate`); those registered with deploy=True run only with --deploy, since a
developer's laptop legitimately runs with DEBUG on. Add `--database default` to also read the
live durability settings from the database server.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.mail.backends import console, dummy, filebased, locmem, smtp
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError, connections
from django.utils import timezone
from django.utils.module_loading import import_string

from solidarity.campaigns.human_timing import minimum_seconds
from solidarity.core.credentials import (
    KNOWN_CREDENTIALS,
    credentials_directory,
    in_credentials_directory,
    readable_by_us_alone,
)

CSP_MIDDLEWARE = "csp.middleware.CSPMiddleware"
OTP_MIDDLEWARE = "django_otp.middleware.OTPMiddleware"
UNSAFE_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*")
REQUIRED_NONE = ("object-src", "base-uri", "frame-ancestors")


@register(Tags.security, deploy=True)
def check_allowed_hosts(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if "*" in settings.ALLOWED_HOSTS:
        return [
            Error(
                'ALLOWED_HOSTS contains "*": any Host header is accepted, so links in '
                "e-mails and redirects can be pointed at a look-alike domain.",
                hint="Set SOLIDARITY_ALLOWED_HOSTS to the site's own host names.",
                id="accounts.E001",
            )
        ]
    return []


@register(Tags.security)
def check_password_hasher(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    hashers: Sequence[str] = settings.PASSWORD_HASHERS
    first = import_string(hashers[0]) if hashers else None
    if first is None or not issubclass(first, Argon2PasswordHasher):
        return [
            Error(
                "The first entry of PASSWORD_HASHERS is not Argon2: new and upgraded password "
                "hashes would be cheaper to guess after a disk seizure.",
                hint="Put django.contrib.auth.hashers.Argon2PasswordHasher first and keep the "
                "others after it, so old hashes are upgraded at the next login.",
                id="accounts.E002",
            )
        ]
    return []


def _directives() -> dict[str, list[str]] | None:
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
    if not isinstance(policy, dict) or not isinstance(policy.get("DIRECTIVES"), dict):
        return None
    result: dict[str, list[str]] = {}
    for name, value in policy["DIRECTIVES"].items():
        if isinstance(value, str):
            result[name] = [value]
        elif isinstance(value, Iterable):
            result[name] = [str(v) for v in value]
        else:
            result[name] = [str(value)]
    return result


@register(Tags.security)
def check_csp(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    directives = _directives()
    if directives is None or CSP_MIDDLEWARE not in settings.MIDDLEWARE:
        return [
            Error(
                "No Content-Security-Policy is sent: an injected script would run unhindered.",
                hint=f"Add {CSP_MIDDLEWARE} to MIDDLEWARE and set CONTENT_SECURITY_POLICY "
                '= {"DIRECTIVES": {...}}.',
                id="accounts.E003",
            )
        ]
    errors: list[CheckMessage] = []
    for name, sources in directives.items():
        unsafe = [s for s in sources if s in UNSAFE_SOURCES]
        if unsafe:
            errors.append(
                Error(
                    f"Content-Security-Policy {name} allows {', '.join(unsafe)}: inline or "
                    "foreign script and style would defeat the policy.",
                    hint="Use a nonce ({% csp_nonce %} / request.csp_nonce) for the few inline "
                    "blocks, and static files for the rest.",
                    id="accounts.E004",
                )
            )
    if "default-src" not in directives:
        errors.append(
            Error(
                "Content-Security-Policy has no default-src: anything not named is allowed.",
                id="accounts.E005",
            )
        )
    for name in REQUIRED_NONE:
        if directives.get(name) != ["'none'"]:
            errors.append(
                Error(
                    f"Content-Security-Policy must set {name} to 'none'.",
                    id="accounts.E005",
                )
            )
    return errors


_WAL = re.compile(r"journal_mode\s*=\s*wal", re.IGNORECASE)
_FULL = re.compile(r"synchronous\s*=\s*(full|extra|2|3)\b", re.IGNORECASE)


def _durability_problem(alias: str, config: dict[str, Any], live: bool) -> str | None:
    engine = config.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3":
        init = str(config.get("OPTIONS", {}).get("init_command", ""))
        if not (_WAL.search(init) and _FULL.search(init)):
            return (
                f"Database {alias!r} is SQLite without journal_mode=WAL and synchronous=FULL "
                "in its init_command: an acknowledged write could be lost at a power cut."
            )
        if live:
            with connections[alias].cursor() as cursor:
                cursor.execute("PRAGMA journal_mode")
                journal = cursor.fetchone()[0]
                cursor.execute("PRAGMA synchronous")
                synchronous = cursor.fetchone()[0]
            if str(journal).lower() != "wal" or int(synchronous) < 2:
                return (
                    f"Database {alias!r} runs with journal_mode={journal}, "
                    f"synchronous={synchronous}; WAL and FULL (2) are required."
                )
        return None
    if engine == "django.db.backends.postgresql":
        if live:
            with connections[alias].cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                commit = cursor.fetchone()[0]
                cursor.execute("SHOW fsync")
                fsync = cursor.fetchone()[0]
            if commit == "off" or fsync != "on":
                return (
                    f"PostgreSQL database {alias!r} runs with synchronous_commit={commit}, "
                    f"fsync={fsync}: committed transactions could be lost in a crash."
                )
        return None
    return (
        f"Database {alias!r} uses {engine}; only SQLite (WAL, FULL) and PostgreSQL are supported."
    )


@register(Tags.database, deploy=True)
def check_durable_database(
    app_configs: Any = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    live = set(databases or ())
    errors: list[CheckMessage] = []
    for alias, config in settings.DATABASES.items():
        problem = _durability_problem(alias, config, alias in live)
        if problem:
            errors.append(
                Error(
                    problem,
                    hint="Use the settings' own SQLite options, or PostgreSQL with "
                    "synchronous_commit=on and fsync=on.",
                    id="accounts.E006",
                )
            )
    return errors


@register(Tags.security, deploy=True)
def check_debug(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG:
        return [
            Error(
                "DEBUG is on: error pages would show settings, SQL and local variables, "
                "including personal and sealed values, to anyone who triggers an error.",
                hint="Unset SOLIDARITY_DEBUG in production.",
                id="accounts.E007",
            )
        ]
    return []


@register(Tags.security)
def check_two_factor_admin(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from django.contrib import admin

    from solidarity.accounts.sites import SolidarityAdminSite

    if not isinstance(admin.site, SolidarityAdminSite) or OTP_MIDDLEWARE not in settings.MIDDLEWARE:
        return [
            Error(
                "The admin site does not require a second factor.",
                hint="Use solidarity.accounts.apps.SolidarityAdminConfig instead of "
                f"django.contrib.admin in INSTALLED_APPS, and add {OTP_MIDDLEWARE} after "
                "AuthenticationMiddleware.",
                id="accounts.E008",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_proxy_addresses(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    behind_proxy = settings.SECURE_PROXY_SSL_HEADER is not None
    proxies = int(getattr(settings, "SOLIDARITY_TRUSTED_PROXIES", 0))
    header = getattr(settings, "SOLIDARITY_CLIENT_IP_HEADER", "")
    if behind_proxy and proxies < 1 and not header:
        return [
            Warning(
                "A proxy terminates HTTPS (SECURE_PROXY_SSL_HEADER is set) but "
                "SOLIDARITY_TRUSTED_PROXIES is 0: every client would appear with the proxy's "
                "address, and the per-address login throttle would block them all together.",
                hint="Set SOLIDARITY_TRUSTED_PROXIES to the number of proxies that append to "
                "X-Forwarded-For in front of the application (usually 1), or "
                "SOLIDARITY_CLIENT_IP_HEADER to a header the proxy sets (e.g. HTTP_X_REAL_IP).",
                id="accounts.W001",
            )
        ]
    return []


# -- The keyring (threat model D3, M18) --------------------------------------------------------
#
# Threat addressed: a seized disk image or a copied backup that holds the keyring together with
# the database gives the adversary every personal value in plaintext and the server secret that
# stands between a wrapped private key and offline password guessing. The keyring must therefore
# live apart from everything that is copied with the data (tmpfs filled after boot, in
# production), be readable by the server's own user only, and be present whenever encrypted
# values exist, or the server would refuse to read them (or, outside production, invent a new
# keyring that cannot read them either).


def copied_with_the_data() -> list[tuple[str, Path]]:
    """Directories whose content a backup, a copy of the data directory or a disk image of
    the database volume takes along."""
    places = [
        ("the data directory (SOLIDARITY_DATA_DIR)", getattr(settings, "DATA_DIR", None)),
        ("MEDIA_ROOT", getattr(settings, "MEDIA_ROOT", None)),
        ("STATIC_ROOT", getattr(settings, "STATIC_ROOT", None)),
    ]
    for alias, config in settings.DATABASES.items():
        if config.get("ENGINE") == "django.db.backends.sqlite3" and config.get("NAME"):
            places.append((f"the directory of database {alias!r}", Path(config["NAME"]).parent))
    return [(name, Path(place).resolve()) for name, place in places if place]


def _encrypted_data_exists() -> bool:
    """Whether any value exists that needs the keyring: a personal ciphertext, or a user key
    (wrapped under the keyring's server secret; sealed values open only through one)."""
    from django.db.models.functions import Length

    from solidarity.safety.models import UserKey
    from solidarity.safety.rotation import encrypted_fields

    if UserKey.objects.exists():
        return True
    for model, fields in encrypted_fields():
        for field in fields:
            rows = model._base_manager.annotate(_stored_length=Length(field.attname))
            if rows.filter(_stored_length__gt=0).exists():
                return True
    return False


@register(Tags.security, deploy=True)
def check_keyring(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from solidarity.safety.crypto import keyring_path

    path = keyring_path().resolve()
    hint = (
        "Keep the keyring on a tmpfs filled after boot (e.g. /run/solidarity/keyring.json), "
        "owned by the server's user with mode 0600, and point SOLIDARITY_KEYRING_FILE at it, or "
        "seal it as the systemd credential solidarity-keyring (README); back it up "
        "separately, encrypted (docs/threat-model.md, D3)."
    )
    errors = _key_file_exposed(
        path,
        hint,
        what="The keyring {path} is",
        harm="would hold the keys beside the values they protect",
        readable="The keyring {path} has mode {mode}: other users of the host can read the "
        "keys to every personal value.",
        inside_id="accounts.E009",
        readable_id="accounts.E010",
    )
    if path.exists():
        return errors
    try:
        needed = _encrypted_data_exists()
    except DatabaseError:  # not migrated yet: nothing can be encrypted
        needed = False
    if needed:
        errors.append(
            Error(
                f"The keyring {path} does not exist, but the database holds encrypted values "
                "and keys: nothing of them could be read.",
                hint=hint
                + " Restore the keyring from its encrypted copy before starting (`solidarity "
                "keyring import --from FILE --key backup.key`).",
                id="accounts.E011",
            )
        )
    return errors


# -- The secret key (threat model D3, M18) ------------------------------------------------------
#
# Threat addressed: SECRET_KEY signs the links we hand out (a new member's link to choose a
# password, supporters' confirmation and unsubscribe links) and keys the hashes that stand in for
# addresses in throttles and caches. Copied with the data (the default: DATA_DIR/secret_key,
# beside the SQLite file), a backup or a seized disk lets the adversary forge an invitation for
# an account that has no password yet, and test guessed addresses against those hashes. The
# key belongs where the keyring does: apart from the data, readable by the server alone.


@register(Tags.security, deploy=True)
def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    key_file = getattr(settings, "SOLIDARITY_SECRET_KEY_FILE", None)
    hint = (
        "Put the key on a tmpfs filled after boot (e.g. /run/solidarity/secret_key), owned by "
        "the server's user with mode 0600, and point SOLIDARITY_SECRET_KEY_FILE at it, or pass "
        "it in SOLIDARITY_SECRET_KEY, or seal it as the systemd credential "
        "solidarity-secret-key (README). Move its .fallbacks file (the old keys) along with it: "
        "the key need not change, and a new one is made with `solidarity rotate_secret_key`."
    )
    errors: list[CheckMessage] = []
    if key_file is not None:  # else from SOLIDARITY_SECRET_KEY, the environment
        errors += _key_file_exposed(
            Path(key_file),
            hint,
            what="The secret key {path} is",
            harm="would let its holder forge signed links, such as a new member's invitation",
        )
    # The fallbacks file (settings.SECRET_KEY_FALLBACKS) under the same rules: an old key kept
    # there still verifies sessions and links, so it forges them as well as the key.
    fallbacks = getattr(settings, "SOLIDARITY_SECRET_KEY_FALLBACKS_FILE", None)
    if fallbacks is not None and Path(fallbacks).exists():
        errors += _key_file_exposed(
            Path(fallbacks),
            hint,
            what="The old secret keys {path} are",
            harm="would let its holder forge signed links as well as the current key",
        )
    return errors


def _key_file_exposed(
    key_file: Path,
    hint: str,
    *,
    what: str,
    harm: str,
    readable: str = "{subject} readable by other users of the host (mode {mode}): each of "
    "them {harm}.",
    inside_id: str = "accounts.E017",
    readable_id: str = "accounts.E017",
) -> list[CheckMessage]:
    """Errors for a key file (the secret key's, E017, or the keyring) kept where the data is
    copied (`inside_id`), or readable by other users of the host (`readable_id`).

    `what` ("The keyring {path} is") and `harm` ("would ...") make up the messages; `readable`
    is the second one's template, given {path}, {mode}, {subject} (`what`) and {harm}.
    """
    path = key_file.resolve()
    subject = what.format(path=path)
    errors: list[CheckMessage] = [
        Error(
            f"{subject} inside {name}: a copy of the data or a seized disk {harm}.",
            hint=hint,
            id=inside_id,
        )
        for name, directory in copied_with_the_data()
        if path.is_relative_to(directory)
    ]
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0
    if mode & 0o077 and not _systemd_credential_kept_private(path, mode):
        errors.append(
            Error(
                readable.format(path=path, mode=f"{mode:04o}", subject=subject, harm=harm),
                hint=f"chmod 600 {path}",
                id=readable_id,
            )
        )
    return errors


def _systemd_credential_kept_private(path: Path, mode: int) -> bool:
    """A systemd credential (core/credentials.py) is 0400 in a directory only the service can
    enter; where systemd runs as root and the service as another user, it grants that user read
    access by an ACL, and the mode then shows the ACL's mask (0440). Private all the same when
    the ACL lets no group and no other user read it."""
    return not mode & 0o037 and in_credentials_directory(path) and readable_by_us_alone(path)


# -- Cryptoperiods (ASVS 11.1.1, docs/inventories.md §3) ---------------------------------------
#
# Threat addressed: a key in use for years has had years to be copied along the way (an old
# backup, a departed administrator, an integration's retired server, a seized disk), and nothing
# ends what such a copy gives until the key changes. Each key has a period, a year by default,
# after which `check --deploy` says to rotate it. Nothing stops working by itself: a secret key
# or keyring key that expired unattended would lock out the people the site serves.


def _days_since(moment: datetime) -> int:
    return (timezone.now() - moment).days


def _written(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


@register(Tags.security, deploy=True)
def check_secret_key_age(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    key_file = getattr(settings, "SOLIDARITY_SECRET_KEY_FILE", None)
    # From the environment, its age is not known here. A systemd credential is written afresh
    # at each start of the service: its date is the start's, not the key's.
    if key_file is None or in_credentials_directory(Path(key_file)) or not Path(key_file).exists():
        return []
    limit = int(getattr(settings, "SOLIDARITY_SECRET_KEY_MAX_DAYS", 365))
    written = _written(Path(key_file))
    age = _days_since(written)
    if age <= limit:
        return []
    return [
        Warning(
            f"The secret key {key_file} was written {age} days ago ({written:%Y-%m-%d}), beyond "
            f"its cryptoperiod of {limit} days (SOLIDARITY_SECRET_KEY_MAX_DAYS): whoever copied "
            "it along the way can still forge signed links, such as a new member's invitation.",
            hint="Run `solidarity rotate_secret_key` (sessions and links already handed out "
            "keep working) and restart the servers and the worker.",
            id="accounts.W007",
        )
    ]


@register(Tags.security, deploy=True)
def check_keyring_key_age(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from django.core.exceptions import ImproperlyConfigured

    from solidarity.safety.crypto import keyring_path, parse_keyring

    # Read here, not with load_keyring, which makes a keyring where none is (outside production).
    path = keyring_path()
    try:
        keyring = parse_keyring(path, path.read_text(encoding="utf-8"))
    except (OSError, ImproperlyConfigured):  # missing or unreadable: E011 and the server say so
        return []
    limit = int(getattr(settings, "SOLIDARITY_KEYRING_KEY_MAX_DAYS", 365))
    made = keyring.created.get(keyring.current)
    if made is not None:
        age = _days_since(made)
        when = f"was made {age} days ago ({made:%Y-%m-%d})"
    elif in_credentials_directory(path):
        return []  # written by systemd at the start: no bound on the key's age
    else:
        # A keyring from before the dates were recorded: the key is no younger than the file.
        written = _written(path)
        age = _days_since(written)
        when = (
            f"is at least {age} days old (the keyring does not record when it was made, so "
            f"this counts from the file's last write, {written:%Y-%m-%d})"
        )
    if age <= limit:
        return []
    return [
        Warning(
            f"The keyring's current personal key {keyring.current} {when}, beyond its "
            f"cryptoperiod of {limit} days (SOLIDARITY_KEYRING_KEY_MAX_DAYS): whoever copied it "
            "along the way reads every personal value written since.",
            hint="Run `solidarity rotate-keys` (every value re-encrypted under a new key; safe to "
            "interrupt and --resume), then `solidarity keyring export` a new copy.",
            id="accounts.W008",
        )
    ]


@register(Tags.security, deploy=True)
def check_api_token_age(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from solidarity.api.models import ApiToken

    limit = int(getattr(settings, "SOLIDARITY_API_TOKEN_MAX_DAYS", 365))
    cutoff = timezone.now() - timedelta(days=limit)
    try:
        old = list(
            ApiToken.objects.filter(revoked__isnull=True, created__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    except DatabaseError:  # not migrated yet: no token exists
        return []
    if not old:
        return []
    return [
        Warning(
            f"{len(old)} active API token(s) made more than {limit} days ago, beyond their "
            f"cryptoperiod (SOLIDARITY_API_TOKEN_MAX_DAYS): {', '.join(map(str, old))}. A "
            "token copied along the way (a leaked configuration, an integration's old server) "
            "still works.",
            hint="Replace each with `solidarity apitoken rotate ID` (same user and scopes, the "
            "new secret shown once), or `solidarity apitoken revoke ID` one no longer used.",
            id="accounts.W009",
        )
    ]


@register(Tags.security, deploy=True)
def check_sealed_resilience(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Threat model D4: sealed values that one arrest or one forgotten password would lose.

    Counted value by value from their wrapped keys, not from the coordinators holding a key: a
    coordinator who set up a key after a value was stored cannot open it until granted."""
    from solidarity.safety.resilience import (
        StoredShortfall,
        minimum_recipients,
        recovery_required,
        stored_shortfalls,
    )

    try:
        short = stored_shortfalls()
    except DatabaseError:  # not migrated yet: nothing is sealed
        return []
    if not short:
        return []
    minimum = minimum_recipients()
    required = recovery_required()

    def described(found: StoredShortfall) -> str:
        parts = []
        if found.below_minimum:
            parts.append(f"{found.below_minimum} open to fewer than {minimum} coordinators")
        if required and found.without_recovery:
            parts.append(f"{found.without_recovery} without a recovery copy")
        return f"{', '.join(parts)} (of {found.values} sealed value(s))"

    listed = "; ".join(f"{section.slug}: {described(found)}" for section, found in short)
    recovery = (
        ", or have no copy for the section's recovery key (SOLIDARITY_SEALED_REQUIRE_RECOVERY)"
        if required
        else ""
    )
    return [
        Warning(
            f"{len(short)} section(s) hold sealed values that fewer than {minimum} of the "
            "section's current coordinators can open, counted value by value from the keys "
            f"each is wrapped to (SOLIDARITY_SEALED_MIN_RECIPIENTS){recovery}: {listed}. If "
            "those coordinators are arrested or forget their passwords, the values are lost "
            "for ever.",
            hint="A coordinator who can open the values grants them to the others (`solidarity "
            "keys grant --by A --to B --section S`): a coordinator who set up a key after a "
            "value was stored cannot open it until then. Where there is no second coordinator, "
            "give another person the role and have them set up their key (`solidarity keys "
            "setup USER`) first. For values without a recovery copy, run `solidarity keys "
            "recovery-set` (again, with the same key) with the password of a coordinator who "
            "can open them. SOLIDARITY_SEALED_ENFORCE=true refuses new values that fall short.",
            id="accounts.W010",
        )
    ]


@register(Tags.security)
def check_webauthn_roles(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from solidarity.safety.policy import RoleName

    roles: list[str] = list(getattr(settings, "SOLIDARITY_WEBAUTHN_REQUIRED_ROLES", []))
    unknown = sorted(set(roles) - set(RoleName.values))
    if unknown:
        return [
            Error(
                f"SOLIDARITY_WEBAUTHN_REQUIRED_ROLES names no such role: {', '.join(unknown)}. "
                "A misspelt role would silently let its holders log in without a security key.",
                hint=f"Use role names from: {', '.join(RoleName.values)} (or 'none').",
                id="accounts.E012",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_webauthn_required(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    # Only a site served over HTTPS is production; the demo runs on plain http with TOTP.
    if not getattr(settings, "HTTPS", False) or settings.SOLIDARITY_WEBAUTHN_REQUIRED_ROLES:
        return []
    return [
        Warning(
            "No role must log in with a security key: a phishing site can relay a "
            "coordinator's password and authenticator code in real time (threat model, A3).",
            hint="Leave SOLIDARITY_WEBAUTHN_REQUIRED_ROLES unset in production (coordinators) "
            "or name the roles.",
            id="accounts.W002",
        )
    ]


@register(Tags.security, deploy=True)
def check_form_timing(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    # 0 is for test suites and load benches: a form posted without its served-at stamp passes.
    if minimum_seconds() > 0:
        return []
    return [
        Warning(
            "Public forms accept a submission the moment they are served, even without the "
            "page's stamp: a script can sign petitions in bulk (ASVS 2.4.2).",
            hint="Leave SOLIDARITY_FORM_MIN_SECONDS unset in production (3 seconds).",
            id="accounts.W003",
        )
    ]


# -- The demo's account (ASVS 6.3.2, 15.2.3) ---------------------------------------------------
#
# Threat addressed: `solidarity demo` makes a superuser under the best-known name there is and
# writes its password into the data directory, so every backup, copied data directory and seized
# disk carries a superuser's password in clear (D3), and the name is the first any password
# guesser tries (A3). Harmless on a laptop; a production site must have neither.


def _demo_admin_with_password() -> bool:
    from django.contrib.auth import get_user_model

    from solidarity.core.management.commands.demo import ADMIN_USERNAME

    model = get_user_model()
    try:
        accounts = model._default_manager.filter(
            **{f"{model.USERNAME_FIELD}__iexact": ADMIN_USERNAME}
        )
        return any(user.has_usable_password() for user in accounts)
    except DatabaseError:  # not migrated yet: no account exists
        return False


@register(Tags.security, deploy=True)
def check_demo_admin(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from solidarity.core.management.commands.demo import ADMIN_USERNAME, LOGIN_FILENAME

    errors: list[CheckMessage] = []
    if _demo_admin_with_password():
        errors.append(
            Error(
                f"An account named {ADMIN_USERNAME!r} can log in with a password: the demo's "
                "superuser, or one under the first name a password guesser tries.",
                hint=f"Give each administrator an account of their own, then delete "
                f"{ADMIN_USERNAME!r} in the back office (Users) or rename it.",
                id="accounts.E013",
            )
        )
    data_dir = Path(settings.DATA_DIR)
    for path in (data_dir / LOGIN_FILENAME, data_dir / f".{LOGIN_FILENAME}.partial"):
        if path.exists():
            errors.append(
                Error(
                    f"{path} holds the demo superuser's password in clear: it travels with "
                    "every backup and copy of the data directory.",
                    hint=f"Delete it (rm {path}) and the demo's {ADMIN_USERNAME!r} account.",
                    id="accounts.E013",
                )
            )
    return errors


# -- Backend transport (ASVS 12.3.1) ------------------------------------------------------------
#
# Threat addressed: the network between the application and its mail or database server is not
# ours. A hosting provider, a carrier on the route or whoever can order either of them (a state
# can) copies or alters what crosses it: in clear, every confirmation e-mail with a supporter's
# address and link, and every row of the database with its password hashes, sealed values and
# the audit chain. TLS must be on, and must check the server's name: a certificate that is only
# signed by some trusted authority (PostgreSQL's verify-ca) is one a state can obtain or issue,
# so an interceptor could answer in the server's place. A server on this host (loopback, or a
# Unix socket) is never on the network, and needs neither.


def _is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@register(Tags.security, deploy=True)
def check_smtp_tls(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    backend = import_string(settings.EMAIL_BACKEND)
    uses_smtp = isinstance(backend, type) and issubclass(backend, smtp.EmailBackend)
    encrypted = settings.EMAIL_USE_TLS or settings.EMAIL_USE_SSL
    if not uses_smtp or encrypted or _is_loopback(settings.EMAIL_HOST):
        return []
    # With TLS on, Django's backend verifies the certificate and the host name
    # (ssl.create_default_context), and smtplib fails rather than continue in clear when the
    # server offers no STARTTLS: nothing silently falls back.
    return [
        Error(
            f"E-mail goes by SMTP to {settings.EMAIL_HOST} without TLS: supporters' addresses "
            "and confirmation links would cross the network in clear.",
            hint="Set SOLIDARITY_EMAIL_TLS=true (STARTTLS, usually port 587) or "
            "SOLIDARITY_EMAIL_SSL=true (TLS from the first byte, port 465), or relay through "
            "an SMTP server on this host (SOLIDARITY_EMAIL_HOST=localhost) that uses TLS itself.",
            id="accounts.E015",
        )
    ]


# Threat addressed: without SOLIDARITY_EMAIL_HOST the demo writes each mail as a plaintext file
# in DATA_DIR/mail/ (settings.EMAIL_BACKEND): supporters' addresses, names, confirmation and
# unsubscribe links, on the server's disk and in every copy of the data directory, where a
# seized disk or a backup gives them up (A1) although the database holds them encrypted. The
# console backend puts the same into the logs, and the memory one sends nothing at all.
_MAIL_KEPT: dict[type[BaseEmailBackend], str] = {
    filebased.EmailBackend: "written as plaintext files to {path}",
    console.EmailBackend: "written in plaintext to the server's output and so its logs",
    locmem.EmailBackend: "kept in the server's memory and never sent",
}

# The dummy backend keeps nothing but sends nothing either, and reports every mail as sent:
# supporters never get their confirmation links and urgent-action updates, while the tasks
# that mail them record success, so nobody notices the campaign has gone silent.
_MAIL_DROPPED = (dummy.EmailBackend,)


@register(Tags.security, deploy=True)
def check_mail_delivered(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    backend = import_string(settings.EMAIL_BACKEND)
    if not isinstance(backend, type):
        return []
    if issubclass(backend, _MAIL_DROPPED):
        return [
            Error(
                "E-mail is not sent but silently dropped, while every mail is reported as "
                "sent: supporters' confirmation links and urgent-action updates would never "
                "arrive.",
                hint="Set SOLIDARITY_EMAIL_HOST to the SMTP server that sends the site's mail "
                "(with SOLIDARITY_EMAIL_TLS or SOLIDARITY_EMAIL_SSL unless it is on this host).",
                id="accounts.E020",
            )
        ]
    # The file backend is a console backend writing to a file: the most specific first.
    kept = next((what for cls, what in _MAIL_KEPT.items() if issubclass(backend, cls)), None)
    if kept is None:
        return []
    where = kept.format(path=getattr(settings, "EMAIL_FILE_PATH", ""))
    return [
        Error(
            f"E-mail is not sent but {where}: supporters' addresses, names and confirmation "
            "and unsubscribe links in clear, outside the encrypted database.",
            hint="Set SOLIDARITY_EMAIL_HOST to the SMTP server that sends the site's mail "
            "(with SOLIDARITY_EMAIL_TLS or SOLIDARITY_EMAIL_SSL unless it is on this host), "
            "and delete what is left in the mail directory.",
            id="accounts.E020",
        )
    ]


def _database_hosts(config: dict[str, Any]) -> list[str]:
    """Where libpq would connect: HOST (or PGHOST when it is empty), which may list several;
    a `hostaddr` option, when given, is where it really connects (the names then only serve
    to verify the certificate, e.g. through a tunnel on this host)."""
    options = config.get("OPTIONS") or {}
    hosts = str(config.get("HOST") or os.environ.get("PGHOST", ""))
    addresses = str(options.get("hostaddr") or os.environ.get("PGHOSTADDR", ""))
    return [h.strip() for h in (addresses or hosts).split(",") if h.strip()]


def _on_this_host(host: str) -> bool:
    # A path (or an abstract socket name, "@...") is a Unix-domain socket; no host at all is
    # libpq's default socket.
    return host.startswith(("/", "@")) or _is_loopback(host)


@register(Tags.security, deploy=True)
def check_database_tls(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for alias, config in settings.DATABASES.items():
        if config.get("ENGINE") != "django.db.backends.postgresql":
            continue
        remote = [h for h in _database_hosts(config) if not _on_this_host(h)]
        # libpq reads PGSSLMODE when the connection names no sslmode; its default, "prefer",
        # falls back to clear text and checks no certificate.
        mode = (config.get("OPTIONS") or {}).get("sslmode") or os.environ.get("PGSSLMODE", "")
        if remote and mode != "verify-full":
            errors.append(
                Error(
                    f"Database {alias!r} is reached over the network ({', '.join(remote)}) with "
                    f"sslmode={mode or 'prefer (the default)'}: its rows could be read or "
                    "altered on the way, or the server impersonated.",
                    hint="Add ?sslmode=verify-full&sslrootcert=/path/to/the-server-ca.pem to "
                    "DATABASE_URL (sslrootcert=system with libpq 16 or later, for a server "
                    "certificate from a public authority), or connect through a Unix socket.",
                    id="accounts.E016",
                )
            )
    return errors


@register(Tags.security, deploy=True)
def check_credential_names(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A credential whose name we do not read is most likely a name mistyped in the unit: the
    secret it holds is then missing, and the server runs on a default instead (an empty SQLite
    database in the data directory for `solidarity-database-url`), without saying so."""
    directory = credentials_directory()
    if directory is None:
        return []
    try:
        names = sorted(p.name for p in directory.iterdir() if p.name.startswith("solidarity"))
    except OSError:
        return []
    unknown = [name for name in names if name not in KNOWN_CREDENTIALS]
    if not unknown:
        return []
    return [
        Warning(
            f"The systemd credentials {', '.join(unknown)} ({directory}) are read by nothing: "
            "the secret meant for the server is missing and a default is used in its place.",
            hint="Name each credential exactly: " + ", ".join(sorted(KNOWN_CREDENTIALS)) + ".",
            id="accounts.W011",
        )
    ]


# -- The back office's own host names (ASVS 3.5.4, threat model D11) ----------------------------
#
# Threat addressed: a back office that answers on the public host is found, blocked or seized
# with it, and its login page is there for anyone to phish or guess against; SOLIDARITY_
# BACKOFFICE_HOSTS restricts it to hosts of its own (solidarity/accounts/hosts.py). A name
# listed there but not in ALLOWED_HOSTS is refused by Django (400) before it is served: the back
# office would answer nowhere.


@register(Tags.security, deploy=True)
def check_backoffice_hosts(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from django.http.request import validate_host

    from solidarity.accounts.hosts import backoffice_hosts, normalise, public_host

    hosts = sorted(backoffice_hosts())
    if not hosts:
        if not getattr(settings, "HTTPS", False):  # the demo: everything on one host
            return []
        return [
            Warning(
                "The back office (/admin/, /accounts/, /api/) answers on every allowed host, "
                "the public one included: blocking or seizing the public host takes it along, "
                "and its login page is open to every visitor (threat model, D11).",
                hint="Set SOLIDARITY_BACKOFFICE_HOSTS to host names of its own (an .onion name, "
                "a name no public page links to) and add them to SOLIDARITY_ALLOWED_HOSTS.",
                id="accounts.W004",
            )
        ]
    messages: list[CheckMessage] = []
    missing = [h for h in hosts if not validate_host(h, settings.ALLOWED_HOSTS)]
    if missing:
        messages.append(
            Error(
                f"SOLIDARITY_BACKOFFICE_HOSTS names {', '.join(missing)}, not in ALLOWED_HOSTS: "
                "requests for it are refused before they are served, so the back office would "
                "answer nowhere.",
                hint="Add the back-office host names to SOLIDARITY_ALLOWED_HOSTS as well.",
                id="accounts.E018",
            )
        )
    if public_host() is None:
        messages.append(
            Error(
                "Every allowed host is a back-office host: the public site, and the "
                "confirmation and unsubscribe links mailed to supporters, answer nowhere.",
                hint="Add the public site's host name to SOLIDARITY_ALLOWED_HOSTS, first.",
                id="accounts.E019",
            )
        )
    elif normalise(settings.ALLOWED_HOSTS[0].lstrip(".")) in hosts:
        messages.append(
            Warning(
                "The first of ALLOWED_HOSTS is a back-office host: the static mirror is built "
                "for the first allowed host (publishing/mirror.py), where the public site does "
                "not answer.",
                hint="List the public site's host name first in SOLIDARITY_ALLOWED_HOSTS.",
                id="accounts.W005",
            )
        )
    return messages


# -- Passwords known from data breaches (ASVS 6.2.12) ------------------------------------------
#
# Threat addressed: passwords from earlier breaches are what attackers guess first, online and
# against a seized database. The list is a file on this host (accounts/password_validation.py
# `BreachedPasswordValidator`), never an online service, which would learn about our users'
# passwords. A file that is set but unusable makes every password change fail (fail closed),
# and one in the wrong order would let every breached password through: both are errors.


@register(Tags.security, deploy=True)
def check_breached_passwords(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from solidarity.accounts.password_validation import breached_list_problem

    path = getattr(settings, "SOLIDARITY_BREACHED_PASSWORDS", None)
    if not path:
        return [
            Warning(
                "New passwords are not checked against the passwords known from data breaches "
                "(ASVS 6.2.12): only Django's 20,000 most common ones are refused.",
                hint="On another machine, download Have I Been Pwned's Pwned Passwords as one "
                "SHA-1 file ordered by hash (the PwnedPasswordsDownloader tool: "
                "`haveibeenpwned-downloader pwnedpasswords`, about 40 GB), copy it here and set "
                "SOLIDARITY_BREACHED_PASSWORDS to its path. Nothing is ever asked online.",
                id="accounts.W006",
            )
        ]
    problem = breached_list_problem(str(path))
    if problem is None:
        return []
    return [
        Error(
            f"SOLIDARITY_BREACHED_PASSWORDS names {path}, which cannot serve as the list of "
            f"breached passwords: {problem}. Every new password is refused until it is fixed.",
            hint="Point it at Have I Been Pwned's Pwned Passwords file, SHA-1 ordered by hash, "
            "one HASH:COUNT a line (a subset sorted by hash again works too), readable by the "
            "server's user.",
            id="accounts.E021",
        )
    ]
