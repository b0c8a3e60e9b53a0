package benchmarks

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"testing"
)

// This file measures the peak resident memory of a process that reads one long answer.

// longResult is what a process that read a long answer reports: its peak resident set
// size at its start and at its end, in KiB, and the garbage collections and the bytes
// allocated while it read.
type longResult struct {
	start, peak int
	gcs         int
	alloc       int64
}

// longAnswer reads an answer of n tokens from base (a server's /stream/long-N route)
// with the named client in a child process of its own. The child checks the answer by
// its length and hash; a wrong one fails it.
func longAnswer(name, base string, n int) (longResult, error) {
	cmd := child("long", "LOCKCHAT_BENCH_CLIENT="+name, "LOCKCHAT_BENCH_BASE="+base, "LOCKCHAT_BENCH_TOKENS="+strconv.Itoa(n))
	cmd.Stderr = nil // Output keeps it in the error
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return longResult{}, fmt.Errorf("%s: %w: %s", name, err, bytes.TrimSpace(exit.Stderr))
		}
		return longResult{}, fmt.Errorf("%s: %w", name, err)
	}
	var r longResult
	if _, err := fmt.Sscanf(string(out), "rss-kib %d %d gc %d alloc %d\n", &r.start, &r.peak, &r.gcs, &r.alloc); err != nil {
		return longResult{}, fmt.Errorf("%s: output %q: %w", name, out, err)
	}
	return r, nil
}

// BenchmarkLongAnswer streams 1,000,000 tokens (230 MB of events) over loopback from a
// server process to a client process per client, and reports the client process's peak
// resident set size in MiB; for reference, its size when it started, and the garbage
// collections and bytes allocated per token while it read. Run it with -benchtime 1x:
// one process is one op.
func BenchmarkLongAnswer(b *testing.B) {
	const tokens = 1_000_000
	srv, err := startServer()
	if err != nil {
		b.Fatal(err)
	}
	defer srv.close()
	for _, c := range clientsNamed("raw", "go-openai", "openai-go", "lockchat", "lockchat-chunks") {
		b.Run(c.name, func(b *testing.B) {
			var sum longResult
			for range b.N {
				r, err := longAnswer(c.name, fmt.Sprintf("%s/stream/long-%d", srv.URL, tokens), tokens)
				if err != nil {
					b.Fatal(err)
				}
				sum.start, sum.peak, sum.gcs, sum.alloc = sum.start+r.start, sum.peak+r.peak, sum.gcs+r.gcs, sum.alloc+r.alloc
			}
			n := float64(b.N)
			b.ReportMetric(float64(sum.peak)/n/1024, "peak-RSS-MiB")
			b.ReportMetric(float64(sum.start)/n/1024, "start-RSS-MiB")
			b.ReportMetric(float64(sum.gcs)/n, "GCs")
			b.ReportMetric(float64(sum.alloc)/n/tokens, "B/token")
		})
	}
}
