package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lockchat/lockchat/lockchattest"
)

func TestComposer(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		want  []string // the messages completed, in order
	}{
		{"single lines", []string{"a", "b"}, []string{"a", "b"}},
		{"backslash", []string{`one \`, `two\`, "three"}, []string{"one \ntwo\nthree"}},
		{"triple quotes", []string{`"""`, "a", "", `b"""`, "c"}, []string{"a\n\nb", "c"}},
		{"triple quotes with text on the first line", []string{`"""a`, "b", `"""`}, []string{"a\nb"}},
		{"one-line triple quotes", []string{`"""a"""`}, []string{"a"}},
		{"backslash inside quotes is text", []string{`"""`, `a\`, `"""`}, []string{`a\`}},
		{"quotes after a backslash are text", []string{`a\`, `"""b`}, []string{"a\n\"\"\"b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c composer
			var got []string
			for _, l := range tc.lines {
				if msg, ok := c.add(l); ok {
					got = append(got, msg)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || c.pending() {
				t.Fatalf("messages %q (pending %v), want %q", got, c.pending(), tc.want)
			}
		})
	}
}

func TestJoinPrompt(t *testing.T) {
	cases := []struct{ args, stdin, want string }{
		{"summarise this:", "line 1\nline 2\n", "summarise this:\n\nline 1\nline 2"},
		{"summarise this:", "\n\n    indented\n\n", "summarise this:\n\n    indented"},
		{"summarise this:", " \n\t\n", "summarise this:"},
		{"", "  question \n", "question"},
		{"", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.args+"|"+tc.stdin, func(t *testing.T) {
			if got := joinPrompt(tc.args, tc.stdin); got != tc.want {
				t.Fatalf("%q, want %q", got, tc.want)
			}
		})
	}
}

// TestPromptAndStdin checks the rule for a prompt argument with standard input: read
// it when it delivers something or its end in time, else send the arguments alone.
func TestPromptAndStdin(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	sent := func() string {
		reqs := srv.Requests()
		return reqs[len(reqs)-1].Messages[0].Content
	}

	t.Run("a pipe with data", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		w.WriteString("file contents\n")
		w.Close()
		c := newCLI(r, nil)
		if code := c.run(context.Background(), "-base-url", srv.URL, "summarise", "this:"); code != 0 || sent() != "summarise this:\n\nfile contents" {
			t.Fatalf("exit %d, sent %q, stderr %q", code, sent(), c.stderr.String())
		}
	})
	t.Run("a regular file", func(t *testing.T) {
		f, err := os.CreateTemp(t.TempDir(), "input")
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("from a file")
		f.Seek(0, 0)
		defer f.Close()
		c := newCLI(f, nil)
		if code := c.run(context.Background(), "-base-url", srv.URL, "read:"); code != 0 || sent() != "read:\n\nfrom a file" {
			t.Fatalf("exit %d, sent %q, stderr %q", code, sent(), c.stderr.String())
		}
	})
	t.Run("/dev/null", func(t *testing.T) {
		null, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer null.Close()
		c := newCLI(null, nil)
		if code := c.run(context.Background(), "-base-url", srv.URL, "alone"); code != 0 || sent() != "alone" || c.stderr.String() != "" {
			t.Fatalf("exit %d, sent %q, stderr %q", code, sent(), c.stderr.String())
		}
	})
	t.Run("an open pipe nobody writes to", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close() // ends the goroutine still reading it
		c := newCLI(r, nil)
		c.sys.stdinGrace = 20 * time.Millisecond
		code := c.run(context.Background(), "-base-url", srv.URL, "alone")
		if code != 0 || sent() != "alone" || !strings.Contains(c.stderr.String(), "sending the arguments alone") {
			t.Fatalf("exit %d, sent %q, stderr %q", code, sent(), c.stderr.String())
		}
	})
}

func TestBadStdin(t *testing.T) {
	cases := []struct {
		name  string
		stdin func() *strings.Reader
		want  string
	}{
		{"not UTF-8", func() *strings.Reader { return strings.NewReader("caf\xe9 au lait") }, "lockchat: standard input is not UTF-8 text (at byte 3); nothing was sent\n"},
		{"too large", func() *strings.Reader { return strings.NewReader(strings.Repeat("a", maxInput+1)) }, "lockchat: standard input is larger than 32 MiB; nothing was sent\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(tc.stdin(), nil)
			code := c.run(context.Background(), "-base-url", "http://127.0.0.1:1/v1")
			if code != 1 || c.stderr.String() != tc.want {
				t.Fatalf("exit %d, stderr %q", code, c.stderr.String())
			}
		})
	}
}

// TestInterruptWhileReadingStdin presses Ctrl-C while the prompt is still being read
// from a pipe: the command ends with 130 without waiting for the end of the input.
func TestInterruptWhileReadingStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	w.WriteString("the start of a long prompt")
	c := newCLI(r, nil)
	codes := make(chan int, 1)
	go func() { codes <- c.run(context.Background(), "-base-url", "http://127.0.0.1:1/v1") }()
	c.interrupts <- os.Interrupt
	if code := finish(t, codes); code != 130 || c.stderr.String() != "lockchat: interrupted\n" {
		t.Fatalf("exit %d, stderr %q", code, c.stderr.String())
	}
}
