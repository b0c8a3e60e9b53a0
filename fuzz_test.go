package lockchat

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzStream checks that any body gives the same tokens and the same error whatever way
// its bytes are split into reads, and never panics.
func FuzzStream(f *testing.F) {
	for _, tc := range streamCases {
		f.Add([]byte(tc.body), uint64(len(tc.body)))
	}
	// The chunk seeds double as one-event streams.
	for i, s := range chunkSeeds {
		f.Add([]byte("data: "+s+"\n\n"), uint64(i))
	}
	f.Fuzz(func(t *testing.T, body []byte, seed uint64) {
		wantToks, wantErr := streamBody("text/event-stream", body, nil, WithMaxLineSize(4096))
		rng := rand.New(rand.NewPCG(seed, 7))
		for range 4 {
			var cuts []int
			for off := 0; off < len(body); off += 1 + rng.IntN(16) {
				cuts = append(cuts, off)
			}
			toks, err := streamBody("text/event-stream", body, cuts, WithMaxLineSize(4096))
			if !slices.Equal(toks, wantToks) || fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("cut at %v:\n got %q %v\nwant %q %v", cuts, toks, err, wantToks, wantErr)
			}
		}
	})
}

// FuzzChunkFastPath checks that the fast path and encoding/json agree on every chunk the
// fast path accepts.
func FuzzChunkFastPath(f *testing.F) {
	for _, s := range allChunkSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast, slow chunkDecoder
		errFast := fast.decodeMode(data, true)
		if errFast == errSlow {
			return
		}
		errSlow := slow.decodeMode(data, false)
		if fmt.Sprint(errFast) != fmt.Sprint(errSlow) {
			t.Fatalf("%q: fast path error %v, encoding/json %v", data, errFast, errSlow)
		}
		if errFast != nil {
			return
		}
		if !sameDecoding(&fast, &slow) {
			t.Fatalf("%q:\nfast %+v %+v %+v %+v\nslow %+v %+v %+v %+v", data, fast.choices, fast.calls, fast.usage, fast.apiErr, slow.choices, slow.calls, slow.usage, slow.apiErr)
		}
	})
}

// FuzzChunkTemplate checks the chunk template: a chunk decoded through the template of
// the chunk before it must mean exactly what encoding/json says it means.
func FuzzChunkTemplate(f *testing.F) {
	for _, s := range allChunkSeeds() {
		f.Add([]byte(s), []byte(`"next token"`), []byte(`"pad"`))
		f.Add([]byte(s), []byte(`"\ud83d"`), []byte(`""`))
		f.Add([]byte(s), []byte(`"a" , "content": "b"`), []byte(`"x"`))
		f.Add([]byte(s), []byte(`"x\"`), []byte(`"y\"`))
		f.Add([]byte(s), []byte(`""`), []byte(`"pad", "error": "e"`))
		f.Add([]byte(s), []byte(`"same holes"`), []byte{})
	}
	f.Fuzz(func(t *testing.T, first, lit, pad []byte) {
		var dec, slow chunkDecoder
		if dec.decode(first) != nil || !dec.tmpl.ok {
			return
		}
		second := dec.tmpl.render(lit, pad)
		errDec := dec.decode(second)
		errSlow := slow.decodeMode(second, false)
		if (errDec == nil) != (errSlow == nil) {
			t.Fatalf("%q: template path error %v, encoding/json %v", second, errDec, errSlow)
		}
		if errDec != nil {
			return
		}
		if !sameDecoding(&dec, &slow) {
			t.Fatalf("%q:\ntemplate %+v %+v %+v %+v %q\nslow     %+v %+v %+v %+v %q", second, dec.choices, dec.calls, dec.usage, dec.apiErr, dec.top, slow.choices, slow.calls, slow.usage, slow.apiErr, slow.top)
		}
	})
}

// render makes a chunk of the template's segments with lit in the text's hole and pad in
// every other hole, or, when pad is empty, the template's own values there.
func (t *template) render(lit, pad []byte) []byte {
	var b []byte
	for i, seg := range t.segs {
		b = append(b, seg...)
		switch {
		case i == len(t.segs)-1:
		case i == t.text:
			b = append(b, lit...)
		case len(pad) == 0:
			b = append(b, t.buf[t.segOff[i]+len(seg):t.segOff[i+1]]...)
		default:
			b = append(b, pad...)
		}
	}
	return b
}

// sameDecoding reports whether two decoders hold the same meaning of a chunk.
func sameDecoding(a, b *chunkDecoder) bool {
	return reflect.DeepEqual(a.choices, b.choices) && reflect.DeepEqual(a.usage, b.usage) &&
		reflect.DeepEqual(a.apiErr, b.apiErr) && sameRaw(a.top[:], b.top[:]) && sameCalls(a.calls, b.calls)
}

