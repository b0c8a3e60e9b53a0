package lockchat

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// TestHugeChoiceArraysStayBounded feeds chunks holding hundreds of thousands of tiny
// choices or tool calls: each must fail as malformed without the decoder's memory
// growing past a small multiple of the line itself, on the fast path and on
// encoding/json's.
func TestHugeChoiceArraysStayBounded(t *testing.T) {
	const n = 500_000
	cases := map[string]string{
		"choices":          `{"choices":[` + strings.Repeat(`{},`, n) + `{}]}`,
		"choices, slow":    `{"choices":[` + strings.Repeat(`{},`, n) + `{}], "\u0069d":"x"}`, // an escaped key sends it to encoding/json
		"tool calls":       `{"choices":[{"delta":{"tool_calls":[` + strings.Repeat(`{},`, n) + `{}]}}]}`,
		"tool calls, slow": `{"choices":[{"delta":{"tool_calls":[` + strings.Repeat(`{},`, n) + `{}]}}], "\u0069d":"x"}`,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var d chunkDecoder
			err := d.decode([]byte(data))
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrMalformedStream) || !strings.Contains(err.Error(), "more than 1024") {
				t.Fatalf("err = %v", err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(16*len(data)) {
				t.Fatalf("decoding a %d-byte chunk allocated %d MiB", len(data), grew>>20)
			}
		})
	}
}
