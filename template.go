package lockchat

import "bytes"

// A chunk template makes the common chunk cheap. Within one stream a server sends the
// same bytes around each token — id, object, created, model, fingerprint, index, the
// keys — and only a few strings change: the token, and on some servers a padding string
// of random length (OpenAI's "obfuscation", since 2025):
//
//	{"id":"chatcmpl-1",…,"choices":[{"index":0,"delta":{"content":"TOKEN"},…}],"obfuscation":"PAD"}
//	└──────────────── segment 0 ────────────────────────────────┘└ hole ┘└─ segment 1 ─────────┘└hole┘└┘
//
// After a chunk was decoded in full by the fast path, the template keeps its bytes cut
// into fixed segments around holes: the string that carries the text (content, reasoning,
// refusal or one tool call's arguments), and the string values of keys nobody reads. A
// chunk made of the same segments with any valid string literal in each hole means the
// same but for the text: replacing one string token with another leaves the rest of the
// JSON as it was. So the decoder compares the segments (memory compares) and scans only
// the literals, instead of the whole chunk.
type template struct {
	ok     bool
	buf    []byte   // the template chunk's bytes; the segments are slices of it
	segs   [][]byte // len(segs) == holes+1
	segOff []int    // where each segment begins in buf
	text   int      // the hole that carries the text
	kind   int      // what the text is: fContent, fReasoning, fRefusal or fArgs
	choice decodedChoice
	call   decodedCall        // the tool call whose arguments are the text, for fArgs
	top    [nChunkSlots]tspan // where each top-level value lies
}

// fArgs, beside the text fields, marks a template whose text is a tool call's arguments.
const fArgs = nText

// maxHoles bounds the strings a template scans; a chunk with more gets no template.
const maxHoles = 8

// tpoint is a position in a chunk that fits the template: an offset into a segment,
// whose own start depends on the lengths of the literals before it.
type tpoint struct{ seg, off int }

type tspan struct {
	set        bool
	start, end tpoint
}

// apply decodes data by the template, reporting false when data does not fit it.
func (t *template) apply(d *chunkDecoder, data []byte) bool {
	if !t.ok {
		return false
	}
	var starts [maxHoles + 1]int // where each segment begins in data
	lit, ok := t.matchText(data, &starts)
	if !ok {
		lit, ok = t.matchHoles(data, &starts)
	}
	if !ok {
		return false
	}
	d.choices, d.calls, d.usage, d.apiErr = d.choices[:0], d.calls[:0], nil, nil
	for k, sp := range t.top {
		d.top[k] = nil
		if sp.set {
			d.top[k] = data[starts[sp.start.seg]+sp.start.off : starts[sp.end.seg]+sp.end.off]
		}
	}
	d.choices = append(d.choices, t.choice)
	c := &d.choices[0]
	if t.kind == fArgs {
		d.calls = append(d.calls, t.call)
		call := &d.calls[0]
		call.args, call.lo, call.hi = d.unquote(lit)
		call.rawArgs = lit
	} else {
		c.text[t.kind], c.lo[t.kind], c.hi[t.kind] = d.unquote(lit)
		if t.kind == fReasoning && len(lit) == 2 {
			c.reasoningField = "" // an empty reasoning string is no reasoning
		}
	}
	return true
}

// matchText matches a chunk that differs from the template only in its text, as most do:
// two memory compares, around the one literal. It fills starts and returns the literal.
func (t *template) matchText(data []byte, starts *[maxHoles + 1]int) ([]byte, bool) {
	before := t.buf[:t.segOff[t.text]+len(t.segs[t.text])]
	after := t.buf[t.segOff[t.text+1]:]
	if len(data) < len(before)+len(after)+2 || !bytes.HasPrefix(data, before) || !bytes.HasSuffix(data, after) {
		return nil, false
	}
	lit := data[len(before) : len(data)-len(after)]
	s := scanner{b: lit}
	if q, _ := s.str(); q == nil || s.i != len(lit) {
		return nil, false
	}
	shift := len(data) - len(t.buf) // the segments after the text moved by this much
	for i, off := range t.segOff {
		starts[i] = off
		if i > t.text {
			starts[i] += shift
		}
	}
	return lit, true
}

