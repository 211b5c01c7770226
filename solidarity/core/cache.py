"""The cache that several app servers share: Django's DatabaseCache, with three changes.

Several `solidarity serve` processes behind a load balancer must count each client's requests
together (the public-form and search limits, the API throttles, the once-a-minute audit entry
of a refused request), or a flooder spread over N servers gets N allowances. The one thing
they all reach is the database, so with PostgreSQL the default cache is this table
(settings.CACHES; `SOLIDARITY_CACHE` chooses). Its table, `solidarity_cache`, is created by
the migration core 0003, with the columns `createcachetable` would give it.

What differs from Django's backend, and why:

- Values are JSON, never pickle. Django unpickles whatever the table holds, so whoever can
  write one row (an SQL injection, a stolen database password) could run code on every app
  server, where the keyring lives in memory (threat model A1, M6): a database compromise
  would become a compromise of every encrypted field. Callers store counters, flags and
  DRF's lists of timestamps; anything else fails loudly (TypeError) on the first write.
- Keys are stored as a keyed hash (HMAC under SECRET_KEY). Callers already put only hashes of
  client addresses into their keys, but also view names, user and token ids: a database dump
  must not list who was throttled or refused in the last minutes (threat model A1), whatever
  a future caller puts in a key.
- `incr` is atomic: the row is locked (SELECT ... FOR UPDATE; SQLite's IMMEDIATE transactions
  lock the whole file), so that two servers counting the same client at once cannot both read
  5 and both write 6. Django's backend reads and writes separately, which would let a flood
  sent in parallel through several servers slip past the limit.

Expired rows go at the first write after a minute (`_SWEEP_SECONDS`), so the table holds
little more than the live counters; Django's cull (MAX_ENTRIES, CULL_FREQUENCY in settings)
bounds it under a flood from many addresses.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

from django.apps.registry import Apps
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import DatabaseError, models, router, transaction
from django.utils.crypto import salted_hmac
from django.utils.timezone import now as tz_now

TABLE = "solidarity_cache"
_SALT = "solidarity.core.cache"
# How often one process deletes expired rows (on its next write).
_SWEEP_SECONDS = 60


class Entry(models.Model):
    """A row of the table, for the ORM only: in a registry of its own, so that no migration,
    admin page or audit handler sees it (the audit log skips models outside the project's
    registry, as it does migrations' historical models)."""

    objects: ClassVar[models.Manager[Entry]] = models.Manager()

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        apps = Apps()
        app_label = "core"
        db_table = TABLE

    def __str__(self) -> str:
        return self.cache_key


class DatabaseCache(DjangoDatabaseCache):
    _next_sweep = 0.0

    def make_key(self, key: str, version: int | None = None) -> str:
        full = super().make_key(key, version)
        return salted_hmac(_SALT, full, algorithm="sha256").hexdigest()

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        key_map = {self.make_and_validate_key(key, version=version): key for key in keys}
        if not key_map:
            return {}
        entries = Entry.objects.using(router.db_for_read(self.cache_model_class))
        rows = entries.filter(cache_key__in=list(key_map))
        now = tz_now()
        found, expired = {}, []
        for row in rows:
            if row.expires < now:
                expired.append(row.cache_key)
            else:
                found[key_map[row.cache_key]] = json.loads(row.value)
        if expired:
            entries.filter(cache_key__in=expired).delete()
        return found

    def _base_set(
        self, mode: str, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT
    ) -> bool:
        # Encoded first: a value JSON cannot hold fails here, before anything is written.
        encoded = "" if mode == "touch" else json.dumps(value)
        timeout = self.get_backend_timeout(timeout)
        forever = datetime.max.replace(tzinfo=UTC)
        expires = forever if timeout is None else datetime.fromtimestamp(timeout, tz=UTC)
        expires = expires.replace(microsecond=0)
        db = router.db_for_write(self.cache_model_class)
        entries = Entry.objects.using(db)
        now = tz_now().replace(microsecond=0)
        self._sweep(db, now)
        self._make_room(entries, now)
        try:
            with transaction.atomic(using=db):
                row = entries.filter(cache_key=key).values_list("expires", flat=True).first()
                if row is not None and mode == "touch":
                    entries.filter(cache_key=key).update(expires=expires)
                elif row is not None and (mode == "set" or (mode == "add" and row < now)):
                    entries.filter(cache_key=key).update(value=encoded, expires=expires)
                elif row is None and mode != "touch":
                    entries.bulk_create([Entry(cache_key=key, value=encoded, expires=expires)])
                else:
                    return False  # add() of a live key, or touch() of a missing one
        except DatabaseError:
            # As in Django's backend: most often another server inserted the same key a moment
            # ago (that add() won); a failed cache write must not fail the request.
            return False
        return True

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        with transaction.atomic(using=db):
            row = Entry.objects.using(db).select_for_update().filter(cache_key=key).first()
            if row is None or row.expires < tz_now():
                raise ValueError(f"Key '{key}' not found")
            value: int = json.loads(row.value) + delta
            Entry.objects.using(db).filter(cache_key=key).update(value=json.dumps(value))
        return value

    def _make_room(self, entries: models.QuerySet[Entry], now: datetime) -> None:
        """Django's cull: past MAX_ENTRIES, expired rows go, then 1/CULL_FREQUENCY of the rest
        (the lowest keys: as keys are hashes, whichever clients they are)."""
        if entries.count() <= self._max_entries:
            return
        if self._cull_frequency == 0:
            entries.delete()
            return
        entries.filter(expires__lt=now).delete()
        remaining = entries.count()
        if remaining > self._max_entries:
            keys = entries.order_by("cache_key").values_list("cache_key", flat=True)
            entries.filter(cache_key__lt=keys[remaining // self._cull_frequency]).delete()

    def _sweep(self, db: str, now: datetime) -> None:
        """Delete expired rows, at most once a minute per process."""
        if time.monotonic() < DatabaseCache._next_sweep:
            return
        DatabaseCache._next_sweep = time.monotonic() + _SWEEP_SECONDS
        try:
            with transaction.atomic(using=db):
                Entry.objects.using(db).filter(expires__lt=now).delete()
        except DatabaseError:
            # Another server is deleting the same rows (a lock conflict): it does the job.
            pass
