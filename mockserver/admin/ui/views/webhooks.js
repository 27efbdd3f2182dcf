// Webhooks: every delivery with each attempt, outcome and next retry; the keys' signing secrets.
import {call, query} from "../api.js";
import {field, fill, h, jsonBlock, kv, say, setError, statusBadge, table, time} from "../dom.js";

const view = {};
let refreshAll, filters, listEl, secretsEl, shown = "";
const open = new Set();

view.mount = (panel, refresh) => {
  refreshAll = refresh;
  filters = {
    status: field("State", h("select", {}, ["", "pending", "delivered", "failed"].map((s) => h("option", {value: s}, s || "any")))),
    prediction_id: field("Prediction id", h("input", {size: 24})),
  };
  for (const f of Object.values(filters)) f.input.addEventListener("change", () => { shown = ""; refreshAll(); });
  listEl = h("div", {});
  secretsEl = h("div", {});
  fill(panel, h("h2", {}, "Webhooks"),
    h("div", {class: "panel"}, h("form", {class: "row", role: "search", "aria-label": "Filter deliveries",
      onsubmit: (e) => { e.preventDefault(); shown = ""; refreshAll(); }},
    Object.values(filters).map((f) => f.wrap), h("button", {type: "submit"}, "Filter"),
    h("button", {type: "button", onclick: settle}, "Deliver what is due (settle)"),
    h("button", {type: "button", class: "danger", onclick: clear}, "Forget finished"))),
    h("section", {"aria-labelledby": "deliveries-h"}, h("h3", {id: "deliveries-h"}, "Deliveries (newest first)"), listEl),
    h("section", {class: "panel", "aria-labelledby": "secrets-h"}, h("h3", {id: "secrets-h"}, "Signing secrets (Standard Webhooks)"), secretsEl));
};

async function settle() {
  const result = await call("webhooks/settle", {method: "POST"});
  say(result.settled ? "Every due delivery was made" : `${result.pending} pending, ${result.in_flight} in flight`);
  await refreshAll();
}

async function clear() {
  const result = await call("webhooks", {method: "DELETE"});
  say(`${result.cleared} finished deliveries forgotten`);
  await refreshAll();
}

function delivery(d) {
  const payload = h("details", {open: open.has(d.id), ontoggle: (e) => (e.target.open ? open.add(d.id) : open.delete(d.id))},
    h("summary", {}, "Payload"), jsonBlock(d.payload, "Webhook payload"));
  return h("article", {class: "panel", "data-delivery": d.id, "aria-label": `${d.event} to ${d.url}`},
    h("h4", {class: "row"}, statusBadge(d.state), h("strong", {}, d.event), h("span", {class: "mono"}, d.url),
      d.in_flight ? h("span", {class: "muted"}, "sending…") : null),
    kv([["webhook-id", d.id], ["subject", d.subject], ["key", d.key], ["occurred (virtual)", time(d.occurred_at)],
      ["next retry", d.state === "pending" ? time(d.next_attempt_at) : "—"], ["finished", time(d.finished_at)]]),
    table(["Attempt", "At (virtual)", "Outcome", "Response", "Latency#", "Error"], d.attempts.map((a) => h("tr", {},
      h("td", {}, a.attempt), h("td", {class: "mono"}, time(a.at)), h("td", {}, statusBadge(a.outcome)),
      h("td", {}, a.response_code ?? "—"), h("td", {class: "num"}, a.latency_ms + " ms"), h("td", {}, a.error || ""))), "No attempt yet."),
    payload);
}

view.refresh = async () => {
  const params = {};
  for (const [name, f] of Object.entries(filters)) params[name] = f.input.value.trim();
  let deliveries;
  try {
    deliveries = await call("webhooks" + query(params));
    Object.values(filters).forEach((f) => setError(f, ""));
  } catch (error) {
    if (filters[error.param]) { setError(filters[error.param], error.message); return; }
    throw error;
  }
  const keys = await call("keys");
  const signature = JSON.stringify([deliveries, keys.data.map((k) => [k.key, k.webhook_secret])]);
  if (signature === shown) return;
  shown = signature;
  const newest = deliveries.data.slice().reverse();
  fill(listEl, newest.length ? newest.map(delivery) : h("p", {class: "empty"}, "No webhook deliveries yet: create a prediction with a webhook."));
  fill(secretsEl, table(["Key", "Secret"], keys.data.map((k) => h("tr", {},
    h("td", {class: "mono"}, k.masked), h("td", {class: "mono"}, k.webhook_secret))), "No keys."));
};

export default view;
