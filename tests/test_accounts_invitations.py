"""First passwords that only the member knows (ASVS 6.4.1, 6.4.3; accounts/invitations.py).

Adding a user in the back office takes no password and shows, once, a link with which the new
member chooses one; the link works once, for a limited time, and dies when a newer one is
made. Every bad link gets the same page. A password an administrator sets for someone else
opens one login only, which must replace it before the second factor. The token reaches no
table, no audit entry and no log line.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from solidarity.accounts import invitations
from solidarity.accounts.invitations import InvitationTokenGenerator
from solidarity.accounts.models import PasswordToReplace
from solidarity.accounts.views import BAD_CREDENTIALS, INVITATION_STATUS
from solidarity.audit.models import AuditEntry
from tests.conftest import recently_authenticated, verified_login
from tests.test_accounts_hashed_sessions import _every_value_in_the_database
from tests.test_accounts_login import (
    LOGIN,
    PASSWORD,
    add_authenticator,
    code_for,
    errors,
    make_staff,
    password_step,
    sent_to_login,
    text,
)

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

ADD = "/admin/auth/user/add/"
CHOSEN = "a passphrase of my very own"
LINK = re.compile(r'<code class="invitation-link">([^<]+)</code>')


@pytest.fixture
def admin_client() -> Client:
    """A superuser's back-office session, second factor verified (not re-authenticated)."""
    return verified_login(Client(), make_staff("boss"))


def link_in(response: Response) -> str:
    """The invitation link a back-office page shows, as a path with its fragment."""
    found = LINK.findall(text(response))
    assert len(found) == 1, text(response)
    parts = urlsplit(html.unescape(found[0]))
    assert parts.scheme == "http" and parts.netloc == "testserver"
    assert parts.query == ""  # the token is never where a request would carry it
    return f"{parts.path}#{parts.fragment}"


def parameters(link: str) -> dict[str, str]:
    """The u and t after the link's "#", as the page's script reads them."""
    return {key: values[0] for key, values in parse_qs(urlsplit(link).fragment).items()}


def token_of(link: str) -> str:
    return parameters(link)["t"]


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def open_link(link: str, client: Client | None = None) -> Response:
    """What a browser does with the link: GET the page (the fragment is never sent), whose
    script then posts the fragment's u and t. CSRF checks on, as in a browser."""
    client = client or Client(enforce_csrf_checks=True)
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200, text(page)
    posted = {**parameters(link), "csrfmiddlewaretoken": CSRF.findall(text(page))[0]}
    return client.post(urlsplit(link).path, posted)


def hidden(response: Response) -> dict[str, str]:
    """The link's parameters in the page's form (hidden fields u and t)."""
    found = re.findall(r'<input type="hidden" name="([ut])" value="([^"]*)"', text(response))
    return {name: html.unescape(value) for name, value in found}


def add_member(admin_client: Client, username: str = "vera") -> tuple[User, str, Response]:
    response = admin_client.post(ADD, {"username": username, "_save": "Save"})
    assert response.status_code == 200, text(response)
    return User.objects.get(username=username), link_in(response), response


def choose(link: str, password: str = CHOSEN, again: str | None = None) -> Response:
    """Open the link, then submit its password form as the member would (the form's hidden
    fields carry u and t); a refused link's answer is returned as it comes."""
    client = Client(enforce_csrf_checks=True)
    form = open_link(link, client)
    if form.status_code != 200:
        return form
    posted = {
        **hidden(form),
        "csrfmiddlewaretoken": CSRF.findall(text(form))[0],
        "new_password1": password,
        "new_password2": password if again is None else again,
    }
    return client.post(urlsplit(link).path, posted)


def without_echo(response: Response) -> str:
    """The page minus the language switch's echo of the page's own address."""
    return re.sub(r'name="next" value="[^"]*"', "", text(response))


def actions_since(seq: int) -> list[tuple[str, str, str]]:
    return list(
        AuditEntry.objects.filter(seq__gt=seq)
        .order_by("seq")
        .values_list("action", "object_pk", "actor")
    )


