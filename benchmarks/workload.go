// Package benchmarks compares lockchat's stream decoding with other Go OpenAI clients on
// the same deterministic workloads. It is a module of its own so that the library's
// go.mod stays free of requirements.
package benchmarks

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
)

// Workload is a prepared event-stream body and what a client must read from it: the
// content text, the reasoning text and the tool calls' arguments (all calls' together).
type Workload struct {
	Name      string
	Body      string
	Text      string
	Reasoning string
	Args      string
	// ReasoningField is the delta field the reasoning comes in, "" when there is none.
	ReasoningField string
	// Tokens counts the chunks that carry a fragment of text, reasoning or arguments.
	Tokens int
	// Conversation is what the client sends; nil stands for one user message, "hi".
	Conversation []Turn
	// Hold is how many events a holding server sends before it waits to be released; the
	// last of them is holdMarker.
	Hold int
	// FirstTokenAt is the length of the body up to the end of the first event that
	// carries a token: where a client that decodes nothing has read the first token.
	FirstTokenAt int
	// Long, when set, generates a body too large to hold; Body and Text are then empty
	// and a client's reading is checked against TextDigest and BodyDigest.
	Long       *LongStream
	TextDigest Digest
	BodyDigest Digest
}

// Turn is one message of a conversation, as every client sends it.
type Turn struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request returns the conversation, with the "hi" that stands for none.
func (w Workload) Request() []Turn {
	if w.Conversation == nil {
		return []Turn{{Role: "user", Content: "hi"}}
	}
	return w.Conversation
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
	return Workload{Name: name, Body: body.String(), Text: text.String(), Tokens: n}
}

// Workloads returns the streams every client is measured on: plain content chunks as
// OpenAI sent them until 2025, and the shapes real servers send today. They are built on
// first use, so that a child process that needs none of them does not hold 50 MB.
var Workloads = sync.OnceValue(func() []Workload {
	return []Workload{
		Generate("10k", 10_000, false),
		Generate("100k", 100_000, false),
		Generate("role+usage", 10_000, true),
		OpenAI2025("openai-2025", 10_000, true),
		OpenAI2025("openai-2025-unpadded", 10_000, false),
		DeepSeekReasoning("deepseek-reasoning", 7_000, 3_000),
		ToolArguments("tool-args", 10_000),
		Ollama("ollama-reasoning", 5_000, 5_000),
	}
})

// alnum is what OpenAI's obfuscation padding is made of.
const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// OpenAI2025 is OpenAI's chunk envelope since 2025: "service_tier", "usage":null on every
// chunk, and, when padded, an "obfuscation" string of random length that pads each chunk
// so that its size does not give the token away. Unpadded, it is the same chunks
// without that field: the baseline the padding's cost is measured against.
func OpenAI2025(name string, n int, padded bool) Workload {
	rng := rand.New(rand.NewPCG(uint64(n), 2025))
	var body, text strings.Builder
	event := func(delta string, finish string) {
		pad := make([]byte, 1+rng.IntN(24))
		for i := range pad {
			pad[i] = alnum[rng.IntN(len(alnum))]
		}
		if !padded {
			pad = nil
		}
		body.WriteString(openAI2025Event(delta, finish, string(pad)))
	}
	event(`{"role":"assistant","content":"","refusal":null,"annotations":[]}`, "null")
	for range n {
		tok := vocabulary[rng.IntN(len(vocabulary))]
		event(`{"content":`+quote(tok)+`}`, "null")
		text.WriteString(tok)
	}
	event(`{}`, `"stop"`)
	body.WriteString("data: [DONE]\n\n")
	return Workload{Name: name, Body: body.String(), Text: text.String(), Tokens: n}
}

// openAI2025Event is one event of OpenAI's 2025 envelope, with the obfuscation padding
// when pad is not "".
func openAI2025Event(delta, finish, pad string) string {
	obfuscation := ""
	if pad != "" {
		obfuscation = fmt.Sprintf(`,"obfuscation":%q`, pad)
	}
	return fmt.Sprintf(`data: {"id":%q,"object":"chat.completion.chunk","created":1750000000,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":%s,"logprobs":null,"finish_reason":%s}],"usage":null%s}`+"\n\n",
		chunkID, delta, finish, obfuscation)
}

