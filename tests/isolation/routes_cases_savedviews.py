"""Routes of the case list's saved views and bulk actions, registered with the isolation
harness. Saved views belong to one user: another tenant's user's view answers 404 like a
missing one, and a list shows only the signed-in user's own."""

from tests.isolation.harness import Route, register

ALL = ("poc", "member", "manager")


def view_name(world, tenant) -> str:
    return f"View of {tenant.organization.slug}"


def _view(tenant, user):
    from cases.savedviews.models import SavedView

    view, _created = SavedView.objects.get_or_create(
        owner=user, name=f"View of {tenant.organization.slug}", defaults={"query": "state=open"}
    )
    return view


def all_views(world, tenant):
    """Before the list is fetched: a view of tenant A's for every role that signs in, one of
    tenant B's PoC (whose name would give B away)."""
    for person in (world.a.poc, world.a.member, world.manager):
        _view(world.a, person)
    _view(world.b, world.b.poc)
    return {}


def poc_view(world, tenant):
    return {"pk": _view(tenant, tenant.poc).pk}


register(Route("saved-view-list", "list", kwargs=all_views, marker=view_name, roles=ALL))
register(Route("saved-view-detail", "detail", kwargs=poc_view, roles=("poc",)))
register(Route("saved_view_delete", "detail", method="post", kwargs=poc_view, roles=("poc",)))
register(
    Route(
        "saved_view_create",
        "exempt",
        reason="saves the signed-in user's own query string; names no object, shows none",
    )
)
for name in ("case_bulk", "case-bulk"):
    register(
        Route(
            name,
            "exempt",
            reason="item ids in the body: tests/cases/test_case_lists.py::"
            "test_bulk_with_another_tenants_item_answers_like_a_missing_one",
        )
    )
