"""systemd credentials as the store of the secret key, the keyring, DATABASE_URL and the SMTP
password (ASVS 13.3.1).

A service whose unit says `LoadCredentialEncrypted=solidarity-keyring:/etc/credstore.encrypted/
solidarity-keyring` gets that file decrypted, at each start, into a directory of its own that
systemd mounts (a ramfs: never written to a disk, never swapped), readable by the service's user
alone and read-only, named by $CREDENTIALS_DIRECTORY, and removed when the service stops. On the
disk there is only the encrypted file, sealed with `systemd-creds encrypt` under the machine's
TPM and/or the host key (/var/lib/systemd/credential.secret): see systemd.exec(5) and
systemd-creds(1).

Threat addressed: the keyring and the secret key must be kept off the data's disks (threat
model D3), yet something has to fill the tmpfs they live on at every boot, and that something
is usually a plaintext file on another disk of the same host, or a person typing. A sealed
credential is that something encrypted to this machine: a copied disk or backup of
/etc/credstore.encrypted gives the adversary nothing without the host key (and, with the TPM,
without this very chip).

Imported by the settings: nothing here may import Django.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

SECRET_KEY_CREDENTIAL = "solidarity-secret-key"  # noqa: S105 (a file name, not a key)
KEYRING_CREDENTIAL = "solidarity-keyring"
# DATABASE_URL carries the PostgreSQL password; the SMTP relay's password is a secret alone.
DATABASE_URL_CREDENTIAL = "solidarity-database-url"
EMAIL_PASSWORD_CREDENTIAL = "solidarity-email-password"  # noqa: S105 (a file name)
# Every name the server reads (the fallbacks of a rotated secret key: see SECRET_KEY_BY_HAND).
KNOWN_CREDENTIALS = frozenset(
    {
        SECRET_KEY_CREDENTIAL,
        f"{SECRET_KEY_CREDENTIAL}.fallbacks",
        KEYRING_CREDENTIAL,
        DATABASE_URL_CREDENTIAL,
        EMAIL_PASSWORD_CREDENTIAL,
    }
)
STORE = Path("/etc/credstore.encrypted")


class ReadOnlyCredential(Exception):
    """A command was asked to write a file that systemd provides read-only."""


def credentials_directory() -> Path | None:
    """$CREDENTIALS_DIRECTORY, set by systemd for a service that loads credentials."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    return Path(directory) if directory else None


def credential(name: str) -> Path | None:
    """The credential file `name`, if the service was given one."""
    directory = credentials_directory()
    if directory is None:
        return None
    path = directory / name
    return path if path.is_file() else None


def secret_setting(variable: str, credential_name: str) -> str:
    """A secret the settings need in their own text (DATABASE_URL, the SMTP password).

    In order: the environment variable `variable` (it wins, as before: nothing set today
    changes meaning), else the file that `<variable>_FILE` names (the containers' convention:
    a Docker or Kubernetes secret mounted as a file), else the systemd credential
    `credential_name`, else "". Threat: a value in the environment is readable by anyone who
    can read /proc/PID/environ of the process (root, the same user, a core dump) and is
    inherited by every child process; a credential is a file in the service's private ramfs
    only, sealed on the disk (see above).
    """
    if value := os.environ.get(variable):
        return value
    if named := os.environ.get(f"{variable}_FILE"):
        return _read_secret(Path(named), f"{variable}_FILE")
    if (sealed := credential(credential_name)) is not None:
        return _read_secret(sealed, f"the systemd credential {credential_name}")
    return ""


def _read_secret(path: Path, source: str) -> str:
    try:
        text = path.read_text()
    except OSError as error:
        # Loud at start, naming the file but never a value.
        raise RuntimeError(f"{source}: cannot read {path}: {error.strerror}") from None
    # One trailing newline, as `echo … | systemd-creds encrypt` and editors leave: a password
    # may itself end in other white space, so nothing more is stripped.
    return text.removesuffix("\n").removesuffix("\r")


def in_credentials_directory(path: Path) -> bool:
    directory = credentials_directory()
    return directory is not None and path.resolve().is_relative_to(directory.resolve())


