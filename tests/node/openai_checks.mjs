// The official `openai` Node SDK (7.x) against the mock's Inference API, used the way its README uses any
// OpenAI-compatible endpoint: `new OpenAI({ baseURL, apiKey })`. One check per agent feature (issue 11);
// see checks.mjs for the output format and tests/integration/test_node_agent_clients.py for the driver.

import assert from 'node:assert/strict';

import OpenAI from 'openai';
import { zodFunction, zodResponseFormat, zodResponsesFunction, zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';

import { addRule, apiFetch, env, main } from './checks.mjs';

const client = new OpenAI({ baseURL: env.baseUrl, apiKey: env.apiKey, maxRetries: 0, fetch: apiFetch });
const model = env.model;

const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the current weather for a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', description: 'City name' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
    strict: true,
  },
};
const TIME = {
  type: 'function',
  function: {
    name: 'get_time',
    description: 'Local clock reading for a timezone', // shares no word with ASK_WEATHER
    parameters: { type: 'object', properties: { timezone: { type: 'string' } }, required: ['timezone'] },
  },
};
const ASK_WEATHER = [{ role: 'user', content: 'What is the weather in Paris?' }];
const WEATHER_RESULT = JSON.stringify({ city: 'Paris', temperature: 18, conditions: 'sunny' });
const Weather = z.object({ city: z.string(), temperature: z.number(),
  conditions: z.enum(['sunny', 'rainy', 'cloudy']) });

/** The one message of a single-choice completion, after checking the choice is well formed. */
function onlyMessage(completion, finishReason) {
  assert.equal(completion.choices.length, 1);
  const [choice] = completion.choices;
  assert.equal(choice.finish_reason, finishReason, `finish_reason (message: ${JSON.stringify(choice.message)})`);
  return choice.message;
}

/** Tool calls of a message, each checked to look like OpenAI's (`call_…` id, JSON object arguments). */
function toolCalls(message) {
  assert.ok(Array.isArray(message.tool_calls) && message.tool_calls.length > 0,
    `no tool_calls: ${JSON.stringify(message)}`);
  assert.equal(message.content, null);
  return message.tool_calls.map((call) => {
    assert.match(call.id, /^call_[A-Za-z0-9]{24}$/);
    assert.equal(call.type, 'function');
    const args = JSON.parse(call.function.arguments);
    assert.equal(typeof args, 'object');
    return { id: call.id, name: call.function.name, args };
  });
}

/** The text of a listed message item (OpenAI lists content as parts: input_text / output_text). */
function itemText(item) {
  assert.equal(item.type, 'message', JSON.stringify(item));
  return item.content.map((part) => part.text).join('');
}

function checkWeatherArgs(args) {
  assert.deepEqual(Object.keys(args).sort(), ['city', 'unit']); // strict: all properties, nothing else
  assert.equal(typeof args.city, 'string');
  assert.ok(['celsius', 'fahrenheit'].includes(args.unit), `unit ${args.unit}`);
}

/** The HTTP error a call must fail with: status 400 naming `param`. */
async function badRequest(call, param) {
  const error = await call().then((value) => assert.fail(`expected a 400, got ${JSON.stringify(value)}`), (e) => e);
  assert.ok(error instanceof OpenAI.BadRequestError, `${error}`);
  assert.equal(error.status, 400);
  assert.equal(error.param, param, error.message);
  return { message: error.message, param: error.param, code: error.code };
}

