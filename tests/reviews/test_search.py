"""Global search (reviews/search): what each viewer finds, Korean words, ranking, the page,
the API and its refusals. Runs on SQLite and on PostgreSQL (trigram indexes, full-text rank)."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.casework import services as casework_services
from cases.casework.models import Case
from reviews.scheduling.models import Occurrence
from reviews.search.selectors import Kind, search_for, snippet
from reviews.templatetags.search import highlight
from tests.conftest import acting_as, page_client, services_act_in_their_scope, signed_in

pytestmark = pytest.mark.django_db

KOREAN_DESCRIPTION = "어제 밤부터 결제 서버가 응답하지 않아 주문이 모두 실패하고 있습니다."


@pytest.fixture(autouse=True)
def _services_in_scope(monkeypatch):
    services_act_in_their_scope(monkeypatch, sys.modules[__name__], casework_services)


def raise_case(tenant, subject, description="It does not work."):
    return casework_services.case_raise(
        acting_user=tenant.poc,
        engagement=tenant.objects["engagement"],
        kind="incident",
        severity=2,
        subject=subject,
        description=description,
    )


def found(user, query, kind=Kind.CASE):
    """The ids `user` finds for `query` among `kind`, best first, in the user's scope."""
    with acting_as(user):
        search = search_for(user, query)
        return [row.pk for row in search.matches(kind)]


def api(user, **params):
    return signed_in(user).get(reverse("search-api"), params)


# --- What is found ------------------------------------------------------------------------------


def test_a_korean_word_inside_a_sentence_finds_the_case(world):
    case = raise_case(world.a, "결제 장애", KOREAN_DESCRIPTION)
    raise_case(world.a, "Another item", "Nothing to see.")
    # "서버" stands inside "서버가" (with its particle), "실패" inside "실패하고".
    assert found(world.a.poc, "서버") == [case.pk]
    assert found(world.a.poc, "실패") == [case.pk]
    assert found(world.a.poc, "주문이 서버") == [case.pk]  # every word, anywhere
    assert found(world.a.poc, "서버 환불") == []


def test_words_of_the_subject_and_of_the_number_find_the_case(world):
    case = raise_case(world.a, "Login page times out")
    assert found(world.a.member, "TIMES out") == [case.pk]
    assert found(world.a.member, f"#{case.pk}") == [case.pk]
    assert found(world.a.member, str(case.pk)) == [case.pk]


def test_comments_find_the_case_and_internal_notes_only_for_staff(world):
    case = raise_case(world.a, "Slow reports")
    casework_services.case_comment(
        acting_user=world.a.poc, case=case, body="The nightly export hangs at 80 percent"
    )
    casework_services.case_comment(
        acting_user=world.manager, case=case, body="Suspect the 재색인 job", public=False
    )
    for user in (world.a.poc, world.a.member, world.manager, world.admin):
        assert found(user, "nightly export") == [case.pk]
    assert found(world.manager, "재색인") == [case.pk]
    assert found(world.admin, "재색인") == [case.pk]
    assert found(world.a.poc, "재색인") == []
    assert found(world.a.member, "재색인") == []
    # The page does not leak it either, and says where the word was found.
    body = page_client(world.a.poc).get(reverse("search"), {"q": "재색인"}).content.decode()
    assert "Slow reports" not in body
    body = page_client(world.manager).get(reverse("search"), {"q": "nightly"}).content.decode()
    assert "Slow reports" in body and "Found in a comment." in body


def test_nobody_finds_another_tenants_items(world):
    own = raise_case(world.a, "Disk full on 서버", KOREAN_DESCRIPTION)
    other = raise_case(world.b, "Disk full on 서버", KOREAN_DESCRIPTION)
    casework_services.case_comment(acting_user=world.b.poc, case=other, body="Shared word")
    for user in (world.a.poc, world.a.member, world.manager):
        assert found(user, "서버") == [own.pk]
        assert found(user, "Shared word") == []
        assert found(user, f"#{other.pk}") == []
        assert found(user, "Tenant", Kind.ORGANIZATION) == [world.a.organization.pk]
        assert found(user, "Engagement", Kind.ENGAGEMENT) == [world.a.objects["engagement"].pk]
    assert sorted(found(world.other_manager, "서버")) == [other.pk]
    assert sorted(found(world.admin, "서버")) == sorted([own.pk, other.pk])
    for role in ("poc", "member", "manager"):
        body = api(world.user(role), q="Disk full").json()
        cases = next(group for group in body["groups"] if group["type"] == "case")
        assert [hit["id"] for hit in cases["results"]] == [own.pk]
        assert cases["count"] == 1
        assert "Tenant b" not in str(api(world.user(role), q="Tenant").json())


