"""Migration 0005 drops django-simple-history's tables; what admins changed is copied into the
audit trail first (who, when, before, after), the seed's baseline rows are not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from portal.audit import AuditEntry
from tests.factories import AdminFactory

BEFORE = ("engagements", "0004_customerprofile_historicalcustomerprofile_and_more")
AFTER = ("engagements", "0005_drop_simple_history")
SEED_REASON = "Seeded from SPEC §2-3"


def migrate(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


def migrate_to_latest() -> None:
    """Back to every app's latest migration: the tests after this one expect the whole schema."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_history_is_copied_into_the_audit_trail_before_its_tables_go():
    admin = AdminFactory()
    old = migrate(BEFORE)
    try:
        plan = old.get_model("engagements", "Plan").objects.get(code="standard")
        function = old.get_model("engagements", "ServiceFunction").objects.get(
            code="release_management"
        )
        HistoricalPlan = old.get_model("engagements", "HistoricalPlan")
        HistoricalEntitlement = old.get_model("engagements", "HistoricalEntitlement")
        seeded_at = timezone.now() - timedelta(days=30)
        changed_at = timezone.now() - timedelta(days=2)
        values = {
            field.attname: getattr(plan, field.attname) for field in plan._meta.concrete_fields
        }
        HistoricalPlan.objects.create(
            **values, history_date=seeded_at, history_type="+", history_change_reason=SEED_REASON
        )
        HistoricalPlan.objects.create(
            **(values | {"max_contacts": values["max_contacts"] + 2}),
            history_date=changed_at,
            history_type="~",
            history_user_id=admin.pk,
        )
        HistoricalEntitlement.objects.create(
            id=1,
            plan_id=plan.pk,
            function_id=function.pk,
            history_date=changed_at,
            history_type="-",
            history_user_id=admin.pk,
        )
    finally:
        migrate(AFTER)
        migrate_to_latest()

    entries = {entry.action: entry for entry in AuditEntry.objects.all()}
    assert set(entries) == {"plan.update", "plan.entitlements"}  # not the seed's "+"
    update = entries["plan.update"]
    assert (update.actor, update.at, update.object_type, update.object_id) == (
        admin,
        changed_at,
        "engagements.plan",
        str(plan.pk),
    )
    assert (update.before["max_contacts"], update.after["max_contacts"]) == (
        values["max_contacts"],
        values["max_contacts"] + 2,
    )
    removed = entries["plan.entitlements"]
    assert (removed.actor, removed.object_id) == (admin, str(plan.pk))
    assert (removed.before, removed.after) == (
        {"entitlements": ["release_management"]},
        {"entitlements": []},
    )
    with connection.cursor() as cursor:
        assert "engagements_historicalplan" not in connection.introspection.table_names(cursor)
