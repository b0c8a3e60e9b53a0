package main

import (
	"bytes"
	"io"
)

// This file passes the bytes from the terminal to the line editor, with two changes.
// golang.org/x/term's editor takes Ctrl-C for the end of input, as it takes Ctrl-D, and
// keeps the line's text for the next read: the chat wants Ctrl-C to clear a line that
// holds text, and to say how to leave on an empty one. And the editor knows Home, End
// and the arrows by one spelling each, where terminals send several (tmux's Home is
// ESC [ 1 ~; in application mode the arrows are ESC O A…): the others are given the
// editor's spelling, so that they work rather than being dropped, or worse, ESC O
// dropped and the letter after it typed.

const (
	ctrlC = 0x03
	// clearKey stands in for Ctrl-C in what the editor reads. The editor has no use for
	// Ctrl-X, so it hands the key to its callback, which clears the line and notes whether
	// it held text (see editor.go); a Ctrl-X the user types is dropped.
	clearKey = 0x18
)

// Bracketed paste markers: the terminal sends a paste between them, and a Ctrl-C byte
// inside a paste is text, not a key.
var (
	pasteStart = []byte("\x1b[200~")
	pasteEnd   = []byte("\x1b[201~")
)

// keyAlias is another spelling, from, of a key the editor knows as to, which is no longer.
type keyAlias struct{ from, to string }

// keyAliases are the spellings the editor does not know.
var keyAliases = []keyAlias{
	{"\x1bOA", "\x1b[A"}, {"\x1bOB", "\x1b[B"}, {"\x1bOC", "\x1b[C"}, {"\x1bOD", "\x1b[D"}, // arrows
	{"\x1bOH", "\x1b[H"}, {"\x1b[1~", "\x1b[H"}, {"\x1b[7~", "\x1b[H"}, // Home
	{"\x1bOF", "\x1b[F"}, {"\x1b[4~", "\x1b[F"}, {"\x1b[8~", "\x1b[F"}, // End
	{"\x1b[1;5C", "\x1b[1;3C"}, {"\x1b[1;5D", "\x1b[1;3D"}, // Ctrl-Right, Ctrl-Left: a word, as Alt does
}

// ctrlCError is the read error that ends the editor's ReadLine at a Ctrl-C.
type ctrlCError struct {
	// again: the byte before this Ctrl-C was a Ctrl-C too.
	again bool
}

func (ctrlCError) Error() string { return "lockchat: Ctrl-C" }

// keyReader passes bytes from the terminal r to the editor. A Ctrl-C outside a paste
// becomes clearKey, and the read that delivers it returns ctrlCError, so that the
// editor handles the key, then returns from ReadLine; the bytes after it wait for the
// next read. It notes whether each line end it passes on was pasted: the editor's own
// paste indicator is only for a line pasted whole, and a paste may start on a line with
// text. Outside a paste, keyAliases are replaced; a sequence split between two
// reads of the terminal, or longer than the reader's buffer, is passed on as it is, and
// the editor drops it.
type keyReader struct {
	r       io.Reader
	buf     [256]byte
	pending []byte // read from r, not yet passed on
	err     error  // r's error, returned once pending is empty, and from then on

	window    []byte // the last bytes seen, to find the paste markers in
	inPaste   bool
	lastCtrlC bool   // the last byte passed on was a Ctrl-C
	lineEnds  []bool // for each line end passed on and not yet asked about: whether it was pasted
}

// Read passes on pending bytes up to and including the first Ctrl-C outside a paste.
func (k *keyReader) Read(p []byte) (int, error) {
	if len(k.pending) == 0 {
		if k.err != nil {
			return 0, k.err
		}
		n, err := k.r.Read(k.buf[:])
		k.pending, k.err = k.buf[:n], err
		if n == 0 {
			return 0, err
		}
	}
	n := 0
	for len(k.pending) > 0 && n < len(p) {
		b := k.pending[0]
		k.pending = k.pending[1:]
		k.window = append(k.window, b)
		if len(k.window) > len(pasteStart) {
			k.window = k.window[1:]
		}
		switch {
		case bytes.Equal(k.window, pasteStart):
			k.inPaste = true
		case bytes.Equal(k.window, pasteEnd):
			k.inPaste = false
		}
		if k.inPaste {
			n = k.pass(p, n, b)
			continue
		}
		if b == 0x1b {
			alias, ok := k.alias()
			switch {
			case ok && n+len(alias.to) <= len(p):
				n += copy(p[n:], alias.to)
				k.pending = k.pending[len(alias.from)-1:]
				k.window = k.window[:0]
				k.lastCtrlC = false
				continue
			case ok && n > 0:
				k.pending = append([]byte{b}, k.pending...) // no room left: the next read
				return n, nil
			}
			// Not an alias, or p is too small for its replacement: passed on as it is.
		}
		switch b {
		case ctrlC:
			p[n] = clearKey
			again := k.lastCtrlC
			k.lastCtrlC = true
			return n + 1, ctrlCError{again: again}
		case clearKey:
			// dropped: it stands for Ctrl-C
			k.lastCtrlC = false
		default:
			n = k.pass(p, n, b)
		}
	}
	return n, nil
}

// pass puts b in p at n, noting a line end, and returns the new length. A CR is a line
// end, and so is an LF, but for one right after a CR in the same read, which the editor
// takes as part of it.
func (k *keyReader) pass(p []byte, n int, b byte) int {
	if b == '\r' || (b == '\n' && (n == 0 || p[n-1] != '\r')) {
		k.lineEnds = append(k.lineEnds, k.inPaste)
	}
	p[n] = b
	k.lastCtrlC = false
	return n + 1
}

// pastedLineEnd reports whether the oldest line end not yet asked about was in a paste:
// the editor asks once for each line it returns, in order.
func (k *keyReader) pastedLineEnd() bool {
	if len(k.lineEnds) == 0 {
		return false
	}
	pasted := k.lineEnds[0]
	k.lineEnds = k.lineEnds[1:]
	return pasted
}

// alias returns the key alias that starts with the ESC just taken from pending.
func (k *keyReader) alias() (keyAlias, bool) {
	for _, a := range keyAliases {
		if bytes.HasPrefix(k.pending, []byte(a.from[1:])) {
			return a, true
		}
	}
	return keyAlias{}, false
}
