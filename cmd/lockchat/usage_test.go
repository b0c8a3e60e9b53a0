package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/lockchat/lockchat"
)

// TestHelpGoesToStandardOutput checks that -h can be paged: the usage on standard
// output, nothing on standard error, exit 0.
func TestHelpGoesToStandardOutput(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		code, out, errOut := runCLI([]string{arg}, "", nil)
		if code != 0 || !strings.HasPrefix(out, "usage: lockchat [flags] [prompt...]\n") || !strings.Contains(out, "  -timeout duration\n") ||
			!strings.Contains(out, "(default 2m0s)") || !strings.Contains(out, "Exit status:") || errOut != "" {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", arg, code, out, errOut)
		}
	}
}

// TestBadFlagIsOneLine checks that a flag the command does not know, or a flag value it
// cannot read, is told in one line naming the flag, then the hint to run -h; not with the
// whole usage.
func TestBadFlagIsOneLine(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-no-such-flag", "hi"}, "lockchat: flag provided but not defined: -no-such-flag\n"},
		{[]string{"-model"}, "lockchat: flag needs an argument: -model\n"},
		{[]string{"-retries", "two", "hi"}, `lockchat: invalid value "two" for flag -retries: parse error` + "\n"},
		{[]string{"-timeout", "5", "hi"}, `lockchat: invalid value "5" for flag -timeout: a duration needs a unit: use 5s` + "\n"},
		{[]string{"-idle-timeout", "1.5", "hi"}, `lockchat: invalid value "1.5" for flag -idle-timeout: a duration needs a unit: use 1.5s` + "\n"},
		{[]string{"-timeout", "soon", "hi"}, `lockchat: invalid value "soon" for flag -timeout: want a duration such as 30s, 2m or 1h30m` + "\n"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(tc.args, "", nil)
			if want := tc.want + "Run lockchat -h for the flags.\n"; code != 2 || out != "" || errOut != want {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 and stderr %q", code, out, errOut, want)
			}
		})
	}
}

// TestBaseURLWithoutScheme checks that a base URL without a scheme is named in the
// error, with what to write instead, and with its password masked.
func TestBaseURLWithoutScheme(t *testing.T) {
	cases := []struct{ base, want string }{
		{"localhost:8080", `lockchat: the base URL "localhost:8080" has no scheme: write http://localhost:8080 or https://localhost:8080` + "\n"},
		{"api.example.com/v1", `lockchat: the base URL "api.example.com/v1" has no scheme: write http://api.example.com/v1 or https://api.example.com/v1` + "\n"},
		{"user:sk-RECOGNISABLE@127.0.0.1:8080/v1", `lockchat: the base URL "user:xxxxx@127.0.0.1:8080/v1" has no scheme: write http://user:xxxxx@127.0.0.1:8080/v1 or https://user:xxxxx@127.0.0.1:8080/v1` + "\n"},
		{"sk-RECOGNISABLE@127.0.0.1/v1?api-key=sk-RECOGNISABLE", `lockchat: the base URL "xxxxx@127.0.0.1/v1?xxxxx" has no scheme: write http://xxxxx@127.0.0.1/v1?xxxxx or https://xxxxx@127.0.0.1/v1?xxxxx` + "\n"},
		{"ftp://user:sk-RECOGNISABLE@example.com/v1", `lockchat: the base URL "ftp://user:xxxxx@example.com/v1" must be an http:// or https:// URL with a host` + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.base, func(t *testing.T) {
			code, out, errOut := runCLI([]string{"-base-url", tc.base, "hi"}, "", nil)
			if want := tc.want + "Run lockchat -h for the flags.\n"; code != 2 || out != "" || errOut != want {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, out, errOut, want)
			}
		})
	}
}

// TestNoSuchHostHint checks that a default host that does not resolve gets a hint, and
// that a host the user chose does not.
func TestNoSuchHostHint(t *testing.T) {
	// The library's own error for a name that does not resolve, from a dialer that says
	// so without asking any resolver.
	noSuchHost := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.DNSError{Err: "no such host", Name: "supertest.lockchat.app", IsNotFound: true}
	}}}
	_, dnsErr := lockchat.New(lockchat.WithHTTPClient(noSuchHost)).Complete(context.Background(), "m", []lockchat.Message{{Role: "user", Content: "hi"}})
	if dnsErr == nil {
		t.Fatal("no error")
	}
	const hint = "; the default server's name does not resolve: give a server with -base-url (or LOCKCHAT_BASE_URL), or try -demo"
	for _, tc := range []struct {
		base string
		err  error
		hint bool
	}{
		{lockchat.DefaultBaseURL, dnsErr, true},
		{"http://nowhere.example/v1", dnsErr, false},
		{lockchat.DefaultBaseURL, errors.New("lockchat: connection failed: connection refused"), false},
	} {
		s := &session{set: &settings{baseURL: tc.base}}
		got := s.errorText(tc.err)
		if want := tc.err.Error() + map[bool]string{true: hint}[tc.hint]; got != want {
			t.Errorf("base %s, err %v: %q, want %q", tc.base, tc.err, got, want)
		}
	}
}
