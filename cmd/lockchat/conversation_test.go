package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// messagesJSON is msgs as lockchat.Message encodes them.
func messagesJSON(t *testing.T, msgs []lockchat.Message) string {
	t.Helper()
	b, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSaveAndLoad saves a conversation with a system message, reasoning, a tool call
// and its result, and goes on with it with -load and with /load: the next request sends
// exactly what the first chat would have.
func TestSaveAndLoad(t *testing.T) {
	call := lockchat.ToolCall{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Berlin"}`}
	srv := lockchattest.NewServer(
		lockchattest.Reply{Reasoning: []string{"think"}, ReasoningField: "reasoning", Tokens: []string{"Let me look."}, ToolCalls: []lockchat.ToolCall{call}},
		lockchattest.Reply{Tokens: []string{"It is sunny."}},
	)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "chat.json")
	_, errOut := runChat(t, "weather?\nthanks\n/save "+file+"\n/bye\n", "-base-url", srv.URL, "-model", "m1", "-system", "be brief")
	if !strings.Contains(errOut, "6 messages saved to "+file) {
		t.Fatalf("stderr %q", errOut)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved file: %v, %v", fi, err)
	}
	conv, err := loadConversation(file)
	if err != nil {
		t.Fatal(err)
	}
	// What was saved: the second request's messages, then the answer to it.
	first := srv.Requests()[1].Messages
	want := append(append([]lockchat.Message(nil), first...), lockchat.Message{Role: "assistant", Content: "It is sunny."})
	if conv.Model != "m1" || messagesJSON(t, conv.Messages) != messagesJSON(t, want) {
		t.Fatalf("saved model %q, messages %s\nwant %s", conv.Model, messagesJSON(t, conv.Messages), messagesJSON(t, want))
	}
	if got := messagesJSON(t, conv.Messages[2:3]); !strings.Contains(got, `"reasoning":"think"`) || !strings.Contains(got, `"tool_calls"`) {
		t.Fatalf("the assistant turn %s", got)
	}
	wantNext := messagesJSON(t, append(want, lockchat.Message{Role: "user", Content: "more"}))

	for _, tc := range []struct {
		name, input string
		args        []string
	}{
		{"-load", "more\n/bye\n", []string{"-load", file}},
		{"/load", "/load " + file + "\nmore\n/bye\n", []string{"-model", "m1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetReplies(lockchattest.Reply{Tokens: []string{"ok"}})
			before := len(srv.Requests())
			_, errOut := runChat(t, tc.input, append([]string{"-base-url", srv.URL}, tc.args...)...)
			reqs := srv.Requests()[before:]
			if len(reqs) != 1 || messagesJSON(t, reqs[0].Messages) != wantNext || reqs[0].Model != "m1" {
				t.Fatalf("requests %d, model %q, messages %s\nwant %s\nstderr %q", len(reqs), reqs[0].Model, messagesJSON(t, reqs[0].Messages), wantNext, errOut)
			}
		})
	}

	// With a prompt, -load gives one more answer, for a script.
	srv.SetReplies(lockchattest.Reply{Tokens: []string{"ok"}})
	before := len(srv.Requests())
	code, out, errOut := runCLI([]string{"-base-url", srv.URL, "-load", file, "more"}, "", nil)
	if reqs := srv.Requests()[before:]; code != 0 || out != "ok\n" || messagesJSON(t, reqs[0].Messages) != wantNext {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// The model: -model, then LOCKCHAT_MODEL, then the file's.
	runCLI([]string{"-base-url", srv.URL, "-load", file, "-model", "flag", "x"}, "", map[string]string{"LOCKCHAT_MODEL": "env"})
	runCLI([]string{"-base-url", srv.URL, "-load", file, "x"}, "", map[string]string{"LOCKCHAT_MODEL": "env"})
	reqs := srv.Requests()
	if reqs[len(reqs)-2].Model != "flag" || reqs[len(reqs)-1].Model != "env" {
		t.Fatalf("models %q, %q", reqs[len(reqs)-2].Model, reqs[len(reqs)-1].Model)
	}
}

// TestConversationRoundTrip checks that what is saved reads back as the same messages,
// unexported reasoning field name and all.
func TestConversationRoundTrip(t *testing.T) {
	var msgs []lockchat.Message
	wire := `[{"role":"system","content":"be brief"},{"role":"user","content":"Привет 🙂"},` +
		`{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}],"reasoning":"hmm"},` +
		`{"role":"tool","content":"done","tool_call_id":"c1"},{"role":"assistant","content":"no","refusal":"I won't"},` +
		`{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]`
	if err := json.Unmarshal([]byte(wire), &msgs); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "c.json")
	if err := saveConversation(file, conversation{Model: "m", Messages: msgs}); err != nil {
		t.Fatal(err)
	}
	conv, err := loadConversation(file)
	if err != nil || conv.Model != "m" || !reflect.DeepEqual(conv.Messages, msgs) {
		t.Fatalf("read back %+v, %v; want %+v", conv.Messages, err, msgs)
	}
	// A bare array, or a whole request body, loads too.
	if conv, err := parseConversation([]byte(wire)); err != nil || len(conv.Messages) != 6 {
		t.Fatalf("an array: %d messages, %v", len(conv.Messages), err)
	}
	if conv, err := parseConversation([]byte(`{"model":"x","stream":true,"temperature":0,"messages":[{"role":"user","content":"hi"}]}`)); err != nil || conv.Model != "x" {
		t.Fatalf("a request body: %+v, %v", conv, err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		f := filepath.Join(dir, name)
		os.WriteFile(f, []byte(content), 0o600)
		return f
	}
	cases := []struct{ file, want string }{
		{filepath.Join(dir, "missing.json"), "no such file"},
		{write("bad.json", "{not json"), "not JSON (at byte 2)"},
		{write("empty.json", `{"messages":[]}`), "no messages"},
		{write("role.json", `[{"role":"wizard","content":"x"}]`), `message 1 has the role "wizard"`},
		{write("content.json", `[{"role":"user","content":5}]`), "message content must be a string"},
	}
	for _, tc := range cases {
		code, _, errOut := runCLI([]string{"-load", tc.file, "hi"}, "", nil)
		if code != 2 || !strings.HasPrefix(errOut, "lockchat: -load: loading a conversation: ") || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "lockchat:") != 1 {
			t.Errorf("%s: exit %d, stderr %q", filepath.Base(tc.file), code, errOut)
		}
		// In the chat, /load says what is wrong and the chat goes on.
		_, errOut = runChat(t, "/load "+tc.file+"\n/save\n/load\n", "-base-url", "http://127.0.0.1:1/v1")
		if !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "/save needs a file name") || !strings.Contains(errOut, "/load needs a file name") {
			t.Errorf("%s in the chat: stderr %q", filepath.Base(tc.file), errOut)
		}
	}
}
