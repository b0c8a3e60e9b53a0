package benchmarks

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// This file measures the time to the first token on loopback, the clients taking turns so
// that a noisy moment on the machine falls on all of them alike.

// firstTokenClients are the clients measured; LOCKCHAT_BENCH_CLIENTS (names separated by
// commas) narrows them, to profile one.
func firstTokenClients() []client {
	names := []string{"raw", "go-openai", "openai-go", "lockchat", "lockchat-chunks"}
	if env := os.Getenv("LOCKCHAT_BENCH_CLIENTS"); env != "" {
		names = strings.Split(env, ",")
	}
	return clientsNamed(names...)
}

// firstTokens makes warmup and then rounds calls of the short workload with each client
// in turn, one call at a time, each client over its own kept-alive connection to base,
// and returns each client's times from the start of a call to its first token, one per
// round. Every call is checked to the end.
func firstTokens(ctx context.Context, cs []client, base string, warmup, rounds int) (map[string][]time.Duration, error) {
	w := Short("short", nil)
	type turn struct {
		name  string
		run   call
		chk   *checkers
		start time.Time
		first time.Duration
		tr    *http.Transport
	}
	turns := make([]*turn, len(cs))
	for i, c := range cs {
		t := &turn{name: c.name, chk: newCheckers(w), tr: http.DefaultTransport.(*http.Transport).Clone()}
		t.run = c.open(&http.Client{Transport: t.tr}, base, w)
		t.chk.first = func() { t.first = time.Since(t.start) }
		turns[i] = t
	}
	defer func() {
		for _, t := range turns {
			t.tr.CloseIdleConnections()
		}
	}()
	times := map[string][]time.Duration{}
	for r := range warmup + rounds {
		for _, t := range turns {
			t.chk.reset(w)
			t.first = 0
			t.start = time.Now()
			if err := t.run(ctx, t.chk); err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
			if t.first == 0 {
				return nil, fmt.Errorf("%s: no first token", t.name)
			}
			if r >= warmup {
				times[t.name] = append(times[t.name], t.first)
			}
		}
	}
	return times, nil
}

// percentile returns the p-th percentile of the sorted times: the smallest that at least
// p percent of them do not exceed.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}

// BenchmarkFirstToken makes 2,000 calls per client against a server in a child process
// that flushes each event as it writes it, the clients taking turns call by call, and
// reports each client's median and 99th percentile time from the start of a call to its
// first token, in µs, as metrics named p50-µs:CLIENT and p99-µs:CLIENT. Run it with
// -benchtime 1x: one measurement is one op.
func BenchmarkFirstToken(b *testing.B) {
	srv, err := startServer()
	if err != nil {
		b.Fatal(err)
	}
	defer srv.close()
	cs := firstTokenClients()
	all := map[string][]time.Duration{}
	for range b.N {
		times, err := firstTokens(context.Background(), cs, srv.URL+"/stream/short", 100, 2000)
		if err != nil {
			b.Fatal(err)
		}
		for name, ts := range times {
			all[name] = append(all[name], ts...)
		}
	}
	for _, c := range cs {
		ts := all[c.name]
		slices.Sort(ts)
		b.ReportMetric(float64(percentile(ts, 50).Nanoseconds())/1e3, "p50-µs:"+c.name)
		b.ReportMetric(float64(percentile(ts, 99).Nanoseconds())/1e3, "p99-µs:"+c.name)
	}
}
