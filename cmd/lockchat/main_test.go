package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// syncBuffer is a bytes.Buffer that a test reads while the command writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli is one run of the command with fake surroundings.
type cli struct {
	sys            *system
	stdout, stderr *syncBuffer
	interrupts     chan os.Signal
}

// newCLI returns surroundings with stdin as standard input and env as the environment;
// standard input and output are not terminals, and the clock is real.
func newCLI(stdin io.Reader, env map[string]string) *cli {
	c := &cli{stdout: &syncBuffer{}, stderr: &syncBuffer{}, interrupts: make(chan os.Signal, 1)}
	c.sys = &system{
		stdin: stdin, stdout: c.stdout, stderr: c.stderr,
		getenv:     func(k string) string { return env[k] },
		interrupts: c.interrupts,
		now:        time.Now,
		stdinGrace: time.Minute, // tests that mean an idle pipe set their own
	}
	return c
}

func (c *cli) run(ctx context.Context, args ...string) int { return run(ctx, args, c.sys) }

// runCLI runs the command with the given arguments, standard input and environment.
func runCLI(args []string, stdin string, env map[string]string) (code int, stdout, stderr string) {
	c := newCLI(strings.NewReader(stdin), env)
	code = c.run(context.Background(), args...)
	return code, c.stdout.String(), c.stderr.String()
}

// waitFor waits until buf holds want. The limit only stops a test that would hang.
func waitFor(t *testing.T, buf *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("never saw %q; got %q", want, buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// finish waits for the exit status of a command run in the background.
func finish(t *testing.T, codes <-chan int) int {
	t.Helper()
	select {
	case code := <-codes:
		return code
	case <-time.After(30 * time.Second):
		t.Fatal("the command did not end")
		return 0
	}
}

func TestDemoOneShot(t *testing.T) {
	code, out, errOut := runCLI([]string{"-demo", "hi"}, "", nil)
	want := strings.Join(demoReplies(0)[0].Tokens, "") + "\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Standard output is not a terminal: the reasoning goes to standard error, labelled.
	if wantErr := "reasoning: " + strings.Join(demoReplies(0)[0].Reasoning, "") + "\n"; errOut != wantErr {
		t.Fatalf("stderr %q, want %q", errOut, wantErr)
	}
}

func TestFlagsReachTheServer(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"Да", " 👍"}})
	defer srv.Close()
	code, out, errOut := runCLI([]string{"-model", "gpt-4", "-system", "be brief", "-temperature", "0", "-api-key", "sk-flag",
		"-max-tokens", "64", "-param", "top_p=0.5", "-param", "user=alice", "-param", `seed="7"`, "-param", `stop=["\n"]`,
		"-header", "X-Trace: abc 123", "-header", "X-Trace:  def", "Как", "дела?"},
		"", map[string]string{"LOCKCHAT_BASE_URL": srv.URL})
	if code != 0 || out != "Да 👍\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	r := srv.Requests()[0]
	if r.Model != "gpt-4" || len(r.Messages) != 2 || r.Messages[0].Role != "system" || r.Messages[0].Content != "be brief" || r.Messages[1].Content != "Как дела?" {
		t.Fatalf("payload %s", r.Body)
	}
	if r.Payload["temperature"] != json.Number("0") || r.Header.Get("Authorization") != "Bearer sk-flag" {
		t.Fatalf("temperature %v, Authorization %q", r.Payload["temperature"], r.Header.Get("Authorization"))
	}
	wantPayload := map[string]string{"max_tokens": "64", "top_p": "0.5", "user": `"alice"`, "seed": `"7"`, "stop": `["\n"]`}
	for k, want := range wantPayload {
		got, _ := json.Marshal(r.Payload[k])
		if string(got) != want {
			t.Errorf("payload %s = %s, want %s", k, got, want)
		}
	}
	if got := r.Header.Values("X-Trace"); len(got) != 2 || got[0] != "abc 123" || got[1] != "def" {
		t.Errorf("X-Trace headers %q", got)
	}
	if _, ok := r.Payload["stream_options"]; ok {
		t.Errorf("usage was asked for without -verbose: %s", r.Body)
	}
}

func TestParamOverridesMaxTokens(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	code, _, errOut := runCLI([]string{"-base-url", srv.URL, "-max-tokens", "64", "-param", "max_tokens=8", "hi"}, "", nil)
	if code != 0 || srv.Requests()[0].Payload["max_tokens"] != json.Number("8") {
		t.Fatalf("exit %d, stderr %q, payload %s", code, errOut, srv.Requests()[0].Body)
	}
}

