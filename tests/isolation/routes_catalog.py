"""Routes of this part, registered with the isolation harness."""

from tests.isolation.harness import Route, register

CATALOG_REASON = (
    "catalog: provider-wide configuration for provider admins only (403 for everyone else)"
)

for name in (
    "catalog_matrix",
    "catalog_cadences",
    "catalog_plans",
    "catalog_plan_create",
    "catalog_plan_edit",
    "catalog_functions",
    "catalog_function_create",
    "catalog_function_edit",
):
    register(Route(name, "exempt", reason=CATALOG_REASON))
