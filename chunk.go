package lockchat

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Chunk is one decoded event of a chat-completions stream, for callers who need more
// than the text: the role, the finish reason, the usage, several choices.
type Chunk struct {
	// ID and Model are the chunk's "id" and "model" fields.
	ID    string
	Model string
	// Choices holds the chunk's choices; it may be empty (a usage-only final chunk, or
	// Azure's prompt_filter_results chunk).
	Choices []Choice
	// Usage is the token usage, sent by some servers in the last chunk.
	Usage *Usage
}

// Choice is one choice's part of a chunk.
type Choice struct {
	// Index tells the choices apart when more than one is requested ("n" > 1).
	Index int
	// Role is set in the first chunk of a choice, usually "assistant".
	Role string
	// Content is the text of the delta, or "" when the chunk carries none.
	Content string
	// FinishReason is set in the choice's last chunk: "stop", "length", "tool_calls"...
	FinishReason string
}

// Usage is the token usage a server reports.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// maxChoices bounds a choice index, so that a hostile server cannot make the decoder's
// per-choice state grow without limit.
const maxChoices = 1024

// The keys whose values give a chunk its meaning, at each level of the object.
var (
	chunkKeys  = []string{"id", "model", "object", "error", "choices", "usage"}
	choiceKeys = []string{"index", "delta", "message", "finish_reason"}
	deltaKeys  = []string{"content", "role"}
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
)

// decodedChoice is a choice of the last decoded chunk.
type decodedChoice struct {
	index   int
	role    string
	content string
	finish  string
	lo, hi  rune // lone surrogate escapes at the content's edges (see appendUnquoted)
}

// rawChoice holds the raw JSON values of one element of "choices". Content and role are
// kept from both "delta" ([0]) and "message" ([1], a whole completion); the decoder
// reads message only when delta is absent or null.
type rawChoice struct {
	index, finish  []byte
	delta, message []byte
	content, role  [2][]byte
	notObject      bool // the fast path met an element, delta or message it does not read
}

// chunkDecoder turns the data of one event into a chunk. It keeps its buffers between
// chunks, so that the common chunk costs one allocation: its content string.
type chunkDecoder struct {
	top     [6][]byte // raw values of chunkKeys, indexed by kID…kUsage
	raws    []rawChoice
	scratch []byte

	choices []decodedChoice
	usage   *Usage
	apiErr  *APIError
	tmpl    template
}

// decode decodes one event's data. On success the results are in d.choices, d.usage and
// d.apiErr (an error object the chunk carried), valid until the next call.
func (d *chunkDecoder) decode(data []byte) error {
	if d.tmpl.apply(d, data) {
		return nil
	}
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

// decodeMode finds the raw values the chunk's meaning depends on, in one pass of the
// fast scanner or with encoding/json, then interprets them the same way for both.
func (d *chunkDecoder) decodeMode(data []byte, fast bool) error {
	d.choices, d.usage, d.apiErr = d.choices[:0], nil, nil
	clear(d.top[:])
	d.raws = d.raws[:0]
	var err error
	if fast {
		err = d.scanChunk(data)
	} else {
		err = d.unmarshalChunk(data)
	}
	if err != nil {
		return err
	}
	top := &d.top
	d.apiErr = chunkError(data, top[kError], top[kObject], top[kChoices], top[kUsage])
	if !isNull(top[kUsage]) {
		d.usage = new(Usage)
		if err := json.Unmarshal(top[kUsage], d.usage); err != nil {
			return malformed("usage", err)
		}
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

func (d *chunkDecoder) interpretChoice(rc *rawChoice, pos int) (decodedChoice, error) {
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
	if c.role, err = d.stringField("role", rc.role[which]); err != nil {
		return c, err
	}
	if raw := rc.content[which]; !isNull(raw) {
		if raw[0] != '"' {
			return c, malformed("content", fmt.Errorf("want a string, got %s", excerpt(raw)))
		}
		d.scratch, c.lo, c.hi = appendUnquoted(d.scratch[:0], raw)
		c.content = string(d.scratch)
	}
	return c, nil
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
	var elems []json.RawMessage
	if err := json.Unmarshal(d.top[kChoices], &elems); err != nil {
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
			rc.content[which], rc.role[which] = om["content"], om["role"]
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
		d.raws = append(d.raws, rc)
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
			v = scanDelta(s, &rc.content[k-kDelta], &rc.role[k-kDelta])
		default:
			v = s.value(3)
		}
		if v == nil {
			return false
		}
		if k < 0 {
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

// scanDelta reads a delta (or message) object's content and role and returns its raw
// value, or nil.
func scanDelta(s *scanner, content, role *[]byte) []byte {
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
		k := keyIndex(key, deltaKeys)
		if k == -2 {
			return nil
		}
		v := s.value(4)
		if v == nil {
			return nil
		}
		dst := content
		if k == kRole {
			dst = role
		}
		if k >= 0 {
			if *dst != nil {
				return nil
			}
			*dst = v
		}
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
	}
	d.scratch, _, _ = appendUnquoted(d.scratch[:0], raw)
	return string(d.scratch), nil
}

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrMalformedStream, what, err)
}