func TestEnvironment(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	other := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"other"}})
	defer other.Close()
	cases := []struct {
		name       string
		env        map[string]string
		args       []string
		wantServer *lockchattest.Server
		wantAuth   string
	}{
		{"OPENAI_ variables when LOCKCHAT_ ones are unset",
			map[string]string{"OPENAI_BASE_URL": srv.URL, "OPENAI_API_KEY": "sk-openai"}, nil, srv, "Bearer sk-openai"},
		{"LOCKCHAT_ variables first",
			map[string]string{"LOCKCHAT_BASE_URL": srv.URL, "OPENAI_BASE_URL": other.URL, "LOCKCHAT_API_KEY": "sk-lockchat", "OPENAI_API_KEY": "sk-openai"}, nil, srv, "Bearer sk-lockchat"},
		{"flags before both",
			map[string]string{"LOCKCHAT_BASE_URL": other.URL, "LOCKCHAT_API_KEY": "sk-lockchat"}, []string{"-base-url", srv.URL, "-api-key", "sk-flag"}, srv, "Bearer sk-flag"},
		{"no key at all", map[string]string{"LOCKCHAT_BASE_URL": srv.URL}, nil, srv, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(tc.wantServer.Requests())
			code, _, errOut := runCLI(append(tc.args, "hi"), "", tc.env)
			reqs := tc.wantServer.Requests()
			if code != 0 || len(reqs) != before+1 {
				t.Fatalf("exit %d, stderr %q, %d requests", code, errOut, len(reqs)-before)
			}
			if got := reqs[len(reqs)-1].Header.Get("Authorization"); got != tc.wantAuth {
				t.Fatalf("Authorization %q, want %q", got, tc.wantAuth)
			}
		})
	}
}

func TestPromptFromStdinAndKeyFromEnv(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	code, out, _ := runCLI([]string{"-base-url", srv.URL}, "  a question\n", map[string]string{"LOCKCHAT_API_KEY": "sk-env"})
	if code != 0 || out != "ok\n" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	r := srv.Requests()[0]
	if r.Messages[0].Content != "a question" || r.Header.Get("Authorization") != "Bearer sk-env" {
		t.Fatalf("prompt %q, Authorization %q", r.Messages[0].Content, r.Header.Get("Authorization"))
	}
}

