package leakcheck

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestLeakedSeesAServerLeftRunning(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	if got := Leaked(50 * time.Millisecond); !strings.Contains(got, "net/http.(*Server).Serve") {
		t.Errorf("Leaked with a server running = %q, want its stack", got)
	}
	srv.Close()
	if got := Leaked(time.Second); got != "" {
		t.Errorf("Leaked after Close = %q, want nothing", got)
	}
}
