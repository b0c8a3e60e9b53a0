package lockchat

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// Completion is an assistant turn assembled from a stream by Chat or an Accumulator.
type Completion struct {
	// ID and Model are the first non-empty chunk id and model.
	ID    string
	Model string
	// Choices holds one entry per choice index that appeared, in index order.
	Choices []CompletionChoice
	// Usage is the last usage the server sent, nil if none (see WithUsage).
	Usage *Usage
	// Repairs lists what was repaired in a stream that broke the protocol's rules (a
	// tool call without an index, a missing role, usage sent twice, …), for logging; it
	// is empty for a well-formed stream.
	Repairs []Repair
	// Endpoint is the index, in WithEndpoints' list, of the endpoint that answered; 0
	// without WithEndpoints.
	Endpoint int
}

// CompletionChoice is one assembled choice.
type CompletionChoice struct {
	Index int
	// Message is the assistant message: its role, content, reasoning, refusal and tool
	// calls, ready to be sent back.
	Message Message
	// FinishReason is the last finish reason the choice got, "" if the stream ended
	// without one. Tool calls in Message count whatever it says: some servers say "stop".
	FinishReason string
}

// Message returns the assistant message of choice 0 (the common case), or of the first
// choice if there is no choice 0, or an empty assistant message.
func (c Completion) Message() Message {
	if ch := c.first(); ch != nil {
		return ch.Message
	}
	return Message{Role: "assistant"}
}

// first returns choice 0, or the first choice if there is no choice 0, or nil.
func (c Completion) first() *CompletionChoice {
	for i := range c.Choices {
		if c.Choices[i].Index == 0 {
			return &c.Choices[i]
		}
	}
	if len(c.Choices) > 0 {
		return &c.Choices[0]
	}
	return nil
}

// Repair records one kind of repair made to a stream, and how often.
type Repair struct {
	// Choice is the choice it concerns, -1 for the chunks themselves.
	Choice int
	// Kind says what was repaired: one of the Repair* constants.
	Kind string
	// Count is how many fragments or chunks needed it.
	Count int
	// Param names the request parameter a request repair changed (RepairParamDropped,
	// RepairParamRenamed, RepairStreamOff); "" for a stream repair.
	Param string
}

// The repairs an Accumulator makes to a stream, beside those of tool calls (see
// toolcalls.go).
const (
	// RepairRoleMissing: a choice never said its role; it is taken as "assistant".
	RepairRoleMissing = "role missing, assistant assumed"
	// RepairUsageRepeated: usage came more than once; the last is kept, not the sum.
	RepairUsageRepeated = "usage sent more than once, last kept"
	// RepairChunkIDChanged: the chunk id changed within the stream; the first is kept.
	RepairChunkIDChanged = "chunk id changed, first kept"
)

// CompletionTooLargeError is returned when an assembled answer grows past the limit set
// with WithMaxCompletionSize (or Accumulator.MaxSize).
type CompletionTooLargeError struct {
	// Limit is the largest answer, in bytes, that is assembled.
	Limit int
}

// Error names the limit and the option that raises it.
func (e *CompletionTooLargeError) Error() string {
	return fmt.Sprintf("lockchat: answer larger than %d bytes (raise it with WithMaxCompletionSize)", e.Limit)
}

// Accumulator assembles chunks into a Completion. Its zero value is ready to use:
//
//	var acc lockchat.Accumulator
//	for chunk, err := range client.StreamChunks(ctx, model, messages) {
//		if err != nil {
//			return err
//		}
//		acc.Add(chunk)
//	}
//	completion := acc.Completion()
//
// It follows rules that fit every server we know of: texts are appended; a tool call's
// first non-empty id, type and name win (never concatenated, never overwritten) and its
// arguments are appended, as is the input of an OpenAI custom tool call (in
// Extra["custom"], whose other keys' first values win); type defaults to "function" and
// role to "assistant"; the last finish reason and the last usage win (usage is never
// summed). Tool calls are keyed by ToolCallDelta.Index, in index order. An Accumulator
// is not safe for concurrent use.
type Accumulator struct {
	// MaxSize bounds the bytes kept (content, reasoning, refusal, tool calls of every
	// choice together, each choice and each call counting at least the 3 bytes of its
	// smallest form on the wire, "{},"): 0 means DefaultMaxCompletionSize, a negative
	// value no limit. Past it Add keeps nothing more and Err returns a
	// *CompletionTooLargeError.
	MaxSize int

	id, model string
	endpoint  int
	choices   []accChoice
	usage     *Usage
	size      int
	err       error
	repairs   []Repair
}

type accChoice struct {
	index                       int
	role                        string
	content, reasoning, refusal []byte
	reasoningField              string
	calls                       []accCall
	last                        int // the call the last fragment went to
	finish                      string
}

type accCall struct {
	index         int // ToolCallDelta.Index
	id, typ, name string
	args          []byte
	extra         map[string]json.RawMessage
	custom        map[string]json.RawMessage // the keys of Extra["custom"] but its input
	input         []byte                     // custom.input, appended
	isCustom      bool                       // Extra["custom"] came as an object
}

