package lockchat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// This file turns the data of one event into the meaning of a chunk. Two readers find
// the raw values of the keys that matter, the one-pass scanner of jsonscan.go (fast) and
// encoding/json (the authority, used whenever the fast one declines), and one set of
// functions interprets those raw values, so that both readers give the same chunk.

// maxChoices bounds a choice index and the number of choices in a chunk, so that a hostile
// server cannot make the decoder's per-choice state grow without limit.
const maxChoices = 1024

// maxToolCalls bounds a tool-call index, the entries of one delta's tool_calls, the
// entries of every tool_calls of one chunk together (so that many choices of many calls
// cannot make a chunk take far more memory than its line) and the calls of one choice.
const maxToolCalls = 1024

// The keys whose values give a chunk its meaning, at each level of the object.
var (
	chunkKeys    = []string{"id", "model", "object", "error", "choices", "usage"}
	choiceKeys   = []string{"index", "delta", "message", "finish_reason"}
	deltaKeys    = []string{"content", "role", "reasoning_content", "reasoning", "refusal", "tool_calls"}
	callKeys     = []string{"index", "id", "type", "function"}
	functionKeys = []string{"name", "arguments"}
)

const (
	kID = iota
	kModel
	kObject
	kError
	kChoices
	kUsage
)

const (
	kIndex = iota
	kDelta
	kMessage
	kFinish
)

const (
	kContent = iota
	kRole
	kReasoningContent
	kReasoning
	kRefusal
	kToolCalls
	nDeltaKeys
)

const (
	kCallIndex = iota
	kCallID
	kCallType
	kCallFunction
)

// The text fields of a delta, as indexes of decodedChoice.text.
const (
	fContent = iota
	fReasoning
	fRefusal
	nText
)

// decodedChoice is a choice of the last decoded chunk.
type decodedChoice struct {
	index          int
	role, finish   string
	text           [nText]string
	lo, hi         [nText]rune // lone surrogate escapes at each text's edges (see appendUnquoted)
	reasoningField string
	calls          [2]int // the choice's tool calls are d.calls[calls[0]:calls[1]]
}

// decodedCall is one entry of a delta's tool_calls.
type decodedCall struct {
	index    int  // the server's index; -1 for a negative one
	hasIndex bool // the entry had a non-null index
	id, typ  string
	name     string
	args     string
	lo, hi   rune // lone surrogate escapes at the edges of args
	extra    map[string]json.RawMessage
	rawArgs  []byte // the arguments' raw JSON value, for the template

	// Set by the stream (see toolIndexes): the call's position and the repair, if any.
	pos    int
	repair string
}

// rawChoice holds the raw JSON values of one element of "choices". The delta's fields are
// kept from both "delta" ([0]) and "message" ([1], a whole completion); the decoder reads
// message only when delta is absent or null.
type rawChoice struct {
	index, finish  []byte
	delta, message []byte
	fields         [2][nDeltaKeys][]byte
	notObject      bool // the fast path met an element, delta or message it does not read
}

// chunkDecoder turns the data of one event into a chunk. It keeps its buffers between
// chunks, so that the common chunk costs one allocation: its content string.
type chunkDecoder struct {
	top     [6][]byte // raw values of chunkKeys, indexed by kID…kUsage
	raws    []rawChoice
	holes   [][]byte // string values of keys nobody reads, met by the fast path (template.go)
	scratch []byte
	tooMany bool // the fast path met more than maxChoices choices

	choices []decodedChoice
	calls   []decodedCall
	usage   *Usage
	apiErr  *APIError
	tmpl    template
}

// decode decodes one event's data. On success the results are in d.choices, d.calls,
// d.usage and d.apiErr (an error object the chunk carried), valid until the next call.
func (d *chunkDecoder) decode(data []byte) error {
	if d.tmpl.apply(d, data) {
		return nil
	}
	defer d.forgetRaw()
	err := d.decodeMode(data, true)
	if err == nil {
		d.tmpl.learn(d, data)
		return nil
	}
	d.tmpl.ok = false
	if err != errSlow {
		return err
	}
	return d.decodeMode(data, false)
}

// forgetRaw drops the raw values a full decoding found, once they have served: they
// point into the data, whose buffer must be free to go.
func (d *chunkDecoder) forgetRaw() {
	clear(d.raws)
	clear(d.holes)
	d.raws, d.holes = d.raws[:0], d.holes[:0]
}

