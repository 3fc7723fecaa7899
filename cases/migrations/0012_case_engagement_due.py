from django.db import migrations, models


class Migration(migrations.Migration):
    """SLA attainment per engagement over a window (the weekly board's health) by index only."""

    dependencies = [
        ("cases", "0011_case_home_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["engagement", "response_due_at"],
                include=["first_response_at"],
                name="case_engagement_due",
            ),
        ),
    ]
