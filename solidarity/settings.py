"""Settings, read from the environment (healthchecks-style): one module, typed helpers, loud
failure on a bad value, SQLite by default and PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from solidarity.core.credentials import (
    DATABASE_URL_CREDENTIAL,
    EMAIL_PASSWORD_CREDENTIAL,
    SECRET_KEY_CREDENTIAL,
    credential,
    secret_setting,
)

BASE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    return [v.strip() for v in value.split(",") if v.strip()] if value else default


DATA_DIR = Path(os.environ.get("SOLIDARITY_DATA_DIR", Path.cwd() / "var")).resolve()
DEBUG = env_bool("SOLIDARITY_DEBUG", False)


def _secret_key_file() -> Path | None:
    """The file SECRET_KEY is read from: None for SOLIDARITY_SECRET_KEY, else the file its _FILE
    variant names, else the systemd credential `solidarity-secret-key` when the service was
    given one (core/credentials.py), else DATA_DIR/secret_key (generated at the first start)."""
    if os.environ.get("SOLIDARITY_SECRET_KEY"):
        return None
    if path := os.environ.get("SOLIDARITY_SECRET_KEY_FILE"):
        return Path(path)
    if (sealed := credential(SECRET_KEY_CREDENTIAL)) is not None:
        return sealed
    return DATA_DIR / "secret_key"


def _secret_key(key_file: Path | None) -> str:
    if key_file is None:
        return os.environ["SOLIDARITY_SECRET_KEY"]
    # A file named by the operator must exist; only the default one is made here.
    if not os.environ.get("SOLIDARITY_SECRET_KEY_FILE") and not key_file.exists():
        _generate_secret_key(key_file)
    return key_file.read_text().strip()


def _generate_secret_key(key_file: Path) -> None:
    key_file.parent.mkdir(parents=True, exist_ok=True)
    # Written 0600 to a temporary name, then linked into place: the key signs sessions and
    # another local user must not read it, and two processes starting together must agree
    # on one key (link fails if the other won; we then read theirs).
    tmp = key_file.with_name(f".secret_key.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
    try:
        os.link(tmp, key_file)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def _secret_key_fallbacks_file(key_file: Path | None) -> Path | None:
    """SOLIDARITY_SECRET_KEY_FALLBACKS_FILE, else `<key file>.fallbacks` beside the key file."""
    if path := os.environ.get("SOLIDARITY_SECRET_KEY_FALLBACKS_FILE"):
        return Path(path)
    return None if key_file is None else key_file.with_name(f"{key_file.name}.fallbacks")


def secret_key_fallbacks(path: Path | None, current: str) -> list[str]:
    """The old keys in `path`, one a line, newest first; none when the file does not exist
    (it is made by the first rotation)."""
    if path is None or not path.exists():
        return []
    keys = (line.strip() for line in path.read_text().splitlines())
    return [key for key in keys if key and key != current]


# `check --deploy` refuses a key file that is copied with the data (accounts/checks.py).
SOLIDARITY_SECRET_KEY_FILE = _secret_key_file()
SECRET_KEY = _secret_key(SOLIDARITY_SECRET_KEY_FILE)
# Rotation of SECRET_KEY (ASVS 11.1.1; `solidarity rotate_secret_key`, core/secret_key.py). A
# new key alone would log everyone out and kill every link already handed out: a new member's
# invitation, and the unsubscribe links in mails already sent, which must keep working (a
# supporter who cannot stop our mail reports it as spam, and the law gives them that right).
# So old keys stay here for a while: Django (sessions, `signing`, password-reset tokens)
# and our own HMACs (campaigns/services.py) verify under SECRET_KEY and then each of these,
# while everything new is made under SECRET_KEY alone. A key rotated because it leaked must not
# be kept here (`rotate_secret_key --compromised`): it would still let its holder forge links.
SOLIDARITY_SECRET_KEY_FALLBACKS_FILE = _secret_key_fallbacks_file(SOLIDARITY_SECRET_KEY_FILE)
SECRET_KEY_FALLBACKS = secret_key_fallbacks(SOLIDARITY_SECRET_KEY_FALLBACKS_FILE, SECRET_KEY)
# Cryptoperiods, in days (ASVS 11.1.1, docs/inventories.md §3): `check --deploy` warns about the
# secret key file, the keyring's current personal key and every active API token older than
# these (accounts/checks.py, W007-W009). A key in use for years has had years to be copied.
SOLIDARITY_SECRET_KEY_MAX_DAYS = int(os.environ.get("SOLIDARITY_SECRET_KEY_MAX_DAYS", "365"))
SOLIDARITY_KEYRING_KEY_MAX_DAYS = int(os.environ.get("SOLIDARITY_KEYRING_KEY_MAX_DAYS", "365"))
SOLIDARITY_API_TOKEN_MAX_DAYS = int(os.environ.get("SOLIDARITY_API_TOKEN_MAX_DAYS", "365"))
ALLOWED_HOSTS = env_list("SOLIDARITY_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
# Host names (each also in ALLOWED_HOSTS) on which alone the back office answers: /admin/,
# /accounts/, /api/; the public site then answers on the other hosts only (accounts/hosts.py).
# Empty, as in the demo: everything on every allowed host.
SOLIDARITY_BACKOFFICE_HOSTS = env_list("SOLIDARITY_BACKOFFICE_HOSTS", [])

INSTALLED_APPS = [
    # django.contrib.admin, with a default site that demands a second factor (accounts/sites.py).
    "solidarity.accounts.apps.SolidarityAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "solidarity.accounts",
    "solidarity.core",
    "solidarity.documentation",
    "solidarity.public",
    "django_tasks",
    "django_tasks_db",
    "solidarity.campaigns",
    "rest_framework",
    "drf_spectacular",
    "solidarity.api",
    "solidarity.publishing",
    "solidarity.audit",
    "solidarity.safety",
    "solidarity.search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The back office only on SOLIDARITY_BACKOFFICE_HOSTS, the public site only on the others
    # (ASVS 3.5.4, threat model D11); before anything that resolves a URL (LocaleMiddleware).
    "solidarity.accounts.hosts.BackOfficeHostsMiddleware",
    # Before WhiteNoise, so that static files and error pages get the headers too.
    "solidarity.accounts.middleware.SecurityHeadersMiddleware",
    # TRACE, CONNECT and unknown methods: 405 for every path, static files included (ASVS 13.4.4).
    "solidarity.accounts.middleware.AllowedMethodsMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Under SOLIDARITY_HTTPS, /api/ over plain HTTP: refused, its token revoked (ASVS 4.1.2).
    "solidarity.api.middleware.PlainHttpApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # The null Origin that no-referrer gives our own forms, vouched for by Sec-Fetch-Site.
    "solidarity.accounts.csrf.SameOriginNullOriginMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "solidarity.audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "solidarity.accounts.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Django's page, plus an audit entry (accounts/csrf.py).
CSRF_FAILURE_VIEW = "solidarity.accounts.csrf.csrf_failure"
ROOT_URLCONF = "solidarity.urls"
WSGI_APPLICATION = "solidarity.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project-wide overrides of other apps' templates (the admin's language switch).
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _databases() -> dict[str, Any]:
    # DATABASE_URL holds the PostgreSQL password: from the environment, DATABASE_URL_FILE or
    # the systemd credential `solidarity-database-url`, in that order (core/credentials.py).
    url = secret_setting("DATABASE_URL", DATABASE_URL_CREDENTIAL)
    url = url or f"sqlite:///{DATA_DIR / 'solidarity.sqlite3'}"
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        # Kept open by each server thread (pool threads live as long as the server). A
        # connection per request re-read the schema on its first query and, being the last to
        # close, checkpointed and deleted the WAL file, with its fsyncs, after every write:
        # that halved the signing rate (bench/README.md, "Public signing").
        config["CONN_MAX_AGE"] = 600
        config["OPTIONS"] = {
            # WAL lets readers work during a write; synchronous=FULL makes every commit reach
            # the disk before we answer, so an acknowledged write survives a power cut.
            # secure_delete overwrites what a delete or an update frees, so that an erased
            # supporter or a replaced ciphertext does not linger in free pages for whoever
            # images the disk later (threat model A1).
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                "PRAGMA secure_delete=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        config["TEST"] = {"NAME": os.environ.get("SOLIDARITY_TEST_SQLITE") or None}
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})
    else:
        raise ImproperlyConfigured(f"DATABASE_URL: unsupported database {config['ENGINE']}")
    return {"default": config}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _caches() -> dict[str, Any]:
    """The cache that counts each client's requests: the public-form, search and API limits,
    and the audit log's one entry a minute per refused client.

    SOLIDARITY_CACHE=local keeps it in the process's memory: exact for one `solidarity serve`
    (one process, many threads), the SQLite case. SOLIDARITY_CACHE=database puts it in the
    database, shared by every app server: with several behind a load balancer, a per-process
    count would give a flooder one allowance per server (threat model A6, M16). PostgreSQL is
    the way to several servers, so it gets the database cache unless told otherwise.

    At most MAX_ENTRIES rows (or entries in memory): past that, expired ones go first, then a
    third of the rest (CULL_FREQUENCY 3; 0 would empty the cache, forgetting every flooder's
    count at once). An entry is one client's counter for one limit and window, a few hundred
    bytes, kept for two windows (20 minutes for the forms). 50,000 is many times the clients of
    a busy campaign's peak in that time, keeps the COUNT(*) that the database cache runs per
    write at a few milliseconds, and a flooder must come from that many addresses before
    culling resets anyone's count (with that many, each address's own allowance is the flood).
    Two kinds of entry live longer: a used form stamp is marked for a day (one per stored
    submission, campaigns/human_timing.py) and a signature's mail interval for ten minutes. A
    campaign storing more than about 50,000 submissions a day should raise the bound
    (SOLIDARITY_CACHE_MAX_ENTRIES), or culling starts to forget marks and counts.
    """
    postgres = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    choice = os.environ.get("SOLIDARITY_CACHE") or ("database" if postgres else "local")
    max_entries = int(os.environ.get("SOLIDARITY_CACHE_MAX_ENTRIES", "50000"))
    options = {"MAX_ENTRIES": max_entries, "CULL_FREQUENCY": 3}
    if choice == "local":
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    elif choice == "database":
        # solidarity/core/cache.py: JSON values, hashed keys, an atomic incr; its table comes
        # from a migration (core 0003), so there is no `createcachetable` step.
        backend = {"BACKEND": "solidarity.core.cache.DatabaseCache", "LOCATION": "solidarity_cache"}
    else:
        raise ImproperlyConfigured(f"SOLIDARITY_CACHE must be local or database, not {choice!r}")
    return {"default": {**backend, "OPTIONS": options}}


CACHES = _caches()

# Argon2id first (memory-hard: costly to guess on a seized disk); the others stay so that older
# hashes still verify and are re-hashed with Argon2 at the user's next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# ASVS V6.2: length, Django's list of 20,000 common passwords, similarity to the user's own
# names, and our own rules (solidarity/accounts/password_validation.py: 16 characters for a
# password that protects a key for sealed data; no password made mostly of our names). No
# composition rule (6.2.5): NumericPasswordValidator would refuse an all-digit passphrase that
# the length and the common list already judge.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "solidarity.accounts.password_validation.SealedKeyLengthValidator"},
    {
        # The same minimum as MinimumLengthValidator's: what is left without our names.
        "NAME": "solidarity.accounts.password_validation.ContextWordsValidator",
        "OPTIONS": {"min_length": 12},
    },
]
# ASVS 6.2.12: Have I Been Pwned's Pwned Passwords (SHA-1, ordered by hash), downloaded
# elsewhere and read here only, never asked online (README.md; check --deploy warns without it:
# accounts.W006). Registered only when set, so that unset it adds no empty line to the forms'
# password rules.
SOLIDARITY_BREACHED_PASSWORDS = os.environ.get("SOLIDARITY_BREACHED_PASSWORDS") or None
if SOLIDARITY_BREACHED_PASSWORDS:
    AUTH_PASSWORD_VALIDATORS.append(
        {"NAME": "solidarity.accounts.password_validation.BreachedPasswordValidator"}
    )

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский"), ("kk", "Қазақша")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Django ships no number or date formats for Kazakh; ours are in solidarity/formats/kk.
FORMAT_MODULE_PATH = ["solidarity.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise serves from finders (no collectstatic step) but insists the directory exists.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Uploads (newspaper images). Never served from here: the public site serves an image only
# through the view of a published article (solidarity.publishing).
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"
# Largest file attached to a source, in bytes (solidarity.safety.sanitise); 25 MB by default.
SOLIDARITY_UPLOAD_MAX_BYTES = int(os.environ.get("SOLIDARITY_UPLOAD_MAX_BYTES", 25 * 1024 * 1024))
# Uploads up to that size stay in memory until metadata is stripped: Django would otherwise
# spool anything over 2.5 MB, GPS position and author included, to a file in the system's temp
# directory before our code sees it (threat model A1: a disk image keeps deleted temp files).
FILE_UPLOAD_MAX_MEMORY_SIZE = SOLIDARITY_UPLOAD_MAX_BYTES
# Largest newspaper image, in bytes (solidarity.safety.sanitise.max_image_bytes); 10 MB by
# default. Checked when the upload has been received, before the image is decoded.
SOLIDARITY_IMAGE_MAX_BYTES = int(os.environ.get("SOLIDARITY_IMAGE_MAX_BYTES", 10 * 1024 * 1024))

# Security headers that Django provides; the safety work adds CSP and 2FA on top.
SECURE_CONTENT_TYPE_NOSNIFF = True
# No Referer to anyone, our own site included: a reader's path through the site is nobody's
# business. Browsers then send `Origin: null` with our own form POSTs, which
# solidarity/accounts/csrf.py accepts only with `Sec-Fetch-Site: same-origin`.
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
HTTPS = env_bool("SOLIDARITY_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
# Every cookie we set is named `__Host-…` under HTTPS (ASVS 3.3.1, 3.3.3). A browser keeps
# such a cookie only if it is Secure, has Path=/ and no Domain, so neither a man-in-the-middle
# on some plain-http page (a state's network tap) nor a sibling subdomain can plant one of ours:
# no fixed session, no CSRF token of the attacker's choosing. Browsers refuse `__Host-` without
# Secure, so the demo on http://localhost keeps the plain names. Renaming the session cookie
# logs everyone out once, when a site is upgraded. Paths stay "/" and domains unset (defaults).
SESSION_COOKIE_NAME = "__Host-session" if HTTPS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "csrftoken"
LANGUAGE_COOKIE_NAME = "__Host-language" if HTTPS else "django_language"
# The unlock window of sealed data (solidarity/safety/keys.py, SameSite=Strict).
SOLIDARITY_UNLOCK_COOKIE_NAME = "__Host-unlock" if HTTPS else "solidarity_unlock"
# The two-recipient rule for sealed data (threat model D4, solidarity/safety/resilience.py): a
# value only one coordinator can open is lost with them. Below the minimum (or, if required,
# without the section's recovery key) a back-office save is warned about, or refused with
# ENFORCE; `check --deploy` lists the sections that fall short (accounts.W010). Not enforced by
# default, so that a section with a single coordinator, and the demo, can still write.
SOLIDARITY_SEALED_MIN_RECIPIENTS = int(os.environ.get("SOLIDARITY_SEALED_MIN_RECIPIENTS", "2"))
SOLIDARITY_SEALED_REQUIRE_RECOVERY = env_bool("SOLIDARITY_SEALED_REQUIRE_RECOVERY", False)
SOLIDARITY_SEALED_ENFORCE = env_bool("SOLIDARITY_SEALED_ENFORCE", False)
# The back office's one-off notices ("Sealed data is locked again."): a cookie first, the
# session when they do not fit (solidarity/core/message_storage.py); flags as the session's.
MESSAGE_STORAGE = "solidarity.core.message_storage.FallbackStorage"
SOLIDARITY_MESSAGES_COOKIE_NAME = "__Host-messages" if HTTPS else "messages"
# The language switch's choice: kept a year (Django's default forgets it with the browser),
# never readable by scripts, never sent over plain HTTP when the site is served over HTTPS.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
# Pages are redirected to HTTPS; the API is not (ASVS 4.1.2). An integration that sent its
# token over plain HTTP has already shown it to any network tap, and a redirect would hide
# that from it: the request is refused and the token revoked (solidarity/api/middleware.py).
SECURE_REDIRECT_EXEMPT = [r"^api/"]
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_PRELOAD = HTTPS
# How many reverse proxies append to X-Forwarded-For in front of the app: the login throttle
# needs the real client address (solidarity/accounts/throttle.py).
SOLIDARITY_TRUSTED_PROXIES = int(os.environ.get("SOLIDARITY_TRUSTED_PROXIES", "0"))

# Login and sessions (solidarity/accounts): two factors, 8 h absolute lifetime (the 15-minute
# idle limit is enforced by SessionTimeoutMiddleware), no e-mail factor.
LOGIN_URL = "accounts:login"
SESSION_COOKIE_AGE = 8 * 60 * 60
# Database sessions whose table holds only a hash of each key (threat model M9).
SESSION_ENGINE = "solidarity.accounts.session_store"
OTP_TOTP_ISSUER = "Solidarity"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Roles whose holders must log in with a security key (WebAuthn), which a phishing site cannot
# relay (docs/threat-model.md, D7): coordinators in production (SOLIDARITY_HTTPS), nobody in
# the demo and development, where the site is plain http and `make demo` logs in with TOTP.
# Comma-separated in the environment; "none" requires no role.
SOLIDARITY_WEBAUTHN_REQUIRED_ROLES = [
    role
    for role in env_list("SOLIDARITY_WEBAUTHN_REQUIRED_ROLES", ["coordinator"] if HTTPS else [])
    if role != "none"
]
# The WebAuthn relying party ID; empty means the request's host without the port. Set it when
# the site answers under several names, or to a parent domain shared with another site of yours.
SOLIDARITY_WEBAUTHN_RP_ID = os.environ.get("SOLIDARITY_WEBAUTHN_RP_ID", "")
# Hours for which a "choose your password" link made in the back office works (once) for a new
# member (solidarity/accounts/invitations.py): long enough to hand it over in person.
SOLIDARITY_INVITATION_HOURS = int(os.environ.get("SOLIDARITY_INVITATION_HOURS", "72"))
# Days for which a signature export stays listed on the back-office home page of everyone who
# may read signatures in its section (campaigns/services.py `visible_exports`, threat model
# M10): how a coordinator learns of an export they did not expect, from a phished or misused
# account. In the app, not by e-mail, which would put who took which list in third-party
# mailboxes, and which the phished account could delete. Two weeks reach someone who logs in
# once a week twice.
SOLIDARITY_EXPORT_NOTICE_DAYS = int(os.environ.get("SOLIDARITY_EXPORT_NOTICE_DAYS", "14"))
# How many backups `solidarity backup --into DIR` keeps in DIR (its --keep; at least 1): older
# ones of its series are deleted once a new one is complete, so an erasure is gone from the
# backups after this many more (audit/backup.py `backup_into`). Two weeks of nightly backups.
SOLIDARITY_BACKUP_KEEP = int(os.environ.get("SOLIDARITY_BACKUP_KEEP", "14"))

# Retention (solidarity/core/retention.py; `solidarity purge`, and a background task every
# SOLIDARITY_PURGE_INTERVAL): how long each kind of row is kept once it has served its purpose.
SOLIDARITY_RETENTION: dict[str, timedelta] = {
    # A signature whose e-mail link was not followed in time never counts; its link dies.
    "unconfirmed_signatures": timedelta(hours=48),
    # Contact details left with no signature, letter report or RSVP (e.g. after the above).
    "orphaned_supporters": timedelta(hours=48),
    # Past their expiry date (0 would be exactly clearsessions; a minute spares a clock skew).
    "expired_sessions": timedelta(minutes=1),
    # Login throttle counters; at least the throttle window (15 minutes).
    "login_failures": timedelta(minutes=15),
    # Rows of logged-in sessions; at least the 8-hour session limit, or sessions end early.
    "signed_in_sessions": timedelta(hours=9),
    # Finished background tasks: their arguments and tracebacks name rows.
    "task_results": timedelta(days=7),
    # Received signatures the worker failed to record intake.ATTEMPTS times, after the last
    # failure: a week for an operator to see the failure in the back office (which shows no
    # personal data) and "record again"; after that the encrypted address and name go.
    "failed_received_signatures": timedelta(days=7),
    # Mails written as files to EMAIL_FILE_PATH (the demo, without SOLIDARITY_EMAIL_HOST):
    # plaintext addresses, names and links. Two days: the confirmation link they carry dies
    # with its unconfirmed signature after 48 hours anyway.
    "mail_files": timedelta(days=2),
}
SOLIDARITY_PURGE_INTERVAL = timedelta(hours=1)
# Witnesses of the audit log (audit/tasks.py, threat model D9): comma-separated e-mail
# addresses of people off the server who are mailed the chain's head (seq and hash, nothing
# personal) every SOLIDARITY_AUDIT_WITNESS_INTERVAL by the background worker; a log rewritten
# or cut short below a mailed head fails `solidarity audit verify --head SEQ:HASH`. Empty: off.
SOLIDARITY_AUDIT_WITNESSES = env_list("SOLIDARITY_AUDIT_WITNESSES", [])
SOLIDARITY_AUDIT_WITNESS_INTERVAL = timedelta(hours=24)

# A strict policy with per-request nonces: no inline script or style without the nonce, nothing
# from another origin (no CDN learns who reads the site), no framing.
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Background work (e-mail) is queued in the database, in the same transaction as the change that
# causes it; `solidarity db_worker` runs it. The outgoing SMTP server is EMAIL_HOST/EMAIL_PORT.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
EMAIL_HOST = os.environ.get("SOLIDARITY_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("SOLIDARITY_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("SOLIDARITY_EMAIL_USER", "")
# From the environment, SOLIDARITY_EMAIL_PASSWORD_FILE or the systemd credential
# `solidarity-email-password`, in that order (core/credentials.py).
EMAIL_HOST_PASSWORD = secret_setting("SOLIDARITY_EMAIL_PASSWORD", EMAIL_PASSWORD_CREDENTIAL)
EMAIL_USE_TLS = env_bool("SOLIDARITY_EMAIL_TLS", False)
# Or TLS from the first byte (port 465). Off without either to a host other than this one is
# refused by `check --deploy` (accounts.E015).
EMAIL_USE_SSL = env_bool("SOLIDARITY_EMAIL_SSL", False)
DEFAULT_FROM_EMAIL = os.environ.get("SOLIDARITY_FROM_EMAIL", "Solidarity <noreply@localhost>")
# Without an SMTP server (SOLIDARITY_EMAIL_HOST unset), as in the demo, e-mail is written to
# files in DATA_DIR/mail/ so that whoever tries the demo can open the confirmation link. They
# hold addresses and links in plaintext: `check --deploy` refuses it (accounts.E020), and the
# retention purge deletes them after SOLIDARITY_RETENTION["mail_files"].
EMAIL_BACKEND = os.environ.get("SOLIDARITY_EMAIL_BACKEND") or (
    "solidarity.safety.mail.EmailBackend"
    if os.environ.get("SOLIDARITY_EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = DATA_DIR / "mail"
# Seconds the SMTP connection waits for the relay: without a limit a relay that accepts the
# connection and never answers would hold the one worker, and every task behind it, for good.
EMAIL_TIMEOUT = 30
# A relay that is down or answers 4xx: the mail task is queued again after 1, 2, 4 … minutes,
# at most an hour apart (a relay back after a short outage is used at once, a long outage
# costs a query an hour), and given up, with an error in the log, after the 54th attempt: about
# 48 hours, as long as an unconfirmed signature whose link the first mail carries is kept
# (SOLIDARITY_RETENTION). solidarity/core/delivery.py.
SOLIDARITY_MAIL_RETRY_DELAY = timedelta(minutes=1)
SOLIDARITY_MAIL_RETRY_MAX_DELAY = timedelta(hours=1)
SOLIDARITY_MAIL_ATTEMPTS = 54
# Public forms (signing, letter reports, RSVPs) accept this many submissions per client per window
# ("count/seconds"), counted in the cache. Behind a reverse proxy, name the request header
# (as in request.META, e.g. HTTP_X_REAL_IP) that carries the client's address.
SOLIDARITY_FORM_RATE = os.environ.get("SOLIDARITY_FORM_RATE", "30/600")
# ...and each must come back at least this many seconds after its page was served: a faster
# one is shown again, with what was typed, to be sent once more (campaigns/human_timing.py).
SOLIDARITY_FORM_MIN_SECONDS = os.environ.get("SOLIDARITY_FORM_MIN_SECONDS", "3")
# Seconds between two mails about one signature (signing again resends the link, at most this
# often: nobody's mailbox is flooded through our petitions; campaigns/services.py).
SOLIDARITY_SIGNATURE_MAIL_INTERVAL = int(
    os.environ.get("SOLIDARITY_SIGNATURE_MAIL_INTERVAL", "600")
)
# Public name searches per client: queries/seconds (solidarity/search/views.py).
SOLIDARITY_SEARCH_RATE = os.environ.get("SOLIDARITY_SEARCH_RATE", "30/60")
SOLIDARITY_CLIENT_IP_HEADER = os.environ.get("SOLIDARITY_CLIENT_IP_HEADER", "")


def _logging() -> dict[str, Any]:
    """The console log at WARNING, each record stamped in UTC with milliseconds (ASVS 16.2.2):
    plain text by default, one JSON object a line with SOLIDARITY_LOG_FORMAT=json for a log
    processor (16.2.4). Neither adds anything a record does not carry (M19,
    solidarity/core/logging.py)."""
    choice = os.environ.get("SOLIDARITY_LOG_FORMAT") or "text"
    if choice not in {"text", "json"}:
        raise ImproperlyConfigured(f"SOLIDARITY_LOG_FORMAT must be text or json, not {choice!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            # time level logger message (traceback): solidarity.core.logging.TEXT_FORMAT
            "text": {"class": "solidarity.core.logging.UtcFormatter"},
            "json": {"class": "solidarity.core.logging.JsonLinesFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": choice}},
        "root": {"handlers": ["console"], "level": "WARNING"},
        # Django's own records reach the console through the root's handler only: its default
        # handlers (an unformatted copy under DEBUG, e-mail to ADMINS) go. INFO, never DEBUG,
        # whose records hold template contexts and SQL parameters (M19).
        "loggers": {"django": {"handlers": [], "level": "INFO"}},
    }


LOGGING = _logging()

# The API (solidarity.api): token authentication only, never the session cookie, so that a
# signed-in browser cannot be made to call it from another site. Views set their own auth.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["solidarity.api.auth.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["solidarity.api.auth.HasScopes"],
    "UNAUTHENTICATED_USER": None,
    # Per token, and per client address without one (solidarity/api/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "solidarity.api.throttling.TokenRateThrottle",
        "solidarity.api.throttling.ClientRateThrottle",
    ],
}
# API rates, "count/period" (second, minute, hour, day). Action Network allows 4 requests a
# second per key; 120 a minute lets an integration page through thousands of records while
# capping what a leaked token pulls. The public exports rebuild the data set per request.
SOLIDARITY_API_TOKEN_RATE = os.environ.get("SOLIDARITY_API_TOKEN_RATE", "120/minute")
SOLIDARITY_API_CLIENT_RATE = os.environ.get("SOLIDARITY_API_CLIENT_RATE", "60/minute")
# ...and on top of that, downloads of the public Popolo and CSV exports (/api/popolo/,
# /api/export/) per client: downloads/seconds, as the form and search rates. Each rebuilds a
# whole collection; 20 in 10 minutes fetches every file twice over (solidarity/api/throttling.py).
SOLIDARITY_EXPORT_RATE = os.environ.get("SOLIDARITY_EXPORT_RATE", "20/600")
SPECTACULAR_SETTINGS = {
    "TITLE": "Solidarity API",
    "DESCRIPTION": (
        "OSDI as Action Network's API v2 implements it at /api/v2/ (HAL+JSON, token in the "
        "OSDI-API-Token header), and public documentation records as Popolo JSON and CSV. "
        "A site served over HTTPS answers the API over HTTPS only: a request over plain HTTP "
        "gets 403 with an `error`, is not redirected, and any token sent with it is revoked."
    ),
    "VERSION": "2",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}
    },
}
