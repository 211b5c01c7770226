"""What an API token may do: one scope per resource and direction, each tied to the Django
permission its user must still hold when the token is used.

A token is never more than its user: a scope is granted only to a user who holds its
permission, and checked again on every request, so taking a permission away from a person
disarms their tokens at once.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

SCOPES: dict[str, tuple[str, str]] = {
    "people:read": ("campaigns.view_supporter", "read supporters' names and contact details"),
    "petitions:read": ("campaigns.view_petition", "read petitions"),
    "signatures:read": ("campaigns.view_signature", "read signatures"),
    "signatures:write": ("campaigns.add_signature", "record signatures on public petitions"),
    "events:read": ("campaigns.view_action", "read actions (OSDI events)"),
    "attendances:read": ("campaigns.view_rsvp", "read RSVPs to actions (OSDI attendances)"),
    "tags:read": ("campaigns.view_tag", "read tags and who carries them"),
    "tags:write": ("campaigns.add_tagging", "make tags and put them on people"),
}


def permission_for(scope: str) -> str:
    return SCOPES[scope][0]


def user_may_hold(user: User | AnonymousUser, scope: str) -> bool:
    return bool(user.is_active and user.has_perm(permission_for(scope)))
