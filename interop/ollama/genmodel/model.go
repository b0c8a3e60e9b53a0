package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/ollama/ollama/fs/ggml"
)

// The model's shape: a llama-architecture transformer small enough to load in a moment
// and to stream hundreds of tokens per second on a CPU.
const (
	embd    = 384  // embedding width; bounds how many tokens can be chain states
	layers  = 2    // transformer blocks
	heads   = 6    // attention heads (64 wide each)
	ffWidth = 256  // feed-forward width
	ctxLen  = 1024 // context length the model declares
	// successorWeight is the output-matrix entry linking a token to its successor. The
	// final RMS norm scales a one-hot state to sqrt(embd), so the successor's logit is
	// about 78 and every other logit is exactly 0: the successor's probability differs
	// from 1 by less than 1e-14 at temperature 2.
	successorWeight = 4.0
)

// SentencePiece token types, as GGUF stores them.
const (
	typeNormal  = 1
	typeUnknown = 2
	typeControl = 3
	typeByte    = 6
)

// The first tokens: unknown, begin and end of sequence, then the 256 byte tokens, so
// that any prompt tokenizes.
const (
	unkID   = 0
	bosID   = 1
	eosID   = 2
	firstID = 3 + 256 // the first trigger
)

// vocab is the model's vocabulary and its successor table.
type vocab struct {
	tokens []string
	types  []int32
	// state maps a token that can be the current one (a trigger or a piece) to its
	// embedding dimension; other tokens have an all-zero embedding.
	state map[int]int
	// next maps each state token to the token that must follow it.
	next map[int]int
}

// buildVocab lays out the vocabulary and the successor of each trigger and piece. It
// fails on a piece or trigger that appears twice, since a vocabulary maps each text to
// one token (llama.cpp refuses to load one that does not).
func buildVocab(chains []chain) (*vocab, error) {
	v := &vocab{state: map[int]int{}, next: map[int]int{}}
	v.add("<unk>", typeUnknown)
	v.add("<s>", typeControl)
	v.add("</s>", typeControl)
	for b := 0; b < 256; b++ {
		v.add(fmt.Sprintf("<0x%02X>", b), typeByte)
	}
	seen := map[string]bool{}
	triggers := make([]int, len(chains)) // token ids, in the order of chains
	for i, c := range chains {
		if seen[c.trigger] {
			return nil, fmt.Errorf("trigger %q appears twice", c.trigger)
		}
		seen[c.trigger] = true
		triggers[i] = v.add(c.trigger, typeControl)
		v.state[triggers[i]] = len(v.state)
	}
	for i, c := range chains {
		prev := triggers[i]
		for _, p := range c.pieces {
			if seen[p] {
				return nil, fmt.Errorf("piece %q appears twice", p)
			}
			seen[p] = true
			id := v.add(p, typeNormal)
			v.state[id] = len(v.state)
			v.next[prev] = id
			prev = id
		}
		if c.loop {
			v.next[prev] = prev
		} else {
			v.next[prev] = eosID
		}
	}
	if len(v.state) > embd {
		return nil, fmt.Errorf("%d chain states do not fit in %d embedding dimensions", len(v.state), embd)
	}
	return v, nil
}

// add appends a token and returns its id.
func (v *vocab) add(text string, typ int32) int {
	v.tokens = append(v.tokens, text)
	v.types = append(v.types, typ)
	return len(v.tokens) - 1
}

// writeGGUF writes the model to path with Ollama's own GGUF writer.
func writeGGUF(path string, v *vocab) error {
	n := len(v.tokens)
	kv := ggml.KV{
		"general.architecture":                   "llama",
		"general.name":                           "lockchat-tiny",
		"general.file_type":                      uint32(0), // all F32
		"llama.vocab_size":                       uint32(n),
		"llama.context_length":                   uint32(ctxLen),
		"llama.embedding_length":                 uint32(embd),
		"llama.block_count":                      uint32(layers),
		"llama.feed_forward_length":              uint32(ffWidth),
		"llama.attention.head_count":             uint32(heads),
		"llama.attention.head_count_kv":          uint32(heads),
		"llama.rope.dimension_count":             uint32(embd / heads),
		"llama.rope.freq_base":                   float32(10000),
		"llama.attention.layer_norm_rms_epsilon": float32(1e-5),
		"tokenizer.ggml.model":                   "llama",
		"tokenizer.ggml.tokens":                  v.tokens,
		"tokenizer.ggml.scores":                  make([]float32, n),
		"tokenizer.ggml.token_type":              v.types,
		"tokenizer.ggml.unknown_token_id":        uint32(unkID),
		"tokenizer.ggml.bos_token_id":            uint32(bosID),
		"tokenizer.ggml.eos_token_id":            uint32(eosID),
		"tokenizer.ggml.add_bos_token":           true,
		"tokenizer.ggml.add_eos_token":           false,
	}

	// One-hot embeddings for the state tokens; the output matrix maps each state's
	// dimension to its successor. GGUF shapes list the fastest-varying dimension first:
	// row v of a [embd, n] matrix is token v's vector.
	embed := make([]float32, embd*n)
	output := make([]float32, embd*n)
	for id, dim := range v.state {
		embed[id*embd+dim] = 1
		output[v.next[id]*embd+dim] = successorWeight
	}
	ones := make([]float32, embd)
	for i := range ones {
		ones[i] = 1
	}
	ts := []*ggml.Tensor{
		tensor("token_embd.weight", embed, embd, n),
		tensor("output_norm.weight", ones, embd),
		tensor("output.weight", output, embd, n),
	}
	// Attention and feed-forward weights are zero, so each block adds nothing to the
	// residual stream: the last position's state is its own token's embedding, whatever
	// came before it.
	for l := 0; l < layers; l++ {
		b := fmt.Sprintf("blk.%d.", l)
		ts = append(ts,
			tensor(b+"attn_norm.weight", ones, embd),
			tensor(b+"attn_q.weight", nil, embd, embd),
			tensor(b+"attn_k.weight", nil, embd, embd),
			tensor(b+"attn_v.weight", nil, embd, embd),
			tensor(b+"attn_output.weight", nil, embd, embd),
			tensor(b+"ffn_norm.weight", ones, embd),
			tensor(b+"ffn_gate.weight", nil, embd, ffWidth),
			tensor(b+"ffn_up.weight", nil, embd, ffWidth),
			tensor(b+"ffn_down.weight", nil, ffWidth, embd),
		)
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := ggml.WriteGGUF(f, kv, ts); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// tensor returns an F32 tensor of the given shape; nil data means all zeros.
func tensor(name string, data []float32, shape ...int) *ggml.Tensor {
	size := 1
	dims := make([]uint64, len(shape))
	for i, s := range shape {
		size *= s
		dims[i] = uint64(s)
	}
	if data == nil {
		data = make([]float32, size)
	}
	return &ggml.Tensor{Name: name, Kind: 0, Shape: dims, WriterTo: f32(data)}
}

// f32 writes its values as little-endian float32, the layout of a GGUF F32 tensor.
type f32 []float32

func (d f32) WriteTo(w io.Writer) (int64, error) {
	if err := binary.Write(w, binary.LittleEndian, []float32(d)); err != nil {
		return 0, err
	}
	return int64(4 * len(d)), nil
}
