"""psycopg keeps the conversion of statements with long id lists too (portal/apps.py, issue 17):
a manager's board queries carry their engagements' ids twice, beyond psycopg's own limit of 50
parameters, and were converted again on every request."""

import pytest
from django.db import connection

from portal.apps import CACHED_STATEMENT_PARAMS

pytestmark = pytest.mark.django_db


def test_a_statement_of_many_parameters_is_converted_once(require_postgres):
    from psycopg import _queries

    assert _queries.MAX_CACHED_STATEMENT_PARAMS >= CACHED_STATEMENT_PARAMS
    ids = list(range(1, 34)) * 2  # a manager of 33 engagements: the scope's ids and the page's
    marks = ", ".join(["%s"] * 33)
    sql = f"SELECT count(*) FROM (VALUES (1)) AS t(x) WHERE x IN ({marks}) AND x IN ({marks})"
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        before = _queries._query2pg_client.cache_info().hits
        cursor.execute(sql, ids)
        assert cursor.fetchone() == (1,)
    assert _queries._query2pg_client.cache_info().hits == before + 1
