"""The customer's rating of a resolution: who may rate, when, the range, once and changed within
14 days, the audit, the API action and the case's `rating`, the page's form, and the link in the
resolution notification."""

import sys
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.casework import services as casework
from cases.casework.models import Case
from cases.satisfaction import services
from cases.satisfaction.models import CaseRating
from engagements.contacts.models import Contact
from portal.audit import AuditEntry
from portal.errors import Conflict, InvalidInput, NotAllowed
from portal.notifications import Notification, OutboxEmail
from portal.text import TEXT_MAX
from tests.conftest import page_client, services_act_in_their_scope, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


def raised(world) -> Case:
    return casework.case_raise(
        acting_user=world.a.poc,
        engagement=world.a.objects["engagement"],
        kind="inquiry",
        severity=2,
        subject="How do I rotate the keys?",
    )


def resolved(world, note: str = "Rotated with the new tool.") -> Case:
    return casework.case_resolve(acting_user=world.manager, case=raised(world), note=note)


def rate(user, case, score=4, comment=""):
    return services.case_rate(acting_user=user, case=case, score=score, comment=comment)


# --- Services ---------------------------------------------------------------------------------


def test_a_named_contact_rates_a_resolved_item_with_an_audit_entry(world):
    case = resolved(world)
    rating = rate(world.a.poc, case, score=4, comment="  Quick and clear.  ")
    assert (rating.score, rating.comment, rating.rated_by) == (4, "Quick and clear.", world.a.poc)
    entry = AuditEntry.objects.get(action="case.rate", object_id=str(rating.pk))
    assert entry.actor == world.a.poc
    assert entry.before is None
    assert entry.after["score"] == 4
    assert entry.organization_id == world.a.organization.pk


def test_a_closed_item_may_be_rated(world):
    case = casework.case_set_status(acting_user=world.a.poc, case=resolved(world), status="closed")
    assert rate(world.a.poc, case, score=5).score == 5


def test_the_requester_rates_even_when_no_longer_a_named_contact(world):
    case = resolved(world)
    Contact.objects.filter(user=world.a.poc).update(removed_at=timezone.now())
    assert rate(world.a.poc, case, score=3).score == 3


@pytest.mark.parametrize("who", ["member", "manager", "admin"])
def test_only_the_customers_contacts_or_requester_rate(world, who):
    """A member who is neither a named contact nor the requester, and the provider's staff."""
    case = resolved(world)
    with pytest.raises(NotAllowed):
        rate(world.user(who), case)
    assert not CaseRating.objects.exists()


@pytest.mark.parametrize("status", ["new", "in_progress"])
def test_an_item_not_resolved_cannot_be_rated(world, status):
    case = raised(world)
    if status != "new":
        case = casework.case_set_status(acting_user=world.manager, case=case, status=status)
    with pytest.raises(Conflict):
        rate(world.a.poc, case)
    assert not CaseRating.objects.exists()


@pytest.mark.parametrize("score", [0, 6, -1, True, "4"])
def test_the_score_is_1_to_5(world, score):
    case = resolved(world)
    with pytest.raises(InvalidInput) as refused:
        rate(world.a.poc, case, score=score)
    assert set(refused.value.fields) == {"score"}
    assert not CaseRating.objects.exists()


def test_the_comment_is_at_most_text_max(world):
    case = resolved(world)
    assert rate(world.a.poc, case, comment="x" * TEXT_MAX).comment == "x" * TEXT_MAX
    with pytest.raises(InvalidInput) as refused:
        rate(world.a.poc, case, comment="x" * (TEXT_MAX + 1))
    assert set(refused.value.fields) == {"comment"}
    with pytest.raises(InvalidInput):
        rate(world.a.poc, case, comment="bell \x07")


def test_one_rating_per_item_changed_within_14_days(world):
    case = resolved(world)
    first = rate(world.a.poc, case, score=2, comment="Slow.")
    second = rate(world.a.poc, case, score=4, comment="Slow, but it holds.")
    assert second.pk == first.pk
    assert CaseRating.objects.count() == 1
    second.refresh_from_db()
    assert (second.score, second.comment, second.rated_at) == (
        4,
        "Slow, but it holds.",
        first.rated_at,
    )
    change = AuditEntry.objects.filter(action="case.rate").order_by("-id").first()
    assert change.before["score"] == 2 and change.after["score"] == 4

    CaseRating.objects.filter(pk=first.pk).update(
        rated_at=timezone.now() - timedelta(days=14, minutes=1)
    )
    with pytest.raises(Conflict):
        rate(world.a.poc, case, score=1)
    assert CaseRating.objects.get().score == 4


def test_reopening_keeps_the_rating_and_refuses_a_new_one_until_resolved(world):
    case = resolved(world)
    rate(world.a.poc, case, score=2)
    case = casework.case_set_status(acting_user=world.a.poc, case=case, status="in_progress")
    with pytest.raises(Conflict):
        rate(world.a.poc, case, score=5)
    assert CaseRating.objects.get(case=case).score == 2


def test_the_resolution_notification_links_to_the_rating(world):
    case = resolved(world, note="Rotated with the new tool.")
    notification = Notification.objects.get(user=world.a.poc, kind="case.resolved")
    assert notification.body.startswith("Rotated with the new tool.\n\n")
    assert f"/cases/{case.pk}/#rating" in notification.body
    email = OutboxEmail.objects.get(notification=notification)
    assert f"/cases/{case.pk}/#rating" in email.body


