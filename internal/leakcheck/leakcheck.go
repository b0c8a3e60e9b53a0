// Package leakcheck fails a test binary whose goroutines outlive its tests: a stream, a
// timer or a connection that outlived its call. Each test package of the module calls it
// from its TestMain:
//
//	func TestMain(m *testing.M) { leakcheck.Main(m) }
package leakcheck

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// patience is how long goroutines that are ending anyway (a server's connection after
// its Close, a timer's callback) are given to end.
const patience = 5 * time.Second

// Main runs the tests and then exits; when they passed but a goroutine running
// lockchat's or net/http's code is still there after patience, it prints the stacks of
// those goroutines and exits with status 1.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := Leaked(patience); leaked != "" {
			fmt.Fprintf(os.Stderr, "leakcheck: goroutines outlived the tests:\n\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// Leaked waits up to wait for every goroutine that runs lockchat's or net/http's code to
// end, and returns the stacks of those that did not, "" when none is left.
func Leaked(wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for {
		// Idle keep-alive connections of the shared transport are a pool, not a leak.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		var leaked []string
		for _, g := range stacks() {
			if strings.Contains(g, "lockchat") || strings.Contains(g, "net/http") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stacks returns the stack of every goroutine but the caller's.
func stacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	all := bytes.Split(buf, []byte("\n\n"))
	out := make([]string, 0, len(all))
	for _, s := range all[1:] { // the first is the caller's
		out = append(out, string(s))
	}
	return out
}
