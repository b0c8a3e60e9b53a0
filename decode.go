package lockchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// This file turns the data of one event into the meaning of a chunk. Two walkers of the
// chunk's layout (chunkLayout) find the raw values of the keys that matter, one pass of
// the scanner of jsonscan.go (fast) and encoding/json (the authority, used whenever the
// fast one declines), and one set of functions interprets those raw values, so that both
// walkers give the same chunk.

// maxChoices bounds a choice index and the number of choices in a chunk, so that a hostile
// server cannot make the decoder's per-choice state grow without limit.
const maxChoices = 1024

// maxToolCalls bounds a tool-call index, the entries of one delta's tool_calls, the
// entries of every tool_calls of one chunk together (so that many choices of many calls
// cannot make a chunk take far more memory than its line) and the calls of one choice.
const maxToolCalls = 1024

// The layout of a chunk, as far as the decoder reads it: the keys whose values give a
// chunk its meaning, object by object as the JSON nests them. Both walkers, the fast one
// (scanObject) and encoding/json's (unmarshalObject), walk these tables and fill the same
// slots, so that the meaning is read from the slots the same way whichever walked.
//
// Each key's raw value goes to its slot in the slots of the record being filled: the
// chunk's (d.top), a choice's (rawChoice.slots) or a tool call's (rawCall.slots). A key
// set twice in one object is a slot already set: the fast walker declines, and
// encoding/json decides, the last value winning. A slot holds the value's raw bytes, so a
// null is set too.
var chunkLayout = object{name: "chunk", others: othersHoles, keys: []key{
	{name: "id", slot: kID},
	{name: "model", slot: kModel},
	{name: "object", slot: kObject},
	{name: "error", slot: kError},
	{name: "choices", slot: kChoices, elems: &choiceLayout, limit: maxChoices, strict: true},
	{name: "usage", slot: kUsage},
}}

// choiceLayout is an element of "choices". Its fields are read from its delta or, when the
// delta is absent or null, from its message (a whole completion, from a server that
// ignored "stream"): two objects of one layout, side by side in the choice's slots.
var choiceLayout = object{name: "choice", others: othersHoles, keys: []key{
	{name: "index", slot: cIndex},
	{name: "delta", slot: cDelta, obj: &deltaLayout, at: cDeltaFields, spans: fromDelta},
	{name: "message", slot: cMessage, obj: &deltaLayout, at: cMessageFields, spans: fromMessage},
	{name: "finish_reason", slot: cFinish},
}}

var deltaLayout = object{name: "delta", others: othersHoles, keys: []key{
	{name: "content", slot: kContent},
	{name: "role", slot: kRole},
	{name: fieldReasoningContent, slot: kReasoningContent},
	{name: fieldReasoning, slot: kReasoning},
	{name: "refusal", slot: kRefusal},
	{name: "tool_calls", slot: kToolCalls, elems: &callLayout, limit: maxToolCalls},
}}

// callLayout is an entry of a delta's tool_calls. The keys it does not list are kept, as
// the call's extra keys.
var callLayout = object{name: "tool call", others: othersExtra, keys: []key{
	{name: "index", slot: tIndex},
	{name: "id", slot: tID},
	{name: "type", slot: tType},
	{name: "function", slot: tFunction, obj: &functionLayout, at: tFunctionFields},
}}

var functionLayout = object{name: "tool call function", keys: []key{
	{name: "name", slot: fnName},
	{name: "arguments", slot: fnArguments},
}}

// The slots of the chunk, d.top.
const (
	kID = iota
	kModel
	kObject
	kError
	kChoices
	kUsage
	nChunkSlots
)

// The slots of a choice: its own keys', then its delta's and its message's.
const (
	cIndex = iota
	cDelta
	cMessage
	cFinish
	cDeltaFields
	cMessageFields = cDeltaFields + nDeltaSlots
	nChoiceSlots   = cMessageFields + nDeltaSlots
)

// The slots of a delta (or a message), from where its choice keeps them.
const (
	kContent = iota
	kRole
	kReasoningContent
	kReasoning
	kRefusal
	kToolCalls
	nDeltaSlots
)

// The two objects of a choice that can hold its fields, as indexes of rawChoice.calls.
const (
	fromDelta = iota
	fromMessage
)

// The slots of a tool call: its own keys', then its function's.
const (
	tIndex = iota
	tID
	tType
	tFunction
	tFunctionFields
	nCallSlots = tFunctionFields + nFunctionSlots
)

// The slots of a tool call's function, from tFunctionFields.
const (
	fnName = iota
	fnArguments
	nFunctionSlots
)

