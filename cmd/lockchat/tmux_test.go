//go:build tmux

package main

// These tests run the command in a real terminal, tmux, and type at it as a person
// would: send-keys for keys, paste-buffer -p for a bracketed paste, capture-pane to read
// the screen; the server is a lockchattest server in this process, on loopback, which
// records what it received. Run them with
//
//	go test -tags tmux -run TestTmux ./cmd/lockchat
//
// (CI does; they need tmux.) Each run uses a tmux server of its own, on a private
// socket, and kills it at the end.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockchat/lockchat/lockchattest"
)

// tmuxSession is one command running in a tmux window of 40 columns.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
}

// tmuxRun runs tmux on the private socket.
func tmuxRun(t *testing.T, socket string, args ...string) string {
	t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", socket}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux %q: %v: %s", args, err, out)
	}
	return string(out)
}

// start runs the command with args in a new session; the shell prints its exit status
// after it, and the window stays for the screen to be read.
func (s *tmuxSession) start(bin, state string, args ...string) {
	s.t.Helper()
	cmd := fmt.Sprintf("%s %s; echo EXIT=$?; sleep 600", bin, strings.Join(args, " "))
	tmuxRun(s.t, s.socket, "new-session", "-d", "-s", s.name, "-x", "40", "-y", "50",
		"-e", "XDG_STATE_HOME="+state, "-e", "LOCKCHAT_MODEL=", cmd)
	s.waitFor(">>>") // capture-pane drops the space after it
}

// stop ends the session.
func (s *tmuxSession) stop() { tmuxRun(s.t, s.socket, "kill-session", "-t", "="+s.name) }

// keys types keys, in send-keys' names (Enter, Left, C-c…) or as text.
func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	tmuxRun(s.t, s.socket, append([]string{"send-keys", "-t", "=" + s.name + ":"}, keys...)...)
}

// paste pastes text as a terminal does, between bracketed paste markers.
func (s *tmuxSession) paste(text string) {
	s.t.Helper()
	tmuxRun(s.t, s.socket, "set-buffer", "-b", "lockchat-test", "--", text)
	tmuxRun(s.t, s.socket, "paste-buffer", "-p", "-d", "-b", "lockchat-test", "-t", "="+s.name+":")
}

// screen returns what the window shows, without the empty lines at its end.
func (s *tmuxSession) screen() string {
	s.t.Helper()
	return strings.TrimRight(tmuxRun(s.t, s.socket, "capture-pane", "-p", "-t", "="+s.name+":"), "\n")
}

