"""An account taken away ends its sessions (ASVS 7.4.2), and every page a logged-in user sees
has a visible logout (7.4.4).

7.4.2: Django's `ModelBackend.get_user` refuses an inactive user and a deleted one is not found,
so the next request of such a session is anonymous and the back office sends it to the login;
deactivation also deletes the session's row (accounts/apps.py), so that reactivating the account
does not bring an old browser's session back. A deactivated user's API token stops in
`test_api_tokens::test_taking_a_permission_away_disarms_the_token`, a deleted one's here.

7.4.4: the back office is crawled as a verified superuser, from the admin index to every
changelist and add page, plus one's own sessions, keys and backup codes; each page must carry
the logout button, a POST form to the logout address.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from solidarity.accounts.models import SignedInSession
from solidarity.audit.models import AuditEntry
from tests.conftest import recently_authenticated, verified_login
from tests.test_accounts_login import make_staff
from tests.test_api_support import api, token_for, user_with_scopes

LOGIN = reverse("accounts:login")


def _logged_in_staff() -> tuple[User, Client]:
    user = make_staff("anna", superuser=True)
    client = verified_login(Client(), user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200, "the session is not in the back office to begin with"
    return user, client


def _sent_to_login(client: Client) -> bool:
    """Whether the back office sends this client to the login (through the admin's own login
    address, which redirects there)."""
    response = client.get(reverse("admin:index"), follow=True)
    chain = [url for url, _status in response.redirect_chain]
    return bool(chain) and chain[-1].startswith(LOGIN) and response.status_code == 200


# -- 7.4.2 Deactivated or deleted: the session ends ---------------------------------------------


@pytest.mark.django_db
def test_deactivating_an_account_sends_its_session_to_the_login() -> None:
    user, client = _logged_in_staff()
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert _sent_to_login(client)
    assert client.get(reverse("accounts:sessions"))["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_a_deactivated_session_does_not_come_back_when_the_account_does() -> None:
    """Reactivating the account (a mistake undone, a member back from prison) does not bring
    back a browser session from before: whoever held that browser must log in again."""
    user, client = _logged_in_staff()
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert not SignedInSession.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(action="sessions_ended", object_pk=str(user.pk)).exists()
    assert _sent_to_login(client)
    user.is_active = True
    user.save(update_fields=["is_active"])
    assert _sent_to_login(client)


@pytest.mark.django_db
def test_deleting_an_account_sends_its_session_to_the_login() -> None:
    user, client = _logged_in_staff()
    user.delete()
    assert _sent_to_login(client)
    assert not SignedInSession.objects.exists()


@pytest.mark.django_db
def test_deleting_an_account_stops_its_api_tokens() -> None:
    """The deactivation case is test_api_tokens::test_taking_a_permission_away_disarms_the_token."""
    user = user_with_scopes("reader", "petitions:read")
    secret = token_for(user, "petitions:read")
    assert api(secret).get("/api/v2/petitions/").status_code == 200
    user.delete()
    assert api(secret).get("/api/v2/petitions/").status_code == 401


# -- 7.4.4 A logout on every authenticated page ---------------------------------------------------


class _Page(HTMLParser):
    """The page's links and its POST forms (action, and whether a submit button is inside)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")
        elif tag == "form":
            self._form = {
                "method": (attributes.get("method") or "get").lower(),
                "action": attributes.get("action") or "",
                "button": False,
                "csrf": False,
            }
            self.forms.append(self._form)
        elif self._form is not None and tag == "button":
            self._form["button"] = attributes.get("type", "submit") == "submit"
        elif self._form is not None and attributes.get("name") == "csrfmiddlewaretoken":
            self._form["csrf"] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def _parsed(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _has_logout(html: str) -> bool:
    logout = reverse("admin:logout")
    return any(
        form["method"] == "post" and form["action"] == logout and form["button"] and form["csrf"]
        for form in _parsed(html).forms
    )


def _back_office_pages(client: Client) -> list[str]:
    """The admin index, every changelist and add page it links to, and one's own account
    pages (accounts/urls.py)."""
    index = reverse("admin:index")
    response = client.get(index)
    assert response.status_code == 200
    linked = {
        url
        for url in _parsed(response.content.decode()).links
        if url.startswith(index) and (url.endswith("/add/") or url.count("/") == 4)
    }
    own = [reverse(f"accounts:{name}") for name in ("sessions", "keys", "backup_codes")]
    return [index, *sorted(linked), *own]


@pytest.mark.django_db
def test_every_back_office_page_has_a_logout_button() -> None:
    _user, client = _logged_in_staff()
    recently_authenticated(client)  # the backup-code page asks for a fresh password and code
    pages = _back_office_pages(client)
    assert len(pages) > 15, pages  # the crawl reached the apps' changelists and add pages
    assert any(page.endswith("/add/") for page in pages)
    without = []
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html"), url
        if not _has_logout(response.content.decode()):
            without.append(url)
    assert not without, f"no logout button on {without}"


@pytest.mark.django_db
def test_the_logout_button_ends_the_session_and_clears_the_browser() -> None:
    """The header's button is the accounts logout: the session ends, its row in the list of
    sessions goes, and the browser is told to drop what it kept (ASVS 14.3.1)."""
    user, client = _logged_in_staff()
    assert SignedInSession.objects.filter(user=user).exists()
    response = client.post(reverse("admin:logout"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert not SignedInSession.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(action="logout", object_pk=str(user.pk)).exists()
    assert _sent_to_login(client)
