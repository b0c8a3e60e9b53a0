package lockchat

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// This file holds what a request is made of and may do: its headers and their checks,
// the base URL's checks (plain http with credentials included), the endpoint's URL, and
// the redirect policy. Sending it and reading the answer is exchange.go's.

// requestHeader builds the headers every request of cfg carries: the protocol's, the
// credentials and the caller's, each checked, so that a value a request cannot carry
// fails here with ErrInvalidRequest instead of somewhere in the transport.
func requestHeader(cfg *config) (http.Header, error) {
	h := make(http.Header, 4+len(cfg.header))
	h["Content-Type"] = []string{"application/json"}
	h["Accept"] = []string{"text/event-stream"}
	if cfg.noStream {
		h["Accept"] = []string{"application/json"}
	}
	h["User-Agent"] = []string{cfg.userAgent}
	if cfg.apiKey != "" {
		if !validHeaderValue(cfg.apiKey) {
			return nil, &requestError{text: "the API key holds a character no header can carry (a control character such as a line break)"}
		}
		h["Authorization"] = []string{"Bearer " + cfg.apiKey}
	}
	for k, vs := range cfg.header {
		h[http.CanonicalHeaderKey(k)] = slices.Clip(append([]string(nil), vs...))
	}
	for k, vs := range h {
		if !validHeaderName(k) {
			return nil, &requestError{text: fmt.Sprintf("header name %q is not a valid token", k)}
		}
		for _, v := range vs {
			if !validHeaderValue(v) {
				return nil, &requestError{text: fmt.Sprintf("header %q has a value no header can carry (a control character such as a line break)", k)}
			}
		}
	}
	return h, nil
}

// validHeaderName reports whether name is an RFC 9110 token, as the transport requires.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v holds no control character but the tab, as the
// transport requires.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// checkBaseURL fails with ErrInvalidRequest, naming the URL with its password masked,
// unless base is an absolute http or https URL with a host and a valid port.
func checkBaseURL(base string) error {
	fail := func(why string) error {
		return &requestError{text: fmt.Sprintf("invalid base URL %q: %s", maskURL(base), why)}
	}
	if !strings.Contains(base, "://") {
		if base == "" {
			return fail("it is empty; want an http:// or https:// URL with a host")
		}
		return fail("no scheme; want http:// or https://")
	}
	u, err := url.Parse(base)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // the reason, without the unmasked URL
		}
		// The reason quotes parts of the URL ("invalid port \":x\" after host"), which may
		// be parts of a password: drop them, the masked URL shows where the fault lies.
		return fail(quotedPart.ReplaceAllString(err.Error(), ""))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fail(fmt.Sprintf("scheme %q; want http:// or https://", u.Scheme))
	case u.Hostname() == "":
		return fail("no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fail(fmt.Sprintf("port %q out of range", p))
		}
	}
	return nil
}

// checkCleartext fails with ErrInvalidRequest when cfg would send a credential over
// plain http to a host that is not loopback without WithInsecureHTTP; header is the
// request's.
func checkCleartext(cfg *config, header http.Header) error {
	u, err := url.Parse(cfg.baseURL)
	if err != nil || u.Scheme != "http" || cfg.insecureHTTP || isLoopback(u.Hostname()) {
		return nil
	}
	what := ""
	switch {
	case cfg.apiKey != "":
		what = "the API key"
	case u.User != nil:
		what = "the base URL's user and password"
	case len(queryCredentials(cfg.baseURL)) > 0:
		what = "the credential in the base URL's query"
	default:
		for name := range header {
			if isCredentialName(name) {
				what = "the " + name + " header"
				break
			}
		}
	}
	if what == "" {
		return nil
	}
	return &requestError{text: fmt.Sprintf("refusing to send %s over plain http:// to %s, where anyone on the way can read it: use an https:// base URL, or WithInsecureHTTP() to send it anyway", what, u.Hostname())}
}

// isLoopback reports whether host names this machine: localhost (and its subdomains)
// or a loopback address.
func isLoopback(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// endpoint returns the URL of path under a checked base URL: the path joined to the
// base's, with or without a trailing slash on base, before the base's query, which is
// kept (Azure's deployments take ?api-version=…).
func endpoint(base, path string) string {
	head, query, hasQuery := strings.Cut(base, "?")
	head, _, _ = strings.Cut(head, "#")
	u := strings.TrimRight(head, "/") + "/" + path
	if hasQuery {
		query, _, _ = strings.Cut(query, "#")
		u += "?" + query
	}
	return u
}

// quotedPart is a quoted piece of input in an error's text, and the space before it.
var quotedPart = regexp.MustCompile(` ?"(?:[^"\\]|\\.)*"`)

// withRedirectPolicy returns the HTTP client for a configuration's requests: hc
// (http.DefaultClient if nil), shallow-copied with the redirect policy. The caller's
// client is never changed, and never read again once copied.
func withRedirectPolicy(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := *hc
	callers := hc.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		return checkRedirect(req, via, callers)
	}
	return &c
}

// maxRedirects is net/http's own limit, which a CheckRedirect of ours replaces.
const maxRedirects = 10

// checkRedirect is the redirect policy. A redirect that would turn the POST into a GET
// (a 301, 302 or 303) fails with ErrRedirect: the server would answer a request without
// its body, and the caller should use the new address. Credentials — Authorization and
// every header isCredentialName names — go only to the host they were meant for, and
// never from https down to plain http, even on the same host. Then the caller's own
// policy, if any, has its say.
func checkRedirect(req *http.Request, via []*http.Request, callers func(*http.Request, []*http.Request) error) error {
	first := via[0]
	fail := func(reason string, err error) error {
		status := 0
		if req.Response != nil {
			status = req.Response.StatusCode
		}
		return &redirectError{method: first.Method, from: maskURL(via[len(via)-1].URL.String()), to: maskURL(req.URL.String()),
			status: status, reason: reason, err: err}
	}
	if req.Method != first.Method {
		return fail(fmt.Sprintf("following it would resend the %s as a %s without its body; use the new address as the base URL", first.Method, req.Method), nil)
	}
	downgrade := first.URL.Scheme == "https" && req.URL.Scheme != "https"
	if downgrade || !strings.EqualFold(first.URL.Hostname(), req.URL.Hostname()) {
		dropCredentials(req.Header)
	}
	if callers != nil {
		err := callers(req, via)
		if err == nil || err == http.ErrUseLastResponse {
			return err // net/http compares ErrUseLastResponse by identity
		}
		return fail("the http.Client's CheckRedirect refused it: "+err.Error(), err)
	}
	if len(via) >= maxRedirects {
		return fail(fmt.Sprintf("stopped after %d redirects", maxRedirects), nil)
	}
	return nil
}
