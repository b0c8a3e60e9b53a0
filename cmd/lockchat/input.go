package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// This file reads what the user sends: the one-shot prompt from standard input, and the
// chat's lines where the line editor (editor.go) cannot run, joined into messages.
//
// Standard input is read by a goroutine, so that waiting for it can be cut short by
// Ctrl-C. A read from a terminal or a pipe cannot be cancelled, so when the command
// leaves early that goroutine is left blocked in its read; the process exits right
// after. Every other way out ends it.

// maxInput bounds the prompt read from standard input.
const maxInput = 32 << 20

// stdinRead is standard input being read to its end in the background.
type stdinRead struct {
	// started is closed when the first read returns, with data or with the end.
	started chan struct{}
	// done receives the text, or why there is none.
	done chan stdinResult
}

type stdinResult struct {
	text string
	err  error
}

// readStdin starts reading r to its end.
func readStdin(r io.Reader) *stdinRead {
	rd := &stdinRead{started: make(chan struct{}), done: make(chan stdinResult, 1)}
	go func() {
		var buf bytes.Buffer
		p := make([]byte, 32<<10)
		started := false
		for {
			n, err := r.Read(p)
			buf.Write(p[:n])
			if !started && (n > 0 || err != nil) {
				close(rd.started)
				started = true
			}
			switch {
			case buf.Len() > maxInput:
				rd.done <- stdinResult{err: fmt.Errorf("lockchat: standard input is larger than %d MiB; nothing was sent", maxInput>>20)}
				return
			case err == io.EOF:
				rd.done <- stdinResult{text: buf.String()}
				return
			case err != nil:
				rd.done <- stdinResult{err: fmt.Errorf("lockchat: reading standard input: %w", err)}
				return
			}
		}
	}()
	return rd
}

// checkText refuses input that is not UTF-8 text: sent as it is, every bad byte would
// reach the model as U+FFFD.
func checkText(what, text string) error {
	if utf8.ValidString(text) {
		return nil
	}
	return fmt.Errorf("lockchat: %s is not UTF-8 text (at byte %d); nothing was sent", what, firstInvalid(text))
}

// firstInvalid returns the offset of the first byte of s that is not UTF-8.
func firstInvalid(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return len(s)
}

// joinPrompt is what one-shot mode sends: the arguments, a blank line, then standard
// input; either alone when the other is empty. Standard input loses its trailing white
// space and leading blank lines, not the indentation of its first line.
func joinPrompt(args, stdin string) string {
	if args == "" {
		return strings.TrimSpace(stdin)
	}
	stdin = trimBlankLines(stdin)
	if stdin == "" {
		return args
	}
	return args + "\n\n" + stdin
}

// trimBlankLines drops the blank lines before the first line of text and the white
// space after the last, and keeps the first line's indentation.
func trimBlankLines(s string) string {
	s = strings.TrimRight(s, " \t\r\n")
	for {
		line, rest, ok := strings.Cut(s, "\n")
		if !ok || strings.TrimSpace(line) != "" {
			return s
		}
		s = rest
	}
}

// plainInput is the chat's input where the line editor cannot run (a terminal that
// refuses raw mode, or a test): lines as the terminal driver edits them, delivered by a
// goroutine so that the chat can wait for a line and for Ctrl-C at once. It reads one
// line ahead at most.
type plainInput struct {
	out   io.Writer // where the prompt goes
	lines chan lineEvent
	stop  chan struct{}
}

// newPlainInput starts reading r line by line; prompts go to out.
func newPlainInput(r io.Reader, out io.Writer) *plainInput {
	in := &plainInput{out: out, lines: make(chan lineEvent), stop: make(chan struct{})}
	go func() {
		br := bufio.NewReader(r)
		for {
			s, err := br.ReadString('\n')
			var ev lineEvent
			switch {
			case s != "":
				ev.line = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
			case err != nil:
				ev.err = err
			default:
				continue
			}
			select {
			case in.lines <- ev:
			case <-in.stop:
				return
			}
			if ev.err != nil {
				return
			}
		}
	}()
	return in
}

func (in *plainInput) ask(prompt string)        { io.WriteString(in.out, prompt) }
func (in *plainInput) events() <-chan lineEvent { return in.lines }

// say ends the line the terminal driver echoed ^C on, and writes text.
func (in *plainInput) say(text string) { io.WriteString(in.out, "\n"+text+"\n") }

// close ends the goroutine once its read returns.
func (in *plainInput) close() { close(in.stop) }

// composer joins the lines of a chat into messages, as ollama does: a line ending in a
// backslash goes on with the next line, and the lines between one that starts with """
// and one that ends with """ are one message.
type composer struct {
	lines []string
	mode  composeMode
}

type composeMode int

const (
	single      composeMode = iota // no message under way
	continued                      // the last line ended in a backslash
	tripleQuote                    // inside """ … """
)

const quotes = `"""`

// add takes one line. It returns the message when the line completes one.
func (c *composer) add(line string) (message string, complete bool) {
	switch c.mode {
	case single:
		if rest, ok := strings.CutPrefix(line, quotes); ok {
			if text, ok := strings.CutSuffix(rest, quotes); ok {
				return text, true // """one line"""
			}
			c.mode = tripleQuote
			if rest != "" {
				c.lines = append(c.lines, rest)
			}
			return "", false
		}
	case tripleQuote:
		if text, ok := strings.CutSuffix(line, quotes); ok {
			if text != "" {
				c.lines = append(c.lines, text)
			}
			return c.finish(), true
		}
		c.lines = append(c.lines, line)
		return "", false
	}
	// single or continued
	if text, ok := strings.CutSuffix(line, `\`); ok {
		c.mode = continued
		c.lines = append(c.lines, text)
		return "", false
	}
	c.lines = append(c.lines, line)
	return c.finish(), true
}

// addPasted takes the lines of a paste into the message under way, as they are.
func (c *composer) addPasted(lines []string) { c.lines = append(c.lines, lines...) }

// pending reports whether a message is under way.
func (c *composer) pending() bool { return c.mode != single }

// reset drops the message under way.
func (c *composer) reset() { c.lines, c.mode = nil, single }

// finish returns the message under way and starts afresh.
func (c *composer) finish() string {
	msg := strings.Join(c.lines, "\n")
	c.reset()
	return msg
}

// errUnfinished reports input that ended inside a multi-line message.
var errUnfinished = errors.New(`lockchat: the input ended inside a multi-line message; it was not sent`)
