// The Vercel AI SDK (`ai` 7 + `@ai-sdk/openai`) against the mock's Inference API, set up the way the provider's
// docs set up any OpenAI-compatible base URL: `createOpenAI({ baseURL, apiKey })`. `openai(id)` is a Responses
// API model (the provider's default), `openai.chat(id)` a Chat Completions one; most checks run with both.
// See checks.mjs for the output format and tests/integration/test_node_agent_clients.py for the driver.

import assert from 'node:assert/strict';

import { createOpenAI } from '@ai-sdk/openai';
import { embed, embedMany, generateText, isStepCount, Output, streamText, tool } from 'ai';
import { z } from 'zod';

import { addRule, apiFetch, env, main } from './checks.mjs';

const openai = createOpenAI({ baseURL: env.baseUrl, apiKey: env.apiKey, fetch: apiFetch });
const MODELS = { responses: () => openai(env.model), chat: () => openai.chat(env.model) };
const SETTINGS = { maxRetries: 0 };
const WEATHER_PROMPT = 'What is the weather in Paris?';
// `.int()` goes out with zod's safe-integer bounds (±2**53 - 1): the mock answers a small number, as for an open range
const Weather = z.object({ city: z.string(), temperature: z.number(),
  conditions: z.enum(['sunny', 'rainy', 'cloudy']), days: z.number().int() });

/** A weather tool that records its calls and answers with a fixed report. */
function weatherTool(calls) {
  return tool({
    description: 'Get the current weather for a city',
    inputSchema: z.object({ city: z.string().describe('The city to get the weather for') }),
    execute: async ({ city }) => {
      calls.push(city);
      return { city, temperature: 18, conditions: 'sunny' };
    },
  });
}

function checkUsage(usage) {
  assert.ok(usage.inputTokens > 0 && usage.outputTokens > 0, `usage: ${JSON.stringify(usage)}`);
}

async function plainText(kind) {
  const result = await generateText({ ...SETTINGS, model: MODELS[kind](), prompt: WEATHER_PROMPT });
  assert.ok(result.text.length > 0);
  assert.equal(result.finishReason, 'stop');
  checkUsage(result.usage);
  return { text: result.text, usage: result.usage };
}

async function streamedText(kind) {
  const { text: expected } = await generateText({ ...SETTINGS, model: MODELS[kind](), prompt: WEATHER_PROMPT });
  const result = streamText({ ...SETTINGS, model: MODELS[kind](), prompt: WEATHER_PROMPT });
  const parts = [];
  for await (const part of result.textStream) parts.push(part);
  assert.ok(parts.length > 1, 'streamed in more than one part');
  assert.equal(parts.join(''), expected);
  assert.equal(await result.text, expected);
  assert.equal(await result.finishReason, 'stop');
  return { parts: parts.length };
}

/** Tool -> text: step 1 calls the tool (the SDK runs `execute`), step 2 answers from its result. */
async function toolLoop(kind) {
  const calls = [];
  const result = await generateText({ ...SETTINGS, model: MODELS[kind](), prompt: WEATHER_PROMPT,
    tools: { weather: weatherTool(calls) }, stopWhen: isStepCount(5) });
  assert.equal(result.steps.length, 2, `steps: ${JSON.stringify(result.steps.map((s) => s.finishReason))}`);
  const [first, last] = result.steps;
  assert.equal(first.finishReason, 'tool-calls');
  assert.deepEqual(first.toolCalls.map((c) => c.toolName), ['weather']);
  assert.equal(calls.length, 1);
  assert.equal(last.finishReason, 'stop');
  assert.ok(result.text.includes('sunny'), `the answer does not quote the tool result: ${result.text}`);
  return { calls, text: result.text };
}

async function streamedToolLoop(kind) {
  const calls = [];
  const result = streamText({ ...SETTINGS, model: MODELS[kind](), prompt: WEATHER_PROMPT,
    tools: { weather: weatherTool(calls) }, stopWhen: isStepCount(5) });
  const types = [];
  for await (const part of result.fullStream) {
    if (part.type === 'error') throw part.error;
    types.push(part.type);
  }
  assert.equal(calls.length, 1, `parts: ${[...new Set(types)].join(' ')}`);
  for (const type of ['tool-input-start', 'tool-input-delta', 'tool-call', 'tool-result', 'text-delta']) {
    assert.ok(types.includes(type), `no ${type} part: ${[...new Set(types)].join(' ')}`);
  }
  const text = await result.text;
  assert.ok(text.includes('sunny'), `answer: ${text}`);
  return { calls, types: [...new Set(types)] };
}

async function structured(kind) {
  const result = await generateText({ ...SETTINGS, model: MODELS[kind](), prompt: WEATHER_PROMPT,
    output: Output.object({ schema: Weather }) });
  Weather.strict().parse(result.output);
  assert.ok(result.output.days >= 0 && result.output.days <= 100, `days: ${result.output.days}`);
  return { output: result.output };
}

