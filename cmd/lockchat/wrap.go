package main

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// This file breaks an answer into lines that fit the terminal, at spaces, as it
// streams: a word is held until the space or newline after it shows where it ends, and
// then goes on the current line if it fits, else on the next one. A word longer than a
// whole line is broken where the line ends. Widths are in terminal columns: two for
// East Asian wide and fullwidth characters (CJK, most emoji), none for combining marks
// and other characters that take no column of their own.

// wrapper is the state of one answer's wrapping.
type wrapper struct {
	width int // columns; at least 1

	col       int             // columns taken on the current line
	word      strings.Builder // the word being held
	wordCols  int
	softBreak bool // the line was just broken at a space: the spaces after it are dropped
}

// write takes text and returns what can be written now.
func (w *wrapper) write(text string) string {
	var out strings.Builder
	for _, r := range text {
		switch r {
		case '\n':
			w.flushTo(&out)
			out.WriteByte('\n')
			w.col, w.softBreak = 0, false
		case ' ', '\t':
			w.flushTo(&out)
			if w.softBreak {
				continue
			}
			cols := 1
			if r == '\t' {
				cols = 8 - w.col%8 // to the next tab stop
			}
			if w.col+cols > w.width {
				out.WriteByte('\n') // the space becomes the line's end
				w.col, w.softBreak = 0, true
				continue
			}
			out.WriteRune(r)
			w.col += cols
		default:
			w.word.WriteRune(r)
			w.wordCols += runeWidth(r)
			if w.col > 0 && w.col+w.wordCols > w.width {
				out.WriteByte('\n') // the word goes on the next line
				w.col = 0
			}
			for w.wordCols > w.width {
				w.breakWord(&out) // longer than a whole line
			}
		}
	}
	return out.String()
}

// flush returns the word being held, for the end of a piece of text.
func (w *wrapper) flush() string {
	var out strings.Builder
	w.flushTo(&out)
	return out.String()
}

// atLineStart reports whether nothing is written or held on the current line.
func (w *wrapper) atLineStart() bool { return w.col == 0 && w.word.Len() == 0 }

// flushTo writes the word being held.
func (w *wrapper) flushTo(out *strings.Builder) {
	if w.word.Len() == 0 {
		return
	}
	out.WriteString(w.word.String())
	w.col += w.wordCols
	w.word.Reset()
	w.wordCols = 0
	w.softBreak = false
}

// breakWord writes as much of the held word as fills a line (at least one character),
// then a newline, and keeps the rest. The word starts a line.
func (w *wrapper) breakWord(out *strings.Builder) {
	word := w.word.String()
	cols, cut := 0, 0
	for i, r := range word {
		rw := runeWidth(r)
		if cut > 0 && cols+rw > w.width {
			break
		}
		cols += rw
		cut = i + utf8.RuneLen(r)
	}
	out.WriteString(word[:cut])
	out.WriteByte('\n')
	w.col, w.softBreak = 0, false
	w.word.Reset()
	w.word.WriteString(word[cut:])
	w.wordCols -= cols
}

// runeWidth returns the columns r takes on a terminal.
func runeWidth(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0 // combining marks, zero-width joiners, variation selectors…
	case r < 0x20 || r == 0x7f:
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}
