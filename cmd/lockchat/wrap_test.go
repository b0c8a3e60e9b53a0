package main

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lockchat/lockchat/lockchattest"
)

// wrapAll wraps text given in pieces of n runes, as a stream would deliver it.
func wrapAll(width int, text string, n int) string {
	w := &wrapper{width: width}
	var out strings.Builder
	runes := []rune(text)
	for i := 0; i < len(runes); i += n {
		out.WriteString(w.write(string(runes[i:min(i+n, len(runes))])))
	}
	return out.String() + w.flush()
}

// columns returns the widest line of s in terminal columns.
func columns(s string) int {
	widest := 0
	for _, line := range strings.Split(s, "\n") {
		cols := 0
		for _, r := range line {
			cols += runeWidth(r)
		}
		widest = max(widest, cols)
	}
	return widest
}

func TestWrap(t *testing.T) {
	cases := []struct {
		name  string
		width int
		text  string
		want  string
	}{
		{"fits", 20, "short text", "short text"},
		{"at a space", 10, "the quick brown fox jumps", "the quick\nbrown fox\njumps"},
		{"a word that fills the line", 5, "abcde fgh", "abcde\nfgh"},
		{"spaces at a break are dropped", 5, "abc    def", "abc\ndef"},
		{"newlines kept", 10, "one\n\ntwo three four", "one\n\ntwo three\nfour"},
		{"a word longer than the line", 4, "ab abcdefghij cd", "ab\nabcd\nefgh\nij\ncd"},
		{"Cyrillic counts runes, not bytes", 10, "Привет мир, как дела", "Привет\nмир, как\nдела"},
		{"wide runes take two columns", 6, "日本語 テキスト", "日本語\nテキス\nト"},
		{"a wide rune never straddles the edge", 5, "a日本語", "a日本\n語"},
		{"emoji are wide", 4, "🙂🙂🙂", "🙂🙂\n🙂"},
		{"combining marks take no column", 3, "e\u0301e\u0301e\u0301 x", "e\u0301e\u0301e\u0301\nx"},
		{"a tab goes to the next stop", 10, "a\tb\tc", "a\tb\nc"},
		{"width 1", 1, "ab 日", "a\nb\n日"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{1, 2, 3, 1000} {
				if got := wrapAll(tc.width, tc.text, n); got != tc.want {
					t.Fatalf("in pieces of %d runes: %q, want %q", n, got, tc.want)
				}
			}
		})
	}
}

// TestWrapNeverOverflows wraps a long text at many widths: no line is wider than the
// width but for a lone rune wider than it, and only spaces are lost.
func TestWrapNeverOverflows(t *testing.T) {
	text := strings.Repeat("Lorem ipsum dolor sit amet, Привет 日本語テキスト 🙂 https://example.com/a/very/long/path/that/never/ends ", 5)
	for width := 1; width <= 50; width++ {
		got := wrapAll(width, text, 7)
		if c := columns(got); c > max(width, 2) {
			t.Fatalf("width %d: a line of %d columns in %q", width, c, got)
		}
		if !utf8.ValidString(got) || strings.ReplaceAll(strings.ReplaceAll(got, "\n", ""), " ", "") != strings.ReplaceAll(text, " ", "") {
			t.Fatalf("width %d: text changed: %q", width, got)
		}
	}
}

// TestAnswerWrapsOnATerminal checks the answer as printed: wrapped to the terminal's
// width, with the reasoning dim and wrapped too; not wrapped when piped.
func TestAnswerWrapsOnATerminal(t *testing.T) {
	reply := lockchattest.Reply{Reasoning: []string{"I think ", "about it"}, Tokens: []string{"The answer ", "is forty", " two."}}
	srv := lockchattest.NewServer(reply)
	defer srv.Close()
	c := newChatCLI(strings.NewReader(""), map[string]string{"TERM": "xterm"})
	c.sys.stdinTerminal = false
	c.sys.termSize = func() (int, int) { return 12, 24 }
	if code := c.run(context.Background(), "-base-url", srv.URL, "hi"); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, c.stderr.String())
	}
	if want := dimOn + "I think\nabout it" + dimOff + "\n\nThe answer\nis forty\ntwo.\n"; c.stdout.String() != want {
		t.Fatalf("stdout %q, want %q", c.stdout.String(), want)
	}
	code, out, _ := runCLI([]string{"-base-url", srv.URL, "hi"}, "", nil)
	if code != 0 || out != "The answer is forty two.\n" {
		t.Fatalf("piped: exit %d, stdout %q", code, out)
	}
}
