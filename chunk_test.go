package lockchat

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
)

// streamChunks runs StreamChunks over body, cut at cuts, and returns the chunks (less
// Raw, which is only valid in the loop body) and the error.
func streamChunks(body []byte, cuts []int) ([]Chunk, error) {
	var out []Chunk
	for ch, err := range bodyClient(body, cuts).StreamChunks(context.Background(), "m", nil) {
		if err != nil {
			return out, err
		}
		ch.Raw = nil
		out = append(out, ch)
	}
	return out, nil
}

// TestChunksDoNotDependOnReads checks every field of every chunk StreamChunks yields,
// ID and Model included (also those of the chunk that flushes a held-back UTF-16 half),
// whole and one byte a read.
func TestChunksDoNotDependOnReads(t *testing.T) {
	bodies := map[string]string{
		"held-back half flushed at [DONE]":  chunk(delta(`"a\uD83D"`)) + `data: {"id":"c2","model":"m2","choices":[{"index":0,"delta":{"reasoning":"r\uD83E"}}]}` + "\n\n" + done,
		"held-back half flushed at the end": chunk(delta(`"a\uD83D"`)) + `data: {"id":"c3","model":"m3","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n",
	}
	for _, tc := range dialectCases {
		bodies[tc.name] = tc.body
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			b := []byte(body)
			want, err := streamChunks(b, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, cut := range dialectCuts(len(b), 9) {
				got, err := streamChunks(b, cut)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("cut at %v: %v\n got %+v\nwant %+v", cut, err, got, want)
				}
			}
		})
	}
	// The flushing chunk repeats the last chunk's id and model.
	got, _ := streamChunks([]byte(bodies["held-back half flushed at the end"]), nil)
	if last := got[len(got)-1]; last.ID != "c3" || last.Model != "m3" || last.Choices[0].Content != "\uFFFD" {
		t.Fatalf("flushing chunk %+v", last)
	}
}

// TestUsageOfAnyShapeNeverFailsAStream: usage is bookkeeping, the text is the answer.
func TestUsageOfAnyShapeNeverFailsAStream(t *testing.T) {
	cases := map[string]struct {
		usage string
		want  Usage
	}{
		"whole floats, a string, a huge number": {`{"prompt_tokens":12.0,"completion_tokens":"5","total_tokens":1e30}`, Usage{PromptTokens: 12}},
		"a fraction and a negative":             {`{"prompt_tokens":1.5,"completion_tokens":-3,"total_tokens":7}`, Usage{CompletionTokens: -3, TotalTokens: 7}},
		"details of another shape":              {`{"prompt_tokens":4,"prompt_tokens_details":"n/a","completion_tokens_details":[1]}`, Usage{PromptTokens: 4}},
		"not an object":                         {`"lots"`, Usage{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			body := []byte(chunk(delta(`"text"`)) + finishChunk + `data: {"choices":[],"usage":` + tc.usage + "}\n\n" + done)
			toks, err := streamBody("text/event-stream", body, nil)
			if err != nil || len(toks) != 1 {
				t.Fatalf("Stream: %q, %v", toks, err)
			}
			chunks, err := streamChunks(body, nil)
			if err != nil {
				t.Fatal(err)
			}
			last := chunks[len(chunks)-1]
			if tc.usage[0] != '{' {
				if last.Usage != nil {
					t.Fatalf("usage %+v from a non-object", last.Usage)
				}
				return
			}
			if last.Usage == nil || *last.Usage != tc.want {
				t.Fatalf("usage %+v, want %+v", last.Usage, tc.want)
			}
		})
	}
}

// TestRawReachesUnmodelledFields: fields lockchat does not model are in Chunk.Raw while
// the loop body runs, without a second parse of the stream.
func TestRawReachesUnmodelledFields(t *testing.T) {
	body := []byte(events(`
{"id":"g","choices":[{"index":0,"delta":{"content":"a"},"logprobs":{"content":[{"token":"a","logprob":-0.1}]}}],"x_groq":{"id":"req_1"}}
{"id":"g","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"provider":"Groq"}
[DONE]`))
	var seen []string
	for ch, err := range bodyClient(body, nil).StreamChunks(context.Background(), "m", nil) {
		if err != nil {
			t.Fatal(err)
		}
		var extra struct {
			XGroq    *struct{ ID string } `json:"x_groq"`
			Provider string               `json:"provider"`
			Choices  []struct {
				Logprobs *struct{ Content []struct{ Token string } } `json:"logprobs"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(ch.Raw, &extra); err != nil {
			t.Fatalf("Raw %q: %v", ch.Raw, err)
		}
		switch {
		case extra.XGroq != nil:
			seen = append(seen, "x_groq "+extra.XGroq.ID+" logprob "+extra.Choices[0].Logprobs.Content[0].Token)
		case extra.Provider != "":
			seen = append(seen, "provider "+extra.Provider)
		}
	}
	if want := []string{"x_groq req_1 logprob a", "provider Groq"}; !reflect.DeepEqual(seen, want) {
		t.Fatalf("saw %q, want %q", seen, want)
	}
}

// TestStreamChunksYieldsAzurePromptFilterChunk checks that the chunk Azure sends first,
// with no choices but prompt_filter_results, reaches the caller (its Raw holds them),
// while a keep-alive that holds only the envelope (nulls aside) does not.
func TestStreamChunksYieldsAzurePromptFilterChunk(t *testing.T) {
	filter := `{"id":"","object":"","created":0,"model":"","choices":[],"prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}`
	keepAlive := `{"id":"x","object":"chat.completion.chunk","choices":[],"system_fingerprint":null,"x":null}`
	content := `{"id":"x","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}`
	body := "data: " + filter + "\n\ndata: " + keepAlive + "\n\ndata: " + content + "\n\ndata: [DONE]\n\n"
	var raws []string
	for ch, err := range bodyClient([]byte(body), nil).StreamChunks(context.Background(), "m", nil) {
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, string(ch.Raw))
	}
	if len(raws) != 2 || raws[0] != filter || raws[1] != content {
		t.Fatalf("chunks %q, want the filter chunk and the content chunk", raws)
	}
}
