// What the SDK scenarios need from their surroundings: the mock's addresses and keys (from the
// environment), its control plane (the virtual clock), raw reads of output files, a webhook receiver,
// and a plain-JSON picture of whatever an SDK call threw.

import { createServer } from 'node:http';

import { SkytellsError } from 'skytells';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see tests/integration/test_skytells_npm_sdk.py)`);
  return value;
}

export const env = {
  baseUrl: required('MOCK_BASE_URL'),            // …/v1, as the SDK's baseUrl option wants it
  apiKey: required('MOCK_API_KEY'),
  otherKey: process.env.MOCK_OTHER_API_KEY || '', // a second account, for ownership checks
  controlUrl: required('MOCK_CONTROL_URL').replace(/\/+$/, ''), // the server root serving /_mock/…
};

async function control(method, path, body) {
  const response = await fetch(`${env.controlUrl}/_mock${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`control plane ${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Move the mock's virtual clock forward (it never moves by itself in manual mode); `settle` also
 * waits until the webhook deliveries due by then are done. */
export const advanceClock = (seconds, { settle = false } = {}) => control('POST', '/clock/advance', { seconds, settle });

/** A webhook receiver on a free loopback port that records every request and answers 204. */
export async function startReceiver() {
  const received = [];
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const { headers } = request;
      received.push({
        method: request.method,
        path: request.url,
        headers: Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type']
          .map((name) => [name, headers[name] ?? null])),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received,
    close: () => new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections(); // the mock's delivery client keeps connections alive
    }),
  };
}

/** The number of predictions the key has, read with a plain request (the SDK has no list call). */
export async function predictionCount(key = env.apiKey) {
  const response = await fetch(`${env.baseUrl}/predictions`, { headers: { 'x-api-key': key } });
  if (!response.ok) throw new Error(`GET /predictions: ${response.status}`);
  return (await response.json()).pagination.total;
}

/** GET an output URL: status, content type, size and the first 16 bytes as hex (the magic number). */
export async function fetchFile(url) {
  const response = await fetch(url);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    size: bytes.length,
    head: Buffer.from(bytes.subarray(0, 16)).toString('hex'),
  };
}

/** Everything the SDK lets a caller read off a thrown error. */
export function describeError(error) {
  return {
    isSkytellsError: error instanceof SkytellsError,
    isError: error instanceof Error,
    name: error?.name,
    message: error?.message,
    errorId: error?.errorId,
    details: error?.details,
    httpStatus: error?.httpStatus,
  };
}

/** ``{ok: true, value}`` or ``{ok: false, error}``: lets a scenario record an expected failure. */
export async function attempt(call) {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
}
