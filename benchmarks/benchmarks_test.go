package benchmarks

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestClientsReadTheWorkloads runs each client once over each workload, so that a plain
// go test catches a client (or a workload) that reads the wrong text.
func TestClientsReadTheWorkloads(t *testing.T) {
	for _, w := range Workloads {
		for _, c := range clients {
			hc := &http.Client{Transport: memTransport{body: w.Body}}
			if err := c.run(context.Background(), hc, "http://memory.invalid/v1", w); err != nil && !errors.Is(err, errCannot) {
				t.Errorf("%s on %s: %v", c.name, w.Name, err)
			}
		}
	}
	// And a wrong expectation must fail, or the check proves nothing.
	w := Workloads[0]
	hc := &http.Client{Transport: memTransport{body: w.Body}}
	w.Text += "x"
	if err := clients[0].run(context.Background(), hc, "http://memory.invalid/v1", w); err == nil {
		t.Error("a stream shorter than expected passed the check")
	}
	for _, w := range Workloads {
		if w.Reasoning == "" && w.Args == "" {
			continue
		}
		w.Reasoning, w.Args = strings.Replace(w.Reasoning, " ", "_", 1), strings.Replace(w.Args, " ", "_", 1)
		for _, c := range clients[:len(clients)-1] { // all but raw-lines, which reads nothing
			hc := &http.Client{Transport: memTransport{body: w.Body}}
			if err := c.run(context.Background(), hc, "http://memory.invalid/v1", w); err == nil {
				t.Errorf("%s on %s: wrong reasoning or arguments passed the check", c.name, w.Name)
			}
		}
	}
}
