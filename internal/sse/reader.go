// Package sse reads a text/event-stream body into events, following the WHATWG rules
// ("Server-sent events", interpreting an event stream), with bounded memory: it is the
// event-stream layer of lockchat's chat stream. A Reader also tells, from a body's first
// bytes, whether it holds an event stream at all (see Reader.Sniff).
package sse

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// Reader splits a text/event-stream body into events following the WHATWG rules:
//
//   - lines end in LF, CRLF or a lone CR, mixed freely, even across reads;
//   - one UTF-8 byte order mark at the very start is dropped;
//   - "field:value" loses exactly one space after the colon; a line without a colon is a
//     field with an empty value; lines starting with ":" are comments;
//   - data fields of one event are joined with "\n"; an event is dispatched at a blank
//     line, and an event the body ends in the middle of is not dispatched.
//
// Memory is bounded: a line or an event's data longer than the limit fails with a
// *TooLongError. The zero Reader reads nothing; Reset gives it a body.
type Reader struct {
	r       io.Reader
	small   []byte  // the buffer of a waiting stream, kept across streams
	bulk    *[]byte // the pooled buffer buf is, if it is one
	full    bool    // the last read filled the buffer: more was waiting
	buf     []byte  // buf[start:end] is read but not yet consumed
	start   int
	end     int
	scanned int // buf[start:start+scanned] holds no line end
	limit   int
	err     error // the sticky error of r
	skipLF  bool  // the last line ended in a CR: an LF right after it belongs to it
	bomDone bool

	// The event being built.
	data []byte // the data fields so far, each followed by "\n"
	typ  []byte

	// LastID and Retry persist across events, as the standard says; the chat stream does
	// not use them, but they are parsed so that the decoder's state is the standard's.
	lastID []byte
	retry  int64 // reconnection time in milliseconds, -1 if never set
}

// Event is one dispatched event. Its slices are valid until the next call of the
// Reader, as bufio.Scanner.Bytes is.
type Event struct {
	Type []byte // the event field, empty for the default type "message"
	Data []byte // the data fields, joined with "\n"
}

// TooLongError is the error for a line, or an event's data, longer than the Reader's
// limit.
type TooLongError struct{ Limit int }

func (e *TooLongError) Error() string {
	return fmt.Sprintf("sse: line or event longer than %d bytes", e.Limit)
}

// The read buffer is small while a stream waits for the server and grows when the body
// arrives faster than it is read, so that a gateway's thousands of idle streams hold
// little, and a fast one reads in large pieces. A bulk buffer goes back to a pool as
// soon as everything in it was read; one grown for a huge line is left to the collector.
const (
	smallBufSize = 512 // a chunk of most servers, and enough to tell what a body holds
	// BulkBufSize is the size of the pooled buffer a fast body is read into.
	BulkBufSize = 16 << 10
)

// bulkBufs recycles bulk buffers between streams.
var bulkBufs = sync.Pool{New: func() any { b := make([]byte, BulkBufSize); return &b }}

// Reset makes the Reader read body, whose lines and events may be at most limit bytes
// long, keeping its buffers for reuse.
func (er *Reader) Reset(r io.Reader, limit int) {
	er.release()
	if cap(er.data) > BulkBufSize {
		er.data = nil // let a buffer grown by one huge event go
	}
	small := min(smallBufSize-1, limit) + 1 // min(smallBufSize, limit+1), for any limit
	if len(er.small) != small {
		er.small = make([]byte, small)
	}
	*er = Reader{r: r, small: er.small, buf: er.small, limit: limit, data: er.data[:0], typ: er.typ[:0], lastID: er.lastID[:0], retry: -1}
}

// release gives a bulk buffer back, or lets a buffer grown for a huge line go, and
// reads into the small one again. It may be called only when nothing in buf is needed.
func (er *Reader) release() {
	if er.bulk != nil {
		bulkBufs.Put(er.bulk)
		er.bulk = nil
	}
	er.buf = er.small
}

// grow moves what is unread into a buffer twice the size (up to the line limit): a bulk
// buffer from the pool when that is enough, else a new one.
func (er *Reader) grow() {
	n := min(2*len(er.buf)-2, er.limit) + 2 // min(2*len, limit+2), for any limit
	var nb []byte
	var bulk *[]byte
	if n <= BulkBufSize && er.limit+2 >= BulkBufSize {
		bulk = bulkBufs.Get().(*[]byte)
		nb = *bulk
	} else {
		nb = make([]byte, n)
	}
	er.end = copy(nb, er.buf[er.start:er.end])
	er.start = 0
	if er.bulk != nil {
		bulkBufs.Put(er.bulk)
	}
	er.buf, er.bulk = nb, bulk
}

