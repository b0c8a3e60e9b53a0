package main

import (
	"context"
	"strings"
	"testing"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// hostile is a reply whose every text tries to drive the terminal.
var hostile = lockchattest.Reply{
	Reasoning: []string{"think\x1b[2J", "ing\r"},
	Tokens:    []string{"red\x1b[3", "1m text\x07\n", "\ttab"},
	Refusal:   []string{"no\x1b]0;title\x07"},
	ToolCalls: []lockchat.ToolCall{{ID: "c1", Name: "f\x1b[1A", Arguments: "{\"a\":\"\x1b[K\"}"}},
}

func TestTerminalOutputIsStripped(t *testing.T) {
	srv := lockchattest.NewServer(hostile)
	defer srv.Close()
	c := newChatCLI(strings.NewReader(""), map[string]string{"TERM": "xterm-256color"})
	c.sys.stdinTerminal = false // one-shot, to a terminal
	code := c.run(context.Background(), "-base-url", srv.URL, "hi")
	want := dimOn + "thinking" + dimOff + "\n\n" +
		"red text\n\ttab\n" +
		"refusal: no0;title\n" +
		"tool call f {\"a\":\"\"}\n"
	if out := c.stdout.String(); code != 0 || out != want {
		t.Fatalf("exit %d, stdout %q, want %q; stderr %q", code, out, want, c.stderr.String())
	}
}

func TestScriptOutput(t *testing.T) {
	srv := lockchattest.NewServer(hostile)
	defer srv.Close()
	code, out, errOut := runCLI([]string{"-base-url", srv.URL, "hi"}, "", nil)
	// Standard output is the content exactly as sent, for a script; the rest goes to
	// standard error, labelled and stripped.
	if code != 0 || out != "red\x1b[31m text\x07\n\ttab\n" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if want := "reasoning: thinking\nrefusal: no0;title\ntool call f {\"a\":\"\"}\n"; errOut != want {
		t.Fatalf("stderr %q, want %q", errOut, want)
	}
}

func TestReasoningDisplay(t *testing.T) {
	reply := lockchattest.Reply{Reasoning: []string{"hmm\n"}, Tokens: []string{"answer"}}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"dim", map[string]string{"TERM": "xterm"}, nil, dimOn + "hmm\n" + dimOff + "\nanswer\n"},
		{"NO_COLOR: a label", map[string]string{"TERM": "xterm", "NO_COLOR": "1"}, nil, "reasoning: hmm\n\nanswer\n"},
		{"dumb terminal: a label", map[string]string{"TERM": "dumb"}, nil, "reasoning: hmm\n\nanswer\n"},
		{"hidden", map[string]string{"TERM": "xterm"}, []string{"-hide-reasoning"}, "answer\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := lockchattest.NewServer(reply)
			defer srv.Close()
			c := newChatCLI(strings.NewReader(""), tc.env)
			c.sys.stdinTerminal = false
			code := c.run(context.Background(), append(tc.args, "-base-url", srv.URL, "hi")...)
			if out := c.stdout.String(); code != 0 || out != tc.want {
				t.Fatalf("exit %d, stdout %q, want %q", code, out, tc.want)
			}
		})
	}
}

func TestFinishNotesAndOtherChoices(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Raw: []string{
		`data: {"choices":[{"index":0,"delta":{"content":"zero"}},{"index":1,"delta":{"content":"one"}}]}` + "\n\n",
		`data: {"choices":[{"index":0,"delta":{},"finish_reason":"length"},{"index":1,"delta":{},"finish_reason":"stop"}]}` + "\n\n",
		"data: [DONE]\n\n",
	}})
	defer srv.Close()
	code, out, errOut := runCLI([]string{"-base-url", srv.URL, "-param", "n=2", "hi"}, "", nil)
	if code != 0 || out != "zero\n" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if want := finishNote("length") + "\nchoice 1: one\n"; errOut != want {
		t.Fatalf("stderr %q, want %q", errOut, want)
	}
}
