// Package benchmarks compares lockchat's stream decoding with other Go OpenAI clients on
// the same deterministic workloads. It is a module of its own so that the library's
// go.mod stays free of requirements.
package benchmarks

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Workload is a prepared event-stream body and the text a client must read from it.
type Workload struct {
	Name   string
	Body   []byte
	Text   string
	Tokens int
}

// vocabulary mixes ASCII words, Cyrillic, emoji and the escapes real streams carry.
var vocabulary = []string{
	" the", " a", " of", "ing", " model", " stream", ".", ",", " token", " Go",
	" Привет", " мир", " как", " дела", "ся", " ёж",
	" 😀", "🚀", " 👩‍💻", "✓",
	"\n", "\n\n", " \"quoted\"", "\t", " path\\to",
}

const chunkID = "chatcmpl-AbC1dEf2GhI3jKl4MnO5pQr6StU7v"

// chunk returns one realistic OpenAI chunk event with the given delta and finish reason.
func chunk(delta map[string]any, finish any) string {
	b, err := json.Marshal(map[string]any{
		"id": chunkID, "object": "chat.completion.chunk", "created": 1732550000,
		"model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_0ba0d124f1",
		"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
	})
	if err != nil {
		panic(err)
	}
	return "data: " + string(b) + "\n\n"
}

// Generate builds a stream of n content tokens chosen by a fixed seed. With roleAndUsage
// it opens with a role-only chunk and closes with a finish_reason chunk and a usage chunk,
// as OpenAI does with stream_options.include_usage.
func Generate(name string, n int, roleAndUsage bool) Workload {
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	var body, text strings.Builder
	if roleAndUsage {
		body.WriteString(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	}
	for range n {
		tok := vocabulary[rng.IntN(len(vocabulary))]
		body.WriteString(chunk(map[string]any{"content": tok}, nil))
		text.WriteString(tok)
	}
	body.WriteString(chunk(map[string]any{}, "stop"))
	if roleAndUsage {
		fmt.Fprintf(&body, `data: {"id":%q,"object":"chat.completion.chunk","created":1732550000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":%d,"total_tokens":%d}}`+"\n\n", chunkID, n, n+12)
	}
	body.WriteString("data: [DONE]\n\n")
	return Workload{Name: name, Body: []byte(body.String()), Text: text.String(), Tokens: n}
}

// Workloads are the streams every client is measured on.
var Workloads = []Workload{
	Generate("10k", 10_000, false),
	Generate("100k", 100_000, false),
	Generate("role+usage", 10_000, true),
}
