"""Testimony: a witness's identity and account, sealed to the section's coordinators."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

import solidarity.core.fields
import solidarity.safety.fields


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("documentation", "0004_person_encrypted_fields"),
    ]

    operations = [
        migrations.CreateModel(
            name="Testimony",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reference",
                    models.CharField(
                        help_text=(
                            "A neutral name for lists, such as “T-2012-03”; never the witness's "
                            "name."
                        ),
                        max_length=200,
                        verbose_name="reference",
                    ),
                ),
                (
                    "given_on",
                    solidarity.core.fields.PartialDateField(
                        blank=True,
                        help_text=(
                            "E.g. 2011-12-16, 2012-06, 2002, c. 2002, June 2012, 2011/2012, "
                            "before 2012-03-05"
                        ),
                        max_length=32,
                        verbose_name="given on",
                    ),
                ),
                (
                    "witness",
                    solidarity.safety.fields.SealedTextField(blank=True, verbose_name="witness"),
                ),
                (
                    "account",
                    solidarity.safety.fields.SealedTextField(blank=True, verbose_name="account"),
                ),
                (
                    "row_nonce",
                    models.UUIDField(default=uuid.uuid4, editable=False, verbose_name="row identity"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                (
                    "event",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="testimonies",
                        to="documentation.event",
                        verbose_name="event",
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="testimonies",
                        to="documentation.person",
                        verbose_name="person concerned",
                    ),
                ),
                (
                    "section",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="core.section",
                        verbose_name="section",
                    ),
                ),
            ],
            options={
                "verbose_name": "testimony",
                "verbose_name_plural": "testimonies",
                "ordering": ["-created_at"],
            },
        ),
    ]
