// The control plane from the browser: relative URLs (the page's <base> is this control plane's root),
// the admin token (if the server needs one) sent as X-Mock-Admin-Token.

const TOKEN = "mockserver-admin-token";

/** A control-plane error: {code, message, param?} and the HTTP status. */
export class ControlError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "HTTP_" + status;
    this.param = error.param || null;
  }
}

export function token() {
  const fromHash = location.hash.match(/[#&?]token=([^&]+)/);
  if (fromHash) {
    sessionStorage.setItem(TOKEN, decodeURIComponent(fromHash[1]));
    history.replaceState(null, "", location.pathname + location.search + "#traffic");
  }
  return sessionStorage.getItem(TOKEN);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN, value);
}

let onAuth = () => {};
/** Called with the error when the control plane asks for the token. */
export function whenTokenNeeded(callback) { onAuth = callback; }

/**
 * call("requests?limit=5") / call("rules", {method: "POST", body: {...}}) / body as a raw string (sent as is:
 * the control plane judges it). Resolves to the JSON answer; rejects with ControlError.
 */
export async function call(path, {method = "GET", body} = {}) {
  const headers = {accept: "application/json"};
  const saved = token();
  if (saved) headers["x-mock-admin-token"] = saved;
  let payload;
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, {method, headers, body: payload, cache: "no-store"});
  } catch (error) {
    throw new ControlError(0, {error: {code: "UNREACHABLE", message: "The mock did not answer: " + error.message}});
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = {error: {message: text.slice(0, 300)}}; }
  if (!response.ok) {
    const error = new ControlError(response.status, data);
    if (error.code.startsWith("ADMIN_TOKEN")) onAuth(error);
    throw error;
  }
  return data;
}

/** Query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? "?" + s : "";
}
