package sse

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/lockchat/lockchat/internal/cutread"
)

type testEvent struct {
	Type string `json:"type"`
	Data string `json:"data"`
	ID   string `json:"id"`
}

// readEvents runs the event reader over input cut at cuts, until the end or an error.
func readEvents(input []byte, cuts []int, limit int) ([]testEvent, int64, error) {
	var er Reader
	er.Reset(&cutread.Reader{B: input, Cuts: cuts}, limit)
	var evs []testEvent
	for {
		ev, err := er.Next()
		if err == io.EOF {
			return evs, er.retry, nil
		}
		if err != nil {
			return evs, er.retry, err
		}
		evs = append(evs, testEvent{Type: string(ev.Type), Data: string(ev.Data), ID: string(er.lastID)})
	}
}

func TestEventStreamRules(t *testing.T) {
	type E = testEvent
	cases := []struct {
		name  string
		in    string
		want  []E
		retry int64
		err   error
	}{
		{"lf", "data: a\n\ndata: b\n\n", []E{{Data: "a"}, {Data: "b"}}, -1, nil},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []E{{Data: "a"}, {Data: "b"}}, -1, nil},
		{"cr", "data: a\r\rdata: b\r\r", []E{{Data: "a"}, {Data: "b"}}, -1, nil},
		{"mixed line ends", "data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r", []E{{Data: "a\nb\nc"}, {Data: "d"}}, -1, nil},
		{"bom at start", "\xEF\xBB\xBFdata: a\n\n", []E{{Data: "a"}}, -1, nil},
		{"second bom is kept", "\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n", []E{{Data: "b"}}, -1, nil},
		{"one space dropped", "data:  two\n\ndata:none\n\n", []E{{Data: " two"}, {Data: "none"}}, -1, nil},
		{"no colon is an empty field", "data\ndata\n\n", []E{{Data: "\n"}}, -1, nil},
		{"empty data dispatches", "data:\n\n", []E{{Data: ""}}, -1, nil},
		{"field names are case-sensitive", "Data: x\nDATA: y\ndata: z\n\n", []E{{Data: "z"}}, -1, nil},
		{"unknown fields ignored", "foo: bar\ndata: a\nbaz\n\n", []E{{Data: "a"}}, -1, nil},
		{"comments anywhere", ": hi\ndata: a\n: between\ndata: b\n:\n\n", []E{{Data: "a\nb"}}, -1, nil},
		{"data lines joined", "data: {\"a\":\ndata: 1}\n\n", []E{{Data: "{\"a\":\n1}"}}, -1, nil},
		{"dispatch only at blank line", "data: a\ndata: b\n\n", []E{{Data: "a\nb"}}, -1, nil},
		{"event type for one event", "event: error\ndata: x\n\ndata: y\n\n", []E{{Type: "error", Data: "x"}, {Data: "y"}}, -1, nil},
		{"event without data is dropped", "event: ping\n\ndata: y\n\n", []E{{Data: "y"}}, -1, nil},
		{"id persists", "id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", []E{{Data: "a", ID: "7"}, {Data: "b", ID: "7"}, {Data: "c"}}, -1, nil},
		{"id with NUL ignored", "id: 1\ndata: a\n\nid: x\x00y\ndata: b\n\n", []E{{Data: "a", ID: "1"}, {Data: "b", ID: "1"}}, -1, nil},
		{"retry digits only", "retry: 1500\ndata: a\n\nretry: 12x\n\n", []E{{Data: "a"}}, 1500, nil},
		{"utf-8 kept whole", "data: Привет 😀\n\n", []E{{Data: "Привет 😀"}}, -1, nil},
		{"no final blank line", "data: a\n\ndata: b\n", []E{{Data: "a"}}, -1, io.ErrUnexpectedEOF},
		{"cut mid-line", "data: a\n\ndata: b", []E{{Data: "a"}}, -1, io.ErrUnexpectedEOF},
		{"cut after field without data", "data: a\n\nevent: x\n", []E{{Data: "a"}}, -1, io.ErrUnexpectedEOF},
		{"trailing blank lines", "data: a\n\n\n\n", []E{{Data: "a"}}, -1, nil},
		{"empty body", "", nil, -1, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, cut := range cutread.Ways(len(tc.in)) {
				got, retry, err := readEvents([]byte(tc.in), cut, 1<<20)
				if !slices.Equal(got, tc.want) || retry != tc.retry || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
					t.Fatalf("cut at %v:\n got %q retry %d err %v\nwant %q retry %d err %v",
						cut, got, retry, err, tc.want, tc.retry, tc.err)
				}
			}
		})
	}
}

