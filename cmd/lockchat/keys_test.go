package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// readKeys reads everything a keyReader passes on from input, a few bytes at a time,
// and the Ctrl-C errors on the way ("!" for a Ctrl-C, "!!" for one right after another).
func readKeys(t *testing.T, input string, chunk int) (passed, ctrlCs string) {
	t.Helper()
	k := &keyReader{r: strings.NewReader(input)}
	var out, marks strings.Builder
	p := make([]byte, chunk)
	for range 1000 {
		n, err := k.Read(p)
		out.Write(p[:n])
		var cc ctrlCError
		switch {
		case errors.As(err, &cc):
			marks.WriteString("!")
			if cc.again {
				marks.WriteString("!")
			}
			marks.WriteString(" ")
		case err == io.EOF:
			return out.String(), marks.String()
		case err != nil:
			t.Fatal(err)
		}
	}
	t.Fatal("the reader never reached the end")
	return "", ""
}

func TestKeyReader(t *testing.T) {
	cases := []struct {
		name, input, passed, ctrlCs string
	}{
		{"plain text", "hello\r", "hello\r", ""},
		{"Ctrl-C becomes the clear key", "ab\x03cd", "ab\x18cd", "! "},
		{"Ctrl-C twice", "\x03\x03x\x03", "\x18\x18x\x18", "! !! ! "},
		{"a typed Ctrl-X is dropped", "a\x18b", "ab", ""},
		{"Ctrl-C inside a paste is text", "\x1b[200~a\x03b\x1b[201~\x03", "\x1b[200~a\x03b\x1b[201~\x18", "! "},
		{"Home and End as tmux sends them", "\x1b[1~x\x1b[4~", "\x1b[Hx\x1b[F", ""},
		{"arrows in application mode", "\x1bOA\x1bOD", "\x1b[A\x1b[D", ""},
		{"Ctrl-Left is a word left", "\x1b[1;5D", "\x1b[1;3D", ""},
		{"aliases are not read inside a paste", "\x1b[200~\x1bOA\x1b[201~", "\x1b[200~\x1bOA\x1b[201~", ""},
	}
	for _, tc := range cases {
		for _, chunk := range []int{1, 3, 256} {
			passed, ctrlCs := readKeys(t, tc.input, chunk)
			if chunk < 6 && tc.passed != tc.input && !strings.Contains(tc.input, "\x03") {
				continue // an alias with no room is passed on as it is: see below
			}
			if passed != tc.passed || ctrlCs != tc.ctrlCs {
				t.Errorf("%s, reads of %d: passed %q and %q, want %q and %q", tc.name, chunk, passed, ctrlCs, tc.passed, tc.ctrlCs)
			}
		}
	}
	// A reader whose buffer is too small for a replacement gets the sequence as it came,
	// never part of one.
	if passed, _ := readKeys(t, "\x1b[1~", 2); passed != "\x1b[1~" {
		t.Errorf("reads of 2: passed %q", passed)
	}
}
