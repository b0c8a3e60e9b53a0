package lockchat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// This file holds one HTTP exchange: the request and its checks, the redirect policy,
// and the response's status. What the body holds is body.go's; the idle timeout that
// watches the exchange is idle.go's.

// attempt sends the request once and decodes the answer. Every error it returns names
// the request if the server answered, and quotes no credential of the call.
func (c *Client) attempt(ctx context.Context, cfg *config, payload []byte, h handler, delivered *int, tr *tracer) (err error) {
	prep, err := cfg.prepared()
	if err != nil {
		return err
	}
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var idle *idleTimer
	if cfg.idleTimeout > 0 {
		idle = newIdleTimer(cfg.idleTimeout, cancel)
		defer idle.stop()
		if prep.poolWaits {
			// Arm the timer only once the request is on the network, not while it waits
			// for a connection from the caller's pool.
			actx = httptrace.WithClientTrace(actx, idle.connectionTrace())
		} else {
			idle.onNetwork()
		}
	}
	req, err := newRequest(actx, cfg, prep, payload)
	if err != nil {
		return err
	}
	if cfg.firstOutput > 0 && *delivered == 0 {
		// Abandon the attempt unless output comes in time; the first chunk with output
		// stops the timer before the caller sees it.
		first := time.AfterFunc(cfg.firstOutput, func() { cancel(errFirstOutputCause) })
		defer first.Stop()
		inner, waiting := h, true
		h = func(s *chunkStream) bool {
			if waiting && s.hasOutput() {
				first.Stop()
				waiting = false
			}
			return inner(s)
		}
	}
	answered := req // the request the response answers, after any redirect
	var answer http.Header
	defer func() {
		if err == nil || err == errStop {
			return
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.URL == "" {
			apiErr.Method, apiErr.URL = answered.Method, maskURL(answered.URL.String())
		}
		if apiErr != nil && apiErr.RequestID == "" && answer != nil {
			apiErr.RequestID = requestID(answer)
		}
		callSecrets(cfg).scrubError(err)
	}()
	resp, err := prep.client.Do(req)
	if idle != nil {
		idle.headersDone()
	}
	if err != nil {
		if err := contextError(ctx, actx, cfg); err != nil {
			return err
		}
		var redirErr *redirectError
		if errors.As(err, &redirErr) {
			return redirErr
		}
		return newTransportError(err)
	}
	defer resp.Body.Close()
	if resp.Request != nil {
		answered = resp.Request
	}
	answer = resp.Header
	tr.onResponse(resp)
	var body io.Reader = resp.Body
	if idle != nil {
		body = idle.reader(resp.Body)
	}
	if body, err = decodeContent(resp, body); err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(ctx, actx, cfg, resp, body)
	}
	return consumeBody(ctx, actx, cfg, resp, body, h, delivered, idle, cancel)
}

// errIdleCause cancels an attempt whose server fell silent for too long, and
// errFirstOutputCause one that delivered no output in time.
var (
	errIdleCause        = errors.New("idle")
	errFirstOutputCause = errors.New("first output")
)

// readError explains a failed read or request: the caller's context, the idle timeout,
// or the connection.
func readError(ctx, actx context.Context, cfg *config, err error) error {
	if err := contextError(ctx, actx, cfg); err != nil {
		return err
	}
	var tooLong *LineTooLongError
	if errors.As(err, &tooLong) || errors.Is(err, ErrMalformedStream) || errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	return newTransportError(err)
}

// contextError returns the caller's context error, or the idle timeout error if the
// attempt was cancelled for silence, or nil.
func contextError(ctx, actx context.Context, cfg *config) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch context.Cause(actx) {
	case errIdleCause:
		return fmt.Errorf("%w: no data from the server for %v", ErrIdleTimeout, cfg.idleTimeout)
	case errFirstOutputCause:
		return fmt.Errorf("%w: no output from the server within %v", ErrFirstOutputTimeout, cfg.firstOutput)
	}
	return nil
}

// errorBodyLimit bounds how much of an error body is read.
const errorBodyLimit = 64 << 10

// statusError reads a bounded part of a non-2xx body and turns it into an *APIError. A
// 404 that carries no error object most often means a base URL without "/v1": the error
// says so.
func statusError(ctx, actx context.Context, cfg *config, resp *http.Response, body io.Reader) error {
	e, recognised, err := bodyError(ctx, resp, body, "")
	if err != nil {
		return err
	}
	if !recognised && resp.StatusCode == http.StatusNotFound &&
		resp.Request != nil && !strings.Contains(resp.Request.URL.Path, "/v1/") {
		e.hint = `hint: the base URL may lack "/v1"`
	}
	return e
}

// bodyError reads a bounded part of a body that is not the stream asked for, and turns
// it into an *APIError: the error object the recogniser finds in it (recognised), else
// the status, the content type, message (if not "") and a bounded excerpt.
func bodyError(ctx context.Context, resp *http.Response, body io.Reader, message string) (e *APIError, recognised bool, err error) {
	b, err := io.ReadAll(io.LimitReader(body, errorBodyLimit))
	if err != nil && ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	b = bytes.TrimPrefix(b, bom)
	e = recogniseError(b)
	if recognised = e != nil; !recognised {
		e = &APIError{Message: message, ContentType: resp.Header.Get("Content-Type"), Body: excerpt(b)}
	}
	e.StatusCode = resp.StatusCode
	e.retryAfter = parseRetryAfter(resp.Header, time.Now())
	return e, recognised, nil
}

// newRequest builds the request: the payload and the headers prepared for the
// configuration (see prepare).
func newRequest(ctx context.Context, cfg *config, prep *prepared, payload []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, prep.endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, &requestError{text: fmt.Sprintf("invalid base URL %q", maskURL(cfg.baseURL))}
	}
	req.Header = prep.header.Clone()
	return req, nil
}

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
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
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
