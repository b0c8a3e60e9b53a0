// The reference client: the official openai package, pointed at the same server as the
// Go test. Usage: node reference-client.mjs BASE_URL MODEL PROMPT STREAM(true|false)
// It prints the whole answer (text joined as JavaScript strings, then written once) or,
// on failure, one line "ERROR status=<status> code=<code> message=<message>" on stdout.
import OpenAI from 'openai';

const [baseURL, model, prompt, stream] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: 'sk-interop', maxRetries: 0 });
try {
  let text = '';
  if (stream === 'true') {
    const s = await client.chat.completions.create({
      model, stream: true, temperature: 0.7, messages: [{ role: 'user', content: prompt }],
    });
    for await (const chunk of s) text += chunk.choices[0]?.delta?.content ?? '';
  } else {
    const r = await client.chat.completions.create({
      model, temperature: 0.7, messages: [{ role: 'user', content: prompt }],
    });
    text = r.choices[0]?.message?.content ?? '';
  }
  process.stdout.write(text);
} catch (e) {
  process.stdout.write(`ERROR status=${e.status} code=${e.code} message=${e.message}`);
}
