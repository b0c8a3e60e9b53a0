package benchmarks

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// This file holds the workloads of a gateway: short calls with a small or a large
// conversation, streams that open and then wait, and an answer too long to hold.

// Short is the shortest whole answer: a role chunk, one token, a finish chunk and
// [DONE], in answer to conv.
func Short(name string, conv []Turn) Workload {
	role := chunk(map[string]any{"role": "assistant", "content": ""}, nil)
	token := chunk(map[string]any{"content": "Hello!"}, nil)
	body := role + token + chunk(map[string]any{}, "stop") + "data: [DONE]\n\n"
	return Workload{Name: name, Body: body, Text: "Hello!", Tokens: 1, Conversation: conv,
		FirstTokenAt: len(role) + len(token)}
}

// Conversation returns n messages of about size bytes each, the user's and the
// assistant's in turn, ending with the user's; their text mixes ASCII, Cyrillic, emoji,
// quotes, tabs and newlines, so that every encoder has something to escape.
func Conversation(n, size int) []Turn {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(size)))
	conv := make([]Turn, n)
	for i := range conv {
		conv[i].Role = "user"
		if (n-1-i)%2 == 1 {
			conv[i].Role = "assistant"
		}
		var b strings.Builder
		for b.Len() < size {
			b.WriteString(vocabulary[rng.IntN(len(vocabulary))])
		}
		conv[i].Content = b.String()
	}
	return conv
}

// Idle, named "idle-BIG", is a stream that a holding server sends in two parts: the role
// chunk, one content chunk of big bytes if big > 0, three tokens and a comment event,
// holdMarker (as servers send to keep a connection alive); then, once released, two more
// tokens, the finish chunk and [DONE].
func Idle(big int) Workload {
	rng := rand.New(rand.NewPCG(uint64(big), 13))
	var body, text strings.Builder
	events := 0
	token := func(tok string) {
		body.WriteString(chunk(map[string]any{"content": tok}, nil))
		text.WriteString(tok)
		events++
	}
	body.WriteString(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	events++
	if big > 0 {
		var b strings.Builder
		for b.Len() < big {
			b.WriteString(vocabulary[rng.IntN(len(vocabulary))])
		}
		token(b.String())
	}
	for range 3 {
		token(vocabulary[rng.IntN(len(vocabulary))])
	}
	body.WriteString(holdMarker)
	events++
	hold := events
	for range 2 {
		token(vocabulary[rng.IntN(len(vocabulary))])
	}
	body.WriteString(chunk(map[string]any{}, "stop"))
	body.WriteString("data: [DONE]\n\n")
	return Workload{Name: fmt.Sprintf("idle-%d", big), Body: body.String(), Text: text.String(), Tokens: events - 2, Hold: hold}
}

// holdMarker is the comment event an Idle stream sends before it waits: a measurement
// that sees it arrive on a connection knows the client has all the server will send for
// now. It cannot occur inside a JSON chunk, which escapes its newlines.
const holdMarker = ": hold\n\n"

// LongStream generates the body of Generate(name, Tokens, true) event by event, for
// answers too large to hold in memory.
type LongStream struct{ Tokens int }

// Each calls f with each event of the body in turn, and stops at f's first error.
func (l LongStream) Each(f func(event string) error) error {
	tokenEvents := make([]string, len(vocabulary))
	for i, tok := range vocabulary {
		tokenEvents[i] = chunk(map[string]any{"content": tok}, nil)
	}
	if err := f(chunk(map[string]any{"role": "assistant", "content": ""}, nil)); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(uint64(l.Tokens), 42)) // the draws of Generate
	for range l.Tokens {
		if err := f(tokenEvents[rng.IntN(len(vocabulary))]); err != nil {
			return err
		}
	}
	if err := f(chunk(map[string]any{}, "stop")); err != nil {
		return err
	}
	usage := fmt.Sprintf(`data: {"id":%q,"object":"chat.completion.chunk","created":1732550000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":%d,"total_tokens":%d}}`+"\n\n", chunkID, l.Tokens, l.Tokens+12)
	if err := f(usage); err != nil {
		return err
	}
	return f("data: [DONE]\n\n")
}

// Long is an answer of n tokens that no process holds whole: a server generates it and
// a client checks it by length and hash. It is Generate("long-n", n, true) otherwise.
func Long(n int) Workload {
	w := Workload{Name: fmt.Sprintf("long-%d", n), Tokens: n, Long: &LongStream{Tokens: n}}
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	for range n {
		w.TextDigest.Add(vocabulary[rng.IntN(len(vocabulary))])
	}
	w.Long.Each(func(ev string) error {
		w.BodyDigest.Add(ev)
		return nil
	})
	return w
}

// Digest is a text's length and 64-bit FNV-1a hash (from a zero basis, so that the zero
// Digest is the empty text's): enough to check a text too large to keep.
type Digest struct {
	Len int
	Sum uint64
}

// Add appends s to the digested text.
func (d *Digest) Add(s string) {
	for i := 0; i < len(s); i++ {
		d.Sum = (d.Sum ^ uint64(s[i])) * 1099511628211
	}
	d.Len += len(s)
}

// AddBytes appends p to the digested text.
func (d *Digest) AddBytes(p []byte) {
	for _, c := range p {
		d.Sum = (d.Sum ^ uint64(c)) * 1099511628211
	}
	d.Len += len(p)
}
