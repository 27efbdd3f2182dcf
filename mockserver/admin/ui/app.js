// The dashboard: six views over the control plane, the active one refreshed while "Live" is on.
import {call, setToken, token, whenTokenNeeded} from "./api.js";
import {say, time} from "./dom.js";
import traffic from "./views/traffic.js";
import jobs from "./views/jobs.js";
import clock from "./views/time.js";
import accounts from "./views/accounts.js";
import rules from "./views/rules.js";
import webhooks from "./views/webhooks.js";

const VIEWS = {traffic, jobs, time: clock, accounts, rules, webhooks};
const POLL_MS = 1500;
let active = null;
let busy = false;
let again = false;

function current() {
  const name = location.hash.replace(/^#/, "").split(/[?&/]/)[0];
  return VIEWS[name] ? name : "traffic";
}

async function show(name) {
  for (const [other, view] of Object.entries(VIEWS)) {
    const selected = other === name;
    const tab = document.getElementById("tab-" + other);
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    document.getElementById("view-" + other).hidden = !selected;
    if (selected && !view.mounted) {
      view.mount(document.getElementById("view-" + other), refreshAll);
      view.mounted = true;
    }
  }
  active = name;
  document.title = `${name[0].toUpperCase() + name.slice(1)} · mockserver`;
  await refreshAll();
}

async function refreshClock() {
  const state = await call("clock");
  const auto = state.autojump === null || state.autojump === undefined ? "" : ` · autojump ${state.autojump}s`;
  document.getElementById("clock-badge").textContent =
    `${time(state.now)} UTC · ${state.mode}${state.mode === "realtime" ? " ×" + state.speed : ""}${auto}`;
  return state;
}

/** Refresh the header clock and the active view (after an action, or on the poll). */
export async function refreshAll() {
  if (busy) { again = true; return; }  // an action during a poll: refresh once more when it ends
  busy = true;
  try {
    again = false;
    const state = await refreshClock();
    await VIEWS[active].refresh(state);
    const panel = document.getElementById("view-" + active);
    panel.dataset.refreshed = String(Number(panel.dataset.refreshed || 0) + 1);  // for tests: data arrived
  } catch (error) {
    if (!String(error.code || "").startsWith("ADMIN_TOKEN")) say(error.message, true);
  } finally {
    busy = false;
  }
  if (again) await refreshAll();
}

function keyboardTabs(event) {
  const names = Object.keys(VIEWS);
  const index = names.indexOf(active);
  const moves = {ArrowRight: 1, ArrowLeft: -1, Home: -index, End: names.length - 1 - index};
  if (!(event.key in moves)) return;
  event.preventDefault();
  const next = names[(index + moves[event.key] + names.length) % names.length];
  location.hash = next;
  document.getElementById("tab-" + next).focus();
}

function askForToken() {
  const form = document.getElementById("token-form");
  form.hidden = false;
  document.getElementById("token-error").textContent = token() ? "That token was refused." : "";
  document.getElementById("token-input").focus();
}

/** In-page links: the page's <base> points at the control plane, so "#x" would leave the page. */
function inPageLinks(event) {
  const link = event.target.closest && event.target.closest('a[href^="#"]');
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  const target = link.getAttribute("href").slice(1);
  if (VIEWS[target]) location.hash = target;
  else document.getElementById(target)?.focus();
}

function start() {
  document.addEventListener("click", inPageLinks);
  token();  // picks up #token=… once
  whenTokenNeeded(askForToken);
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setToken(document.getElementById("token-input").value.trim());
    document.getElementById("token-form").hidden = true;
    refreshAll();
  });
  document.getElementById("tabs").addEventListener("keydown", keyboardTabs);
  window.addEventListener("hashchange", () => { if (current() !== active) show(current()); });
  show(current());
  setInterval(() => {
    if (document.getElementById("live").checked && !document.hidden) refreshAll();
  }, POLL_MS);
}

start();