# POSIX ACL entries (linux/posix_acl_xattr.h): where systemd runs as root and the service as
# another user, it grants that user read access by an ACL, and the mode then shows the ACL's
# mask in the group bits (0440) although no group can read the file.
_ACL_XATTR = "system.posix_acl_access"
_ACL_HEADER, _ACL_ENTRY = struct.Struct("<I"), struct.Struct("<HHI")
_ACL_USER, _ACL_GROUP_OBJ, _ACL_GROUP, _ACL_OTHER = 0x02, 0x04, 0x08, 0x20
_READ = 0x04


def readable_by_us_alone(path: Path) -> bool:
    """Whether the ACL of `path` lets no one read it but its owner and the user we run as.

    False without an ACL (the mode's bits then mean what they say) or with one we cannot read.
    """
    try:
        acl = os.getxattr(path, _ACL_XATTR)
    except OSError:
        return False
    if len(acl) < _ACL_HEADER.size or (len(acl) - _ACL_HEADER.size) % _ACL_ENTRY.size:
        return False
    for tag, permissions, qualifier in _ACL_ENTRY.iter_unpack(acl[_ACL_HEADER.size :]):
        if not permissions & _READ:
            continue
        if tag in (_ACL_GROUP_OBJ, _ACL_GROUP, _ACL_OTHER):
            return False
        if tag == _ACL_USER and qualifier != os.geteuid():
            return False
    return True


def refuse_credential(path: Path, what: str, by_hand: str) -> None:
    """Raise ReadOnlyCredential, naming the way by hand, if `path` is a systemd credential."""
    if in_credentials_directory(path):
        raise ReadOnlyCredential(
            f"{what} is the systemd credential {path}, which systemd writes read-only at each "
            f"start of the service (LoadCredentialEncrypted=): this command cannot change it. "
            f"{by_hand}"
        )


SECRET_KEY_BY_HAND = (
    "Rotate it by hand, as root: keep the old key as the first fallback (skip this if it may "
    "have leaked)\n"
    f"  systemd-creds decrypt {STORE}/{SECRET_KEY_CREDENTIAL} - | systemd-creds encrypt "
    f"--name={SECRET_KEY_CREDENTIAL}.fallbacks - {STORE}/{SECRET_KEY_CREDENTIAL}.fallbacks\n"
    "then seal a new key in place of the old one\n"
    "  python3 -c 'import secrets; print(secrets.token_urlsafe(50))' | systemd-creds encrypt "
    f"--name={SECRET_KEY_CREDENTIAL} - {STORE}/{SECRET_KEY_CREDENTIAL}\n"
    f"load the fallbacks too (LoadCredentialEncrypted={SECRET_KEY_CREDENTIAL}.fallbacks:"
    f"{STORE}/{SECRET_KEY_CREDENTIAL}.fallbacks in the unit, then systemctl daemon-reload), "
    "restart the service and the worker, and run `solidarity rerender_articles`. After 90 "
    "days remove the fallbacks credential and restart."
)

KEYRING_BY_HAND = (
    "Do it by hand, as root, with the service stopped (it would not know a new key before its "
    "restart): decrypt the keyring to a tmpfs, run the command there as the service's user, "
    "and seal the result in place of the credential\n"
    "  install -d -m 0700 -o SERVICE_USER /run/solidarity-keyring\n"
    f"  systemd-creds decrypt {STORE}/{KEYRING_CREDENTIAL} /run/solidarity-keyring/keyring.json\n"
    "  chown SERVICE_USER /run/solidarity-keyring/keyring.json\n"
    "  SOLIDARITY_KEYRING_FILE=/run/solidarity-keyring/keyring.json solidarity ...  (as that "
    "user, with the service's other settings)\n"
    f"  systemd-creds encrypt --name={KEYRING_CREDENTIAL} /run/solidarity-keyring/keyring.json "
    f"{STORE}/{KEYRING_CREDENTIAL}\n"
    "  rm -r /run/solidarity-keyring\n"
    "then start the service and make a new encrypted copy (`solidarity keyring export`)."
)
