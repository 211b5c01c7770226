"""Supporters' e-mail addresses are encrypted, and found by a keyed index instead of a SHA-256.

Threat (model A1): a copy of the database held every address in plaintext, and beside it an
unkeyed SHA-256 that answers "did this address sign?" for any guessed address. Each existing
address is encrypted in place under the keyring's current key, bound to a fresh per-row nonce,
and its SHA-256 replaced by the keyed `blind_index` in Supporter, Signature and Rsvp. Signatures
and replies keep the index of the supporter row they were made with; erased ones have none.

An empty database migrates without touching the keyring. Reversing decrypts the addresses and
recomputes the SHA-256 (it needs the same keyring); an index whose supporter row is gone cannot
be turned back into a digest and becomes empty, which only lets that address sign again.
"""

import hashlib
import uuid

from django.db import migrations, models

import solidarity.safety.fields

PURPOSE = "supporter-email"  # campaigns.models.EMAIL_INDEX_PURPOSE, frozen here


def _normalise(email):
    return str(email).strip().lower()


def _aad(nonce):
    from solidarity.safety.crypto import associated_data

    return associated_data("campaigns.Supporter", "email", str(nonce))


def encrypt_addresses(apps, schema_editor):
    Supporter = apps.get_model("campaigns", "Supporter")
    rows = list(Supporter.objects.order_by("pk").values_list("pk", "email"))
    if not rows:
        return
    from solidarity.safety.crypto import blind_index, encrypt_personal

    index_of = {}
    for pk, email in rows:
        address = _normalise(email)
        nonce = uuid.uuid4()
        index_of[pk] = blind_index(address, PURPOSE)
        Supporter.objects.filter(pk=pk).update(
            row_nonce=nonce,
            email=encrypt_personal(address, _aad(nonce)),
            email_index=index_of[pk],
            email_hash="",
        )
    for name in ("Signature", "Rsvp"):
        model = apps.get_model("campaigns", name)
        pending = model.objects.exclude(email_hash=None).values_list("pk", "supporter_id")
        for pk, supporter_id in list(pending):
            model.objects.filter(pk=pk).update(
                email_index=index_of.get(supporter_id), email_hash=None
            )


def decrypt_addresses(apps, schema_editor):
    Supporter = apps.get_model("campaigns", "Supporter")
    rows = list(Supporter.objects.order_by("pk").values_list("pk", "email", "row_nonce"))
    if not rows:
        return
    from solidarity.safety.crypto import decrypt_personal

    digest_of = {}
    for pk, stored, nonce in rows:
        address = decrypt_personal(str(stored), _aad(nonce))
        digest_of[pk] = hashlib.sha256(address.encode()).hexdigest()
        Supporter.objects.filter(pk=pk).update(email=address, email_hash=digest_of[pk])
    for name in ("Signature", "Rsvp"):
        model = apps.get_model("campaigns", name)
        indexed = model.objects.exclude(email_index=None).values_list("pk", "supporter_id")
        for pk, supporter_id in list(indexed):
            model.objects.filter(pk=pk).update(email_hash=digest_of.get(supporter_id))


def _then_check_constraints(function):
    """Run a data step, then check its deferred foreign keys at once: PostgreSQL refuses the
    ALTER TABLE that follows in this migration while a table has pending trigger events."""

    def step(apps, schema_editor):
        function(apps, schema_editor)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    return step


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="signature", name="signature_once_per_email"),
        migrations.RemoveConstraint(model_name="rsvp", name="rsvp_once_per_email"),
        migrations.AddField(
            model_name="supporter",
            name="row_nonce",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.AddField(
            model_name="supporter",
            name="email_index",
            field=models.CharField(db_index=True, default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="supporter",
            name="unsubscribed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="signature",
            name="email_index",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="rsvp",
            name="email_index",
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="supporter",
            name="email",
            field=solidarity.safety.fields.EncryptedTextField(),
        ),
        migrations.RunPython(
            _then_check_constraints(encrypt_addresses), _then_check_constraints(decrypt_addresses)
        ),
        # A default, so that reversing the removal can put the column back on existing rows.
        migrations.AlterField(
            model_name="supporter",
            name="email_hash",
            field=models.CharField(db_index=True, default="", editable=False, max_length=64),
        ),
        migrations.RemoveField(model_name="supporter", name="email_hash"),
        migrations.RemoveField(model_name="signature", name="email_hash"),
        migrations.RemoveField(model_name="rsvp", name="email_hash"),
        migrations.AlterField(
            model_name="supporter",
            name="row_nonce",
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.UniqueConstraint(
                fields=("petition", "email_index"), name="signature_once_per_email"
            ),
        ),
        migrations.AddConstraint(
            model_name="rsvp",
            constraint=models.UniqueConstraint(
                fields=("action", "email_index"), name="rsvp_once_per_email"
            ),
        ),
    ]
