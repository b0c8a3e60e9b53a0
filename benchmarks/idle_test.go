package benchmarks

import (
	"context"
	"fmt"
	"io"
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

// idleRun is the state shared by the streams of one measurement.
type idleRun struct {
	opening chan struct{} // a slot for each stream being opened
	opened  sync.WaitGroup
}

// idleStream is one stream's state; it rides in the request's context.
type idleStream struct {
	run   *idleRun
	ready atomic.Bool
}

type idleStreamKey struct{}

// open marks the stream as open and idle (or failed), once.
func (s *idleStream) open() {
	if s.ready.CompareAndSwap(false, true) {
		<-s.run.opening
		s.run.opened.Done()
	}
}

// holdTransport wraps each response body so that its stream is marked idle when the
// client, having read the first holdAt bytes (all a holding server sends), reads again.
type holdTransport struct {
	rt     http.RoundTripper
	holdAt int
}

func (t *holdTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if s, ok := r.Context().Value(idleStreamKey{}).(*idleStream); ok {
		resp.Body = &holdBody{ReadCloser: resp.Body, s: s, holdAt: t.holdAt}
	}
	return resp, nil
}

type holdBody struct {
	io.ReadCloser
	s         *idleStream
	n, holdAt int
}

func (b *holdBody) Read(p []byte) (int, error) {
	if b.n >= b.holdAt {
		b.s.open()
	}
	n, err := b.ReadCloser.Read(p)
	b.n += n
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
// measurement's body wrapper (48 bytes); the raw client is that floor.
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
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: &holdTransport{rt: tr, holdAt: w.HoldAt()}}

	// A first whole stream, so that what every stream shares (a pool, a lazily built
	// table) is there before the level is taken.
	if err := c.open(hc, srv.URL+"/stream/"+w.Name, w)(ctx, newCheckers(w)); err != nil {
		return idleResult{}, fmt.Errorf("warm-up: %w", err)
	}
	run := c.open(hc, srv.URL+"/hold/"+w.Name, w)
	// Everything the measurement keeps per stream is made before the level is taken.
	state := &idleRun{opening: make(chan struct{}, 64)}
	streams := make([]idleStream, n)
	ctxs := make([]context.Context, n)
	chks := make([]checkers, n)
	errs := make([]error, n)
	for i := range streams {
		streams[i].run = state
		ctxs[i] = context.WithValue(ctx, idleStreamKey{}, &streams[i])
		chks[i].reset(w)
	}
	var finished sync.WaitGroup

	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	for i := range n {
		state.opening <- struct{}{}
		state.opened.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			errs[i] = run(ctxs[i], &chks[i])
			streams[i].open() // if it failed before it was idle
		}()
	}
	state.opened.Wait()
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	g1 := runtime.NumGoroutine()
	if err := writeHeapProfile(os.Getenv("LOCKCHAT_BENCH_IDLE_HEAPPROFILE")); err != nil {
		cancel()
		finished.Wait()
		return idleResult{}, err
	}

	if err := srv.release(); err != nil {
		cancel()
		finished.Wait()
		return idleResult{}, err
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
