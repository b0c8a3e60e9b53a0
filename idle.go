package lockchat

import (
	"context"
	"net/http/httptrace"
	"sync"
	"time"
)

// idleTimer cancels an attempt once the server has been silent for its duration. It
// runs only while the client waits on the network: from the moment the request starts a
// DNS lookup, a dial or a handshake, or gets a connection, until the response headers
// arrive, and during each read of the body. So the time a request waits for a
// connection from the caller's own pool (MaxConnsPerHost) never counts, nor the time the
// caller spends in its loop body, but a hanging lookup or dial does.
type idleTimer struct {
	d time.Duration
	t *time.Timer // cancels the attempt when it fires

	// The connection hooks run on the transport's goroutines, and may run late, after
	// the headers: they arm the timer only while the headers are awaited.
	mu           sync.Mutex
	awaitHeaders bool
}

func newIdleTimer(d time.Duration, cancel context.CancelCauseFunc) *idleTimer {
	it := &idleTimer{d: d, awaitHeaders: true}
	it.t = time.AfterFunc(d, func() { cancel(errIdleCause) })
	it.t.Stop() // armed by the first connection hook
	return it
}

// connectionTrace arms the timer when the request goes on the network: when a DNS
// lookup, a dial or a TLS handshake for it starts, or when it gets a connection to send
// on — but not while it waits for a connection from the caller's pool.
func (it *idleTimer) connectionTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { it.onNetwork() },
		ConnectStart:      func(string, string) { it.onNetwork() },
		TLSHandshakeStart: func() { it.onNetwork() },
		GotConn:           func(httptrace.GotConnInfo) { it.onNetwork() },
	}
}

func (it *idleTimer) onNetwork() {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.awaitHeaders {
		it.t.Reset(it.d)
	}
}

// headersDone stops the timer when the response headers (or a failure) arrive.
func (it *idleTimer) headersDone() {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.awaitHeaders = false
	it.t.Stop()
}

// limit makes the reads that follow wait for at most d: the drain after [DONE] (see
// drain) bounds its reads with the attempt's own timer rather than another one.
func (it *idleTimer) limit(d time.Duration) { it.d = min(it.d, d) }
