"""What makes signing cheap keeps its promises (issue 3).

The petition page is rendered once and shared, but every reader gets their own CSRF token and
the count changes as soon as a signature is confirmed; the audit entries of a group commit are
chained together at its end, yet none is lost and none outlives a rolled-back write.
"""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from solidarity.audit.models import AuditEntry
from solidarity.audit.services import verify_chain
from solidarity.campaigns import groupcommit, intake, page_cache, services
from solidarity.campaigns.models import Signature, Supporter
from solidarity.campaigns.services import SupporterDetails
from solidarity.core.models import Section
from tests.test_campaigns_groupcommit import _in_threads
from tests.test_campaigns_support import make_world

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _form(email: str, token: str) -> dict[str, str]:
    return {
        "csrfmiddlewaretoken": token,
        "name": "Anna Berg",
        "email": email,
        "country": "Germany",
        "language": "en",
        "processing_consent": "on",
        "public_name_consent": "on",
    }


def _token(page: str) -> str:
    found = _TOKEN.search(page)
    assert found, page
    return found.group(1)


@pytest.mark.django_db
def test_every_reader_gets_their_own_csrf_token(section: Section) -> None:
    """Two readers of the shared page get different tokens, and each token works for its
    reader only."""
    world = make_world(section)
    url = reverse("campaigns:petition", args=[world.petition.slug])
    anna, boris = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    anna_page, boris_page = anna.get(url), boris.get(url)
    anna_token, boris_token = (
        _token(anna_page.content.decode()),
        _token(boris_page.content.decode()),
    )
    assert anna_token != boris_token
    assert page_cache.CSRF_PLACEHOLDER not in anna_page.content.decode()
    assert anna.post(url, _form("boris@example.org", boris_token)).status_code == 403
    assert anna.post(url, _form("anna@example.org", anna_token)).status_code == 302
    assert boris.post(url, _form("boris@example.org", boris_token)).status_code == 302
    assert intake.record() == 2
    assert Signature.objects.count() == 2


@pytest.mark.django_db
def test_the_shared_page_needs_no_nonce(section: Section, client: Client) -> None:
    """A nonce shared between readers would defeat the CSP: the page neither asks for one nor
    carries inline script or style."""
    world = make_world(section)
    response = client.get(reverse("campaigns:petition", args=[world.petition.slug]))
    assert "nonce-" not in response["Content-Security-Policy"]
    assert "<script" not in response.content.decode()
    assert "<style" not in response.content.decode()


@pytest.mark.django_db
def test_a_confirmation_shows_on_the_page_at_once(section: Section, client: Client) -> None:
    """The kept page is dropped when a signature is confirmed, not TTL seconds later, and a
    pending signature does not drop it (nor change the count)."""
    world = make_world(section)
    url = reverse("campaigns:petition", args=[world.petition.slug])
    assert "0 signatures" in client.get(url).content.decode()
    services.sign_petition(
        world.petition,
        SupporterDetails(email="anna@example.org", name="Anna Berg"),
        public_name_consent=True,
        processing_consent=True,
        base_url="http://testserver",
    )
    assert "0 signatures" in client.get(url).content.decode()
    signature = Signature.objects.get()
    services.confirm_signature(services.signature_token(signature))
    page = client.get(url).content.decode()
    assert "1 signature" in page
    assert "Anna Berg" in page


@pytest.mark.django_db
def test_a_closed_petition_refuses_at_once(section: Section, client: Client) -> None:
    """Closing a petition drops the kept petition too: the next signature is refused."""
    world = make_world(section)
    url = reverse("campaigns:petition", args=[world.petition.slug])
    token = _token(client.get(url).content.decode())
    world.petition.accepting = False
    world.petition.save()
    response = client.post(url, _form("late@example.org", token))
    assert response.status_code == 400
    assert "This petition is closed" in response.content.decode()
    assert not Signature.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_group_commits_audit_entries_are_all_chained(section: Section) -> None:
    """Every signature of concurrent group commits has its entries (supporter, signature), in
    an unbroken chain; a write that failed has none."""
    world = make_world(section)
    before = AuditEntry.objects.count()

    def work(i: int) -> object:
        if i == 2:

            def broken() -> None:
                Supporter.objects.create(email="broken@example.org", name="Half written")
                raise ValueError("the write failed half-way")

            return groupcommit.write(broken)
        return services.sign_petition(
            world.petition,
            SupporterDetails(email=f"s{i}@example.org", name="Signer"),
            processing_consent=True,
            base_url="http://testserver",
        )

    results = _in_threads(8, work)
    assert isinstance(results[2], ValueError)
    signatures = list(Signature.objects.values_list("pk", "supporter_id"))
    assert len(signatures) == 7
    logged = set(
        AuditEntry.objects.filter(seq__gt=before, action="create").values_list("model", "object_pk")
    )
    for signature_pk, supporter_pk in signatures:
        assert ("campaigns.Signature", str(signature_pk)) in logged
        assert ("campaigns.Supporter", str(supporter_pk)) in logged
    assert AuditEntry.objects.filter(seq__gt=before).count() == 14
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_a_change_rolled_back_inside_a_write_leaves_no_entry(section: Section) -> None:
    """A savepoint rolled back inside a grouped write takes its deferred entry with it, as an
    entry appended at once would have gone."""

    def write() -> int:
        kept = Section.objects.create(slug="kept", name_en="Kept", kind="national")
        try:
            with transaction.atomic():
                Section.objects.create(slug="undone", name_en="Undone", kind="national")
                raise RuntimeError("changed our mind")
        except RuntimeError:
            pass
        return kept.pk

    [pk] = _in_threads(1, lambda i: groupcommit.write(write))
    assert Section.objects.filter(slug="undone").count() == 0
    models = list(
        AuditEntry.objects.filter(model="core.Section").values_list("object_pk", "action")
    )
    assert (str(pk), "create") in models
    assert len([m for m in models if m[1] == "create"]) == Section.objects.count()
    assert verify_chain().ok
