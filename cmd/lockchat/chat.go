package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lockchat/lockchat"
)

// This file is the interactive chat: the prompt, the slash commands, and the
// conversation sent with each message.

const (
	promptMarker       = ">>> "
	continuationMarker = "... "
)

const chatHelp = `Commands:
  /bye           leave (Ctrl-D on an empty line does too)
  /clear         forget the conversation (the system message stays)
  /system TEXT   set the system message; /system alone shows it
  /model NAME    switch to another model; /model alone shows it
  /models        list the server's models
  /retry         ask the last question again, forgetting its answer
  /save FILE     save the conversation to FILE, as JSON
  /load FILE     continue the conversation saved in FILE
  /help          this list
A line ending in \\ goes on on the next line; lines between """ and """ are one message;
a paste is one message, sent when you press Enter.
Start a line with a space to send text that begins with /.
Keys: Left, Right, Home, End (Ctrl-A, Ctrl-E), Backspace, Delete, Ctrl-U and Ctrl-K
(delete to the start, to the end), Ctrl-W (delete a word), Up and Down (history).
Ctrl-C stops an answer; at the prompt it clears the line, and twice on an empty line leaves.
`

// noToolsResult is the tool result the conversation records for a call the model made:
// servers reject a conversation whose tool calls have no results.
const noToolsResult = "lockchat runs no tools: this call was not run."

// leaveHint is what Ctrl-C on an empty line says.
const leaveHint = "(/bye or Ctrl-D leaves; so does Ctrl-C again)"

// chat is one interactive conversation.
type chat struct {
	s       *session
	system  string             // the system message, "" for none
	history []lockchat.Message // the conversation after the system message
	lines   *history           // the typed lines, for the editor; nil without it

	// lastQuestion is the last message asked, and lastStart the length of the history
	// before it, for /retry.
	lastQuestion string
	lastStart    int
	asked        bool
}

// newChat starts a conversation: the one -load read, if any, with -system's message
// over its own.
func newChat(s *session) *chat {
	c := &chat{s: s}
	if s.set.loaded != nil {
		c.setConversation(s.set.loaded)
	}
	if s.set.system != "" {
		c.system = s.set.system
	}
	return c
}

// openInput returns the line editor when the terminal takes raw mode, else plain lines.
func (c *chat) openInput() lineInput {
	sys := c.s.sys
	if sys.makeRaw == nil {
		return newPlainInput(sys.stdin, sys.stderr)
	}
	restore, err := sys.makeRaw()
	if err != nil {
		return newPlainInput(sys.stdin, sys.stderr)
	}
	restore()
	file := ""
	if !c.s.set.noHistory {
		file = historyFile(sys.getenv)
	}
	h, err := loadHistory(file, c.s.set.secrets())
	if err != nil {
		note(sys.stderr, c.s.dim, "("+stripAll(err.Error())+"; the history starts empty)")
	}
	c.lines = h
	return newEditor(sys.stdin, sys.stderr, h, sys.makeRaw, sys.termSize)
}