# --- API --------------------------------------------------------------------------------------


def rating_url(case: Case) -> str:
    return f"/api/v1/cases/{case.pk}/rating/"


def test_api_rates_and_the_case_shows_the_rating(world):
    case = resolved(world)
    client = signed_in(world.a.poc)
    assert client.get(f"/api/v1/cases/{case.pk}/").json()["rating"] is None
    response = client.post(rating_url(case), {"score": 5, "comment": "Great"}, format="json")
    assert response.status_code == 200, response.content
    rating = response.json()["rating"]
    assert (rating["score"], rating["comment"], rating["rated_by"]) == (5, "Great", world.a.poc.pk)
    listed = client.get("/api/v1/cases/").json()["results"]
    assert [row["rating"]["score"] for row in listed if row["id"] == case.pk] == [5]
    # The provider's side reads it too.
    staff_view = signed_in(world.manager).get(f"/api/v1/cases/{case.pk}/").json()
    assert staff_view["rating"]["score"] == 5


@pytest.mark.parametrize("body", [{"score": 6}, {"score": 0}, {}, {"score": "five"}])
def test_api_refuses_a_score_out_of_range_in_the_error_format(world, body):
    case = resolved(world)
    response = signed_in(world.a.poc).post(rating_url(case), body, format="json")
    assert response.status_code == 400, response.content
    payload = response.json()
    assert set(payload) == {"code", "detail", "fields"}
    assert payload["code"] == "validation_error"
    assert "score" in payload["fields"]
    assert not CaseRating.objects.exists()


def test_api_refuses_a_too_long_comment(world):
    case = resolved(world)
    response = signed_in(world.a.poc).post(
        rating_url(case), {"score": 3, "comment": "x" * (TEXT_MAX + 1)}, format="json"
    )
    assert response.status_code == 400
    assert "comment" in response.json()["fields"]


def test_api_refusals(world):
    case = raised(world)
    response = signed_in(world.a.poc).post(rating_url(case), {"score": 3}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "conflict")
    case = casework.case_resolve(acting_user=world.manager, case=case)
    for user in (world.a.member, world.manager):
        response = signed_in(user).post(rating_url(case), {"score": 3}, format="json")
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    response = signed_in(world.b.poc).post(rating_url(case), {"score": 3}, format="json")
    assert response.status_code == 404
    assert not CaseRating.objects.exists()


# --- The page ---------------------------------------------------------------------------------


def test_the_case_page_offers_the_form_to_the_customer_only_once_resolved(world):
    case = raised(world)
    detail = reverse("case_detail", args=[case.pk])
    assert "rating_form" not in page_client(world.a.poc).get(detail).context
    case = casework.case_resolve(acting_user=world.manager, case=case)
    response = page_client(world.a.poc).get(detail)
    assert response.context["rating_form"] is not None
    assert reverse("case_rate", args=[case.pk]) in response.content.decode()
    staff = page_client(world.manager).get(detail)
    assert "rating_form" not in staff.context
    assert "The customer has not rated the resolution yet." in staff.content.decode()


def test_the_page_form_rates_and_shows_the_rating(world):
    case = resolved(world)
    client = page_client(world.a.poc)
    response = client.post(
        reverse("case_rate", args=[case.pk]), {"score": "4", "comment": "Thanks"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#rating")
    assert CaseRating.objects.get(case=case).score == 4
    body = page_client(world.manager).get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "4 out of 5" in body and "Thanks" in body


@pytest.mark.parametrize("score", ["6", "", "x"])
def test_the_page_form_refuses_a_bad_score(world, score):
    case = resolved(world)
    response = page_client(world.a.poc).post(reverse("case_rate", args=[case.pk]), {"score": score})
    assert response.status_code == 400
    assert response.context["rating_form"].errors["score"]
    assert not CaseRating.objects.exists()


def test_the_page_refuses_an_open_item_on_the_form_and_staff_with_403(world):
    case = raised(world)
    response = page_client(world.a.poc).post(reverse("case_rate", args=[case.pk]), {"score": "3"})
    assert response.status_code == 409
    assert not CaseRating.objects.exists()
    case = casework.case_resolve(acting_user=world.manager, case=case)
    response = page_client(world.manager).post(reverse("case_rate", args=[case.pk]), {"score": "3"})
    assert response.status_code == 403
    assert not CaseRating.objects.exists()


def test_the_rating_form_and_the_invitation_speak_korean(world):
    """Customers' notifications speak the engagement's language; pages the user's."""
    world.a.objects["engagement"].language = "ko"
    world.a.objects["engagement"].save(update_fields=["language"])
    world.a.poc.language = "ko"
    world.a.poc.save(update_fields=["language"])
    case = resolved(world)
    notification = Notification.objects.get(user=world.a.poc, kind="case.resolved")
    assert "해결 결과를 1부터 5까지 평가해 주십시오" in notification.body
    rate(world.a.poc, case, score=4)
    body = page_client(world.a.poc).get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "해결 결과 평가" in body and "5점 만점에 4점" in body and "평가 변경" in body
