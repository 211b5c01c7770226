"""Backup codes are stored as keyed hashes (solidarity.accounts.factors.backup_code_digest).

Codes issued before are hashed in place, so they keep working. There is no way back: a hash
cannot be turned into the code again; going back, users ask for new backup codes.
"""

from django.db import migrations

HASHED_LENGTH = 16


def hash_codes(apps, schema_editor):
    from solidarity.safety.crypto import blind_index

    StaticToken = apps.get_model("otp_static", "StaticToken")
    for token in StaticToken.objects.all():
        if len(token.token) == HASHED_LENGTH:
            continue  # hashed already (a re-run after a partial failure)
        code = token.token.strip().replace(" ", "").replace("-", "").lower()
        token.token = blind_index(f"{token.device_id}:{code}", "backup-code")[:HASHED_LENGTH]
        token.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(hash_codes, migrations.RunPython.noop)]
