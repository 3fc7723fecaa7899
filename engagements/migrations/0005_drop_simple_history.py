"""One audit trail: django-simple-history's tables go; what admins changed is copied into the
audit trail (portal.AuditEntry) first, in the shape the services write. The seed's baseline rows
are not copied (the seed is SPEC §2-3, not somebody's change)."""

from django.db import migrations

SEED_REASON = "Seeded from SPEC §2-3"
NOT_COPIED = {
    "id",
    "history_id",
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user",
}
TYPES = {"+": "create", "~": "update", "-": "delete"}


def _plain(value):
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _values(record):
    return {
        field.name: _plain(getattr(record, field.attname))
        for field in record._meta.concrete_fields
        if field.name not in NOT_COPIED
    }


def _entry(AuditEntry, record, action, object_type, object_id, before, after, organization_id):
    return AuditEntry(
        actor_id=record.history_user_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        organization_id=organization_id,
        before=before,
        after=after,
        at=record.history_date,
    )


def copy_history(apps, schema_editor):
    AuditEntry = apps.get_model("portal", "AuditEntry")
    AuditEntry._meta.get_field("at").auto_now_add = False  # keep each change's own time
    # Every engagement has history rows (the model had history from 0001); plain managers here.
    organizations = dict(
        apps.get_model("engagements", "HistoricalEngagement").objects.values_list(
            "id", "organization_id"
        )
    )
    # Function codes: the functions of now, and of history for those since deleted.
    codes = dict(
        apps.get_model("engagements", "HistoricalServiceFunction").objects.values_list("id", "code")
    )
    codes.update(apps.get_model("engagements", "ServiceFunction").objects.values_list("id", "code"))
    entries = []
    for model, prefix in (
        ("Plan", "plan"),
        ("ServiceFunction", "service_function"),
        ("Engagement", "engagement"),
        ("CustomerProfile", "customer_profile"),
        ("Absence", "absence"),
        ("Entitlement", None),
        ("Cadence", None),
        ("EngagementHoliday", None),
    ):
        historical = apps.get_model("engagements", f"Historical{model}")
        previous = {}
        for record in historical.objects.order_by("history_date", "history_id"):
            values = _values(record)
            older = previous.get(record.id)
            previous[record.id] = values
            if record.history_change_reason == SEED_REASON:
                continue
            change = record.history_type
            if model == "Entitlement":
                code = codes.get(record.function_id, str(record.function_id))
                cell = {"entitlements": [code]}
                nothing = {"entitlements": []}
                entries.append(
                    _entry(
                        AuditEntry,
                        record,
                        "plan.entitlements",
                        "engagements.plan",
                        record.plan_id,
                        cell if change == "-" else nothing,
                        nothing if change == "-" else cell,
                        None,
                    )
                )
            elif model == "Cadence":
                state = {
                    "deliverable": codes.get(record.deliverable_id),
                    "methods": record.methods,
                    "frequency": record.frequency,
                }
                before = (
                    None
                    if change == "+"
                    else (
                        state
                        if change == "-" or older is None
                        else {
                            "deliverable": state["deliverable"],
                            "methods": older["methods"],
                            "frequency": older["frequency"],
                        }
                    )
                )
                entries.append(
                    _entry(
                        AuditEntry,
                        record,
                        "plan.cadence",
                        "engagements.plan",
                        record.plan_id,
                        before,
                        None if change == "-" else state,
                        None,
                    )
                )
            elif model == "EngagementHoliday":
                day = {"date": str(record.date), "name": record.name}
                entries.append(
                    _entry(
                        AuditEntry,
                        record,
                        "engagement.holiday_remove" if change == "-" else "engagement.holiday_add",
                        "engagements.engagement",
                        record.engagement_id,
                        day if change == "-" else None,
                        None if change == "-" else day,
                        organizations.get(record.engagement_id),
                    )
                )
            else:
                organization = None
                if model == "Engagement":
                    organization = values.get("organization")
                elif model == "CustomerProfile":
                    organization = organizations.get(record.engagement_id)
                action = f"{prefix}.{TYPES[change]}"
                if model == "CustomerProfile":
                    action = "customer_profile.update"
                entries.append(
                    _entry(
                        AuditEntry,
                        record,
                        action,
                        f"engagements.{model.lower()}",
                        record.id,
                        older if change != "+" else None,
                        values if change != "-" else None,
                        organization,
                    )
                )
    AuditEntry.objects.bulk_create(entries, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0004_customerprofile_historicalcustomerprofile_and_more"),
        ("portal", "0004_audit_organization_index"),
    ]

    operations = [
        migrations.RunPython(copy_history, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="historicalcadence",
            name="deliverable",
        ),
        migrations.RemoveField(
            model_name="historicalcadence",
            name="history_user",
        ),
        migrations.RemoveField(
            model_name="historicalcadence",
            name="plan",
        ),
        migrations.RemoveField(
            model_name="historicalcustomerprofile",
            name="engagement",
        ),
        migrations.RemoveField(
            model_name="historicalcustomerprofile",
            name="history_user",
        ),
        migrations.RemoveField(
            model_name="historicalcustomerprofile",
            name="updated_by",
        ),
        migrations.RemoveField(
            model_name="historicalengagement",
            name="deputy",
        ),
        migrations.RemoveField(
            model_name="historicalengagement",
            name="history_user",
        ),
        migrations.RemoveField(
            model_name="historicalengagement",
            name="manager",
        ),
        migrations.RemoveField(
            model_name="historicalengagement",
            name="organization",
        ),
        migrations.RemoveField(
            model_name="historicalengagement",
            name="plan",
        ),
        migrations.RemoveField(
            model_name="historicalengagementholiday",
            name="engagement",
        ),
        migrations.RemoveField(
            model_name="historicalengagementholiday",
            name="history_user",
        ),
        migrations.RemoveField(
            model_name="historicalentitlement",
            name="function",
        ),
        migrations.RemoveField(
            model_name="historicalentitlement",
            name="history_user",
        ),
        migrations.RemoveField(
            model_name="historicalentitlement",
            name="plan",
        ),
        migrations.RemoveField(
            model_name="historicalplan",
            name="history_user",
        ),
        migrations.RemoveField(
            model_name="historicalservicefunction",
            name="history_user",
        ),
        migrations.DeleteModel(
            name="HistoricalAbsence",
        ),
        migrations.DeleteModel(
            name="HistoricalCadence",
        ),
        migrations.DeleteModel(
            name="HistoricalCustomerProfile",
        ),
        migrations.DeleteModel(
            name="HistoricalEngagement",
        ),
        migrations.DeleteModel(
            name="HistoricalEngagementHoliday",
        ),
        migrations.DeleteModel(
            name="HistoricalEntitlement",
        ),
        migrations.DeleteModel(
            name="HistoricalPlan",
        ),
        migrations.DeleteModel(
            name="HistoricalServiceFunction",
        ),
    ]
