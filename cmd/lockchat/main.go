// Command lockchat chats with, or sends one prompt to, any OpenAI-compatible server,
// streaming the answers.
//
// Usage:
//
//	lockchat [flags] [prompt...]
//
// With no prompt and standard input a terminal, lockchat starts a chat: each line, edited
// with the cursor keys and recalled with Up, is sent with the conversation so far, and
// the answer streams back, wrapped to the terminal; /help lists the commands and keys,
// /save and /load keep a conversation. Otherwise it is one-shot, for scripts: the prompt
// is the arguments, or standard input, or both, and the answer goes to standard output
// followed by a newline. Errors go to standard error with exit status 1; bad usage exits
// with 2; Ctrl-C exits with 130 (in the chat, twice at the prompt). -demo answers from
// an in-process fake server, so it needs no network. Run lockchat -h for the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// version is the command's version; -version adds the module's when the build knows it.
const version = "0.2.0"

// stdinGrace is how long one-shot mode waits for standard input to deliver something,
// or its end, when a prompt is given as arguments too.
const stdinGrace = time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, os.Interrupt)
	sys := &system{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		interrupts:     interrupts,
		stdinTerminal:  isTerminal(os.Stdin),
		stdoutTerminal: isTerminal(os.Stdout),
		termSize:       terminalSize(os.Stdout, os.Stdin),
		now:            time.Now,
		stdinGrace:     stdinGrace,
		demoDelay:      demoDelay,
	}
	if sys.stdinTerminal {
		sys.makeRaw = rawMode(os.Stdin)
	}
	code := run(ctx, os.Args[1:], sys)
	stop()
	os.Exit(code)
}

// system is what the command takes from its surroundings; tests pass their own.
type system struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// interrupts receives one value per Ctrl-C.
	interrupts <-chan os.Signal
	// stdinTerminal and stdoutTerminal say whether those are terminals: a chat needs
	// the first, and the second makes the output a terminal's (inline reasoning, control
	// sequences stripped).
	stdinTerminal, stdoutTerminal bool
	// makeRaw puts the terminal on standard input into raw mode, for the chat's line
	// editor, and returns the function that restores it; nil where there is none, and
	// the chat reads lines as the terminal driver edits them.
	makeRaw func() (restore func(), err error)
	// termSize reports the terminal's width and height: the editor's, and the width
	// answers wrap at on a terminal; 0 when it is not known (no wrapping).
	termSize   func() (width, height int)
	now        func() time.Time
	stdinGrace time.Duration // see the constant
	demoDelay  time.Duration // the demo server's pause before each piece
}

