"""Person.contact becomes encrypted (personal), Person.whereabouts sealed to coordinators.

Existing contact details are encrypted in place with the keyring key. Existing whereabouts
cannot be sealed here: sealing needs the public keys of the section's coordinators, which do not
exist before this migration. The seed loader never wrote any, so the migration refuses to run
if one is found rather than keep it in plaintext or drop it.
"""

import uuid

from django.db import migrations, models

import solidarity.safety.fields


def encrypt_contacts(apps, schema_editor):
    from solidarity.safety.crypto import associated_data, encrypt_personal

    Person = apps.get_model("documentation", "Person")
    plaintext_whereabouts = Person.objects.exclude(whereabouts="").values_list("slug", flat=True)
    if plaintext_whereabouts:
        raise RuntimeError(
            "These people have whereabouts stored in plaintext: "
            + ", ".join(plaintext_whereabouts)
            + ". Copy them to a safe place off this server, empty the field, run the migration, "
            "set up a coordinator's key (solidarity keys setup USERNAME) and enter them again in "
            "the back office, where they are sealed."
        )
    for person in Person.objects.all():
        person.row_nonce = uuid.uuid4()
        if person.contact:
            aad = associated_data("documentation.Person", "contact", str(person.row_nonce))
            person.contact = encrypt_personal(person.contact, aad)
        person.save(update_fields=["row_nonce", "contact"])


def decrypt_contacts(apps, schema_editor):
    from solidarity.safety.crypto import associated_data, decrypt_personal

    Person = apps.get_model("documentation", "Person")
    if Person.objects.exclude(whereabouts="").exists():
        raise RuntimeError("Sealed whereabouts cannot be turned back into plaintext here.")
    for person in Person.objects.exclude(contact=""):
        aad = associated_data("documentation.Person", "contact", str(person.row_nonce))
        person.contact = decrypt_personal(person.contact, aad)
        person.save(update_fields=["contact"])


class Migration(migrations.Migration):
    dependencies = [
        ("documentation", "0003_event_order_by_latest_date"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="row_nonce",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(encrypt_contacts, decrypt_contacts),
        migrations.AlterField(
            model_name="person",
            name="row_nonce",
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AlterField(
            model_name="person",
            name="contact",
            field=solidarity.safety.fields.EncryptedTextField(
                blank=True, verbose_name="contact details"
            ),
        ),
        migrations.AlterField(
            model_name="person",
            name="whereabouts",
            field=solidarity.safety.fields.SealedTextField(blank=True, verbose_name="whereabouts"),
        ),
    ]
