package sse

import (
	"bytes"
	"io"
	"strings"
)

// This file tells what a body holds from its first bytes, since real servers label event
// streams text/plain or application/json, and JSON documents text/event-stream.

// Kind is what the first bytes of a body say it holds.
type Kind int

const (
	EventStream  Kind = iota // a field line or a comment, or nothing at all
	JSONDocument             // "{", or "[" (JSON that is no answer, a decode error)
	OtherText                // anything else
)

// sniffLimit bounds the bytes read to tell a body's kind.
const sniffLimit = 512

// eventFields are the field names of the event-stream format.
var eventFields = []string{"data", "event", "id", "retry"}

// classify tells the kind of a body from its first bytes b; known is false while more
// bytes are needed, and always true at the end of what can be read.
func classify(b []byte, end bool) (kind Kind, known bool) {
	if !end && len(b) < len(bom) && bytes.HasPrefix(bom, b) {
		return 0, false
	}
	b = bytes.TrimLeft(bytes.TrimPrefix(b, bom), " \t\r\n")
	switch {
	case len(b) == 0:
		return EventStream, end
	case b[0] == '{' || b[0] == '[':
		return JSONDocument, true
	case b[0] == ':':
		return EventStream, true
	}
	name := b
	if i := bytes.IndexAny(b, ":\r\n"); i >= 0 {
		name, end = b[:i], true
	}
	for _, f := range eventFields {
		if string(name) == f && end {
			return EventStream, true
		}
		if !end && strings.HasPrefix(f, string(name)) {
			return 0, false // a field name may still be arriving
		}
	}
	return OtherText, true
}

// bom is the UTF-8 byte order mark, which may start a body of either kind.
var bom = []byte("\xEF\xBB\xBF")

// TrimBOM returns b without a UTF-8 byte order mark at its start.
func TrimBOM(b []byte) []byte { return bytes.TrimPrefix(b, bom) }

// Sniff reads the body's first bytes into the buffer, without consuming them, until
// they tell what the body holds; they stay for Next or Rest to read.
func (er *Reader) Sniff() Kind {
	for {
		b := er.buf[er.start:er.end]
		if kind, known := classify(b, er.err != nil || len(b) >= min(sniffLimit, er.limit)); known {
			return kind
		}
		er.fill()
	}
}

// Rest returns a reader of what was read into the buffer and not consumed, then of the
// rest of the body, for a body that turned out not to be an event stream.
func (er *Reader) Rest() io.Reader {
	head := bytes.NewReader(er.buf[er.start:er.end])
	switch er.err {
	case nil:
		return io.MultiReader(head, er.r)
	case io.EOF:
		return head
	}
	return io.MultiReader(head, &errReader{er.err})
}

// errReader returns its error on every read.
type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }
