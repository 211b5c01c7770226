"""Supporters' names and countries, and signatures' comments and public names, are encrypted.

Threat (model A1): after 0002 a copy of the database no longer showed who signed by address,
but still by name, country and comment. Each existing value is encrypted in place under the
keyring's current key, bound to its row: supporters already have a `row_nonce`; signatures get
one, a fresh random UUID per row (an AddField default would give every existing row the same).

An empty database migrates without touching the keyring. Reversing decrypts (with the same
keyring) and puts the plaintext back.
"""

import uuid

from django.db import migrations, models

import solidarity.safety.fields

ENCRYPTED = {"Supporter": ("name", "country"), "Signature": ("comment", "public_name")}


def _aad(model, field, nonce):
    from solidarity.safety.crypto import associated_data

    return associated_data(f"campaigns.{model}", field, str(nonce))


def encrypt_values(apps, schema_editor):
    Signature = apps.get_model("campaigns", "Signature")
    for pk in list(Signature.objects.filter(row_nonce=None).values_list("pk", flat=True)):
        Signature.objects.filter(pk=pk).update(row_nonce=uuid.uuid4())
    for name, fields in ENCRYPTED.items():
        model = apps.get_model("campaigns", name)
        rows = list(model.objects.order_by("pk").values_list("pk", "row_nonce", *fields))
        if not rows:
            continue
        from solidarity.safety.crypto import encrypt_personal

        for pk, nonce, *values in rows:
            model.objects.filter(pk=pk).update(
                **{
                    field: encrypt_personal(str(value), _aad(name, field, nonce)) if value else ""
                    for field, value in zip(fields, values, strict=True)
                }
            )


def decrypt_values(apps, schema_editor):
    for name, fields in ENCRYPTED.items():
        model = apps.get_model("campaigns", name)
        rows = list(model.objects.order_by("pk").values_list("pk", "row_nonce", *fields))
        if not rows:
            continue
        from solidarity.safety.crypto import decrypt_personal

        for pk, nonce, *values in rows:
            model.objects.filter(pk=pk).update(
                **{
                    field: decrypt_personal(str(value), _aad(name, field, nonce)) if value else ""
                    for field, value in zip(fields, values, strict=True)
                }
            )


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
        ("campaigns", "0005_tags"),
    ]

    operations = [
        migrations.AddField(
            model_name="signature",
            name="row_nonce",
            field=models.UUIDField(null=True, editable=False, verbose_name="row identity"),
        ),
        migrations.AlterField(
            model_name="signature",
            name="comment",
            field=solidarity.safety.fields.EncryptedTextField(blank=True, verbose_name="comment"),
        ),
        migrations.AlterField(
            model_name="signature",
            name="public_name",
            field=solidarity.safety.fields.EncryptedTextField(
                blank=True, verbose_name="public name"
            ),
        ),
        migrations.AlterField(
            model_name="supporter",
            name="country",
            field=solidarity.safety.fields.EncryptedTextField(blank=True, verbose_name="country"),
        ),
        migrations.AlterField(
            model_name="supporter",
            name="name",
            field=solidarity.safety.fields.EncryptedTextField(verbose_name="name"),
        ),
        migrations.RunPython(
            _then_check_constraints(encrypt_values), _then_check_constraints(decrypt_values)
        ),
        migrations.AlterField(
            model_name="signature",
            name="row_nonce",
            field=models.UUIDField(default=uuid.uuid4, editable=False, verbose_name="row identity"),
        ),
    ]
