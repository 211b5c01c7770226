"""Delete the wrapped keys of records deleted before their keys went with them.

Until now deleting a person or a testimony left its SealedKey rows behind: they open nothing
without the record's ciphertext, but say which records held sealed data, and for whom. From now
on they are deleted with the record (safety/fields.py); this removes those already left.
"""

from django.db import migrations


def drop_orphaned_keys(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    SealedKey = apps.get_model("safety", "SealedKey")
    for content_type_id in set(SealedKey.objects.values_list("content_type_id", flat=True)):
        content_type = ContentType.objects.get(pk=content_type_id)
        try:
            model = apps.get_model(content_type.app_label, content_type.model)
        except LookupError:
            continue  # unknown here: left alone rather than guessed at
        SealedKey.objects.filter(content_type_id=content_type_id).exclude(
            object_id__in=model._base_manager.values("pk")
        ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        # The models that hold sealed fields (Person.whereabouts, Testimony).
        ("documentation", "0009_web_address_validators"),
        ("safety", "0002_verbose_names"),
    ]

    operations = [
        migrations.RunPython(drop_orphaned_keys, migrations.RunPython.noop),
    ]
