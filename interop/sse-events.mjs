// Reads cases from standard input as JSON ([{input: base64, cuts: [offsets]}]) and writes,
// for each, the events eventsource-parser dispatches when fed the input cut at those
// offsets: [{events: [{type, data, id}], retry}]. The Go test compares them with its own.
import { createParser } from 'eventsource-parser';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const cases = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const results = cases.map(({ input, cuts }) => {
  const bytes = Buffer.from(input, 'base64');
  const events = [];
  let lastId = '';
  let retry = -1;
  const parser = createParser({
    onEvent: (e) => events.push({ type: e.event ?? '', data: e.data, id: lastId }),
    onId: (id) => { lastId = id; },
    onRetry: (ms) => { retry = ms; },
  });
  // Keep a BOM for the parser to strip, as it would see it from a byte stream.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let off = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= off) continue;
    parser.feed(decoder.decode(bytes.subarray(off, cut), { stream: true }));
    off = cut;
  }
  parser.feed(decoder.decode());
  return { events, retry };
});
process.stdout.write(JSON.stringify(results));
