"""The session engine (`SESSION_ENGINE`): Django's database sessions, with only a hash of each
session key in the database (threat model M9).

Threat addressed: whoever reads the session table — a database dump through a bug, a backup
opened with its key, a seized disk — must not be able to take over the live sessions in it.
A session key is a bearer credential that has passed the password and the second factor, so a
raw key in a row is a logged-in coordinator for whoever copies it into a cookie. The browser's
cookie keeps the raw key; the table keeps SHA-256(key), and every place Django's backend reads
or writes the key (load, exists, save and create, delete, cycle_key through create and delete)
goes through `stored_key`. A hash copied into a cookie is hashed again and finds nothing.

Why an unkeyed hash is enough: Django's keys are 32 characters drawn by `get_random_string`
(a CSPRNG) from 36 letters and digits, about 165 bits. Nobody can search that space for a
preimage of a stolen digest, so a secret key (HMAC) would add nothing against the dump, and
would tie every session to one more secret to keep and rotate.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from django.contrib.sessions.backends import db
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone

if TYPE_CHECKING:
    from solidarity.accounts.models import HashedSession


def stored_key(session_key: str) -> str:
    """What the database holds for `session_key`: its SHA-256, in hex."""
    return hashlib.sha256(session_key.encode()).hexdigest()


class SessionStore(db.SessionStore["HashedSession"]):
    @classmethod
    def get_model_class(cls) -> type[HashedSession]:
        # Imported here, as Django does: the engine is imported before the models are ready.
        from solidarity.accounts.models import HashedSession

        return HashedSession

    def _lookup(self) -> dict[str, Any]:
        return {
            "session_key": stored_key(self.session_key or ""),
            "expire_date__gt": timezone.now(),
        }

    def _forget(self, error: Exception) -> None:
        # As Django's backend: a missing or expired row, or a bad key, starts a new session.
        if isinstance(error, SuspiciousOperation):
            logging.getLogger(f"django.security.{type(error).__name__}").warning(str(error))
        self._session_key = None

    def _get_session_from_db(self) -> HashedSession | None:
        try:
            return self.model.objects.get(**self._lookup())
        except (self.model.DoesNotExist, SuspiciousOperation) as error:
            self._forget(error)
            return None

    async def _aget_session_from_db(self) -> HashedSession | None:
        try:
            return await self.model.objects.aget(**self._lookup())
        except (self.model.DoesNotExist, SuspiciousOperation) as error:
            self._forget(error)
            return None

    def exists(self, session_key: str) -> bool:
        # Also what `create` asks of a new random key: the collision check is on the hash.
        return self.model.objects.filter(session_key=stored_key(session_key)).exists()

    async def aexists(self, session_key: str) -> bool:
        return await self.model.objects.filter(session_key=stored_key(session_key)).aexists()

    def create_model_instance(self, data: dict[str, Any]) -> HashedSession:
        # Every save goes through here (and `create` through save): the row gets the hash, and
        # a hash already taken fails the insert, so `create` draws another key.
        row = super().create_model_instance(data)
        row.session_key = stored_key(row.session_key)
        return row

    async def acreate_model_instance(self, data: dict[str, Any]) -> HashedSession:
        row = await super().acreate_model_instance(data)
        row.session_key = stored_key(row.session_key)
        return row

    def delete(self, session_key: str | None = None) -> None:
        # Logout (flush) and cycle_key, which deletes the row of the key it replaces.
        key = session_key if session_key is not None else self.session_key
        if key is not None:
            self.model.objects.filter(session_key=stored_key(key)).delete()

    async def adelete(self, session_key: str | None = None) -> None:
        key = session_key if session_key is not None else self.session_key
        if key is not None:
            await self.model.objects.filter(session_key=stored_key(key)).adelete()

    # clear_expired (and `clearsessions`) select by expiry date only: inherited, on our model.