def test_engagements_organizations_and_sessions_are_found(world):
    engagement = world.a.objects["engagement"]
    session = Occurrence.objects.create(
        engagement=engagement,
        deliverable="service_review",
        period="as_needed:search-1",
        scheduled_start=timezone.now() - timedelta(days=2),
        method="video",
        minutes="용량 계획을 검토했습니다. Capacity plan agreed.",
    )
    Occurrence.objects.create(
        engagement=world.b.objects["engagement"],
        deliverable="service_review",
        period="as_needed:search-2",
        scheduled_start=timezone.now() - timedelta(days=2),
        method="video",
        minutes="용량 계획 (tenant B)",
    )
    assert found(world.a.poc, "용량 계획", Kind.SESSION) == [session.pk]
    assert found(world.manager, "capacity", Kind.SESSION) == [session.pk]
    # By what it delivers, as named in the catalog.
    assert session.pk in found(world.a.poc, "service review", Kind.SESSION)
    # ... in either language, whichever language the viewer reads the portal in.
    from django.utils import translation

    from engagements.catalog.models import ServiceFunction

    korean = ServiceFunction.objects.get(code="service_review").name_ko
    assert korean
    with translation.override("en"):
        assert session.pk in found(world.a.poc, korean, Kind.SESSION)
    with translation.override("ko"):
        assert session.pk in found(world.a.poc, "service review", Kind.SESSION)
    assert found(world.a.poc, "corporation", Kind.ORGANIZATION) == [world.a.organization.pk]
    assert found(world.a.poc, "tenant-a", Kind.ORGANIZATION) == [world.a.organization.pk]
    assert found(world.a.poc, "Engagement A", Kind.ENGAGEMENT) == [engagement.pk]
    assert found(world.manager, engagement.plan.name, Kind.ENGAGEMENT) == [engagement.pk]


def test_subject_hits_rank_before_description_hits_then_the_newest(world):
    in_description = raise_case(world.a, "Printer", "The invoice run fails")
    older_subject = raise_case(world.a, "Invoice run fails")
    newer_subject = raise_case(world.a, "Invoice totals wrong")
    in_both = raise_case(world.a, "Invoice export", "invoice missing")
    now = timezone.now()
    for case, age in ((older_subject, 3), (newer_subject, 1), (in_description, 0), (in_both, 5)):
        Case.objects.filter(pk=case.pk).update(received_at=now - timedelta(hours=age))
    ranked = found(world.manager, "invoice")
    assert ranked[-1] == in_description.pk
    assert set(ranked[:3]) == {older_subject.pk, newer_subject.pk, in_both.pk}
    assert ranked.index(newer_subject.pk) < ranked.index(older_subject.pk)


def test_snippets_and_highlights(world):
    text = "lorem " * 60 + "결제 서버가 멈췄습니다 " + "ipsum " * 60
    cut = snippet(text, ["서버"])
    assert "서버" in cut and cut.startswith("…") and cut.endswith("…") and len(cut) <= 162
    assert str(highlight("<b>Server</b> down", ["server"])) == (
        "&lt;b&gt;<mark>Server</mark>&lt;/b&gt; down"
    )


# --- The page -------------------------------------------------------------------------------------


def test_the_page_groups_results_with_counts_in_english_and_korean(world):
    case = raise_case(world.a, "결제 장애", KOREAN_DESCRIPTION)
    client = page_client(world.a.poc)
    response = client.get(reverse("search"), {"q": "서버"})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="search-case-{case.pk}"' in body
    assert "<mark>서버</mark>" in body
    assert 'id="search-case-title">Cases <span class="badge">1</span>' in body
    world.a.poc.language = "ko"
    world.a.poc.save()
    body = page_client(world.a.poc).get(reverse("search"), {"q": "서버"}).content.decode()
    assert 'id="search-case-title">케이스 <span class="badge">1</span>' in body
    assert "“서버” 검색 결과 1건" in body


