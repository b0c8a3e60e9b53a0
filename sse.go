package lockchat

import (
	"bytes"
	"io"
	"strconv"
	"sync"
)

// eventReader splits a text/event-stream body into events following the WHATWG rules
// ("Server-sent events", interpreting an event stream):
//
//   - lines end in LF, CRLF or a lone CR, mixed freely, even across reads;
//   - one UTF-8 byte order mark at the very start is dropped;
//   - "field:value" loses exactly one space after the colon; a line without a colon is a
//     field with an empty value; lines starting with ":" are comments;
//   - data fields of one event are joined with "\n"; an event is dispatched at a blank
//     line, and an event the body ends in the middle of is not dispatched.
//
// Memory is bounded: a line or an event's data longer than max fails with a
// *LineTooLongError.
type eventReader struct {
	r       io.Reader
	small   []byte  // the buffer of a waiting stream, kept across streams
	bulk    *[]byte // the pooled buffer buf is, if it is one
	full    bool    // the last read filled the buffer: more was waiting
	buf     []byte  // buf[start:end] is read but not yet consumed
	start   int
	end     int
	scanned int // buf[start:start+scanned] holds no line end
	max     int
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

// event is one dispatched event. Its slices are valid until the next call to next.
type event struct {
	typ  []byte
	data []byte
}

// The read buffer is small while a stream waits for the server and grows when the body
// arrives faster than it is read, so that a gateway's thousands of idle streams hold
// little, and a fast one reads in large pieces. A bulk buffer goes back to a pool as
// soon as everything in it was read; one grown for a huge line is left to the collector.
const (
	smallBufSize = 512 // a chunk of most servers, and enough to tell what a body holds
	bulkBufSize  = 16 << 10
)

// bulkBufs recycles bulk buffers between streams.
var bulkBufs = sync.Pool{New: func() any { b := make([]byte, bulkBufSize); return &b }}

func (er *eventReader) reset(r io.Reader, max int) {
	er.release()
	if cap(er.data) > bulkBufSize {
		er.data = nil // let a buffer grown by one huge event go
	}
	small := min(smallBufSize-1, max) + 1 // min(smallBufSize, max+1), for any max
	if len(er.small) != small {
		er.small = make([]byte, small)
	}
	*er = eventReader{r: r, small: er.small, buf: er.small, max: max, data: er.data[:0], typ: er.typ[:0], lastID: er.lastID[:0], retry: -1}
}

// release gives a bulk buffer back, or lets a buffer grown for a huge line go, and
// reads into the small one again. It may be called only when nothing in buf is needed.
func (er *eventReader) release() {
	if er.bulk != nil {
		bulkBufs.Put(er.bulk)
		er.bulk = nil
	}
	er.buf = er.small
}

// grow moves what is unread into a buffer twice the size (up to the line limit): a bulk
// buffer from the pool when that is enough, else a new one.
func (er *eventReader) grow() {
	n := min(2*len(er.buf)-2, er.max) + 2 // min(2*len, max+2), for any max
	var nb []byte
	var bulk *[]byte
	if n <= bulkBufSize && er.max+2 >= bulkBufSize {
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

// next returns the next event. At the end of the body it returns io.EOF if the body ended
// on an event boundary and io.ErrUnexpectedEOF if it ended inside a line or an event.
func (er *eventReader) next() (event, error) {
	if len(er.data) == 0 && cap(er.data) > bulkBufSize {
		er.data = nil // the huge event it held was handed out already
	}
	for {
		line, err := er.line()
		if err != nil {
			if err == io.EOF && (len(er.data) > 0 || len(er.typ) > 0) {
				err = io.ErrUnexpectedEOF
			}
			return event{}, err
		}
		if len(line) == 0 {
			if len(er.data) == 0 {
				er.typ = er.typ[:0]
				continue
			}
			ev := event{typ: er.typ, data: er.data[:len(er.data)-1]} // less the last "\n"
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
			ev := event{typ: er.typ, data: value}
			er.typ = er.typ[:0]
			return ev, nil
		}
		if err := er.field(name, value); err != nil {
			return event{}, err
		}
	}
}

// last returns the event the body ended inside, as if its blank line had come: the
// fields read so far and the unterminated last line. It is for a caller that got
// io.ErrUnexpectedEOF from next and wants that event all the same; it returns io.EOF
// when the event has no data.
func (er *eventReader) last() (event, error) {
	if er.start < er.end {
		line := er.buf[er.start:er.end] // the line the body ended in, without a line end
		er.start, er.scanned = er.end, 0
		if line[0] != ':' {
			if err := er.field(splitField(line)); err != nil {
				return event{}, err
			}
		}
	}
	ev := event{typ: er.typ, data: er.data}
	er.data = er.data[:0]
	er.typ = er.typ[:0]
	if len(ev.data) == 0 {
		return event{}, io.EOF
	}
	ev.data = ev.data[:len(ev.data)-1] // less the last "\n"
	return ev, nil
}

// blankNext consumes a blank line if one is already in the buffer right after the line
// just read, and reports whether it did.
func (er *eventReader) blankNext() bool {
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
func (er *eventReader) field(name, value []byte) error {
	switch string(name) {
	case "data":
		if len(er.data)+len(value)+1 > er.max {
			return &LineTooLongError{Limit: er.max}
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
func (er *eventReader) line() ([]byte, error) {
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
				if i > er.max {
					return nil, &LineTooLongError{Limit: er.max}
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
			if len(b) > er.max {
				return nil, &LineTooLongError{Limit: er.max}
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

var bom = []byte("\xEF\xBB\xBF")

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
func (er *eventReader) fill() {
	switch {
	case er.start == er.end && len(er.buf) > len(er.small):
		// Everything was read: wait for the server with the small buffer.
		er.release()
		er.start, er.end, er.full = 0, 0, false
	case er.start > 0:
		er.end = copy(er.buf, er.buf[er.start:er.end])
		er.start = 0
	}
	if er.end == len(er.buf) || er.full && len(er.buf) < bulkBufSize {
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

// sniff reads the body's first bytes into the buffer, without consuming them, until
// they tell what the body holds (see classify); they stay for next or rest to read.
func (er *eventReader) sniff() bodyKind {
	for {
		b := er.buf[er.start:er.end]
		if kind, known := classify(b, er.err != nil || len(b) >= min(sniffLimit, er.max)); known {
			return kind
		}
		er.fill()
	}
}

// rest returns a reader of what was read into the buffer and not consumed, then of the
// rest of the body, for a body that turned out not to be an event stream.
func (er *eventReader) rest() io.Reader {
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