async function streamedStructured(kind) {
  const result = streamText({ ...SETTINGS, model: MODELS[kind](), prompt: WEATHER_PROMPT,
    output: Output.object({ schema: Weather }) });
  let partials = 0;
  for await (const partial of result.partialOutputStream) {
    assert.equal(typeof partial, 'object');
    partials += 1;
  }
  const output = await result.output;
  Weather.strict().parse(output);
  assert.ok(partials >= 1);
  return { output, partials };
}

/** A second turn sends the first turn's messages back (the Responses model may reference stored items). */
async function conversation(kind) {
  const model = kind === 'responses' ? openai('deepbrain-router') : openai.chat('deepbrain-router');
  const messages = [{ role: 'user', content: WEATHER_PROMPT }];
  const first = await generateText({ ...SETTINGS, model, messages });
  messages.push(...first.response.messages, { role: 'user', content: 'And tomorrow?' });
  const second = await generateText({ ...SETTINGS, model, messages });
  assert.ok(second.text.length > 0);
  assert.notEqual(second.text, first.text);
  return { turns: [first.text, second.text] };
}

const PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E'
  + 'rkJggg==', 'base64'); // 1x1

/** Images as v7 `file` parts (a URL and raw bytes, which the provider sends as a data URL), counted as tokens. */
async function imageParts(kind) {
  const text = { type: 'text', text: 'What is in this image?' };
  const textOnly = await generateText({ ...SETTINGS, model: MODELS[kind](), messages: [{ role: 'user',
    content: [text] }] });
  const result = await generateText({ ...SETTINGS, model: MODELS[kind](), messages: [{ role: 'user', content: [text,
    { type: 'file', mediaType: 'image', data: 'https://example.com/cat.png' },
    { type: 'file', mediaType: 'image/png', data: PIXEL_PNG }] }] });
  assert.ok(result.text.length > 0);
  assert.ok(result.usage.inputTokens > textOnly.usage.inputTokens, 'images are counted as tokens');
  return { textOnly: textOnly.usage.inputTokens, withImages: result.usage.inputTokens };
}

const checks = {
  ai_generate_text_responses: () => plainText('responses'),
  ai_generate_text_chat: () => plainText('chat'),
  ai_stream_text_responses: () => streamedText('responses'),
  ai_stream_text_chat: () => streamedText('chat'),
  ai_tool_loop_responses: () => toolLoop('responses'),
  ai_tool_loop_chat: () => toolLoop('chat'),
  ai_stream_tool_loop_responses: () => streamedToolLoop('responses'),
  ai_stream_tool_loop_chat: () => streamedToolLoop('chat'),
  ai_output_object_responses: () => structured('responses'),
  ai_output_object_chat: () => structured('chat'),
  ai_stream_output_object_responses: () => streamedStructured('responses'),
  ai_stream_output_object_chat: () => streamedStructured('chat'),

  ai_conversation_responses: () => conversation('responses'),
  ai_conversation_chat: () => conversation('chat'),

  /** Scripted agent turns (control plane): the scripted call runs the tool, the scripted answer ends the loop. */
  async ai_scripted_tool_loop_chat() {
    await addRule({ match: { route: 'POST /v1/chat/completions' }, outcome: { replies: [
      { tool_calls: [{ name: 'weather', arguments: { city: 'Lyon' } }] }, 'It is 18 C and sunny in Lyon.'] } });
    const calls = [];
    const result = await generateText({ ...SETTINGS, model: MODELS.chat(), prompt: WEATHER_PROMPT,
      tools: { weather: weatherTool(calls) }, stopWhen: isStepCount(5) });
    assert.deepEqual(calls, ['Lyon']);
    assert.equal(result.text, 'It is 18 C and sunny in Lyon.');
    return { steps: result.steps.length };
  },

  async ai_scripted_output_object_responses() {
    const scripted = { city: 'Lyon', temperature: 18, conditions: 'sunny', days: 3 };
    await addRule({ match: { route: 'POST /v1/responses' }, outcome: { json: scripted } });
    const result = await generateText({ ...SETTINGS, model: MODELS.responses(), prompt: WEATHER_PROMPT,
      output: Output.object({ schema: Weather }) });
    assert.deepEqual(result.output, scripted);
    return { output: result.output };
  },

  ai_image_parts_responses: () => imageParts('responses'),
  ai_image_parts_chat: () => imageParts('chat'),

  async ai_embed() {
    const model = openai.embedding(env.model);
    const { embedding, usage } = await embed({ ...SETTINGS, model, value: 'sunny day at the beach' });
    const { embeddings } = await embedMany({ ...SETTINGS, model, values: ['sunny day at the beach',
      'rainy day in the city'] });
    assert.equal(embeddings.length, 2);
    assert.ok(embedding.length > 0 && embeddings.every((e) => e.length === embedding.length));
    embedding.forEach((x, i) => assert.ok(Math.abs(x - embeddings[0][i]) < 1e-6)); // same text, same vector
    assert.ok(embeddings[1].some((x, i) => x !== embeddings[0][i]));
    assert.ok(usage.tokens > 0);
    return { dimensions: embedding.length, usage };
  },
};

await main(checks);
