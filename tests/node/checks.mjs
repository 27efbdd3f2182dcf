// Runs named checks and prints one JSON line per check: {"check", "requests", "ok": true, "value"} or
// {"check", "requests", "ok": false, "error": {...}}; `requests` counts the API requests the clients sent.
// A check is an async function that returns what it observed (plain JSON) and throws (node:assert) when
// the client saw something it should not have.
//
//   MOCK_BASE_URL=http://127.0.0.1:PORT/v1 MOCK_API_KEY=… node <script>.mjs [--list | check …]
//
// With no check named, every check runs. Used by tests/integration/test_node_agent_clients.py.

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see tests/integration/test_node_agent_clients.py)`);
  return value;
}

export const env = {
  baseUrl: required('MOCK_BASE_URL'), // …/v1, the OpenAI-style base URL
  apiKey: required('MOCK_API_KEY'),
  model: process.env.MOCK_MODEL || 'gpt-5',
};
env.controlUrl = env.baseUrl.replace(/\/v1\/?$/, ''); // the server root serving /_mock/…

let sent = 0;
/** The clients' fetch: counts the API requests a check sends, so the driver knows how many the server answered. */
export function apiFetch(input, init) {
  sent += 1;
  return fetch(input, init);
}

/** Script the mock through its control plane: an outcome rule (`POST /_mock/rules`), e.g. agent turns. */
export async function addRule(rule) {
  const response = await fetch(`${env.controlUrl}/_mock/rules`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule),
  });
  if (!response.ok) throw new Error(`POST /_mock/rules: ${response.status} ${await response.text()}`);
  return response.json();
}

const ERROR_FIELDS = ['status', 'statusCode', 'code', 'param', 'type', 'url', 'responseBody', 'error', 'text',
  'finishReason'];

/** A plain-JSON picture of whatever a client threw (its HTTP status and error body when it has them). */
export function describeError(error) {
  const picture = { name: error?.constructor?.name ?? typeof error, message: String(error?.message ?? error) };
  for (const field of ERROR_FIELDS) {
    if (error?.[field] !== undefined) picture[field] = error[field];
  }
  if (error?.cause) picture.cause = describeError(error.cause);
  return JSON.parse(JSON.stringify(picture, (_key, value) => (typeof value === 'bigint' ? String(value) : value)));
}

/** Run the checks named on the command line (all when none is), printing one JSON line each. */
export async function main(checks) {
  const args = process.argv.slice(2);
  if (args[0] === '--list') {
    for (const name of Object.keys(checks)) console.log(name);
    return;
  }
  const names = args.length ? args : Object.keys(checks);
  for (const name of names) {
    const check = checks[name];
    if (!check) throw new Error(`unknown check ${name}; known: ${Object.keys(checks).join(', ')}`);
    let outcome;
    const before = sent;
    try {
      outcome = { ok: true, value: (await check()) ?? null };
    } catch (error) {
      outcome = { ok: false, error: describeError(error) };
    }
    console.log(JSON.stringify({ check: name, requests: sent - before, ...outcome }));
  }
}
