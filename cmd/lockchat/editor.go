package main

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"golang.org/x/term"
)

// This file is the chat's line editor on a terminal: golang.org/x/term's, which moves
// the cursor (Left, Right, Home, End, Ctrl-A, Ctrl-E), deletes (Backspace, Delete,
// Ctrl-U, Ctrl-K, Ctrl-W), recalls history with Up and Down, and tells a bracketed paste
// from typing. Escape sequences of keys it does not know are dropped, never added to
// the line. The terminal is raw only while a line is read: during an answer it is as
// the user had it, so that Ctrl-C is a signal that stops the answer, as in one-shot
// mode, and an answer's newlines are the terminal's own.

// lineEvent is what the user did at the prompt.
type lineEvent struct {
	line   string
	pasted bool // the line ended at a newline of a bracketed paste

	interrupt bool // Ctrl-C
	hadText   bool // with interrupt: the line held text, which Ctrl-C cleared
	again     bool // with interrupt: the key before it was Ctrl-C too

	err error // io.EOF at the end of input (Ctrl-D on an empty line)
}

// lineInput is where the chat's lines come from: the editor on a terminal that takes raw
// mode, else lines as the terminal driver edits them (plainInput).
type lineInput interface {
	// ask shows prompt and starts reading a line; its event arrives on events.
	ask(prompt string)
	events() <-chan lineEvent
	// say shows a remark of the chat's own while the prompt is on screen, then the
	// prompt again.
	say(text string)
	// close ends the reading. It restores the terminal when a read is under way.
	close()
}

// editor reads lines through term.Terminal, in raw mode, in a goroutine of its own, so
// that the chat can wait for a line and for the end of the command at once. The
// goroutine reads only when asked: between lines, the terminal and its input are left
// to the terminal driver.
type editor struct {
	t       *term.Terminal
	keys    *keyReader
	makeRaw func() (restore func(), err error)
	size    func() (width, height int)
	out     io.Writer

	asks    chan string
	results chan lineEvent
	stop    chan struct{}
	done    chan struct{} // closed when the goroutine ends

	hadText bool // set by the key callback, read after ReadLine, in the goroutine

	mu      sync.Mutex
	restore func() // the raw mode's restore while a line is read, else nil
}

// newEditor starts an editor that reads keys from in and draws on out, with the
// history h (Up and Down recall its lines; the chat records them).
func newEditor(in io.Reader, out io.Writer, h term.History, makeRaw func() (func(), error), size func() (int, int)) *editor {
	e := &editor{
		makeRaw: makeRaw, size: size, out: out,
		asks: make(chan string), results: make(chan lineEvent), stop: make(chan struct{}), done: make(chan struct{}),
	}
	e.keys = &keyReader{r: in}
	e.t = term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{e.keys, out}, promptMarker)
	e.t.History = h
	e.t.AutoCompleteCallback = func(line string, pos int, key rune) (string, int, bool) {
		if key != clearKey {
			return "", 0, false
		}
		e.hadText = line != ""
		return "", 0, true // an empty line, the cursor at its start
	}
	go e.loop()
	return e
}

// loop reads one line per ask until close.
func (e *editor) loop() {
	defer close(e.done)
	for {
		var prompt string
		select {
		case prompt = <-e.asks:
		case <-e.stop:
			return
		}
		ev := e.readLine(prompt)
		select {
		case e.results <- ev:
		case <-e.stop:
			return
		}
	}
}

// readLine reads one line in raw mode with bracketed paste on.
func (e *editor) readLine(prompt string) lineEvent {
	restore, err := e.makeRaw()
	if err != nil {
		return lineEvent{err: fmt.Errorf("lockchat: putting the terminal in raw mode: %w", err)}
	}
	e.mu.Lock()
	e.restore = restore
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.restore = nil
		e.mu.Unlock()
		e.t.SetBracketedPasteMode(false)
		restore()
	}()
	if w, h := e.size(); w > 0 {
		e.t.SetSize(w, h)
	}
	e.t.SetPrompt(prompt)
	e.t.Write(nil) // redraws a prompt already on screen with the new one
	e.t.SetBracketedPasteMode(true)
	e.hadText = false
	line, err := e.t.ReadLine()
	var cc ctrlCError
	switch {
	case err == nil || errors.Is(err, term.ErrPasteIndicator):
		// The line is pasted when its end was: the editor's indicator misses a paste that
		// starts on a line with text.
		return lineEvent{line: stripAll(line), pasted: e.keys.pastedLineEnd()}
	case errors.As(err, &cc):
		return lineEvent{interrupt: true, hadText: e.hadText, again: cc.again}
	case err == io.EOF:
		return lineEvent{err: io.EOF}
	}
	return lineEvent{err: fmt.Errorf("lockchat: reading the terminal: %w", err)}
}

func (e *editor) ask(prompt string)        { e.asks <- prompt }
func (e *editor) events() <-chan lineEvent { return e.results }

// say writes text through the editor, which takes the prompt off the screen, writes
// the text and draws the prompt again. It is called between reads.
func (e *editor) say(text string) { e.t.Write([]byte(text + "\n")) }

// close stops the goroutine once its read returns. When a read is under way (the chat
// leaves on a signal), the terminal is restored now: a read from a terminal cannot be
// cancelled, so that goroutine is left blocked in its read, and the process exits
// right after (see input.go).
func (e *editor) close() {
	close(e.stop)
	e.mu.Lock()
	restore := e.restore
	e.mu.Unlock()
	if restore != nil {
		io.WriteString(e.out, "\x1b[?2004l") // bracketed paste off
		restore()
	}
}
