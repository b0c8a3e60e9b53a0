package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockchat/lockchat/lockchattest"
)

// newEditorCLI returns surroundings where standard input is a terminal that takes raw
// mode (pretended), so that the chat reads its lines through the editor; the history is
// kept under state, an XDG_STATE_HOME of its own.
func newEditorCLI(input, state string) *cli {
	c := newChatCLI(strings.NewReader(input), map[string]string{"TERM": "dumb", "XDG_STATE_HOME": state})
	c.sys.makeRaw = func() (func(), error) { return func() {}, nil }
	c.sys.termSize = func() (int, int) { return 80, 24 }
	return c
}

// sentMessages returns the last user message of each request.
func sentMessages(srv *lockchattest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		out = append(out, r.Messages[len(r.Messages)-1].Content)
	}
	return out
}

// runEditor runs a chat that types keys, to its end, and returns the exit status and
// what the server received.
func runEditor(t *testing.T, keys, state string, args ...string) (code int, sent []string, c *cli) {
	t.Helper()
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	c = newEditorCLI(keys, state)
	code = c.run(context.Background(), append([]string{"-base-url", srv.URL}, args...)...)
	return code, sentMessages(srv), c
}

// TestEditorKeys types what a person would, cursor keys and all, and checks that the
// server receives the edited lines and never an escape sequence.
func TestEditorKeys(t *testing.T) {
	steps := []struct{ keys, want string }{
		{"first\x1b[A\x1b[D\r", "first"},                     // Up with no history, Left: the report
		{"ab\x1b[Dc\x1b[C!\x1b[H> \r", "> acb!"},             // Left, insert, Right, Home
		{"ab\x1b[1~<\x1b[4~>\r", "<ab>"},                     // Home and End as tmux sends them
		{"ab\x01[\x05]\r", "[ab]"},                           // Ctrl-A, Ctrl-E
		{"one two three\x17\x17four\r", "one four"},          // Ctrl-W twice
		{"abcdef\x01\x1b[C\x1b[C\x0b\r", "ab"},               // Ctrl-K: to the end
		{"abcdef\x1b[D\x1b[D\x15X\r", "Xef"},                 // Ctrl-U: to the start
		{"abc\x1b[D\x1b[3~\x7f\r", "a"},                      // Delete, then Backspace
		{"abc\x1b[D\x04\r", "ab"},                            // Ctrl-D on a line with text deletes
		{"\x1b[15~h\x1bOD\x1bOCi\x1b[1;5D\x1b[1;5C\r", "hi"}, // F5 dropped; arrows in application mode; Ctrl-Left/Right
		{"\x1b[A\r", "hi"},                                   // Up recalls the last line
		{"\x1b[A\x1b[A\x1b[A\x1b[B\r", "ab"},                 // Up three times, Down once
		{"tab\there\r", "tabhere"},                           // a typed Tab is not text
		{"/bye\r", ""},
	}
	var keys []string
	var want []string
	for _, s := range steps {
		keys = append(keys, s.keys)
		if s.want != "" {
			want = append(want, s.want)
		}
	}
	code, sent, c := runEditor(t, strings.Join(keys, ""), t.TempDir())
	if code != 0 || strings.Join(sent, "|") != strings.Join(want, "|") {
		t.Fatalf("exit %d, sent %q, want %q; stderr %q", code, sent, want, c.stderr.String())
	}
}

func TestEditorCtrlDLeaves(t *testing.T) {
	if code, sent, _ := runEditor(t, "hi\r\x04", t.TempDir()); code != 0 || len(sent) != 1 {
		t.Fatalf("exit %d, sent %q", code, sent)
	}
}

