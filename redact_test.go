package lockchat_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

const secretKey = "sk-RECOGNISABLE-secret-0123456789"

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
