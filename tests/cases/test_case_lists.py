"""The case list's sortable columns, filters in the URL, saved views and bulk actions: the
page, the API and the services behind them (in the actor's scope)."""

import re
import sys
from html import unescape
from urllib.parse import parse_qs

import pytest
from django.urls import reverse

from cases.casework import services as casework_services
from cases.casework import views as casework_views
from cases.casework.models import Case, RootCauseAnalysis
from cases.savedviews import services as savedviews
from cases.savedviews.models import SavedView
from engagements.catalog.models import Plan
from portal.errors import DomainError, InvalidInput, NotAllowed
from tests.conftest import page_client, services_act_in_their_scope, signed_in

pytestmark = pytest.mark.django_db
CASES = "/api/v1/cases/"
BULK = "/api/v1/cases/bulk/"
VIEWS = "/api/v1/saved-views/"
MISSING = 987_654


@pytest.fixture(autouse=True)
def _in_scope(monkeypatch):
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


def raise_case(world, subject, *, tenant=None, severity=2, kind="inquiry"):
    tenant = tenant or world.a
    return casework_services.case_raise(
        acting_user=tenant.poc,
        engagement=tenant.objects["engagement"],
        kind=kind,
        severity=severity,
        subject=subject,
    )


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="case-(\d+)"', html)]


def page(client, **query) -> str:
    response = client.get(reverse("case_list"), query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}, body
    assert body["code"] == code, body
    return body


def api_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- Sorting ---------------------------------------------------------------------------------


@pytest.fixture
def sortable(world):
    """Five of tenant A's items: two share a subject (the tie goes by id), severities and
    statuses differ, one is unassigned; and one of tenant B's."""
    cases = {
        "charlie": raise_case(world, "charlie", severity=3),
        "alpha1": raise_case(world, "alpha", severity=1),
        "bravo": raise_case(world, "bravo", severity=0, kind="incident"),
        "alpha2": raise_case(world, "alpha", severity=2),
        "delta": raise_case(world, "delta", severity=1),
    }
    casework_services.case_set_status(
        acting_user=world.manager, case=cases["delta"], status="in_progress"
    )
    casework_services.case_set_status(
        acting_user=world.manager, case=cases["charlie"], status="awaiting_customer"
    )
    casework_services.case_assign(acting_user=world.admin, case=cases["bravo"], assignee=None)
    raise_case(world, "echo of tenant b", tenant=world.b)
    return {name: case.pk for name, case in cases.items()}


def expected(world, sort: str) -> list[int]:
    """The order `sort` must give over tenant A's items, computed in Python."""
    cases = list(Case.objects.filter(engagement=world.a.objects["engagement"]))
    descending = sort.startswith("-")
    key = sort.lstrip("-")

    def value(case):
        return {
            "subject": case.subject,
            "severity": case.severity,
            "status": case.status,
            "raised": case.received_at,
            "due": case.response_due_at,
        }[key]

    return [case.pk for case in sorted(cases, key=lambda c: (value(c), c.pk), reverse=descending)]


@pytest.mark.parametrize("sort", ["subject", "severity", "status", "raised", "due"])
@pytest.mark.parametrize("descending", [False, True])
def test_page_and_api_sort_by_each_column_with_ties_by_id(world, sortable, sort, descending):
    sort = f"-{sort}" if descending else sort
    want = expected(world, sort)
    assert row_ids(page(page_client(world.a.poc), sort=sort)) == want
    # The manager's page too (open items by default: all five are open).
    assert row_ids(page(page_client(world.manager), sort=sort)) == want
    # The API, one item per page through the keyset cursor: the same order, nothing twice.
    client = signed_in(world.a.poc)
    seen: list[int] = []
    url: str | None = f"{CASES}?sort={sort}&page_size=2"
    while url:
        response = client.get(url)
        seen += api_ids(response)
        url = response.json()["next"]
    assert seen == want


