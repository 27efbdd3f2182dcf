// Time: the virtual clock -- read it, advance it (presets or custom), set it, change its mode.
import {call} from "../api.js";
import {field, fill, h, kv, say, setError, time} from "../dom.js";

const view = {};
const PRESETS = [["+1 s", 1], ["+10 s", 10], ["+1 min", 60], ["+10 min", 600], ["+1 h", 3600], ["+1 day", 86400]];
let modeForm, stateEl, settle, refreshAll, custom, setAt, mode, speed, autojump;

view.mount = (panel, refresh) => {
  refreshAll = refresh;
  stateEl = h("div", {"aria-live": "polite"});
  settle = h("input", {type: "checkbox", checked: true, id: "settle"});
  custom = field("Seconds", h("input", {type: "text", inputmode: "decimal", name: "seconds", size: 10, placeholder: "90"}));
  setAt = field("Time (ISO 8601 or epoch seconds)", h("input", {type: "text", name: "time", size: 26, placeholder: "2030-01-01T00:00:00Z"}));
  mode = field("Mode", h("select", {name: "mode"}, ["manual", "realtime", "instant"].map((m) => h("option", {value: m}, m))));
  speed = field("Speed (realtime ×)", h("input", {type: "text", inputmode: "decimal", name: "speed", size: 6}));
  autojump = field("Autojump (real s; empty: off)", h("input", {type: "text", inputmode: "decimal", name: "autojump", size: 6}));
  fill(panel, h("h2", {}, "Time"),
    h("div", {class: "grid2"},
      h("section", {class: "panel", "aria-labelledby": "clock-now"}, h("h3", {id: "clock-now"}, "Now"), stateEl),
      h("section", {class: "panel", "aria-labelledby": "clock-advance"}, h("h3", {id: "clock-advance"}, "Advance"),
        h("div", {class: "presets", role: "group", "aria-label": "Advance by"},
          PRESETS.map(([label, s]) => h("button", {type: "button", onclick: () => advance(s), title: `${s} seconds`}, label))),
        h("p", {}, h("label", {}, settle, " deliver the webhooks due by then (settle)")),
        h("form", {class: "row", "aria-label": "Advance by a custom amount", onsubmit: (e) => { e.preventDefault(); advance(custom.input.value); }},
          custom.wrap, h("button", {type: "submit", class: "primary"}, "Advance")))),
    h("div", {class: "grid2"},
      h("section", {class: "panel", "aria-labelledby": "clock-set"}, h("h3", {id: "clock-set"}, "Set"),
        h("form", {class: "row", onsubmit: setClock}, setAt.wrap, h("button", {type: "submit"}, "Set clock")),
        h("p", {class: "muted"}, "The clock only moves forward; a reset restarts it.")),
      h("section", {class: "panel", "aria-labelledby": "clock-mode"}, h("h3", {id: "clock-mode"}, "Clock mode"),
        modeForm = h("form", {class: "row", onsubmit: configure, oninput: () => { modeForm.dataset.edited = "1"; }},
          mode.wrap, speed.wrap, autojump.wrap, h("button", {type: "submit"}, "Change mode")))));
};

/** The number typed, or the text itself so the control plane's own error names it. */
function numberOr(text) {
  const trimmed = String(text).trim();
  return trimmed !== "" && !Number.isNaN(Number(trimmed)) ? Number(trimmed) : trimmed;
}

async function advance(seconds) {
  try {
    const state = await call("clock/advance", {method: "POST", body: {seconds: numberOr(seconds), settle: settle.checked}});
    setError(custom, "");
    say(`Clock advanced to ${time(state.now)}`);
  } catch (error) {
    setError(custom, error.message);
    return;
  }
  await refreshAll();
}

async function setClock(event) {
  event.preventDefault();
  try {
    await call("clock/set", {method: "POST", body: {time: numberOr(setAt.input.value), settle: settle.checked}});
    setError(setAt, "");
    say("Clock set");
  } catch (error) {
    setError(setAt, error.message);
    return;
  }
  await refreshAll();
}

async function configure(event) {
  event.preventDefault();
  const body = {mode: mode.input.value};
  if (speed.input.value.trim()) body.speed = numberOr(speed.input.value);
  body.autojump = autojump.input.value.trim() ? numberOr(autojump.input.value) : null;
  const fields = {mode, speed, autojump};
  try {
    await call("clock/mode", {method: "POST", body});
    Object.values(fields).forEach((f) => setError(f, ""));
    delete modeForm.dataset.edited;
    say("Clock mode changed");
  } catch (error) {
    setError(fields[error.param] || mode, error.message);
    return;
  }
  await refreshAll();
}

view.refresh = async (state) => {
  fill(stateEl, h("p", {class: "big-clock"}, time(state.now) + " UTC"),
    kv([["mode", state.mode], ["speed", "×" + state.speed], ["autojump", state.autojump === null ? "off" : state.autojump + " s"],
      ["epoch", String(state.epoch)]]));
  if (!modeForm.contains(document.activeElement) && !modeForm.dataset.edited) {
    mode.input.value = state.mode;
    speed.input.value = state.speed;
    autojump.input.value = state.autojump === null ? "" : state.autojump;
  }
};

export default view;
