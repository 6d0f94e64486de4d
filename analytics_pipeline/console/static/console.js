// The console's script: sign-in, and four panels fed by the query service's JSON API.
// The API key lives in sessionStorage (this tab only) and travels in the Authorization header.
"use strict";

const KEY_STORE = "analytics.apiKey";
const LIVE_REFRESH_MS = 5000;
const HEALTH_REFRESH_MS = 10000;
const DAILY_REFRESH_MS = 60000;
const DAY_MS = 86400000;
const BAR_WIDTH_MS = 0.8 * DAY_MS; // a day's bar on a date axis, else one day alone is a hairline
const COLORS = { cache: "#2563eb", warehouse: "#9333ea", users: "#ea580c" };

const $ = (id) => document.getElementById(id);
const timers = [];

class ApiFailure extends Error {}

async function api(path, options = {}) {
  const key = sessionStorage.getItem(KEY_STORE);
  const headers = { Authorization: `Bearer ${key}`, ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = body && body.message ? body.message : `${response.status} ${response.statusText}`;
    const fields = body && body.errors ? body.errors.map((e) => `${e.field}: ${e.message}`) : [];
    throw new ApiFailure([message, ...fields].join("; "));
  }
  return body;
}

function isoMinute(date) {
  const copy = new Date(date);
  copy.setUTCSeconds(0, 0);
  return copy.toISOString().replace(".000Z", "Z");
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

// The last 30 days, as the daily charts' x range: a month with one day of data still reads as a month.
function lastThirtyDays() {
  const today = new Date();
  today.setUTCHours(0, 0, 0, 0);
  const first = new Date(today.getTime() - 29.6 * DAY_MS);
  const last = new Date(today.getTime() + 0.6 * DAY_MS);
  return [first.toISOString(), last.toISOString()];
}

function showError(id, error) {
  $(id).textContent = error ? `Error: ${error.message}` : "";
}

// ---- sign-in ----------------------------------------------------------------------------

async function signIn(key) {
  sessionStorage.setItem(KEY_STORE, key);
  try {
    const project = await api("/v1/project");
    $("project-id").textContent = project.projectId;
    $("dagster-link").href = project.dagsterUrl;
    $("sign-in").hidden = true;
    $("app").hidden = false;
    $("signed-in").hidden = false;
    $("sign-in-error").textContent = "";
    start();
  } catch (error) {
    sessionStorage.removeItem(KEY_STORE);
    showError("sign-in-error", error);
  }
}

function signOut() {
  timers.splice(0).forEach(clearInterval);
  sessionStorage.removeItem(KEY_STORE);
  $("app").hidden = true;
  $("signed-in").hidden = true;
  $("sign-in").hidden = false;
  $("api-key").value = "";
  $("api-key").focus();
}

function start() {
  refreshLive();
  refreshDaily();
  refreshHealth();
  timers.push(setInterval(refreshLive, LIVE_REFRESH_MS));
  timers.push(setInterval(refreshDaily, DAILY_REFRESH_MS));
  timers.push(setInterval(refreshHealth, HEALTH_REFRESH_MS));
}

// ---- live -------------------------------------------------------------------------------

async function refreshLive() {
  const end = new Date(Date.now() + 60000);
  const start = new Date(end.getTime() - 60 * 60000);
  const range = `startTime=${isoMinute(start)}&endTime=${isoMinute(end)}&granularity=1m`;
  try {
    const overview = await api(`/v1/live?${range}`);
    drawLive(overview);
    showError("live-error", null);
  } catch (error) {
    showError("live-error", error);
  }
}

function drawLive(overview) {
  const events = overview.allEvents;
  const users = overview.activeUsers;
  const bySource = (source) => ({
    type: "bar",
    name: source === "cache" ? "events (Redis)" : "events (lakehouse)",
    x: events.data.filter((p) => p.source === source).map((p) => p.timestamp),
    y: events.data.filter((p) => p.source === source).map((p) => p.value),
    marker: {
      color: COLORS[source],
      pattern: source === "warehouse" ? { shape: "/" } : undefined,
    },
  });
  const traces = [bySource("cache"), bySource("warehouse")].filter((t) => t.x.length);
  traces.push({
    type: "scatter",
    mode: "lines",
    name: "active users",
    yaxis: "y2",
    x: users.data.map((p) => p.timestamp),
    y: users.data.map((p) => p.value),
    line: { color: COLORS.users },
  });
  const shapes = [];
  if (events.lakeCompleteUpTo) {
    shapes.push({
      type: "line", xref: "x", yref: "paper", x0: events.lakeCompleteUpTo, x1: events.lakeCompleteUpTo,
      y0: 0, y1: 1, line: { dash: "dash", color: "#475569" },
    });
  }
  Plotly.react("live-chart", traces, {
    barmode: "stack",
    height: 320,
    margin: { t: 10, r: 60, b: 40, l: 50 },
    yaxis: { title: { text: "events / min" }, rangemode: "tozero" },
    yaxis2: { title: { text: "active users" }, overlaying: "y", side: "right", rangemode: "tozero" },
    legend: { orientation: "h" },
    shapes,
  }, { displaylogo: false, responsive: true });

  const total = events.data.reduce((sum, p) => sum + p.value, 0);
  const last = users.data.length ? users.data[users.data.length - 1].value : 0;
  const peakUsers = users.data.reduce((most, p) => Math.max(most, p.value), 0);
  const lake = events.lakeCompleteUpTo ? `lake complete up to ${events.lakeCompleteUpTo}` : "lake: no events yet";
  $("live-summary").textContent =
    `${plural(total, "event", "events")} in the last hour, ` +
    `${plural(peakUsers, "active user", "active users")} at the busiest minute (${last} this minute); ${lake}.`;
  $("live-summary").dataset.total = String(total);

  const typeTraces = overview.byType.map((series) => ({
    type: "scatter",
    mode: "lines",
    name: series.metric,
    x: series.data.map((p) => p.timestamp),
    y: series.data.map((p) => p.value),
  }));
  Plotly.react("types-chart", typeTraces, {
    height: 260,
    margin: { t: 10, r: 60, b: 40, l: 50 },
    yaxis: { title: { text: "events / min by type" }, rangemode: "tozero" },
    legend: { orientation: "h" },
  }, { displaylogo: false, responsive: true });
}

// ---- daily ------------------------------------------------------------------------------

const DAILY_SQL =
  "SELECT metricDate, events, dailyActiveUsers, purchases, revenueByCurrency FROM daily_metrics " +
  "WHERE metricDate >= current_date - INTERVAL 30 DAY ORDER BY metricDate";

async function refreshDaily() {
  try {
    const answer = await api("/v1/query", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sql: DAILY_SQL }),
    });
    drawDaily(answer);
    showError("daily-error", null);
  } catch (error) {
    showError("daily-error", error);
  }
}

