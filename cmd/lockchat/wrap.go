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

	col       int             // columns written on the current line
	spaces    strings.Builder // the spaces after the last word written, held: a break drops them
	spaceCols int
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
			w.dropSpaces()
			out.WriteByte('\n')
			w.col, w.softBreak = 0, false
		case ' ', '\t':
			w.flushTo(&out)
			if w.softBreak {
				continue
			}
			cols := 1
			if r == '\t' {
				cols = 8 - (w.col+w.spaceCols)%8 // to the next tab stop
			}
			if w.col+w.spaceCols+cols > w.width {
				w.lineBreak(&out) // the spaces end the line
				w.softBreak = true
				continue
			}
			w.spaces.WriteRune(r)
			w.spaceCols += cols
		default:
			w.word.WriteRune(r)
			w.wordCols += runeWidth(r)
			if w.col > 0 && w.col+w.spaceCols+w.wordCols > w.width {
				w.lineBreak(&out) // the word goes on the next line
			}
			for w.wordCols > w.width {
				w.breakWord(&out) // longer than a whole line
			}
		}
	}
	return out.String()
}

// flush returns what is held, for the end of a piece of text.
func (w *wrapper) flush() string {
	var out strings.Builder
	w.flushTo(&out)
	out.WriteString(w.spaces.String())
	w.col += w.spaceCols
	w.dropSpaces()
	return out.String()
}

// atLineStart reports whether nothing is written or held on the current line.
func (w *wrapper) atLineStart() bool {
	return w.col == 0 && w.word.Len() == 0 && w.spaces.Len() == 0
}

// flushTo writes the spaces and the word being held.
func (w *wrapper) flushTo(out *strings.Builder) {
	if w.word.Len() == 0 {
		return
	}
	out.WriteString(w.spaces.String())
	out.WriteString(w.word.String())
	w.col += w.spaceCols + w.wordCols
	w.dropSpaces()
	w.word.Reset()
	w.wordCols = 0
	w.softBreak = false
}

// lineBreak ends the line, dropping the spaces held.
func (w *wrapper) lineBreak(out *strings.Builder) {
	out.WriteByte('\n')
	w.dropSpaces()
	w.col = 0
}

// dropSpaces forgets the spaces held.
func (w *wrapper) dropSpaces() {
	w.spaces.Reset()
	w.spaceCols = 0
}

// breakWord writes as much of the held word as fills a line (at least one character)
// and keeps the rest, on the next line. The word starts a line.
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
	out.WriteString(w.spaces.String() + word[:cut])
	w.word.Reset()
	w.word.WriteString(word[cut:])
	w.wordCols -= cols
	if w.word.Len() == 0 {
		w.col += cols // one rune wider than the line, alone
		w.dropSpaces()
		return
	}
	w.lineBreak(out)
	w.softBreak = false
}

// runeWidth returns the columns r takes on a terminal.
func runeWidth(r rune) int {
	switch {
	case r >= 0x20 && r < 0x7f:
		return 1 // printable ASCII, most of most answers
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
