"""The web console in a real browser (Debian's headless Chromium, driven by Selenium) against the
session's live stack: events go in through the ingestion API, the stream worker counts them, the
Spark ETL writes the lake, and the console shows what the query service answers. Screenshots go
to .artifacts/console/."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.timeutil import utc_now
from resources.kafka import KafkaResource
from tests.support.browser import headless_chromium, screenshot
from tests.support.consumer_group import wait_caught_up
from tests.support.lake_queries import Loaded, events_at, new_project, run_etl, send
from tests.support.lakehouse_dagster import LakeGraph
from tests.support.raw_events import RawWriter

pytestmark = pytest.mark.integration

WAIT_S = 30.0
EVENTS_BY_TYPE = "SELECT eventType, count(*) AS events FROM events GROUP BY eventType ORDER BY eventType"


@pytest.fixture(scope="module")
def loaded(  # noqa: PLR0917 - the services the load goes through
    stack_settings, ingest_server, metadata_store, kafka_broker, stream_worker, spark
) -> Loaded:
    """Two projects with events of the last hour, counted live and written to the lake."""
    shop, blog = (new_project(stack_settings, metadata_store, name) for name in ("shop", "blog"))
    now = utc_now()
    sent = {
        shop.project_id: events_at([now - timedelta(minutes=m) for m in (2, 3, 5, 8, 13, 21, 34)]),
        blog.project_id: events_at([now - timedelta(minutes=m) for m in (4, 9)]),
    }
    with httpx.Client(base_url=ingest_server.url, timeout=30.0) as ingest:
        for project in (shop, blog):
            send(ingest, project, sent[project.project_id])
    graph = LakeGraph(stack_settings, Path(stack_settings.lake_root))
    kafka = KafkaResource(
        bootstrap_servers=stack_settings.kafka_bootstrap_servers, etl_group=stack_settings.etl_group
    )
    run_etl(graph, kafka, [shop.project_id, blog.project_id])
    today = now.date()
    assert graph.run_daily_range(today - timedelta(days=1), today).success
    for project in (shop, blog):
        wait_caught_up(
            stack_settings.kafka_bootstrap_servers, stack_settings.stream_group, raw_topic(project.project_id)
        )
    return Loaded(shop, blog, sent, "", graph, kafka)


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[WebDriver]:
    with headless_chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        driver.set_page_load_timeout(WAIT_S)
        yield driver


@pytest.fixture
def console(browser: WebDriver, query_server) -> WebDriver:
    """The console, signed out, in a fresh tab state."""
    browser.get(f"{query_server.url}/console")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{query_server.url}/console")
    return browser


def sign_in(browser: WebDriver, api_key: str) -> None:
    field = browser.find_element(By.ID, "api-key")
    field.clear()
    field.send_keys(api_key)
    browser.find_element(By.CSS_SELECTOR, "#sign-in-form button[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(lambda b: b.find_element(By.ID, "app").is_displayed())


def text_of(browser: WebDriver, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def wait_for_text(browser: WebDriver, element_id: str, expected: str) -> str:
    WebDriverWait(browser, WAIT_S).until(lambda b: expected in text_of(b, element_id))
    return text_of(browser, element_id)


def run_sql(browser: WebDriver, statement: str) -> None:
    box = browser.find_element(By.ID, "sql-text")
    box.clear()
    box.send_keys(statement)
    browser.find_element(By.CSS_SELECTOR, "#sql-form button[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(
        lambda b: text_of(b, "sql-error") or (b.find_element(By.ID, "sql-result").is_displayed())
    )


def result_rows(browser: WebDriver) -> list[list[str]]:
    table = browser.find_element(By.ID, "sql-result")
    return [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]


def live_chart(browser: WebDriver, chart_id: str) -> dict[str, int]:
    """Per trace of a Plotly chart: the sum of its values, as the page drew them."""
    script = (
        "return document.getElementById(arguments[0]).data.map(t => [t.name, t.y.reduce((a, b) => a + b, 0)])"
    )
    traces = browser.execute_script(script, chart_id)
    return {name: int(total) for name, total in traces}


def test_sign_in_keeps_the_key_out_of_the_url_and_rejects_a_wrong_one(console, loaded, query_server):
    sign_in_field = console.find_element(By.ID, "api-key")
    assert console.find_element(By.CSS_SELECTOR, "label[for=api-key]").text == "Project API key"
    sign_in_field.send_keys("ak_not_a_key")
    console.find_element(By.CSS_SELECTOR, "#sign-in-form button[type=submit]").click()
    assert "unknown API key" in wait_for_text(console, "sign-in-error", "unknown API key")
    assert not console.find_element(By.ID, "app").is_displayed()

    sign_in(console, loaded.shop.api_key)
    assert text_of(console, "project-id") == loaded.shop.project_id
    assert loaded.shop.api_key not in console.current_url
    requested = console.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert requested
    assert all(url.startswith(query_server.url) for url in requested), requested
    assert any(url.endswith("/console/assets/plotly.min.js") for url in requested)
    screenshot(console, "signed-in")


def test_the_live_chart_shows_the_counts_the_api_returns(console, loaded, query_api):
    sign_in(console, loaded.shop.api_key)
    sent = loaded.sent[loaded.shop.project_id]
    wait_for_text(console, "live-summary", f"{len(sent)} events in the last hour")
    end = utc_now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    answer = query_api.get(
        "/v1/live",
        params={"startTime": (end - timedelta(hours=1)).isoformat(), "endTime": end.isoformat()},
        headers=loaded.shop.auth,
    ).json()
    api_total = sum(p["value"] for p in answer["allEvents"]["data"])
    assert api_total == len(sent)
    per_metric = query_api.get(
        "/v1/metrics/all_events",
        params={"startTime": (end - timedelta(hours=1)).isoformat(), "endTime": end.isoformat()},
        headers=loaded.shop.auth,
    ).json()
    assert per_metric["data"] == answer["allEvents"]["data"], "/v1/live serves what /v1/metrics serves"
    drawn = live_chart(console, "live-chart")
    assert drawn.get("events (Redis)", 0) + drawn.get("events (lakehouse)", 0) == api_total
    by_type = Counter(event["eventType"] for event in sent)
    WebDriverWait(console, WAIT_S).until(lambda b: live_chart(b, "types-chart") == dict(by_type))
    totals = {series["metric"]: sum(p["value"] for p in series["data"]) for series in answer["byType"]}
    assert totals == by_type
    screenshot(console, "live")


def test_a_sql_query_shows_its_exact_result_and_the_daily_chart_its_days(console, loaded, query_api):
    sign_in(console, loaded.shop.api_key)
    run_sql(console, EVENTS_BY_TYPE)
    assert text_of(console, "sql-error") == ""
    expected = Counter(event["eventType"] for event in loaded.sent[loaded.shop.project_id])
    assert result_rows(console) == [[event_type, str(n)] for event_type, n in sorted(expected.items())]
    assert "3 rows in" in text_of(console, "sql-meta")
    run_sql(console, EVENTS_BY_TYPE)  # the same query again: from the query cache
    WebDriverWait(console, WAIT_S).until(lambda b: text_of(b, "sql-meta").endswith("cached"))

    daily = query_api.post(
        "/v1/query", json={"sql": "SELECT sum(events) FROM daily_metrics"}, headers=loaded.shop.auth
    ).json()
    assert daily["rows"] == [[len(loaded.sent[loaded.shop.project_id])]]
    wait_for_text(console, "daily-summary", f"{daily['rows'][0][0]} events in all")
    screenshot(console, "sql-and-daily", "daily")


def test_a_forbidden_query_shows_the_error_the_api_gave(console, loaded, query_api):
    sign_in(console, loaded.shop.api_key)
    statement = "DELETE FROM events"
    refused = query_api.post("/v1/query", json={"sql": statement}, headers=loaded.shop.auth)
    assert refused.status_code == 400
    run_sql(console, statement)
    assert text_of(console, "sql-error") == f"Error: {refused.json()['message']}"
    assert not console.find_element(By.ID, "sql-result").is_displayed()
    console.find_element(By.CSS_SELECTOR, "button.example").click()  # one click runs an example
    WebDriverWait(console, WAIT_S).until(lambda b: b.find_element(By.ID, "sql-result").is_displayed())
    assert text_of(console, "sql-error") == ""


def test_another_project_s_key_sees_none_of_the_first_project_s_data(console, loaded):
    sign_in(console, loaded.shop.api_key)
    console.find_element(By.ID, "sign-out").click()
    assert console.execute_script("return sessionStorage.length") == 0
    sign_in(console, loaded.blog.api_key)
    blog_sent = loaded.sent[loaded.blog.project_id]
    wait_for_text(console, "live-summary", f"{len(blog_sent)} events in the last hour")
    run_sql(console, "SELECT eventId FROM events ORDER BY eventId")
    assert result_rows(console) == [[e["eventId"]] for e in sorted(blog_sent, key=lambda e: e["eventId"])]
    screenshot(console, "other-project")


def test_the_health_panel_shows_a_dead_letter_the_test_produced(
    console, loaded, stack_settings, stream_worker
):
    project, bootstrap = loaded.blog, stack_settings.kafka_bootstrap_servers
    with RawWriter(bootstrap) as writer:
        writer.bytes(project.project_id, b"poison", b"{not json")
    wait_caught_up(bootstrap, stack_settings.stream_group, raw_topic(project.project_id))
    sign_in(console, project.api_key)
    letters = wait_for_text(console, "health-letters", "Dead letters: 1 held")
    assert "1 not yet redriven" in letters
    alarms = text_of(console, "health-alarms")
    assert f"dead letters: {project.project_id} holds 1" in alarms
    assert loaded.shop.project_id not in alarms
    lake = {
        cells[0].text: cells[1].text
        for cells in (
            row.find_elements(By.TAG_NAME, "td")
            for row in console.find_elements(By.CSS_SELECTOR, "#health-lake tbody tr")
        )
    }
    assert lake["validated_events"] != "never", lake
    assert lake["daily_metrics"] != "never", lake
    dagster = console.find_element(By.ID, "dagster-link").get_attribute("href")
    assert dagster.startswith(stack_settings.dagster_url)
    screenshot(console, "health", "health")
