"""SealedTestimony: the witness and their account are sealed to the section's coordinators, written
and read in the back office only on the sealed-value pages, after unlocking, and every read is
in the audit log. Never in the database in plaintext, never public."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from solidarity.audit.models import AuditEntry
from solidarity.core.classification import FieldClass, field_class, public_fields
from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.documentation.models import Testimony as SealedTestimony
from solidarity.safety.fields import Sealed
from solidarity.safety.keys import NotARecipient, read_sealed
from solidarity.safety.models import SealedKey
from tests.conftest import verified_login
from tests.test_safety_sealed import _recently_authenticated, coordinator, opened

WITNESS = "CNRY-WITNESS Gulnara S., cell-mate, +7 701 000 0000"
ACCOUNT = "CNRY-ACCOUNT They kept me standing for two days in the basement of the KNB"


@pytest.fixture(autouse=True)
def fast_kdf(settings: Settings) -> None:
    settings.SOLIDARITY_KDF = "interactive"


@pytest.fixture
def other_section(db: None) -> Section:
    return Section.objects.create(slug="abroad", name_en="Section abroad", kind="national")


def make_testimony(section: Section) -> SealedTestimony:
    person = Person.objects.create(
        section=section, slug="detained", given_name="Ainur", family_name="K"
    )
    return SealedTestimony.objects.create(
        section=section,
        reference="T-2012-03",
        person=person,
        given_on="2012-03",
        witness=WITNESS,
        account=ACCOUNT,
    )


def raw_row(obj: SealedTestimony) -> str:
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(SealedTestimony._meta.db_table)
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [obj.pk])  # noqa: S608
        return " ".join(map(str, cursor.fetchone()))


def sealed_url(obj: SealedTestimony, field: str) -> str:
    return reverse("safety:sealed", args=["documentation", "testimony", obj.pk, field])


def test_witness_and_account_are_classed_sealed_and_nothing_is_public() -> None:
    """The classification seals both, and no field but the id is public."""
    assert field_class(SealedTestimony, "witness") is FieldClass.SEALED
    assert field_class(SealedTestimony, "account") is FieldClass.SEALED
    assert public_fields(SealedTestimony) == ["id"]
    assert "is_public" not in {f.name for f in SealedTestimony._meta.get_fields()}


def test_the_row_holds_ciphertext_only_and_coordinators_read_it(section: Section) -> None:
    """Both values are sealed for each coordinator with a key; the row holds no plaintext."""
    alia, bolat = coordinator("alia", section), coordinator("bolat", section)
    coordinator("researcher", section, role="researcher")
    saved = make_testimony(section)
    row = raw_row(saved)
    assert "CNRY-WITNESS" not in row and "CNRY-ACCOUNT" not in row
    recipients = SealedKey.objects.filter(object_id=saved.pk, field_name="account")
    assert set(recipients.values_list("user__username", flat=True)) == {"alia", "bolat"}
    fresh = SealedTestimony.objects.get(pk=saved.pk)
    assert isinstance(fresh.account, Sealed) and str(fresh.account) == "sealed"
    assert read_sealed(alia, fresh, "witness", opened(alia)) == WITNESS
    assert read_sealed(bolat, fresh, "account", opened(bolat)) == ACCOUNT


def test_researchers_and_other_sections_cannot_read_it(
    section: Section, other_section: Section
) -> None:
    """A researcher of the section and a coordinator of another section are refused."""
    coordinator("alia", section)
    researcher = coordinator("researcher", section, role="researcher")
    foreign = coordinator("foreign", other_section)
    saved = SealedTestimony.objects.get(pk=make_testimony(section).pk)
    for user in (researcher, foreign):
        with pytest.raises(NotARecipient):
            read_sealed(user, saved, "account", opened(user))


def test_writing_and_reading_in_the_back_office(client: Client, section: Section) -> None:
    """A coordinator creates a testimony, then writes the account on its sealed page after
    unlocking; reading it again is recorded in the audit log, and the change page never shows
    the value itself."""
    alia = coordinator("alia", section)
    person = Person.objects.create(section=section, slug="p", given_name="A", family_name="B")
    verified_login(client, alia)
    response = client.post(
        reverse("admin:documentation_testimony_add"),
        {
            "reference": "T-1",
            "section": section.pk,
            "person": person.pk,
            "event": "",
            "given_on": "2012",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = SealedTestimony.objects.get(reference="T-1")
    change = reverse("admin:documentation_testimony_change", args=[saved.pk])
    page = client.get(change).content.decode()
    assert sealed_url(saved, "account") in page and "Nothing recorded." in page

    assert client.get(sealed_url(saved, "account")).status_code == 302  # locked
    _recently_authenticated(client)
    unlock = f"{reverse('safety:unlock')}?next={sealed_url(saved, 'account')}"
    assert client.post(unlock, {"password": "alia long passphrase"}).status_code == 302
    response = client.post(sealed_url(saved, "account"), {"value": ACCOUNT})
    assert response.status_code == 302
    assert "CNRY-ACCOUNT" not in raw_row(saved)

    reads = AuditEntry.objects.filter(action="sealed_read", model="documentation.Testimony")
    assert ACCOUNT in client.get(sealed_url(saved, "account")).content.decode()
    assert reads.count() == 1 and reads.get().fields == ["account"]
    page = client.get(change).content.decode()
    assert ACCOUNT not in page and "Read or change (recorded)" in page
    assert not AuditEntry.objects.filter(values__icontains="CNRY").exists()


def test_others_get_404_and_no_sealed_panel(
    client: Client, section: Section, other_section: Section
) -> None:
    """A researcher sees the testimony's reference but no sealed panel and a 404 on the sealed
    pages; a coordinator of another section does not find the testimony at all."""
    coordinator("alia", section)
    saved = make_testimony(section)
    change = reverse("admin:documentation_testimony_change", args=[saved.pk])
    researcher = coordinator("researcher", section, role="researcher")
    verified_login(client, researcher)
    page = client.get(change).content.decode()
    assert "T-2012-03" in page and "safety/sealed" not in page
    _recently_authenticated(client)
    for field in ("witness", "account"):
        assert client.get(sealed_url(saved, field)).status_code == 404
    client.logout()
    verified_login(client, coordinator("foreign", other_section))
    assert client.get(change).status_code == 404
    assert client.get(sealed_url(saved, "account")).status_code == 404
