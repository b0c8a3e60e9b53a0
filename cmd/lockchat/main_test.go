package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockchat/lockchat/lockchattest"
)

// runCLI runs the command with the given arguments, standard input and environment.
func runCLI(ctx context.Context, args []string, stdin string, env map[string]string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(ctx, args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

func TestDemo(t *testing.T) {
	code, out, errOut := runCLI(context.Background(), []string{"-demo", "hi"}, "", nil)
	if code != 0 || out != strings.Join(demoReply, "")+"\n" || errOut != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestFlagsReachTheServer(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"Да", " 👍"}})
	defer srv.Close()
	code, out, errOut := runCLI(context.Background(),
		[]string{"-model", "gpt-4", "-system", "be brief", "-temperature", "0", "-api-key", "sk-flag", "Как", "дела?"},
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
}

func TestPromptFromStdinAndKeyFromEnv(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	code, out, _ := runCLI(context.Background(), []string{"-base-url", srv.URL}, "  a question\n",
		map[string]string{"LOCKCHAT_API_KEY": "sk-env"})
	if code != 0 || out != "ok\n" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	r := srv.Requests()[0]
	if r.Messages[0].Content != "a question" || r.Header.Get("Authorization") != "Bearer sk-env" {
		t.Fatalf("prompt %q, Authorization %q", r.Messages[0].Content, r.Header.Get("Authorization"))
	}
}

func TestBadUsageExits2(t *testing.T) {
	for _, args := range [][]string{{"-no-such-flag", "hi"}, {}, {"-retries", "-1", "hi"}} {
		code, out, errOut := runCLI(context.Background(), args, "", nil)
		if code != 2 || out != "" || errOut == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

func TestErrorsExit1WithoutTheKey(t *testing.T) {
	const key = "sk-RECOGNISABLE-0123456789"
	srv := lockchattest.NewServer(lockchattest.Reply{Status: 401, Error: lockchattest.ErrorBody{Message: "Incorrect API key provided", Code: "invalid_api_key"}})
	defer srv.Close()
	for _, base := range []string{srv.URL, "http://127.0.0.1:1/v1"} {
		code, out, errOut := runCLI(context.Background(), []string{"-base-url", base, "-api-key", key, "-retries", "0", "hi"}, "", nil)
		if code != 1 || out != "" || errOut == "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", base, code, out, errOut)
		}
		if strings.Contains(out+errOut, key) || strings.Contains(out+errOut, "RECOGNISABLE") {
			t.Errorf("%s: the API key leaked: %q", base, errOut)
		}
	}
}

func TestCancelExits130(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b"}, Delay: time.Hour})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	code, _, errOut := runCLI(ctx, []string{"-base-url", srv.URL, "hi"}, "", nil)
	if code != 130 {
		t.Fatalf("exit %d, stderr %q; want 130", code, errOut)
	}
}

// TestInterruptSignal runs the real command in a child process and presses Ctrl-C
// (SIGINT) once the first token is out.
func TestInterruptSignal(t *testing.T) {
	if args := os.Getenv("LOCKCHAT_CLI_CHILD_ARGS"); args != "" {
		os.Args = append([]string{"lockchat"}, strings.Fields(args)...)
		main()
		return
	}
	srv := lockchattest.NewServer(lockchattest.Reply{Raw: []string{
		`data: {"choices":[{"delta":{"content":"first"}}]}` + "\n\n",
	}, KeepOpen: true})
	defer srv.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestInterruptSignal$")
	cmd.Env = append(os.Environ(), "LOCKCHAT_CLI_CHILD_ARGS=-base-url "+srv.URL+" hi")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make([]byte, len("first"))
	if _, err := bufio.NewReader(stdout).Read(first); err != nil || string(first) != "first" {
		t.Fatalf("first output %q, %v", first, err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 130 {
		t.Fatalf("child ended with %v, want exit status 130", err)
	}
}
