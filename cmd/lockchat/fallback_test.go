package main

import (
	"net"
	"strings"
	"testing"

	"github.com/lockchat/lockchat/lockchattest"
)

// TestFallback serves a one-shot answer and a chat from a second endpoint when the base
// URL does not answer, with the fallback's own key and name for the model, and says so.
func TestFallback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/v1"
	ln.Close()
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"from the fallback"}})
	defer srv.Close()
	env := map[string]string{"LOCKCHAT_API_KEY": "sk-primary-0123", "FALLBACK_KEY": "sk-fallback-4567"}

	code, out, errOut := runCLI([]string{"-base-url", dead, "-fallback", srv.URL + ",model=llama3.2,key-env=FALLBACK_KEY", "hi"}, "", env)
	if code != 0 || out != "from the fallback\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "failed, trying "+srv.URL) || !strings.Contains(errOut, "answered by -fallback 1, "+srv.URL) {
		t.Errorf("stderr %q does not tell of the failover and who answered", errOut)
	}
	if strings.Contains(errOut, "sk-") {
		t.Errorf("stderr %q shows a key", errOut)
	}
	r := srv.Requests()[0]
	if r.Model != "llama3.2" || r.Header.Get("Authorization") != "Bearer sk-fallback-4567" {
		t.Errorf("the fallback was asked for %q with %q", r.Model, r.Header.Get("Authorization"))
	}

	chatOut, chatErr := runChat(t, "hello\n/bye\n", "-base-url", dead, "-fallback", srv.URL)
	if !strings.Contains(chatOut, "from the fallback") || !strings.Contains(chatErr, "If it fails: "+srv.URL) ||
		!strings.Contains(chatErr, "answered by -fallback 1") {
		t.Errorf("chat: stdout %q, stderr %q", chatOut, chatErr)
	}
}

func TestFallbackFlagErrors(t *testing.T) {
	cases := map[string][]string{
		"no scheme":           {"-fallback", "example.com/v1", "hi"},
		"a key env not set":   {"-fallback", "https://example.com/v1,key-env=NOT_SET", "hi"},
		"plain http with key": {"-fallback", "http://example.com/v1,key-env=K", "hi"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(args, "", map[string]string{"K": "sk-secret-key"})
			if code != 2 || out != "" || strings.Contains(errOut, "sk-secret-key") || !strings.Contains(errOut, "lockchat:") {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
}

func TestParseFallback(t *testing.T) {
	f, err := parseFallback("https://x.example/v1?a=1,2,model=m:1b,key-env=K", func(k string) string { return map[string]string{"K": "v"}[k] })
	if err != nil || f.baseURL != "https://x.example/v1?a=1,2" || f.model != "m:1b" || f.apiKey != "v" {
		t.Fatalf("%+v, %v", f, err)
	}
}

// TestFallbackGetsNoCredentialHeader: a credential -header is the base URL's; the
// fallback gets the other headers and its own key alone.
func TestFallbackGetsNoCredentialHeader(t *testing.T) {
	busy := lockchattest.NewServer(lockchattest.Reply{Status: 503})
	defer busy.Close()
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	code, out, errOut := runCLI([]string{"-base-url", busy.URL, "-header", "Api-Key: azure-secret", "-header", "X-Trace: 7",
		"-fallback", srv.URL + ",key-env=K", "-retries", "0", "hi"}, "", map[string]string{"K": "sk-fallback"})
	if code != 0 || out != "ok\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if got := busy.Requests()[0].Header.Get("Api-Key"); got != "azure-secret" {
		t.Errorf("the base URL got Api-Key %q", got)
	}
	h := srv.Requests()[0].Header
	if h.Get("Api-Key") != "" || h.Get("X-Trace") != "7" || h.Get("Authorization") != "Bearer sk-fallback" {
		t.Errorf("the fallback got %v", h)
	}
}