// callsOf returns the tool calls of a decoded choice.
func (d *chunkDecoder) callsOf(c *decodedChoice) []decodedCall { return d.calls[c.calls[0]:c.calls[1]] }

// decodeMode finds the raw values the chunk's meaning depends on, in one pass of the
// fast scanner or with encoding/json, then interprets them the same way for both.
func (d *chunkDecoder) decodeMode(data []byte, fast bool) error {
	d.choices, d.calls, d.usage, d.apiErr = d.choices[:0], d.calls[:0], nil, nil
	clear(d.top[:])
	d.raws, d.holes, d.tooMany = d.raws[:0], d.holes[:0], false
	var err error
	if fast {
		err = d.scanChunk(data)
	} else {
		err = d.unmarshalChunk(data)
	}
	if err != nil {
		return err
	}
	if d.tooMany {
		return errTooManyChoices
	}
	top := &d.top
	d.apiErr = chunkError(data, top[kError], top[kObject], top[kChoices], top[kUsage])
	if !isNull(top[kUsage]) {
		d.usage = parseUsage(top[kUsage])
	}
	for pos := range d.raws {
		c, err := d.interpretChoice(&d.raws[pos], pos, fast)
		if err != nil {
			return err
		}
		d.choices = append(d.choices, c)
	}
	return nil
}

var (
	errTooManyChoices    = malformed("choices", fmt.Errorf("more than %d in one chunk", maxChoices))
	errTooManyToolCalls  = malformed("tool_calls", fmt.Errorf("more than %d in one delta", maxToolCalls))
	errTooManyChunkCalls = malformed("tool_calls", fmt.Errorf("more than %d in one chunk", maxToolCalls))
)

func (d *chunkDecoder) interpretChoice(rc *rawChoice, pos int, fast bool) (decodedChoice, error) {
	c := decodedChoice{index: pos}
	if rc.notObject {
		return c, errSlow
	}
	if !isNull(rc.index) {
		n, err := strconv.Atoi(string(rc.index))
		if err != nil || n < 0 || n >= maxChoices {
			return c, malformed("choice index", fmt.Errorf("want an integer from 0 to %d, got %s", maxChoices-1, excerpt(rc.index)))
		}
		c.index = n
	}
	var err error
	if c.finish, err = d.stringField("finish_reason", rc.finish); err != nil {
		return c, err
	}
	which := 0
	if isNull(rc.delta) {
		which = 1 // a whole completion, from a server that ignored "stream"
	}
	f := &rc.fields[which]
	if c.role, err = d.stringField("role", f[kRole]); err != nil {
		return c, err
	}
	if raw := f[kContent]; !isNull(raw) {
		if raw[0] != '"' {
			return c, malformed("content", fmt.Errorf("want a string, got %s", excerpt(raw)))
		}
		c.text[fContent], c.lo[fContent], c.hi[fContent] = d.unquote(raw)
	}
	// Reasoning comes from one field per delta: reasoning_content when it holds text,
	// else reasoning. Servers in transition (vLLM) send the same text under both.
	for _, k := range [...]int{kReasoningContent, kReasoning} {
		if raw := f[k]; len(raw) > 2 && raw[0] == '"' {
			c.text[fReasoning], c.lo[fReasoning], c.hi[fReasoning] = d.unquote(raw)
			c.reasoningField = deltaKeys[k]
			break
		}
	}
	if raw := f[kRefusal]; len(raw) > 0 && raw[0] == '"' {
		c.text[fRefusal], c.lo[fRefusal], c.hi[fRefusal] = d.unquote(raw)
	}
	c.calls[0] = len(d.calls)
	if raw := f[kToolCalls]; len(raw) > 0 && raw[0] == '[' {
		if err := d.decodeCalls(raw, fast); err != nil {
			return c, err
		}
	}
	c.calls[1] = len(d.calls)
	return c, nil
}

// unquote decodes a string literal, holding back lone surrogate halves at its edges.
func (d *chunkDecoder) unquote(raw []byte) (s string, lo, hi rune) {
	d.scratch, lo, hi = appendUnquoted(d.scratch[:0], raw)
	s = string(d.scratch)
	if cap(d.scratch) > bulkBufSize {
		d.scratch = nil // a huge string does not keep its scratch space
	}
	return s, lo, hi
}

// rawCall holds the raw JSON values of one entry of tool_calls.
type rawCall struct {
	index, id, typ, name, args []byte
	extra                      []rawMember
}

