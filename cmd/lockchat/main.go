// Command lockchat streams a chat completion to standard output.
//
// Usage:
//
//	lockchat [flags] [prompt...]
//
// The prompt is the arguments joined by spaces, or standard input when there are none.
// Tokens are printed as they arrive, then a newline. Errors go to standard error with
// exit status 1; bad usage exits with 2; Ctrl-C cancels the request and exits with 130.
// -demo answers from an in-process fake server, so it needs no network.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// demoReply is what -demo streams.
var demoReply = []string{"Привет", "! ", "Это ", "lockchat", ": ", "ответ ", "приходит ", "по ", "токенам", " 🙂"}

// run is the whole command, with its surroundings passed in so that tests can drive it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("lockchat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lockchat [flags] [prompt...]   (prompt from standard input when none is given)")
		fs.PrintDefaults()
	}
	model := fs.String("model", lockchat.ModelGPT35Turbo, "model `name`")
	baseURL := fs.String("base-url", envOr(getenv, "LOCKCHAT_BASE_URL", lockchat.DefaultBaseURL), "API base `URL` (env LOCKCHAT_BASE_URL)")
	apiKey := fs.String("api-key", getenv("LOCKCHAT_API_KEY"), "API `key` sent as a bearer token (env LOCKCHAT_API_KEY)")
	system := fs.String("system", "", "system `message` sent before the prompt")
	temperature := fs.Float64("temperature", lockchat.DefaultTemperature, "sampling temperature")
	retries := fs.Int("retries", lockchat.DefaultMaxRetries, "retries before the first token")
	timeout := fs.Duration("timeout", 0, "overall time limit, e.g. 30s (0: none)")
	demo := fs.Bool("demo", false, "answer from an in-process fake server (no network)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *retries < 0 || *timeout < 0 {
		fmt.Fprintln(stderr, "lockchat: -retries and -timeout must not be negative")
		return 2
	}
	prompt := strings.Join(fs.Args(), " ")
	if prompt == "" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "lockchat: reading the prompt:", err)
			return 1
		}
		prompt = strings.TrimSpace(string(b))
	}
	if prompt == "" {
		fmt.Fprintln(stderr, "lockchat: no prompt: give it as arguments or on standard input")
		fs.Usage()
		return 2
	}

	if *demo {
		srv := lockchattest.NewServer(lockchattest.Reply{Tokens: demoReply, Delay: 40 * time.Millisecond})
		defer srv.Close()
		*baseURL = srv.URL
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	var messages []lockchat.Message
	if *system != "" {
		messages = append(messages, lockchat.Message{Role: "system", Content: *system})
	}
	messages = append(messages, lockchat.Message{Role: "user", Content: prompt})
	client := lockchat.New(
		lockchat.WithBaseURL(*baseURL),
		lockchat.WithAPIKey(*apiKey),
		lockchat.WithTemperature(*temperature),
		lockchat.WithMaxRetries(*retries),
	)

	wrote := false
	for token, err := range client.Stream(ctx, *model, messages) {
		if err != nil {
			if wrote {
				fmt.Fprintln(stdout)
			}
			if errors.Is(err, context.Canceled) {
				fmt.Fprintln(stderr, "lockchat: interrupted")
				return 130
			}
			fmt.Fprintln(stderr, err)
			return 1
		}
		if _, err := io.WriteString(stdout, token); err != nil {
			fmt.Fprintln(stderr, "lockchat: writing the answer:", err)
			return 1
		}
		wrote = true
	}
	fmt.Fprintln(stdout)
	return 0
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