// run is the whole command. Cancelling ctx ends it with 130, as Ctrl-C does.
func run(ctx context.Context, args []string, sys *system) int {
	set, err := parseSettings(args, sys.getenv, sys.stdout, sys.stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	if set.version {
		fmt.Fprintln(sys.stdout, versionText())
		return 0
	}
	chatting := set.prompt == "" && sys.stdinTerminal
	if set.demo {
		srv := lockchattest.NewServer(demoReplies(sys.demoDelay)...)
		defer srv.Close()
		set.baseURL = srv.URL
		if chatting && !set.verboseSet {
			set.verbose = true // the tour shows the statistics too
		}
	}
	refusal, warning := plainHTTPProblem(set)
	if refusal != "" {
		fmt.Fprintln(sys.stderr, refusal)
		return 2
	}
	if warning != "" {
		fmt.Fprintln(sys.stderr, warning)
	}
	term := sys.getenv("TERM")
	s := &session{
		set:    set,
		sys:    sys,
		client: lockchat.New(set.clientOptions(lockchat.WithLogger(newRetryAnnouncer(sys.stderr)))...),
		model:  set.model,
		dim:    sys.stdoutTerminal && term != "" && term != "dumb" && sys.getenv("NO_COLOR") == "",
	}
	if set.listModels {
		if err := s.printModels(ctx, sys.stdout); err != nil {
			s.printError(err)
			return 1
		}
		return 0
	}
	if chatting {
		return newChat(s).run(ctx, banner(set))
	}
	return oneShot(ctx, s)
}

// printModels writes the server's models to w, one name a line, in the server's order.
func (s *session) printModels(ctx context.Context, w io.Writer) error {
	models, err := s.client.Models(ctx)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, m := range models {
		b.WriteString(stripAll(m.ID) + "\n")
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// banner is the chat's first line: what it talks to, and how to get help and leave.
func banner(set *settings) string {
	where := fmt.Sprintf("Chat with %s at %s.", stripAll(set.model), displayURL(set.baseURL))
	switch {
	case set.demo:
		where = "Demo: a fake server on this machine answers with scripted replies (streaming text, reasoning, a tool call, usage); type anything."
	case set.defaultModel:
		where += " That is lockchat's default model: -model or LOCKCHAT_MODEL chooses another, and /models lists the server's."
	}
	var fallbacks []string
	for _, f := range set.fallbacks {
		name := displayURL(f.baseURL)
		if f.model != "" {
			name += " (as " + stripAll(f.model) + ")"
		}
		fallbacks = append(fallbacks, name)
	}
	if fallbacks != nil {
		where += " If it fails: " + strings.Join(fallbacks, ", ") + "."
	}
	if set.loaded != nil {
		where += fmt.Sprintf(" Going on with the %d messages of %s.", len(set.loaded), stripAll(set.loadFile))
	}
	return where + " /help lists the commands; /bye or Ctrl-D leaves."
}

// oneShot sends one prompt and prints its answer.
func oneShot(ctx context.Context, s *session) int {
	sys := s.sys
	prompt, code := readPrompt(ctx, s)
	if code >= 0 {
		return code
	}
	// The conversation of -load, if any, then the prompt.
	messages := append(newChat(s).messages(), lockchat.Message{Role: "user", Content: prompt})
	actx, stop := untilInterrupt(ctx, sys.interrupts)
	completion, _, err := s.answer(actx, messages)
	stop()
	if err != nil {
		s.printError(err)
		if errors.Is(err, context.Canceled) {
			return 130
		}
		return 1
	}
	if s.set.json {
		return 0
	}
	// An answer with no text looks, to a script, like an empty answer: say what it was.
	switch msg := completion.Message(); {
	case msg.Content != "":
	case msg.Refusal != "":
		fmt.Fprintln(sys.stderr, lockchat.ErrRefusal)
		return 1
	case len(msg.ToolCalls) > 0:
		fmt.Fprintf(sys.stderr, "%v, and lockchat runs no tools\n", lockchat.ErrToolCalls)
		return 1
	}
	return 0
}

// readPrompt returns the one-shot prompt: the arguments, standard input, or both. When
// there are arguments, standard input is read only if it delivers something, or its
// end, within the grace period (a file, /dev/null, a pipe being written to); so that an
// open pipe nobody writes to (a CI runner's) never holds the command up. Its code is -1
// to go on, else the exit status.
func readPrompt(ctx context.Context, s *session) (prompt string, code int) {
	sys := s.sys
	if sys.stdinTerminal {
		return s.set.prompt, -1 // a prompt is given: a chat would have started otherwise
	}
	interrupted := func() (string, int) {
		fmt.Fprintln(sys.stderr, "lockchat: interrupted")
		return "", 130
	}
	rd := readStdin(sys.stdin)
	if s.set.prompt != "" {
		timer := time.NewTimer(sys.stdinGrace)
		defer timer.Stop()
		select {
		case <-rd.started:
		case <-timer.C:
			fmt.Fprintf(sys.stderr, "lockchat: standard input sent nothing within %s; sending the arguments alone\n", sys.stdinGrace)
			return s.set.prompt, -1
		case <-sys.interrupts:
			return interrupted()
		case <-ctx.Done():
			return interrupted()
		}
	}
	var res stdinResult
	select {
	case res = <-rd.done:
	case <-sys.interrupts:
		return interrupted()
	case <-ctx.Done():
		return interrupted()
	}
	if res.err != nil {
		fmt.Fprintln(sys.stderr, stripAll(res.err.Error()))
		return "", 1
	}
	if err := checkText("standard input", res.text); err != nil {
		fmt.Fprintln(sys.stderr, err)
		return "", 1
	}
	prompt = joinPrompt(s.set.prompt, res.text)
	if prompt == "" {
		fmt.Fprintln(sys.stderr, "lockchat: no prompt: give it as arguments or on standard input, or run lockchat in a terminal to chat")
		fmt.Fprintln(sys.stderr, "Run lockchat -h for the flags.")
		return "", 2
	}
	return prompt, -1
}

// versionText is what -version prints.
func versionText() string {
	v := "lockchat " + version
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v += " (module " + info.Main.Version + ")"
	}
	return v
}