type rawMember struct{ key, value []byte }

// decodeCalls decodes a tool_calls array into d.calls. Entries that are not objects are
// skipped; id, type and name that are not strings read as "".
func (d *chunkDecoder) decodeCalls(raw []byte, fast bool) error {
	var rcs []rawCall
	var err error
	if fast {
		rcs, err = scanCalls(raw)
	}
	if !fast || err == errSlow {
		rcs, err = unmarshalCalls(raw)
	}
	if err != nil {
		return err
	}
	if len(d.calls)+len(rcs) > maxToolCalls {
		return errTooManyChunkCalls
	}
	for i := range rcs {
		rc := &rcs[i]
		c := decodedCall{index: -1}
		if !isNull(rc.index) {
			n, err := strconv.Atoi(string(rc.index))
			if err != nil || n >= maxToolCalls {
				return malformed("tool call index", fmt.Errorf("want an integer below %d, got %s", maxToolCalls, excerpt(rc.index)))
			}
			c.index, c.hasIndex = max(n, -1), true
		}
		c.id = d.optString(rc.id)
		c.typ = d.optString(rc.typ)
		c.name = d.optString(rc.name)
		c.rawArgs = rc.args
		switch {
		case isNull(rc.args):
		case rc.args[0] == '"':
			c.args, c.lo, c.hi = d.unquote(rc.args)
		default:
			c.args = string(rc.args) // an object where a string belongs: its JSON text
		}
		for _, m := range rc.extra {
			if c.extra == nil {
				c.extra = make(map[string]json.RawMessage, len(rc.extra))
			}
			c.extra[validKey(m.key)] = bytes.Clone(m.value)
		}
		d.calls = append(d.calls, c)
	}
	return nil
}

// validKey returns an object key as encoding/json does: each byte of invalid UTF-8 as
// U+FFFD. (The fast path declines keys with escapes, so there are none to decode.)
func validKey(key []byte) string {
	if utf8.Valid(key) {
		return string(key)
	}
	var b []byte
	for len(key) > 0 {
		r, n := utf8.DecodeRune(key)
		b = utf8.AppendRune(b, r)
		key = key[n:]
	}
	return string(b)
}

// scanCalls reads a tool_calls array with the fast scanner.
func scanCalls(raw []byte) ([]rawCall, error) {
	s := scanner{b: raw}
	s.i++ // '['
	s.ws()
	if s.byte(']') {
		return nil, nil
	}
	var rcs []rawCall
	for {
		s.ws()
		if s.peek() != '{' {
			if s.value(2) == nil {
				return nil, errSlow
			}
		} else {
			var rc rawCall
			if !scanCall(&s, &rc) {
				return nil, errSlow
			}
			if len(rcs) == maxToolCalls {
				return nil, errTooManyToolCalls
			}
			rcs = append(rcs, rc)
		}
		s.ws()
		if s.byte(',') {
			continue
		}
		if s.byte(']') && !s.err {
			return rcs, nil
		}
		return nil, errSlow
	}
}

// scanCall reads one tool-call object, descending into "function".
func scanCall(s *scanner, rc *rawCall) bool {
	s.i++ // '{'
	var seen uint8
	for first := true; ; first = false {
		key, end := s.member(first)
		if end {
			return !s.err
		}
		k := keyIndex(key, callKeys)
		if k == -2 {
			return false
		}
		var v []byte
		if k == kCallFunction && s.peek() == '{' {
			v = scanFunction(s, rc)
		} else {
			v = s.value(3)
		}
		if v == nil {
			return false
		}
		if k == -1 {
			rc.extra = append(rc.extra, rawMember{key, v})
			continue
		}
		if seen&(1<<k) != 0 {
			return false
		}
		seen |= 1 << k
		switch k {
		case kCallIndex:
			rc.index = v
		case kCallID:
			rc.id = v
		case kCallType:
			rc.typ = v
		}
	}
}

// scanFunction reads a call's "function" object: its name and arguments.
func scanFunction(s *scanner, rc *rawCall) []byte {
	var fields [2][]byte
	v := scanFields(s, functionKeys, fields[:], nil)
	rc.name, rc.args = fields[0], fields[1]
	return v
}

