"""Second factors: an authenticator app (TOTP) and ten one-time backup codes, via django-otp.

No e-mail or SMS factor exists, on purpose: a mailbox or a phone number is exactly what a state
can obtain from a provider (docs/threat-model.md, D7).
"""

from __future__ import annotations

import secrets
from base64 import b32encode, urlsafe_b64encode

import qrcode
import qrcode.image.svg
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils.safestring import SafeString, mark_safe
from django_otp import devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from solidarity.accounts.models import AppDevice
from solidarity.safety.crypto import blind_index

APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10

# A backup code is 24 characters of Crockford's base32 alphabet, shown in groups of four
# ("7k2m-q9xa-..."): 32**24 = 2**120 possibilities. Threat addressed: whoever holds a copy of
# the database and the keyring (a server seized while running) can test guesses against a
# stored hash at GPU speed; 40-bit codes fell to that in minutes, 120 bits do not, so a keyed
# hash is enough and no slow password hash is needed (ASVS 6.5.2: 112 bits or more).
BACKUP_CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
BACKUP_CODE_LENGTH = 24
BACKUP_CODE_GROUP = 4
# The alphabet has no i, l, o or u: read back from paper, o is taken for 0, i and l for 1.
_LOOK_ALIKES = str.maketrans("oil", "011")
# The 16 hex characters stored for an earlier 8-character code (40 bits; still accepted until
# used or replaced), and the bytes of hash kept for a new one (16 characters of base64).
_LEGACY_DIGEST_LENGTH = 16
_DIGEST_BYTES = 12


def has_second_factor(user: AbstractBaseUser) -> bool:
    return bool(user_has_device(user, confirmed=True))


def pending_app_device(user: AbstractBaseUser, device_id: object) -> AppDevice:
    """The unconfirmed authenticator of this enrolment (`device_id`, kept in the session), or a
    new one.

    Reloading the page shows the same secret, so an app that scanned it keeps working. A new
    enrolment deletes any other unconfirmed device of the user: a secret shown to someone else
    who once had the password (and abandoned the enrolment) must not become the real one.
    """
    unconfirmed = AppDevice.objects.filter(user=user, confirmed=False)
    device: AppDevice | None = (
        unconfirmed.filter(pk=device_id).first() if isinstance(device_id, int) else None
    )
    if device is None:
        unconfirmed.delete()
        device = AppDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def qr_svg(device: AppDevice) -> SafeString:
    """The otpauth:// URL as an inline SVG drawn here: no image service sees the secret."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4
    )
    svg = image.to_string(encoding="unicode")
    # The markup comes from the qrcode library and holds only path data and numbers.
    return mark_safe(svg)  # noqa: S308


def base32_secret(device: AppDevice) -> str:
    """The secret in the form authenticator apps accept for manual entry, in groups of 4."""
    text = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def confirm_app_device(device: AppDevice, token: str) -> list[str] | None:
    """Confirm the authenticator with a code from it; then issue fresh backup codes.

    Returns the backup codes (to be shown once; only their hashes are stored) or None if the
    code was wrong.
    """
    with transaction.atomic():
        locked = AppDevice.objects.select_for_update().get(pk=device.pk)
        code = token.strip().replace(" ", "")
        if locked.confirmed or not code.isdigit() or not locked.verify_token(code):
            return None
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
        return new_backup_codes(locked.user)


def generate_backup_code() -> str:
    code = "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
    return "-".join(code[i : i + BACKUP_CODE_GROUP] for i in range(0, len(code), BACKUP_CODE_GROUP))


def _as_typed(code: str) -> str:
    """The code without spaces or dashes, in lower case: how it was shown does not matter."""
    return "".join(code.split()).replace("-", "").lower()


def _canonical(code: str) -> str:
    code = _as_typed(code)
    return code.translate(_LOOK_ALIKES) if len(code) == BACKUP_CODE_LENGTH else code


def backup_code_digest(device: StaticDevice, code: str) -> str:
    """What is stored of a backup code: a keyed hash, bound to its device.

    Threat addressed: django-otp keeps backup codes as they are, so a database dump or a seized
    disk would hand over a working second factor for every staff account. The hash is keyed with
    the keyring's server secret, which is not in the database. Bound to the device, a hash copied
    to another account's device matches nothing.

    django-otp's column holds 16 characters. A code of 24 characters is stored as 96 bits of its
    hash in base64: 16 hex characters, 64 bits, would let someone holding the keyring find
    another code that matches one of ten in about 2**61 hashes (within a state's reach), undoing
    the code's 120 bits; 96 bits put that at 2**93. An 8-character code of the earlier kind keeps
    the 16 hex characters it was stored with.
    """
    code = _canonical(code)
    index = blind_index(f"{device.pk}:{code}", "backup-code")
    if len(code) != BACKUP_CODE_LENGTH:
        return index[:_LEGACY_DIGEST_LENGTH]
    return urlsafe_b64encode(bytes.fromhex(index)[:_DIGEST_BYTES]).decode()


def new_backup_codes(user: AbstractBaseUser) -> list[str]:
    """Replace the user's backup codes with ten new ones; only their hashes are stored. The
    codes of the earlier, shorter kind go with the rest."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [generate_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=backup_code_digest(device, code)) for code in codes]
    )
    return codes


def verify_code(user: AbstractBaseUser, code: str, *, allow_app: bool = True) -> Device | None:
    """The confirmed device that accepts this code (authenticator or backup code), if any.

    A TOTP code is accepted once only (django-otp remembers the last time step), and a backup
    code is deleted when used. With `allow_app=False` (a user whose second factor is a security
    key) only backup codes are accepted: a relayed authenticator code must not log them in.
    """
    code = _as_typed(code)
    if not code:
        return None
    # A 6-digit code goes to the authenticator, anything else to the backup codes, so a typo
    # in one kind does not count against the other's back-off.
    wanted = AppDevice if code.isdigit() and len(code) == 6 else StaticDevice
    if wanted is AppDevice and not allow_app:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if not isinstance(device, wanted):
                continue
            given = backup_code_digest(device, code) if isinstance(device, StaticDevice) else code
            if device.verify_token(given):
                found: Device = device
                return found
    return None


def all_devices(user: AbstractBaseUser) -> list[Device]:
    return list(devices_for_user(user, confirmed=None))
