// Accounts: keys with credits, GateAI daily budget (a bar), concurrency slots and window usage; create keys.
import {call} from "../api.js";
import {badge, bar, field, fill, h, money, say, setError, table, time} from "../dom.js";

const view = {};
let listEl, form, refreshAll, shown = "";

view.mount = (panel, refresh) => {
  refreshAll = refresh;
  form = {
    key: field("Key (empty: generated)", h("input", {name: "key", placeholder: "sk-team-b-0001", size: 18, autocomplete: "off"})),
    credits: field("Credits ($)", h("input", {name: "credits", inputmode: "decimal", size: 7, placeholder: "100"})),
    daily_budget: field("GateAI daily budget ($)", h("input", {name: "daily_budget", inputmode: "decimal", size: 7, placeholder: "100"})),
    concurrency: field("Concurrency", h("input", {name: "concurrency", inputmode: "numeric", size: 5, placeholder: "default"})),
  };
  listEl = h("div", {});
  fill(panel, h("h2", {}, "Accounts"),
    h("section", {class: "panel", "aria-labelledby": "new-key"}, h("h3", {id: "new-key"}, "New key"),
      h("form", {class: "row", onsubmit: create}, Object.values(form).map((f) => f.wrap), h("button", {type: "submit", class: "primary"}, "Create key"))),
    listEl);
};

function numberOr(text) {
  const trimmed = text.trim();
  return trimmed !== "" && !Number.isNaN(Number(trimmed)) ? Number(trimmed) : trimmed;
}

async function create(event) {
  event.preventDefault();
  const body = {};
  for (const name of ["key", "credits", "daily_budget"]) {
    const value = form[name].input.value.trim();
    if (value) body[name] = name === "key" ? value : numberOr(value);
  }
  if (form.concurrency.input.value.trim()) body.limits = {concurrency: numberOr(form.concurrency.input.value)};
  Object.values(form).forEach((f) => setError(f, ""));
  try {
    const made = await call("keys", {method: "POST", body});
    say(`Key ${made.masked} created`);
    Object.values(form).forEach((f) => { f.input.value = ""; });
  } catch (error) {
    const name = (error.param || "key").replace(/^limits\./, "");
    setError(form[name] || form.key, error.message);
    return;
  }
  await refreshAll();
}

async function change(key, body, message) {
  try {
    await call("keys/" + encodeURIComponent(key), {method: body ? "PATCH" : "DELETE", body});
    say(message);
  } catch (error) {
    say(error.message, true);
  }
  await refreshAll();
}

view.refresh = async () => {
  const [keys, usage] = await Promise.all([call("keys"), call("usage")]);
  const signature = JSON.stringify([keys, usage]);
  if (signature === shown) return;
  shown = signature;
  const byKey = new Map(usage.data.map((u) => [u.key, u]));
  const rows = keys.data.map((k) => {
    const u = byKey.get(k.key);
    const b = k.daily_budget;
    const used = Number(b.used) || 0, limit = Number(b.daily_limit) || 0;
    const slots = u ? u.gateai.concurrency : null, windowUse = u ? u.gateai.window : null;
    return h("tr", {},
      h("td", {}, h("span", {class: "mono"}, k.key), " ", k.suspended ? badge("suspended", "bad") : null,
        k.configured ? badge("configured", "") : null),
      h("td", {class: "num"}, money(k.credits)),
      h("td", {}, bar(used, limit, `GateAI budget of ${k.masked}: ${money(used)} used of ${money(limit)}`),
        h("span", {class: "muted"}, `${money(used)} used · ${money(b.remaining)} left · resets ${time(b.resets_at).slice(0, 16)}`)),
      h("td", {}, slots ? [bar(slots.used, slots.max, `Concurrency slots of ${k.masked}`), `${slots.used} of ${slots.max} slots`] : "—"),
      h("td", {}, windowUse ? `${windowUse.used} of ${windowUse.max} in ${windowUse.window_seconds} s` : "—"),
      h("td", {}, u && u.skytells.rate_limit_per_minute ? `${u.skytells.used} of ${u.skytells.rate_limit_per_minute}/min` : "off"),
      h("td", {}, h("div", {class: "row"},
        h("button", {type: "button", onclick: () => change(k.key, {add_credits: 10}, `Added $10 to ${k.masked}`), "aria-label": `Add 10 credits to ${k.masked}`}, "+$10"),
        h("button", {type: "button", onclick: () => change(k.key, {suspended: !k.suspended}, `${k.masked} ${k.suspended ? "resumed" : "suspended"}`)},
          k.suspended ? "Resume" : "Suspend"),
        h("button", {type: "button", class: "danger", onclick: () => { if (confirm(`Delete ${k.masked} and its jobs?`)) change(k.key, null, `${k.masked} deleted`); }}, "Delete"))));
  });
  fill(listEl, h("section", {class: "panel", "aria-labelledby": "keys-h"}, h("h3", {id: "keys-h"}, `Keys (${keys.count})`),
    table(["Key", "Credits#", "GateAI budget today", "Concurrency", "Generate window", "Skytells rate", "Actions"], rows, "No keys.")));
};

export default view;
