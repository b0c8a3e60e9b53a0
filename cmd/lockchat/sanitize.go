package main

import "strings"

// This file keeps server-supplied text from driving the terminal: a model's answer, its
// reasoning or a server's error message could otherwise move the cursor, rewrite what is
// already on screen, change the window title or hide a link behind other text.

// stripper removes control characters and escape sequences from text bound for a
// terminal, keeping newlines and tabs. It keeps its state between calls, so that a
// sequence split across two chunks ("\x1b[" then "31m") is removed whole.
//
// What goes: every C0 control but newline and tab, DEL, every C1 control (U+0080 to
// U+009F), ESC with the one character after it, and a whole CSI sequence (ESC [ with its
// parameter and intermediate bytes and its final byte). The text inside other sequences
// (an OSC's title or link, say) stays, as plain and harmless text: showing it is more
// honest than hiding it, and a sequence that never ends cannot swallow the answer.
type stripper struct {
	state stripState
}

type stripState int

const (
	plain    stripState = iota
	afterESC            // ESC was seen
	inCSI               // inside ESC [ … (waiting for the final byte)
)

// strip returns text without control characters and escape sequences.
func (s *stripper) strip(text string) string {
	// The common case: nothing to remove, nothing pending.
	if s.state == plain && clean(text) {
		return text
	}
	var b strings.Builder
	for _, r := range text {
		switch s.state {
		case afterESC:
			s.state = plain
			if r == '[' {
				s.state = inCSI
				continue
			}
			if r >= 0x20 && r <= 0x7e {
				continue // the character a two-character sequence ends with
			}
			// Anything else ends the sequence and is read as text below.
		case inCSI:
			if r >= 0x20 && r <= 0x3f {
				continue // parameter and intermediate bytes
			}
			s.state = plain
			if r >= 0x40 && r <= 0x7e {
				continue // the final byte
			}
			// A byte no CSI sequence holds ends it and is read as text below.
		}
		switch {
		case r == 0x1b:
			s.state = afterESC
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			// a control character: dropped
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// reset forgets a sequence left open, when the text it was in has ended.
func (s *stripper) reset() { s.state = plain }

// clean reports whether text holds nothing strip would remove.
func clean(text string) bool {
	for _, r := range text {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return false
		}
	}
	return true
}

// stripAll returns text without control characters and escape sequences: for a whole
// piece of text such as an error message or a tool call's name.
func stripAll(text string) string {
	var s stripper
	return s.strip(text)
}
