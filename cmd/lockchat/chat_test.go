package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// newChatCLI returns surroundings where standard input and output are a (fake) terminal.
func newChatCLI(stdin io.Reader, env map[string]string) *cli {
	c := newCLI(stdin, env)
	c.sys.stdinTerminal, c.sys.stdoutTerminal = true, true
	return c
}

// runChat runs a chat that reads input, to its end.
func runChat(t *testing.T, input string, args ...string) (stdout, stderr string) {
	t.Helper()
	c := newChatCLI(strings.NewReader(input), map[string]string{"TERM": "dumb"})
	if code := c.run(context.Background(), args...); code != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, c.stdout.String(), c.stderr.String())
	}
	return c.stdout.String(), c.stderr.String()
}

func TestChatSendsTheWholeConversation(t *testing.T) {
	srv := lockchattest.NewServer(
		lockchattest.Reply{Reasoning: []string{"think"}, ReasoningField: "reasoning", Tokens: []string{"first ", "answer"}},
		lockchattest.Reply{Tokens: []string{"second answer"}},
	)
	defer srv.Close()
	out, errOut := runChat(t, "hello\nand then?\n/bye\n", "-base-url", srv.URL, "-system", "be brief")
	if out != "reasoning: think\n\nfirst answer\nsecond answer\n" {
		t.Errorf("stdout %q", out)
	}
	if !strings.HasPrefix(errOut, "Chat with gpt-3.5-turbo at "+srv.URL+".") || strings.Count(errOut, promptMarker) != 3 {
		t.Errorf("stderr %q", errOut)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	got := reqs[1].Messages
	want := []lockchat.Message{
		{Role: "system", Content: "be brief"},
		{Role: "user", Content: "hello"},
		{Role: "assistant", Content: "first answer", Reasoning: "think"},
		{Role: "user", Content: "and then?"},
	}
	if len(got) != len(want) {
		t.Fatalf("second request's messages: %s", reqs[1].Body)
	}
	for i := range want {
		if got[i].Role != want[i].Role || got[i].Content != want[i].Content || got[i].Reasoning != want[i].Reasoning {
			t.Errorf("message %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// The reasoning goes back under the name the server used for it.
	if !strings.Contains(string(reqs[1].Body), `"reasoning":"think"`) {
		t.Errorf("second request %s", reqs[1].Body)
	}
}

func TestChatToolCalls(t *testing.T) {
	call := lockchat.ToolCall{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Berlin"}`}
	srv := lockchattest.NewServer(
		lockchattest.Reply{Tokens: []string{"Let me look."}, ToolCalls: []lockchat.ToolCall{call}, ArgumentFragment: 4},
		lockchattest.Reply{Tokens: []string{"ok"}},
	)
	defer srv.Close()
	out, errOut := runChat(t, "weather?\nnever mind\n", "-base-url", srv.URL)
	if out != "Let me look.\ntool call get_weather {\"city\":\"Berlin\"}\nok\n" {
		t.Errorf("stdout %q", out)
	}
	if !strings.Contains(errOut, "lockchat runs no tools") {
		t.Errorf("stderr %q", errOut)
	}
	msgs := srv.Requests()[1].Messages
	if len(msgs) != 4 || len(msgs[1].ToolCalls) != 1 || msgs[1].ToolCalls[0].Arguments != call.Arguments || msgs[1].ToolCalls[0].ID != "call_1" {
		t.Fatalf("second request %s", srv.Requests()[1].Body)
	}
	if msgs[2].Role != "tool" || msgs[2].ToolCallID != "call_1" || msgs[2].Content != noToolsResult || msgs[3].Content != "never mind" {
		t.Fatalf("second request %s", srv.Requests()[1].Body)
	}
}

func TestChatCommands(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	steps := []struct {
		input string
		want  []string // each request's messages, "role:content"; nil for no request
	}{
		{"one", []string{"user:one"}},
		{"/system be kind", nil},
		{"two", []string{"system:be kind", "user:one", "assistant:ok", "user:two"}},
		{"/retry", []string{"system:be kind", "user:one", "assistant:ok", "user:two"}},
		{"/model gpt-4", nil},
		{"/clear", nil},
		{"three", []string{"system:be kind", "user:three"}},
		{`"""`, nil},
		{"four", nil},
		{"/not a command here", nil},
		{`five"""`, []string{"system:be kind", "user:three", "assistant:ok", "user:four\n/not a command here\nfive"}},
		{`six \`, nil},
		{"seven", []string{"system:be kind", "user:three", "assistant:ok", "user:four\n/not a command here\nfive", "assistant:ok", "user:six \nseven"}},
		{`"""eight"""`, nil}, // checked by count only
		{" /usr is a directory", nil},
		{"", nil},
		{"/help", nil},
		{"/nonsense", nil},
		{"/bye", nil},
		{"never read", nil},
	}
	var input []string
	for _, s := range steps {
		input = append(input, s.input)
	}
	_, errOut := runChat(t, strings.Join(input, "\n")+"\n", "-base-url", srv.URL)

	reqs := srv.Requests()
	var wants [][]string
	for _, s := range steps {
		if s.want != nil {
			wants = append(wants, s.want)
		}
	}
	if len(reqs) != len(wants)+2 {
		t.Fatalf("%d requests, want %d; stderr %q", len(reqs), len(wants)+2, errOut)
	}
	for i, want := range wants {
		var got []string
		for _, m := range reqs[i].Messages {
			got = append(got, m.Role+":"+m.Content)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("request %d: %q, want %q", i+1, got, want)
		}
	}
	if reqs[2].Model != "gpt-3.5-turbo" || reqs[3].Model != "gpt-4" {
		t.Errorf("models %q, %q", reqs[2].Model, reqs[3].Model)
	}
	last := reqs[len(reqs)-1].Messages
	if m := last[len(last)-1]; m.Content != "/usr is a directory" || reqs[len(reqs)-2].Messages[len(last)-3].Content != "eight" {
		t.Errorf("last requests %s\n%s", reqs[len(reqs)-2].Body, reqs[len(reqs)-1].Body)
	}
	for _, want := range []string{"/retry ", "unknown command /nonsense", continuationMarker} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q: %q", want, errOut)
		}
	}
}

func TestChatRetryWithNothingAsked(t *testing.T) {
	_, errOut := runChat(t, "/retry\n", "-base-url", "http://127.0.0.1:1/v1")
	if !strings.Contains(errOut, "nothing to retry") {
		t.Fatalf("stderr %q", errOut)
	}
}

// TestChatFailedAnswer checks that a question that got no answer is not kept, and that
// /retry sends it again.
func TestChatFailedAnswer(t *testing.T) {
	srv := lockchattest.NewServer(
		lockchattest.Reply{Status: 400, Error: lockchattest.ErrorBody{Message: "no"}},
		lockchattest.Reply{Tokens: []string{"yes"}},
	)
	defer srv.Close()
	out, errOut := runChat(t, "one\n/retry\ntwo\n", "-base-url", srv.URL)
	if out != "yes\nyes\n" || !strings.Contains(errOut, "lockchat: HTTP 400 Bad Request from POST "+srv.URL+"/chat/completions: no (request id \"req-1\")\n") {
		t.Fatalf("stdout %q, stderr %q", out, errOut)
	}
	var got []string
	for _, m := range srv.Requests()[2].Messages {
		got = append(got, m.Role+":"+m.Content)
	}
	if strings.Join(got, "|") != "user:one|assistant:yes|user:two" {
		t.Fatalf("third request %q", got)
	}
}

func TestChatInterrupt(t *testing.T) {
	srv := lockchattest.NewServer(
		lockchattest.Reply{Raw: []string{
			`data: {"choices":[{"delta":{"reasoning_content":"hmm"}}]}` + "\n\n",
			`data: {"choices":[{"delta":{"content":"partial"}}]}` + "\n\n",
			`data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":"{\"a"}}]}}]}` + "\n\n",
		}, KeepOpen: true},
		lockchattest.Reply{Tokens: []string{"ok"}},
	)
	defer srv.Close()
	stdin, typing := io.Pipe()
	defer typing.Close()
	c := newChatCLI(stdin, map[string]string{"TERM": "xterm"})
	codes := make(chan int, 1)
	go func() { codes <- c.run(context.Background(), "-base-url", srv.URL) }()

	io.WriteString(typing, "question\n")
	waitFor(t, c.stdout, "partial")
	c.interrupts <- os.Interrupt // Ctrl-C during the answer: back to the prompt
	waitFor(t, c.stderr, "[interrupted]")
	io.WriteString(typing, "next\n")
	waitFor(t, c.stdout, "ok")
	io.WriteString(typing, `"""`+"\n")
	waitFor(t, c.stderr, continuationMarker)
	c.interrupts <- os.Interrupt // Ctrl-C inside a multi-line message drops it
	waitFor(t, c.stderr, "dropped)"+dimOff+"\n"+promptMarker)
	c.interrupts <- os.Interrupt // Ctrl-C at the prompt says how to leave
	waitFor(t, c.stderr, leaveHint)
	c.interrupts <- os.Interrupt // and a second one leaves
	if code := finish(t, codes); code != 130 {
		t.Fatalf("exit %d", code)
	}

	// On a terminal that shows it, the reasoning is dim; the partial answer stays, and
	// so does the tool call that was under way, said to be incomplete.
	if out := c.stdout.String(); out != dimOn+"hmm"+dimOff+"\n\npartial\ntool call f {\"a (incomplete: the answer was cut short)\nok\n" {
		t.Errorf("stdout %q", out)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	msgs := reqs[1].Messages
	if len(msgs) != 3 || msgs[1].Content != "partial\n\n[interrupted by the user]" || msgs[1].Reasoning != "hmm" || len(msgs[1].ToolCalls) != 0 {
		t.Fatalf("second request %s", reqs[1].Body)
	}
}

func TestChatLeavesOnEndOfInput(t *testing.T) {
	cases := map[string]string{
		"empty line":                  "",
		"inside a multi-line message": "\"\"\"\nunfinished\n",
	}
	for name, input := range cases {
		t.Run(name, func(t *testing.T) {
			_, errOut := runChat(t, input, "-base-url", "http://127.0.0.1:1/v1")
			if strings.Contains(input, `"""`) != strings.Contains(errOut, "was not sent") {
				t.Fatalf("stderr %q", errOut)
			}
		})
	}
}

func TestDemoChat(t *testing.T) {
	c := newChatCLI(strings.NewReader("hello\nweather?\nmore\n/bye\n"), map[string]string{"TERM": "dumb"})
	if code := c.run(context.Background(), "-demo"); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, c.stderr.String())
	}
	out, errOut := c.stdout.String(), c.stderr.String()
	replies := demoReplies(0)
	for _, want := range []string{
		"reasoning: " + strings.Join(replies[0].Reasoning, "") + "\n\n" + strings.Join(replies[0].Tokens, "") + "\n",
		strings.Join(replies[1].Tokens, "") + "\ntool call get_weather " + replies[1].ToolCalls[0].Arguments + "\n",
		strings.Join(replies[2].Tokens, "") + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q: %q", want, out)
		}
	}
	// The tour shows -verbose's statistics, usage included.
	for _, want := range []string{"Demo: ", "completion tokens    41 (12 reasoning)", "lockchat runs no tools", "prompt tokens        120"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q: %q", want, errOut)
		}
	}
}

// TestOneShotWhenNotATerminal checks that without a terminal on standard input, lines
// are one prompt, as before the chat existed.
func TestOneShotWhenNotATerminal(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	code, out, _ := runCLI([]string{"-base-url", srv.URL}, "/bye\nsecond line\n", nil)
	if code != 0 || out != "ok\n" || srv.Requests()[0].Messages[0].Content != "/bye\nsecond line" {
		t.Fatalf("exit %d, stdout %q, requests %d", code, out, len(srv.Requests()))
	}
}

// TestBannerMasksCredentials checks that the chat's banner shows the base URL without
// its user, password or the values of credential query parameters.
func TestBannerMasksCredentials(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://me:pw-secret@", 1) + "?api-version=1&api-key=sk-secret"
	_, errOut := runChat(t, "/bye\n", "-base-url", u)
	if !strings.HasPrefix(errOut, "Chat with gpt-3.5-turbo at "+srv.URL+"?api-version=1&api-key=xxxxx.") || strings.Contains(errOut, "secret") {
		t.Fatalf("banner %q", errOut)
	}
}
