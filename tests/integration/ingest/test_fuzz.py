"""Property-based fuzzing of the API: no 5xx, whatever the input, and no event lost or doubled.

Hypothesis builds valid events and mangled ones (missing, mistyped and unknown fields, odd
unicode including unpaired surrogates, huge numbers, deep nesting), sends them one by one and in
batches, and keeps every eventId answered 202. Afterwards the project's topic must hold exactly
those, once each. Schemathesis then fuzzes against the published OpenAPI document.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance

from analytics_pipeline.ingest.app import create_app
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.settings import Settings
from tests.support.kafka_reader import read_topic

pytestmark = pytest.mark.slow

any_text = st.text(st.characters(exclude_categories=()), max_size=12)  # surrogates included
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=10,
)


@st.composite
def timestamps(draw) -> str | None:
    if draw(st.booleans()):
        return None
    offset = draw(st.integers(-31 * 86_400, 2 * 3_600))  # straddles both edges of the window
    moment = datetime.now(UTC) + timedelta(seconds=offset)
    return moment.isoformat().replace("+00:00", draw(st.sampled_from(["Z", "+00:00"])))


@st.composite
def valid_events(draw) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventId": f"{uuid.uuid4().hex}{draw(st.from_regex(r'[A-Za-z0-9._:-]{0,20}', fullmatch=True))}",
        "eventType": draw(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)),
        "userId": draw(st.text(min_size=1, max_size=30)),
        "properties": draw(st.dictionaries(st.text(max_size=10), json_values, max_size=5)),
    }
    if (timestamp := draw(timestamps())) is not None:
        event["timestamp"] = timestamp
    return event


@st.composite
def mangled_events(draw) -> Any:
    event = draw(valid_events())
    field = draw(
        st.sampled_from(["eventId", "eventType", "userId", "timestamp", "properties", "sentAt", "x"])
    )
    how = draw(st.sampled_from(["drop", "replace"]))
    if how == "drop":
        event.pop(field, None)
    else:
        event[field] = draw(json_values)
    return draw(st.sampled_from([event, event, event, draw(json_values)]))


events = valid_events() | mangled_events()
requests = st.tuples(st.just("single"), events) | st.tuples(
    st.just("batch"), st.lists(events, min_size=1, max_size=8)
)


def test_no_server_error_and_every_202_lands_once(api: httpx.Client, project, stack_settings):
    accepted: list[str] = []
    statuses: set[int] = set()
    headers = {**project.auth, "Content-Type": "application/json"}

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=requests)
    def send(request) -> None:
        kind, payload = request
        # json.dumps escapes unpaired surrogates as \udXXX (httpx's json= cannot encode them)
        if kind == "single":
            response = api.post("/v1/events", content=json.dumps(payload), headers=headers)
            if response.status_code == 202:
                accepted.append(payload["eventId"])
        else:
            response = api.post("/v1/batch", content=json.dumps({"events": payload}), headers=headers)
            if response.status_code == 202:
                accepted.extend(response.json()["accepted"])
        statuses.add(response.status_code)
        assert response.status_code < 500, response.text
        assert response.headers["content-type"].startswith("application/json")

    send()

    assert {202, 400} <= statuses, f"the fuzzer should reach both outcomes, saw {statuses}"
    stored = read_topic(stack_settings.kafka_bootstrap_servers, raw_topic(project.project_id))
    keys = [s.key for s in stored]
    assert sorted(keys) == sorted(accepted), "exactly the accepted events, each once"


# The document the running service publishes is built by the same code; loading it here (not
# lazily from the server) keeps schemathesis' pytest integration off pytest internals.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@schema.parametrize()
@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_openapi_contract(case, ingest_server, project):
    """Every check but "schema-valid data is accepted": rules beyond the schema (the timestamp
    window, per-project property schemas, duplicates) rightly refuse some schema-valid events."""
    case.call_and_validate(
        base_url=ingest_server.url, headers=project.auth, excluded_checks=[positive_data_acceptance]
    )