// TestEventStreamLast: after a body that ends inside a line or an event, last hands out
// that event as if its blank line had come.
func TestEventStreamLast(t *testing.T) {
	type E = testEvent
	cases := []struct {
		name string
		in   string
		want *E // nil: no event, io.EOF
	}{
		{"unterminated data line", "data: a\n\ndata: [DONE]", &E{Data: "[DONE]"}},
		{"data line without blank line, LF", "data: [DONE]\n", &E{Data: "[DONE]"}},
		{"data line without blank line, CRLF", "data: [DONE]\r\n", &E{Data: "[DONE]"}},
		{"data line without blank line, CR", "data: [DONE]\r", &E{Data: "[DONE]"}},
		{"several data lines", "data: a\ndata: b", &E{Data: "a\nb"}},
		{"event type kept", "event: error\ndata: x", &E{Type: "error", Data: "x"}},
		{"a BOM and nothing else", "\xEF\xBB\xBFdata: x", &E{Data: "x"}},
		{"unterminated comment", "data: a\n\n: keep-al", nil},
		{"unterminated event line", "data: a\n\nevent: mess", nil},
		{"event line without data", "event: message\n", nil},
		{"a comment after data", "data: x\n: c", &E{Data: "x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, cut := range cutread.Ways(len(tc.in)) {
				var er Reader
				er.Reset(&cutread.Reader{B: []byte(tc.in), Cuts: cut}, 1<<20)
				var err error
				for err == nil {
					_, err = er.Next()
				}
				if err != io.ErrUnexpectedEOF {
					t.Fatalf("cut at %v: next returned %v, want io.ErrUnexpectedEOF", cut, err)
				}
				ev, err := er.Last()
				switch {
				case tc.want == nil && err != io.EOF:
					t.Fatalf("cut at %v: last = %q, %v; want io.EOF", cut, ev.Data, err)
				case tc.want != nil && (err != nil || string(ev.Data) != tc.want.Data || string(ev.Type) != tc.want.Type):
					t.Fatalf("cut at %v: last = type %q data %q, %v; want %+v", cut, ev.Type, ev.Data, err, *tc.want)
				}
				if _, err := er.Next(); err != io.EOF {
					t.Fatalf("cut at %v: after last, next returned %v", cut, err)
				}
			}
		})
	}
}

func TestEventStreamLineLimit(t *testing.T) {
	const max = 1 << 10
	line := "data: " + strings.Repeat("x", max-6) + "\n\n"
	if evs, _, err := readEvents([]byte(line), nil, max); err != nil || len(evs) != 1 {
		t.Fatalf("a line of exactly the limit: %d events, %v", len(evs), err)
	}
	for name, in := range map[string]string{
		"a line":        "data: " + strings.Repeat("x", max) + "\n\n",
		"an event":      strings.Repeat("data: "+strings.Repeat("y", 100)+"\n", 20) + "\n",
		"the last line": "data: " + strings.Repeat("x", max),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := readEvents([]byte(in), nil, max)
			var tooLong *TooLongError
			if !errors.As(err, &tooLong) || tooLong.Limit != max {
				t.Errorf("err = %v, want a *TooLongError naming %d", err, max)
			}
		})
	}
}

// endless is a body made of one line that never ends.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestEventStreamMemoryBoundedByLimit(t *testing.T) {
	const max = 1 << 20
	var er Reader
	body := &endless{}
	er.Reset(io.MultiReader(strings.NewReader("data: "), body), max)
	_, err := er.Next()
	var tooLong *TooLongError
	if !errors.As(err, &tooLong) {
		t.Fatalf("err = %v, want a *TooLongError", err)
	}
	if cap(er.buf) > max+2 || body.n > 2*max {
		t.Fatalf("buffer grew to %d bytes after reading %d, limit %d", cap(er.buf), body.n, max)
	}
}

func TestEventStreamFiveMiBLine(t *testing.T) {
	big := strings.Repeat("ж", 5<<20/2)
	evs, _, err := readEvents([]byte("data: "+big+"\n\n"), nil, 8<<20)
	if err != nil || len(evs) != 1 || evs[0].Data != big {
		t.Fatalf("%d events, %v", len(evs), err)
	}
}

func TestEventStreamDeliversWithoutReadingAhead(t *testing.T) {
	// The reader must hand out an event as soon as its blank line is in, even when the
	// next read would block forever (the pipe has nothing more until the event is out).
	pr, pw := io.Pipe()
	var er Reader
	er.Reset(pr, 1<<20)
	done := make(chan error, 1)
	go func() {
		ev, err := er.Next()
		if err == nil && string(ev.Data) != "a" {
			err = errors.New("wrong data " + string(ev.Data))
		}
		done <- err
	}()
	pw.Write([]byte("data: a\r\r"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	go func() {
		pw.Write([]byte("\ndata: b\n\n")) // the LF closes the CRLF begun by the last CR
		pw.Close()
	}()
	ev, err := er.Next()
	if err != nil || string(ev.Data) != "b" {
		t.Fatalf("second event %q, %v", ev.Data, err)
	}
}
