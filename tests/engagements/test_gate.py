"""The entitlement gate has one home (engagements/entitlements.py): its `FunctionCode` enum is
the seeded catalog, and app code names a service function only through it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from engagements.catalog.models import ServiceFunction
from engagements.entitlements import FunctionCode
from engagements.templatetags.engagements import entitled
from tests.factories import EngagementFactory, plan

ROOT = Path(__file__).resolve().parents[2]
APP_DIRS = ("engagements", "cases", "reviews", "portal")
GATE = Path("engagements/entitlements.py")
# Strings equal to a code that do not name the function, with the reason.
ALLOWED = {
    (Path("reviews/maintenance/api.py"), "maintenance"): "the OpenAPI tag of the windows API",
}


def code_literals(source: str) -> list[tuple[int, str]]:
    """(line, value) of every string constant in the source equal to a function code."""
    values = {code.value for code in FunctionCode}
    return [
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in values
    ]


def app_modules() -> list[Path]:
    return sorted(
        path.relative_to(ROOT)
        for folder in APP_DIRS
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


@pytest.mark.django_db
def test_function_codes_are_the_seeded_catalog():
    seeded = set(ServiceFunction.objects.values_list("code", flat=True))
    assert {code.value for code in FunctionCode} == seeded
    assert len(FunctionCode) == 15


def test_the_scan_finds_a_literal():
    source = 'require_entitlement(engagement, "risk_mitigation")\nx = "risk"\n'
    assert code_literals(source) == [(1, "risk_mitigation")]


def test_no_function_code_literal_outside_the_gate():
    modules = app_modules()
    assert GATE in modules and len(modules) > 100  # the walk sees the app code
    found = [
        f"{path}:{line}: {value!r}"
        for path in modules
        if path != GATE
        for line, value in code_literals((ROOT / path).read_text(encoding="utf-8"))
        if (path, value) not in ALLOWED
    ]
    assert found == [], "use engagements.entitlements.FunctionCode:\n" + "\n".join(found)


@pytest.mark.django_db
def test_template_filter_refuses_an_unknown_code():
    engagement = EngagementFactory(plan=plan("premium"))
    assert entitled(engagement, "risk_mitigation") is True
    with pytest.raises(ValueError):
        entitled(engagement, "risk_mitigaton")


@pytest.mark.django_db
def test_viewset_mixin_hides_or_refuses_rows_of_an_engagement_without_the_function(world):
    """Risks hide such a row (404, as before the gate had one home); maintenance windows name
    the function (403). Both leave it out of lists."""
    from cases.risks.models import Risk
    from reviews.maintenance.models import MaintenanceWindow
    from tests.conftest import signed_in
    from tests.factories import MaintenanceWindowFactory

    standard = world.b.objects["engagement"]  # Standard: no risk mitigation
    risk = Risk.objects.create(
        engagement=standard, title="x", likelihood=1, impact=1, score=1, created_by=world.b.poc
    )
    client = signed_in(world.other_manager)
    assert client.get(f"/api/v1/risks/{risk.pk}/").status_code == 404
    assert client.get("/api/v1/risks/").json()["results"] == []

    tsam = EngagementFactory(
        organization=world.a.organization, plan=plan("tsam"), manager=world.manager
    )  # no maintenance
    window = MaintenanceWindowFactory(engagement=tsam)
    assert MaintenanceWindow.objects.filter(pk=window.pk).exists()
    client = signed_in(world.manager)
    response = client.get(f"/api/v1/maintenance-windows/{window.pk}/")
    assert response.status_code == 403 and response.json()["fields"] == {
        "function": ["maintenance"]
    }
    listed = client.get("/api/v1/maintenance-windows/").json()["results"]
    assert window.pk not in [row["id"] for row in listed]
