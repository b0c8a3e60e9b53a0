package lockchat

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// This file turns what a server sent into text an error can quote: JSON values as Go
// strings, and bounded excerpts of bodies.

// excerptLimit bounds every piece of a response body quoted in an error.
const excerptLimit = 256

// cutMark ends an excerpt that was cut short.
const cutMark = "…"

// textOf returns raw's value if it is a JSON string, else a bounded excerpt of raw.
func textOf(raw []byte) string {
	if s, err := unquoteJSON(raw); err == nil {
		return s
	}
	return excerpt(raw)
}

// jsonText returns a JSON string's value, a number's or boolean's text, a bounded
// excerpt of an object or array, and "" for null or absent values.
func jsonText(raw json.RawMessage) string {
	if isNull(raw) {
		return ""
	}
	switch raw[0] {
	case '"':
		s, _ := unquoteJSON(raw)
		return s
	case '{', '[':
		return excerpt(raw)
	}
	return string(raw)
}

// jsonString returns a JSON string's value, or "" for anything else.
func jsonString(raw []byte) string {
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	s, _ := unquoteJSON(raw)
	return s
}

func isNull(raw []byte) bool { return len(raw) == 0 || string(raw) == "null" }

// excerpt returns at most excerptLimit bytes of b as valid UTF-8 with white space folded,
// marking a cut with cutMark.
func excerpt(b []byte) string {
	cut := false
	if len(b) > excerptLimit {
		b, cut = b[:excerptLimit], true
		// Drop a rune the cut split in two rather than quote half of it.
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "\uFFFD")), " ")
	if cut {
		s += cutMark
	}
	return s
}