def test_sort_by_assignee_puts_the_unassigned_last_both_ways(world, sortable):
    for sort in ("assignee", "-assignee"):
        ids = row_ids(page(page_client(world.manager), sort=sort))
        assert ids[-1] == sortable["bravo"], sort
        assert len(ids) == 5


def test_sort_by_engagement_for_an_admin(world, sortable):
    ids = row_ids(page(page_client(world.admin), sort="-engagement"))
    b_case = Case.objects.get(subject="echo of tenant b").pk
    assert ids[0] == b_case  # "Engagement B" first, descending
    assert row_ids(page(page_client(world.admin), sort="engagement"))[-1] == b_case


def test_header_links_keep_the_filters_and_say_the_direction(world, sortable):
    html = page(page_client(world.manager), severity="1", q="l", sort="subject")
    heads = dict(re.findall(r'<a href="\?([^"]+)" class="sort-link" data-sort="(\w+)"', html))
    heads = {key: parse_qs(unescape(query)) for query, key in heads.items()}
    assert heads["subject"]["sort"] == ["-subject"]  # the current one turns round
    assert heads["due"]["sort"] == ["due"]
    for query in heads.values():
        assert query["severity"] == ["1"] and query["q"] == ["l"] and "page" not in query
    assert '<th scope="col" aria-sort="ascending"><a href="?' in html
    assert html.count("aria-sort=") == 1
    # The filter form keeps the sort when filters change.
    assert '<input type="hidden" name="sort" value="subject">' in html
    # Descending is said as such.
    html = page(page_client(world.manager), sort="-due")
    assert 'aria-sort="descending"' in html


def test_pages_keep_filters_and_sort(world, sortable, monkeypatch):
    monkeypatch.setattr(casework_views, "PAGE_SIZE", 2)
    html = page(page_client(world.a.poc), sort="-subject", kind="inquiry")
    links = re.findall(r'<a href="\?([^"]+)">Next</a>', html)
    assert len(links) == 1
    query = parse_qs(unescape(links[0]))
    assert query == {"sort": ["-subject"], "kind": ["inquiry"], "page": ["2"]}
    first = row_ids(html)
    second = row_ids(page(page_client(world.a.poc), sort="-subject", kind="inquiry", page=2))
    inquiries = [pk for pk in expected(world, "-subject") if pk != sortable["bravo"]]
    assert first + second == inquiries[:4]


@pytest.mark.parametrize("role", ["poc", "manager"])
def test_pages_across_engagements_follow_one_order_with_a_capped_count(
    world, role, monkeypatch, spread_cases
):
    """The page's ids come from each engagement's first rows (`page_ids` with an offset): the
    pages, followed by their links, are those of one sort over every row (ties of
    `received_at` across engagements broken by id). Past `PAGE_COUNT_CAP` items the pager says
    "more than", and a page number past the end shows the last page."""
    from cases.casework import selectors as casework_selectors

    monkeypatch.setattr(casework_views, "PAGE_SIZE", 4)
    monkeypatch.setattr(casework_selectors, "PAGE_COUNT_CAP", 9)
    expected = spread_cases(14)
    client = page_client(world.user(role))
    query = {"sort": "-raised"} if role == "manager" else {}
    seen, html, number = [], page(client, **query), 1
    while True:
        seen += row_ids(html)
        assert f"Page {number} of more than 9 items" in html
        links = re.findall(r'<a href="\?([^"]+)">Next</a>', html)
        if not links:
            break
        number += 1
        assert parse_qs(unescape(links[0]))["page"] == [str(number)]
        html = page(client, **query, page=number)
    assert seen == expected and number == 4
    # Past the end: the last page, counted exactly; not a number: the first.
    last = page(client, **query, page=99)
    assert row_ids(last) == expected[12:] and "Page 4 of 4" in last
    assert row_ids(page(client, **query, page="x")) == expected[:4]
    # Under the cap the count is exact.
    monkeypatch.setattr(casework_selectors, "PAGE_COUNT_CAP", 100)
    assert "Page 1 of 4" in page(client, **query)


