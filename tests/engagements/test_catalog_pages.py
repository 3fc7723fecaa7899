"""Catalog pages: the entitlement grid, the cadence grid, plans and functions, with history."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagements.catalog import services
from engagements.catalog.models import Cadence, Entitlement, Plan, ServiceFunction
from portal.audit import AuditEntry
from tests.conftest import page_client

pytestmark = pytest.mark.django_db

PAGES = [
    ("catalog_matrix", False),
    ("catalog_cadences", False),
    ("catalog_plans", False),
    ("catalog_plan_create", False),
    ("catalog_plan_edit", True),
    ("catalog_functions", False),
    ("catalog_function_create", False),
    ("catalog_function_edit", True),
]


def catalog_entries() -> list[AuditEntry]:
    """The audit trail of the catalog (the seed writes none: it is nobody's change)."""
    return list(
        AuditEntry.objects.filter(
            object_type__in=("engagements.plan", "engagements.servicefunction")
        ).order_by("id")
    )


def url_of(name: str, needs_pk: bool) -> str:
    if not needs_pk:
        return reverse(name)
    model = Plan if "plan" in name else ServiceFunction
    return reverse(name, kwargs={"pk": model.objects.order_by("pk").first().pk})


class FormReader(HTMLParser):
    """What a browser would submit for the first POST form of a page, as it stands."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self.checkboxes: dict[str, bool] = {}  # "name=value" -> checked
        self._in_form = False
        self._done = False
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "form" and (attr.get("method") or "").lower() == "post" and not self._done:
            self._in_form = True
        if not self._in_form:
            return
        name = attr.get("name")
        if tag == "input" and name:
            kind = attr.get("type", "text")
            if kind == "checkbox":
                value = attr.get("value") or "on"
                self.checkboxes[f"{name}={value}"] = "checked" in attr
                if "checked" in attr:
                    self.data.setdefault(name, []).append(value)
            elif kind != "submit":
                self.data.setdefault(name, []).append(attr.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attr:
            self.data[self._select] = [attr.get("value") or ""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            if self._select and not self.data[self._select]:
                self.data[self._select] = [""]  # a browser submits the first option
            self._select = None
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def read_form(response) -> FormReader:
    assert response.status_code == 200, response.status_code
    reader = FormReader()
    reader.feed(response.content.decode())
    return reader


def ids(plan_code: str, function_code: str) -> tuple[int, int]:
    return (
        Plan.objects.get(code=plan_code).pk,
        ServiceFunction.objects.get(code=function_code).pk,
    )


def cell(plan_code: str, function_code: str) -> str:
    plan_id, function_id = ids(plan_code, function_code)
    return f"cell-{plan_id}-{function_id}"


def matrix() -> set[tuple[str, str]]:
    return set(Entitlement.objects.values_list("plan__code", "function__code"))


def cadences() -> dict[tuple[str, str], tuple[list[str], str]]:
    return {
        (c.plan.code, c.deliverable.code): (c.methods, c.frequency)
        for c in Cadence.objects.select_related("plan", "deliverable")
    }


def plan_settings() -> list[tuple]:
    return list(
        Plan.objects.order_by("pk").values_list(
            "code", "name", "max_contacts", "weekly_hours_cap", "response_target_business_days"
        )
    )


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- Who may use the pages --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["poc", "member", "manager"])
def test_only_provider_admins_may_use_the_catalog_pages(world, role):
    client = page_client(world.user(role))
    before = (
        matrix(),
        cadences(),
        plan_settings(),
        list(ServiceFunction.objects.values_list("code", "name")),
    )
    standard, release = ids("standard", "release_management")
    attempts = {
        "catalog_matrix": {"shown": f"{standard}-{release}"},
        "catalog_cadences": {"shown": f"{standard}-{release}"},
        "catalog_plan_create": {"code": "sneaky", "name": "Sneaky", "deployment": "saas"},
        "catalog_plan_edit": {"name": "Renamed", "max_contacts": "9"},
        "catalog_function_create": {"code": "sneaky", "name": "Sneaky"},
        "catalog_function_edit": {"name": "Renamed"},
    }
    for name, needs_pk in PAGES:
        url = url_of(name, needs_pk)
        assert client.get(url).status_code == 403, f"GET {name}"
        assert client.post(url, attempts.get(name, {})).status_code == 403, f"POST {name}"
    after = (
        matrix(),
        cadences(),
        plan_settings(),
        list(ServiceFunction.objects.values_list("code", "name")),
    )
    assert after == before
    assert catalog_entries() == []


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("catalog_matrix"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_admin_reaches_every_catalog_page_with_its_navigation(world):
    client = page_client(world.admin)
    for name, needs_pk in PAGES:
        response = client.get(url_of(name, needs_pk))
        assert response.status_code == 200, name
        body = response.content.decode()
        for section in ("catalog_matrix", "catalog_cadences", "catalog_plans", "catalog_functions"):
            assert f'href="{reverse(section)}"' in body


# --- The entitlement matrix -------------------------------------------------------------------


def test_matrix_shows_the_seeded_entitlements_ticked(world):
    form = read_form(page_client(world.admin).get(reverse("catalog_matrix")))
    boxes = {key.split("=")[0]: checked for key, checked in form.checkboxes.items()}
    plans, functions = Plan.objects.count(), ServiceFunction.objects.count()
    assert (plans, functions) == (3, 15)
    assert len(boxes) == plans * functions
    ticked = {name for name, checked in boxes.items() if checked}
    assert ticked == {cell(plan_code, code) for plan_code, code in matrix()}
    assert cell("standard", "release_management") in ticked
    assert cell("standard", "case_management") not in ticked
    assert cell("tsam", "environment_consulting") not in ticked


def test_matrix_toggles_exactly_the_changed_cells_and_records_who(world):
    client = page_client(world.admin)
    before = matrix()
    form = read_form(client.get(reverse("catalog_matrix")))
    del form.data[cell("standard", "release_management")]
    form.data[cell("standard", "case_management")] = ["on"]

    response = client.post(reverse("catalog_matrix"), form.data, follow=True)

    assert response.redirect_chain == [(reverse("catalog_matrix"), 302)]
    assert matrix() == (before - {("standard", "release_management")}) | {
        ("standard", "case_management")
    }
    text = page_text(response)
    assert "Entitlement matrix saved: 1 added, 1 removed." in text
    [entry] = catalog_entries()
    assert (entry.action, entry.actor) == ("plan.entitlements", world.admin)
    assert entry.object_id == str(Plan.objects.get(code="standard").pk)
    before, after = set(entry.before["entitlements"]), set(entry.after["entitlements"])
    assert (after - before, before - after) == ({"case_management"}, {"release_management"})
    history = text.split('id="matrix-history"')[1]
    assert re.search(
        r"Ada Admin</td> <td>SaaS Standard Service Management</td> "
        r"<td>Case management</td> <td><span[^>]*>\+ added",
        history,
    )
    assert re.search(
        r"Ada Admin</td> <td>SaaS Standard Service Management</td> "
        r"<td>Release management</td> <td><span[^>]*>- removed",
        history,
    )
    # The page now shows the new state.
    again = read_form(response)
    assert again.checkboxes[f"{cell('standard', 'case_management')}=on"] is True
    assert again.checkboxes[f"{cell('standard', 'release_management')}=on"] is False


def test_saving_an_unchanged_matrix_changes_nothing(world):
    client = page_client(world.admin)
    before = matrix()
    form = read_form(client.get(reverse("catalog_matrix")))
    response = client.post(reverse("catalog_matrix"), form.data, follow=True)
    assert "0 added, 0 removed" in page_text(response)
    assert matrix() == before and catalog_entries() == []


def test_a_stale_matrix_page_leaves_cells_it_did_not_show(world):
    """Another admin adds a function (and ticks it) after this page was loaded."""
    client = page_client(world.admin)
    form = read_form(client.get(reverse("catalog_matrix")))
    newcomer = services.service_function_save(
        acting_user=world.admin, code="newcomer", name="Newcomer", description=""
    )
    Entitlement.objects.create(plan=Plan.objects.get(code="premium"), function=newcomer)
    client.post(reverse("catalog_matrix"), form.data)
    assert ("premium", "newcomer") in matrix()


def test_a_matrix_post_without_the_grid_is_refused(world):
    before = matrix()
    response = page_client(world.admin).post(reverse("catalog_matrix"), {})
    assert response.status_code == 200
    assert matrix() == before


# --- Cadences ---------------------------------------------------------------------------------


def cadence_field(kind: str, plan_code: str, function_code: str) -> str:
    plan_id, function_id = ids(plan_code, function_code)
    return f"{kind}-{plan_id}-{function_id}"


def test_cadence_grid_shows_table_2(world):
    form = read_form(page_client(world.admin).get(reverse("catalog_cadences")))
    assert form.data[cadence_field("methods", "standard", "service_review")] == ["video"]
    assert form.data[cadence_field("frequency", "standard", "service_review")] == ["quarterly"]
    assert form.data[cadence_field("methods", "premium", "maintenance")] == [
        "video",
        "email",
        "phone",
    ]
    # A function the plan does not include has no cadence inputs.
    assert cadence_field("frequency", "standard", "case_management") not in form.data


def test_admin_changes_a_cadence(world):
    client = page_client(world.admin)
    form = read_form(client.get(reverse("catalog_cadences")))
    form.data[cadence_field("methods", "standard", "service_review")] = ["in_person", "video"]
    form.data[cadence_field("frequency", "standard", "service_review")] = ["monthly"]
    before = cadences()

    response = client.post(reverse("catalog_cadences"), form.data, follow=True)

    assert response.redirect_chain == [(reverse("catalog_cadences"), 302)]
    assert "Cadences saved: 1 cell changed." in page_text(response)
    expected = before | {("standard", "service_review"): (["in_person", "video"], "monthly")}
    assert cadences() == expected
    [entry] = catalog_entries()
    assert (entry.action, entry.actor) == ("plan.cadence", world.admin)
    assert (entry.before, entry.after) == (
        {"deliverable": "service_review", "methods": ["video"], "frequency": "quarterly"},
        {
            "deliverable": "service_review",
            "methods": ["in_person", "video"],
            "frequency": "monthly",
        },
    )
    history = page_text(response).split('id="cadence-history"')[1]
    assert re.search(
        r"Ada Admin</td> <td>SaaS Standard Service Management</td> <td>Service review</td> "
        r"<td><span[^>]*>~ changed</span></td> <td>In person, Video conference</td> "
        r"<td>Monthly</td>",
        history,
    )


def test_clearing_every_method_removes_the_cadence(world):
    client = page_client(world.admin)
    form = read_form(client.get(reverse("catalog_cadences")))
    del form.data[cadence_field("methods", "standard", "maintenance")]
    client.post(reverse("catalog_cadences"), form.data)
    assert ("standard", "maintenance") not in cadences()
    [entry] = catalog_entries()
    assert (entry.action, entry.before["deliverable"], entry.after) == (
        "plan.cadence",
        "maintenance",
        None,
    )
    history = page_text(client.get(reverse("catalog_cadences"))).split('id="cadence-history"')[1]
    assert re.search(r"<td>Maintenance</td> <td><span[^>]*>- removed", history)


def test_a_bad_cadence_cell_saves_nothing_and_is_marked(world):
    client = page_client(world.admin)
    form = read_form(client.get(reverse("catalog_cadences")))
    # A valid change ...
    form.data[cadence_field("methods", "standard", "service_review")] = ["in_person", "video"]
    form.data[cadence_field("frequency", "standard", "service_review")] = ["monthly"]
    # ... and a bad cell after it: methods but no frequency.
    form.data[cadence_field("methods", "premium", "release_management")] = ["phone"]
    form.data[cadence_field("frequency", "premium", "release_management")] = [""]
    before = cadences()

    response = client.post(reverse("catalog_cadences"), form.data)

    assert response.status_code == 200
    assert cadences() == before
    assert catalog_entries() == []
    body = response.content.decode()
    assert "Nothing was saved." in body
    assert "Choose a frequency." in body
    assert body.count("cell-invalid") == 1
    # The grid keeps what the admin entered.
    again = read_form(response)
    assert again.data[cadence_field("frequency", "standard", "service_review")] == ["monthly"]


# --- Plans ------------------------------------------------------------------------------------


def plan_form_data(client, plan: Plan, **changes: str) -> dict:
    form = read_form(client.get(reverse("catalog_plan_edit", kwargs={"pk": plan.pk})))
    data = {name: values[0] for name, values in form.data.items()}
    data.update(changes)
    return data


def test_plans_list_shows_their_settings(world):
    text = page_text(page_client(world.admin).get(reverse("catalog_plans")))
    positions = [text.index(f"<code>{code}</code>") for code in ("tsam", "standard", "premium")]
    assert positions == sorted(positions)  # in the catalog's order
    assert all(plan.name in text for plan in Plan.objects.all())
    assert "On-premises licence" in text and "Add-on purchase" in text
    assert "10.00" in text and "2.00" in text


def test_plan_edit_records_before_and_after(world):
    plan = Plan.objects.get(code="standard")
    client = page_client(world.admin)
    data = plan_form_data(client, plan, weekly_hours_cap="12")

    response = client.post(reverse("catalog_plan_edit", kwargs={"pk": plan.pk}), data, follow=True)

    plan.refresh_from_db()
    assert plan.weekly_hours_cap == Decimal("12")
    text = page_text(response)
    assert "Plan SaaS Standard Service Management saved." in text
    history = text.split('id="record-history"')[1]
    assert re.search(
        r"Ada Admin</td> <td>Weekly hours cap</td> <td class=\"before\">10.00</td> "
        r"<td class=\"after\">12.00</td>",
        history,
    )
    [entry] = catalog_entries()
    assert (entry.action, entry.actor) == ("plan.update", world.admin)
    assert (entry.before["weekly_hours_cap"], Decimal(entry.after["weekly_hours_cap"])) == (
        "10.00",
        Decimal("12"),
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_contacts", "0", "greater than or equal to 1"),
        ("max_contacts", "many", "Enter a whole number."),
        ("weekly_hours_cap", "lots", "Enter a number."),
        ("deployment", "cloud", "Select a valid choice."),
        ("name", "", "This field is required."),
    ],
)
def test_invalid_plan_settings_are_refused(world, field, value, message):
    plan = Plan.objects.get(code="premium")
    client = page_client(world.admin)
    before = plan_settings()
    data = plan_form_data(client, plan, **{"weekly_hours_cap": "11", field: value})

    response = client.post(reverse("catalog_plan_edit", kwargs={"pk": plan.pk}), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert plan_settings() == before
    assert catalog_entries() == []


def test_admin_creates_a_plan(world):
    client = page_client(world.admin)
    response = client.post(
        reverse("catalog_plan_create"),
        {
            "code": "enterprise",
            "name": "Enterprise Service Management",
            "deployment": "saas",
            "pricing": "add_on",
            "response_target_business_days": "0.5",
            "max_contacts": "5",
            "weekly_hours_cap": "20",
            "max_open_cases_per_manager": "25",
            "weekly_call": "on",
        },
    )
    plan = Plan.objects.get(code="enterprise")
    assert response["Location"] == reverse("catalog_plan_edit", kwargs={"pk": plan.pk})
    assert (plan.max_contacts, plan.weekly_hours_cap, plan.weekly_call) == (5, 20, True)
    [entry] = catalog_entries()
    assert (entry.action, entry.object_id, entry.actor) == (
        "plan.create",
        str(plan.pk),
        world.admin,
    )
    # A duplicate code is refused on the form.
    duplicate = client.post(
        reverse("catalog_plan_create"),
        {
            "code": "enterprise",
            "name": "Again",
            "deployment": "saas",
            "pricing": "add_on",
            "response_target_business_days": "1",
            "max_contacts": "3",
            "weekly_hours_cap": "10",
            "max_open_cases_per_manager": "30",
        },
    )
    assert duplicate.status_code == 200
    assert "Give a new, unique plan code." in duplicate.content.decode()
    assert Plan.objects.filter(code="enterprise").count() == 1
    # The new plan is a column of the grid.
    grid = read_form(client.get(reverse("catalog_matrix")))
    assert f"cell-{plan.pk}-{ServiceFunction.objects.first().pk}=on" in grid.checkboxes


# --- Service functions ------------------------------------------------------------------------


def test_renaming_a_function_keeps_its_code(world):
    function = ServiceFunction.objects.get(code="service_review")
    client = page_client(world.admin)
    url = reverse("catalog_function_edit", kwargs={"pk": function.pk})
    response = client.post(
        url,
        {"code": "hijacked", "name": "Quarterly business review", "description": "Trends."},
        follow=True,
    )
    function.refresh_from_db()
    assert (function.code, function.name, function.description) == (
        "service_review",
        "Quarterly business review",
        "Trends.",
    )
    text = page_text(response)
    assert "Service function Quarterly business review saved." in text
    history = text.split('id="record-history"')[1]
    assert "Ada Admin" in history and "Quarterly business review" in history
    [entry] = catalog_entries()
    assert (entry.action, entry.actor) == ("service_function.update", world.admin)
    assert (entry.before["name"], entry.after["name"]) == (
        "Service review",
        "Quarterly business review",
    )


def test_admin_creates_a_function_and_a_blank_name_is_refused(world):
    client = page_client(world.admin)
    client.post(
        reverse("catalog_function_create"),
        {"code": "security_review", "name": "Security review", "description": ""},
    )
    assert ServiceFunction.objects.get(code="security_review").name == "Security review"
    response = client.post(
        reverse("catalog_function_create"), {"code": "blank", "name": "   ", "description": ""}
    )
    assert response.status_code == 200
    assert not ServiceFunction.objects.filter(code="blank").exists()


# --- Query budgets ----------------------------------------------------------------------------


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def grow(admin, size: int) -> None:
    """Add `size` functions and `size` changes to every history the pages show."""
    plan = Plan.objects.get(code="standard")
    first = ServiceFunction.objects.order_by("pk").first()
    start = ServiceFunction.objects.count()
    for index in range(size):
        function = services.service_function_save(
            acting_user=admin, code=f"extra_{start + index}", name=f"Extra {start + index}"
        )
        services.entitlement_matrix_set(
            acting_user=admin,
            cells=[
                *Entitlement.objects.values_list("plan_id", "function_id"),
                (plan.pk, function.pk),
            ],
        )
        services.cadence_set(
            acting_user=admin,
            plan=plan,
            deliverable=function,
            methods=["email"],
            frequency="weekly",
        )
        services.plan_save(acting_user=admin, plan=plan, max_contacts=3 + index % 2)
        services.service_function_save(
            acting_user=admin, function=first, name=f"{first.code} {index}", description=""
        )


@pytest.mark.parametrize(("name", "needs_pk"), PAGES)
def test_catalog_pages_issue_constant_queries(world, name, needs_pk):
    client = page_client(world.admin)
    client.get(url_of(name, needs_pk))  # the session's first-request queries
    grow(world.admin, 3)
    few = count_queries(client, url_of(name, needs_pk))
    grow(world.admin, 30)  # past the 50 history rows a page shows
    assert count_queries(client, url_of(name, needs_pk)) == few


def test_catalog_pages_render_in_korean(world):
    world.admin.language = "ko"
    world.admin.save()
    client = page_client(world.admin)
    for name, needs_pk in PAGES:
        response = client.get(url_of(name, needs_pk))
        assert response.status_code == 200, name
        assert '<html lang="ko">' in response.content.decode()