// Add adds a chunk to the completion. It never rejects one: whatever a server sends is
// kept by the rules above, and a repair is noted in Completion.Repairs.
func (a *Accumulator) Add(ch Chunk) {
	if a.err != nil {
		return
	}
	switch {
	case a.id == "":
		a.id = ch.ID
	case ch.ID != "" && ch.ID != a.id:
		a.note(-1, RepairChunkIDChanged)
	}
	if a.model == "" {
		a.model = ch.Model
	}
	a.endpoint = ch.Endpoint
	if ch.Usage != nil {
		if a.usage != nil {
			a.note(-1, RepairUsageRepeated)
		}
		u := *ch.Usage
		a.usage = &u
	}
	for i := range ch.Choices {
		c := &ch.Choices[i]
		n := len(a.choices)
		ac := a.choice(c.Index)
		if len(a.choices) > n && !a.grow(minEntrySize) {
			a.choices = a.choices[:n]
			return
		}
		if ac.role == "" {
			ac.role = c.Role
		}
		if c.FinishReason != "" {
			ac.finish = c.FinishReason
		}
		if c.Reasoning != "" && ac.reasoningField == "" {
			ac.reasoningField = c.ReasoningField
		}
		if !a.write(&ac.content, c.Content) || !a.write(&ac.reasoning, c.Reasoning) || !a.write(&ac.refusal, c.Refusal) {
			return
		}
		for j := range c.ToolCalls {
			if !a.addCall(ac, &c.ToolCalls[j]) {
				return
			}
		}
	}
}

// minEntrySize is what a new choice or tool call counts against MaxSize beside its
// text: the least it takes on the wire, "{}" and a comma, so that a stream of empty
// calls or choices cannot assemble more entries than its size.
const minEntrySize = len("{},")

// choice returns the choice with the given index, adding it if it is new.
func (a *Accumulator) choice(index int) *accChoice {
	for i := range a.choices {
		if a.choices[i].index == index {
			return &a.choices[i]
		}
	}
	a.choices = append(a.choices, accChoice{index: index})
	return &a.choices[len(a.choices)-1]
}

// call returns the call with the given index, adding it if it is new. A negative index
// (from a caller's own chunks; the stream never gives one) continues the call of the
// fragment before.
func (ac *accChoice) call(index int) *accCall {
	if index < 0 && len(ac.calls) > 0 {
		return &ac.calls[ac.last]
	}
	for i := range ac.calls {
		if ac.calls[i].index == index {
			ac.last = i
			return &ac.calls[i]
		}
	}
	ac.last = len(ac.calls)
	ac.calls = append(ac.calls, accCall{index: index})
	return &ac.calls[ac.last]
}

// write appends s to b within the size limit; it reports false when the limit was passed.
func (a *Accumulator) write(b *[]byte, s string) bool {
	if s == "" {
		return true
	}
	if !a.grow(len(s)) {
		return false
	}
	*b = append(*b, s...)
	return true
}

// grow counts n more bytes against the limit, and reports false (setting Err) past it.
func (a *Accumulator) grow(n int) bool {
	limit := a.MaxSize
	if limit == 0 {
		limit = DefaultMaxCompletionSize
	}
	a.size += n
	if limit > 0 && a.size > limit {
		a.err = &CompletionTooLargeError{Limit: limit}
		return false
	}
	return true
}

// note counts one repair of a kind.
func (a *Accumulator) note(choice int, kind string) {
	for i := range a.repairs {
		if r := &a.repairs[i]; r.Choice == choice && r.Kind == kind {
			r.Count++
			return
		}
	}
	a.repairs = append(a.repairs, Repair{Choice: choice, Kind: kind, Count: 1})
}

// Err returns the *CompletionTooLargeError of an answer that passed MaxSize, else nil.
func (a *Accumulator) Err() error { return a.err }

// Completion returns what has been assembled so far. Later calls of Add do not change
// it.
func (a *Accumulator) Completion() Completion {
	c := Completion{ID: a.id, Model: a.model, Repairs: slices.Clone(a.repairs), Endpoint: a.endpoint}
	if a.usage != nil {
		u := *a.usage
		c.Usage = &u
	}
	for _, ac := range a.choices {
		m := Message{Role: ac.role, Content: string(ac.content), Reasoning: string(ac.reasoning),
			Refusal: string(ac.refusal)}
		if ac.reasoningField == fieldReasoning {
			m.reasoningField = fieldReasoning
		}
		if m.Role == "" {
			m.Role = "assistant"
			c.Repairs = append(c.Repairs, Repair{Choice: ac.index, Kind: RepairRoleMissing, Count: 1})
		}
		calls := slices.Clone(ac.calls)
		slices.SortStableFunc(calls, func(x, y accCall) int { return x.index - y.index })
		missingType := 0
		for i := range calls {
			call := &calls[i]
			tc := ToolCall{ID: call.id, Type: call.typ, Name: call.name, Arguments: string(call.args), Extra: maps.Clone(call.extra)}
			if call.isCustom {
				if tc.Extra == nil {
					tc.Extra = map[string]json.RawMessage{}
				}
				tc.Extra["custom"] = call.customJSON()
			}
			if tc.Type == "" {
				tc.Type = "function"
				missingType++
			}
			m.ToolCalls = append(m.ToolCalls, tc)
		}
		if missingType > 0 {
			c.Repairs = append(c.Repairs, Repair{Choice: ac.index, Kind: RepairTypeMissing, Count: missingType})
		}
		c.Choices = append(c.Choices, CompletionChoice{Index: ac.index, Message: m, FinishReason: ac.finish})
	}
	slices.SortStableFunc(c.Choices, func(x, y CompletionChoice) int { return x.Index - y.Index })
	return c
}