// DeepSeekReasoning is a reasoning model's stream as DeepSeek sends it: reasoning_content
// fragments with "content":null, then content fragments with "reasoning_content":null,
// and usage on the finish chunk.
func DeepSeekReasoning(name string, reasoning, content int) Workload {
	rng := rand.New(rand.NewPCG(uint64(reasoning), 7))
	var body, text, think strings.Builder
	event := func(delta, finish string, usage string) {
		fmt.Fprintf(&body, `data: {"id":"9c2f1a7e-5b1d-4c8e-a0f3-2d6b8e4c1f70","object":"chat.completion.chunk","created":1750000000,"model":"deepseek-reasoner","system_fingerprint":"fp_5417b77867_prod0425fp8","choices":[{"index":0,"delta":%s,"logprobs":null,"finish_reason":%s}]%s}`+"\n\n", delta, finish, usage)
	}
	event(`{"role":"assistant","content":null,"reasoning_content":""}`, "null", "")
	for range reasoning {
		tok := vocabulary[rng.IntN(len(vocabulary))]
		event(`{"content":null,"reasoning_content":`+quote(tok)+`}`, "null", "")
		think.WriteString(tok)
	}
	for range content {
		tok := vocabulary[rng.IntN(len(vocabulary))]
		event(`{"content":`+quote(tok)+`,"reasoning_content":null}`, "null", "")
		text.WriteString(tok)
	}
	event(`{"content":"","reasoning_content":null}`, `"stop"`, fmt.Sprintf(`,"usage":{"prompt_tokens":20,"completion_tokens":%d,"total_tokens":%d,"completion_tokens_details":{"reasoning_tokens":%d}}`, reasoning+content, reasoning+content+20, reasoning))
	body.WriteString("data: [DONE]\n\n")
	return Workload{Name: name, Body: body.String(), Text: text.String(), Reasoning: think.String(),
		ReasoningField: "reasoning_content", Tokens: reasoning + content}
}

// ToolArguments is an agent's tool call whose arguments (a file's content, JSON-escaped)
// arrive in n fragments, in OpenAI's 2025 envelope.
func ToolArguments(name string, n int) Workload {
	rng := rand.New(rand.NewPCG(uint64(n), 11))
	var body, args strings.Builder
	event := func(delta string, finish string) {
		body.WriteString(openAI2025Event(delta, finish, alnum[:1+rng.IntN(12)]))
	}
	fragment := func(s string) {
		event(`{"tool_calls":[{"index":0,"function":{"arguments":`+quote(s)+`}}]}`, "null")
		args.WriteString(s)
	}
	event(`{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_Qx7bN2mVt9LkR4sYp1ZcW8dE","type":"function","function":{"name":"write_file","arguments":""}}],"refusal":null,"annotations":[]}`, "null")
	fragment(`{"path":"main.go","content":"`)
	for range n - 2 {
		tok := quote(vocabulary[rng.IntN(len(vocabulary))])
		fragment(tok[1 : len(tok)-1]) // the token as it is inside a JSON string
	}
	fragment(`"}`)
	event(`{}`, `"tool_calls"`)
	body.WriteString("data: [DONE]\n\n")
	return Workload{Name: name, Body: body.String(), Args: args.String(), Tokens: n}
}

// Ollama is Ollama's /v1 stream of a thinking model: the role and "content" repeated in
// every chunk, reasoning under "reasoning", then the content.
func Ollama(name string, reasoning, content int) Workload {
	rng := rand.New(rand.NewPCG(uint64(reasoning), 5))
	var body, text, think strings.Builder
	event := func(delta, finish string) {
		fmt.Fprintf(&body, `data: {"id":"chatcmpl-611","object":"chat.completion.chunk","created":1750000000,"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":%s,"finish_reason":%s}]}`+"\n\n", delta, finish)
	}
	for range reasoning {
		tok := vocabulary[rng.IntN(len(vocabulary))]
		event(`{"role":"assistant","content":"","reasoning":`+quote(tok)+`}`, "null")
		think.WriteString(tok)
	}
	for range content {
		tok := vocabulary[rng.IntN(len(vocabulary))]
		event(`{"role":"assistant","content":`+quote(tok)+`}`, "null")
		text.WriteString(tok)
	}
	event(`{"role":"assistant","content":""}`, `"stop"`)
	body.WriteString("data: [DONE]\n\n")
	return Workload{Name: name, Body: body.String(), Text: text.String(), Reasoning: think.String(),
		ReasoningField: "reasoning", Tokens: reasoning + content}
}

// quote returns s as a JSON string literal, as servers write it (no HTML escaping).
func quote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
