package lockchat

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/lockchat/lockchat/internal/sse"
)

// errIncomplete is the error for a body that ends before the stream says it is complete.
var errIncomplete = fmt.Errorf("lockchat: stream ended before [DONE] or a finish_reason: %w", io.ErrUnexpectedEOF)

// chunkStream turns one response body into chunks. It reads the body as an event stream,
// stops at "data: [DONE]", numbers tool calls by the repair rules, joins surrogate pairs
// split between chunks, and tells a complete stream from one cut short.
type chunkStream struct {
	events sse.Reader
	dec    chunkDecoder
	raw    []byte // the data of the chunk in dec, valid until the next call of next

	done       bool          // [DONE] was read
	finished   bool          // a finish_reason was read
	unfinished int           // choices seen and not finished
	choices    []choiceState // per choice index
	pending    []pendingHalf // high surrogates held back
	made       bool          // dec holds the chunk end made: it has no top-level values
	id, model  string        // the last chunk's, interned (see idModel)
	idRaw      []byte
	modelRaw   []byte
	endpoint   int      // the index of the endpoint answering, for Chunk.Endpoint
	slab       []Choice // chunks' choices are cut from it (see chunk)
	callSlab   []ToolCallDelta
}

// choiceState is what the stream remembers of one choice.
type choiceState struct {
	status  uint8     // 0 unseen, 1 open, 2 finished
	calls   []callKey // the choice's tool calls, by position
	current int       // the call that fragments without an index continue, -1 for none
	top     int       // the highest index the server gave a call, -1 for none
}

// callKey identifies a tool call: the server's index (-1 for none) and its first id.
type callKey struct {
	index int
	id    string
}

// pendingHalf is a high surrogate held back from the end of a field's fragment, to be
// joined with a low one at the start of the field's next fragment.
type pendingHalf struct {
	choice, field, call int // field is fContent…fRefusal or fArgs; call is a position
	hi                  rune
}

func (s *chunkStream) reset(body io.Reader, maxLine int) {
	s.events.Reset(body, maxLine)
	s.dec.tmpl.ok = false
	s.raw = nil
	s.done, s.finished, s.unfinished, s.made = false, false, 0, false
	clear(s.choices) // drop the ids they hold
	s.choices = s.choices[:0]
	s.pending = s.pending[:0]
	s.id, s.model, s.idRaw, s.modelRaw = "", "", s.idRaw[:0], s.modelRaw[:0]
	s.slab, s.callSlab = nil, nil
	s.choices, s.pending = trimmed(s.choices), trimmed(s.pending)
	d := &s.dec
	d.choices, d.calls, d.raws, d.holes = trimmed(d.choices), trimmed(d.calls), trimmed(d.raws), trimmed(d.holes)
}

// keepCap bounds the capacity of the slices a stream keeps from one body to the next,
// and so in the pool: those a hostile chunk of many choices or tool calls grew are let
// go, not kept for the next call.
const keepCap = 64

// trimmed returns s emptied, its elements cleared (they may point into a body), or nil
// when it grew past keepCap.
func trimmed[S ~[]E, E any](s S) S {
	if cap(s) > keepCap {
		return nil
	}
	clear(s[:cap(s)])
	return s[:0]
}

// next decodes the next chunk into s.dec. It returns io.EOF when the stream is complete:
// after [DONE], or at the end of a body that delivered a finish_reason for every choice
// it opened. The chunk may carry an error object (s.dec.apiErr), to be reported after its
// content.
//
// A body may end inside its last line or event, without the blank line that ends an
// event (servers that close right after their last field do). Like the official Node
// client, next reads that event as if its blank line had come: "data: [DONE]" ends the
// stream, whole JSON is a chunk like any other. Data that does not decode there was cut
// by the end of the body and is dropped; whether the stream is complete is then decided
// as at any other end.
func (s *chunkStream) next() error {
	// Let go of what points into the data of the chunk before: the buffer that holds it
	// may be given back while the stream waits for the server.
	s.raw = nil
	clear(s.dec.top[:])
	clear(s.dec.calls)
	if s.done {
		return s.end() // nothing after [DONE] is read
	}
	for {
		ev, err := s.events.Next()
		last := false
		if err == io.ErrUnexpectedEOF {
			ev, err = s.events.Last()
			last = err == nil
		}
		var tooLong *sse.TooLongError
		if errors.As(err, &tooLong) {
			return &LineTooLongError{Limit: tooLong.Limit}
		}
		if err != nil {
			if err == io.EOF && s.finished && s.unfinished == 0 {
				return s.end()
			}
			if err == io.EOF {
				return errIncomplete
			}
			return err
		}
		if string(ev.Type) == "error" {
			return eventError(ev.Data)
		}
		if bytes.HasPrefix(ev.Data, doneMarker) {
			s.done = true
			return s.end()
		}
		if len(bytes.TrimSpace(ev.Data)) == 0 {
			continue // an empty event: a keep-alive
		}
		if err := s.dec.decode(ev.Data); err != nil {
			if e := recogniseError(ev.Data); e != nil {
				e.StatusCode, e.InStream = 200, true
				return e
			}
			if last {
				continue // cut by the end of the body
			}
			return &dataError{what: err.Error(), where: "event data", excerpt: excerpt(ev.Data)}
		}
		s.raw = ev.Data
		return s.track()
	}
}