// run holds the conversation until /bye, the end of input, or Ctrl-C twice at the prompt.
func (c *chat) run(ctx context.Context, banner string) int {
	sys := c.s.sys
	in := c.openInput()
	defer in.close()
	_, editing := in.(*editor)
	note(sys.stderr, c.s.dim, banner)
	var comp composer
	var paste []string // the lines of a bracketed paste, until the line that ends it
	hinted := false    // the last thing at the prompt was Ctrl-C on an empty line
	historyFailed := false
	for {
		marker := promptMarker
		if comp.pending() || len(paste) > 0 {
			marker = continuationMarker
		}
		in.ask(marker)
		var ev lineEvent
		select {
		case <-ctx.Done():
			io.WriteString(sys.stderr, "\n")
			return 130
		case <-sys.interrupts:
			if editing {
				// In raw mode Ctrl-C is a key: this signal came from another program.
				io.WriteString(sys.stderr, "\n")
				return 130
			}
			// The terminal driver dropped the line; it cannot say whether it held text.
			ev = lineEvent{interrupt: true, again: true}
		case ev = <-in.events():
		}
		if ev.interrupt {
			switch {
			case ev.hadText:
				hinted = false // the editor cleared the line
			case comp.pending() || len(paste) > 0:
				comp.reset()
				paste = nil
				in.say(dimmed(c.s.dim, "(the multi-line message was dropped)"))
				hinted = false
			case hinted && ev.again:
				io.WriteString(sys.stderr, "\n")
				return 130
			default:
				in.say(dimmed(c.s.dim, leaveHint))
				hinted = true
			}
			continue
		}
		hinted = false
		if ev.err != nil {
			io.WriteString(sys.stderr, "\n")
			if comp.pending() || len(paste) > 0 {
				fmt.Fprintln(sys.stderr, errUnfinished)
			}
			if ev.err == io.EOF {
				return 0
			}
			fmt.Fprintln(sys.stderr, stripAll(ev.err.Error()))
			return 1
		}
		if ev.pasted {
			paste = append(paste, ev.line)
			continue
		}
		if c.lines != nil && len(paste) == 0 {
			if err := c.lines.record(ev.line); err != nil && !historyFailed {
				note(sys.stderr, c.s.dim, "("+stripAll(err.Error())+"; it is kept for this chat only)")
				historyFailed = true
			}
		}
		switch {
		case len(paste) > 0 && comp.pending():
			// Inside a """ message the paste is more of it; the line that ends the
			// paste may close it.
			comp.addPasted(paste)
			paste = nil
			if msg, complete := comp.add(ev.line); complete {
				c.send(ctx, strings.TrimSpace(msg))
			}
		case len(paste) > 0:
			// A paste is one message, as pasted: indentation and blank lines kept, no
			// line read as a command.
			msg := trimBlankLines(strings.Join(append(paste, ev.line), "\n"))
			paste = nil
			c.send(ctx, msg)
		case !comp.pending() && strings.HasPrefix(ev.line, "/"):
			if leave := c.command(ctx, ev.line); leave {
				return 0
			}
		default:
			if msg, complete := comp.add(ev.line); complete {
				c.send(ctx, strings.TrimSpace(msg))
			}
		}
		if ctx.Err() != nil {
			return 130
		}
	}
}

// command runs a slash command. It reports whether the chat should end.
func (c *chat) command(ctx context.Context, line string) (leave bool) {
	w, dim := c.s.sys.stderr, c.s.dim
	name, arg, _ := strings.Cut(strings.TrimPrefix(line, "/"), " ")
	arg = strings.TrimSpace(arg)
	switch name {
	case "bye":
		return true
	case "clear":
		c.history, c.lastStart = nil, 0
		note(w, dim, "(the conversation is forgotten)")
	case "system":
		if arg == "" {
			if c.system == "" {
				note(w, dim, "(no system message)")
			} else {
				note(w, dim, "(system message: "+stripAll(c.system)+")")
			}
			return false
		}
		if err := checkText("the system message", arg); err != nil {
			fmt.Fprintln(w, err)
			return false
		}
		c.system = arg
		note(w, dim, "(system message set)")
	case "model":
		if arg == "" {
			note(w, dim, "(model: "+stripAll(c.s.model)+")")
			return false
		}
		c.s.model = arg
		note(w, dim, "(model: "+stripAll(arg)+")")
	case "models":
		if err := c.s.printModels(ctx, c.s.sys.stdout); err != nil {
			c.s.printError(err)
		}
	case "retry":
		if !c.asked {
			note(w, dim, "(nothing to retry yet)")
			return false
		}
		c.history = c.history[:c.lastStart]
		c.send(ctx, c.lastQuestion)
	case "save":
		c.save(arg)
	case "load":
		c.load(arg)
	case "help", "?":
		io.WriteString(w, chatHelp)
	default:
		fmt.Fprintf(w, "lockchat: unknown command /%s; /help lists them\n", stripAll(name))
	}
	return false
}

// save writes the conversation to file (/save).
func (c *chat) save(file string) {
	w, dim := c.s.sys.stderr, c.s.dim
	if file == "" {
		fmt.Fprintln(w, "lockchat: /save needs a file name: /save FILE")
		return
	}
	msgs := c.messages()
	if err := saveConversation(expandHome(file, c.s.sys.getenv), conversation{Model: c.s.model, Messages: msgs}); err != nil {
		fmt.Fprintln(w, stripAll(err.Error()))
		return
	}
	note(w, dim, fmt.Sprintf("(%d messages saved to %s; /load %s or lockchat -load %s goes on with them)", len(msgs), stripAll(file), stripAll(file), stripAll(file)))
}

