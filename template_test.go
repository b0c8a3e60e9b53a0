package lockchat

import (
	"strings"
	"testing"
)

// TestTemplateServesRealChunks checks that the chunks real servers send most often are
// decoded by the template after the first one, so the fast path is not lost to a field
// that changes on every chunk, and that it gives the same meaning as encoding/json.
func TestTemplateServesRealChunks(t *testing.T) {
	cases := []struct {
		name  string
		chunk string // with TEXT where each chunk's text goes and PAD for padding
	}{
		{"openai content with obfuscation and service_tier",
			`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","service_tier":"default","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"TEXT"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"PAD"}`},
		{"deepseek reasoning",
			`{"id":"ds","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_ds","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"TEXT"},"logprobs":null,"finish_reason":null}]}`},
		{"vllm reasoning field",
			`{"id":"v","object":"chat.completion.chunk","created":1,"model":"qwen","choices":[{"index":0,"delta":{"reasoning":"TEXT"},"logprobs":null,"finish_reason":null}]}`},
		{"openai tool arguments",
			`{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"TEXT"}}]},"logprobs":null,"finish_reason":null}],"obfuscation":"PAD"}`},
		{"ollama content with the role repeated",
			`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"qwen3","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"TEXT"},"finish_reason":null}]}`},
		{"refusal",
			`{"id":"r","model":"gpt-4o","choices":[{"index":0,"delta":{"refusal":"TEXT"},"finish_reason":null}]}`},
	}
	texts := []string{"Hello", ` wor\"ld`, "", ` \u00e9\n`, "😀", " ok"} // as JSON has them
	pads := []string{"x", "", "abcdefgh", "Q9"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dec chunkDecoder
			for i, text := range texts {
				data := []byte(strings.NewReplacer("TEXT", text, "PAD", pads[i%len(pads)]).Replace(tc.chunk))
				hit := dec.tmpl.apply(&dec, data)
				if !hit {
					if err := dec.decode(data); err != nil {
						t.Fatal(err)
					}
				}
				if i > 0 && !hit {
					t.Fatalf("chunk %d missed the template", i)
				}
				var slow chunkDecoder
				if err := slow.decodeMode(data, false); err != nil {
					t.Fatal(err)
				}
				if !sameDecoding(&dec, &slow) {
					t.Fatalf("chunk %d:\ntemplate %+v %+v\nslow     %+v %+v", i, dec.choices, dec.calls, slow.choices, slow.calls)
				}
			}
		})
	}
}
