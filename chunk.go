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

// chunkDecoder turns the data of one event into a chunk. It keeps its buffers between
// chunks, so that the common chunk costs one allocation: its content string.
type chunkDecoder struct {
	top     [6][]byte // indexed by kID…kUsage
	choice  [4][]byte
	delta   [2][]byte
	elems   [][]byte
	scratch []byte

	choices []decodedChoice
	usage   *Usage
	apiErr  *APIError
	noFast  bool // tests: force the encoding/json path
}

// decode decodes one event's data. On success the results are in d.choices, d.usage and
// d.apiErr (an error object the chunk carried), valid until the next call.
func (d *chunkDecoder) decode(data []byte) error {
	if !d.noFast {
		err := d.decodeMode(data, true)
		if err != errSlow {
			return err
		}
	}
	return d.decodeMode(data, false)
}

func (d *chunkDecoder) decodeMode(data []byte, fast bool) error {
	d.choices, d.usage, d.apiErr = d.choices[:0], nil, nil
	if err := d.fields(data, chunkKeys, d.top[:], fast); err != nil {
		return err
	}
	top := d.top
	if !isNull(top[kError]) {
		d.apiErr = &APIError{StatusCode: 200, InStream: true}
		fillError(top[kError], d.apiErr)
	} else if jsonString(top[kObject]) == "error" {
		d.apiErr = &APIError{StatusCode: 200, InStream: true}
		fillError(data, d.apiErr)
	}
	if !isNull(top[kUsage]) {
		d.usage = new(Usage)
		if err := json.Unmarshal(top[kUsage], d.usage); err != nil {
			return malformed("usage", err)
		}
	}
	if isNull(top[kChoices]) {
		return nil
	}
	var err error
	if fast {
		d.elems, err = scanArray(top[kChoices], d.elems[:0])
	} else {
		var elems []json.RawMessage
		err = json.Unmarshal(top[kChoices], &elems)
		d.elems = d.elems[:0]
		for _, e := range elems {
			d.elems = append(d.elems, e)
		}
	}
	if err != nil {
		return malformedOrSlow("choices", err)
	}
	for pos, e := range d.elems {
		c, err := d.decodeChoice(e, pos, fast)
		if err != nil {
			return err
		}
		d.choices = append(d.choices, c)
	}
	return nil
}

func (d *chunkDecoder) decodeChoice(raw []byte, pos int, fast bool) (decodedChoice, error) {
	c := decodedChoice{index: pos}
	if err := d.fields(raw, choiceKeys, d.choice[:], fast); err != nil {
		return c, err
	}
	v := d.choice
	if !isNull(v[kIndex]) {
		n, err := strconv.Atoi(string(v[kIndex]))
		if err != nil || n < 0 || n >= maxChoices {
			return c, malformed("choice index", fmt.Errorf("want an integer from 0 to %d, got %s", maxChoices-1, excerpt(v[kIndex])))
		}
		c.index = n
	}
	var err error
	if c.finish, err = d.stringField("finish_reason", v[kFinish]); err != nil {
		return c, err
	}
	delta := v[kDelta]
	if isNull(delta) {
		delta = v[kMessage] // a whole completion, from a server that ignored "stream"
	}
	if isNull(delta) {
		return c, nil
	}
	if err := d.fields(delta, deltaKeys, d.delta[:], fast); err != nil {
		return c, err
	}
	if c.role, err = d.stringField("role", d.delta[kRole]); err != nil {
		return c, err
	}
	if raw := d.delta[kContent]; !isNull(raw) {
		if raw[0] != '"' {
			return c, malformed("content", fmt.Errorf("want a string, got %s", excerpt(raw)))
		}
		d.scratch, c.lo, c.hi = appendUnquoted(d.scratch[:0], raw)
		c.content = string(d.scratch)
	}
	return c, nil
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

// fields finds the values of keys in the object raw: by the fast scanner, or by
// encoding/json, which also decides every input the scanner declines.
func (d *chunkDecoder) fields(raw []byte, keys []string, vals [][]byte, fast bool) error {
	if fast {
		return scanObject(raw, keys, vals)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return malformed("chunk", err)
	}
	for k, name := range keys {
		vals[k] = m[name]
	}
	return nil
}

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrMalformedStream, what, err)
}

func malformedOrSlow(what string, err error) error {
	if err == errSlow {
		return err
	}
	return malformed(what, err)
}
