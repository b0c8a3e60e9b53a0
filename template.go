package lockchat

import "bytes"

// A chunk template makes the common chunk cheap. Within one stream a server sends the
// same bytes around each token — id, object, created, model, fingerprint, index, the
// keys — and only the content string changes:
//
//	{"id":"chatcmpl-1",…,"choices":[{"index":0,"delta":{"content":"TOKEN"},…}]}
//	└──────────────── prefix ──────────────────────────────────┘└ literal ┘└ suffix ┘
//
// After a chunk of that shape was decoded in full, a chunk with the same prefix and
// suffix around a single valid string literal has the same meaning but for the content:
// replacing one string token with another leaves the rest of the JSON as it was. So the
// decoder compares the prefix and the suffix (a memory compare) and scans only the
// literal, instead of the whole chunk.
type template struct {
	ok     bool
	prefix []byte
	suffix []byte
	choice decodedChoice // the chunk's only choice, its content left out
	top    [6]span       // where each top-level value lies, relative to the prefix or the end
}

// span locates a raw value of the template chunk in a chunk that fits it. Offsets of
// bytes in the prefix count from the beginning, offsets of bytes in the suffix (or just
// past the literal) count back from the end, since the literal's length varies.
type span struct {
	set                bool
	start, end         int
	startEnd, endAtEnd bool // start, end count back from the end
}

func (sp span) in(data []byte) []byte {
	start, end := sp.start, sp.end
	if sp.startEnd {
		start = len(data) - start
	}
	if sp.endAtEnd {
		end = len(data) - end
	}
	return data[start:end]
}

// apply decodes data by the template, reporting false when data does not fit it.
func (t *template) apply(d *chunkDecoder, data []byte) bool {
	if !t.ok || len(data) < len(t.prefix)+len(t.suffix)+2 ||
		!bytes.HasPrefix(data, t.prefix) || !bytes.HasSuffix(data, t.suffix) {
		return false
	}
	lit := data[len(t.prefix) : len(data)-len(t.suffix)]
	s := scanner{b: lit}
	if q, _ := s.str(); q == nil || s.i != len(lit) {
		return false
	}
	d.choices, d.usage, d.apiErr = d.choices[:0], nil, nil
	for k, sp := range t.top {
		d.top[k] = nil
		if sp.set {
			d.top[k] = sp.in(data)
		}
	}
	c := t.choice
	d.scratch, c.lo, c.hi = appendUnquoted(d.scratch[:0], lit)
	c.content = string(d.scratch)
	d.choices = append(d.choices, c)
	return true
}

// learn makes data, just decoded in full by the fast path, the template if it has the
// shape the template serves: one choice, its content a string from a delta, no error and
// no usage.
func (t *template) learn(d *chunkDecoder, data []byte) {
	t.ok = false
	if len(d.raws) != 1 || len(d.choices) != 1 || d.apiErr != nil || d.usage != nil {
		return
	}
	lit := d.raws[0].content[0]
	if isNull(d.raws[0].delta) || len(lit) < 2 || lit[0] != '"' {
		return
	}
	start := cap(data) - cap(lit) // lit is a subslice of data
	end := start + len(lit)
	t.prefix = append(t.prefix[:0], data[:start]...)
	t.suffix = append(t.suffix[:0], data[end:]...)
	t.choice = d.choices[0]
	t.choice.content, t.choice.lo, t.choice.hi = "", 0, 0
	for k, v := range d.top {
		t.top[k] = span{}
		if v == nil {
			continue
		}
		vs := cap(data) - cap(v)
		ve := vs + len(v)
		if vs < start && ve > start && ve < end || vs > start && vs < end {
			return // a value that begins or ends inside the literal: no template
		}
		sp := span{set: true, start: vs, end: ve}
		if vs >= end {
			sp.start, sp.startEnd = len(data)-vs, true
		}
		if ve >= end {
			sp.end, sp.endAtEnd = len(data)-ve, true
		}
		t.top[k] = sp
	}
	t.ok = true
}