const checks = {
  async chat_plain() {
    const completion = await client.chat.completions.create({ model, messages: ASK_WEATHER });
    const message = onlyMessage(completion, 'stop');
    assert.ok(typeof message.content === 'string' && message.content.length > 0);
    return { content: message.content, usage: completion.usage };
  },

  async chat_stream() {
    const plain = onlyMessage(await client.chat.completions.create({ model, messages: ASK_WEATHER }), 'stop');
    const stream = await client.chat.completions.create({ model, messages: ASK_WEATHER, stream: true });
    let text = '';
    let finish = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'stop');
    assert.equal(text, plain.content);
    return { text };
  },

  async tools_auto() {
    const completion = await client.chat.completions.create({ model, messages: ASK_WEATHER, tools: [WEATHER, TIME],
      tool_choice: 'auto' });
    const calls = toolCalls(onlyMessage(completion, 'tool_calls'));
    assert.deepEqual(calls.map((c) => c.name), ['get_weather']); // only the tool the question is about
    checkWeatherArgs(calls[0].args);
    return { calls, usage: completion.usage };
  },

  async tools_parallel() {
    const messages = [{ role: 'user', content: 'What is the weather in Paris, and the local time there?' }];
    const both = toolCalls(onlyMessage(await client.chat.completions.create({ model, messages,
      tools: [WEATHER, TIME] }), 'tool_calls'));
    assert.deepEqual(both.map((c) => c.name).sort(), ['get_time', 'get_weather']);
    assert.equal(new Set(both.map((c) => c.id)).size, 2);
    const single = toolCalls(onlyMessage(await client.chat.completions.create({ model, messages,
      tools: [WEATHER, TIME], parallel_tool_calls: false }), 'tool_calls'));
    assert.equal(single.length, 1);
    return { both, single };
  },

  async tools_required() {
    const messages = [{ role: 'user', content: 'Hello there!' }]; // names no tool: required still calls one
    const calls = toolCalls(onlyMessage(await client.chat.completions.create({ model, messages,
      tools: [WEATHER, TIME], tool_choice: 'required' }), 'tool_calls'));
    assert.ok(calls.every((c) => ['get_weather', 'get_time'].includes(c.name)));
    return { calls };
  },

  async tools_named() {
    const calls = toolCalls(onlyMessage(await client.chat.completions.create({ model, messages: ASK_WEATHER,
      tools: [WEATHER, TIME], tool_choice: { type: 'function', function: { name: 'get_time' } } }), 'tool_calls'));
    assert.deepEqual(calls.map((c) => c.name), ['get_time']);
    assert.equal(typeof calls[0].args.timezone, 'string');
    return { calls };
  },

  async tools_none() {
    const completion = await client.chat.completions.create({ model, messages: ASK_WEATHER, tools: [WEATHER],
      tool_choice: 'none' });
    const message = onlyMessage(completion, 'stop');
    assert.ok(typeof message.content === 'string' && message.content.length > 0 && !message.tool_calls?.length);
    return { content: message.content };
  },

  /** The 2-step agent loop: call -> run the tool -> send a `role: "tool"` message -> text answer. */
  async tool_loop() {
    const messages = [...ASK_WEATHER];
    const first = onlyMessage(await client.chat.completions.create({ model, messages, tools: [WEATHER] }),
      'tool_calls');
    const [call] = toolCalls(first);
    messages.push(first, { role: 'tool', tool_call_id: call.id, content: WEATHER_RESULT });
    const second = await client.chat.completions.create({ model, messages, tools: [WEATHER] });
    const answer = onlyMessage(second, 'stop');
    assert.ok(typeof answer.content === 'string' && answer.content.length > 0);
    assert.ok(answer.content.includes('sunny'), `the answer does not quote the tool output: ${answer.content}`);
    return { call, answer: answer.content, usage: [second.usage] };
  },

  /** `runTools` with a zod-described function: the SDK runs the loop, validating the arguments with zod. */
  async run_tools() {
    const invoked = [];
    const runner = client.chat.completions.runTools({
      model,
      messages: ASK_WEATHER,
      tools: [zodFunction({
        name: 'get_weather',
        description: 'Get the current weather for a city',
        parameters: z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) }),
        function: async (args) => { invoked.push(args); return WEATHER_RESULT; },
      })],
    });
    const content = await runner.finalContent();
    assert.equal(invoked.length, 1);
    checkWeatherArgs(invoked[0]);
    assert.ok(typeof content === 'string' && content.includes('sunny'), `final content: ${content}`);
    const roles = runner.messages.map((m) => m.role);
    assert.deepEqual(roles.slice(-3), ['assistant', 'tool', 'assistant']);
    return { invoked, content, completions: runner.allChatCompletions().length };
  },

  /** Tool-call deltas reassembled by the SDK's stream helper equal the plain reply's calls. */
  async stream_tool_calls() {
    const body = { model, messages: ASK_WEATHER, tools: [WEATHER], tool_choice: 'required' };
    const plain = toolCalls(onlyMessage(await client.chat.completions.create(body), 'tool_calls'));
    const stream = client.chat.completions.stream(body);
    const fragments = [];
    stream.on('tool_calls.function.arguments.delta', (event) => fragments.push(event.arguments_delta));
    const final = await stream.finalChatCompletion();
    const streamed = toolCalls(onlyMessage(final, 'tool_calls'));
    assert.ok(fragments.length >= 1);
    assert.equal(fragments.join(''), final.choices[0].message.tool_calls[0].function.arguments);
    const essentials = (calls) => calls.map(({ name, args }) => ({ name, args })); // ids differ per request
    assert.deepEqual(essentials(streamed), essentials(plain));
    return { streamed, fragments: fragments.length };
  },

  async parse_zod() {
    const completion = await client.chat.completions.parse({ model, messages: ASK_WEATHER,
      response_format: zodResponseFormat(Weather, 'weather') });
    const message = onlyMessage(completion, 'stop');
    assert.equal(message.refusal, null);
    Weather.strict().parse(message.parsed); // strict schema: no extra keys
    return { parsed: message.parsed, content: message.content };
  },

  async json_object() {
    const completion = await client.chat.completions.create({ model, response_format: { type: 'json_object' },
      messages: [{ role: 'user', content: 'Describe Paris as a JSON object.' }] });
    const parsed = JSON.parse(onlyMessage(completion, 'stop').content);
    assert.ok(parsed && typeof parsed === 'object' && !Array.isArray(parsed));
    return { parsed };
  },

  /** Responses API: a function_call item, then function_call_output continues with previous_response_id. */
  async responses_tools() {
    const tools = [{ type: 'function', name: 'get_weather', description: WEATHER.function.description,
      parameters: WEATHER.function.parameters, strict: true }];
    const first = await client.responses.create({ model, input: 'What is the weather in Paris?', tools });
    const calls = first.output.filter((item) => item.type === 'function_call');
    assert.equal(calls.length, 1, `output: ${JSON.stringify(first.output)}`);
    const [call] = calls;
    assert.equal(call.name, 'get_weather');
    assert.match(call.call_id, /^call_[A-Za-z0-9]{24}$/);
    assert.match(call.id, /^fc_/);
    checkWeatherArgs(JSON.parse(call.arguments));
    assert.equal(first.output_text, '');
    assert.equal(first.tools[0].name, 'get_weather');
    const second = await client.responses.create({ model, previous_response_id: first.id, tools,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: WEATHER_RESULT }] });
    assert.equal(second.status, 'completed');
    assert.ok(second.output_text.includes('sunny'), `answer: ${second.output_text}`);
    return { call, answer: second.output_text };
  },

  /** The same loop without previous_response_id: the whole conversation is sent as input items. */
  async responses_tools_stateless() {
    const tools = [{ type: 'function', name: 'get_weather', parameters: WEATHER.function.parameters, strict: true }];
    const input = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const first = await client.responses.create({ model, input, tools, tool_choice: 'required', store: false });
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(call, `output: ${JSON.stringify(first.output)}`);
    input.push(...first.output, { type: 'function_call_output', call_id: call.call_id, output: WEATHER_RESULT });
    const second = await client.responses.create({ model, input, tools, store: false });
    assert.ok(second.output_text.includes('sunny'), `answer: ${second.output_text}`);
    return { answer: second.output_text };
  },

  async responses_parse() {
    const response = await client.responses.parse({ model, input: 'What is the weather in Paris?',
      text: { format: zodTextFormat(Weather, 'weather') } });
    Weather.strict().parse(response.output_parsed);
    return { parsed: response.output_parsed };
  },

  async responses_stream_tools() {
    const tools = [{ type: 'function', name: 'get_weather', parameters: WEATHER.function.parameters, strict: true }];
    const stream = client.responses.stream({ model, input: 'What is the weather in Paris?', tools,
      tool_choice: 'required' });
    const types = [];
    const deltas = [];
    let done = null;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.function_call_arguments.delta') deltas.push(event.delta);
      if (event.type === 'response.function_call_arguments.done') done = event;
    }
    const final = await stream.finalResponse();
    const call = final.output.find((item) => item.type === 'function_call');
    assert.ok(call, `final output: ${JSON.stringify(final.output)}`);
    assert.ok(deltas.length >= 1 && done, `events: ${types.join(' ')}`);
    assert.equal(deltas.join(''), call.arguments);
    assert.equal(done.arguments, call.arguments);
    checkWeatherArgs(JSON.parse(call.arguments));
    for (const type of ['response.output_item.added', 'response.output_item.done', 'response.completed']) {
      assert.ok(types.includes(type), `no ${type}: ${types.join(' ')}`);
    }
    return { types: [...new Set(types)], deltas: deltas.length };
  },

  async responses_input_items() {
    const input = [
      { role: 'user', content: 'First question' },
      { role: 'assistant', content: 'First answer' },
      { role: 'user', content: 'Second question' },
    ];
    const response = await client.responses.create({ model, input });
    const page = await client.responses.inputItems.list(response.id);
    assert.equal(page.data.length, 3);
    assert.ok(page.data.every((item) => typeof item.id === 'string' && item.id.length > 0));
    assert.equal(itemText(page.data[0]), 'Second question'); // newest first by default
    const ascending = [];
    for await (const item of client.responses.inputItems.list(response.id, { order: 'asc', limit: 1 })) {
      ascending.push(item); // the SDK pages with `after`, one item a page
    }
    assert.deepEqual(ascending.map(itemText), ['First question', 'First answer',
      'Second question']);
    assert.equal(new Set(ascending.map((item) => item.id)).size, 3);
    return { ids: ascending.map((item) => item.id) };
  },

  async chat_n2() {
    const completion = await client.chat.completions.create({ model, messages: ASK_WEATHER, n: 2 });
    assert.deepEqual(completion.choices.map((c) => c.index), [0, 1]);
    const contents = completion.choices.map((c) => c.message.content);
    assert.notEqual(contents[0], contents[1]);
    return { contents, usage: completion.usage };
  },

  async logprobs() {
    const completion = await client.chat.completions.create({ model, messages: ASK_WEATHER, logprobs: true,
      top_logprobs: 2 });
    const [choice] = completion.choices;
    const entries = choice.logprobs?.content;
    assert.ok(Array.isArray(entries) && entries.length > 0, `logprobs: ${JSON.stringify(choice.logprobs)}`);
    assert.equal(entries.map((e) => e.token).join(''), choice.message.content);
    for (const entry of entries) {
      assert.ok(entry.logprob <= 0 && entry.top_logprobs.length === 2);
    }
    return { tokens: entries.length };
  },

  async image_url() {
    const text = { type: 'text', text: 'What is in this image?' };
    const pixel = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ'
      + 'AAAABJRU5ErkJggg=='; // a 1x1 PNG
    const textOnly = await client.chat.completions.create({ model, messages: [{ role: 'user', content: [text] }] });
    const withImages = await client.chat.completions.create({ model, messages: [{ role: 'user', content: [text,
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
      { type: 'image_url', image_url: { url: pixel } }] }] });
    assert.ok(onlyMessage(withImages, 'stop').content.length > 0);
    assert.ok(withImages.usage.prompt_tokens > textOnly.usage.prompt_tokens, 'images are counted as tokens');
    return { textOnly: textOnly.usage, withImages: withImages.usage };
  },

  async responses_input_image() {
    const response = await client.responses.create({ model, input: [{ role: 'user', content: [
      { type: 'input_text', text: 'What is in this image?' },
      { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'auto' }] }] });
    assert.equal(response.status, 'completed');
    assert.ok(response.output_text.length > 0);
    return { usage: response.usage };
  },

  async chat_n2_stream() {
    const plain = await client.chat.completions.create({ model, messages: ASK_WEATHER, n: 2 });
    const stream = client.chat.completions.stream({ model, messages: ASK_WEATHER, n: 2 });
    const indices = [];
    stream.on('chunk', (chunk) => indices.push(...chunk.choices.map((c) => c.index)));
    const final = await stream.finalChatCompletion();
    assert.deepEqual(final.choices.map((c) => c.message.content), plain.choices.map((c) => c.message.content));
    assert.deepEqual([...new Set(indices)].sort(), [0, 1]);
    return { chunks: indices.length };
  },

  async logprobs_stream() {
    const stream = client.chat.completions.stream({ model, messages: ASK_WEATHER, logprobs: true, top_logprobs: 1 });
    const final = await stream.finalChatCompletion();
    const [choice] = final.choices;
    const entries = choice.logprobs?.content;
    assert.ok(Array.isArray(entries) && entries.length > 0, `logprobs: ${JSON.stringify(choice.logprobs)}`);
    assert.equal(entries.map((e) => e.token).join(''), choice.message.content);
    return { tokens: entries.length };
  },

  async stream_parse_zod() {
    const stream = client.chat.completions.stream({ model, messages: ASK_WEATHER,
      response_format: zodResponseFormat(Weather, 'weather') });
    let deltas = 0;
    stream.on('content.delta', () => { deltas += 1; });
    const final = await stream.finalChatCompletion();
    const message = onlyMessage(final, 'stop');
    Weather.strict().parse(message.parsed);
    assert.ok(deltas > 1, 'the JSON arrived in several deltas');
    return { parsed: message.parsed, deltas };
  },

  /** A prompt the safety checker flags, with a structured format: a refusal instead of JSON. */
  async parse_refusal() {
    const completion = await client.chat.completions.parse({ model, messages: [{ role: 'user',
      content: 'show me gore' }], response_format: zodResponseFormat(Weather, 'weather') });
    const message = onlyMessage(completion, 'stop');
    assert.ok(typeof message.refusal === 'string' && message.refusal.length > 0, JSON.stringify(message));
    assert.equal(message.content, null);
    assert.equal(message.parsed, null);
    return { refusal: message.refusal };
  },

  async responses_parse_tool() {
    const response = await client.responses.parse({ model, input: 'What is the weather in Paris?', tools: [
      zodResponsesFunction({ name: 'get_weather', parameters: z.object({ city: z.string(),
        unit: z.enum(['celsius', 'fahrenheit']) }) })], tool_choice: 'required' });
    const call = response.output.find((item) => item.type === 'function_call');
    assert.ok(call, JSON.stringify(response.output));
    checkWeatherArgs(call.parsed_arguments);
    return { parsed: call.parsed_arguments };
  },

  bad_tool_choice: () => badRequest(() => client.chat.completions.create({ model, messages: ASK_WEATHER,
    tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'no_such_tool' } } }), 'tool_choice'),

  bad_n: () => badRequest(() => client.chat.completions.create({ model, messages: ASK_WEATHER, n: 1000 }), 'n'),

  bad_tool_schema: () => badRequest(() => client.chat.completions.create({ model, messages: ASK_WEATHER,
    tools: [{ type: 'function', function: { name: 'impossible', parameters: { type: 'object',
      properties: { x: { type: 'integer', minimum: 5, maximum: 1 } }, required: ['x'] } } }] }),
  'tools[0].function.parameters'),

  /** Agent turns scripted through the control plane: exactly the scripted call, then the scripted answer. */
  async scripted_tool_loop() {
    await addRule({ match: { route: 'POST /v1/chat/completions' }, outcome: { replies: [
      { tool_calls: [{ name: 'get_weather', arguments: { city: 'Lyon', unit: 'celsius' } }] },
      'It is 18 C and sunny in Lyon.'] } });
    const invoked = [];
    const runner = client.chat.completions.runTools({ model, messages: ASK_WEATHER, tools: [zodFunction({
      name: 'get_weather', parameters: z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) }),
      function: async (args) => { invoked.push(args); return WEATHER_RESULT; } })] });
    assert.equal(await runner.finalContent(), 'It is 18 C and sunny in Lyon.');
    assert.deepEqual(invoked, [{ city: 'Lyon', unit: 'celsius' }]);
    return { invoked };
  },

  async embeddings() {
    const texts = ['The food was delicious', 'The weather is sunny'];
    const batch = await client.embeddings.create({ model, input: texts }); // the SDK asks for base64
    const floats = await client.embeddings.create({ model, input: texts, encoding_format: 'float' });
    assert.deepEqual(batch.data.map((d) => d.index), [0, 1]);
    const [a, b] = batch.data.map((d) => d.embedding);
    assert.ok(a.length > 0 && a.length === b.length && a.some((x, i) => x !== b[i]));
    assert.deepEqual(batch.data.map((d) => d.embedding.length), floats.data.map((d) => d.embedding.length));
    floats.data.forEach((d, i) => d.embedding.forEach((x, j) => {
      assert.ok(Math.abs(x - batch.data[i].embedding[j]) < 1e-6);
    }));
    return { dimensions: a.length, usage: batch.usage };
  },
};

await main(checks);
