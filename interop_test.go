//go:build integration

package lockchat_test

// The interoperability suite runs the library and the CLI against a real
// OpenAI-compatible server nobody on the team wrote, @dwmkerr/mock-llm from npm, and
// compares the answers with those of the official openai npm package (the reference
// client) pointed at the same server. .ci/run starts the server on 127.0.0.1 and runs:
//
//	LOCKCHAT_MOCK_LLM_URL=http://127.0.0.1:PORT/v1 go test -tags integration -run Interop .
//
// Quirks of mock-llm 0.1.29 found here, each checked below:
//   - it splits content every N UTF-16 code units, so an emoji's surrogate pair can be
//     cut in two: one chunk ends in "\ud83d", the next starts with "\ude00";
//   - the role rides on the first content chunk and finish_reason on the last one; there
//     is no separate role-only or finish chunk;
//   - asked to stream, it answers an error status as 200 with one "data: {"error":…}"
//     event and no [DONE]: the HTTP status is lost;
//   - its non-streamed answer has no "created" and no "usage".

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
)

func mockLLM(t *testing.T) string {
	t.Helper()
	u := os.Getenv("LOCKCHAT_MOCK_LLM_URL")
	if u == "" {
		t.Fatal("LOCKCHAT_MOCK_LLM_URL is not set: .ci/run starts mock-llm and sets it")
	}
	return u
}

// reference runs the official openai npm client and returns what it printed.
func reference(t *testing.T, base, model, prompt string, stream bool) string {
	t.Helper()
	s := "false"
	if stream {
		s = "true"
	}
	out, err := exec.Command("node", filepath.Join("interop", "reference-client.mjs"), base, model, prompt, s).Output()
	if err != nil {
		t.Fatalf("reference client: %v", err)
	}
	return string(out)
}

// ignoreStream rewrites "stream":true to false on the way out: the server then answers
// with one JSON completion, as a server that ignores "stream" would.
type ignoreStream struct{}

func (ignoreStream) RoundTrip(r *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	b = bytes.Replace(b, []byte(`"stream":true`), []byte(`"stream":false`), 1)
	r = r.Clone(r.Context())
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	return http.DefaultTransport.RoundTrip(r)
}

// retryingClient retries once, at once; streamed false makes the server answer with one
// JSON body.
func retryingClient(base string, streamed bool) *lockchat.Client {
	hc := http.DefaultClient
	if !streamed {
		hc = &http.Client{Transport: ignoreStream{}}
	}
	return lockchat.New(lockchat.WithBaseURL(base), lockchat.WithHTTPClient(hc), lockchat.WithMaxRetries(1),
		lockchat.WithRetryDelay(time.Millisecond, time.Millisecond))
}

const interopPrompt = "Привет! Как дела? 😀 👩‍💻 ёлка «ок» 🚀"

func TestInteropStreamedReply(t *testing.T) {
	base := mockLLM(t)
	c := lockchat.New(lockchat.WithBaseURL(base))
	var got strings.Builder
	for tok, err := range c.Stream(context.Background(), "gpt-4", []lockchat.Message{{Role: "user", Content: interopPrompt}}) {
		if err != nil {
			t.Fatal(err)
		}
		got.WriteString(tok)
	}
	if got.String() != interopPrompt {
		t.Fatalf("streamed %q, want the echo %q", got.String(), interopPrompt)
	}
	if ref := reference(t, base, "gpt-4", interopPrompt, true); ref != got.String() {
		t.Fatalf("reference client printed %q, we %q", ref, got.String())
	}
}

