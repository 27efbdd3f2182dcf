// Runs the official npm `skytells` SDK (1.0.0), unchanged but for its baseUrl, against a running mock.
//
//   MOCK_BASE_URL=http://127.0.0.1:PORT/v1 MOCK_API_KEY=… MOCK_CONTROL_URL=http://127.0.0.1:PORT \
//     node sdk_check.mjs <scenario>
//
// Prints one JSON object on stdout: what the SDK returned or threw, for the pytest side to judge
// (tests/integration/test_skytells_npm_sdk.py). The SDK never polls or sleeps; the only waiting is the
// server's own `await: true`, which this script ends by advancing the mock's virtual clock through
// the control plane, so a scenario takes no longer than its HTTP round trips.

import { API_BASE_URL, PredictionStatus, SkytellsClient, SkytellsError, createClient } from 'skytells';

import { advanceClock, attempt, describeError, env, fetchFile, predictionCount, startReceiver } from './mock.mjs';

const client = () => createClient(env.apiKey, { baseUrl: env.baseUrl });

/** Resolve `call` (a request the server holds on its clock) by advancing the clock once it has arrived. */
async function releaseWhenCreated(call, seconds) {
  const before = await predictionCount();
  let settled = false;
  call.then(() => { settled = true; }, () => { settled = true; });
  // Advance only after the prediction exists: advancing earlier would create it at the later time,
  // and the server would hold the request again. Bounded: each try is one loopback round trip.
  for (let tries = 0; tries < 1000 && !settled; tries += 1) {
    if ((await predictionCount()) > before) {
      await advanceClock(seconds);
      break;
    }
  }
  return call;
}