// TestEditorPaste checks that a bracketed paste is one message, as pasted, sent with
// what is typed after it on its last line.
func TestEditorPaste(t *testing.T) {
	paste := func(s string) string { return "\x1b[200~" + s + "\x1b[201~" }
	steps := []struct{ keys, want string }{
		// tmux's paste-buffer sends each newline as CR; a terminal may send LF.
		{paste("  def f():\r      return 1\r\r  # end\r") + "\r", "  def f():\n      return 1\n\n  # end"},
		{paste("\n\n  first\n  second\n") + "\r", "  first\n  second"},
		{paste("a\rb") + " and more\r", "a\nb and more"},
		{"Look: " + paste("x\ry") + "\r", "Look: x\ny"}, // a paste into a line with text
		{paste("/bye\r\"\"\"\rend \\\r") + "\r", "/bye\n\"\"\"\nend \\"},
		{paste("red \x1b[31mtext\x07\r") + "\r", "red \uFFFDtext"}, // the editor makes the sequence one U+FFFD
		{"\"\"\"\r" + paste("p1\r  p2\r") + "p3\"\"\"\r", "p1\n  p2\np3"},
		{paste("one line") + "\r", "one line"},
		{"/bye\r", ""},
	}
	var keys, want []string
	for _, s := range steps {
		keys = append(keys, s.keys)
		if s.want != "" {
			want = append(want, s.want)
		}
	}
	state := t.TempDir()
	code, sent, c := runEditor(t, strings.Join(keys, ""), state)
	if code != 0 || strings.Join(sent, "|") != strings.Join(want, "|") {
		t.Fatalf("exit %d, sent %q, want %q; stderr %q", code, sent, want, c.stderr.String())
	}
	// The history holds no line of a paste of several: only lines sent by themselves
	// (a one-line paste is one).
	b, err := os.ReadFile(filepath.Join(state, "lockchat", "history"))
	if err != nil || string(b) != "\"\"\"\none line\n/bye\n" {
		t.Fatalf("history %q, %v", b, err)
	}
}

// TestEditorCtrlC checks Ctrl-C at the prompt: it clears a line with text; on an empty
// line it says how to leave, and right after that leaves; inside a multi-line message it
// drops the message.
func TestEditorCtrlC(t *testing.T) {
	keys := "some text\x03" + // cleared, not sent
		"\x03" + // the hint
		"x\x7f\x03" + // not right after the last Ctrl-C: the hint again
		"after\r" +
		"\"\"\"\rkept?\rhalf\x03" + // clears the line; the message is still under way
		"\x03" + // drops the message
		"\x03\x03" // the hint, then leaves
	code, sent, c := runEditor(t, keys, t.TempDir())
	if code != 130 || strings.Join(sent, "|") != "after" {
		t.Fatalf("exit %d, sent %q; stderr %q", code, sent, c.stderr.String())
	}
	errOut := c.stderr.String()
	if n := strings.Count(errOut, leaveHint); n != 3 || strings.Count(errOut, "(the multi-line message was dropped)") != 1 {
		t.Fatalf("%d hints; stderr %q", n, errOut)
	}
}

// TestEditorHistoryFile checks that the lines typed are kept across runs, and that -no-history
// neither reads nor writes them.
func TestEditorHistoryFile(t *testing.T) {
	state := t.TempDir()
	file := filepath.Join(state, "lockchat", "history")
	if code, _, _ := runEditor(t, "remember me\r/bye\r", state); code != 0 {
		t.Fatalf("exit %d", code)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("history file: %v, %v", fi, err)
	}
	dir, err := os.Stat(filepath.Dir(file))
	if err != nil || dir.Mode().Perm() != 0o700 {
		t.Fatalf("history directory: %v, %v", dir, err)
	}
	// The next run recalls the line with Up, two lines back (/bye is the last).
	if _, sent, _ := runEditor(t, "\x1b[A\x1b[A\r/bye\r", state); strings.Join(sent, "|") != "remember me" {
		t.Fatalf("sent %q", sent)
	}
	// -no-history: Up finds nothing from the file, and the file is left as it was.
	before, _ := os.ReadFile(file)
	if _, sent, _ := runEditor(t, "\x1b[Anew\r/bye\r", state, "-no-history"); strings.Join(sent, "|") != "new" {
		t.Fatalf("sent %q", sent)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Fatalf("-no-history changed the file: %q, was %q", after, before)
	}
}

// TestEditorHistoryKeepsNoSecrets types a line with a key in it: it is sent (the user
// chose to), but neither kept in the file nor recalled.
func TestEditorHistoryKeepsNoSecrets(t *testing.T) {
	state := t.TempDir()
	keys := "plain\r" +
		"my key is sk-proj-RECOGNISABLE0123456789\r" +
		"the API key: K3y-RECOGNISABLE\r" + // the key this run uses
		"\x1b[A\r/bye\r" // Up recalls "plain"
	code, sent, _ := runEditor(t, keys, state, "-api-key", "K3y-RECOGNISABLE")
	if code != 0 || len(sent) != 4 || sent[3] != "plain" {
		t.Fatalf("exit %d, sent %q", code, sent)
	}
	b, _ := os.ReadFile(filepath.Join(state, "lockchat", "history"))
	if strings.Contains(string(b), "RECOGNISABLE") || string(b) != "plain\n/bye\n" {
		t.Fatalf("history %q", b)
	}
}