// An object is the layout of one JSON object: the keys the decoder reads, and what the
// walkers keep of the others.
type object struct {
	name   string // for errors: what an element that is not an object was meant to be
	keys   []key
	others int // othersIgnored, othersHoles or othersExtra
}

// What the walkers keep of the keys an object's layout does not list.
const (
	othersIgnored = iota
	othersHoles   // the string values, as holes of the template (template.go; fast walker only)
	othersExtra   // every key and value, in the record (a tool call's extra keys)
)

// A key is one key of an object's layout. Its raw value goes to slot. The walkers descend
// into the value when it is what the key says it holds:
//   - obj: an object, whose slots are those of the same record from at, and whose array
//     (it has at most one) records its span in the record's spans at spans;
//   - elems: an array, each element a record of its own (a choice or a tool call). Past
//     limit elements a chunk is malformed; the walkers keep counting, but keep no more.
//     When strict, every element is a record and must be an object or null, and a value
//     that is not an array (or null) is malformed; otherwise only objects are records, and
//     any other element, or a value that is not an array, is ignored.
type key struct {
	name   string
	slot   int
	obj    *object
	at     int
	spans  int
	elems  *object
	limit  int
	strict bool
}

// find returns the key of o's layout named name, or nil.
func (o *object) find(name []byte) *key {
	for i := range o.keys {
		// Most keys differ in length or in their first byte; only the others are compared.
		if k := o.keys[i].name; len(k) == len(name) && k[0] == name[0] && k == string(name) {
			return &o.keys[i]
		}
	}
	return nil
}

// has reports whether o's layout lists the key name.
func (o *object) has(name string) bool {
	for i := range o.keys {
		if name == o.keys[i].name {
			return true
		}
	}
	return false
}

// nameOf returns the name of the key of o's layout with slot k.
func (o *object) nameOf(k int) string {
	for i := range o.keys {
		if o.keys[i].slot == k {
			return o.keys[i].name
		}
	}
	return ""
}

// decodedChoice is a choice of the last decoded chunk.
type decodedChoice struct {
	index          int
	role, finish   string
	text           [nText]string
	lo, hi         [nText]rune // lone surrogate escapes at each text's edges (see appendUnquoted)
	reasoningField string
	calls          [2]int // the choice's tool calls are d.calls[calls[0]:calls[1]]
}

// The text fields of a delta, as indexes of decodedChoice.text.
const (
	fContent = iota
	fReasoning
	fRefusal
	nText
)

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

	// Set by the stream (see choiceState.numberCalls): the call's position in the
	// assembled message and the repair, if any.
	pos    int
	repair string
}

// rawChoice holds the raw values of one element of "choices", by slot (cIndex…), and
// where the records of its delta's and its message's tool_calls are.
type rawChoice struct {
	slots [nChoiceSlots][]byte
	calls [2]span // by fromDelta, fromMessage
}

// rawCall holds the raw values of one entry of tool_calls, by slot (tIndex…), and its
// other keys.
type rawCall struct {
	slots [nCallSlots][]byte
	extra []rawMember
}

type rawMember struct{ key, value []byte }

// A span is where the records of one array are: d.raws or d.rawCalls[first:end]. n counts
// its elements that are records, including any past those a chunk keeps.
type span struct{ first, end, n int }

// from returns which of the choice's objects its fields are read from: the delta, or,
// when the delta is absent or null, the message.
func (rc *rawChoice) from() int {
	if isNull(rc.slots[cDelta]) {
		return fromMessage
	}
	return fromDelta
}

// fields returns the slots of the choice's delta (fromDelta) or message (fromMessage).
func (rc *rawChoice) fields(from int) *[nDeltaSlots][]byte {
	return (*[nDeltaSlots][]byte)(rc.slots[cDeltaFields+from*nDeltaSlots:])
}

// A target is where the walkers put the raw values of the object they walk: its record's
// slots (from the object's first), its record's spans, and, for a tool call, its extra keys.
type target struct {
	slots [][]byte
	spans []span
	extra *[]rawMember
}

// inner returns the target of the object under k, which is in the same record.
func (t target) inner(k *key) target {
	t.slots, t.spans = t.slots[k.at:], t.spans[k.spans:]
	return t
}