// unmarshalCalls reads a tool_calls array with encoding/json.
func unmarshalCalls(raw []byte) ([]rawCall, error) {
	elems, err := splitArray(raw, maxToolCalls, errTooManyToolCalls, true)
	if err == errTooManyToolCalls {
		return nil, err
	}
	if err != nil {
		return nil, malformed("tool_calls", err)
	}
	var rcs []rawCall
	for _, e := range elems {
		var m map[string]json.RawMessage
		if json.Unmarshal(e, &m) != nil {
			continue // not an object
		}
		rc := rawCall{index: m["index"], id: m["id"], typ: m["type"]}
		if fn := m["function"]; len(fn) > 0 && fn[0] == '{' {
			var f map[string]json.RawMessage
			if err := json.Unmarshal(fn, &f); err != nil {
				return nil, malformed("tool call function", err)
			}
			rc.name, rc.args = f["name"], f["arguments"]
		}
		for k, v := range m {
			if keyIndex([]byte(k), callKeys) == -1 {
				rc.extra = append(rc.extra, rawMember{[]byte(k), v})
			}
		}
		rcs = append(rcs, rc)
	}
	return rcs, nil
}

// splitArray returns the elements of a JSON array, failing with tooMany past max
// elements (counting only objects when objectsOnly) before it holds more than that in
// memory.
func splitArray(raw []byte, max int, tooMany error, objectsOnly bool) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var elems []json.RawMessage
	n := 0
	for dec.More() {
		var e json.RawMessage
		if err := dec.Decode(&e); err != nil {
			return nil, err
		}
		if objectsOnly && e[0] != '{' {
			continue
		}
		if n++; n > max {
			return nil, tooMany
		}
		elems = append(elems, e)
	}
	return elems, nil
}

// optString returns a JSON string's value, and "" for anything else. Common values are
// interned.
func (d *chunkDecoder) optString(raw []byte) string {
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	if string(raw) == `"function"` {
		return "function"
	}
	s, _, _ := d.unquote(raw)
	return s
}

// unmarshalChunk finds the raw values with encoding/json, the authority on any input.
func (d *chunkDecoder) unmarshalChunk(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return malformed("chunk", err)
	}
	for k, name := range chunkKeys {
		d.top[k] = m[name]
	}
	if isNull(d.top[kChoices]) {
		return nil
	}
	if d.top[kChoices][0] != '[' {
		var elems []json.RawMessage
		return malformed("choices", json.Unmarshal(d.top[kChoices], &elems))
	}
	elems, err := splitArray(d.top[kChoices], maxChoices, errTooManyChoices, false)
	if err == errTooManyChoices {
		return err
	}
	if err != nil {
		return malformed("choices", err)
	}
	for _, e := range elems {
		var cm map[string]json.RawMessage
		if err := json.Unmarshal(e, &cm); err != nil {
			return malformed("choice", err)
		}
		rc := rawChoice{index: cm["index"], finish: cm["finish_reason"], delta: cm["delta"], message: cm["message"]}
		which, obj := 0, rc.delta
		if isNull(obj) {
			which, obj = 1, rc.message
		}
		if !isNull(obj) {
			var om map[string]json.RawMessage
			if err := json.Unmarshal(obj, &om); err != nil {
				return malformed(choiceKeys[kDelta+which], err)
			}
			for k, name := range deltaKeys {
				rc.fields[which][k] = om[name]
			}
		}
		d.raws = append(d.raws, rc)
	}
	return nil
}

// scanChunk finds the raw values in one pass of the fast scanner. It declines (errSlow)
// anything encoding/json should decide: invalid JSON, escaped or repeated keys, an
// element of choices that is not an object, deep nesting.
func (d *chunkDecoder) scanChunk(data []byte) error {
	s := scanner{b: data}
	s.ws()
	if !s.byte('{') {
		return errSlow
	}
	var seen uint8
	for first := true; ; first = false {
		key, end := s.member(first)
		if end {
			break
		}
		k := keyIndex(key, chunkKeys)
		if k == -2 {
			return errSlow
		}
		var v []byte
		if k == kChoices && s.peek() == '[' {
			v = d.scanChoices(&s)
		} else {
			v = s.value(1)
		}
		if v == nil || k == kChoices && v[0] != '[' && string(v) != "null" {
			return errSlow
		}
		if k == -1 && v[0] == '"' {
			d.holes = append(d.holes, v)
		}
		if k >= 0 {
			if seen&(1<<k) != 0 {
				return errSlow // a repeated key: encoding/json decides which wins
			}
			seen |= 1 << k
			d.top[k] = v
		}
	}
	s.ws()
	if s.i != len(s.b) || s.err {
		return errSlow
	}
	return nil
}

