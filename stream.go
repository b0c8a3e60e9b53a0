package lockchat

import (
	"bytes"
	"cmp"
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

// choiceStatus is where a choice is in the stream.
type choiceStatus uint8

const (
	choiceUnseen   choiceStatus = iota // no chunk has named it
	choiceOpen                         // it has begun and not finished
	choiceFinished                     // it got a finish_reason
)

// choiceState is what the stream remembers of one choice.
type choiceState struct {
	status  choiceStatus
	calls   []callKey // the choice's tool calls, by position
	current int       // the call that fragments without an index continue, -1 for none
	top     int       // the highest index the server gave a call, -1 for none
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
	d.choices, d.calls, d.raws, d.rawCalls, d.holes = trimmed(d.choices), trimmed(d.calls), trimmed(d.raws), trimmed(d.rawCalls), trimmed(d.holes)
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
		if err != nil {
			if err == io.EOF && s.finished && s.unfinished == 0 {
				return s.end()
			}
			if err == io.EOF {
				return errIncomplete
			}
			return readerError(err)
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

// readerError is the call's error for what the event reader says of a body it cannot
// read further: a line past the limit, or a body that gives nothing read after read.
// Other errors come from the body's reads, already explained (see exchange.Read).
func readerError(err error) error {
	if tooLong, ok := err.(*sse.TooLongError); ok {
		return &LineTooLongError{Limit: tooLong.Limit}
	}
	if err == io.ErrNoProgress {
		return newTransportError(err)
	}
	return err
}

// end ends the stream: it returns io.EOF, unless high surrogates are still held back,
// when it returns nil with one last chunk made of them in s.dec (each becomes U+FFFD in
// its field, in choice order); the next call returns io.EOF.
func (s *chunkStream) end() error {
	if !s.flushHalves() {
		return io.EOF
	}
	return nil
}

// flushHalves makes the chunk of the high surrogates still held back, if there are any,
// and reports whether it did.
func (s *chunkStream) flushHalves() bool {
	if len(s.pending) == 0 {
		return false
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
	return true
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
		if st.status == choiceUnseen {
			st.status = choiceOpen
			s.unfinished++
		}
		if c.finish != "" {
			s.finished = true
			if st.status == choiceOpen {
				st.status = choiceFinished
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

// What the calls read of the decoded chunk. They read it through these methods, never
// the decoder's own fields, so that every call folds a chunk the same way.

// hasOutput reports whether the decoded chunk carries output: text, reasoning, a refusal
// or a tool-call fragment, for any choice. Such chunks are what InterruptedError counts.
func (s *chunkStream) hasOutput() bool {
	for i := range s.dec.choices {
		if s.dec.choices[i].hasOutput() {
			return true
		}
	}
	return false
}

// decoded returns the decoded chunk's choices, valid until the next call of next.
func (s *chunkStream) decoded() []decodedChoice { return s.dec.choices }

// usage returns the decoded chunk's usage, nil if it has none.
func (s *chunkStream) usage() *Usage { return s.dec.usage }

// bare reports whether the decoded chunk has neither choices nor usage.
func (s *chunkStream) bare() bool { return len(s.dec.choices) == 0 && s.dec.usage == nil }

// keepAlive reports whether the decoded chunk carries nothing at all: it is bare, and
// its JSON holds no key beyond the envelope (see beyondEnvelope).
func (s *chunkStream) keepAlive() bool { return s.bare() && !beyondEnvelope(s.raw) }

// The parts of a decoded choice: its fragments of content, reasoning (and the field it
// came in) and refusal, and whether it has tool-call fragments.
func (c *decodedChoice) content() string   { return c.text[fContent] }
func (c *decodedChoice) reasoning() string { return c.text[fReasoning] }
func (c *decodedChoice) refusal() string   { return c.text[fRefusal] }
func (c *decodedChoice) hasCalls() bool    { return c.calls[1] > c.calls[0] }

// hasOutput reports whether the choice carries output: text, reasoning, a refusal or a
// tool-call fragment.
func (c *decodedChoice) hasOutput() bool {
	return c.content() != "" || c.reasoning() != "" || c.refusal() != "" || c.hasCalls()
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
