"""Hooks: a password change keeps the user's key openable; a lost role drops wrapped keys."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .keys import password_changed, role_ended
from .models import Role


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="safety:password")
def _password_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    # AbstractBaseUser keeps the raw new password in `_password` until after this save.
    new_password = getattr(instance, "_password", None)
    if new_password is not None:
        password_changed(instance, new_password)


@receiver(post_save, sender=Role, dispatch_uid="safety:role-saved")
@receiver(post_delete, sender=Role, dispatch_uid="safety:role-deleted")
def _role_changed(sender: Any, instance: Role, **kwargs: Any) -> None:
    role_ended(instance.user_id, instance.section_id)
