"""Failed login attempts, kept in the database so that every app server behind a load balancer
sees the same count (no process memory), and only for the length of the throttling window."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class LoginFailure(models.Model):
    """One failed password or second-factor attempt, counted against a username or a client.

    `key` is a keyed hash (HMAC under the server's secret key) of the username or of the
    client's network, never the value itself: a seized disk should not list who was tried or
    where from. Rows older than the window are deleted as new failures come in.
    """

    class Scope(models.TextChoices):
        USERNAME = "user", "username"
        CLIENT = "ip", "client address"

    scope = models.CharField(max_length=4, choices=Scope.choices)
    key = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "at"], name="accounts_failure_lookup")]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} failure at {self.at:%Y-%m-%d %H:%M:%S}"
