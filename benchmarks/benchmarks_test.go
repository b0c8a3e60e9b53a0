package benchmarks

import (
	"context"
	"net/http"
	"testing"
)

// TestClientsReadTheWorkloads runs each client once over each workload, so that a plain
// go test catches a client (or a workload) that reads the wrong text.
func TestClientsReadTheWorkloads(t *testing.T) {
	for _, w := range Workloads {
		for _, c := range clients {
			hc := &http.Client{Transport: memTransport{body: w.Body}}
			if err := c.run(context.Background(), hc, "http://memory.invalid/v1", w.Text); err != nil {
				t.Errorf("%s on %s: %v", c.name, w.Name, err)
			}
		}
	}
	// And a wrong expectation must fail, or the check proves nothing.
	w := Workloads[0]
	hc := &http.Client{Transport: memTransport{body: w.Body}}
	if err := clients[0].run(context.Background(), hc, "http://memory.invalid/v1", w.Text+"x"); err == nil {
		t.Error("a stream shorter than expected passed the check")
	}
}
