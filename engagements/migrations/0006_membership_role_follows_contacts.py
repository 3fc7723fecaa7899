"""A point of contact is a named contact: each membership's role is made to follow the person's
active contact entries on the organization's engagements (poc while they hold one, member
otherwise), so the organization page and the engagements' contact lists agree from here on."""

from django.db import migrations
from django.db.models import Exists, OuterRef


def follow_contacts(apps, schema_editor):
    Membership = apps.get_model("tenancy", "Membership")
    Contact = apps.get_model("engagements", "Contact")
    holds = Exists(
        Contact.objects.filter(
            engagement__organization_id=OuterRef("organization_id"),
            user_id=OuterRef("user_id"),
            removed_at__isnull=True,
        )
    )
    Membership.objects.annotate(holds=holds).filter(holds=True).exclude(role="poc").update(
        role="poc"
    )
    Membership.objects.annotate(holds=holds).filter(holds=False).exclude(role="member").update(
        role="member"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0005_drop_simple_history"),
        ("tenancy", "0003_membership_role_named_contact"),
    ]

    operations = [migrations.RunPython(follow_contacts, migrations.RunPython.noop)]
