"""Routes of the global search (reviews/search), registered with the isolation harness: both
tenants have an item whose subject holds the words searched; only tenant A's may show."""

from tests.isolation.harness import Route, register
from tests.isolation.routes_cases_pages import both_cases, case_subject

ALL = ("poc", "member", "manager")


def query(world, tenant):
    return {"q": "Case of"}  # in "Case of tenant-a" and "Case of tenant-b"


def slug(world, tenant):
    """The page marks the words found, so it shows the subject's rest: the tenant's slug."""
    return tenant.organization.slug


register(Route("search", "list", kwargs=both_cases, data=query, marker=slug, roles=ALL))
register(Route("search-api", "list", kwargs=both_cases, data=query, marker=case_subject, roles=ALL))
