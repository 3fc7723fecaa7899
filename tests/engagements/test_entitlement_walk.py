"""Every service function of Table 1, for every plan: reachable where the matrix has ✓,
refused with `not_entitled` (and hidden in pages) where it has not — and a matrix change takes
effect without a deploy."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.casework.services import case_raise
from engagements.catalog.models import Entitlement, ServiceFunction
from engagements.catalog.services import entitlement_matrix_set
from engagements.contacts.models import Contact
from reviews.publications.services import publication_publish
from reviews.scheduling.models import Occurrence
from tests.conftest import page_client, signed_in
from tests.factories import AdminFactory, EngagementFactory, MembershipFactory, plan

pytestmark = pytest.mark.django_db


def refused(response) -> bool:
    """True for the entitlement refusal; any other answer means the feature was reachable."""
    if response.status_code != 403:
        return False
    return response.json()["code"] == "not_entitled"


def setup(plan_code: str):
    engagement = EngagementFactory(plan=plan(plan_code), timezone="UTC", holiday_country="")
    poc = MembershipFactory(organization=engagement.organization).user
    Contact.objects.create(engagement=engagement, user=poc)
    return engagement, poc


def list_probe(endpoint: str):
    def probe(ctx) -> bool:
        return refused(ctx.manager.get(f"/api/v1/{endpoint}/", {"engagement": ctx.engagement.pk}))

    return probe


def publication_probe(kind: str):
    def probe(ctx) -> bool:
        publication = publication_publish(
            acting_user=ctx.admin, kind=kind, title=f"{kind} item", body="Text"
        )
        ids = [row["id"] for row in ctx.poc.get("/api/v1/publications/").json()["results"]]
        return publication.pk not in ids

    return probe


def case_action_probe(action: str, data: dict):
    def probe(ctx) -> bool:
        case = case_raise(
            acting_user=ctx.engagement.manager,
            engagement=ctx.engagement,
            kind="incident",
            severity=0,
            subject=f"probe {action}",
        )
        return refused(ctx.manager.post(f"/api/v1/cases/{case.pk}/{action}/", data, format="json"))

    return probe


def review_report_probe(ctx) -> bool:
    occurrence = Occurrence.objects.create(
        engagement=ctx.engagement,
        deliverable="service_review",
        period="monthly:2026-06-01",
        scheduled_start=timezone.now() + timedelta(days=3),
        method="video",
    )
    return refused(ctx.poc.get(f"/api/v1/reviews/{occurrence.pk}/report/"))


def enablement_probe(ctx) -> bool:
    return ctx.poc_page.get(reverse("enablement_catalog")).status_code == 403


def intelligence_probe(ctx) -> bool:
    return refused(ctx.poc.get(f"/api/v1/customer-profiles/{ctx.engagement.pk}/"))


def consulting_probe(ctx) -> bool:
    return refused(
        ctx.poc.post(
            "/api/v1/consulting-requests/",
            {"engagement": ctx.engagement.pk, "topic": "Database tuning"},
            format="json",
        )
    )


def trends_probe(ctx) -> bool:
    return refused(ctx.manager.get("/api/v1/cases/trends/", {"engagement": ctx.engagement.pk}))


PROBES = {
    "customer_enablement": enablement_probe,
    "service_review": review_report_probe,
    "maintenance": list_probe("maintenance-windows"),
    "upgrade_planning": list_probe("upgrade-plans"),
    "root_cause_analysis": case_action_probe(
        "rca",
        {
            "findings": "",
            "corrective_actions": "",
            "delivery_method": "x",
            "delivered_at": "2026-01-01T00:00:00Z",
        },
    ),
    "customer_intelligence": intelligence_probe,
    "product_roadmap": publication_probe("roadmap"),
    "release_management": list_probe("changes"),
    "customer_advocacy": list_probe("advocacy-items"),
    "vendor_spokesperson": publication_probe("news"),
    "risk_mitigation": list_probe("risks"),
    "software_performance_reports": list_probe("fix-requests"),
    "environment_consulting": consulting_probe,
    "escalation_management": case_action_probe("escalate", {"reason": "probe"}),
    "case_management": trends_probe,
}


class Context:
    def __init__(self, plan_code: str):
        self.admin = AdminFactory()
        self.engagement, poc_user = setup(plan_code)
        self.manager = signed_in(self.engagement.manager)
        self.poc = signed_in(poc_user)
        self.poc_page = page_client(poc_user)


def test_every_function_of_table_1_has_a_probe():
    assert set(PROBES) == set(ServiceFunction.objects.values_list("code", flat=True))


@pytest.mark.parametrize("plan_code", ["tsam", "standard", "premium"])
def test_every_function_is_reachable_exactly_where_the_matrix_says(plan_code):
    ctx = Context(plan_code)
    included = set(
        Entitlement.objects.filter(plan__code=plan_code).values_list("function__code", flat=True)
    )
    outcome = {code: not probe(ctx) for code, probe in PROBES.items()}
    assert {code for code, reachable in outcome.items() if reachable} == included
    detail = (
        page_client(ctx.engagement.manager)
        .get(reverse("engagement_detail", args=[ctx.engagement.pk]))
        .content.decode()
    )
    links = {
        "risk_mitigation": "risk_list",
        "software_performance_reports": "fix_request_list",
        "maintenance": "maintenance_list",
        "release_management": "change_list",
        "customer_advocacy": "advocacy_list",
        "upgrade_planning": "upgrade_plan_list",
    }
    for code, name in links.items():
        shown = reverse(name, args=[ctx.engagement.pk]) in detail
        assert shown == (code in included), (plan_code, code)


def test_granting_a_function_in_the_grid_makes_it_appear_without_a_deploy():
    ctx = Context("standard")
    assert PROBES["risk_mitigation"](ctx) is True  # refused: Standard lacks it
    cells = set(Entitlement.objects.values_list("plan_id", "function_id"))
    standard, risk = plan("standard"), ServiceFunction.objects.get(code="risk_mitigation")
    admin_client = page_client(ctx.admin)
    entitlement_matrix_set(acting_user=ctx.admin, cells=cells | {(standard.pk, risk.pk)})
    assert PROBES["risk_mitigation"](ctx) is False  # reachable now
    page = (
        page_client(ctx.engagement.manager)
        .get(reverse("engagement_detail", args=[ctx.engagement.pk]))
        .content.decode()
    )
    assert reverse("risk_list", args=[ctx.engagement.pk]) in page
    assert admin_client.get(reverse("catalog_matrix")).status_code == 200
