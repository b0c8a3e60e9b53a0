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
  /help          this list
A line ending in \ goes on on the next line; lines between """ and """ are one message.
Start a line with a space to send text that begins with /.
Ctrl-C stops an answer; at the prompt it leaves.
`

// noToolsResult is the tool result the conversation records for a call the model made:
// servers reject a conversation whose tool calls have no results.
const noToolsResult = "lockchat runs no tools: this call was not run."

// chat is one interactive conversation.
type chat struct {
	s       *session
	system  string             // the system message, "" for none
	history []lockchat.Message // the conversation after the system message
	lines   *lineReader

	// lastQuestion is the last message asked, and lastStart the length of the history
	// before it, for /retry.
	lastQuestion string
	lastStart    int
	asked        bool
}

// run holds the conversation until /bye, the end of input, or Ctrl-C at the prompt.
func (c *chat) run(ctx context.Context, banner string) int {
	sys := c.s.sys
	c.lines = readLines(sys.stdin)
	defer c.lines.close()
	note(sys.stderr, c.s.dim, banner)
	var comp composer
	for {
		marker := promptMarker
		if comp.pending() {
			marker = continuationMarker
		}
		io.WriteString(sys.stderr, marker)
		var line lineResult
		select {
		case <-ctx.Done():
			io.WriteString(sys.stderr, "\n")
			return 130
		case <-sys.interrupts:
			io.WriteString(sys.stderr, "\n")
			if comp.pending() {
				comp.reset()
				note(sys.stderr, c.s.dim, "(the multi-line message was dropped)")
				continue
			}
			return 130
		case line = <-c.lines.lines:
		}
		if line.err != nil {
			io.WriteString(sys.stderr, "\n")
			if comp.pending() {
				fmt.Fprintln(sys.stderr, errUnfinished)
			}
			if line.err == io.EOF {
				return 0
			}
			fmt.Fprintln(sys.stderr, "lockchat: reading standard input:", stripAll(line.err.Error()))
			return 1
		}
		if !comp.pending() && strings.HasPrefix(line.line, "/") {
			if leave := c.command(ctx, line.line); leave {
				return 0
			}
		} else if msg, complete := comp.add(line.line); complete {
			c.send(ctx, msg)
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
	case "help", "?":
		io.WriteString(w, chatHelp)
	default:
		fmt.Fprintf(w, "lockchat: unknown command /%s; /help lists them\n", stripAll(name))
	}
	return false
}

// messages is the conversation as sent: the system message, then the history.
func (c *chat) messages() []lockchat.Message {
	msgs := make([]lockchat.Message, 0, len(c.history)+1)
	if c.system != "" {
		msgs = append(msgs, lockchat.Message{Role: "system", Content: c.system})
	}
	return append(msgs, c.history...)
}

// send asks question and keeps the exchange in the history: the whole assistant turn,
// its tool calls with a "not run" result each, or, when the answer was cut short, what
// arrived, marked as such. A question that got no answer at all is dropped from the
// history; /retry asks it again.
func (c *chat) send(ctx context.Context, question string) {
	sys := c.s.sys
	question = strings.TrimSpace(question)
	if question == "" {
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
