package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// This file measures what open, idle streams hold: a gateway with thousands of them open
// pays for each one's buffers and goroutines, not for decoding.

// idleClients are the clients measured with open streams.
var idleClients = clientsNamed("raw", "go-openai", "openai-go", "lockchat", "lockchat-chunks")

// idleResult is what each of n open streams holds in the client's process.
type idleResult struct {
	heap, stack, goroutines float64 // live heap and stack bytes, goroutines, per stream
}

// idleRun counts the streams of one measurement that are open and idle.
type idleRun struct {
	n       int64
	opening chan struct{} // a slot for each stream being opened
	open    atomic.Int64
	all     chan struct{} // closed once all n are open and idle
	failed  chan error    // the first failure
}

// opened marks one more stream as open and idle.
func (r *idleRun) opened() {
	<-r.opening
	if r.open.Add(1) == r.n {
		close(r.all)
	}
}

// markConn is a connection that tells its run when its stream is open and idle: when the
// client reads from it again after holdMarker arrived, it has taken in everything the
// server sent before holding, and waits for more. Each stream of a measurement has a
// connection of its own.
type markConn struct {
	net.Conn
	run        *idleRun
	seen, told bool
	tail       []byte // the last bytes read, for a marker split between two reads
}

func (c *markConn) Read(p []byte) (int, error) {
	if c.seen && !c.told {
		c.told = true
		c.run.opened()
	}
	n, err := c.Conn.Read(p)
	if !c.seen && n > 0 {
		joined := append(c.tail, p[:min(n, len(holdMarker)-1)]...)
		c.seen = bytes.Contains(joined, []byte(holdMarker)) || bytes.Contains(p[:n], []byte(holdMarker))
		if n >= len(holdMarker)-1 {
			c.tail = append(c.tail[:0], p[n-len(holdMarker)+1:n]...)
		} else {
			c.tail = append(c.tail, p[:n]...)
			c.tail = c.tail[max(0, len(c.tail)-len(holdMarker)+1):]
		}
	}
	return n, err
}

// idleStreams opens n streams of w with client c against a holding server in a child
// process, at most 64 being opened at a time. Once every stream has read what the server
// sends before it holds and waits for more, it collects garbage twice and measures the
// live heap, the stacks in use and the goroutines, less their level before the streams
// were opened; then it releases the streams and checks that each read all of w.
//
// Besides the client's own state, each stream's figures hold what any stream costs in
// the same process: its goroutine, the connection's transport state, and the
// measurement's wrapper around the connection (under 100 bytes); the raw client is that
// floor. The client's transport is a plain *http.Transport.
func idleStreams(ctx context.Context, c client, n int, w Workload) (idleResult, error) {
	if _, err := raiseFileLimit(n + 256); err != nil {
		return idleResult{}, err
	}
	srv, err := startServer()
	if err != nil {
		return idleResult{}, err
	}
	defer srv.close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	// A first whole stream, on a transport of its own, so that what every stream shares
	// (a pool, a lazily built table) is there before the level is taken.
	warm := http.DefaultTransport.(*http.Transport).Clone()
	err = c.open(&http.Client{Transport: warm}, srv.URL+"/stream/"+w.Name, w)(ctx, newCheckers(w))
	warm.CloseIdleConnections()
	if err != nil {
		return idleResult{}, fmt.Errorf("warm-up: %w", err)
	}

	state := &idleRun{n: int64(n), opening: make(chan struct{}, 64), all: make(chan struct{}), failed: make(chan error, 1)}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	var dialer net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &markConn{Conn: conn, run: state, tail: make([]byte, 0, 2*len(holdMarker))}, nil
	}
	run := c.open(&http.Client{Transport: tr}, srv.URL+"/hold/"+w.Name, w)
	// Everything the measurement keeps per stream is made before the level is taken.
	chks := make([]checkers, n)
	errs := make([]error, n)
	for i := range chks {
		chks[i].reset(w)
	}
	var finished sync.WaitGroup
	abort := func(err error) (idleResult, error) {
		cancel()
		finished.Wait()
		return idleResult{}, err
	}

	// A goroutine's descriptor outlives it, for the runtime to reuse: so that the first
	// measurement of a process counts no more than the later ones, have that many
	// goroutines (three a stream, see goroutines/stream) live once before the level.
	var gs sync.WaitGroup
	hold := make(chan struct{})
	for range 3 * n {
		gs.Add(1)
		go func() {
			defer gs.Done()
			<-hold
		}()
	}
	close(hold)
	gs.Wait()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	for i := range n {
		select {
		case state.opening <- struct{}{}:
		case err := <-state.failed:
			return abort(err)
		}
		finished.Add(1)
		go func() {
			defer finished.Done()
			if errs[i] = run(ctx, &chks[i]); errs[i] != nil {
				select {
				case state.failed <- errs[i]:
				default:
				}
			}
		}()
	}
	select {
	case <-state.all:
	case err := <-state.failed:
		return abort(err)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	g1 := runtime.NumGoroutine()
	if err := writeHeapProfile(os.Getenv("LOCKCHAT_BENCH_IDLE_HEAPPROFILE")); err != nil {
		return abort(err)
	}

	if err := srv.release(); err != nil {
		return abort(err)
	}
	finished.Wait()
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
		}
	}
	if failed > 0 {
		return idleResult{}, fmt.Errorf("%d of %d streams failed; the first: %w", failed, n, first)
	}
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return idleResult{
		heap:       per(after.HeapAlloc, before.HeapAlloc),
		stack:      per(after.StackInuse, before.StackInuse),
		goroutines: float64(g1-g0) / float64(n),
	}, nil
}

// writeHeapProfile writes the heap profile to path, if path is not "": with go test
// -memprofilerate 1, what the open streams hold, by allocation site.
func writeHeapProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// BenchmarkIdleStreams opens 1,000 and 10,000 concurrent streams on loopback, each having
// received a role chunk and three tokens, and 250 streams that first received a 1 MiB
// chunk (what such a stream keeps does not depend on how many there are, and 1,000 of
// them take a minute), and reports what each open, idle stream holds in the client's
// process. Run it with -benchtime 1x: one measurement is one op. With
// LOCKCHAT_BENCH_IDLE_HEAPPROFILE set to a file name, each measurement writes the heap
// profile of that moment there.
func BenchmarkIdleStreams(b *testing.B) {
	cases := []struct {
		name string
		n    int
		w    Workload
	}{
		{"n1000", 1000, Idle(0)},
		{"n10000", 10000, Idle(0)},
		{"n250-after-1MiB", 250, Idle(1 << 20)},
	}
	for _, tc := range cases {
		for _, c := range idleClients {
			b.Run(tc.name+"/"+c.name, func(b *testing.B) {
				var sum idleResult
				for range b.N {
					r, err := idleStreams(context.Background(), c, tc.n, tc.w)
					if err != nil {
						b.Fatal(err)
					}
					sum.heap += r.heap
					sum.stack += r.stack
					sum.goroutines += r.goroutines
				}
				n := float64(b.N)
				b.ReportMetric(sum.heap/n/1024, "heap-KiB/stream")
				b.ReportMetric(sum.stack/n/1024, "stack-KiB/stream")
				b.ReportMetric(sum.goroutines/n, "goroutines/stream")
			})
		}
	}
}