// sameCalls compares decoded tool calls, less the raw arguments the template keeps.
func sameCalls(a, b []decodedCall) bool {
	return slices.EqualFunc(a, b, func(x, y decodedCall) bool {
		x.rawArgs, y.rawArgs = nil, nil
		return reflect.DeepEqual(x, y)
	})
}

// allChunkSeeds is chunkSeeds and every chunk of the dialect bodies.
func allChunkSeeds() []string {
	seeds := slices.Clone(chunkSeeds)
	for _, tc := range dialectCases {
		for _, l := range strings.Split(tc.body, "\n") {
			if d, ok := strings.CutPrefix(l, "data: "); ok && d != "[DONE]" {
				seeds = append(seeds, d)
			}
		}
	}
	return seeds
}

func sameRaw(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, func(x, y []byte) bool { return string(x) == string(y) })
}

// chunkSeeds are the seeds of the chunk fuzz targets (with every dialect case's events,
// see allChunkSeeds). The last is an input the fuzzer once found failing: a key that is
// not valid UTF-8.
var chunkSeeds = []string{
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"Привет"},"logprobs":null,"finish_reason":null}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
	`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`,
	`{"choices":[],"usage":null}`,
	`{"choices":[{"index":1,"delta":{"content":"b"}},{"index":0,"delta":{"content":"a\n\u00e9\ud83d\ude00"}}]}`,
	`{"choices":[{"delta":{"content":"\ud83d"}}]}`,
	`{"error":{"message":"m","type":"t","code":429,"param":null}}`,
	`{"error":"plain"}`,
	`{"error":null,"choices":[{"delta":{"content":"x"}}]}`,
	`{"object":"error","message":"bad","code":400}`,
	`{"choices":[{"delta":{"content":5}}]}`,
	`{"choices":[{"index":-1,"delta":{"content":"x"}}]}`,
	`{"choices":[{"index":1.5}]}`,
	`{"choices":{"index":0}}`,
	`{"choices":[null,{"delta":null}]}`,
	`{"a":[1,2,{"b":[true,false,null,-0.5e+3]}],"choices":[]}`,
	`{"choices":[{"delta":{"content":"x","content":"y"}}]}`,
	`{"cho\u0069ces":[{"delta":{"content":"esc"}}]}`,
	` { "choices" : [ { "delta" : { "content" : "ws" } } ] } `,
	`{"choices":[{"delta":{"content":"x"}}]} trailing`,
	`{"choices":[{"delta":{"content":"bad \x escape"}}]}`,
	"{\"choices\":[{\"delta\":{\"content\":\"ctl \x01\"}}]}",
	"{\"choices\":[{\"delta\":{\"content\":\"\xff\xfe invalid utf-8\"}}]}",
	`{"choices":[{"delta":{"content":"x"}}],"usage":{"prompt_tokens":"1"}}`,
	`[1,2]`,
	`"string"`,
	`01`,
	`{"choices":[{"delta":{"reasoning_content":"a","reasoning":"a","content":null}}]}`,
	`{"choices":[{"delta":{"reasoning_content":"","reasoning":"b"}}]}`,
	`{"choices":[{"delta":{"reasoning":{"effort":"high"},"refusal":7}}]}`,
	`{"choices":[{"delta":{"refusal":"no \ud83d"}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"x"}},{"id":"d","function":{"name":"g"}}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"index":-1,"function":{"arguments":{"city":"Paris"}}}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"index":"0"}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"index":1.5}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"index":99999}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":[1,null,"x",{"index":0,"extra_content":{"google":{"thought_signature":"s"}}}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"index":0,"index":1}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"\u0069ndex":0,"function":{"n\u0061me":"f"}}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"function":{"name":"f","name":"g"}}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":{"index":0}}}]}`,
	`{"choices":[{"delta":{"tool_calls":[{"index":0,"function":null,"id":5,"type":null}]}}]}`,
	`{"choices":[],"usage":{"prompt_tokens":12.0,"completion_tokens":1e400,"total_tokens":"3"}}`,
	`{"choices":[],"usage":{"prompt_tokens":1,"prompt_tokens_details":"x"}}`,
	`{"choices":[],"usage":"none"}`,
	`{"choices":[{},{},{},{"index":3,"delta":{"content":"x"}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"content":"tok"},"finish_reason":null}],"usage":null,"obfuscation":"abc","service_tier":"default"}`,
	"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"\x88\":\"\"}]}}]}",
}
