package main

import (
	"fmt"
	"io"

	"github.com/lockchat/lockchat"
)

// This file prints an answer as text while it streams: the content on standard output,
// and beside it the reasoning, a refusal and the tool calls. On a terminal they are all
// inline on standard output, wrapped at spaces to its width (wrap.go), the reasoning
// dimmed (or labelled where the terminal has no dim text); otherwise standard output gets the content alone, as scripts expect, and
// the rest goes to standard error, labelled.

// ANSI SGR sequences for reasoning.
const (
	dimOn  = "\x1b[2m"
	dimOff = "\x1b[22m"
)

// part is a kind of streamed text.
type part int

const (
	partNone part = iota
	partReasoning
	partContent
	partRefusal
)

// lineWriter writes to w, wrapping the text when wrap is set, remembers whether its
// last text left a line open, and keeps the first write error.
type lineWriter struct {
	w       io.Writer
	wrap    *wrapper // nil: no wrapping
	midLine bool
	err     error
}

// text writes s.
func (l *lineWriter) text(s string) {
	if s == "" {
		return
	}
	if l.wrap != nil {
		l.write(l.wrap.write(s))
		l.midLine = !l.wrap.atLineStart()
		return
	}
	l.write(s)
	l.midLine = s[len(s)-1] != '\n'
}

// raw writes s without counting it as text: an escape sequence of our own. The word
// that wrapping holds goes first.
func (l *lineWriter) raw(s string) {
	if l.wrap != nil {
		l.write(l.wrap.flush())
	}
	l.write(s)
}

// write writes s as it is.
func (l *lineWriter) write(s string) {
	if l.err == nil && s != "" {
		_, l.err = io.WriteString(l.w, s)
	}
}

// endLine ends an open line.
func (l *lineWriter) endLine() {
	if l.midLine {
		l.text("\n")
	}
}

// textOutput prints one answer as text.
type textOutput struct {
	out  *lineWriter // standard output: the content
	side *lineWriter // reasoning, refusals, tool calls: out on a terminal, else standard error

	terminal      bool // standard output is a terminal: strip control sequences from the content
	dim           bool // the terminal shows dim text
	hideReasoning bool

	cur     part
	strip   stripper
	content bool // some content was printed
}

// newTextOutput prints to stdout and stderr; stdout is a terminal when terminal is set,
// and then its text is wrapped to width columns, unless width is 0.
func newTextOutput(stdout, stderr io.Writer, terminal bool, width int, dim, hideReasoning bool) *textOutput {
	o := &textOutput{out: &lineWriter{w: stdout}, terminal: terminal, dim: dim && terminal, hideReasoning: hideReasoning}
	if terminal && width > 0 {
		o.out.wrap = &wrapper{width: width}
	}
	o.side = &lineWriter{w: stderr}
	if terminal {
		o.side = o.out
	}
	return o
}

// chunk prints the text of choice 0 (other choices are printed at the end).
func (o *textOutput) chunk(ch lockchat.Chunk) error {
	for _, c := range ch.Choices {
		if c.Index != 0 {
			continue
		}
		if c.Reasoning != "" && !o.hideReasoning {
			o.write(partReasoning, c.Reasoning)
		}
		if c.Content != "" {
			o.write(partContent, c.Content)
			o.content = true
		}
		if c.Refusal != "" {
			o.write(partRefusal, c.Refusal)
		}
	}
	return o.writeErr()
}

// write prints text of kind p, starting a new run of text when the kind changes.
func (o *textOutput) write(p part, text string) {
	if p != o.cur {
		o.leave()
		o.enter(p)
	}
	if p == partContent && !o.terminal {
		o.out.text(text) // for a script: exactly what the server sent
		return
	}
	o.writerOf(p).text(o.strip.strip(text))
}

// writerOf returns where text of kind p goes.
func (o *textOutput) writerOf(p part) *lineWriter {
	if p == partContent {
		return o.out
	}
	return o.side
}

// enter starts a run of text of kind p.
func (o *textOutput) enter(p part) {
	o.cur = p
	o.strip.reset()
	switch {
	case p == partReasoning && o.dim:
		o.side.raw(dimOn)
	case p == partReasoning:
		o.side.text("reasoning: ")
	case p == partRefusal:
		o.side.text("refusal: ")
	}
}

// leave ends the current run of text. Reasoning on a terminal is set apart from what
// follows by a blank line.
func (o *textOutput) leave() {
	w := o.writerOf(o.cur)
	switch o.cur {
	case partNone:
		return
	case partReasoning:
		if o.dim {
			o.side.raw(dimOff)
		}
		w.endLine()
		if o.terminal {
			w.text("\n")
		}
	case partRefusal:
		w.endLine()
	case partContent:
		if o.terminal {
			w.endLine()
		}
	}
	o.cur = partNone
}

// end finishes the answer: it ends the open line, then prints the tool calls, how the
// answer finished when that is worth saying, and the choices other than 0.
func (o *textOutput) end(c lockchat.Completion, err error) error {
	o.leave()
	if !o.terminal && (o.content || err == nil) {
		o.out.text("\n") // a script's answer ends with one newline, as it always has
	}
	for _, ch := range c.Choices {
		if ch.Index != 0 {
			// Only choice 0 streamed; another is shown whole, labelled.
			o.side.endLine()
			o.side.text(fmt.Sprintf("choice %d: %s", ch.Index, stripAll(ch.Message.Content)))
			o.side.endLine()
			if ch.Message.Refusal != "" {
				o.side.text("refusal: " + stripAll(ch.Message.Refusal) + "\n")
			}
		}
		for _, tc := range ch.Message.ToolCalls {
			line := fmt.Sprintf("tool call %s %s", stripAll(tc.Name), stripAll(tc.Arguments))
			if err != nil {
				line += " (incomplete: the answer was cut short)"
			}
			o.side.text(line + "\n")
		}
		if note := finishNote(ch.FinishReason); note != "" && err == nil {
			o.side.text(note + "\n")
		}
	}
	return o.writeErr()
}

// writeErr returns the first write error, if any.
func (o *textOutput) writeErr() error {
	if o.out.err != nil {
		return fmt.Errorf("lockchat: writing the answer: %w", o.out.err)
	}
	if o.side.err != nil {
		return fmt.Errorf("lockchat: writing the answer: %w", o.side.err)
	}
	return nil
}

// finishNote says how an answer ended when that changes how to read it.
func finishNote(reason string) string {
	switch reason {
	case "", "stop", "tool_calls", "function_call":
		return ""
	case "length":
		return "[cut off: the answer reached the token limit (finish reason \"length\")]"
	case "content_filter":
		return "[stopped by the server's content filter (finish reason \"content_filter\")]"
	}
	return fmt.Sprintf("[finish reason %q]", stripAll(reason))
}

// dimmed returns text dim when dim is set.
func dimmed(dim bool, text string) string {
	if dim {
		return dimOn + text + dimOff
	}
	return text
}

// note prints a remark of the chat's own (not the model's) on w: dim on a terminal that
// shows it.
func note(w io.Writer, dim bool, text string) {
	io.WriteString(w, dimmed(dim, text)+"\n")
}