function drawDaily(answer) {
  const at = Object.fromEntries(answer.columns.map((c, i) => [c, i]));
  const column = (name) => answer.rows.map((row) => row[at[name]]);
  const days = column("metricDate");
  const line = (name, label) => ({ type: "scatter", mode: "lines+markers", name: label, x: days, y: column(name) });
  const month = { type: "date", range: lastThirtyDays(), tickformat: "%b %d" };
  const bars = {
    type: "bar", name: "events", x: days, y: column("events"), width: BAR_WIDTH_MS, marker: { color: COLORS.cache },
  };
  Plotly.react("daily-chart", [
    bars, line("dailyActiveUsers", "daily active users"), line("purchases", "purchases"),
  ], {
    height: 300, margin: { t: 10, r: 20, b: 40, l: 50 }, legend: { orientation: "h" },
    xaxis: month, yaxis: { rangemode: "tozero" },
  }, { displaylogo: false, responsive: true });

  const revenue = column("revenueByCurrency").map((value) => (typeof value === "string" ? JSON.parse(value) : value || {}));
  const currencies = [...new Set(revenue.flatMap((r) => Object.keys(r)))].sort();
  Plotly.react("revenue-chart", currencies.map((currency) => ({
    type: "bar", name: currency, x: days, y: revenue.map((r) => Number(r[currency] || 0)),
    width: BAR_WIDTH_MS / Math.max(currencies.length, 1),
  })), {
    height: 260, barmode: "group", margin: { t: 10, r: 20, b: 40, l: 50 }, legend: { orientation: "h" },
    xaxis: month, yaxis: { title: { text: "revenue per currency" }, rangemode: "tozero" },
  }, { displaylogo: false, responsive: true });

  const events = column("events").reduce((sum, n) => sum + n, 0);
  $("daily-summary").textContent = days.length
    ? `${plural(days.length, "day", "days")} with events, ${plural(events, "event", "events")} in all, ` +
      `from ${days[0]} to ${days[days.length - 1]}` +
      (currencies.length ? `; revenue in ${currencies.join(", ")}.` : "; no revenue yet.")
    : "No daily metrics yet: the lakehouse has not computed a day for this project.";
}