// chunkDecoder turns the data of one event into a chunk. It keeps its buffers between
// chunks, so that the common chunk costs one allocation: its content string.
type chunkDecoder struct {
	top      [nChunkSlots][]byte // the chunk's raw values, by slot (kID…)
	spans    [1]span             // the span of the choices: all of raws
	raws     []rawChoice
	rawCalls []rawCall
	holes    [][]byte // string values of keys nobody reads, met by the fast walker (template.go)
	scratch  []byte

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
// point into the data, whose buffer must be free to go. (The stream's reset lets go of
// record lists a large chunk grew; see trimmed.)
func (d *chunkDecoder) forgetRaw() {
	clear(d.raws)
	clear(d.rawCalls)
	clear(d.holes)
	d.raws, d.rawCalls, d.holes = d.raws[:0], d.rawCalls[:0], d.holes[:0]
}

// callsOf returns the tool calls of a decoded choice.
func (d *chunkDecoder) callsOf(c *decodedChoice) []decodedCall { return d.calls[c.calls[0]:c.calls[1]] }

// decodeMode fills the slots with one walker, the fast one or encoding/json's, then reads
// the chunk's meaning from them.
func (d *chunkDecoder) decodeMode(data []byte, fast bool) error {
	d.choices, d.calls, d.usage, d.apiErr = d.choices[:0], d.calls[:0], nil, nil
	clear(d.top[:])
	d.spans = [1]span{}
	d.raws, d.rawCalls, d.holes = d.raws[:0], d.rawCalls[:0], d.holes[:0]
	var err error
	if fast {
		err = d.scanChunk(data)
	} else {
		err = d.unmarshalChunk(data)
	}
	if err != nil {
		return err
	}
	if d.spans[0].n > maxChoices {
		return errTooManyChoices
	}
	top := &d.top
	d.apiErr = chunkError(data, top[kError], top[kObject], top[kChoices], top[kUsage])
	if !isNull(top[kUsage]) {
		d.usage = parseUsage(top[kUsage])
	}
	for pos := range d.raws {
		c, err := d.interpretChoice(&d.raws[pos], pos)
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

// scanChunk fills the slots in one pass of the fast walker. It declines (errSlow)
// anything encoding/json should decide: invalid JSON, escaped or repeated keys, a choice
// that is not an object, deep nesting.
func (d *chunkDecoder) scanChunk(data []byte) error {
	s := scanner{b: data}
	s.ws()
	if s.peek() != '{' || d.scanObject(&s, &chunkLayout, target{slots: d.top[:], spans: d.spans[:]}, 0) == nil {
		return errSlow
	}
	s.ws()
	if s.i != len(s.b) {
		return errSlow
	}
	return nil
}

// scanObject walks the object at s (at its '{', depth levels deep in the chunk) by its
// layout o, and returns its raw value, or nil to decline.
func (d *chunkDecoder) scanObject(s *scanner, o *object, t target, depth int) []byte {
	start := s.i
	s.i++ // '{'
	for first := true; ; first = false {
		name, end := s.member(first)
		if end {
			if s.err {
				return nil
			}
			return s.b[start:s.i]
		}
		if name == nil {
			return nil // an escaped key: encoding/json compares it
		}
		k := o.find(name)
		if k == nil {
			v := s.value(depth + 1)
			if v == nil {
				return nil
			}
			switch {
			case o.others == othersHoles && v[0] == '"':
				d.holes = append(d.holes, v)
			case o.others == othersExtra:
				*t.extra = append(*t.extra, rawMember{name, v})
			}
			continue
		}
		if t.slots[k.slot] != nil {
			return nil // a repeated key: encoding/json decides which wins
		}
		var v []byte
		switch c := s.peek(); {
		case k.obj != nil && c == '{':
			v = d.scanObject(s, k.obj, t.inner(k), depth+1)
		case k.elems != nil && c == '[':
			v = d.scanArray(s, k, t, depth+1)
		default:
			v = s.value(depth + 1)
			if v != nil && k.strict && !isNull(v) {
				return nil // not an array: encoding/json says why
			}
		}
		if v == nil {
			return nil
		}
		t.slots[k.slot] = v
	}
}

// scanArray walks the array at s (at its '[') of the records under k, and returns its raw
// value, or nil to decline. Elements past what a chunk keeps are only validated and
// counted.
func (d *chunkDecoder) scanArray(s *scanner, k *key, t target, depth int) []byte {
	start := s.i
	s.i++ // '['
	sp := span{first: d.records(k)}
	s.ws()
	if !s.byte(']') {
		for {
			s.ws()
			if !d.scanElement(s, k, &sp, depth+1) {
				return nil
			}
			s.ws()
			if s.byte(']') {
				break
			}
			if !s.byte(',') {
				return nil
			}
		}
	}
	sp.end = d.records(k)
	t.spans[0] = sp
	return s.b[start:s.i]
}

// scanElement walks one element of the array under k, counting it in sp if it is a
// record, and reports false to decline.
func (d *chunkDecoder) scanElement(s *scanner, k *key, sp *span, depth int) bool {
	c := s.peek()
	if c != '{' && (!k.strict || c != 'n') {
		// Not a record: an element of tool_calls that is not an object is ignored, one of
		// choices is malformed (encoding/json says why).
		return !k.strict && s.value(depth) != nil
	}
	sp.n++
	r, keep := d.newRecord(k, sp.n)
	if !keep || c == 'n' {
		return s.value(depth) != nil // past what a chunk keeps, or a null choice
	}
	return d.scanObject(s, k.elems, r, depth) != nil && d.endRecord(k) == nil
}

// unmarshalChunk fills the slots with encoding/json, the authority on any input.
func (d *chunkDecoder) unmarshalChunk(data []byte) error {
	return d.unmarshalObject(data, &chunkLayout, target{slots: d.top[:], spans: d.spans[:]})
}

// unmarshalObject fills t from the object raw by its layout o, with encoding/json. An
// object that is not one is malformed; null is an empty object.
func (d *chunkDecoder) unmarshalObject(raw []byte, o *object, t target) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return malformed(o.name, err)
	}
	for i := range o.keys {
		k := &o.keys[i]
		v := m[k.name]
		t.slots[k.slot] = v
		var err error
		switch {
		case isNull(v):
		case k.obj != nil && v[0] == '{':
			err = d.unmarshalObject(v, k.obj, t.inner(k))
		case k.elems != nil:
			err = d.unmarshalArray(v, k, t)
		}
		if err != nil {
			return err
		}
	}
	if o.others == othersExtra {
		for name, v := range m {
			if !o.has(name) {
				*t.extra = append(*t.extra, rawMember{[]byte(name), v})
			}
		}
	}
	return nil
}

// unmarshalArray fills the records under k from the array raw, with encoding/json.
func (d *chunkDecoder) unmarshalArray(raw []byte, k *key, t target) error {
	if raw[0] != '[' {
		if !k.strict {
			return nil
		}
		var elems []json.RawMessage
		return malformed(k.name, json.Unmarshal(raw, &elems))
	}
	sp := span{first: d.records(k)}
	elems, err := splitArray(raw, k.limit, !k.strict)
	switch {
	case err == errPastLimit:
		sp.n = k.limit + 1 // counted no further, and kept nothing
	case err != nil:
		return malformed(k.name, err)
	}
	for _, e := range elems {
		sp.n++
		r, keep := d.newRecord(k, sp.n)
		if !keep {
			continue
		}
		if err := d.unmarshalObject(e, k.elems, r); err != nil {
			return err
		}
		if err := d.endRecord(k); err != nil {
			return err
		}
	}
	sp.end = d.records(k)
	t.spans[0] = sp
	return nil
}

var errPastLimit = errors.New("past the limit")

// splitArray returns the elements of a JSON array, failing with errPastLimit past limit
// elements (counting only objects, and returning no others, when objectsOnly) before it
// holds more than that in memory.
func splitArray(raw []byte, limit int, objectsOnly bool) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var elems []json.RawMessage
	for dec.More() {
		var e json.RawMessage
		if err := dec.Decode(&e); err != nil {
			return nil, err
		}
		if objectsOnly && e[0] != '{' {
			continue
		}
		if len(elems) == limit {
			return nil, errPastLimit
		}
		elems = append(elems, e)
	}
	return elems, nil
}