var doneMarker = []byte("[DONE]")

// end returns io.EOF, after one last chunk if high surrogates are still held back: each
// becomes U+FFFD in its field, in choice order.
func (s *chunkStream) end() error {
	if len(s.pending) == 0 {
		return io.EOF // and so the next time too: the halves were flushed
	}
	s.made = true
	d := &s.dec
	d.choices, d.calls, d.usage, d.apiErr = d.choices[:0], d.calls[:0], nil, nil
	slices.SortFunc(s.pending, func(a, b pendingHalf) int {
		return cmp.Or(a.choice-b.choice, a.field-b.field, a.call-b.call)
	})
	for i, p := range s.pending {
		if i == 0 || p.choice != s.pending[i-1].choice {
			d.choices = append(d.choices, decodedChoice{index: p.choice, calls: [2]int{len(d.calls), len(d.calls)}})
		}
		c := &d.choices[len(d.choices)-1]
		if p.field == fArgs {
			d.calls = append(d.calls, decodedCall{index: -1, pos: p.call, args: "\uFFFD"})
			c.calls[1] = len(d.calls)
		} else {
			c.text[p.field] = "\uFFFD"
		}
	}
	s.pending = s.pending[:0]
	return nil
}

// track records finish reasons, numbers tool calls and joins surrogate pairs split
// between chunks.
func (s *chunkStream) track() error {
	d := &s.dec
	for i := range d.choices {
		c := &d.choices[i]
		if c.index >= len(s.choices) {
			s.choices = slices.Grow(s.choices, c.index+1-len(s.choices))
			for len(s.choices) <= c.index {
				s.choices = append(s.choices, choiceState{current: -1, top: -1})
			}
		}
		st := &s.choices[c.index]
		if st.status == 0 {
			st.status = 1
			s.unfinished++
		}
		if c.finish != "" {
			s.finished = true
			if st.status == 1 {
				st.status = 2
				s.unfinished--
			}
		}
		calls := d.callsOf(c)
		if len(calls) > 0 {
			if err := st.numberCalls(calls); err != nil {
				return err
			}
		}
		if len(s.pending) > 0 || c.lo != [nText]rune{} || c.hi != [nText]rune{} {
			for f := range nText {
				if c.lo[f] != 0 || c.hi[f] != 0 || len(s.pending) > 0 && c.text[f] != "" {
					c.text[f] = s.join(c.index, f, 0, c.text[f], c.lo[f], c.hi[f])
					c.lo[f], c.hi[f] = 0, 0
				}
			}
		}
		for j := range calls {
			call := &calls[j]
			if call.lo != 0 || call.hi != 0 || len(s.pending) > 0 && call.args != "" {
				call.args = s.join(c.index, fArgs, call.pos, call.args, call.lo, call.hi)
				call.lo, call.hi = 0, 0
			}
		}
	}
	return nil
}

// numberCalls gives each tool-call fragment of a choice its position in the assembled
// message. The rules fit every server we know of:
//   - an index is a key, not a position: it continues the call that has it, and a new
//     index starts a new call at the next position (so a gap leaves no hole);
//   - an index that holds a call with another id, given again with a new id and its own
//     name, starts a new call (lmdeploy reuses 0 for every call);
//   - no index, or -1, continues the current call, unless the fragment carries a new id
//     or is not the first index-less entry of its array (Gemini, old Ollama, Bedrock
//     gateways send whole calls that way).
func (st *choiceState) numberCalls(calls []decodedCall) error {
	indexless := 0
	for j := range calls {
		c := &calls[j]
		p := -1
		if c.hasIndex && c.index >= 0 {
			p = st.find(c.index)
			if p >= 0 && c.id != "" && c.name != "" && st.calls[p].id != "" && c.id != st.calls[p].id {
				p, c.repair = -1, RepairIndexReused
			} else if p < 0 && c.index > st.top+1 {
				c.repair = RepairIndexGap
			}
			st.top = max(st.top, c.index)
		} else {
			c.repair = RepairNoIndex
			if c.hasIndex {
				c.repair = RepairIndexMinusOne
			}
			if cur := st.current; cur >= 0 && indexless == 0 &&
				(c.id == "" || st.calls[cur].id == "" || c.id == st.calls[cur].id) {
				p = cur
			}
			indexless++
		}
		if p < 0 {
			if len(st.calls) == maxToolCalls {
				return errTooManyCalls
			}
			key := -1
			if c.hasIndex {
				key = c.index
			}
			p = len(st.calls)
			st.calls = append(st.calls, callKey{index: key, id: c.id})
		} else if st.calls[p].id == "" {
			st.calls[p].id = c.id
		}
		st.current = p
		c.pos = p
	}
	return nil
}

var errTooManyCalls = malformed("tool_calls", fmt.Errorf("more than %d calls in one choice", maxToolCalls))