def test_free_text_q_filters_by_subject(world, sortable):
    assert sorted(row_ids(page(page_client(world.a.poc), q="ALPHA"))) == sorted(
        [sortable["alpha1"], sortable["alpha2"]]
    )
    # Another tenant's subject is never found.
    assert row_ids(page(page_client(world.a.poc), q="tenant b")) == []
    # A NUL (which PostgreSQL refuses in a pattern) is a form error, not a 500.
    assert "errorlist" in page(page_client(world.a.poc), q="a\x00b")


def test_an_unknown_sort_is_a_message_on_the_page_and_a_400_on_the_api(world, sortable):
    html = page(page_client(world.a.poc), sort="password")
    assert 'id="sort-error"' in html and "cannot be sorted by" in html
    assert len(row_ids(html)) == 5
    # Customers have no assignee column to sort by.
    assert 'id="sort-error"' in page(page_client(world.a.poc), sort="-assignee")
    assert 'id="sort-error"' not in page(page_client(world.manager), sort="-assignee")
    for query in ("sort=password", "sort=-assignee", "ordering=nope", "sort=due&ordering=-due"):
        body = assert_error(signed_in(world.a.poc).get(f"{CASES}?{query}"), 400, "validation_error")
        assert set(body["fields"]) <= {"sort", "ordering"} and body["fields"]


def test_the_api_schema_documents_sort_and_ordering(world):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = {p["name"]: p for p in schema["paths"][CASES]["get"]["parameters"]}
    assert "-due" in parameters["sort"]["schema"]["enum"]
    assert "subject" in parameters["ordering"]["schema"]["enum"]
    assert "/api/v1/cases/bulk/" in schema["paths"]
    assert "/api/v1/saved-views/{id}/" in schema["paths"]


# --- Saved views -----------------------------------------------------------------------------


def test_saved_view_create_keeps_only_filters_and_sort(world):
    view = savedviews.saved_view_create(
        acting_user=world.a.poc,
        name="  My   open  incidents ",
        query="?page=3&kind=incident&state=open&sort=-due&evil=1&q=",
    )
    assert view.name == "My open incidents"
    assert view.query == "kind=incident&state=open&sort=-due"
    assert view.owner == world.a.poc


def test_saved_view_names_are_unique_per_user_and_capped(world, monkeypatch):
    savedviews.saved_view_create(acting_user=world.a.poc, name="Mine", query="")
    with pytest.raises(InvalidInput) as refused:
        savedviews.saved_view_create(acting_user=world.a.poc, name="MINE", query="sort=due")
    assert "name" in refused.value.fields
    # Another user may use the same name.
    savedviews.saved_view_create(acting_user=world.a.member, name="Mine", query="")
    SavedView.objects.bulk_create(SavedView(owner=world.a.poc, name=f"View {n}") for n in range(49))
    assert SavedView.objects.filter(owner=world.a.poc).count() == savedviews.MAX_VIEWS_PER_USER
    with pytest.raises(InvalidInput) as refused:
        savedviews.saved_view_create(acting_user=world.a.poc, name="One too many", query="")
    assert "50" in str(refused.value.fields["name"][0])
    assert SavedView.objects.filter(owner=world.a.poc).count() == 50


def test_saved_view_rename_default_and_delete_are_the_owners_only(world):
    view = savedviews.saved_view_create(acting_user=world.a.poc, name="Mine", query="sort=due")
    other = savedviews.saved_view_create(acting_user=world.a.poc, name="Other", query="")
    for call in (
        lambda: savedviews.saved_view_rename(acting_user=world.a.member, view=view, name="X"),
        lambda: savedviews.saved_view_delete(acting_user=world.a.member, view=view),
        lambda: savedviews.saved_view_set_default(
            acting_user=world.a.member, view=view, is_default=True
        ),
    ):
        with pytest.raises(DomainError) as refused:
            call()
        assert refused.value.status_code == 404
    with pytest.raises(InvalidInput):
        savedviews.saved_view_rename(acting_user=world.a.poc, view=view, name="other")
    assert (
        savedviews.saved_view_rename(acting_user=world.a.poc, view=view, name="Due").name == "Due"
    )
    savedviews.saved_view_set_default(acting_user=world.a.poc, view=view, is_default=True)
    savedviews.saved_view_set_default(acting_user=world.a.poc, view=other, is_default=True)
    view.refresh_from_db()
    assert not view.is_default  # one default per user
    savedviews.saved_view_delete(acting_user=world.a.poc, view=view)
    assert list(SavedView.objects.filter(owner=world.a.poc)) == [other]