// ---- SQL --------------------------------------------------------------------------------

async function runSql(event) {
  event.preventDefault();
  const sql = $("sql-text").value.trim();
  const table = $("sql-result");
  $("sql-meta").textContent = "Running…";
  showError("sql-error", null);
  try {
    const answer = await api("/v1/query", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sql }),
    });
    fillTable(table, answer.columns, answer.rows);
    table.hidden = false;
    const rows = answer.rows.length === 1 ? "1 row" : `${answer.rows.length} rows`;
    $("sql-meta").textContent =
      `${rows} in ${answer.elapsedMs.toFixed(1)} ms, ${answer.cached ? "cached" : "computed"}`;
    $("sql-meta").dataset.cached = String(answer.cached);
  } catch (error) {
    table.hidden = true;
    $("sql-meta").textContent = "";
    showError("sql-error", error);
  }
}

function fillTable(table, columns, rows) {
  const head = document.createElement("tr");
  for (const name of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = name;
    head.append(th);
  }
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(...rows.map((row) => {
    const tr = document.createElement("tr");
    for (const value of row) {
      const td = document.createElement("td");
      td.textContent = value !== null && typeof value === "object" ? JSON.stringify(value) : String(value);
      tr.append(td);
    }
    return tr;
  }));
}

// ---- health -----------------------------------------------------------------------------

async function refreshHealth() {
  try {
    drawHealth(await api("/v1/health"));
    showError("health-error", null);
  } catch (error) {
    showError("health-error", error);
  }
}

function drawHealth(health) {
  const body = $("health-body");
  const alarms = document.createElement("ul");
  alarms.id = "health-alarms";
  alarms.setAttribute("aria-label", "Alarms");
  for (const alarm of health.alarms) {
    const li = document.createElement("li");
    li.className = "alarm";
    li.textContent = alarm;
    alarms.append(li);
  }
  if (!health.alarms.length) {
    const li = document.createElement("li");
    li.className = "ok";
    li.textContent = "No alarms.";
    alarms.append(li);
  }
  const lags = document.createElement("table");
  lags.id = "health-lags";
  lags.createCaption().textContent = "Records each consumer group has still to read (this project's topic)";
  lags.append(document.createElement("thead"), document.createElement("tbody"));
  fillTable(lags, ["consumer group", "lag"], Object.entries(health.lagByGroup));
  const lake = document.createElement("table");
  lake.id = "health-lake";
  lake.createCaption().textContent = "Lake assets: last written";
  lake.append(document.createElement("thead"), document.createElement("tbody"));
  fillTable(lake, ["asset", "last written", "age"], health.lakeAssets.map((a) => [
    a.asset, a.lastWrittenAt || "never", a.ageSeconds === null ? "" : `${Math.round(a.ageSeconds)} s`,
  ]));
  const letters = document.createElement("p");
  letters.id = "health-letters";
  letters.textContent =
    `Dead letters: ${health.deadLetters.held} held, ${health.deadLetters.waiting} not yet redriven.`;
  body.replaceChildren(alarms, letters, lags, lake);
}

// ---- wiring -----------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("api-key").value.trim());
  });
  $("sign-out").addEventListener("click", signOut);
  $("sql-form").addEventListener("submit", runSql);
  for (const button of document.querySelectorAll("button.example")) {
    button.addEventListener("click", () => {
      $("sql-text").value = button.dataset.sql;
      $("sql-form").requestSubmit();
    });
  }
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) signIn(key);
  else $("api-key").focus();
});