def head() -> int:
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


# -- Adding a member -------------------------------------------------------------------------------


def test_adding_a_user_takes_no_password_and_shows_the_link_once(admin_client: Client) -> None:
    """The add form asks for a username only; the account has no usable password; the page
    after saving shows the link with the hand-over advice, and no later page shows it."""
    form = text(admin_client.get(ADD))
    assert 'name="username"' in form and "password1" not in form and "password2" not in form
    before = head()

    member, link, response = add_member(admin_client)

    assert not member.has_usable_password()
    page = text(response)
    assert "It works once, for 72 hours." in page
    assert "Never by e-mail" in page
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert link.startswith("/accounts/welcome/#u=") and "&t=" in link
    boss = User.objects.get(username="boss")
    assert ("invitation_created", str(member.pk), f"user:{boss.pk}:boss") in actions_since(before)
    token = token_of(link)
    # The change page, the list and the add form never show it again.
    for url in (f"/admin/auth/user/{member.pk}/change/", "/admin/auth/user/", ADD):
        shown = admin_client.get(url)
        assert shown.status_code == 200
        assert token not in text(shown) and "/accounts/welcome/" not in text(shown)
    # A reload of the page re-posts the form: refused, the username is taken, no new link.
    again = admin_client.post(ADD, {"username": "vera", "_save": "Save"})
    assert again.status_code == 200
    assert "already exists" in text(again) and "/accounts/welcome/" not in text(again)
    assert not LINK.search(text(admin_client.post(ADD, {"username": "VERA", "_save": "Save"})))


def test_the_link_sets_the_password_once_and_leads_to_the_login(admin_client: Client) -> None:
    """The anonymous page asks for the password twice (new-password fields); the member is
    sent to the login, whose password step then leads to setting up the second factor."""
    member, link, _ = add_member(admin_client)
    before = head()

    page = open_link(link)
    assert page.status_code == 200
    body = text(page)
    assert body.count('type="password"') == 2
    assert body.count('autocomplete="new-password"') == 2
    assert '<meta name="referrer" content="no-referrer">' in body
    assert page["Referrer-Policy"] == "no-referrer"
    assert "vera" in body

    done = choose(link)
    assert done.status_code == 302 and done["Location"] == LOGIN
    member.refresh_from_db()
    assert member.check_password(CHOSEN)
    assert ("invitation_used", str(member.pk), f"user:{member.pk}:vera") in actions_since(before)

    first_login = password_step(Client(), "vera", CHOSEN)
    assert first_login.status_code == 302
    assert first_login["Location"].startswith("/accounts/enrol/")

    # Used: the same link is now a dead one, and posting to it changes nothing.
    assert open_link(link).status_code == INVITATION_STATUS
    assert choose(link, "yet another passphrase here").status_code == INVITATION_STATUS
    member.refresh_from_db()
    assert member.check_password(CHOSEN)


def test_the_token_travels_after_the_hash_and_the_page_opens_without_it(
    admin_client: Client,
) -> None:
    """No request carries the token: the link has it after "#", and the page the browser asks
    for is the bare path, with the script that posts the fragment and a field to paste the
    link into (without JavaScript), and no password fields yet."""
    member, link, _ = add_member(admin_client)
    path, _, fragment = link.partition("#")
    assert path == "/accounts/welcome/" and "?" not in link
    assert parameters(link) == {"u": parameters(link)["u"], "t": token_of(link)}
    assert fragment == f"u={parameters(link)['u']}&t={token_of(link)}"

    page = Client().get(path)

    assert page.status_code == 200
    body = text(page)
    assert re.search(r'<script src="[^"]*/accounts/invitation\.js" defer></script>', body)
    assert '<form method="post" action="/accounts/welcome/" id="invitation-open">' in body
    assert hidden(page) == {"u": "", "t": ""}
    assert re.search(r'<input type="text" name="link" [^>]*autocomplete="off"', body)
    assert 'type="password"' not in body and "vera" not in body
    assert page["Referrer-Policy"] == "no-referrer" and "no-store" in page["Cache-Control"]
    assert "<script>" not in body  # no inline script: the CSP forbids it
    member.refresh_from_db()
    assert not member.has_usable_password()