// find returns the position of the latest call with the server's index i, or -1.
func (st *choiceState) find(i int) int {
	for p := len(st.calls) - 1; p >= 0; p-- {
		if st.calls[p].index == i {
			return p
		}
	}
	return -1
}

// join returns a fragment of a field with the field's held-back high surrogate in front
// (paired with lo, or U+FFFD without it), a lone lo as U+FFFD, and its own trailing high
// half hi held back for the field's next fragment.
func (s *chunkStream) join(choice, field, call int, text string, lo, hi rune) string {
	var b []byte
	for i, p := range s.pending {
		if p.choice == choice && p.field == field && p.call == call {
			s.pending = slices.Delete(s.pending, i, i+1)
			if lo != 0 {
				b = utf8.AppendRune(b, utf16.DecodeRune(p.hi, lo))
				lo = 0
			} else {
				b = append(b, "\uFFFD"...)
			}
			break
		}
	}
	if lo != 0 {
		b = append(b, "\uFFFD"...)
	}
	b = append(b, text...)
	if hi != 0 {
		s.pending = append(s.pending, pendingHalf{choice: choice, field: field, call: call, hi: hi})
	}
	return string(b)
}

// hasOutput reports whether the decoded chunk carries output: text, reasoning, a refusal
// or a tool-call fragment, for any choice. Such chunks are what InterruptedError counts.
func (s *chunkStream) hasOutput() bool {
	for i := range s.dec.choices {
		c := &s.dec.choices[i]
		if c.text[fContent] != "" || c.text[fReasoning] != "" || c.text[fRefusal] != "" || c.calls[1] > c.calls[0] {
			return true
		}
	}
	return false
}

// idModel returns the chunk's id and model. They rarely change within a stream, so the
// strings of the chunk before are reused when the bytes are the same; the chunk end made
// repeats the last chunk's.
func (s *chunkStream) idModel() (id, model string) {
	if !s.made {
		if raw := s.dec.top[kID]; string(raw) != string(s.idRaw) {
			s.idRaw, s.id = append(s.idRaw[:0], raw...), jsonString(raw)
		}
		if raw := s.dec.top[kModel]; string(raw) != string(s.modelRaw) {
			s.modelRaw, s.model = append(s.modelRaw[:0], raw...), jsonString(raw)
		}
	}
	return s.id, s.model
}

// slabSize is how many choices (or tool calls) a slab holds: enough to spread one
// allocation over a few chunks, little enough for an idle stream to hold.
const slabSize = 4

// chunk returns the decoded chunk as a Chunk the caller may keep. Its choices and tool
// calls are cut from slabs allocated a few chunks at a time; a slab is never reused, so
// a kept chunk stays as it was.
func (s *chunkStream) chunk() Chunk {
	d := &s.dec
	ch := Chunk{Usage: d.usage, Raw: s.raw, Endpoint: s.endpoint}
	ch.ID, ch.Model = s.idModel()
	if n := len(d.choices); n > 0 {
		if len(s.slab) < n {
			s.slab = make([]Choice, max(n, slabSize))
		}
		ch.Choices, s.slab = s.slab[:n:n], s.slab[n:]
	}
	for i := range d.choices {
		c := &d.choices[i]
		out := &ch.Choices[i]
		*out = Choice{Index: c.index, Role: c.role, Content: c.text[fContent], Reasoning: c.text[fReasoning],
			ReasoningField: c.reasoningField, Refusal: c.text[fRefusal], FinishReason: c.finish}
		if out.Reasoning == "" {
			out.ReasoningField = ""
		}
		calls := d.callsOf(c)
		if len(calls) == 0 {
			continue
		}
		if len(s.callSlab) < len(calls) {
			s.callSlab = make([]ToolCallDelta, max(len(calls), slabSize))
		}
		out.ToolCalls, s.callSlab = s.callSlab[:len(calls):len(calls)], s.callSlab[len(calls):]
		for j := range calls {
			c := &calls[j]
			out.ToolCalls[j] = ToolCallDelta{Index: c.pos, ID: c.id, Type: c.typ, Name: c.name,
				Arguments: c.args, Extra: c.extra, Repair: c.repair}
		}
	}
	return ch
}

// eventError turns the data of an "event: error" event into an *APIError: an error
// object the recogniser knows, else the data as text.
func eventError(data []byte) error {
	e := recogniseError(data)
	if e == nil {
		e = &APIError{Message: textOf(data)}
	}
	e.StatusCode, e.InStream = 200, true
	return e
}

// streamPool recycles decoders and their buffers between calls.
var streamPool = sync.Pool{New: func() any { return new(chunkStream) }}

// bulkBufSize is the size past which a buffer of the decoder is let go rather than kept
// for the next chunk: the event reader's bulk buffer.
const bulkBufSize = sse.BulkBufSize

// limitPlusOne returns n+1, or n when n+1 does not fit: the bound to read a body with
// to learn whether it is longer than n.
func limitPlusOne(n int) int64 {
	if int64(n) == math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n) + 1
}
