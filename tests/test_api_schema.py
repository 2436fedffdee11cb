"""Property-based requests over the OpenAPI schema (schemathesis): no input makes the API fail
with a 5xx. The stream (endless) and refresh (a whole pipeline run) are left out."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.test_api import api, new_key  # noqa: F401 - the module's own server

pytestmark = pytest.mark.db

EXAMPLES = 8  # per operation: enough to hit bad dates, enums and bodies, small enough to be quick


def test_no_input_makes_a_server_error(api):
    base, warehouse = api
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith(("/stream", "/refresh")):
            continue
        tried.append(operation.path)

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            # A fresh key per request: the per-key rate limit is tested elsewhere.
            key = new_key(warehouse, role="admin", scopes=("read", "ingest"))
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            assert response.status_code < 500, (case.method, case.formatted_path, case.query,
                                                response.text[:500])

        check()
    assert len(tried) >= 20
