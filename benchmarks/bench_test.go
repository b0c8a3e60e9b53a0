package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memTransport answers every request with a prepared body: it isolates decoding. Its
// own three allocations per call (the response, its body reader and the closer around
// it) are in every client's figures.
type memTransport struct{ body string }

// memoryClient is an HTTP client whose every request is answered by rt in memory. Its
// transport is an *http.Transport that hands http:// requests to rt, so that a client
// that looks at its transport (lockchat does) sees the common one; every client pays the
// Transport's checks of the request's headers on the way.
func memoryClient(rt http.RoundTripper) *http.Client {
	tr := &http.Transport{}
	tr.RegisterProtocol("http", rt)
	return &http.Client{Transport: tr}
}

func (t memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  eventStreamHeader,
		Body:    io.NopCloser(strings.NewReader(t.body)),
		Request: r, ContentLength: -1,
	}, nil
}

// eventStreamHeader is every in-memory response's header; no client changes it.
var eventStreamHeader = http.Header{"Content-Type": {"text/event-stream"}}

// loopbackServer streams a body over real TCP, flushing after every flushEvery events.
func loopbackServer(body string, flushEvery int) (*httptest.Server, *atomic.Int64) {
	var conns atomic.Int64
	events := strings.SplitAfter(body, "\n\n")
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		for i, ev := range events {
			io.WriteString(w, ev)
			if (i+1)%flushEvery == 0 {
				f.Flush()
			}
		}
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	return ts, &conns
}

// measure runs one client over one stream b.N times, checking every reading, and reports
// the time, bytes and allocations per token or per call (per is "token" or "call").
func measure(b *testing.B, c client, hc *http.Client, base string, w Workload, per string) {
	ctx := context.Background()
	run := c.open(hc, base, w)
	chk := newCheckers(w)
	if err := run(ctx, chk); errors.Is(err, errCannot) {
		b.Skip(err)
	} else if err != nil { // warm up, and check once
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		chk.reset(w)
		if err := run(ctx, chk); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(b.N)
	if per == "token" {
		n *= float64(w.Tokens)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/"+per)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/"+per)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/"+per)
}

// BenchmarkMemory decodes prepared bytes through an in-memory RoundTripper.
func BenchmarkMemory(b *testing.B) {
	for _, w := range Workloads() {
		for _, c := range clients {
			b.Run(fmt.Sprintf("%s/%s", w.Name, c.name), func(b *testing.B) {
				hc := memoryClient(memTransport{body: w.Body})
				measure(b, c, hc, "http://memory.invalid/v1", w, "token")
			})
		}
	}
}

// BenchmarkLoopback streams over TCP on 127.0.0.1, flushing after every event and after
// every 64 events.
func BenchmarkLoopback(b *testing.B) {
	w := Workloads()[0]
	for _, flush := range []int{1, 64} {
		ts, _ := loopbackServer(w.Body, flush)
		for _, c := range clients {
			b.Run(fmt.Sprintf("flush%d/%s", flush, c.name), func(b *testing.B) {
				tr := http.DefaultTransport.(*http.Transport).Clone()
				defer tr.CloseIdleConnections()
				measure(b, c, &http.Client{Transport: tr}, ts.URL+"/v1", w, "token")
			})
		}
		ts.Close()
	}
}

// BenchmarkPeakHeap streams the 10k and the 100k workloads (2.3 MB and 23 MB of events)
// from memory and reports how far the live heap rose above its level before streaming:
// the client's own memory, which must not grow with the stream's length.
func BenchmarkPeakHeap(b *testing.B) {
	for _, w := range Workloads()[:2] {
		b.Run(w.Name+"/lockchat", func(b *testing.B) {
			hc := memoryClient(memTransport{body: w.Body})
			run := clientsNamed("lockchat")[0].open(hc, "http://memory.invalid/v1", w)
			chk := newCheckers(w)
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			peak := sampleHeap(func() {
				for range b.N {
					chk.reset(w)
					if err := run(context.Background(), chk); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.ReportMetric(float64(peak-min(peak, base.HeapAlloc))/1024, "peak-heap-growth-KiB")
		})
	}
}

// sampleHeap runs f and returns the most live heap seen while it ran: every few
// milliseconds it collects garbage and reads HeapAlloc, so the figure is what is live,
// not what the collector has yet to reclaim.
func sampleHeap(f func()) uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.GC()
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	return peak.Load()
}

// BenchmarkConnections runs 1,000 sequential short streams per op and reports how many
// TCP connections they opened beyond the first.
func BenchmarkConnections(b *testing.B) {
	w := Generate("small", 20, true)
	for _, c := range clientsNamed("lockchat", "go-openai", "openai-go") {
		b.Run(c.name, func(b *testing.B) {
			ts, conns := loopbackServer(w.Body, 1)
			defer ts.Close()
			tr := http.DefaultTransport.(*http.Transport).Clone()
			defer tr.CloseIdleConnections()
			run := c.open(&http.Client{Transport: tr}, ts.URL+"/v1", w)
			chk := newCheckers(w)
			for range b.N {
				for range 1000 {
					chk.reset(w)
					if err := run(context.Background(), chk); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(conns.Load()-1)/float64(b.N), "new-conns/1000-streams")
		})
	}
}

// BenchmarkConcurrentStreams runs 1,000 concurrent lockchat streams of 200 tokens against
// one loopback server, each checking it got exactly its tokens, and reports the peak heap
// per stream (client and server sides together: they share the process).
func BenchmarkConcurrentStreams(b *testing.B) {
	const streams = 1000
	w := Generate("200", 200, true)
	ts, _ := loopbackServer(w.Body, 1)
	defer ts.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = streams
	defer tr.CloseIdleConnections()
	run := clientsNamed("lockchat")[0].open(&http.Client{Transport: tr}, ts.URL+"/v1", w)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var failed atomic.Int64
	peak := sampleHeap(func() {
		for range b.N {
			var wg sync.WaitGroup
			for range streams {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := run(context.Background(), newCheckers(w)); err != nil {
						failed.Add(1)
					}
				}()
			}
			wg.Wait()
		}
	})
	if failed.Load() > 0 {
		b.Fatalf("%d streams failed", failed.Load())
	}
	b.ReportMetric(float64(peak-min(peak, base.HeapAlloc))/streams/1024, "peak-heap-KiB/stream")
}
