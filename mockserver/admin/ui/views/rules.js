// Rules: scripted faults and outcomes -- list, create (a fault form, or any rule as JSON), delete; scenarios.
import {call} from "../api.js";
import {field, fill, h, jsonBlock, say, setError, table} from "../dom.js";

const view = {};
let refreshAll, fault, editor, scenario, listEl, scenariosEl, shown = "";

const TEMPLATES = {
  "Fault: 503 once": {fault: {type: "error", status: 503}, times: 1, match: {api: "skytells"}},
  "Fault: latency 800 ms": {fault: {type: "latency", latency_ms: 800}, match: {route: "POST /v1/chat/completions"}},
  "Outcome: next prediction fails": {outcome: {status: "failed", error: "GPU on fire"}, times: 1, match: {route: "POST /v1/predictions"}},
  "Outcome: chat reply": {outcome: {reply: "Paris."}, match: {route: "POST /v1/chat/completions", prompt: "(?i)france"}},
};

view.mount = (panel, refresh) => {
  refreshAll = refresh;
  fault = {
    type: field("Fault type", h("select", {name: "type"}, ["error", "latency", "rate_limit", "reset", "empty", "sse_cut"].map((t) => h("option", {value: t}, t)))),
    status: field("Status", h("input", {name: "status", inputmode: "numeric", size: 5, value: "503"})),
    latency_ms: field("Latency (ms)", h("input", {name: "latency_ms", inputmode: "numeric", size: 6})),
    retry_after: field("Retry-After (s)", h("input", {name: "retry_after", inputmode: "decimal", size: 5})),
    after_events: field("Cut after events", h("input", {name: "after_events", inputmode: "numeric", size: 5})),
    route: field("Match route", h("input", {name: "route", size: 22, placeholder: "POST /v1/predictions"})),
    api: field("Match API", h("select", {name: "api"}, ["", "skytells", "gateai"].map((a) => h("option", {value: a}, a || "any")))),
    times: field("Times", h("input", {name: "times", inputmode: "numeric", size: 4, placeholder: "∞"})),
  };
  fault.type.input.addEventListener("change", showFaultFields);
  editor = field("Rule (JSON)", h("textarea", {name: "rule", spellcheck: false, rows: 9},
    JSON.stringify(TEMPLATES["Fault: 503 once"], null, 2)), "A matcher and one action; the control plane checks it.");
  scenario = {
    name: field("Scenario name", h("input", {name: "scenario", size: 16, placeholder: "flaky"})),
    rules: field("Rules (JSON array)", h("textarea", {name: "scenario-rules", spellcheck: false, rows: 6},
      '[{"fault": {"type": "rate_limit", "retry_after": 1}, "times": 1}]'), "Applied only to requests sending X-Mock-Scenario: <name>."),
  };
  listEl = h("div", {});
  scenariosEl = h("div", {});
  fill(panel, h("h2", {}, "Rules"),
    h("div", {class: "grid2"},
      h("section", {class: "panel", "aria-labelledby": "fault-h"}, h("h3", {id: "fault-h"}, "Inject a fault"),
        h("form", {class: "row", onsubmit: addFault, "aria-label": "Inject a fault"}, Object.values(fault).map((f) => f.wrap),
          h("button", {type: "submit", class: "primary"}, "Add fault"))),
      h("section", {class: "panel", "aria-labelledby": "rule-h"}, h("h3", {id: "rule-h"}, "Any rule, as JSON"),
        h("div", {class: "presets", role: "group", "aria-label": "Templates"}, Object.keys(TEMPLATES).map((name) =>
          h("button", {type: "button", onclick: () => { editor.input.value = JSON.stringify(TEMPLATES[name], null, 2); setError(editor, ""); }}, name))),
        h("form", {onsubmit: addRule, "aria-label": "Add a rule"}, editor.wrap, h("button", {type: "submit", class: "primary"}, "Add rule")))),
    h("section", {class: "panel", "aria-labelledby": "rules-h"}, h("h3", {id: "rules-h"}, "Rules"), listEl,
      h("button", {type: "button", class: "danger", onclick: clearAll}, "Delete every rule and scenario")),
    h("section", {class: "panel", "aria-labelledby": "scen-h"}, h("h3", {id: "scen-h"}, "Scenarios"),
      h("form", {onsubmit: putScenario, "aria-label": "Define a scenario"}, h("div", {class: "row"}, scenario.name.wrap), scenario.rules.wrap,
        h("button", {type: "submit"}, "Save scenario")), scenariosEl));
  showFaultFields();
};