const scenarios = {
  /** What the package exports, and the client's public methods (types-only exports vanish at run time). */
  async surface() {
    const module = await import('skytells');
    const made = client();
    return {
      exports: Object.keys(module).sort(),
      methods: Object.getOwnPropertyNames(SkytellsClient.prototype).filter((n) => n !== 'constructor').sort(),
      createClientGivesClient: made instanceof SkytellsClient,
      constructedClientWorks: (await new SkytellsClient(env.apiKey, { baseUrl: env.baseUrl }).listModels()).length,
      apiBaseUrl: API_BASE_URL,
      predictionStatuses: Object.values(PredictionStatus),
      errorDefaults: describeError(new SkytellsError('message', 'SOME_ID', 'details')),
    };
  },

  async models() {
    const models = await client().listModels();
    const required = ['name', 'namespace', 'type', 'status']; // non-optional in the SDK's Model type
    return {
      count: models.length,
      namespaces: models.map((m) => m.namespace),
      types: [...new Set(models.map((m) => m.type))].sort(),
      statuses: [...new Set(models.map((m) => m.status))].sort(),
      missingTypedFields: models.filter((m) => required.some((f) => typeof m[f] !== 'string')).map((m) => m.namespace),
      withInputSchema: models.filter((m) => 'input_schema' in m).length,
      truefusionPro: models.find((m) => m.namespace === 'truefusion-pro'),
    };
  },

  /** predict -> getPrediction (pending) -> clock +60 s -> getPrediction (succeeded, real files). */
  async lifecycle() {
    const sdk = client();
    const created = await sdk.predict({ model: 'truefusion-pro', input: { prompt: 'A red fox', num_outputs: 2 } });
    const pending = await sdk.getPrediction(created.id);
    await advanceClock(60);
    const done = await sdk.getPrediction(created.id);
    return {
      created,
      pending,
      done,
      succeededIsEnum: done.status === PredictionStatus.SUCCEEDED,
      files: await Promise.all(done.output.map(fetchFile)),
    };
  },

  /** `await: true`: the server holds the request until the prediction is terminal on its clock. */
  async awaited() {
    const sdk = client();
    const call = sdk.predict({ model: 'beatfusion-2.0', input: { lyrics: '[verse]\nla la' }, await: true });
    const done = await releaseWhenCreated(call, 3600);
    const fast = await sdk.predict({ model: 'truefusion-edge', input: { prompt: 'quick' } });
    return { done, file: await fetchFile(done.output), fast };
  },

  /** `stream: true` on create, and streamPrediction (a JSON read: the SDK asks for no event stream). */
  async stream() {
    const sdk = client();
    const created = await sdk.predict({ model: 'truefusion-pro', input: { prompt: 'stream' }, stream: true });
    const early = await sdk.streamPrediction(created.id);
    await advanceClock(60);
    const late = await sdk.streamPrediction(created.id);
    return { created, early, late, file: await fetchFile(late.output[0]) };
  },

  /** The webhook option: kept on the prediction, checked, and delivered (signed) to a local receiver. */
  async webhook() {
    const sdk = client();
    const receiver = await startReceiver();
    try {
      const webhook = { url: `${receiver.url}/hooks/skytells`, events: ['prediction.succeeded', 'prediction.failed'] };
      const created = await sdk.predict({ model: 'truefusion', input: { prompt: 'hooked' }, webhook });
      await advanceClock(60, { settle: true });
      const unknownEvent = await attempt(() => sdk.predict({
        model: 'truefusion', input: { prompt: 'x' }, webhook: { url: webhook.url, events: ['prediction.exploded'] },
      }));
      return { receiverUrl: receiver.url, created, received: receiver.received, unknownEvent };
    } finally {
      await receiver.close();
    }
  },

  async cancelDelete() {
    const sdk = client();
    const video = await sdk.predict({ model: 'mera', input: { prompt: 'film' } });
    const cancelled = await sdk.cancelPrediction(video.id);
    await advanceClock(3600);
    const stillCancelled = await sdk.getPrediction(video.id);
    const cancelAgain = await attempt(() => sdk.cancelPrediction(video.id));
    const deleted = await sdk.deletePrediction(video.id);
    const getDeleted = await attempt(() => sdk.getPrediction(video.id));
    const deleteAgain = await attempt(() => sdk.deletePrediction(video.id));

    const image = await sdk.predict({ model: 'truefusion-pro', input: { prompt: 'cat' } });
    await advanceClock(60);
    const finished = await sdk.getPrediction(image.id);
    const fileBefore = await fetchFile(finished.output[0]);
    const cancelFinished = await attempt(() => sdk.cancelPrediction(image.id));
    const deletedFinished = await sdk.deletePrediction(image.id);
    const fileAfter = await fetchFile(finished.output[0]);

    const running = await sdk.predict({ model: 'truefusion', input: { prompt: 'running' } });
    const deletedRunning = await sdk.deletePrediction(running.id);
    return {
      cancelled, stillCancelled, cancelAgain, deleted, getDeleted, deleteAgain,
      finished, fileBefore, cancelFinished, deletedFinished, fileAfter, deletedRunning,
    };
  },

  /** Another key's prediction does not exist for this key. */
  async ownership() {
    const sdk = client();
    const mine = await sdk.predict({ model: 'truefusion', input: { prompt: 'mine' } });
    const stranger = createClient(env.otherKey, { baseUrl: env.baseUrl });
    return {
      get: await attempt(() => stranger.getPrediction(mine.id)),
      stream: await attempt(() => stranger.streamPrediction(mine.id)),
      cancel: await attempt(() => stranger.cancelPrediction(mine.id)),
      delete: await attempt(() => stranger.deletePrediction(mine.id)),
      stillMine: await sdk.getPrediction(mine.id),
    };
  },

  /** Every documented request error, as SkytellsError fields, plus the SDK's own transport errors. */
  async errors() {
    const sdk = client();
    const missingId = '00000000-0000-4000-8000-000000000000';
    const edge = await sdk.predict({ model: 'truefusion-edge', input: { prompt: 'for a non-JSON body' } });
    return {
      badKey: await attempt(() => createClient('sk-unknown-key', { baseUrl: env.baseUrl }).listModels()),
      noKey: await attempt(() => createClient(undefined, { baseUrl: env.baseUrl }).listModels()),
      badInput: await attempt(() => sdk.predict({ model: 'truefusion-pro', input: { prompt: 'x', num_outputs: 9 } })),
      missingInput: await attempt(() => sdk.predict({ model: 'truefusion-pro' })),
      missingModel: await attempt(() => sdk.predict({ input: { prompt: 'x' } })),
      unknownModel: await attempt(() => sdk.predict({ model: 'truefusion-nope', input: { prompt: 'x' } })),
      textModel: await attempt(() => sdk.predict({ model: 'gpt-5', input: { prompt: 'hi' } })),
      badAwait: await attempt(() => sdk.predict({ model: 'truefusion', input: { prompt: 'x' }, await: 'yes' })),
      getUnknown: await attempt(() => sdk.getPrediction(missingId)),
      streamUnknown: await attempt(() => sdk.streamPrediction(missingId)),
      cancelUnknown: await attempt(() => sdk.cancelPrediction(missingId)),
      deleteUnknown: await attempt(() => sdk.deletePrediction(missingId)),
      network: await attempt(() => createClient(env.apiKey, { baseUrl: 'http://127.0.0.1:1/v1' }).listModels()),
      // A base URL that lands on one of the mock's image files: the SDK's non-JSON branch.
      nonJson: await attempt(() => createClient(env.apiKey, { baseUrl: `${edge.output[0]}?path=` }).listModels()),
    };
  },

  /** One create and one read, for account states the pytest side sets (credits, suspension). */
  async account() {
    const sdk = client();
    return {
      predict: await attempt(() => sdk.predict({ model: 'truefusion-pro', input: { prompt: 'x' } })),
      models: await attempt(() => sdk.listModels()),
    };
  },

  /** The safety checker fails a prediction: a `failed` object, not a thrown error. */
  async failed() {
    const sdk = client();
    const created = await sdk.predict({ model: 'truefusion-pro', input: { prompt: 'something nsfw' } });
    await advanceClock(60);
    return { created, failed: await sdk.getPrediction(created.id) };
  },

  /** The `timeout` option: the server holds an `await` request on a clock nobody moves. */
  async timeout() {
    const impatient = createClient(env.apiKey, { baseUrl: env.baseUrl, timeout: 1500 });
    const held = await attempt(() => impatient.predict({ model: 'veo-3.1', input: { prompt: 'slow' }, await: true }));
    const created = await predictionCount();
    await advanceClock(3600); // the server still holds the abandoned request: let it finish now
    const patient = createClient(env.apiKey, { baseUrl: env.baseUrl, timeout: 30_000 });
    return { held, created, quick: (await patient.listModels()).length };
  },

  /** Run against a server limited to 2 requests a minute: 429, then free again after 61 clock seconds. */
  async rateLimit() {
    const sdk = client();
    const calls = [];
    for (let i = 0; i < 3; i += 1) calls.push(await attempt(async () => (await sdk.listModels()).length));
    await advanceClock(61);
    calls.push(await attempt(async () => (await sdk.listModels()).length));
    return { calls };
  },
};

const name = process.argv[2];
if (!Object.hasOwn(scenarios, name)) {
  console.error(`usage: node sdk_check.mjs <scenario>; scenarios: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await scenarios[name]())}\n`);
