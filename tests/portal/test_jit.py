"""PostgreSQL's JIT compilation is off for the portal's direct connections (settings,
`DATABASE_JIT`): it starts on a statement's estimated cost and takes 10 to 20 ms, longer than
the portal's reads themselves (issue 17)."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from tests.settings_probe import settings_process


@pytest.mark.django_db
def test_the_portals_connection_does_not_compile_statements(require_postgres: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        # A statement estimated far past jit_above_cost (a cross join of generated series) is
        # planned without JIT.
        cursor.execute(
            "EXPLAIN (FORMAT JSON) SELECT count(*) FROM generate_series(1, 100000) a "
            "CROSS JOIN generate_series(1, 100000) b"
        )
        plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        assert plan[0]["Plan"]["Total Cost"] > 100000  # the server's default jit_above_cost
        assert "JIT" not in plan[0]


def test_jit_setting_follows_the_environment() -> None:
    """Direct PostgreSQL connections start with jit=off; DATABASE_JIT=1 keeps the server's
    setting; PgBouncer (which refuses the startup option) and SQLite get no option."""
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {}).get('options')))"
    )

    def options_with(**values: str) -> str | None:
        done = settings_process(
            code, drop={"PGBOUNCER", "DATABASE_POOLING", "DATABASE_JIT"}, **values
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.splitlines()[-1])

    postgres = "postgres://postgres@127.0.0.1:5432/portal"
    assert options_with(DATABASE_URL=postgres) == "-c jit=off"
    assert options_with(DATABASE_URL=postgres, DATABASE_JIT="1") is None
    assert options_with(DATABASE_URL=postgres, PGBOUNCER="1") is None
    assert options_with(DATABASE_URL="sqlite:////tmp/x.sqlite3") is None
