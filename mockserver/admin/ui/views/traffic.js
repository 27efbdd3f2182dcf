// Traffic: the request journal, filtered; one exchange opened with headers, bodies, SSE events and rules.
import {call, query} from "../api.js";
import {copyText, field, fill, h, httpBadge, jsonBlock, kv, say, setError, table, time} from "../dom.js";

const view = {};
let filters, listEl, detailEl, count;
let selected = null;
let shownIds = "";
let lastMark = "";
const rows = new Map();

view.mount = (panel) => {
  const api = h("select", {name: "api"}, h("option", {value: ""}, "any"), h("option", {value: "skytells"}, "skytells"),
    h("option", {value: "gateai"}, "gateai"));
  filters = {
    api: field("API", api),
    method: field("Method", h("select", {name: "method"}, ["", "GET", "POST", "PUT", "PATCH", "DELETE"].map(
      (m) => h("option", {value: m}, m || "any")))),
    path: field("Route (glob)", h("input", {name: "path", placeholder: "/v1/predictions*", size: 18})),
    status: field("Status", h("input", {name: "status", placeholder: "4xx or 404", size: 8})),
    key: field("Key", h("input", {name: "key", placeholder: "sk-…", size: 18})),
  };
  const form = h("form", {class: "row", role: "search", "aria-label": "Filter the journal", onsubmit: (e) => { e.preventDefault(); refresh(); }},
    Object.values(filters).map((f) => f.wrap),
    h("button", {type: "submit"}, "Filter"),
    h("button", {type: "button", class: "danger", onclick: clear}, "Clear journal"));
  for (const f of Object.values(filters)) f.input.addEventListener("change", () => refresh());
  count = h("p", {class: "muted", "aria-live": "polite"});
  listEl = h("div", {});
  detailEl = h("section", {class: "panel", "aria-label": "Exchange", id: "exchange", tabindex: "-1"},
    h("p", {class: "muted"}, "Open a request to see it in full."));
  fill(panel, h("h2", {}, "Traffic"), h("div", {class: "panel"}, form), count,
    h("div", {class: "split"}, h("div", {class: "panel"}, listEl), detailEl));
};

async function clear() {
  await call("requests", {method: "DELETE"});
  selected = null;
  lastMark = "";
  say("Journal cleared");
  refresh();
}

function params() {
  const out = {limit: 100};
  for (const [name, f] of Object.entries(filters)) out[name] = f.input.value.trim();
  return out;
}

async function refresh() {
  let page;
  try {
    // a cheap look first (one entry): the full list (bodies included) only when something changed
    const head = await call("requests" + query({...params(), limit: 1}));
    const mark = `${head.total}:${head.data[0]?.id}:${JSON.stringify(params())}`;
    if (mark === lastMark) return;
    page = await call("requests" + query(params()));
    lastMark = mark;
    Object.values(filters).forEach((f) => setError(f, ""));
  } catch (error) {
    const f = filters[error.param];
    if (f) { setError(f, error.message); return; }
    throw error;
  }
  count.textContent = `${page.count} of ${page.total} matching requests (newest first)`;
  const ids = page.data.map((e) => e.id).join(",");
  if (ids === shownIds) return;
  shownIds = ids;
  const focused = document.activeElement && document.activeElement.dataset.entry;
  const body = page.data.map((entry) => rows.get(entry.id) || rows.set(entry.id, row(entry)).get(entry.id));
  const live = new Set(page.data.map((e) => e.id));
  for (const id of [...rows.keys()]) if (!live.has(id)) rows.delete(id);
  fill(listEl, table(["Time", "API", "Request", "Status", "Latency#", "Key", "Rules"], body, "No requests yet. Call the API and they appear here."));
  markSelected();
  if (focused) listEl.querySelector(`[data-entry="${focused}"]`)?.focus();
}

function row(entry) {
  const open = h("button", {class: "linkish", type: "button", "data-entry": entry.id, onclick: () => openEntry(entry.id),
    "aria-label": `Open ${entry.method} ${entry.path} (${entry.status ?? "dropped"})`}, `${entry.method} ${entry.path}`);
  return h("tr", {"data-id": entry.id},
    h("td", {class: "mono"}, time(entry.time).slice(11)),
    h("td", {}, entry.api),
    h("td", {}, open),
    h("td", {}, httpBadge(entry.status, entry.error)),
    h("td", {class: "num"}, entry.latency_ms.toFixed(1) + " ms"),
    h("td", {class: "mono nowrap"}, entry.key || "—"),
    h("td", {class: "mono"}, entry.rules.join(", ") || ""));
}

function markSelected() {
  for (const tr of listEl.querySelectorAll("tr[data-id]")) tr.classList.toggle("selected", tr.dataset.id === selected);
}

