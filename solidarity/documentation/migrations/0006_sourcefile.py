# Files attached to sources (issue 4: uploads stripped of metadata). Written by hand with only
# this model's operation: the other pending changes of this app belong to their own migration.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import solidarity.documentation.models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
        ('documentation', '0005_testimony'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SourceFile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file', models.FileField(help_text='PDF, JPEG, PNG or WebP. Author, GPS position, device and other metadata are removed before the file is stored.', max_length=200, upload_to=solidarity.documentation.models._source_file_path, verbose_name='file')),
                ('media_type', models.CharField(choices=[('application/pdf', 'PDF'), ('image/jpeg', 'JPEG'), ('image/png', 'PNG'), ('image/webp', 'WebP')], editable=False, max_length=40, verbose_name='type')),
                ('caption', models.CharField(blank=True, max_length=500, verbose_name='caption')),
                ('uploaded_at', models.DateTimeField(auto_now_add=True, verbose_name='uploaded at')),
                ('section', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.section', verbose_name='section')),
                ('source', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='files', to='documentation.source', verbose_name='source')),
                ('uploaded_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='uploaded by')),
            ],
            options={
                'verbose_name': 'source file',
                'verbose_name_plural': 'source files',
                'ordering': ['source', 'uploaded_at', 'id'],
            },
        ),
    ]
