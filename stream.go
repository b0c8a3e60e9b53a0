package lockchat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"
	"unicode/utf16"
)

// errIncomplete is the error for a body that ends before the stream says it is complete.
var errIncomplete = fmt.Errorf("lockchat: stream ended before [DONE] or a finish_reason: %w", io.ErrUnexpectedEOF)

// chunkStream turns one response body into chunks. It reads the body as an event stream,
// stops at "data: [DONE]", joins surrogate pairs split between chunks, and tells a
// complete stream from one cut short.
type chunkStream struct {
	events eventReader
	dec    chunkDecoder

	done       bool         // [DONE] was read
	finished   bool         // a finish_reason was read
	state      []uint8      // per choice index: 0 unseen, 1 open, 2 finished
	unfinished int          // choices seen and not finished
	pending    map[int]rune // per choice index: a high surrogate held back
	flushed    bool         // pending surrogates were flushed at the end
}

func (s *chunkStream) reset(body io.Reader, maxLine int) {
	s.events.reset(body, maxLine)
	s.dec.tmpl.ok = false
	s.done, s.finished, s.unfinished, s.flushed = false, false, 0, false
	s.state = s.state[:0]
	s.pending = nil
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
	if s.done {
		return s.end() // nothing after [DONE] is read
	}
	for {
		ev, err := s.events.next()
		last := false
		if err == io.ErrUnexpectedEOF {
			ev, err = s.events.last()
			last = err == nil
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
		if string(ev.typ) == "error" {
			return eventError(ev.data)
		}
		if bytes.HasPrefix(ev.data, doneMarker) {
			s.done = true
			return s.end()
		}
		if len(bytes.TrimSpace(ev.data)) == 0 {
			continue // an empty event: a keep-alive
		}
		if err := s.dec.decode(ev.data); err != nil {
			if e := recogniseError(ev.data); e != nil {
				e.StatusCode, e.InStream = 200, true
				return e
			}
			if last {
				continue // cut by the end of the body
			}
			return &dataError{what: err.Error(), where: "event data", excerpt: excerpt(ev.data)}
		}
		s.track()
		return nil
	}
}

var doneMarker = []byte("[DONE]")

// end returns io.EOF, after one last chunk if a high surrogate is still held back.
func (s *chunkStream) end() error {
	if len(s.pending) == 0 || s.flushed {
		return io.EOF
	}
	s.flushed = true
	s.dec.choices, s.dec.usage, s.dec.apiErr = s.dec.choices[:0], nil, nil
	for _, idx := range slices.Sorted(maps.Keys(s.pending)) {
		s.dec.choices = append(s.dec.choices, decodedChoice{index: idx, content: "\uFFFD"})
	}
	s.pending = nil
	return nil
}

// track records finish reasons and joins surrogate pairs split between chunks.
func (s *chunkStream) track() {
	for i := range s.dec.choices {
		c := &s.dec.choices[i]
		if c.index >= len(s.state) {
			s.state = append(s.state, make([]uint8, c.index+1-len(s.state))...)
		}
		if s.state[c.index] == 0 {
			s.state[c.index] = 1
			s.unfinished++
		}
		if c.finish != "" {
			s.finished = true
			if s.state[c.index] == 1 {
				s.state[c.index] = 2
				s.unfinished--
			}
		}
		if c.lo != 0 || c.hi != 0 || len(s.pending) > 0 && s.pending[c.index] != 0 {
			s.joinSurrogates(c)
		}
	}
}

func (s *chunkStream) joinSurrogates(c *decodedChoice) {
	var b []byte
	if hi := s.pending[c.index]; hi != 0 {
		delete(s.pending, c.index)
		if c.lo != 0 {
			b = append(b, string(utf16.DecodeRune(hi, c.lo))...)
			c.lo = 0
		} else {
			b = append(b, "\uFFFD"...)
		}
	}
	if c.lo != 0 {
		b = append(b, "\uFFFD"...)
	}
	b = append(b, c.content...)
	if c.hi != 0 {
		if s.pending == nil {
			s.pending = map[int]rune{}
		}
		s.pending[c.index] = c.hi
	}
	c.content = string(b)
	c.lo, c.hi = 0, 0
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

// consumeStream decodes an event-stream body and feeds its chunks to h.
func consumeStream(ctx, actx context.Context, cfg *config, body io.Reader, h handler, delivered *int, cancel context.CancelCauseFunc) error {
	s := streamPool.Get().(*chunkStream)
	defer streamPool.Put(s)
	s.reset(body, cfg.maxLineSize)
	defer s.reset(nil, cfg.maxLineSize)
	for {
		err := s.next()
		if err == io.EOF {
			if s.done && s.events.err == nil {
				drain(body, cancel)
			}
			return nil
		}
		if err != nil {
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				return err
			}
			return readError(ctx, actx, cfg, err)
		}
		n, more := h(&s.dec)
		*delivered += n
		if !more {
			return errStop
		}
		if s.dec.apiErr != nil {
			return s.dec.apiErr
		}
	}
}

// drain reads what little may follow [DONE] (the end of a chunked body), so that the
// connection can be reused, but never waits long for a server that keeps it open.
func drain(body io.Reader, cancel context.CancelCauseFunc) {
	t := time.AfterFunc(drainTimeout, func() { cancel(errDrainCause) })
	defer t.Stop()
	var buf [512]byte
	for range drainLimit / len(buf) {
		if _, err := body.Read(buf[:]); err != nil {
			return
		}
	}
}

const (
	drainTimeout = 50 * time.Millisecond
	drainLimit   = 4 << 10
)

var errDrainCause = errors.New("drained")

// consumeJSON handles a 2xx body that holds one JSON document: an error object, or a
// whole completion from a server that ignored "stream": true. It reads the document the
// way next reads an event's data, with the same error recogniser.
func consumeJSON(ctx, actx context.Context, cfg *config, resp *http.Response, body io.Reader, h handler, delivered *int) error {
	b, err := io.ReadAll(io.LimitReader(body, limitPlusOne(cfg.maxLineSize)))
	if err != nil {
		return readError(ctx, actx, cfg, err)
	}
	if len(b) > cfg.maxLineSize {
		return &LineTooLongError{Limit: cfg.maxLineSize}
	}
	var s chunkStream
	if err := s.dec.decode(b); err != nil {
		if e := recogniseError(b); e != nil {
			e.StatusCode = resp.StatusCode
			return e
		}
		return &dataError{what: err.Error(), where: "body", excerpt: excerpt(b)}
	}
	if e := s.dec.apiErr; e != nil {
		e.StatusCode, e.InStream = resp.StatusCode, false // the body, not an event, held it
	}
	s.track()
	for {
		n, more := h(&s.dec)
		*delivered += n
		if !more {
			return errStop
		}
		if s.dec.apiErr != nil {
			return s.dec.apiErr
		}
		if s.end() == io.EOF {
			return nil
		}
	}
}

// limitPlusOne returns n+1, or n when n+1 does not fit: the bound to read a body with
// to learn whether it is longer than n.
func limitPlusOne(n int) int64 {
	if int64(n) == math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n) + 1
}