// Next returns the next event. At the end of the body it returns io.EOF if the body ended
// on an event boundary and io.ErrUnexpectedEOF if it ended inside a line or an event. A
// failed read of the body returns the body's error as it is, then and ever after.
func (er *Reader) Next() (Event, error) {
	if len(er.data) == 0 && cap(er.data) > BulkBufSize {
		er.data = nil // the huge event it held was handed out already
	}
	for {
		line, err := er.line()
		if err != nil {
			if err == io.EOF && (len(er.data) > 0 || len(er.typ) > 0) {
				err = io.ErrUnexpectedEOF
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if len(er.data) == 0 {
				er.typ = er.typ[:0]
				continue
			}
			ev := Event{Type: er.typ, Data: er.data[:len(er.data)-1]} // less the last "\n"
			er.data = er.data[:0]
			er.typ = er.typ[:0]
			return ev, nil
		}
		if line[0] == ':' {
			continue // a comment
		}
		name, value := splitField(line)
		if len(er.data) == 0 && string(name) == "data" && er.blankNext() {
			// The common event, one data line and its blank line already read: hand out
			// the value where it lies, without copying it.
			ev := Event{Type: er.typ, Data: value}
			er.typ = er.typ[:0]
			return ev, nil
		}
		if err := er.field(name, value); err != nil {
			return Event{}, err
		}
	}
}

// Last returns the event the body ended inside, as if its blank line had come: the
// fields read so far and the unterminated last line. It is for a caller that got
// io.ErrUnexpectedEOF from Next and wants that event all the same; it returns io.EOF
// when the event has no data.
func (er *Reader) Last() (Event, error) {
	if er.start < er.end {
		line := er.buf[er.start:er.end] // the line the body ended in, without a line end
		er.start, er.scanned = er.end, 0
		if line[0] != ':' {
			if err := er.field(splitField(line)); err != nil {
				return Event{}, err
			}
		}
	}
	ev := Event{Type: er.typ, Data: er.data}
	er.data = er.data[:0]
	er.typ = er.typ[:0]
	if len(ev.Data) == 0 {
		return Event{}, io.EOF
	}
	ev.Data = ev.Data[:len(ev.Data)-1] // less the last "\n"
	return ev, nil
}

// blankNext consumes a blank line if one is already in the buffer right after the line
// just read, and reports whether it did.
func (er *Reader) blankNext() bool {
	if er.skipLF || er.start >= er.end {
		return false
	}
	switch er.buf[er.start] {
	case '\n':
		er.start++
	case '\r':
		er.start++
		if er.start == er.end {
			er.skipLF = true
		} else if er.buf[er.start] == '\n' {
			er.start++
		}
	default:
		return false
	}
	return true
}

// splitField splits a line into its field name and value: the value follows the first
// colon, less one leading space; a line without a colon is a name with an empty value.
func splitField(line []byte) (name, value []byte) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return line, nil
	}
	name, value = line[:i], line[i+1:]
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	return name, value
}

// field interprets one field of the event being built.
func (er *Reader) field(name, value []byte) error {
	switch string(name) {
	case "data":
		if len(er.data)+len(value)+1 > er.limit {
			return &TooLongError{Limit: er.limit}
		}
		er.data = append(er.data, value...)
		er.data = append(er.data, '\n')
	case "event":
		er.typ = append(er.typ[:0], value...)
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			er.lastID = append(er.lastID[:0], value...)
		}
	case "retry":
		if isDigits(value) {
			if n, err := strconv.ParseInt(string(value), 10, 64); err == nil {
				er.retry = n
			}
		}
	}
	return nil
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// line returns the next line without its line end. The slice is valid until the next
// call. A body that ends inside a line returns io.ErrUnexpectedEOF.
func (er *Reader) line() ([]byte, error) {
	for {
		if er.skipLF && er.start < er.end {
			if er.buf[er.start] == '\n' {
				er.start++
			}
			er.skipLF = false
		}
		if !er.bomDone {
			// Wait until the first bytes can no longer be the start of a BOM.
			b := er.buf[er.start:er.end]
			if len(b) >= len(bom) || er.err != nil || !bytes.HasPrefix(bom, b) {
				if bytes.HasPrefix(b, bom) {
					er.start += len(bom)
				}
				er.bomDone = true
			}
		}
		if er.bomDone && !er.skipLF {
			b := er.buf[er.start:er.end]
			if i := lineEnd(b, er.scanned); i >= 0 {
				if i > er.limit {
					return nil, &TooLongError{Limit: er.limit}
				}
				line := b[:i]
				er.start += i + 1
				er.scanned = 0
				if b[i] == '\r' {
					if i+1 < len(b) {
						if b[i+1] == '\n' {
							er.start++
						}
					} else {
						er.skipLF = true
					}
				}
				return line, nil
			}
			er.scanned = len(b)
			if len(b) > er.limit {
				return nil, &TooLongError{Limit: er.limit}
			}
		}
		if er.err != nil {
			if er.err == io.EOF && er.start < er.end {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, er.err
		}
		er.fill()
	}
}

// lineEnd returns the index of the first CR or LF in b at or after from, or -1.
func lineEnd(b []byte, from int) int {
	i := bytes.IndexByte(b[from:], '\n')
	if i < 0 {
		i = len(b) - from
	}
	if j := bytes.IndexByte(b[from:from+i], '\r'); j >= 0 {
		i = j
	}
	if from+i == len(b) {
		return -1
	}
	return from + i
}

// fill reads more of the body, moving unconsumed bytes to the front of the buffer and
// growing it (up to the line limit) when it is full.
func (er *Reader) fill() {
	switch {
	case er.start == er.end && len(er.buf) > len(er.small):
		// Everything was read: wait for the server with the small buffer.
		er.release()
		er.start, er.end, er.full = 0, 0, false
	case er.start > 0:
		er.end = copy(er.buf, er.buf[er.start:er.end])
		er.start = 0
	}
	if er.end == len(er.buf) || er.full && len(er.buf) < BulkBufSize {
		er.grow() // a line longer than the buffer, or a body that arrives in bulk
	}
	for range 100 {
		n, err := er.r.Read(er.buf[er.end:])
		er.full = n == len(er.buf)-er.end
		er.end += n
		if err != nil {
			er.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	er.err = io.ErrNoProgress
}

// Ended reports whether the body has ended or failed: nothing more will be read from it.
func (er *Reader) Ended() bool { return er.err != nil }

// Held returns the capacities of the read buffer and of the event buffer the Reader
// holds, for tests of how much memory a waiting stream keeps.
func (er *Reader) Held() (buf, data int) { return cap(er.buf), cap(er.data) }
