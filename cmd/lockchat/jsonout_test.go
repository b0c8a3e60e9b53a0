package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// TestJSONLines parses -json output line by line: every chunk as it came, then the
// assembled completion, and nothing else on standard output.
func TestJSONLines(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{
		Reasoning: []string{"hm"},
		Tokens:    []string{"При", "вет"},
		ToolCalls: []lockchat.ToolCall{{ID: "c1", Name: "f", Arguments: `{"a":1}`}}, ArgumentFragment: 3,
		Usage: &lockchat.Usage{PromptTokens: 3, CompletionTokens: 5, TotalTokens: 8},
	})
	defer srv.Close()
	code, out, errOut := runCLI([]string{"-json", "-base-url", srv.URL, "hi"}, "", nil)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	// role, reasoning, 2 tokens, tool call opening + 3 argument fragments, finish, usage
	if len(lines) != 10+1 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	for i, m := range lines[:len(lines)-1] {
		if m["object"] != "chat.completion.chunk" {
			t.Errorf("line %d: %v", i, m)
		}
	}
	last := lines[len(lines)-1]
	var completion struct {
		Object  string
		Choices []struct {
			Message      lockchat.Message
			FinishReason *string `json:"finish_reason"`
		}
		Usage lockchat.Usage
	}
	b, _ := json.Marshal(last)
	if err := json.Unmarshal(b, &completion); err != nil {
		t.Fatal(err)
	}
	msg := completion.Choices[0].Message
	if completion.Object != "chat.completion" || msg.Content != "Привет" || msg.Reasoning != "hm" ||
		len(msg.ToolCalls) != 1 || msg.ToolCalls[0].Arguments != `{"a":1}` || *completion.Choices[0].FinishReason != "tool_calls" || completion.Usage.TotalTokens != 8 {
		t.Fatalf("completion %s", b)
	}
}

func TestJSONAfterAFailure(t *testing.T) {
	cases := []struct {
		name  string
		reply lockchattest.Reply
		lines int
	}{
		{"before any output: nothing on standard output", lockchattest.Reply{Status: 400}, 0},
		{"after output: the chunks, then what was assembled", lockchattest.Reply{Tokens: []string{"a", "b", "c"}, CutAfter: 2}, 3 + 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := lockchattest.NewServer(tc.reply)
			defer srv.Close()
			code, out, errOut := runCLI([]string{"-json", "-retries", "0", "-base-url", srv.URL, "hi"}, "", nil)
			if code != 1 || strings.Count(out, "\n") != tc.lines || errOut == "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			if tc.lines > 0 && !strings.Contains(out, `{"choices":[{"finish_reason":null,"index":0,"message":{"role":"assistant","content":"ab"}}]`) {
				t.Fatalf("stdout %q", out)
			}
		})
	}
}

// TestChunkJSON checks the shape of a chunk that has no server text of its own.
func TestChunkJSON(t *testing.T) {
	ch := lockchat.Chunk{ID: "x", Model: "m", Choices: []lockchat.Choice{{Index: 0, Content: "🙂", Reasoning: "r", ReasoningField: "reasoning",
		ToolCalls: []lockchat.ToolCallDelta{{Index: 0, ID: "c", Name: "f", Arguments: "{"}}, FinishReason: "stop"}}}
	var o jsonOutput
	var b strings.Builder
	o.w = &b
	if err := o.chunk(ch); err != nil {
		t.Fatal(err)
	}
	want := `{"choices":[{"delta":{"content":"🙂","reasoning":"r","tool_calls":[{"function":{"arguments":"{","name":"f"},"id":"c","index":0}]},"finish_reason":"stop","index":0}],"id":"x","model":"m","object":"chat.completion.chunk"}` + "\n"
	if b.String() != want {
		t.Fatalf("%s, want %s", b.String(), want)
	}
}

// TestJSONFinishReasonNullAfterAFailure checks that the completion line after a failure
// says finish_reason null, even when the server had sent a finish reason before failing.
func TestJSONFinishReasonNullAfterAFailure(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Raw: []string{
		`data: {"id":"x","choices":[{"index":0,"delta":{"role":"assistant","content":"ab"},"finish_reason":"stop"}]}` + "\n\n",
		`data: {"error":{"message":"boom"}}` + "\n\n",
	}})
	defer srv.Close()
	code, out, errOut := runCLI([]string{"-json", "-retries", "0", "-base-url", srv.URL, "hi"}, "", nil)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 1 || len(lines) != 2 || !strings.Contains(errOut, "boom") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if want := `{"choices":[{"finish_reason":null,"index":0,"message":{"role":"assistant","content":"ab"}}]`; !strings.HasPrefix(lines[1], want) {
		t.Fatalf("completion line %s, want it to start with %s", lines[1], want)
	}
}
