package benchmarks

import "testing"

// This file measures what one short call costs: an agent making thousands of them pays
// for building the request and setting up the exchange, not for decoding.

// shortCalls are the shortest whole answer (role, one token, finish, [DONE]) to one short
// message and to a conversation of 10 messages of about 1 KB each.
var shortCalls = []Workload{
	Short("hi", nil),
	Short("10x1KB", Conversation(10, 1000)),
}

// BenchmarkShortCall makes one call at a time through an in-memory transport and reports
// the time, bytes and allocations per call, building the request's body included: each
// client converts the conversation to its own message type once, as a program keeps it,
// and encodes it on every call; the raw client encodes it with encoding/json.
func BenchmarkShortCall(b *testing.B) {
	for _, w := range shortCalls {
		for _, c := range clientsNamed("raw", "go-openai", "openai-go", "lockchat", "lockchat-chunks") {
			b.Run(w.Name+"/"+c.name, func(b *testing.B) {
				hc := memoryClient(memTransport{body: w.Body})
				measure(b, c, hc, "http://memory.invalid/v1", w, "call")
			})
		}
	}
}
