package lockchat

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the small JSON scanner the fast walker of decode.go reads a chunk
// with: it steps over values without allocating and validates everything it skips by the
// JSON grammar (RFC 8259). What the walker does not handle (escaped or repeated keys,
// deep nesting, any syntax error) it declines with errSlow, and the decoder falls back
// to encoding/json, which is the authority on every input.

// errSlow reports that the fast path declined an input; it never reaches a caller.
var errSlow = errors.New("lockchat: fast path declined")

const maxFastDepth = 32

type scanner struct {
	b   []byte
	i   int
	err bool // a syntax error was met
}

func (s *scanner) ws() {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return // the common case: compact JSON
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// member moves to the next member of an object whose '{' was read, and returns its key
// without quotes, positioned at the value. At the object's '}' it returns end. On a
// syntax error, or a key with an escape, it sets s.err and returns a nil key (end is
// true on a syntax error).
func (s *scanner) member(first bool) (key []byte, end bool) {
	s.ws()
	if first {
		if s.byte('}') {
			return nil, true
		}
	} else if !s.byte(',') {
		if !s.byte('}') {
			s.err = true
		}
		return nil, true
	}
	s.ws()
	q, esc := s.str()
	if q == nil {
		s.err = true
		return nil, true
	}
	s.ws()
	if !s.byte(':') {
		s.err = true
		return nil, true
	}
	s.ws()
	if esc {
		return nil, false
	}
	return q[1 : len(q)-1], false
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) byte(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// value scans one value and returns its bytes, or nil if it is not valid JSON.
func (s *scanner) value(depth int) []byte {
	if s.i >= len(s.b) || depth > maxFastDepth {
		return nil
	}
	start := s.i
	switch c := s.b[s.i]; {
	case c == '"':
		v, _ := s.str()
		return v
	case c == '{':
		s.i++
		for first := true; ; first = false {
			key, end := s.member(first)
			if end {
				if s.err {
					return nil
				}
				break
			}
			_ = key // a key with an escape is fine when the value is skipped
			if s.value(depth+1) == nil {
				return nil
			}
		}
	case c == '[':
		s.i++
		s.ws()
		if !s.byte(']') {
			for {
				s.ws()
				if s.value(depth+1) == nil {
					return nil
				}
				s.ws()
				if s.byte(',') {
					continue
				}
				if s.byte(']') {
					break
				}
				return nil
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		if !s.number() {
			return nil
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return nil
	}
	return s.b[start:s.i]
}

func (s *scanner) literal(lit string) []byte {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return s.b[s.i-len(lit) : s.i]
	}
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

func (s *scanner) number() bool {
	s.byte('-')
	if s.byte('0') {
		// A leading zero stands alone.
	} else if s.digits() == 0 {
		return false
	}
	if s.byte('.') && s.digits() == 0 {
		return false
	}
	if s.byte('e') || s.byte('E') {
		if !s.byte('+') {
			s.byte('-')
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

// str scans a string literal and returns it with its quotes, and whether it holds a
// backslash escape. It returns nil for an invalid literal.
func (s *scanner) str() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i - 1
	esc := false
	b := s.b
	i := s.i
	for {
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			s.i = i
			return nil, false
		}
		switch b[i] {
		case '"':
			s.i = i + 1
			return b[start : i+1], esc
		case '\\':
			esc = true
			if i+1 >= len(b) {
				return nil, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return nil, false
				}
				i += 6
			default:
				return nil, false
			}
		default: // a control character
			return nil, false
		}
	}
}

// plain[c] is true for the bytes a JSON string holds as they are: all but the quote,
// the backslash and control characters.
var plain = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if hexVal(c) < 0 {
			return false
		}
	}
	return true
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// appendUnquoted appends the value of the JSON string literal q (with its quotes, already
// validated) to dst. Invalid UTF-8 and lone surrogates become U+FFFD, as encoding/json
// does, except at the edges: a lone low surrogate escape at the very start is returned in
// lo and a lone high surrogate escape at the very end in hi, unwritten, so that a caller
// can join a surrogate pair split between two strings.
func appendUnquoted(dst, q []byte) (out []byte, lo, hi rune) {
	q = q[1 : len(q)-1]
	for i := 0; i < len(q); {
		c := q[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(q[i:])
			dst = utf8.AppendRune(dst, r) // RuneError for invalid bytes, one per byte
			i += n
			continue
		}
		if c != '\\' {
			// Copy the run of plain ASCII up to the next escape or multi-byte rune.
			j := i + 1
			for j < len(q) && q[j] != '\\' && q[j] < utf8.RuneSelf {
				j++
			}
			dst = append(dst, q[i:j]...)
			i = j
			continue
		}
		e := q[i+1]
		i += 2
		switch e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(q[i:])
			i += 4
			switch {
			case utf16.IsSurrogate(r) && r < 0xDC00:
				if i+6 <= len(q) && q[i] == '\\' && q[i+1] == 'u' {
					if r2 := hex4(q[i+2:]); r2 >= 0xDC00 && r2 <= 0xDFFF {
						dst = utf8.AppendRune(dst, utf16.DecodeRune(r, r2))
						i += 6
						continue
					}
				}
				if i == len(q) {
					hi = r
					continue
				}
				dst = utf8.AppendRune(dst, utf8.RuneError)
			case utf16.IsSurrogate(r):
				if i == 6 {
					lo = r
					continue
				}
				dst = utf8.AppendRune(dst, utf8.RuneError)
			default:
				dst = utf8.AppendRune(dst, r)
			}
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
	}
	return dst, lo, hi
}

func hex4(b []byte) rune {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

// unquoteJSON returns the value of a JSON string literal, with any lone surrogate as
// U+FFFD. It fails if raw is not a valid string literal.
func unquoteJSON(raw []byte) (string, error) {
	s := scanner{b: raw}
	q, _ := s.str()
	if q == nil || s.i != len(raw) {
		return "", errNotString
	}
	b, lo, hi := appendUnquoted(nil, q)
	if lo != 0 || hi != 0 {
		b = joinSurrogates(b, lo, hi)
	}
	return string(b), nil
}

var errNotString = errors.New("not a JSON string")

// joinSurrogates writes the lone surrogates appendUnquoted held back as U+FFFD: lo before
// b and hi after it.
func joinSurrogates(b []byte, lo, hi rune) []byte {
	if lo != 0 {
		b = append([]byte("\uFFFD"), b...)
	}
	if hi != 0 {
		b = utf8.AppendRune(b, utf8.RuneError)
	}
	return b
}