func TestInteropQuirks(t *testing.T) {
	base := mockLLM(t)
	body := `{"model":"gpt-4","stream":true,"messages":[{"role":"user","content":"😀😀"}]}`
	resp, err := http.Post(base+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// "😀😀" is four UTF-16 units; chunks of three cut the second pair in two.
	if !bytes.Contains(raw, []byte(`\ud83d"`)) || !bytes.Contains(raw, []byte(`"\ude00`)) {
		t.Errorf("quirk gone? no surrogate pair split between chunks in:\n%s", raw)
	}
	if !bytes.Contains(raw, []byte(`"role":"assistant"}`)) || bytes.Count(raw, []byte("finish_reason\":\"stop")) != 1 {
		t.Errorf("quirk gone? role and finish_reason not on content chunks:\n%s", raw)
	}
	// We join the pair: the text is the server's text. (A JavaScript program that wrote
	// each delta as it came would print two U+FFFD instead; joined strings agree.)
	c := lockchat.New(lockchat.WithBaseURL(base))
	got, err := c.Complete(context.Background(), "gpt-4", []lockchat.Message{{Role: "user", Content: "😀😀"}})
	if err != nil || got != "😀😀" {
		t.Fatalf("Complete = %q, %v", got, err)
	}
	if ref := reference(t, base, "gpt-4", "😀😀", true); ref != got {
		t.Fatalf("reference client printed %q, we %q", ref, got)
	}
}

func TestInteropNonStreamedReply(t *testing.T) {
	base := mockLLM(t)
	c := lockchat.New(lockchat.WithBaseURL(base), lockchat.WithHTTPClient(&http.Client{Transport: ignoreStream{}}))
	got, err := c.Complete(context.Background(), "gpt-4", []lockchat.Message{{Role: "user", Content: interopPrompt}})
	if err != nil || got != interopPrompt {
		t.Fatalf("Complete = %q, %v", got, err)
	}
	if ref := reference(t, base, "gpt-4", interopPrompt, false); ref != got {
		t.Fatalf("reference client printed %q, we %q", ref, got)
	}
}

func TestInteropUnknownModel(t *testing.T) {
	base := mockLLM(t)
	const msg = "The model `no-such-model` does not exist or you do not have access to it."
	for _, streamed := range []bool{true, false} {
		c := retryingClient(base, streamed)
		_, err := c.Complete(context.Background(), "no-such-model", hello)
		var apiErr *lockchat.APIError
		if !errors.Is(err, lockchat.ErrModelNotFound) || !errors.As(err, &apiErr) || apiErr.Message != msg {
			t.Fatalf("streamed=%v: err = %v", streamed, err)
		}
		// Streamed, the quirk: the 404 arrives as an event in a 200 stream.
		if wantStatus := map[bool]int{true: 200, false: 404}[streamed]; apiErr.StatusCode != wantStatus || apiErr.InStream != streamed {
			t.Fatalf("streamed=%v: status %d, in stream %v", streamed, apiErr.StatusCode, apiErr.InStream)
		}
		// The reference client agrees on the message and the code; streamed, it reports
		// no status at all ("status=undefined"), where we say 200 and InStream.
		ref := reference(t, base, "no-such-model", "hi", streamed)
		if !strings.Contains(ref, "message="+msg) && !strings.Contains(ref, msg) {
			t.Fatalf("streamed=%v: the reference client reported %q", streamed, ref)
		}
		if !streamed && (!strings.Contains(ref, "status=404") || !strings.Contains(ref, "code=model_not_found")) {
			t.Fatalf("reference client reported %q; we have status 404 and code model_not_found", ref)
		}
	}
}

func TestInteropServerError(t *testing.T) {
	base := mockLLM(t)
	const msg = "The server had an error while processing your request."
	for _, streamed := range []bool{true, false} {
		c := retryingClient(base, streamed)
		_, err := c.Complete(context.Background(), "gpt-4", []lockchat.Message{{Role: "user", Content: "please error-500"}})
		var apiErr *lockchat.APIError
		if !errors.As(err, &apiErr) || apiErr.Message != msg || apiErr.Type != "server_error" ||
			!strings.Contains(err.Error(), "giving up after 2 attempts") {
			t.Fatalf("streamed=%v: err = %v (a server error must be retried, then reported)", streamed, err)
		}
		if !streamed && apiErr.StatusCode != 500 {
			t.Fatalf("status %d, want 500", apiErr.StatusCode)
		}
		if ref := reference(t, base, "gpt-4", "please error-500", streamed); !strings.Contains(ref, msg) {
			t.Fatalf("streamed=%v: the reference client reported %q", streamed, ref)
		}
	}
}

func TestInteropCLI(t *testing.T) {
	base := mockLLM(t)
	bin := filepath.Join(t.TempDir(), "lockchat")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/lockchat").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "-base-url", base, "-model", "gpt-4", interopPrompt).Output()
	if err != nil || string(out) != interopPrompt+"\n" {
		t.Fatalf("CLI printed %q, %v", out, err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-base-url", base, "-model", "no-such-model", "-retries", "0", "-api-key", secretKey, "hi")
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "does not exist") ||
		strings.Contains(stderr.String(), "RECOGNISABLE") {
		t.Fatalf("CLI with an unknown model: %v, stderr %q", err, stderr.String())
	}
}