// matchHoles matches a chunk made of the template's segments with any string literal in
// each hole. It fills starts and returns the text's literal.
func (t *template) matchHoles(data []byte, starts *[maxHoles + 1]int) ([]byte, bool) {
	var lit []byte
	pos := 0
	for i, seg := range t.segs {
		if !bytes.HasPrefix(data[pos:], seg) {
			return nil, false
		}
		starts[i] = pos
		pos += len(seg)
		if i == len(t.segs)-1 {
			break
		}
		s := scanner{b: data, i: pos}
		q, _ := s.str()
		if q == nil {
			return nil, false
		}
		if i == t.text {
			lit = q
		}
		pos = s.i
	}
	return lit, pos == len(data)
}

// learn makes data, just decoded in full by the fast path, the template if it has a shape
// the template serves: one choice from a delta, no error, no usage, and exactly one string
// that carries text (or none that is not empty, and a content string).
func (t *template) learn(d *chunkDecoder, data []byte) {
	t.ok = false
	if len(d.raws) != 1 || len(d.choices) != 1 || d.apiErr != nil || d.usage != nil || d.raws[0].from() != fromDelta ||
		len(data) > bulkBufSize { // a huge chunk is rare: no copy of it is kept
		return
	}
	f := d.raws[0].fields(fromDelta)
	c := d.choices[0]
	calls := d.callsOf(&c)
	if len(calls) > 1 || len(calls) == 1 && calls[0].extra != nil {
		return
	}
	// Find the one string that carries text.
	type candidate struct {
		raw  []byte
		kind int
	}
	candidates := [...]candidate{{f[kContent], fContent}, {f[kReasoningContent], fReasoning},
		{f[kReasoning], fReasoning}, {f[kRefusal], fRefusal}, {nil, fArgs}}
	if len(calls) == 1 {
		candidates[4].raw = calls[0].rawArgs
	}
	var lit []byte
	kind, nonEmpty := -1, 0
	for _, cd := range candidates {
		if len(cd.raw) > 2 && cd.raw[0] == '"' {
			nonEmpty++
			lit, kind = cd.raw, cd.kind
		}
	}
	if nonEmpty == 0 && len(calls) == 0 && len(f[kContent]) == 2 {
		lit, kind = f[kContent], fContent
	}
	if nonEmpty > 1 || lit == nil || len(calls) == 1 && kind != fArgs {
		return
	}
	// Cut the chunk into segments around the holes, in the order they appear.
	offset := func(v []byte) int { return cap(data) - cap(v) } // v is a subslice of data
	d.holes = append(d.holes, lit)
	holes := d.holes
	if len(holes) > maxHoles {
		return
	}
	// Put the holes in the order they appear (an insertion sort: there are a few).
	for i := 1; i < len(holes); i++ {
		for j := i; j > 0 && offset(holes[j]) < offset(holes[j-1]); j-- {
			holes[j], holes[j-1] = holes[j-1], holes[j]
		}
	}
	t.buf = append(t.buf[:0], data...)
	t.segs, t.segOff = t.segs[:0], t.segOff[:0]
	prev := 0
	for i, h := range holes {
		if offset(h) == offset(lit) {
			t.text = i
		}
		t.segs, t.segOff = append(t.segs, t.buf[prev:offset(h)]), append(t.segOff, prev)
		prev = offset(h) + len(h)
	}
	t.segs, t.segOff = append(t.segs, t.buf[prev:]), append(t.segOff, prev)
	// Locate each top-level value by segment. A value never begins or ends inside a hole
	// (a hole is a whole string value); it may hold holes (the choices array does).
	point := func(x int) (tpoint, bool) {
		start := 0
		for i, h := range holes {
			if x <= offset(h) {
				return tpoint{i, x - start}, true
			}
			if x < offset(h)+len(h) {
				return tpoint{}, false
			}
			start = offset(h) + len(h)
		}
		return tpoint{len(holes), x - start}, true
	}
	for k, v := range d.top {
		t.top[k] = tspan{}
		if v == nil {
			continue
		}
		start, ok1 := point(offset(v))
		end, ok2 := point(offset(v) + len(v))
		if !ok1 || !ok2 {
			return
		}
		t.top[k] = tspan{set: true, start: start, end: end}
	}
	t.kind = kind
	t.choice = c
	if kind == fArgs {
		t.call = calls[0]
		t.call.args, t.call.lo, t.call.hi, t.call.rawArgs = "", 0, 0, nil
	} else {
		t.choice.text[kind], t.choice.lo[kind], t.choice.hi[kind] = "", 0, 0
	}
	t.ok = true
}
