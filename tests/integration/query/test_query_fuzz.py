"""Fuzzing the query API: schemathesis against its published OpenAPI document, and hypothesis
writing SQL-shaped text at /v1/query. Nothing may answer 5xx; refusals are 4xx naming a rule."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import allow_header_conformance, negative_data_rejection, positive_data_acceptance

from analytics_pipeline.query.app import create_app
from analytics_pipeline.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@schema.parametrize()
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_openapi_contract(case, query_server, project):
    """Every check but three: a schema-valid string is not valid SQL (positive data), unknown query
    parameters are ignored as HTTP APIs commonly do (negative data), and Starlette's 405 names
    only the first route of a path that two handlers share (the Allow header)."""
    case.call_and_validate(
        base_url=query_server.url,
        headers=project.auth,
        excluded_checks=[positive_data_acceptance, negative_data_rejection, allow_header_conformance],
    )


WORDS = st.sampled_from(
    [
        "select", "from", "where", "events", "daily_metrics", "quarantined_events", "union", "all", "with",
        "as", "(", ")", ";", "*", "count(*)", "'x'", "--", "/*", "*/", "read_parquet('/etc/passwd')",
        "pragma", "attach", "copy", "set", "drop", "insert", "into", "values", "1", "projectId", "=",
        "\"events\"", "main.events", "lateral", "join", "on", "true", "limit", "order", "by", "group",
    ]
)  # fmt: skip
SQLISH = st.lists(WORDS, min_size=1, max_size=12).map(" ".join) | st.text(max_size=60)


@given(statement=SQLISH)
@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_any_sql_text_gets_an_answer_or_a_named_refusal(query_api, project, statement):
    answer = query_api.post("/v1/query", json={"sql": statement}, headers=project.auth)
    assert answer.status_code in (200, 400, 404), answer.text
    if answer.status_code == 400:
        assert answer.json()["rule"]
