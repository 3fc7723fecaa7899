"""The seeded catalog equals SPEC §2–3, cell by cell (read from the SPEC itself)."""

import re
import sys
from pathlib import Path

import pytest

from engagements.catalog import services
from engagements.catalog.models import Cadence, Entitlement, Plan, ServiceFunction
from portal.audit import AuditEntry
from tests.conftest import services_act_in_their_scope
from tests.factories import AdminFactory

SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "SPEC.md"
# A copy of the binding SPEC, kept in the repository so the comparison runs wherever the tests
# do; `test_the_copy_matches_the_shared_spec` keeps it equal to ../shared/SPEC.md.
SPEC = Path(__file__).resolve().parent / "SPEC.md"
PLANS = ["tsam", "standard", "premium"]


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


def spec_table(heading_fragment: str) -> list[list[str]]:
    """The first Markdown table after the line containing `heading_fragment`."""
    lines = SPEC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if heading_fragment in line)
    rows, seen_table = [], False
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            seen_table = True
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= {"-", " ", ":"} for cell in cells):
                rows.append(cells)
        elif seen_table:
            break
    return rows[1:]  # without the header row


def codes(cell: str) -> list[str]:
    return re.findall(r"`([a-z_]+)`", cell)


@pytest.mark.django_db
def test_plans_match_spec_section_2():
    rows = spec_table("## 2. The tiers")
    deployment = {
        "on-premises licence (the vendor hosts nothing)": "on_prem",
        "SaaS (the vendor hosts)": "saas",
        "SaaS": "saas",
    }
    pricing = {"add-on purchase": "add_on", "included with SaaS": "included"}
    assert [codes(row[0])[0] for row in rows] == PLANS
    for row in rows:
        plan = Plan.objects.get(code=codes(row[0])[0])
        assert plan.name == row[1]
        assert plan.deployment == deployment[row[2]]
        assert plan.pricing == pricing[row[3]]
        assert (plan.max_contacts, plan.weekly_hours_cap, plan.max_open_cases_per_manager) == (
            3,
            10,
            30,
        )
    targets = {plan.code: plan.response_target_business_days for plan in Plan.objects.all()}
    assert targets == {"standard": 2, "premium": 1, "tsam": 1}  # SPEC §4
    weekly_call = {plan.code: plan.weekly_call for plan in Plan.objects.all()}
    assert weekly_call == {"tsam": True, "premium": True, "standard": False}  # SPEC §3


@pytest.mark.django_db
def test_entitlement_matrix_matches_spec_every_cell():
    rows = spec_table("Entitlement matrix")
    assert len(rows) == 15
    seeded = set(Entitlement.objects.values_list("plan__code", "function__code"))
    expected = set()
    for row in rows:
        function_code = codes(row[0])[0]
        for plan_code, cell in zip(PLANS, row[2:5], strict=True):
            assert cell in ("✓", ""), row
            if cell == "✓":
                expected.add((plan_code, function_code))
    assert seeded == expected
    assert list(ServiceFunction.objects.values_list("code", flat=True)) == [
        codes(r[0])[0] for r in rows
    ]


@pytest.mark.django_db
def test_cadences_match_spec_table_2_every_cell():
    rows = spec_table("## 3. Delivery methods and frequencies")
    words = {
        "in person": "in_person",
        "video conference": "video",
        "e-mail": "email",
        "phone": "phone",
        "online self-paced training": "self_paced",
    }
    frequencies = {
        "as needed": "as_needed",
        "quarterly": "quarterly",
        "monthly": "monthly",
        "weekly": "weekly",
    }

    def parse(cell: str) -> tuple[list[str], str]:
        methods_text, frequency_text = (part.strip() for part in cell.split("/"))
        parts = re.split(r",\s*|\s+or\s+", methods_text)
        return [words[part.strip()] for part in parts], frequencies[frequency_text]

    seeded = {
        (c.plan.code, c.deliverable.code): (c.methods, c.frequency)
        for c in Cadence.objects.select_related("plan", "deliverable")
    }
    tsam_functions = set(
        Entitlement.objects.filter(plan__code="tsam").values_list("function__code", flat=True)
    )
    expected = {}
    for row in rows:
        deliverable = codes(row[0])[0]
        expected[("standard", deliverable)] = parse(row[2])
        expected[("premium", deliverable)] = parse(row[3])
        if deliverable in tsam_functions:  # TSAM takes the Premium column (SPEC §3)
            expected[("tsam", deliverable)] = parse(row[3])
    assert seeded == expected


@pytest.mark.django_db
def test_the_first_change_of_the_seed_shows_what_the_spec_said_before_it():
    """The seed is nobody's change (no audit entry); the first admin change's entry carries
    the seeded values as its "before"."""
    assert not AuditEntry.objects.exists()
    admin = AdminFactory()
    plan = Plan.objects.get(code="standard")
    seeded = (plan.max_contacts, sorted(plan.entitlements.values_list("function__code", flat=True)))
    services.plan_save(acting_user=admin, plan=plan, max_contacts=seeded[0] + 1)
    services.entitlement_matrix_set(
        acting_user=admin,
        cells=Entitlement.objects.exclude(
            plan=plan, function__code="release_management"
        ).values_list("plan_id", "function_id"),
    )
    changed = AuditEntry.objects.get(action="plan.update")
    assert (changed.before["max_contacts"], changed.after["max_contacts"]) == (
        seeded[0],
        seeded[0] + 1,
    )
    matrix = AuditEntry.objects.get(action="plan.entitlements")
    assert matrix.before == {"entitlements": seeded[1]}
    assert "release_management" in seeded[1]
    assert "release_management" not in matrix.after["entitlements"]


def test_the_copy_matches_the_shared_spec():
    if not SHARED_SPEC.exists():
        pytest.skip("../shared/SPEC.md is not beside this checkout")
    assert SPEC.read_text(encoding="utf-8") == SHARED_SPEC.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_a_change_of_matrix_cadence_or_settings_tells_the_plans_followers_after_commit(
    django_capture_on_commit_callbacks,
):
    """`plan_changed` (the review scheduler reschedules the plan's engagements on it) is sent
    once the change committed, for each plan that changed and for no other."""
    from engagements.signals import plan_changed

    admin = AdminFactory()
    standard, premium = Plan.objects.get(code="standard"), Plan.objects.get(code="premium")
    review = ServiceFunction.objects.get(code="service_review")
    sent: list[int] = []

    def follow(sender, plan_id, **kwargs):
        sent.append(plan_id)

    plan_changed.connect(follow)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.cadence_set(
                acting_user=admin,
                plan=standard,
                deliverable=review,
                methods=["video"],
                frequency="monthly",
            )
            assert sent == []  # not before the commit
        assert sent == [standard.pk]
        with django_capture_on_commit_callbacks(execute=True):
            services.entitlement_matrix_set(
                acting_user=admin,
                cells=Entitlement.objects.exclude(plan=premium, function=review).values_list(
                    "plan_id", "function_id"
                ),
            )
            services.plan_save(acting_user=admin, plan=standard, weekly_call=True)
            services.plan_save(acting_user=admin, plan=premium, weekly_call=True)  # as it was
            services.cadence_set(
                acting_user=admin,
                plan=standard,
                deliverable=review,
                methods=["video"],
                frequency="monthly",
            )  # as it is
        assert sent == [standard.pk, premium.pk, standard.pk]
    finally:
        plan_changed.disconnect(follow)
