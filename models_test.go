package lockchat_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

func TestModels(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	srv.SetModels("llama3", "qwen3")
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithAPIKey("sk-x"), lockchat.WithHeader("X-Team", "a"))
	models, err := c.Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []lockchat.Model{{ID: "llama3", OwnedBy: "lockchattest", Created: 1700000000}, {ID: "qwen3", OwnedBy: "lockchattest", Created: 1700000000}}
	if !reflect.DeepEqual(models, want) {
		t.Errorf("Models = %+v", models)
	}
	r := srv.Requests()[0]
	if r.Method != http.MethodGet || r.Path != "/v1/models" || r.Header.Get("Authorization") != "Bearer sk-x" ||
		r.Header.Get("X-Team") != "a" || r.Header.Get("Accept") != "application/json" {
		t.Errorf("request %s %s %v", r.Method, r.Path, r.Header)
	}
	// The listing took no reply: the next chat gets the first.
	if text, err := c.Complete(context.Background(), "m", hello); err != nil || text != "ok" {
		t.Errorf("Complete = %q, %v", text, err)
	}
}

func TestModelsErrorsAndRetries(t *testing.T) {
	calls := 0
	base := newRawServer(t, func(w http.ResponseWriter) {
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("X-Request-Id", "r-2")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"message":"bad key sk-secret","type":"invalid_request_error"}}`))
	})
	c := lockchat.New(lockchat.WithBaseURL(base+"?api-key=sk-secret"), fast)
	_, err := c.Models(context.Background())
	var ae *lockchat.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.RequestID != "r-2" || calls != 2 {
		t.Fatalf("err = %v after %d requests; want the 401 after a retried 503", err, calls)
	}
	if strings.Contains(err.Error(), "sk-secret") || !strings.Contains(ae.URL, "/v1/models?api-key=xxxxx") {
		t.Errorf("error %q (URL %q) must quote no secret", err, ae.URL)
	}

	notAList := newRawServer(t, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>login</html>"))
	})
	if _, err := lockchat.New(lockchat.WithBaseURL(notAList)).Models(context.Background()); !errors.As(err, &ae) || !strings.Contains(ae.Body, "login") {
		t.Errorf("err = %v, want an APIError quoting the page", err)
	}
	// Credentials in clear are refused here too.
	if _, err := lockchat.New(lockchat.WithAPIKey("k")).Models(context.Background()); !errors.Is(err, lockchat.ErrInvalidRequest) {
		t.Errorf("err = %v, want ErrInvalidRequest", err)
	}
}
