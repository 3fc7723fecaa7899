"""Routes of this part, registered with the isolation harness."""

from tests.isolation.harness import Route, exempt_prefix, register  # noqa: F401
