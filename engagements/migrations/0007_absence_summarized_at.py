"""Absences get `summarized_at`: when the manager was told what happened while away. Absences
that ended before this release count as told, so deploying sends no summary of old absences."""

from django.db import migrations, models
from django.utils import timezone


def _past_absences_are_told(apps, schema_editor):
    Absence = apps.get_model("engagements", "Absence")
    now = timezone.now()
    Absence.objects.filter(ends_at__lte=now).update(summarized_at=now)


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0006_membership_role_follows_contacts"),
    ]

    operations = [
        migrations.AddField(
            model_name="absence",
            name="summarized_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="summary sent"
            ),
        ),
        migrations.AddIndex(
            model_name="absence",
            index=models.Index(
                condition=models.Q(("summarized_at__isnull", True)),
                fields=["ends_at"],
                name="absence_unsummarized",
            ),
        ),
        migrations.RunPython(_past_absences_are_told, migrations.RunPython.noop),
    ]
