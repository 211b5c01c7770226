"""The one place where every field of every Solidarity model is given a class.

    PUBLIC    may appear on the public site, feeds, API and mirror — if its record is public.
    INTERNAL  staff of the owning section only (working notes, bookkeeping).
    PERSONAL  data about a living person that identifies or reaches them (contacts, e-mails).
    SEALED    could get someone detained or killed if it leaked: whereabouts of people in
              hiding, testimony, informants.

The public site never picks fields itself: it asks `public_fields(Model)`. A test walks every
model and fails if any field is missing here, so a new field cannot reach a public page by
default — it is unclassified, and the suite is red, until someone decides.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class FieldClass(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    PERSONAL = "personal"
    SEALED = "sealed"


PUB, INT, PERS, SEAL = (
    FieldClass.PUBLIC,
    FieldClass.INTERNAL,
    FieldClass.PERSONAL,
    FieldClass.SEALED,
)

# Fields every Record has (solidarity.core.models.Record).
_RECORD = {"id": PUB, "section": INT, "is_public": INT, "created_at": INT, "updated_at": INT}
_TRANSLATED = ("en", "ru", "kk")


def _tr(base: str, cls: FieldClass = PUB) -> dict[str, FieldClass]:
    return {f"{base}_{lang}": cls for lang in _TRANSLATED}


CLASSIFICATION: dict[str, dict[str, FieldClass]] = {
    "core.Section": {"id": PUB, "slug": PUB, **_tr("name"), "kind": PUB, "country": PUB},
    "documentation.Source": {
        **_RECORD,
        "slug": PUB,
        "title": PUB,
        "author": PUB,
        "publisher": PUB,
        "kind": PUB,
        "published": PUB,
        "accessed": PUB,
        "url": PUB,
        "language": PUB,
        "internal_notes": INT,
    },
    "documentation.Citation": {
        "id": PUB,
        "content_type": PUB,
        "object_id": PUB,
        "source": PUB,
        "reliability": PUB,
        "quote": PUB,
        "locator": PUB,
    },
    "documentation.Place": {
        **_RECORD,
        "slug": PUB,
        **_tr("name"),
        "kind": PUB,
        "country_code": PUB,
        "parent": PUB,
    },
    "documentation.Organisation": {
        **_RECORD,
        "slug": PUB,
        **_tr("name"),
        "abbreviation": PUB,
        "kind": PUB,
        "founded": PUB,
        "dissolved": PUB,
        "country": PUB,
        "ideology": PUB,
        "political_position": PUB,
        "colours": PUB,
        "website": PUB,
        "newspaper": PUB,
        **_tr("summary"),
        "internal_notes": INT,
    },
    "documentation.OrganisationRelation": {
        **_RECORD,
        "organisation": PUB,
        "kind": PUB,
        "other": PUB,
        "start": PUB,
        "end": PUB,
    },
    "documentation.Person": {
        **_RECORD,
        "slug": PUB,
        "given_name": PUB,
        "patronymic": PUB,
        "family_name": PUB,
        # A birth year narrows down who someone is; staff use it to tell namesakes apart.
        "birth_year": INT,
        **_tr("occupation"),
        **_tr("summary"),
        "whereabouts": SEAL,
        "contact": PERS,
        "internal_notes": INT,
        # Random per-row identity that the ciphertexts above are bound to (safety.fields).
        "row_nonce": INT,
    },
    "documentation.PersonName": {
        "id": PUB,
        "person": PUB,
        "name": PUB,
        "language": PUB,
        "script": PUB,
        "kind": PUB,
        # Whether the form may be shown: the public layers read only forms where it is set.
        "is_public": INT,
    },
    "documentation.Membership": {
        **_RECORD,
        "person": PUB,
        "organisation": PUB,
        "role": PUB,
        "start": PUB,
        "end": PUB,
    },
    "documentation.Event": {
        **_RECORD,
        "slug": PUB,
        "type": PUB,
        **_tr("title"),
        **_tr("summary"),
        "date": PUB,
        "date_earliest": PUB,
        "date_latest": PUB,
        "place": PUB,
        "place_detail": PUB,
        "part_of": PUB,
        "internal_notes": INT,
    },
    "documentation.Act": {
        "id": PUB,
        "event": PUB,
        "type": PUB,
        "victim": PUB,
        "victim_description": PUB,
        "date": PUB,
    },
    "documentation.Involvement": {
        "id": PUB,
        "act": PUB,
        "perpetrator": PUB,
        "perpetrator_organisation": PUB,
        "perpetrator_description": PUB,
        "degree": PUB,
    },
    "documentation.Participation": {
        "id": PUB,
        "event": PUB,
        "person": PUB,
        "organisation": PUB,
        "role": PUB,
    },
    "documentation.PaceCriterion": {"id": PUB, "code": PUB, **_tr("label")},
    "documentation.DetentionFacility": {
        **_RECORD,
        "slug": PUB,
        **_tr("name"),
        "place": PUB,
        "postal_address": PUB,
    },
    "documentation.Prosecution": {
        **_RECORD,
        "person": PUB,
        "charge": PUB,
        "code_article": PUB,
        "court": PUB,
        "opened": PUB,
        "verdict_date": PUB,
        "outcome": PUB,
        "sentence": PUB,
        "appeal": PUB,
        "event": PUB,
    },
    "documentation.Detention": {
        **_RECORD,
        "person": PUB,
        "facility": PUB,
        "start": PUB,
        "end": PUB,
        "correspondence": PUB,
        "correspondence_notes": INT,
    },
    "documentation.Recognition": {
        **_RECORD,
        "person": PUB,
        "recognised_by": PUB,
        "date": PUB,
        "criteria": PUB,
        "reasons": PUB,
    },
    # Never public, so nothing of it is PUB but its id: no publication flag, no public reader.
    "documentation.Testimony": {
        "id": PUB,
        "section": INT,
        "reference": INT,
        "person": INT,
        "event": INT,
        "given_on": INT,
        "witness": SEAL,
        "account": SEAL,
        "row_nonce": INT,
        "created_at": INT,
        "updated_at": INT,
    },
    # Internal whether or not its source is public (this first version publishes no file):
    # a photo or a scan can show what its caption does not. Served only in the back office.
    "documentation.SourceFile": {
        "id": PUB,
        "section": INT,
        "source": INT,
        "file": INT,
        "media_type": INT,
        "caption": INT,
        "uploaded_by": INT,
        "uploaded_at": INT,
    },
    # -- campaigns: supporters' contacts are personal, consents and tokens internal --------
    "campaigns.Campaign": {
        **_RECORD,
        "slug": PUB,
        **_tr("title"),
        **_tr("summary"),
        "organiser": PUB,
        "hide_organiser": INT,
        "started": PUB,
        "ended": PUB,
    },
    "campaigns.Demand": {
        "id": PUB,
        "campaign": PUB,
        "kind": PUB,
        "person": PUB,
        "address": PUB,
        **_tr("text"),
        "demanded_on": PUB,
        "state": PUB,
    },
    "campaigns.Outcome": {
        "id": PUB,
        "demand": PUB,
        "state": PUB,
        "event": PUB,
        "date": PUB,
        "note": INT,
        "recorded_at": INT,
        "recorded_by": INT,
    },
    "campaigns.Target": {
        **_RECORD,
        "kind": PUB,
        "name": PUB,
        "holder": PUB,
        "country": PUB,
        "city": PUB,
        "postal_address": PUB,
        # An official's or embassy's published address, not a supporter's.
        "email": PUB,
        "salutation": PUB,
        "language": PUB,
        "internal_notes": INT,
    },
    "campaigns.Supporter": {
        "id": INT,
        # Stored encrypted; its keyed index is personal too (it confirms a guessed address
        # to whoever holds the server secret).
        "email": PERS,
        "email_index": PERS,
        "row_nonce": INT,
        "name": PERS,
        "country": PERS,
        "language": INT,
        "created_at": INT,
        "unsubscribed_at": INT,
    },
    "campaigns.UrgentAction": {
        **_RECORD,
        "campaign": PUB,
        "number": PUB,
        "slug": PUB,
        "person": PUB,
        "issued_on": PUB,
        "deadline": PUB,
        "status": PUB,
        **_tr("title"),
        **_tr("what_happened"),
        **_tr("recommended_points"),
        "targets": PUB,
    },
    "campaigns.UrgentActionUpdate": {
        "id": PUB,
        "urgent_action": PUB,
        "date": PUB,
        **_tr("text"),
        "is_closure": PUB,
        "created_at": INT,
        "sent_at": INT,
        "recipients": INT,
    },
    "campaigns.LetterReport": {
        "id": INT,
        "urgent_action": INT,
        "target": INT,
        # Letter counts are published as totals on the urgent action's page.
        "letters": PUB,
        "supporter": PERS,
        "contact_consent": INT,
        "processing_consent": INT,
        "created_at": INT,
        "erased": INT,
    },
    "campaigns.ActionSeries": {
        **_RECORD,
        "campaign": PUB,
        "slug": PUB,
        **_tr("title"),
        **_tr("summary"),
    },
    "campaigns.Action": {
        **_RECORD,
        "campaign": PUB,
        "series": PUB,
        "kind": PUB,
        **_tr("title"),
        "place": PUB,
        "address": PUB,
        "starts_at": PUB,
        "ends_at": PUB,
        "status": PUB,
        "participants": PUB,
    },
    "campaigns.Rsvp": {
        "id": INT,
        "action": INT,
        "supporter": PERS,
        "email_index": PERS,
        "processing_consent": INT,
        "created_at": INT,
        "erased": INT,
    },
    "campaigns.Petition": {
        **_RECORD,
        "campaign": PUB,
        "slug": PUB,
        **_tr("title"),
        **_tr("text"),
        "target": PUB,
        "goal": PUB,
        "hide_count": INT,
        "accepting": PUB,
    },
    "campaigns.Signature": {
        "id": INT,
        "petition": INT,
        "supporter": PERS,
        "email_index": PERS,
        "row_nonce": INT,
        "comment": PERS,
        # Filled only when the signer agreed to be named publicly, and wiped on erasure.
        "public_name": PUB,
        "public_name_consent": INT,
        "contact_consent": INT,
        "processing_consent": INT,
        "status": INT,
        "token_nonce": INT,
        "token_hash": INT,
        "created_at": INT,
        "confirmed_at": INT,
        "erased": INT,
    },
    "campaigns.SignatureIntake": {
        "id": INT,
        "petition": INT,
        "row_nonce": INT,
        # Everything the supporter typed (address, name, country, comment), encrypted.
        "details": PERS,
        "email_index": PERS,
        "language": INT,
        "base_url": INT,
        "received_at": INT,
        "attempts": INT,
        "failure": INT,
        "failed_at": INT,
    },
    "campaigns.ExportLog": {
        "id": INT,
        "petition": INT,
        "user": INT,
        "created_at": INT,
        "rows": INT,
    },
    "campaigns.ErasureLog": {
        "id": INT,
        "user": INT,
        "created_at": INT,
        "supporters": INT,
        "signatures": INT,
        "letter_reports": INT,
        "rsvps": INT,
    },
    # Tags say something about people: the section's internal business; who carries one is
    # personal, like the supporter themselves.
    "campaigns.Tag": {"id": INT, "section": INT, "name": INT, "created_at": INT},
    "campaigns.Tagging": {"id": INT, "tag": INT, "supporter": PERS, "created_at": INT},
    # -- publishing: the newspaper is published as a whole; editors' notes stay internal -----
    "publishing.Topic": {"id": PUB, "slug": PUB, **_tr("name")},
    # A byline is the printed name (often a pseudonym); the real author is never stored.
    "publishing.Byline": {"id": PUB, "slug": PUB, "name": PUB, **_tr("bio")},
    "publishing.Issue": {
        **_RECORD,
        "slug": PUB,
        "number": PUB,
        "year": PUB,
        **_tr("title"),
        "published": PUB,
        "internal_notes": INT,
    },
    "publishing.Article": {
        **_RECORD,
        "uuid": PUB,
        "slug": PUB,
        "language": PUB,
        "translation_group": PUB,
        "title": PUB,
        "standfirst": PUB,
        "body": PUB,
        # The body as HTML is as public as the body; its stamp (renderer digest and MAC) is the
        # application's bookkeeping, read to decide whether to serve it and never shown.
        "body_html": PUB,
        "body_html_stamp": INT,
        "byline": PUB,
        "issue": PUB,
        "topics": PUB,
        "publish_at": PUB,
        "people": PUB,
        "events": PUB,
        "internal_notes": INT,
    },
    "publishing.ArticleImage": {
        "id": PUB,
        "article": PUB,
        "image": PUB,
        "caption": PUB,
        "credit": PUB,
        "alt_text": PUB,
        "position": PUB,
    },
    "publishing.ArticleCampaign": {
        "id": PUB,
        "article": PUB,
        "content_type": PUB,
        "object_id": PUB,
    },
    # -- audit: who did what when is itself sensitive metadata (threat model, system tier) --
    "audit.AuditEntry": {
        "id": INT,
        "seq": INT,
        "timestamp": INT,
        "actor": INT,
        "action": INT,
        "model": INT,
        "object_pk": INT,
        "fields": INT,
        "values": INT,
        "prev_hash": INT,
        "hash": INT,
    },
    # -- safety: roles are internal; wrapped keys are ciphertext of sealed data's keys --------
    "safety.Role": {"id": INT, "user": INT, "section": INT, "role": INT, "granted_at": INT},
    "safety.UserKey": {
        "id": INT,
        "user": INT,
        "public_key": INT,
        # Opens sealed data with the user's password: sealed, though encrypted.
        "encrypted_private_key": SEAL,
        "salt": INT,
        "opslimit": INT,
        "memlimit": INT,
        "needs_rewrap": INT,
        "created_at": INT,
        "updated_at": INT,
    },
    "safety.SealedKey": {
        "id": INT,
        "content_type": INT,
        "object_id": INT,
        "field_name": INT,
        "user": INT,
        "wrapped_key": SEAL,
        "created_at": INT,
    },
    # A section's offline recovery key: only its public half is here (safety/recovery.py).
    "safety.SectionRecoveryKey": {
        "id": INT,
        "section": INT,
        "public_key": INT,
        "fingerprint": INT,
        "created_at": INT,
        "created_by": INT,
    },
    "safety.RecoveryWrappedKey": {
        "id": INT,
        "content_type": INT,
        "object_id": INT,
        "field_name": INT,
        "recovery_key": INT,
        "wrapped_key": SEAL,
        "created_at": INT,
    },
    # -- api: tokens are internal; only a hash of each secret is stored ------------------------
    "api.ApiToken": {
        "id": INT,
        "user": INT,
        "name": INT,
        "scopes": INT,
        "prefix": INT,
        "key_hash": INT,
        "created": INT,
        "last_used": INT,
        "revoked": INT,
    },
    # -- accounts: failed logins, kept 15 minutes; the key is an HMAC of a username or address -
    "accounts.LoginFailure": {"id": INT, "scope": INT, "key": PERS, "at": INT},
    # The session store: SHA-256 of each session key (accounts/session_store.py), and the
    # session's contents, which are internal (the sealed unlock key is encrypted under a cookie).
    "accounts.HashedSession": {"session_key": INT, "session_data": INT, "expire_date": INT},
    # Who is logged in where: shown to the user and administrators only; no IP, no session key.
    "accounts.SignedInSession": {
        "id": INT,
        "user": INT,
        "public_id": INT,
        "started_at": INT,
        "seen_at": INT,
        "device": PERS,
        "factor": INT,
    },
    # An authenticator app's secret is a second factor: encrypted with the keyring (M6).
    "accounts.AppDevice": {
        "id": INT,
        "user": INT,
        "name": INT,
        "confirmed": INT,
        "throttling_failure_timestamp": INT,
        "throttling_failure_count": INT,
        "created_at": INT,
        "last_used_at": INT,
        "key": PERS,
        "step": INT,
        "t0": INT,
        "digits": INT,
        "tolerance": INT,
        "drift": INT,
        "last_t": INT,
        "row_nonce": INT,
    },
    # A security key: only its public key is stored, which signs nothing (accounts/webauthn.py).
    "accounts.WebAuthnCredential": {
        "id": INT,
        "user": INT,
        "name": INT,
        "confirmed": INT,
        "created_at": INT,
        "last_used_at": INT,
        "credential_id": INT,
        "public_key": INT,
        "sign_count": INT,
        "transports": INT,
    },
    # A password set by an administrator that must be replaced at the next login: who, since when.
    "accounts.PasswordToReplace": {"user": INT, "at": INT},
    # -- search: the name index is derived from public and private records alike, so it is
    # internal as a whole; the public search reads only rows whose `published` flag is set.
    "search.NameKey": {
        "id": INT,
        "key": INT,
        "target": INT,
        "person": INT,
        "organisation": INT,
        "place": INT,
        "event": INT,
        "name": INT,
        "published": INT,
        "keys_version": INT,
    },
    # A merge keeps the removed person's record to restore it: internal like the record.
    "search.MergeRecord": {
        "id": INT,
        "kept": INT,
        "removed_id": INT,
        "removed_name": INT,
        "removed": INT,
        "moved": INT,
        "deleted": INT,
        "created": INT,
        "filled": INT,
        "reason": INT,
        "merged_by": INT,
        "merged_at": INT,
        "unmerged_by": INT,
        "unmerged_at": INT,
    },
}


def _key(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.object_name}"


def field_class(model: type[models.Model], field_name: str) -> FieldClass:
    """The class of one field; KeyError if it was never classed (a test forbids that)."""
    return CLASSIFICATION[_key(model)][field_name]


def public_fields(model: type[models.Model]) -> list[str]:
    """Names of the fields of `model` that may be published, in declaration order."""
    classes = CLASSIFICATION[_key(model)]
    return [
        f.name
        for f in model._meta.get_fields()
        if not f.auto_created or f.name == "id"
        if classes.get(f.name) is FieldClass.PUBLIC
    ]


def fields_of_class(model: type[models.Model], *wanted: FieldClass) -> list[str]:
    return [name for name, cls in CLASSIFICATION[_key(model)].items() if cls in wanted]
