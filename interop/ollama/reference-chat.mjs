// The reference client of the Ollama suite: the official openai package (installed in
// interop/node_modules by "npm ci --prefix interop"), sending one streamed chat request
// and printing, as one JSON object, what it made of the answer.
//
// Usage: node reference-chat.mjs BASE_URL MODE REQUEST_JSON
//   REQUEST_JSON is the request body; "stream": true is added.
//   MODE "raw" iterates the chunks of chat.completions.create and joins them as a program
//   that prints each delta would: content and reasoning as strings, tool-call fragments by
//   index. MODE "helper" lets the package's own chat.completions.stream helper assemble
//   the message and reads finalChatCompletion().
// Output: {"content","reasoning","tool_calls":[{"index","id","name","arguments"}],
// "finish_reason","usage","chunks"} and, on failure, "error": {"status","type","message"}.
import OpenAI from 'openai';

const [baseURL, mode, request] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: 'sk-interop', maxRetries: 0 });
const body = { ...JSON.parse(request), stream: true };
const out = { content: '', reasoning: '', tool_calls: [], finish_reason: null, usage: null, chunks: 0 };

try {
  if (mode === 'raw') {
    const stream = await client.chat.completions.create(body);
    for await (const chunk of stream) {
      out.chunks++;
      if (chunk.usage) out.usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      const delta = choice.delta ?? {};
      out.content += delta.content ?? '';
      out.reasoning += delta.reasoning ?? '';
      for (const tc of delta.tool_calls ?? []) {
        const call = (out.tool_calls[tc.index] ??= { index: tc.index, id: '', name: '', arguments: '' });
        call.id ||= tc.id ?? '';
        call.name += tc.function?.name ?? '';
        call.arguments += tc.function?.arguments ?? '';
      }
      if (choice.finish_reason) out.finish_reason = choice.finish_reason;
    }
  } else if (mode === 'helper') {
    const stream = client.chat.completions.stream(body);
    stream.on('chunk', () => out.chunks++);
    const done = await stream.finalChatCompletion();
    const choice = done.choices[0];
    out.content = choice.message.content ?? '';
    out.reasoning = choice.message.reasoning ?? '';
    out.tool_calls = (choice.message.tool_calls ?? []).map((tc, i) => ({
      index: tc.index ?? i, id: tc.id, name: tc.function.name, arguments: tc.function.arguments,
    }));
    out.finish_reason = choice.finish_reason;
    out.usage = done.usage ?? null;
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} catch (e) {
  out.error = { status: e.status ?? null, type: e.type ?? e.error?.type ?? null, message: String(e.message) };
}
process.stdout.write(JSON.stringify(out));
