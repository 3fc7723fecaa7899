"""Tenancy escape hatches are named: every query past TenantManager goes through
`portal.tenancy.scoping` (`unscoped`, `unscoped_raw`, `raw_sql`), which takes a reason."""

import logging
import re
from pathlib import Path

import pytest

from cases.casework.models import Case
from portal.tenancy.scoping import raw_sql, unscoped, unscoped_raw

ROOT = Path(__file__).resolve().parents[2]
APPS = ("portal", "engagements", "cases", "reviews")
# The helpers themselves; portal/db.py holds the vendor statements (which use `raw_sql`).
ALLOWED = {Path("portal/tenancy/scoping.py"), Path("portal/db.py")}
HATCH = re.compile(r"_base_manager|\.raw\(|\bcursor\(")


def _app_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts or "tests" in relative.parts:
                continue
            yield relative


def hatches_in(text: str) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if HATCH.search(line)
    ]


def test_the_pattern_sees_each_kind_of_hatch():
    found = hatches_in(
        "Case._base_manager.all()\n"
        "Engagement.objects.raw(sql)\n"
        "with connection.cursor() as c:\n"
        "with connection.connection.cursor() as c:\n"
        "raise self.invalid_cursor()\n"
        "unscoped(Case, 'why')\n"
    )
    assert [number for number, _ in found] == [1, 2, 3, 4]


def test_no_unscoped_query_outside_the_named_helpers():
    places = [
        f"{path}:{number}: {line}"
        for path in _app_modules()
        if path not in ALLOWED
        for number, line in hatches_in((ROOT / path).read_text(encoding="utf-8"))
    ]
    assert not places, (
        "Query past tenant scoping without a reason; use portal.tenancy.scoping.unscoped(Model, "
        "why), unscoped_raw(...) or raw_sql(why):\n" + "\n".join(places)
    )


@pytest.mark.parametrize("why", ["", "   ", None])
def test_every_hatch_needs_a_reason(why):
    with pytest.raises(ValueError, match="reason"):
        unscoped(Case, why)
    with pytest.raises(ValueError, match="reason"):
        unscoped_raw(Case, "SELECT 1", [], why)
    with pytest.raises(ValueError, match="reason"), raw_sql(why):
        pass


@pytest.mark.django_db
@pytest.mark.no_system_scope
def test_unscoped_runs_with_no_scope_open_and_logs_why(caplog):
    with caplog.at_level(logging.DEBUG, logger="portal.tenancy.scoping"):
        assert unscoped(Case, "counting for a test").count() == 0
        with raw_sql("a test statement") as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    assert "unscoped(Case): counting for a test" in caplog.text
    assert "raw_sql: a test statement" in caplog.text


def test_rows_belonging_to_a_tenant_are_tenant_owned():
    """A model whose rows hang off a tenant-owned row is tenant-owned itself, so its manager
    scopes it. simple-history's Historical* records are the audit trail's (issue 12)."""
    from django.apps import apps

    from portal.tenancy.scoping import TenantOwned

    loose = sorted(
        model._meta.label
        for model in apps.get_models()
        if not issubclass(model, TenantOwned)
        and not model.__name__.startswith("Historical")
        and any(
            field.concrete
            and (field.many_to_one or field.one_to_one)
            and issubclass(field.related_model, TenantOwned)
            for field in model._meta.get_fields()
            if field.is_relation and field.related_model is not None
        )
    )
    assert loose == []