// records returns how many records of the kind under k the chunk holds so far.
func (d *chunkDecoder) records(k *key) int {
	if k.elems == &choiceLayout {
		return len(d.raws)
	}
	return len(d.rawCalls)
}

// newRecord appends a record for the n-th element of the array under k, a choice or a
// tool call, and returns its target; keep is false past what a chunk keeps. A chunk keeps
// maxChoices choices, and maxToolCalls tool calls of each delta or message but twice that
// in all: room for the calls of every choice before (no more than maxToolCalls, or the
// chunk is malformed) and for both objects of the choice at hand, whichever is read.
func (d *chunkDecoder) newRecord(k *key, n int) (r target, keep bool) {
	if n > k.limit {
		return r, false
	}
	if k.elems == &choiceLayout {
		d.raws = append(d.raws, rawChoice{})
		rc := &d.raws[len(d.raws)-1]
		return target{slots: rc.slots[:], spans: rc.calls[:]}, true
	}
	if len(d.rawCalls) == 2*maxToolCalls {
		return r, false
	}
	d.rawCalls = append(d.rawCalls, rawCall{})
	rc := &d.rawCalls[len(d.rawCalls)-1]
	return target{slots: rc.slots[:], extra: &rc.extra}, true
}

// endRecord ends the record just filled under k. A choice's fields are read from its
// delta or its message, which must be an object (or null); a choice read from its delta
// lets go of its message's tool calls, so that they take no room from the calls read.
func (d *chunkDecoder) endRecord(k *key) error {
	if k.elems != &choiceLayout {
		return nil
	}
	rc := &d.raws[len(d.raws)-1]
	from := rc.from()
	if v := rc.slots[cDelta+from]; !isNull(v) && v[0] != '{' {
		var m map[string]json.RawMessage
		return malformed(choiceLayout.nameOf(cDelta+from), json.Unmarshal(v, &m))
	}
	if m := rc.calls[fromMessage]; from == fromDelta && m.end > m.first {
		d.rawCalls = slices.Delete(d.rawCalls, m.first, m.end)
		if dc := &rc.calls[fromDelta]; dc.first >= m.end {
			dc.first, dc.end = dc.first-(m.end-m.first), dc.end-(m.end-m.first)
		}
		rc.calls[fromMessage] = span{}
	}
	return nil
}

