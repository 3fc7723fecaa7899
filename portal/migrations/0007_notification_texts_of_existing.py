"""Notifications sent before texts were kept per language: record the one language their text
is in (their e-mail's, else the recipient's), so the list shows it as it was sent and a later
reader in another language sees that text rather than nothing."""

from django.db import migrations

BATCH = 500


def record_language(apps, schema_editor):
    Notification = apps.get_model("portal", "Notification")
    OutboxEmail = apps.get_model("portal", "OutboxEmail")
    email_language = dict(
        OutboxEmail.objects.filter(notification__isnull=False).values_list(
            "notification_id", "language"
        )
    )
    pending = []
    for notification in (
        Notification.objects.select_related("user").order_by("pk").iterator()
    ):
        language = email_language.get(notification.pk) or notification.user.language or "en"
        notification.texts = {language.split("-")[0]: [notification.title, notification.body]}
        pending.append(notification)
        if len(pending) >= BATCH:
            Notification.objects.bulk_update(pending, ["texts"])
            pending = []
    if pending:
        Notification.objects.bulk_update(pending, ["texts"])


class Migration(migrations.Migration):
    dependencies = [("portal", "0006_notification_texts")]
    operations = [migrations.RunPython(record_language, migrations.RunPython.noop)]
