package lockchat_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

const secretKey = "sk-RECOGNISABLE-secret-0123456789"

// oddKey is a key with characters that JSON, Go quoting and URLs each escape.
const oddKey = `sk-"RECOGNISABLE"\<&>-é-0123456789`

// leak returns the longest part of secret (of five bytes or more, from its start) that
// text holds as it is or in an escaped form, or "".
func leak(text, secret string) string {
	jsonEscaped, _ := json.Marshal(secret)
	forms := []string{secret, strconv.Quote(secret), string(jsonEscaped), strconv.Quote(string(jsonEscaped)), url.QueryEscape(secret)}
	for _, f := range forms {
		f = strings.TrimPrefix(strings.TrimSuffix(f, `"`), `"`)
		for n := len(f); n >= 5; n-- {
			if strings.Contains(text, f[:n]) {
				return f[:n]
			}
		}
	}
	return ""
}

func TestServerEchoingTheKeyIsRedacted(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s","code":"invalid_api_key"}}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	defer ts.Close()
	_, err := lockchat.New(lockchat.WithBaseURL(ts.URL), lockchat.WithAPIKey(secretKey)).Complete(context.Background(), "m", hello)
	var e *lockchat.APIError
	if !errors.As(err, &e) || e.StatusCode != 401 || strings.Contains(err.Error(), "RECOGNISABLE") || !strings.Contains(e.Message, "[redacted]") {
		t.Fatalf("err = %v", err)
	}
}

// TestNoPartOfTheKeyAnywhere has servers quote the key back in every place an error
// quotes a server: messages, body excerpts cut inside the key, event data, a decoder's
// account of a value, a redirect's address. No part of the key may appear in the error,
// in its %q form, or in a text or JSON log record.
func TestNoPartOfTheKeyAnywhere(t *testing.T) {
	filler := strings.Repeat("x", 246) // puts the key across the cut of a 256-byte excerpt
	target := httptest.NewServer(http.NotFoundHandler())
	defer target.Close()
	echoes := map[string]func(w http.ResponseWriter, key string){
		"in a message": func(w http.ResponseWriter, key string) {
			b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": "Incorrect API key provided: " + key, "param": key}})
			w.WriteHeader(http.StatusUnauthorized)
			w.Write(b)
		},
		"across the cut of a page": func(w http.ResponseWriter, key string) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, filler+key+" and more")
		},
		"across the cut of event data": func(w http.ResponseWriter, key string) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {"+filler+key+"\n\n")
		},
		"across the cut of a value the decoder quotes": func(w http.ResponseWriter, key string) {
			v, _ := json.Marshal(filler[6:] + key)
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"choices":[{"delta":{"content":{"v":`+string(v)+`}}}]}`+"\n\n")
		},
		"in an error event": func(w http.ResponseWriter, key string) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "event: error\ndata: rejected "+key+"\n\n")
		},
		"in a retried error object": func(w http.ResponseWriter, key string) {
			b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": "The model `" + key + "` does not exist", "code": key}})
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: "+string(b)+"\n\n")
		},
		"in a redirect's address": func(w http.ResponseWriter, key string) {
			w.Header().Set("Location", target.URL+"/v1/chat/completions?key="+url.QueryEscape(key))
			w.WriteHeader(http.StatusFound)
		},
		"in a content type": func(w http.ResponseWriter, key string) {
			w.Header().Set("Content-Type", "text/x-"+key)
			io.WriteString(w, "hello")
		},
	}
	for _, key := range []string{secretKey, oddKey} {
		for name, echo := range echoes {
			t.Run(fmt.Sprintf("%s/%s", name, key[:5]), func(t *testing.T) {
				ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					echo(w, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
				}))
				defer ts.Close()
				var text, jsonLog logBuffer
				logger := slog.New(slog.NewTextHandler(io.MultiWriter(&text), nil))
				c := lockchat.New(lockchat.WithBaseURL(ts.URL+"/v1"), fast, lockchat.WithMaxRetries(1), lockchat.WithAPIKey(key), lockchat.WithLogger(logger))
				_, err := c.Complete(context.Background(), "m", hello)
				_, err2 := c.Complete(context.Background(), "m", hello, lockchat.WithLogger(slog.New(slog.NewJSONHandler(&jsonLog, nil))))
				if err == nil || err2 == nil {
					t.Fatalf("no error: %v, %v", err, err2)
				}
				for what, s := range map[string]string{"error": err.Error(), "%q": fmt.Sprintf("%q", err), "%#v": fmt.Sprintf("%#v", err),
					"text log": text.String(), "JSON log": jsonLog.String()} {
					if l := leak(s, key); l != "" {
						t.Errorf("%s holds %q of the key:\n%s", what, l, s)
					}
				}
			})
		}
	}
}

func TestCredentialHeadersAreRedactedToo(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"bad keys %s and %s"}}`, r.Header.Get("Api-Key"), r.Header.Get("X-Custom-Token"))
	}))
	defer ts.Close()
	_, err := lockchat.New(lockchat.WithBaseURL(ts.URL), lockchat.WithHeader("api-key", "azure-RECOGNISABLE-1"),
		lockchat.WithHeader("X-Custom-Token", "Bearer tok-RECOGNISABLE-2")).Complete(context.Background(), "m", hello)
	if err == nil || strings.Contains(err.Error(), "RECOGNISABLE") {
		t.Fatalf("err = %v", err)
	}
}

