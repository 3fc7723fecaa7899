"""Vendor news (`vendor_spokesperson`: TSAM and Premium) and roadmap announcements
(`product_roadmap`: all tiers) shown by entitlement at read time, read receipts, the enablement
catalog (`customer_enablement`), environment consulting (`environment_consulting`: Premium)
turned into sessions, the pages, the API and their query budgets."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagements.catalog.models import Entitlement, ServiceFunction
from engagements.catalog.services import entitlement_matrix_set
from engagements.contacts.models import Contact
from portal.audit import AuditEntry
from portal.errors import Conflict, InvalidInput, NotAllowed, NotEntitled
from portal.tenancy.scoping import tenant_scope
from reviews.consulting import services as consulting_services
from reviews.consulting.models import ConsultingRequest
from reviews.enablement import models as enablement_models
from reviews.enablement import services as enablement_services
from reviews.publications import services as publications_services
from reviews.publications.models import Publication, PublicationReceipt
from reviews.scheduling.models import Occurrence
from reviews.scheduling.services import SessionNotStarted, occurrence_complete
from tests.conftest import page_client, services_act_in_their_scope, signed_in
from tests.factories import (
    EngagementFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    plan,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


def premium(world):
    return world.a.objects["engagement"]


def standard(world):
    return world.b.objects["engagement"]


def tsam_poc(world):
    organization = OrganizationFactory(name="Tenant T Corporation", slug="tenant-t")
    poc = MembershipFactory(
        organization=organization, role="poc", user=UserFactory(email="poc@t.test", name="Poc T")
    ).user
    engagement = EngagementFactory(
        organization=organization, plan=plan("tsam"), manager=world.manager, name="Engagement T"
    )
    Contact.objects.create(engagement=engagement, user=poc)
    return poc


def publish(world, kind="news", title=None, **overrides):
    return publications_services.publication_publish(
        acting_user=overrides.pop("acting_user", world.admin),
        kind=kind,
        title=title or f"{kind} headline",
        body="What changes and why.",
        major=overrides.pop("major", False),
    )


def listed_titles(user) -> set[str]:
    rows = signed_in(user).get("/api/v1/publications/").json()["results"]
    return {row["title"] for row in rows}


# --- Publications: rules and visibility ----------------------------------------------------------


def test_publishing_sets_the_audience_and_is_audited(world):
    news = publish(world, "news", major=True)
    roadmap = publish(world, "roadmap")
    assert news.audience == "vendor_spokesperson" and news.major
    assert roadmap.audience == "product_roadmap"
    assert AuditEntry.objects.filter(action="publication.publish").count() == 2


def test_who_publishes(world):
    publish(world, "news", acting_user=world.manager)
    with pytest.raises(NotAllowed):
        publish(world, "roadmap", acting_user=world.manager)
    for user in (world.a.poc, world.a.member):
        with pytest.raises(NotAllowed):
            publish(world, "news", acting_user=user)
    with pytest.raises(InvalidInput) as error:
        publications_services.publication_publish(
            acting_user=world.admin, kind="gossip", title="", body=""
        )
    assert set(error.value.fields) == {"kind", "title", "body"}


def test_visibility_by_entitlement(world):
    publish(world, "news", "Vendor news")
    publish(world, "roadmap", "Roadmap")
    assert listed_titles(world.b.poc) == {"Roadmap"}  # Standard: no vendor spokesperson
    assert listed_titles(world.a.poc) == {"Vendor news", "Roadmap"}  # Premium
    assert listed_titles(tsam_poc(world)) == {"Vendor news", "Roadmap"}  # TSAM
    assert listed_titles(world.manager) == {"Vendor news", "Roadmap"}  # staff: all


def test_standard_customer_cannot_open_news(world):
    news = publish(world, "news")
    client = page_client(world.b.poc)
    assert client.get(reverse("publication_detail", args=[news.pk])).status_code == 404
    body = client.get(reverse("publication_list")).content.decode()
    assert news.title not in body
    response = signed_in(world.b.poc).get(f"/api/v1/publications/{news.pk}/")
    assert response.status_code == 404
    assert signed_in(world.b.poc).post(f"/api/v1/publications/{news.pk}/read/").status_code == 404
    assert not PublicationReceipt.objects.exists()


def test_granting_the_function_to_standard_shows_news_without_any_other_change(world):
    news = publish(world, "news", "Vendor news")
    assert "Vendor news" not in listed_titles(world.b.poc)
    spokesperson = ServiceFunction.objects.get(code="vendor_spokesperson")
    cells = set(Entitlement.objects.values_list("plan_id", "function_id"))
    entitlement_matrix_set(
        acting_user=world.admin, cells=cells | {(plan("standard").pk, spokesperson.pk)}
    )
    assert "Vendor news" in listed_titles(world.b.poc)
    assert (
        page_client(world.b.poc).get(reverse("publication_detail", args=[news.pk])).status_code
        == 200
    )
    entitlement_matrix_set(acting_user=world.admin, cells=cells)
    assert "Vendor news" not in listed_titles(world.b.poc)


# --- Read receipts -------------------------------------------------------------------------------


def test_opening_marks_read_once_and_the_publisher_sees_who(world):
    news = publish(world, "news")
    client = page_client(world.a.poc)
    url = reverse("publication_detail", args=[news.pk])
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    assert PublicationReceipt.objects.filter(publication=news, user=world.a.poc).count() == 1
    assert AuditEntry.objects.filter(action="publication.read").count() == 1
    body = page_client(world.admin).get(url).content.decode()
    assert world.a.poc.name in body
    assert PublicationReceipt.objects.count() == 1  # staff leave no receipt


def test_receipts_show_only_what_the_viewer_may_see(world):
    roadmap = publish(world, "roadmap")
    for user in (world.a.poc, world.b.poc):
        publications_services.publication_mark_read(acting_user=user, publication=roadmap)
    a_view = signed_in(world.a.poc).get(f"/api/v1/publications/{roadmap.pk}/").json()
    assert [row["user"] for row in a_view["receipts"]] == [world.a.poc.pk] and a_view["read"]
    manager_view = signed_in(world.manager).get(f"/api/v1/publications/{roadmap.pk}/").json()
    assert [row["user"] for row in manager_view["receipts"]] == [world.a.poc.pk]
    admin_view = signed_in(world.admin).get(f"/api/v1/publications/{roadmap.pk}/").json()
    assert {row["user"] for row in admin_view["receipts"]} == {world.a.poc.pk, world.b.poc.pk}


def test_api_read_action_and_unread_markers(world):
    news = publish(world, "news", "First")
    publish(world, "news", "Second")
    client = signed_in(world.a.poc)
    response = client.post(f"/api/v1/publications/{news.pk}/read/")
    assert response.status_code == 200 and response.json()["read"] is True
    rows = {
        row["title"]: row["read"] for row in client.get("/api/v1/publications/").json()["results"]
    }
    assert rows == {"First": True, "Second": False}


def test_api_publish(world):
    payload = {"kind": "roadmap", "title": "Version 9 end of support", "body": "In 2028."}
    assert signed_in(world.a.poc).post("/api/v1/publications/", payload).status_code == 403
    assert signed_in(world.manager).post("/api/v1/publications/", payload).status_code == 403
    response = signed_in(world.admin).post("/api/v1/publications/", payload, format="json")
    assert response.status_code == 201 and response.json()["audience"] == "product_roadmap"


def test_dashboard_snippet_lists_the_latest_five_with_unread_markers(world):
    news = [publish(world, "news", f"News {step}") for step in range(6)]
    publications_services.publication_mark_read(acting_user=world.a.poc, publication=news[-1])
    request = RequestFactory().get("/")
    request.user = world.a.poc
    with tenant_scope(world.a.poc), CaptureQueriesContext(connection) as captured:
        html = render_to_string("reviews/publications/_latest.html", request=request)
    assert len(captured) <= 2  # the scope's organizations (cached per request) and the list
    assert html.count('id="latest-publication-') == 5 and "News 0" not in html
    assert html.count(">New<") == 4
    request.user = world.b.poc
    with tenant_scope(world.b.poc):
        assert "News 5" not in render_to_string(
            "reviews/publications/_latest.html", request=request
        )


def test_publication_pages(world):
    client = page_client(world.manager)
    response = client.post(
        reverse("publication_create"),
        {"kind": "news", "title": "Partner summit", "body": "Join us.", "major": "on"},
    )
    assert response.status_code == 302
    publication = Publication.objects.get(title="Partner summit")
    assert publication.major and publication.published_by == world.manager
    response = client.post(
        reverse("publication_create"), {"kind": "roadmap", "title": "Nope", "body": "x"}
    )
    assert response.status_code == 200 and not Publication.objects.filter(title="Nope").exists()
    assert page_client(world.a.poc).get(reverse("publication_create")).status_code == 403
    assert (
        "Partner summit"
        in page_client(world.a.poc).get(reverse("publication_list")).content.decode()
    )


# --- The enablement catalog ----------------------------------------------------------------------


def test_catalog_for_every_tier_with_session_link_where_delivered_live(world):
    enablement_services.training_resource_add(
        acting_user=world.admin, title="Portal basics", url="https://learn.example.com/basics"
    )
    request_link = reverse("occurrence_request") + "?deliverable=customer_enablement"
    standard_body = page_client(world.b.poc).get(reverse("enablement_catalog")).content.decode()
    assert "Portal basics" in standard_body and request_link not in standard_body
    premium_body = page_client(world.a.poc).get(reverse("enablement_catalog")).content.decode()
    assert "Portal basics" in premium_body and request_link in premium_body
    tsam_body = page_client(tsam_poc(world)).get(reverse("enablement_catalog")).content.decode()
    assert request_link in tsam_body
    rows = signed_in(world.b.poc).get("/api/v1/training-resources/").json()["results"]
    assert [row["title"] for row in rows] == ["Portal basics"]


def test_only_admins_maintain_the_catalog(world):
    with pytest.raises(NotAllowed):
        enablement_services.training_resource_add(
            acting_user=world.manager, title="X", url="https://example.com"
        )
    with pytest.raises(InvalidInput) as error:
        enablement_services.training_resource_add(acting_user=world.admin, title="", url="ftp://x")
    assert set(error.value.fields) == {"title", "url"}
    client = page_client(world.admin)
    client.post(
        reverse("enablement_catalog"), {"title": "Dashboards", "url": "https://example.com/d"}
    )
    resource = enablement_models.TrainingResource.objects.get(title="Dashboards")
    assert (
        page_client(world.a.poc)
        .post(reverse("training_resource_remove", args=[resource.pk]))
        .status_code
        == 403
    )
    client.post(reverse("training_resource_remove", args=[resource.pk]))
    assert not enablement_models.TrainingResource.objects.exists()


def test_catalog_refused_when_no_plan_includes_enablement(world):
    function = ServiceFunction.objects.get(code="customer_enablement")
    cells = set(
        Entitlement.objects.exclude(function=function).values_list("plan_id", "function_id")
    )
    entitlement_matrix_set(acting_user=world.admin, cells=cells)
    response = page_client(world.b.poc).get(reverse("enablement_catalog"))
    assert response.status_code == 403 and function.name in response.content.decode()
    api = signed_in(world.b.poc).get("/api/v1/training-resources/")
    assert api.status_code == 403 and api.json()["code"] == "not_entitled"


# --- Environment consulting ----------------------------------------------------------------------


def request_consulting(world, **overrides) -> ConsultingRequest:
    return consulting_services.consulting_request(
        acting_user=overrides.pop("acting_user", world.a.poc),
        engagement=overrides.pop("engagement", premium(world)),
        topic=overrides.pop("topic", "Index bloat"),
        environment_details="Postgres 16, 2 TB",
        desired_dates="Any Tuesday",
    )


def test_consulting_request_becomes_a_session(world, monkeypatch):
    row = request_consulting(world)
    starts_at = timezone.now() + timedelta(days=5)
    row = consulting_services.consulting_schedule(
        acting_user=world.manager, request=row, starts_at=starts_at, method="video"
    )
    session = row.session
    assert row.status == "scheduled"
    assert session.deliverable == "environment_consulting"
    assert session.period == f"as_needed:consulting-{row.pk}"
    assert session.scheduled_start == starts_at and session.requested_by == world.a.poc
    assert AuditEntry.objects.filter(action="consulting.schedule").count() == 1
    with pytest.raises(Conflict):
        consulting_services.consulting_schedule(
            acting_user=world.manager, request=row, starts_at=starts_at, method="video"
        )
    with pytest.raises(SessionNotStarted):  # recorded only once it has taken place
        occurrence_complete(
            acting_user=world.manager, occurrence=session, method="video", minutes="Done"
        )
    monkeypatch.setattr(timezone, "now", lambda: starts_at + timedelta(hours=1))
    occurrence_complete(
        acting_user=world.manager, occurrence=session, method="video", minutes="Done"
    )
    consulting_services.consulting_update_status(
        acting_user=world.manager, request=row, status="done"
    )
    row.refresh_from_db()
    assert row.status == "done"


def test_consulting_rules(world):
    with pytest.raises(NotAllowed):
        request_consulting(world, acting_user=world.a.member)
    with pytest.raises(InvalidInput):
        request_consulting(world, topic=" ")
    row = request_consulting(world)
    with pytest.raises(NotAllowed):
        consulting_services.consulting_schedule(
            acting_user=world.a.poc,
            request=row,
            starts_at=timezone.now() + timedelta(days=1),
            method="video",
        )
    with pytest.raises(InvalidInput) as error:
        consulting_services.consulting_schedule(
            acting_user=world.manager,
            request=row,
            starts_at=timezone.now() - timedelta(days=1),
            method="email",
        )
    assert set(error.value.fields) == {"starts_at", "method"}
    assert not Occurrence.objects.filter(deliverable="environment_consulting").exists()


def test_consulting_refused_for_standard_and_tsam(world):
    with pytest.raises(NotEntitled) as error:
        request_consulting(world, acting_user=world.b.poc, engagement=standard(world))
    assert error.value.fields == {"function": ["environment_consulting"]}
    payload = {"engagement": standard(world).pk, "topic": "Tuning"}
    response = signed_in(world.b.poc).post("/api/v1/consulting-requests/", payload, format="json")
    assert response.status_code == 403 and response.json()["code"] == "not_entitled"
    poc = tsam_poc(world)
    tsam = Contact.objects.get(user=poc).engagement
    response = signed_in(poc).post(
        "/api/v1/consulting-requests/", {"engagement": tsam.pk, "topic": "Tuning"}, format="json"
    )
    assert response.status_code == 403 and response.json()["code"] == "not_entitled"
    page = page_client(poc).get(reverse("consulting_list", args=[tsam.pk]))
    assert page.status_code == 403
    listed = signed_in(world.b.poc).get(
        f"/api/v1/consulting-requests/?engagement={standard(world).pk}"
    )
    assert listed.status_code == 403 and listed.json()["code"] == "not_entitled"


def test_consulting_through_the_api(world):
    response = signed_in(world.a.poc).post(
        "/api/v1/consulting-requests/",
        {"engagement": premium(world).pk, "topic": "Slow reports", "desired_dates": "Next week"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    row_id = response.json()["id"]
    url = f"/api/v1/consulting-requests/{row_id}/schedule/"
    payload = {"starts_at": (timezone.now() + timedelta(days=3)).isoformat(), "method": "phone"}
    assert signed_in(world.a.poc).post(url, payload, format="json").status_code == 403
    response = signed_in(world.manager).post(url, payload, format="json")
    assert response.status_code == 200 and response.json()["status"] == "scheduled"
    assert Occurrence.objects.get(pk=response.json()["session"]).method == "phone"


def test_consulting_pages(world):
    engagement = premium(world)
    poc = page_client(world.a.poc)
    response = poc.post(
        reverse("consulting_create", args=[engagement.pk]),
        {"topic": "Storage growth", "environment_details": "3 nodes", "desired_dates": "May"},
    )
    assert response.status_code == 302
    row = ConsultingRequest.objects.get(topic="Storage growth")
    assert (
        page_client(world.a.member)
        .get(reverse("consulting_create", args=[engagement.pk]))
        .status_code
        == 403
    )
    assert poc.get(reverse("consulting_schedule", args=[engagement.pk, row.pk])).status_code == 403
    when = timezone.localtime(timezone.now() + timedelta(days=4))
    response = page_client(world.manager).post(
        reverse("consulting_schedule", args=[engagement.pk, row.pk]),
        {
            "starts_at": when.strftime("%Y-%m-%dT%H:%M"),
            "method": "in_person",
            "duration_minutes": 90,
        },
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "scheduled" and row.session.duration_minutes == 90
    body = poc.get(reverse("consulting_list", args=[engagement.pk])).content.decode()
    assert "Storage growth" in body and reverse("occurrence_detail", args=[row.session.pk]) in body


# --- Query budgets -------------------------------------------------------------------------------


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _grow(world, n: int) -> None:
    for step in range(n):
        publication = publish(world, "news" if step % 2 else "roadmap", f"Item {step}")
        PublicationReceipt.objects.create(publication=publication, user=world.a.poc)
        enablement_services.training_resource_add(
            acting_user=world.admin, title=f"Course {step}", url=f"https://example.com/{step}"
        )
        ConsultingRequest.objects.create(
            engagement=premium(world), topic=f"Topic {step}", requested_by=world.a.poc
        )


URLS = [
    lambda world: reverse("publication_list"),
    lambda world: reverse("enablement_catalog"),
    lambda world: reverse("consulting_list", args=[premium(world).pk]),
    lambda world: "/api/v1/publications/",
    lambda world: "/api/v1/training-resources/",
    lambda world: "/api/v1/consulting-requests/",
]


@pytest.mark.parametrize("role", ["poc", "manager", "admin"])
@pytest.mark.parametrize("url_of", URLS)
def test_list_pages_and_endpoints_issue_constant_queries(world, role, url_of):
    url = url_of(world)
    client = signed_in(world.user(role))
    client.get(url)
    _grow(world, 3)
    few = _count(client, url)
    _grow(world, 27)
    assert _count(client, url) == few