const FAULT_FIELDS = {error: ["status"], latency: ["latency_ms"], rate_limit: ["retry_after"], sse_cut: ["after_events"], reset: [], empty: []};

function showFaultFields() {
  const wanted = FAULT_FIELDS[fault.type.input.value];
  for (const name of ["status", "latency_ms", "retry_after", "after_events"]) fault[name].wrap.hidden = !wanted.includes(name);
}

function numberOr(text) {
  const trimmed = text.trim();
  return trimmed !== "" && !Number.isNaN(Number(trimmed)) ? Number(trimmed) : trimmed;
}

/** The form field a control-plane message is about ("fault.status must be …" -> status), else the first. */
function fieldFor(message, fields, fallback) {
  const first = String(message).split(/[\s:]/)[0].replace(/^(rules\[\d+\]\.)?(fault|match)\./, "");
  return fields[first] || fallback;
}

async function addFault(event) {
  event.preventDefault();
  const type = fault.type.input.value;
  const body = {type};
  for (const name of FAULT_FIELDS[type]) if (fault[name].input.value.trim()) body[name] = numberOr(fault[name].input.value);
  const match = {};
  if (fault.route.input.value.trim()) match.route = fault.route.input.value.trim();
  if (fault.api.input.value) match.api = fault.api.input.value;
  if (Object.keys(match).length) body.match = match;
  if (fault.times.input.value.trim()) body.times = numberOr(fault.times.input.value);
  Object.values(fault).forEach((f) => setError(f, ""));
  try {
    const rule = await call("faults", {method: "POST", body});
    say(`Fault ${rule.id} added`);
  } catch (error) {
    setError(fieldFor(error.message, fault, fault.type), error.message);
    return;
  }
  await refreshAll();
}

async function addRule(event) {
  event.preventDefault();
  try {
    const made = await call("rules", {method: "POST", body: editor.input.value});  // sent as typed
    setError(editor, "");
    say(made.id ? `Rule ${made.id} added` : `${made.count} rules added`);
  } catch (error) {
    setError(editor, error.message);
    return;
  }
  await refreshAll();
}

async function putScenario(event) {
  event.preventDefault();
  const name = scenario.name.input.value.trim();
  setError(scenario.name, name ? "" : "A scenario needs a name");
  if (!name) return;
  try {
    await call("scenarios/" + encodeURIComponent(name), {method: "PUT", body: scenario.rules.input.value});
    setError(scenario.rules, "");
    say(`Scenario ${name} saved; send X-Mock-Scenario: ${name}`);
  } catch (error) {
    setError(scenario.rules, error.message);
    return;
  }
  await refreshAll();
}

async function remove(path, message) {
  try { await call(path, {method: "DELETE"}); say(message); } catch (error) { say(error.message, true); }
  await refreshAll();
}

async function clearAll() {
  if (confirm("Delete every rule and scenario?")) await remove("rules", "Every rule deleted");
}

function action(rule) {
  if (rule.fault) return "fault " + JSON.stringify(rule.fault);
  return "outcome " + JSON.stringify(rule.outcome);
}

view.refresh = async () => {
  const [rules, scenarios] = await Promise.all([call("rules"), call("scenarios")]);
  const signature = JSON.stringify([rules, scenarios]);
  if (signature === shown) return;
  shown = signature;
  const global = rules.data.filter((r) => !r.scenario);
  fill(listEl, table(["Id", "Match", "Action", "Times#", "Fired#", "Remaining#", ""], global.map((r) => h("tr", {"data-rule": r.id},
    h("td", {class: "mono"}, r.id), h("td", {class: "mono"}, JSON.stringify(r.match)), h("td", {class: "mono"}, action(r)),
    h("td", {class: "num"}, r.times ?? "∞"), h("td", {class: "num"}, r.fired), h("td", {class: "num"}, r.remaining ?? "∞"),
    h("td", {}, h("button", {type: "button", class: "danger", onclick: () => remove("rules/" + encodeURIComponent(r.id), `Rule ${r.id} deleted`),
      "aria-label": `Delete rule ${r.id}`}, "Delete")))), "No global rules: every request is answered normally."));
  fill(scenariosEl, scenarios.data.length ? scenarios.data.map((s) => h("details", {class: "panel"},
    h("summary", {}, h("strong", {}, s.name), ` — ${s.rules.length} rule(s)`),
    jsonBlock(s.rules, `Rules of scenario ${s.name}`),
    h("button", {type: "button", class: "danger", onclick: () => remove("scenarios/" + encodeURIComponent(s.name), `Scenario ${s.name} deleted`)},
      `Delete scenario ${s.name}`))) : h("p", {class: "muted"}, "No scenarios."));
};

export default view;