// scanChoices reads the array of choices into d.raws and returns its raw value, or nil.
// Past maxChoices elements it keeps scanning, to tell invalid JSON from too many choices,
// but stores nothing more.
func (d *chunkDecoder) scanChoices(s *scanner) []byte {
	start := s.i
	s.i++ // '['
	s.ws()
	if s.byte(']') {
		return s.b[start:s.i]
	}
	for {
		s.ws()
		var rc rawChoice
		if s.peek() == '{' {
			if !d.scanChoice(s, &rc) {
				return nil
			}
		} else if s.value(2) == nil {
			return nil
		} else {
			rc.notObject = true
		}
		if len(d.raws) < maxChoices {
			d.raws = append(d.raws, rc)
		} else {
			d.tooMany = true
		}
		s.ws()
		if s.byte(',') {
			continue
		}
		if s.byte(']') {
			return s.b[start:s.i]
		}
		return nil
	}
}

// scanChoice reads one choice object, descending into delta and message.
func (d *chunkDecoder) scanChoice(s *scanner, rc *rawChoice) bool {
	s.i++ // '{'
	var seen uint8
	for first := true; ; first = false {
		key, end := s.member(first)
		if end {
			return !s.err
		}
		k := keyIndex(key, choiceKeys)
		var v []byte
		switch {
		case k == -2:
			return false
		case (k == kDelta || k == kMessage) && s.peek() == '{':
			v = d.scanDelta(s, &rc.fields[k-kDelta])
		default:
			v = s.value(3)
		}
		if v == nil {
			return false
		}
		if k < 0 {
			if v[0] == '"' {
				d.holes = append(d.holes, v)
			}
			continue
		}
		if seen&(1<<k) != 0 {
			return false
		}
		seen |= 1 << k
		switch k {
		case kIndex:
			rc.index = v
		case kFinish:
			rc.finish = v
		case kDelta:
			rc.delta = v
		case kMessage:
			rc.message = v
		}
		if (k == kDelta || k == kMessage) && v[0] != '{' && string(v) != "null" {
			rc.notObject = true
		}
	}
}

// scanDelta reads a delta (or message) object's fields and returns its raw value, or nil.
func (d *chunkDecoder) scanDelta(s *scanner, fields *[nDeltaKeys][]byte) []byte {
	return scanFields(s, deltaKeys, fields[:], &d.holes)
}

// scanFields reads an object whose values it does not descend into: the raw value of each
// of keys goes to dst at the key's index, and, if holes is not nil, the string values of
// other keys are appended to it (see template.go). It returns the object's raw value, or
// nil for anything encoding/json should decide (a repeated or escaped key).
func scanFields(s *scanner, keys []string, dst [][]byte, holes *[][]byte) []byte {
	start := s.i
	s.i++ // '{'
	for first := true; ; first = false {
		key, end := s.member(first)
		if end {
			if s.err {
				return nil
			}
			return s.b[start:s.i]
		}
		k := keyIndex(key, keys)
		if k == -2 {
			return nil
		}
		v := s.value(4)
		if v == nil {
			return nil
		}
		if k < 0 {
			if holes != nil && v[0] == '"' {
				*holes = append(*holes, v)
			}
			continue
		}
		if dst[k] != nil {
			return nil
		}
		dst[k] = v
	}
}

// keyIndex returns the index of key in keys, -1 for another key, and -2 for a key the
// fast path cannot compare (it holds an escape, or the scanner failed).
func keyIndex(key []byte, keys []string) int {
	if key == nil {
		return -2
	}
	for k, name := range keys {
		if string(key) == name {
			return k
		}
	}
	return -1
}

// stringField decodes a field that must be a string or null. Common values are interned.
func (d *chunkDecoder) stringField(name string, raw []byte) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	if raw[0] != '"' {
		return "", malformed(name, fmt.Errorf("want a string, got %s", excerpt(raw)))
	}
	switch string(raw) {
	case `"assistant"`:
		return "assistant", nil
	case `"stop"`:
		return "stop", nil
	case `"length"`:
		return "length", nil
	case `"tool_calls"`:
		return "tool_calls", nil
	}
	s, _, _ := d.unquote(raw)
	return s, nil
}

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrMalformedStream, what, err)
}