func TestBadUsageExits2(t *testing.T) {
	cases := map[string][]string{
		"unknown flag":           {"-no-such-flag", "hi"},
		"no prompt":              {},
		"negative retries":       {"-retries", "-1", "hi"},
		"negative idle timeout":  {"-idle-timeout", "-1s", "hi"},
		"param without =":        {"-param", "top_p", "hi"},
		"reserved param":         {"-param", "model=gpt-4", "hi"},
		"header without colon":   {"-header", "X-Trace abc", "hi"},
		"header name with space": {"-header", "X Trace: abc", "hi"},
		"header value with CR":   {"-header", "X-Trace: a\rb", "hi"},
		"base URL without host":  {"-base-url", "localhost:8080", "hi"},
		"empty model":            {"-model", "", "hi"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(args, "", nil)
			if code != 2 || out != "" || errOut == "" {
				t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
}

// TestTheKeyIsNeverShown looks for the API key, and a credential given in a header,
// in everything the command prints: -h, bad usage, errors.
func TestTheKeyIsNeverShown(t *testing.T) {
	const key = "sk-RECOGNISABLE-0123456789"
	srv := lockchattest.NewServer(lockchattest.Reply{Status: 401, Error: lockchattest.ErrorBody{
		Message: "Incorrect API key provided: " + key, Code: "invalid_api_key"}})
	defer srv.Close()
	env := map[string]string{"LOCKCHAT_API_KEY": key, "OPENAI_API_KEY": key, "LOCKCHAT_BASE_URL": "https://user:" + key + "@example.invalid/v1"}
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"-h", []string{"-h"}, 0},
		{"bad usage", []string{"-no-such-flag"}, 2},
		{"a bad header quoting the key", []string{"-header", "Authorization: Bearer " + key + "\nX: y", "hi"}, 2},
		{"a bad param", []string{"-param", key, "hi"}, 2},
		{"the server quotes the key", []string{"-base-url", srv.URL, "-retries", "0", "hi"}, 1},
		{"no server", []string{"-base-url", "http://127.0.0.1:1/v1", "-retries", "0", "hi"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(tc.args, "", env)
			if code != tc.code || out+errOut == "" {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q", code, tc.code, out, errOut)
			}
			if strings.Contains(out+errOut, "RECOGNISABLE") {
				t.Errorf("the key leaked: stdout %q, stderr %q", out, errOut)
			}
		})
	}
}

func TestPlainHTTPCredentials(t *testing.T) {
	cases := []struct {
		base     string
		key      string
		headers  []header
		insecure bool
		refuse   bool
		warn     bool
	}{
		{base: lockchat.DefaultBaseURL, key: "sk-x", refuse: true},
		{base: lockchat.DefaultBaseURL, key: "sk-x", insecure: true, warn: true},
		{base: "http://api.example.com/v1", headers: []header{{"Authorization", "Bearer sk-x"}}, refuse: true},
		{base: "http://api.example.com/v1", headers: []header{{"X-Goog-Api-Key", "sk-x"}}, refuse: true},
		{base: "http://api.example.com/v1", headers: []header{{"X-Trace", "1"}}},
		{base: lockchat.DefaultBaseURL},
		{base: "https://api.example.com/v1", key: "sk-x"},
		{base: "http://127.0.0.1:8080/v1", key: "sk-x"},
		{base: "http://[::1]:8080/v1", key: "sk-x"},
		{base: "http://localhost:11434/v1", key: "sk-x"},
	}
	for _, tc := range cases {
		t.Run(tc.base, func(t *testing.T) {
			refusal, warning := plainHTTPProblem(&settings{baseURL: tc.base, apiKey: tc.key, headers: tc.headers, insecureHTTP: tc.insecure})
			if (refusal != "") != tc.refuse || (warning != "") != tc.warn || strings.Contains(refusal+warning, "sk-x") {
				t.Fatalf("refusal %q, warning %q; want %v, %v", refusal, warning, tc.refuse, tc.warn)
			}
			if tc.refuse && !strings.Contains(refusal, "-insecure-http") {
				t.Errorf("the refusal %q does not say how to opt in", refusal)
			}
		})
	}

	// Through run: a key for a plain-http host stops the command before anything is sent.
	code, out, errOut := runCLI([]string{"hi"}, "", map[string]string{"LOCKCHAT_API_KEY": "sk-secret"})
	if code != 2 || out != "" || !strings.Contains(errOut, "refusing to send the API key over plain http:// to supertest.lockchat.app") ||
		strings.Contains(errOut, "sk-secret") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// A loopback server with a key gets no warning.
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	if code, _, errOut := runCLI([]string{"-base-url", srv.URL, "-api-key", "sk-x", "hi"}, "", nil); code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// TestOpenAIKeyOnlyForAChosenServer checks that OPENAI_API_KEY, set on many machines for
// OpenAI, is never sent to the Lockchat default, only to a server the user named.
func TestOpenAIKeyOnlyForAChosenServer(t *testing.T) {
	env := map[string]string{"OPENAI_API_KEY": "sk-openai"}
	settingsOf := func(args ...string) *settings {
		t.Helper()
		set, err := parseSettings(args, func(k string) string { return env[k] }, io.Discard, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	if set := settingsOf("hi"); set.apiKey != "" || set.baseURL != lockchat.DefaultBaseURL {
		t.Errorf("with the default server: key %q, base URL %q; want no key", set.apiKey, set.baseURL)
	}
	if set := settingsOf("-base-url", "https://api.openai.com/v1", "hi"); set.apiKey != "sk-openai" {
		t.Errorf("with -base-url: key %q, want OPENAI_API_KEY", set.apiKey)
	}
	env["OPENAI_BASE_URL"] = "https://api.openai.com/v1"
	if set := settingsOf("hi"); set.apiKey != "sk-openai" || set.baseURL != "https://api.openai.com/v1" {
		t.Errorf("with OPENAI_BASE_URL: key %q, base URL %q", set.apiKey, set.baseURL)
	}
	env = map[string]string{"OPENAI_API_KEY": "sk-openai", "LOCKCHAT_API_KEY": "sk-lockchat"}
	if set := settingsOf("-base-url", "https://example.com/v1", "hi"); set.apiKey != "sk-lockchat" {
		t.Errorf("LOCKCHAT_API_KEY must come first: key %q", set.apiKey)
	}

	// Through run, against a loopback server: the default's place is taken by the
	// server, and only OPENAI_BASE_URL makes the key go.
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	code, _, errOut := runCLI([]string{"hi"}, "", map[string]string{"OPENAI_API_KEY": "sk-openai", "OPENAI_BASE_URL": srv.URL})
	if code != 0 || srv.Requests()[0].Header.Get("Authorization") != "Bearer sk-openai" {
		t.Fatalf("exit %d, stderr %q, Authorization %q", code, errOut, srv.Requests()[0].Header.Get("Authorization"))
	}
}

func TestVersion(t *testing.T) {
	code, out, errOut := runCLI([]string{"-version"}, "", nil)
	if code != 0 || !strings.HasPrefix(out, "lockchat "+version) || errOut != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestErrorsExit1(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Status: 400, Error: lockchattest.ErrorBody{Message: "bad \x1b[2Jrequest\x07"}})
	defer srv.Close()
	code, out, errOut := runCLI([]string{"-base-url", srv.URL, "hi"}, "", nil)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "lockchat: HTTP 400") || strings.Count(errOut, "lockchat:") != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if strings.ContainsAny(errOut, "\x1b\x07") || !strings.Contains(errOut, "bad request") {
		t.Fatalf("the server's message was not stripped of control sequences: %q", errOut)
	}
}

func TestTimeoutPerAnswer(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b"}, Delay: time.Hour})
	defer srv.Close()
	code, _, errOut := runCLI([]string{"-base-url", srv.URL, "-timeout", "50ms", "hi"}, "", nil)
	if code != 1 || errOut != "lockchat: no complete answer within -timeout 50ms\n" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestNoTextAnswers(t *testing.T) {
	cases := []struct {
		name    string
		reply   lockchattest.Reply
		wantErr string
	}{
		{"refusal", lockchattest.Reply{Refusal: []string{"I can", "not."}}, "refusal: I cannot.\nlockchat: the model refused\n"},
		{"tool call", lockchattest.Reply{ToolCalls: []lockchat.ToolCall{{ID: "c1", Name: "get_time", Arguments: `{}`}}},
			"tool call get_time {}\nlockchat: the answer is tool calls, and lockchat runs no tools\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := lockchattest.NewServer(tc.reply)
			defer srv.Close()
			code, out, errOut := runCLI([]string{"-base-url", srv.URL, "hi"}, "", nil)
			if code != 1 || out != "\n" || errOut != tc.wantErr {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
}

func TestInterruptExits130(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Raw: []string{`data: {"choices":[{"delta":{"content":"first"}}]}` + "\n\n"}, KeepOpen: true})
	defer srv.Close()
	c := newCLI(strings.NewReader(""), nil)
	codes := make(chan int, 1)
	go func() { codes <- c.run(context.Background(), "-base-url", srv.URL, "hi") }()
	waitFor(t, c.stdout, "first")
	c.interrupts <- os.Interrupt
	if code := finish(t, codes); code != 130 || c.stdout.String() != "first\n" || c.stderr.String() != "lockchat: interrupted\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, c.stdout.String(), c.stderr.String())
	}
}

func TestCancelExits130(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b"}, Delay: time.Hour})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	code, _, errOut := newCLIRun(ctx, []string{"-base-url", srv.URL, "hi"})
	if code != 130 {
		t.Fatalf("exit %d, stderr %q; want 130", code, errOut)
	}
}

func newCLIRun(ctx context.Context, args []string) (int, string, string) {
	c := newCLI(strings.NewReader(""), nil)
	code := c.run(ctx, args...)
	return code, c.stdout.String(), c.stderr.String()
}

// TestInterruptSignal runs the real command in a child process and presses Ctrl-C
// (SIGINT): once the first token is out, and while it waits for a prompt on a pipe.
func TestInterruptSignal(t *testing.T) {
	if args := os.Getenv("LOCKCHAT_CLI_CHILD_ARGS"); args != "" {
		os.Args = append([]string{"lockchat"}, strings.Fields(args)...)
		os.Stdout.WriteString("ready\n") // main installs its signal handlers at once
		main()
		return
	}
	srv := lockchattest.NewServer(lockchattest.Reply{Raw: []string{
		`data: {"choices":[{"delta":{"content":"first"}}]}` + "\n\n",
	}, KeepOpen: true})
	defer srv.Close()
	// child starts the command with args and returns once it is about to run main.
	child := func(args string) (*exec.Cmd, *bufio.Reader, io.Closer) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestInterruptSignal$")
		cmd.Env = append(os.Environ(), "LOCKCHAT_CLI_CHILD_ARGS="+args)
		stdin, err := cmd.StdinPipe() // open, and nobody writes to it
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		out := bufio.NewReader(stdout)
		if line, err := out.ReadString('\n'); line != "ready\n" {
			t.Fatalf("child said %q, %v", line, err)
		}
		return cmd, out, stdin
	}
	wait := func(cmd *exec.Cmd) {
		t.Helper()
		err := cmd.Wait()
		if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 130 {
			t.Fatalf("child ended with %v, want exit status 130", err)
		}
	}
	t.Run("during the answer", func(t *testing.T) {
		// A prompt argument with an idle pipe: the pipe is given up after a second.
		cmd, stdout, stdin := child("-base-url " + srv.URL + " hi")
		defer stdin.Close()
		first := make([]byte, len("first"))
		if _, err := io.ReadFull(stdout, first); err != nil || string(first) != "first" {
			t.Fatalf("first output %q, %v", first, err)
		}
		cmd.Process.Signal(syscall.SIGINT)
		wait(cmd)
	})
	t.Run("while reading the prompt", func(t *testing.T) {
		cmd, _, stdin := child("-base-url " + srv.URL)
		defer stdin.Close()
		// The child prints nothing while it waits for its prompt on the pipe; the pause
		// covers the moment between "ready" and main's signal handlers. Ctrl-C must end
		// it with 130, not wait for the end of the input.
		time.Sleep(100 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGINT)
		wait(cmd)
	})
}

func TestModelsFlagAndCommand(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	srv.SetModels("llama3", "qwen3\x1b[2J")
	code, out, errOut := runCLI([]string{"-models", "-base-url", srv.URL}, "", nil)
	if code != 0 || out != "llama3\nqwen3\n" || errOut != "" {
		t.Fatalf("-models: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, _ = runChat(t, "/models\n/bye\n", "-base-url", srv.URL)
	if out != "llama3\nqwen3\n" {
		t.Fatalf("/models printed %q", out)
	}
}

func TestModelFromTheEnvironment(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	env := map[string]string{"LOCKCHAT_MODEL": "qwen3:0.6b"}
	if code, _, errOut := runCLI([]string{"-base-url", srv.URL, "hi"}, "", env); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCLI([]string{"-base-url", srv.URL, "-model", "llama3", "hi"}, "", env); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	reqs := srv.Requests()
	if reqs[0].Model != "qwen3:0.6b" || reqs[1].Model != "llama3" {
		t.Fatalf("models %q and %q; want LOCKCHAT_MODEL, then -model over it", reqs[0].Model, reqs[1].Model)
	}
}

func TestTemperatureFlags(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	for _, args := range [][]string{{"-no-temperature"}, {"-temperature", "0.2"}, nil} {
		if code, _, errOut := runCLI(append(append([]string{"-base-url", srv.URL}, args...), "hi"), "", nil); code != 0 {
			t.Fatalf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
	reqs := srv.Requests()
	if _, has := reqs[0].Payload["temperature"]; has {
		t.Errorf("-no-temperature sent %s", reqs[0].Body)
	}
	if got := fmt.Sprint(reqs[1].Payload["temperature"], " ", reqs[2].Payload["temperature"]); got != "0.2 0.7" {
		t.Errorf("temperatures %s, want 0.2 then the default 0.7", got)
	}
	if code, _, errOut := runCLI([]string{"-no-temperature", "-temperature", "1", "hi"}, "", nil); code != 2 || !strings.Contains(errOut, "cannot go together") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	// The default temperature is lockchat's, so a model that rejects it gets it dropped;
	// the user's own is kept, and the model's 400 shown.
	rejecting := lockchattest.NewServer(lockchattest.Reply{Status: 400, Error: lockchattest.ErrorBody{
		Message: "Unsupported value: 'temperature' does not support 0.7 with this model.", Param: "temperature", Code: "unsupported_value"}},
		lockchattest.Reply{Tokens: []string{"ok"}})
	defer rejecting.Close()
	if code, out, errOut := runCLI([]string{"-base-url", rejecting.URL, "hi"}, "", nil); code != 0 || out != "ok\n" || !strings.Contains(errOut, "request repaired") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestSchemaFlag(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{`{"sunny":true}`}})
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "sky.json")
	if err := os.WriteFile(file, []byte(`{"type":"object","properties":{"sunny":{"type":"boolean"}},"required":["sunny"],"additionalProperties":false}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI([]string{"-base-url", srv.URL, "-schema", file, "hi"}, "", nil)
	if code != 0 || out != "{\"sunny\":true}\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	rf, _ := json.Marshal(srv.Requests()[0].Payload["response_format"])
	if want := `{"json_schema":{"name":"sky","schema":{"additionalProperties":false,"properties":{"sunny":{"type":"boolean"}},"required":["sunny"],"type":"object"},"strict":true},"type":"json_schema"}`; string(rf) != want {
		t.Errorf("response_format %s", rf)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o600)
	for _, f := range []string{bad, filepath.Join(dir, "missing.json")} {
		if code, _, errOut := runCLI([]string{"-base-url", srv.URL, "-schema", f, "hi"}, "", nil); code != 2 || !strings.Contains(errOut, "-schema") {
			t.Errorf("-schema %s: exit %d, stderr %q", f, code, errOut)
		}
	}
}