def test_posting_u_and_t_with_a_good_password_sets_it(admin_client: Client) -> None:
    """What the password form posts, in one request: the link's u and t with the passwords."""
    member, link, _ = add_member(admin_client)
    done = Client().post(
        "/accounts/welcome/", {**parameters(link), "new_password1": CHOSEN, "new_password2": CHOSEN}
    )
    assert done.status_code == 302 and done["Location"] == LOGIN
    member.refresh_from_db()
    assert member.check_password(CHOSEN)


def test_a_pasted_link_opens_the_form(admin_client: Client) -> None:
    """Without JavaScript the member pastes the link: whole, broken over lines by a messenger,
    only its part after "#", or in the older form with "?"; the form then carries u and t."""
    member, link, _ = add_member(admin_client)
    u, t = parameters(link)["u"], parameters(link)["t"]
    whole = f"http://testserver{link}"
    pastes = [
        whole,
        f"  {whole[:30]}\n{whole[30:]}\n",
        link.partition("#")[2],
        f"https://solidarity.example.org/accounts/welcome/?u={u}&t={t}",
    ]
    for pasted in pastes:
        form = Client().post("/accounts/welcome/", {"link": pasted})
        assert form.status_code == 200, pasted
        assert text(form).count('autocomplete="new-password"') == 2
        assert hidden(form) == {"u": u, "t": t}
    refused = Client().post("/accounts/welcome/", {"link": whole.replace(t, t[:-1])})
    assert refused.status_code == INVITATION_STATUS
    assert Client().post("/accounts/welcome/", {"link": whole + " " * 600}).status_code == 200
    too_long = Client().post("/accounts/welcome/", {"link": whole + "&x=" + "y" * 600})
    assert too_long.status_code == INVITATION_STATUS
    member.refresh_from_db()
    assert not member.has_usable_password()


def test_an_old_query_link_is_sent_to_the_fragment_form(admin_client: Client) -> None:
    """Links handed out before the token moved behind "#" keep working for their 72 hours:
    303 to the same link with the token after "#" (out of the address bar), nothing checked
    or consumed by the GET; the rest as for a new link."""
    member, link, _ = add_member(admin_client)
    u, t = parameters(link)["u"], parameters(link)["t"]
    before = head()

    moved = Client().get(f"/accounts/welcome/?u={u}&t={t}")

    assert moved.status_code == 303 and moved["Location"] == link
    assert "no-store" in moved["Cache-Control"]
    assert actions_since(before) == []
    assert choose(moved["Location"]).status_code == 302
    member.refresh_from_db()
    assert member.check_password(CHOSEN)
    # A bad one is moved as well (cut one past the longest real token) and refused on the POST.
    long = Client().get(f"/accounts/welcome/?u={u}&t={t * 3}")
    assert long.status_code == 303
    assert len(token_of(long["Location"])) == invitations.MAX_TOKEN + 1
    assert open_link(long["Location"]).status_code == INVITATION_STATUS


