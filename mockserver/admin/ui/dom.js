// Small DOM helpers: elements are built with textContent only (nothing from the server is parsed as HTML).

/** h("div", {class: "x", onclick: fn}, child, "text", [more]) -> Element */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "style") el.style.cssText = value;  // CSSOM: allowed by the page's CSP, unlike a style attribute
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

let uid = 0;
/** A unique id for label/field pairs. */
export const nextId = (prefix) => `${prefix}-${++uid}`;

/** A labelled field: {wrap, input, error}; the error paragraph is referenced by aria-describedby. */
export function field(label, input, hint) {
  const id = input.id || (input.id = nextId("f"));
  const error = h("p", {class: "field-error", id: id + "-error", role: "alert"});
  input.setAttribute("aria-describedby", error.id);
  const wrap = h("div", {class: "field"}, h("label", {for: id}, label), input, hint ? h("span", {class: "muted"}, hint) : null, error);
  return {wrap, input, error};
}

/** Show (or clear with "") an error next to a field. */
export function setError(f, message) {
  f.error.textContent = message || "";
  f.input.setAttribute("aria-invalid", message ? "true" : "false");
}

export function pretty(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

export function jsonBlock(value, label) {
  return h("pre", {class: "json", tabindex: "0", "aria-label": label || "JSON"}, pretty(value) || "(empty)");
}

export function kv(pairs) {
  return h("dl", {class: "kv"}, pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v === null ? "—" : v)]));
}

export function badge(text, tone) {
  return h("span", {class: "badge " + (tone || "")}, text);
}

const TONES = {succeeded: "ok", FINISHED: "ok", delivered: "ok", failed: "bad", FAILED: "bad", cancelled: "warn",
  pending: "info", starting: "info", processing: "info", PROCESSING: "info", blocked: "warn"};
export const statusBadge = (status) => badge(String(status), TONES[status] || "");

export function httpBadge(status, error) {
  if (status === null || status === undefined) return badge(error ? "dropped" : "—", "bad");
  return badge(String(status), status >= 500 ? "bad" : status >= 400 ? "warn" : "ok");
}

export function money(value) {
  return typeof value === "number" ? "$" + (Math.round(value * 1e6) / 1e6).toString() : "—";
}

export function bytes(n) {
  if (typeof n !== "number") return "—";
  if (n < 1024) return n + " B";
  if (n < 1048576) return (n / 1024).toFixed(1) + " KB";
  return (n / 1048576).toFixed(1) + " MB";
}

/** "2026-01-01T00:00:05.250000Z" -> "2026-01-01 00:00:05.25" */
export function time(iso) {
  if (!iso) return "—";
  return String(iso).replace("T", " ").replace(/(\.\d*?)0+Z$/, "$1").replace(/\.Z$|Z$/, "").replace(/\.$/, "");
}

export function seconds(s) {
  if (typeof s !== "number") return "—";
  if (Math.abs(s) < 120) return (Math.round(s * 1000) / 1000) + " s";
  if (Math.abs(s) < 7200) return (Math.round(s / 6) / 10) + " min";
  return (Math.round(s / 360) / 10) + " h";
}

/** A bar with text, for used of max. */
export function bar(used, max, label) {
  const share = max > 0 ? Math.min(used / max, 1) : 0;
  const tone = share >= 1 ? "full" : share >= 0.8 ? "high" : "";
  return h("div", {class: "bar " + tone, role: "meter", "aria-valuemin": "0", "aria-valuemax": String(max),
    "aria-valuenow": String(used), "aria-label": label}, h("span", {style: `width:${(share * 100).toFixed(1)}%`}));
}

export function table(headers, rows, empty) {
  if (!rows.length) return h("p", {class: "empty"}, empty || "Nothing yet.");
  return h("div", {class: "table-wrap"}, h("table", {},
    h("thead", {}, h("tr", {}, headers.map((name) => h("th", {scope: "col", class: name.endsWith("#") ? "num" : ""}, name.replace(/#$/, ""))))),
    h("tbody", {}, rows)));
}

/** Replace a container's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  for (const child of children.flat()) if (child) el.append(child);
}

let statusTimer;
/** A short message in the status live region. */
export function say(message, bad = false) {
  const el = document.getElementById("status");
  el.textContent = message;
  el.classList.toggle("bad", bad);
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { el.textContent = ""; }, bad ? 6000 : 2500);
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    say("Copied to the clipboard");
  } catch {
    const area = h("textarea", {"aria-hidden": "true", style: "position:fixed;left:-9999px"}, text);
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    say("Copied to the clipboard");
  }
}