def test_the_page_pages_through_one_kind(world):
    for step in range(30):
        raise_case(world.a, f"Paged item {step}")
    client = page_client(world.manager)
    overview = client.get(reverse("search"), {"q": "Paged"}).content.decode()
    assert overview.count('<li id="search-case-') == 10
    assert "type=case" in overview
    first = client.get(reverse("search"), {"q": "Paged", "type": "case"}).content.decode()
    assert first.count('<li id="search-case-') == 25 and "page=2" in first
    second = client.get(reverse("search"), {"q": "Paged", "type": "case", "page": 2})
    assert second.content.decode().count('<li id="search-case-') == 5


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("x", "Type at least 2 characters."),
        ("x" * 101, "Ensure this value has at most 100 characters"),
        ("bad\x00word", "Null characters are not allowed."),
        ("bad\x01word", "control characters are not allowed"),
        ("a b c d e f g h i", "Use at most 8 words."),
    ],
)
def test_the_page_refuses_bad_queries(world, query, message):
    response = page_client(world.a.poc).get(reverse("search"), {"q": query})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_page_refuses_an_unknown_kind_and_prompts_on_an_empty_query(world):
    client = page_client(world.a.poc)
    assert client.get(reverse("search"), {"q": "word", "type": "risk"}).status_code == 400
    empty = client.get(reverse("search"), {"q": "   "})
    assert empty.status_code == 200
    assert 'id="search-prompt"' in empty.content.decode()


def test_the_header_box_is_on_every_page_and_keeps_the_query(world):
    client = page_client(world.a.poc)
    assert 'id="site-search"' in client.get(reverse("dashboard")).content.decode()
    body = client.get(reverse("search"), {"q": "결제"}).content.decode()
    assert 'id="site-search" name="q" value="결제"' in body


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("search"), {"q": "anything"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- The API --------------------------------------------------------------------------------------


def test_the_api_answers_groups_with_counts(world):
    case = raise_case(world.a, "결제 장애", KOREAN_DESCRIPTION)
    response = api(world.a.poc, q="서버")
    assert response.status_code == 200
    body = response.json()
    assert body["q"] == "서버"
    assert [group["type"] for group in body["groups"]] == [
        "case",
        "engagement",
        "organization",
        "session",
    ]
    hit = body["groups"][0]["results"][0]
    assert hit["id"] == case.pk and hit["url"] == f"/cases/{case.pk}/"
    assert hit["status"] == "new" and "서버" in hit["snippet"]
    assert hit["organization"] == world.a.organization.name
    only = api(world.a.poc, q="서버", type="case").json()
    assert [group["type"] for group in only["groups"]] == ["case"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x"}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": "bad\x00word"}, "q"),
        ({"q": "bad\nword"}, "q"),
        ({"q": "word", "type": "risk"}, "type"),
        ({"q": "word", "qq": "1"}, "qq"),
    ],
)
def test_the_api_refuses_bad_input(world, params, field):
    response = api(world.a.poc, **params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["fields"]


def test_the_api_needs_authentication(world, api_client):
    response = api_client.get(reverse("search-api"), {"q": "word"})
    assert response.status_code in (401, 403)
    assert response.json()["code"] in ("not_authenticated", "authentication_failed")


def test_the_operation_is_in_the_schema(world):
    schema = signed_in(world.admin).get(reverse("api_schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/search/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {"q", "type"}
    assert "400" in operation["responses"]


# --- PostgreSQL: the trigram indexes serve the matches ------------------------------------------


def test_trigram_indexes_answer_the_case_search(world, require_postgres):
    from django.db import connection, transaction

    from reviews.search.selectors import case_matches

    raise_case(world.a, "결제 장애", KOREAN_DESCRIPTION)
    # Each word's items are a union of ids read from the indexes (subject or description,
    # comments), not a filter over every row.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is too small to matter
        with acting_as(world.admin):  # every tenant: no scope filter to start from
            plan = case_matches(world.admin, ["결제서버"]).explain()
    for index in (
        "search_case_subject_trgm",
        "search_case_description_trgm",
        "search_caseevent_body_trgm",
    ):
        assert f"Bitmap Index Scan on {index}" in plan, plan