def test_every_bad_link_gets_the_same_page_and_status(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Used, tampered, replaced, expired, of an unknown or another account, or cut short: one
    status and one page, which says what to do. Nothing tells them apart."""
    used_member, used, _ = add_member(admin_client, "used")
    assert choose(used).status_code == 302
    _, replaced, _ = add_member(admin_client, "replaced")
    recently_authenticated(admin_client)
    replacing = admin_client.post(
        f"/admin/auth/user/{User.objects.get(username='replaced').pk}/invitation/"
    )
    assert replacing.status_code == 200 and link_in(replacing) != replaced
    _, good, _ = add_member(admin_client, "good")
    token = token_of(good)
    flipped = token[:-1] + ("a" if token[-1] != "a" else "b")
    uid = parameters(good)["u"]
    bad_links = {
        "used": used,
        "replaced": replaced,
        "tampered": good.replace(token, flipped),
        "other account": good.replace(uid, parameters(used)["u"]),
        "unknown account": good.replace(uid, "OTk5OTk"),
        "garbage account": good.replace(uid, "%%%"),
        "no token": good.split("&t=")[0],
        "nothing": "/accounts/welcome/",
        "long token": good.replace(token, token * 3),
    }
    answers = {}
    for name, link in bad_links.items():
        response = open_link(link)
        answers[name] = (response.status_code, without_echo(response))
    assert len(set(answers.values())) == 1, answers.keys()
    status, page = next(iter(answers.values()))
    assert status == 404
    assert "This link does not work" in page
    assert "Ask the coordinator who gave it to you for a new link" in page
    assert 'type="password"' not in page

    # Expiry: still good 71 hours on, dead after 72, with the same page again.
    made = invitations.tokens._now()
    monkeypatch.setattr(
        InvitationTokenGenerator, "_now", lambda self: made + dt.timedelta(hours=71)
    )
    assert open_link(good).status_code == 200
    monkeypatch.setattr(
        InvitationTokenGenerator, "_now", lambda self: made + dt.timedelta(hours=73)
    )
    expired = open_link(good)
    assert (expired.status_code, without_echo(expired)) == (status, page)
    assert choose(good).status_code == status
    assert not User.objects.get(username="good").has_usable_password()
    assert used_member.pk  # the used account is untouched by the others' attempts
    used_member.refresh_from_db()
    assert used_member.check_password(CHOSEN)


def test_the_lifetime_is_a_setting(admin_client: Client, settings: Any, monkeypatch: Any) -> None:
    """SOLIDARITY_INVITATION_HOURS shortens the link's life and what the page says about it."""
    settings.SOLIDARITY_INVITATION_HOURS = 2
    _, link, response = add_member(admin_client)
    assert "It works once, for 2 hours." in text(response)
    made = invitations.tokens._now()
    monkeypatch.setattr(InvitationTokenGenerator, "_now", lambda self: made + dt.timedelta(hours=3))
    assert open_link(link).status_code == 404


def test_a_newer_link_kills_the_older_and_needs_recent_authentication(
    admin_client: Client,
) -> None:
    """The "New invitation link" button is offered for an account without a password; its
    POST asks for password and code first; the new link works and the old one is dead."""
    member, old, _ = add_member(admin_client)
    change = text(admin_client.get(f"/admin/auth/user/{member.pk}/change/"))
    url = f"/admin/auth/user/{member.pk}/invitation/"
    assert f'href="{url}"' in change and "New invitation link" in change
    assert admin_client.get(url).status_code == 200  # the confirmation page

    stale = admin_client.post(url)
    assert stale.status_code == 302 and stale["Location"].startswith("/accounts/reauth/")
    assert open_link(old).status_code == 200  # nothing was made

    recently_authenticated(admin_client)
    new = link_in(admin_client.post(url))
    assert new != old
    assert open_link(old).status_code == 404
    assert choose(new).status_code == 302
    member.refresh_from_db()
    assert member.check_password(CHOSEN)


def test_no_link_replaces_a_password_the_member_chose(admin_client: Client) -> None:
    """A member's own password is never replaced by a link: no button, and a forged POST is
    refused with a message, the password unchanged."""
    member = User.objects.create_user("own", password=PASSWORD, is_staff=True)
    recently_authenticated(admin_client)
    url = f"/admin/auth/user/{member.pk}/invitation/"
    assert url not in text(admin_client.get(f"/admin/auth/user/{member.pk}/change/"))

    refused = admin_client.post(url, follow=True)

    assert "chose their own password" in text(refused)
    assert not LINK.search(text(refused))
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_a_weak_password_is_refused_with_the_validators_words_and_nothing_changes(
    admin_client: Client,
) -> None:
    member, link, _ = add_member(admin_client, "verasokolova")

    short = choose(link, "too short")
    mismatch = choose(link, CHOSEN, "a different passphrase")
    similar = choose(link, "verasokolova1")

    assert short.status_code == mismatch.status_code == similar.status_code == 200
    assert "This password is too short. It must contain at least 12 characters." in text(short)
    assert "The two password fields didn\u2019t match." in text(mismatch)
    assert "too similar to the username" in text(similar)
    member.refresh_from_db()
    assert not member.has_usable_password()
    # The link still works for a good one.
    assert choose(link).status_code == 302


def test_bad_links_are_throttled_like_the_login(admin_client: Client) -> None:
    """Five bad tokens for one account make its link wait (even the right one, which is not
    consumed); another member's link still works. Each refusal is in the audit log."""
    member, link, _ = add_member(admin_client)
    _, other, _ = add_member(admin_client, "other")
    token = token_of(link)
    before = head()
    for n in range(5):
        wrong = link.replace(token, token[:-2] + f"z{n}")
        assert open_link(wrong).status_code == 404

    waiting = open_link(link)

    assert waiting.status_code == 429
    assert "Too many failed attempts" in text(waiting)
    assert choose(link).status_code == 429
    member.refresh_from_db()
    assert not member.has_usable_password()
    assert open_link(other).status_code == 200
    logged = [action for action, pk, _ in actions_since(before) if pk == str(member.pk)]
    assert logged == ["login_failed"] * 5 + ["login_throttled"]


# -- A password an administrator set ---------------------------------------------------------------


def _set_password(admin_client: Client, member: User, password: str) -> Response:
    recently_authenticated(admin_client)
    return admin_client.post(
        f"/admin/auth/user/{member.pk}/password/",
        {"password1": password, "password2": password, "usable_password": "true"},
        follow=True,
    )


def test_an_administrators_password_must_be_replaced_before_anything_else(
    admin_client: Client,
) -> None:
    """After the password step the login goes to "choose a new password"; the second-factor
    pages and the back office send the member back there; the same password is refused; a new
    one continues to the second factor and the back office."""
    member = make_staff("member")
    device = add_authenticator(member)
    before = head()
    given = "a password the admin knows"

    done = _set_password(admin_client, member, given)
    assert "works for one login within 72 hours only" in text(done)
    assert PasswordToReplace.objects.filter(user=member).exists()
    boss = User.objects.get(username="boss")
    assert ("password_change_forced", str(member.pk), f"user:{boss.pk}:boss") in actions_since(
        before
    )

    client = Client()
    step = password_step(client, "member", given)
    replace = "/accounts/password/new/?next=%2Fadmin%2F"
    assert step.status_code == 302 and step["Location"] == replace
    for url in ("/accounts/verify/?next=/admin/", "/accounts/enrol/?next=/admin/"):
        skipped = client.get(url)
        assert skipped.status_code == 302 and skipped["Location"] == replace, url
    # A right code posted straight to the second step proves nothing yet: back to the form.
    assert client.post("/accounts/verify/", {"code": code_for(device)})["Location"] == replace
    assert sent_to_login(client, "/admin/")

    page = client.get(replace)
    assert page.status_code == 200
    assert text(page).count('autocomplete="new-password"') == 2
    same = client.post(replace, {"new_password1": given, "new_password2": given})
    assert "Choose a new password, not the one you were given." in text(same)
    weak = client.post(replace, {"new_password1": "short", "new_password2": "short"})
    assert "This password is too short" in text(weak)
    member.refresh_from_db()
    assert member.check_password(given)

    chosen = client.post(replace, {"new_password1": CHOSEN, "new_password2": CHOSEN})
    assert chosen.status_code == 302 and chosen["Location"].startswith("/accounts/verify/")
    member.refresh_from_db()
    assert member.check_password(CHOSEN)
    assert not PasswordToReplace.objects.filter(user=member).exists()
    assert ("forced_password_changed", str(member.pk), f"user:{member.pk}:member") in (
        actions_since(before)
    )
    second = client.post("/accounts/verify/", {"code": code_for(device, 1), "next": "/admin/"})
    assert second.status_code == 302 and second["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    # The administrator's password opens nothing any more; the member's own logs in normally.
    assert errors(password_step(Client(), "member", given))
    assert password_step(Client(), "member", CHOSEN)["Location"].startswith("/accounts/verify/")


def test_a_new_member_without_a_factor_replaces_it_then_enrols(admin_client: Client) -> None:
    member = User.objects.create_user("fresh", is_staff=True)
    _set_password(admin_client, member, "a password the admin knows")
    client = Client()
    password_step(client, "fresh", "a password the admin knows")
    chosen = client.post(
        "/accounts/password/new/?next=/admin/", {"new_password1": CHOSEN, "new_password2": CHOSEN}
    )
    assert chosen.status_code == 302 and chosen["Location"].startswith("/accounts/enrol/")
    assert client.get(chosen["Location"]).status_code == 200


def test_a_link_replaces_a_password_an_administrator_set(admin_client: Client) -> None:
    """For such an account the button is offered: the link kills the known password."""
    member = User.objects.create_user("given", is_staff=True)
    _set_password(admin_client, member, "a password the admin knows")
    recently_authenticated(admin_client)

    link = link_in(admin_client.post(f"/admin/auth/user/{member.pk}/invitation/"))

    member.refresh_from_db()
    assert not member.has_usable_password()
    assert not PasswordToReplace.objects.filter(user=member).exists()
    assert errors(password_step(Client(), "given", "a password the admin knows"))
    assert choose(link).status_code == 302


def test_an_administrators_password_not_used_in_time_opens_nothing(admin_client: Client) -> None:
    """Older than a link's lifetime, the password set by an administrator gets the answer of
    a wrong password (logged as such); a new link is still offered for the account."""
    member = User.objects.create_user("late", is_staff=True)
    given = "a password the admin knows"
    _set_password(admin_client, member, given)
    PasswordToReplace.objects.filter(user=member).update(at=timezone.now() - dt.timedelta(hours=73))
    before = head()

    refused = password_step(Client(), "late", given)

    assert refused.status_code == 200
    assert errors(refused) == [str(BAD_CREDENTIALS)]
    assert actions_since(before) == [("login_failed", str(member.pk), "anonymous")]
    entry = AuditEntry.objects.get(seq__gt=before)
    assert entry.values == {"step": "expired_one_time_password"}
    recently_authenticated(admin_client)
    assert (
        choose(link_in(admin_client.post(f"/admin/auth/user/{member.pk}/invitation/")))["Location"]
        == LOGIN
    )


def test_administrators_setting_their_own_password_are_not_asked_again(
    admin_client: Client,
) -> None:
    boss = User.objects.get(username="boss")
    _set_password(admin_client, boss, "my own new passphrase")
    assert not PasswordToReplace.objects.filter(user=boss).exists()


# -- Nothing keeps the token -----------------------------------------------------------------------


def test_the_token_reaches_no_table_no_audit_entry_and_no_log_line(
    admin_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Through its whole life (made, shown, refused with a wrong password, throttled, used,
    refused when used again) the token is in no column of any table and no log record."""
    caplog.set_level(logging.DEBUG)
    member, link, _ = add_member(admin_client)
    token = token_of(link)
    assert choose(link, "short").status_code == 200
    for n in range(5):
        open_link(link.replace(token, token[:-2] + f"z{n}"))
    assert open_link(link).status_code == 429  # logged by Django as a refused request
    dump_while_live = _every_value_in_the_database()
    assert token not in dump_while_live and token[-20:] not in dump_while_live

    from solidarity.accounts.models import LoginFailure

    LoginFailure.objects.all().delete()
    assert choose(link).status_code == 302
    assert open_link(link).status_code == 404

    dump = _every_value_in_the_database()
    assert token not in dump and token[-20:] not in dump
    audit = repr(list(AuditEntry.objects.values_list("values", "object_pk", "model")))
    assert token not in audit
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/accounts/welcome/" in logged  # Django did log the refusals, by path only
    assert token not in logged
    member.refresh_from_db()
    assert member.check_password(CHOSEN)