def test_the_page_saves_a_view_opens_it_and_deletes_it(world, sortable):
    client = page_client(world.a.poc)
    response = client.post(
        reverse("saved_view_create"),
        {"name": "Alphas", "query": "q=alpha&sort=-subject&page=2", "is_default": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/cases/?q=alpha&sort=-subject"
    view = SavedView.objects.get(owner=world.a.poc)
    html = page(client, q="alpha", sort="-subject")
    assert "Saved the view" in html and ">Alphas</a>" in html
    assert 'href="/cases/?q=alpha&amp;sort=-subject" aria-current="true"' in html
    # The default opens when the list is asked for bare; Reset does not bring it back.
    assert client.get(reverse("case_list"))["Location"] == "/cases/?q=alpha&sort=-subject"
    assert len(row_ids(page(client, reset="1"))) == 5
    # A name already taken is a message, not a 500, and keeps the list's query.
    again = client.post(reverse("saved_view_create"), {"name": "alphas", "query": "sort=due"})
    assert again["Location"] == "/cases/?sort=due"
    assert "already have a view" in page(client, sort="due")
    # Someone else's view is not found.
    assert (
        page_client(world.a.member).post(reverse("saved_view_delete", args=[view.pk])).status_code
        == 404
    )
    response = client.post(reverse("saved_view_delete", args=[view.pk]), {"query": "sort=due"})
    assert response["Location"] == "/cases/?sort=due"
    assert not SavedView.objects.exists()


def test_a_saved_view_never_shows_more_than_the_viewer_may_see(world, sortable):
    foreign = world.b.objects["engagement"].pk
    view = savedviews.saved_view_create(
        acting_user=world.a.poc, name="Peek", query=f"engagement={foreign}"
    )
    html = page(page_client(world.a.poc), engagement=str(foreign))
    assert row_ids(html) == [] or "echo of tenant b" not in html
    assert "echo of tenant b" not in html
    assert view.query == f"engagement={foreign}"


def test_saved_views_api_crud_is_owner_only(world):
    client = signed_in(world.a.poc)
    created = client.post(VIEWS, {"name": "Due first", "query": "sort=due&page=9"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["query"] == "sort=due" and body["url"] == "/cases/?sort=due"
    assert not body["is_default"]
    pk = body["id"]
    assert [row["id"] for row in client.get(VIEWS).json()["results"]] == [pk]
    changed = client.patch(f"{VIEWS}{pk}/", {"name": "Due", "is_default": True}, format="json")
    assert changed.status_code == 200 and changed.json()["name"] == "Due"
    assert changed.json()["is_default"] is True
    assert_error(
        client.post(VIEWS, {"name": "due", "query": ""}, format="json"), 400, "validation_error"
    )
    assert_error(
        client.post(VIEWS, {"name": "x", "owner": world.a.member.pk}, format="json"),
        400,
        "validation_error",
    )
    other = signed_in(world.a.member)
    assert other.get(VIEWS).json()["results"] == []
    missing = other.get(f"{VIEWS}{MISSING}/")
    assert_error(other.get(f"{VIEWS}{pk}/"), 404, "not_found")
    assert other.get(f"{VIEWS}{pk}/").json() == missing.json()
    assert_error(other.patch(f"{VIEWS}{pk}/", {"name": "Mine"}, format="json"), 404, "not_found")
    assert_error(other.delete(f"{VIEWS}{pk}/"), 404, "not_found")
    assert client.delete(f"{VIEWS}{pk}/").status_code == 204
    assert not SavedView.objects.exists()


# --- Bulk actions ----------------------------------------------------------------------------


def test_bulk_assign_and_status_through_the_api(world, sortable):
    client = signed_in(world.manager)
    ids = [sortable["alpha1"], sortable["alpha2"], sortable["bravo"]]
    response = client.post(
        BULK, {"ids": ids, "action": "assign", "assignee": world.manager.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"changed": 3}
    assert set(Case.objects.filter(pk__in=ids).values_list("assignee", flat=True)) == {
        world.manager.pk
    }
    response = client.post(
        BULK, {"ids": ids, "action": "status", "status": "in_progress"}, format="json"
    )
    assert response.json() == {"changed": 3}
    assert set(Case.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"in_progress"}


def test_bulk_with_a_refused_item_changes_nothing_and_names_it(world, sortable):
    # bravo is a severity-0 incident: closing it needs an RCA; the others may close.
    ids = [sortable["alpha1"], sortable["bravo"], sortable["alpha2"]]
    client = signed_in(world.manager)
    assert (
        client.post(
            BULK, {"ids": ids, "action": "status", "status": "resolved"}, format="json"
        ).status_code
        == 200
    )
    body = assert_error(
        client.post(BULK, {"ids": ids, "action": "status", "status": "closed"}, format="json"),
        409,
        "conflict",
    )
    assert f"#{sortable['bravo']}" in body["detail"] and body["fields"]["ids"]
    assert set(Case.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"resolved"}
    # With the RCA recorded, the same batch closes them all.
    RootCauseAnalysis.objects.create(
        case_id=sortable["bravo"],
        findings="f",
        corrective_actions="c",
        delivery_method="email",
        delivered_at=Case.objects.get(pk=sortable["bravo"]).received_at,
    )
    assert client.post(
        BULK, {"ids": ids, "action": "status", "status": "closed"}, format="json"
    ).json() == {"changed": 3}


def test_bulk_assign_to_someone_not_serving_one_item_rolls_back(world, sortable):
    b_case = Case.objects.get(subject="echo of tenant b")
    ids = [sortable["alpha1"], b_case.pk]
    casework_services.case_assign(
        acting_user=world.admin, case=Case(pk=sortable["alpha1"]), assignee=None
    )
    with pytest.raises(InvalidInput) as refused:
        casework_services.cases_bulk_assign(
            acting_user=world.admin, ids=ids, assignee=world.manager
        )
    assert f"#{b_case.pk}" in refused.value.detail
    assert Case.objects.get(pk=sortable["alpha1"]).assignee_id is None


def test_bulk_assign_respects_the_cap(world, sortable):
    ids = [sortable["alpha1"], sortable["alpha2"], sortable["charlie"]]
    for pk in ids:
        casework_services.case_assign(acting_user=world.admin, case=Case(pk=pk), assignee=None)
    held = casework_services.open_case_count(world.manager)
    plan = world.a.objects["engagement"].plan
    Plan.objects.filter(pk=plan.pk).update(max_open_cases_per_manager=held + 2)
    body = assert_error(
        signed_in(world.manager).post(
            BULK, {"ids": ids, "action": "assign", "assignee": world.manager.pk}, format="json"
        ),
        409,
        "manager_case_cap_reached",
    )
    assert f"#{max(ids)}" in body["detail"]
    assert casework_services.open_case_count(world.manager) == held
    assert not Case.objects.filter(pk__in=ids, assignee__isnull=False).exists()


def test_bulk_is_capped_and_for_staff_only(world, sortable):
    client = signed_in(world.manager)
    body = assert_error(
        client.post(
            BULK,
            {"ids": list(range(1, 102)), "action": "status", "status": "resolved"},
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "100" in body["fields"]["ids"][0]
    assert_error(
        client.post(BULK, {"ids": [], "action": "assign", "assignee": None}, format="json"),
        400,
        "validation_error",
    )
    assert_error(
        client.post(BULK, {"ids": [sortable["alpha1"]], "action": "status"}, format="json"),
        400,
        "validation_error",
    )
    assert_error(
        signed_in(world.a.poc).post(
            BULK,
            {"ids": [sortable["alpha1"]], "action": "status", "status": "resolved"},
            format="json",
        ),
        403,
        "permission_denied",
    )
    with pytest.raises(NotAllowed):
        casework_services.cases_bulk_set_status(
            acting_user=world.a.poc, ids=[sortable["alpha1"]], status="resolved"
        )
    assert (
        page_client(world.a.poc)
        .post(
            reverse("case_bulk"),
            {"ids": [sortable["alpha1"]], "action": "status", "status": "resolved"},
        )
        .status_code
        == 403
    )


def test_bulk_with_another_tenants_item_answers_like_a_missing_one(world, sortable):
    b_case = Case.objects.get(subject="echo of tenant b")
    client = signed_in(world.manager)
    own = sortable["alpha1"]
    foreign = client.post(
        BULK, {"ids": [own, b_case.pk], "action": "status", "status": "resolved"}, format="json"
    )
    body = assert_error(foreign, 404, "not_found")
    assert "echo" not in str(body)
    # The same answer as an id that does not exist, with the same position.
    absent = client.post(
        BULK,
        {"ids": [own, b_case.pk + 1000], "action": "status", "status": "resolved"},
        format="json",
    )
    assert assert_error(absent, 404, "not_found")["fields"]["ids"][0].replace(
        str(b_case.pk + 1000), "N"
    ) == body["fields"]["ids"][0].replace(str(b_case.pk), "N")
    assert Case.objects.get(pk=own).status == "new"
    # The page: the same refusal as a message, nothing changed.
    response = page_client(world.manager).post(
        reverse("case_bulk"),
        {"ids": [own, b_case.pk], "action": "status", "status": "resolved", "query": "sort=due"},
        follow=True,
    )
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == "/cases/?sort=due"
    assert f"No item #{b_case.pk} was found" in html and "echo of tenant b" not in html
    assert Case.objects.get(pk=own).status == "new"


def test_the_page_bulk_assigns_and_keeps_the_lists_query(world, sortable):
    client = page_client(world.manager)
    html = page(client, sort="-due", q="alpha")
    assert 'form="bulk-form"' in html and 'name="action" value="assign"' in html
    assert '<input type="hidden" name="query" value="q=alpha&amp;sort=-due">' in html
    # Customers get no checkboxes.
    assert 'form="bulk-form"' not in page(page_client(world.a.poc))
    ids = [sortable["alpha1"], sortable["alpha2"]]
    deputy = world.a.objects["engagement"].deputy
    response = client.post(
        reverse("case_bulk"),
        {"ids": ids, "action": "assign", "assignee": deputy.pk, "query": "q=alpha&sort=-due"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/cases/?q=alpha&sort=-due"
    assert f"2 items assigned to {deputy}" in response.content.decode()
    assert set(Case.objects.filter(pk__in=ids).values_list("assignee", flat=True)) == {deputy.pk}
    # Nothing ticked: a message, not a 500.
    response = client.post(
        reverse("case_bulk"), {"action": "status", "status": "resolved"}, follow=True
    )
    assert "Choose at least one item" in response.content.decode()
    # A status the list does not offer is a message too.
    response = client.post(
        reverse("case_bulk"), {"ids": ids, "action": "status", "status": "new"}, follow=True
    )
    assert response.status_code == 200 and "messages" in response.content.decode()
    assert set(Case.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"new"}


def test_the_page_sorted_and_with_views_in_korean(world, sortable):
    world.manager.language = "ko"
    world.manager.save(update_fields=["language"])
    client = page_client(world.manager)
    savedviews.saved_view_create(
        acting_user=world.manager, name="급한 케이스", query="sort=severity"
    )
    html = client.get(reverse("case_list"), {"sort": "severity"}).content.decode()
    assert "급한 케이스" in html
    assert "이 보기 저장" in html
    assert "배정할 담당자" in html and "제목 검색" in html