// TestURLPasswordNeverInErrors: the password of the base URL's userinfo appears in no
// error, whatever fails.
func TestURLPasswordNeverInErrors(t *testing.T) {
	const password = "hunter2-RECOGNISABLE"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"bad credentials %s"}}`, r.Header.Get("Authorization"))
	}))
	defer echo.Close()
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // lets the server notice the client leave
		<-r.Context().Done()
	}))
	defer stall.Close()
	noSuchHost := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.DNSError{Err: "no such host", Name: "nowhere.example", IsNotFound: true}
	}}}
	withPassword := func(base string) string { return strings.Replace(base, "://", "://user:"+password+"@", 1) }
	for _, tc := range []struct {
		name, base string
		opts       []lockchat.Option
	}{
		{"bad port", "http://user:" + password + "@127.0.0.1:bad/v1", nil},
		{"bad host", "http://user:" + password + "@bad host/v1", nil},
		{"password with a slash", "http://user:" + password + "/x@127.0.0.1:1/v1", nil},
		{"refused dial", withPassword(closedURL(t)), nil},
		{"no such host", "http://user:" + password + "@nowhere.example/v1", []lockchat.Option{lockchat.WithHTTPClient(noSuchHost)}},
		{"a status naming the URL", withPassword(notFound.URL), nil},
		{"a server quoting Basic auth", withPassword(echo.URL), nil},
		{"idle timeout", withPassword(stall.URL), []lockchat.Option{lockchat.WithIdleTimeout(50 * time.Millisecond)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			opts := append([]lockchat.Option{lockchat.WithBaseURL(tc.base), fast, lockchat.WithMaxRetries(1),
				lockchat.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil)))}, tc.opts...)
			_, err := lockchat.New(opts...).Complete(context.Background(), "m", hello)
			if err == nil {
				t.Fatal("no error")
			}
			basic := base64.StdEncoding.EncodeToString([]byte("user:" + password))
			for _, s := range []string{err.Error(), logs.String()} {
				if l := leak(s, password); l != "" || strings.Contains(s, basic[:12]) {
					t.Errorf("%q of the password in:\n%s", l, s)
				}
			}
		})
	}
}

// TestBreakIsCleanWhateverTheKey: redaction never changes what an error is, even for a
// key that is part of the library's own words.
func TestBreakIsCleanWhateverTheKey(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"a", "b", "c"}})
	defer srv.Close()
	failing := lockchattest.NewServer(lockchattest.Reply{Status: 500, Error: lockchattest.ErrorBody{Message: "a stop"}})
	defer failing.Close()
	notFound := lockchattest.NewServer(lockchattest.Reply{ModelNotFound: 100})
	defer notFound.Close()
	refused := closedURL(t)
	for _, key := range []string{"a", "c", "stop", "lockchat", "lockchat: caller stopped", "caller", ":", "[redacted]", "connection", "HTTP"} {
		t.Run(key, func(t *testing.T) {
			c := lockchat.New(lockchat.WithAPIKey(key), fast, lockchat.WithMaxRetries(1))
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("break panicked: %v", p)
					}
				}()
				for tok, err := range c.Stream(context.Background(), "m", hello, lockchat.WithBaseURL(srv.URL)) {
					if err != nil || tok != "a" {
						t.Fatalf("first item %q, %v", tok, err)
					}
					break
				}
			}()
			var apiErr *lockchat.APIError
			if _, err := c.Complete(context.Background(), "m", hello, lockchat.WithBaseURL(failing.URL)); !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
				t.Errorf("a 500: %v", err)
			}
			if _, err := c.Complete(context.Background(), "m", hello, lockchat.WithBaseURL(refused)); !errors.Is(err, lockchat.ErrConnection) {
				t.Errorf("a refused dial: %v", err)
			}
			if _, err := c.Complete(context.Background(), "m", hello, lockchat.WithBaseURL(notFound.URL)); !errors.Is(err, lockchat.ErrModelNotFound) {
				t.Errorf("model not found: %v", err)
			}
		})
	}
}

func TestKeyNeverInErrorsOrLogs(t *testing.T) {
	replies := map[string]lockchattest.Reply{
		"model not found":       {ModelNotFound: 10},
		"model not found event": {ModelNotFound: 10, ModelNotFoundInStream: true},
		"400":                   {Status: 400, Error: lockchattest.ErrorBody{Message: "bad"}},
		"cut":                   {Tokens: []string{"a", "b"}, CutAfter: 1},
		"malformed":             {Raw: []string{"data: {" + secretKey + "\n\n"}},
		"error event":           {Raw: []string{"event: error\ndata: key " + secretKey + " rejected\n\n"}},
		"html":                  {Raw: []string{"<html>" + secretKey + "</html>"}, ContentType: "text/html"},
	}
	for name, reply := range replies {
		t.Run(name, func(t *testing.T) {
			srv := lockchattest.NewServer(reply)
			defer srv.Close()
			var logs logBuffer
			c := lockchat.New(lockchat.WithBaseURL(srv.URL), fast, lockchat.WithAPIKey(secretKey),
				lockchat.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			_, err := c.Complete(context.Background(), "m", hello)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error()+logs.String(), "RECOGNISABLE") {
				t.Errorf("the API key leaked:\n%v\n%s", err, logs.String())
			}
		})
	}
}