// load replaces the conversation with the one saved in file (/load).
func (c *chat) load(file string) {
	w, dim := c.s.sys.stderr, c.s.dim
	if file == "" {
		fmt.Fprintln(w, "lockchat: /load needs a file name: /load FILE")
		return
	}
	conv, err := loadConversation(expandHome(file, c.s.sys.getenv))
	if err != nil {
		fmt.Fprintln(w, stripAll(err.Error()))
		return
	}
	c.setConversation(conv.Messages)
	text := fmt.Sprintf("(%d messages loaded from %s; the conversation goes on from there)", len(conv.Messages), stripAll(file))
	if conv.Model != "" && conv.Model != c.s.model {
		text += fmt.Sprintf("\n(it was held with %s; /model %s switches to it)", stripAll(conv.Model), stripAll(conv.Model))
	}
	note(w, dim, text)
}

// setConversation makes msgs the conversation: a first system message of text becomes
// the system message, the rest the history.
func (c *chat) setConversation(msgs []lockchat.Message) {
	c.system = ""
	if len(msgs) > 0 && msgs[0].Role == "system" && len(msgs[0].Parts) == 0 && msgs[0].Name == "" {
		c.system = msgs[0].Content
		msgs = msgs[1:]
	}
	c.history = append([]lockchat.Message(nil), msgs...)
	c.lastQuestion, c.lastStart, c.asked = "", 0, false
}

// messages is the conversation as sent: the system message, then the history.
func (c *chat) messages() []lockchat.Message {
	msgs := make([]lockchat.Message, 0, len(c.history)+1)
	if c.system != "" {
		msgs = append(msgs, lockchat.Message{Role: "system", Content: c.system})
	}
	return append(msgs, c.history...)
}

// send asks question as its caller trimmed it (a typed message of its spaces, a paste of
// its blank lines, /retry not at all) and keeps the exchange in the history: the whole
// assistant turn, its tool calls with a "not run" result each, or, when the answer was
// cut short, what arrived, marked as such. A question that got no answer at all is dropped from the
// history; /retry asks it again.
func (c *chat) send(ctx context.Context, question string) {
	sys := c.s.sys
	if strings.TrimSpace(question) == "" {
		return
	}
	if err := checkText("the message", question); err != nil {
		fmt.Fprintln(sys.stderr, err)
		return
	}
	c.lastQuestion, c.lastStart, c.asked = question, len(c.history), true
	c.history = append(c.history, lockchat.Message{Role: "user", Content: question})

	actx, stop := untilInterrupt(ctx, sys.interrupts)
	completion, delivered, err := c.s.answer(actx, c.messages())
	stop()
	interrupted := err != nil && errors.Is(context.Cause(actx), errInterrupt)
	msg := completion.Message()
	switch {
	case err == nil:
		c.history = append(c.history, msg)
		if len(msg.ToolCalls) > 0 {
			for _, tc := range msg.ToolCalls {
				c.history = append(c.history, lockchat.Message{Role: "tool", ToolCallID: tc.ID, Content: noToolsResult})
			}
			note(sys.stderr, c.s.dim, "(lockchat runs no tools: the call was not run, and the conversation records that; send your next message)")
		}
	case delivered:
		// What arrived stays, marked, without tool calls whose arguments may be cut.
		mark := "[answer cut short by an error]"
		if interrupted {
			mark = "[interrupted by the user]"
		}
		msg.Content = strings.TrimSpace(msg.Content + "\n\n" + mark)
		msg.ToolCalls = nil
		c.history = append(c.history, msg)
	default:
		c.history = c.history[:c.lastStart]
	}
	// Remarks and the blank line before the next prompt go to standard error, with the
	// prompt, so that standard output holds answers only.
	switch {
	case interrupted:
		note(sys.stderr, c.s.dim, "[interrupted]")
	case err != nil && ctx.Err() == nil:
		c.s.printError(err)
		if !delivered {
			note(sys.stderr, c.s.dim, "(/retry sends the message again)")
		}
	}
	io.WriteString(sys.stderr, "\n")
}