async function openEntry(id) {
  selected = id;
  markSelected();
  const entry = await call("requests/" + encodeURIComponent(id));
  fill(detailEl, ...exchange(entry));
  detailEl.focus();
}

function exchange(e) {
  const sse = sseEvents(e);
  return [
    h("h3", {}, `${e.method} ${e.path}${queryText(e.query) ? "?" + queryText(e.query) : ""}`),
    h("div", {class: "row"}, httpBadge(e.status, e.error),
      h("button", {type: "button", onclick: () => copyText(curl(e))}, "Copy as curl")),
    kv([["journal id", e.id], ["request id", e.request_id], ["api", e.api], ["virtual time", time(e.time)],
      ["latency", e.latency_ms.toFixed(3) + " ms (real)"], ["key", e.key], ["scenario", e.scenario || undefined],
      ["error", e.error || undefined], ["SSE events", e.events || undefined]]),
    h("h4", {}, "Rules that fired"),
    e.rules.length ? h("ul", {}, e.rules.map((r) => h("li", {class: "mono"}, r))) : h("p", {class: "muted"}, "None."),
    h("h4", {}, "Request headers"), kv(Object.entries(e.request.headers)),
    h("h4", {}, `Request body${e.request.truncated ? " (truncated)" : ""}`), jsonBlock(e.request.body, "Request body"),
    h("h4", {}, "Response headers"), kv(Object.entries(e.response.headers)),
    sse ? h("h4", {}, `Server-sent events (${e.events})`) : h("h4", {}, `Response body${e.response.truncated ? " (truncated)" : ""}`),
    sse && e.response.truncated ? h("p", {class: "muted"}, `The journal keeps the first ${sse.length} (bodies are cut at 16 KB; the last may be partial).`) : null,
    sse ? h("ol", {class: "sse"}, sse.map((ev) => h("li", {}, h("details", {},
      h("summary", {}, ev.event ? h("strong", {}, ev.event + " ") : null, preview(ev.data)), jsonBlock(ev.value, "Event data")))))
      : jsonBlock(e.response.body, "Response body"),
  ];
}

function queryText(q) {
  if (!q) return "";
  return typeof q === "string" ? q : new URLSearchParams(Object.entries(q).flatMap(
    ([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, x]))).toString();
}

/** The events of a text/event-stream body: [{event, data}] (data pretty-printed when it is JSON). */
export function sseEvents(e) {
  const type = (e.response.headers["content-type"] || "").toLowerCase();
  if (!type.startsWith("text/event-stream") || typeof e.response.body !== "string") return null;
  return e.response.body.split(/\r?\n\r?\n/).filter((block) => block.trim()).map((block) => {
    let event = "", data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    const text = data.join("\n");
    let value = text;
    try { value = JSON.parse(text); } catch { /* not JSON: as sent */ }
    return {event, data: text, value};
  });
}

/** One line for an event: a chat delta's text, else the start of its data. */
function preview(data) {
  try {
    const parsed = JSON.parse(data);
    const delta = parsed?.choices?.[0]?.delta;
    if (delta && typeof delta.content === "string") return `delta ${JSON.stringify(delta.content)}`;
    if (parsed?.type) return String(parsed.type) + (typeof parsed.delta === "string" ? " " + JSON.stringify(parsed.delta) : "");
    if (parsed?.status) return `status ${parsed.status}`;
  } catch { /* not JSON */ }
  return data.length > 90 ? data.slice(0, 90) + "…" : data;
}

const shell = (s) => "'" + String(s).replace(/'/g, "'\\''") + "'";
const SKIP = new Set(["host", "content-length", "connection", "accept-encoding", "user-agent"]);

/** The request as a curl command line (auth headers as $MOCK_API_KEY: the journal masks keys). */
export function curl(e) {
  const host = e.request.headers.host || location.host;
  const url = `${location.protocol}//${host}${e.path}${queryText(e.query) ? "?" + queryText(e.query) : ""}`;
  const parts = ["curl", "-X", e.method, shell(url)];
  for (const [name, value] of Object.entries(e.request.headers)) {
    if (SKIP.has(name.toLowerCase())) continue;
    const lower = name.toLowerCase();
    const shown = lower === "x-api-key" ? "$MOCK_API_KEY" : lower === "authorization" ? "Bearer $MOCK_API_KEY" : value;
    parts.push("-H", lower === "x-api-key" || lower === "authorization" ? `"${name}: ${shown}"` : shell(`${name}: ${shown}`));
  }
  const body = e.request.body;
  if (body !== null && body !== undefined && !(typeof body === "object" && "bytes" in body && "content_type" in body)) {
    parts.push("--data-raw", shell(typeof body === "string" ? body : JSON.stringify(body)));
  }
  return parts.join(" ");
}

view.refresh = refresh;
export default view;