// waitFor waits until the screen shows want, and returns the screen.
func (s *tmuxSession) waitFor(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		screen := s.screen()
		if strings.Contains(screen, want) {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen never showed %q:\n%s", want, screen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lastLine returns the screen's last line.
func (s *tmuxSession) lastLine() string {
	lines := strings.Split(s.screen(), "\n")
	return lines[len(lines)-1]
}

// waitRequests waits until srv has received n requests, and returns the last user
// message of each.
func waitRequests(t *testing.T, srv *lockchattest.Server, n int) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for len(srv.Requests()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests, want %d", len(srv.Requests()), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return sentMessages(srv)
}

const longAnswer = "Streaming answers arrive a few words at a time, and a terminal that breaks them " +
	"wherever its edge falls cuts words in two. Wrapped at spaces, every line ends between words, " +
	"and extraordinarily long words still fit."

func TestTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("no tmux")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "lockchat")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	socket := fmt.Sprintf("lockchat-test-%d", os.Getpid())
	t.Cleanup(func() { exec.Command("tmux", "-L", socket, "kill-server").Run() })
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: strings.SplitAfter(longAnswer, " ")})
	defer srv.Close()
	state := filepath.Join(dir, "state")
	args := []string{"-base-url", srv.URL, "-model", "m"}
	s := &tmuxSession{t: t, socket: socket, name: "chat"}
	s.start(bin, state, args...)
	n := 0 // requests so far
	// nextRequest waits for the next request and returns its last message.
	nextRequest := func() string {
		t.Helper()
		n++
		return waitRequests(t, srv, n)[n-1]
	}

	t.Run("type, move the cursor, edit, send", func(t *testing.T) {
		s.t = t
		s.keys("helo wrld", "Left", "Left", "Left", "o", "Home", "Right", "Right", "Right", "l", "End", "!")
		if got := s.waitFor(">>> hello world!"); strings.Contains(got, "^[") {
			t.Fatalf("escape sequences on screen:\n%s", got)
		}
		s.keys("C-a", "C-k", "once more", "C-w", "C-w", "again", "C-u", "hello world!!", "BSpace", "Enter")
		if sent := nextRequest(); sent != "hello world!" {
			t.Fatalf("the server received %q", sent)
		}
		s.waitFor("still fit.")
	})

	t.Run("a long answer is wrapped at spaces to 40 columns", func(t *testing.T) {
		s.t = t
		screen := s.waitFor("still fit.")
		start := strings.Index(screen, "Streaming")
		end := strings.Index(screen, "still fit.") + len("still fit.")
		lines := strings.Split(screen[start:end], "\n")
		for _, line := range lines {
			if len([]rune(line)) > 40 {
				t.Errorf("a line of %d columns: %q", len([]rune(line)), line)
			}
		}
		if got := strings.Join(lines, " "); got != longAnswer || len(lines) < 5 {
			t.Fatalf("the answer as wrapped, joined again at spaces, is not the answer:\n%s", screen[start:end])
		}
	})

	t.Run("Up recalls a line, and it is sent again", func(t *testing.T) {
		s.t = t
		s.keys("Up")
		s.waitFor(">>> hello world!")
		s.keys("Enter")
		if sent := nextRequest(); sent != "hello world!" {
			t.Fatalf("the server received %q", sent)
		}
	})

	t.Run("a paste of three indented lines is one message", func(t *testing.T) {
		s.t = t
		s.waitFor("still fit.\n\n>>>")
		s.paste("def f():\n    x = 1\n    return x\n")
		s.waitFor("...     return x")
		s.keys("Enter")
		if sent := nextRequest(); sent != "def f():\n    x = 1\n    return x" {
			t.Fatalf("the server received %q", sent)
		}
		time.Sleep(200 * time.Millisecond)
		if len(srv.Requests()) != n {
			t.Fatalf("%d requests, want %d", len(srv.Requests()), n)
		}
	})

	t.Run("Ctrl-C clears a line with text, says how to leave on an empty one, and leaves on the second", func(t *testing.T) {
		s.t = t
		s.waitFor("still fit.\n\n>>>")
		s.keys("not to be sent")
		s.waitFor(">>> not to be sent")
		s.keys("C-c")
		deadline := time.Now().Add(5 * time.Second)
		for s.lastLine() != ">>>" && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if got := s.lastLine(); got != ">>>" {
			t.Fatalf("after Ctrl-C the line shows %q", got)
		}
		s.keys("C-c")
		s.waitFor("(/bye or Ctrl-D leaves;") // the hint, which the 40 columns wrap
		s.keys("C-c")
		s.waitFor("EXIT=130")
		if len(srv.Requests()) != n {
			t.Fatalf("%d requests, want %d", len(srv.Requests()), n)
		}
		s.stop()
	})

	t.Run("the history is there in the next run", func(t *testing.T) {
		s = &tmuxSession{t: t, socket: socket, name: "again"}
		s.start(bin, state, args...)
		s.keys("Up")
		s.waitFor(">>> hello world!")
		s.keys("C-u", "/bye", "Enter")
		s.waitFor("EXIT=0")
		s.stop()
		b, err := os.ReadFile(filepath.Join(state, "lockchat", "history"))
		if err != nil || string(b) != "hello world!\n/bye\n" {
			t.Fatalf("history %q, %v", b, err)
		}
	})

	t.Run("/save, leave, -load, and the conversation goes on", func(t *testing.T) {
		file := filepath.Join(dir, "chat.json")
		s = &tmuxSession{t: t, socket: socket, name: "save"}
		s.start(bin, state, args...)
		s.keys("first question", "Enter")
		nextRequest()
		s.waitFor("still fit.")
		s.keys("/save "+file, "Enter")
		s.waitFor("messages saved")
		s.keys("/bye", "Enter")
		s.waitFor("EXIT=0")
		s.stop()

		s = &tmuxSession{t: t, socket: socket, name: "load"}
		s.start(bin, state, "-base-url", srv.URL, "-load", file)
		s.waitFor("Going on with the 2 messages")
		s.keys("and then?", "Enter")
		nextRequest()
		r := srv.Requests()[n-1]
		var got []string
		for _, m := range r.Messages {
			got = append(got, m.Role+": "+m.Content)
		}
		if want := []string{"user: first question", "assistant: " + longAnswer, "user: and then?"}; strings.Join(got, "|") != strings.Join(want, "|") || r.Model != "m" {
			t.Fatalf("model %q, messages %q", r.Model, got)
		}
		s.keys("C-d")
		s.waitFor("EXIT=0")
		s.stop()
	})

	// Nothing the terminal sent as an escape sequence reached the server.
	for _, r := range srv.Requests() {
		if strings.Contains(string(r.Body), `\u001b`) {
			t.Errorf("an escape sequence reached the server: %s", r.Body)
		}
	}
}