// interpretChoice reads the meaning of a choice from its slots.
func (d *chunkDecoder) interpretChoice(rc *rawChoice, pos int) (decodedChoice, error) {
	c := decodedChoice{index: pos}
	if raw := rc.slots[cIndex]; !isNull(raw) {
		n, err := strconv.Atoi(string(raw))
		if err != nil || n < 0 || n >= maxChoices {
			return c, malformed("choice index", fmt.Errorf("want an integer from 0 to %d, got %s", maxChoices-1, excerpt(raw)))
		}
		c.index = n
	}
	var err error
	if c.finish, err = d.stringField("finish_reason", rc.slots[cFinish]); err != nil {
		return c, err
	}
	from := rc.from()
	f := rc.fields(from)
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
	for _, r := range [...]struct {
		slot  int
		field string
	}{{kReasoningContent, fieldReasoningContent}, {kReasoning, fieldReasoning}} {
		if raw := f[r.slot]; len(raw) > 2 && raw[0] == '"' {
			c.text[fReasoning], c.lo[fReasoning], c.hi[fReasoning] = d.unquote(raw)
			c.reasoningField = r.field
			break
		}
	}
	if raw := f[kRefusal]; len(raw) > 0 && raw[0] == '"' {
		c.text[fRefusal], c.lo[fRefusal], c.hi[fRefusal] = d.unquote(raw)
	}
	c.calls[0] = len(d.calls)
	if err := d.interpretCalls(rc.calls[from]); err != nil {
		return c, err
	}
	c.calls[1] = len(d.calls)
	return c, nil
}

// interpretCalls reads the meaning of one delta's tool calls, the records of sp, into
// d.calls. Entries that are not objects were no records; id, type and name that are not
// strings read as "". Within both limits, newRecord kept every record of sp.
func (d *chunkDecoder) interpretCalls(sp span) error {
	if sp.n > maxToolCalls {
		return errTooManyToolCalls
	}
	if len(d.calls)+sp.n > maxToolCalls {
		return errTooManyChunkCalls
	}
	for i := sp.first; i < sp.end; i++ {
		rc := &d.rawCalls[i]
		c := decodedCall{index: -1}
		if raw := rc.slots[tIndex]; !isNull(raw) {
			n, err := strconv.Atoi(string(raw))
			if err != nil || n >= maxToolCalls {
				return malformed("tool call index", fmt.Errorf("want an integer below %d, got %s", maxToolCalls, excerpt(raw)))
			}
			c.index, c.hasIndex = max(n, -1), true
		}
		c.id = d.optString(rc.slots[tID])
		c.typ = d.optString(rc.slots[tType])
		fn := rc.slots[tFunctionFields:]
		c.name = d.optString(fn[fnName])
		args := fn[fnArguments]
		c.rawArgs = args
		switch {
		case isNull(args):
		case args[0] == '"':
			c.args, c.lo, c.hi = d.unquote(args)
		default:
			c.args = string(args) // an object where a string belongs: its JSON text
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

// unquote decodes a string literal, holding back lone surrogate halves at its edges.
func (d *chunkDecoder) unquote(raw []byte) (s string, lo, hi rune) {
	d.scratch, lo, hi = appendUnquoted(d.scratch[:0], raw)
	s = string(d.scratch)
	if cap(d.scratch) > bulkBufSize {
		d.scratch = nil // a huge string does not keep its scratch space
	}
	return s, lo, hi
}

// validKey returns an object key as encoding/json does: each byte of invalid UTF-8 as
// U+FFFD. (The fast walker declines keys with escapes, so there are none to decode.)
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
