package lockchat

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestRecogniseError(t *testing.T) {
	type want struct{ message, typ, code string }
	none := (*want)(nil)
	cases := []struct {
		name string
		data string
		want *want
	}{
		{"openai envelope", `{"error":{"message":"m","type":"t","code":"c","param":"p"}}`, &want{"m", "t", "c"}},
		{"numeric code", `{"error":{"message":"m","code":429}}`, &want{"m", "", "429"}},
		{"detail inside error", `{"error":{"detail":"d"}}`, &want{"d", "", ""}},
		{"error as a string", `{"error":"quota exceeded"}`, &want{"quota exceeded", "", ""}},
		{"error true", `{"error":true}`, &want{"true", "", ""}},
		{"error object of other fields", `{"error":{"reason":"x"}}`, &want{`{"reason":"x"}`, "", ""}},
		{"error beside choices", `{"error":{"message":"m"},"choices":[]}`, &want{"m", "", ""}},
		{"vllm flat", `{"object":"error","message":"m","type":"BadRequestError","code":400}`, &want{"m", "BadRequestError", "400"}},
		{"flat message", `{"message":"m","type":"invalid_request_error"}`, &want{"m", "invalid_request_error", ""}},
		{"flat detail", `{"detail":"Not Found"}`, &want{"Not Found", "", ""}},
		{"flat detail list", `{"detail":[{"msg":"field required"}]}`, &want{`[{"msg":"field required"}]`, "", ""}},
		{"plain text model not found", "The model `gpt-4` does not exist", &want{"The model `gpt-4` does not exist", "", ""}},
		{"json string model not found", "\"The model: `gpt-4` does not exist\"", &want{"The model: `gpt-4` does not exist", "", ""}},
		{"surrounding white space", " \n{\"error\":\"x\"}\n", &want{"x", "", ""}},

		{"error null", `{"error":null,"choices":[]}`, none},
		{"error false", `{"error":false}`, none},
		{"error empty string", `{"error":""}`, none},
		{"error zero", `{"error":0}`, none},
		{"error empty object", `{"error":{ }}`, none},
		{"error empty array", `{"error":[]}`, none},
		{"flat message beside choices", `{"message":"m","choices":[{"delta":{}}]}`, none},
		{"flat message beside usage", `{"message":"m","usage":{"total_tokens":1}}`, none},
		{"empty flat message", `{"message":"","detail":null}`, none},
		{"empty object", `{}`, none},
		{"a chunk", `{"choices":[{"delta":{"content":"x"}}]}`, none},
		{"plain text", "upstream went away", none},
		{"invalid json", `{"error":`, none},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := recogniseError([]byte(tc.data))
			switch {
			case tc.want == nil && e != nil:
				t.Fatalf("recognised %+v in no error", *e)
			case tc.want != nil && e == nil:
				t.Fatal("not recognised")
			case tc.want != nil && (e.Message != tc.want.message || e.Type != tc.want.typ || e.Code != tc.want.code):
				t.Fatalf("got message %q type %q code %q, want %+v", e.Message, e.Type, e.Code, *tc.want)
			}
		})
	}
}

// TestChunkErrorAgreesWithRecogniser: the chunk decoder decides most chunks from the raw
// values it found, without the recogniser; both must say the same.
func TestChunkErrorAgreesWithRecogniser(t *testing.T) {
	for _, data := range append(chunkSeeds,
		`{"error":false,"choices":[{"delta":{"content":"x"}}]}`,
		`{"error":{},"usage":{"total_tokens":1}}`,
		`{"object":"error","choices":[],"message":"m"}`,
		`{"message":"m","choices":null}`,
		`{"message":"m","choices":[]}`,
		`{"detail":"d"}`,
	) {
		var d chunkDecoder
		if d.decode([]byte(data)) != nil {
			continue
		}
		direct := recogniseError([]byte(data))
		if (d.apiErr == nil) != (direct == nil) || direct != nil && direct.Message != d.apiErr.Message {
			t.Errorf("%s: decoder %+v, recogniser %+v", data, d.apiErr, direct)
		}
	}
}

// TestModelNotFoundEverywhere sends every shape of "the model does not exist" on every
// path a response takes: each is ErrModelNotFound and is retried.
func TestModelNotFoundEverywhere(t *testing.T) {
	const msg = "The model: `gpt-4` does not exist"
	shapes := map[string]string{
		"envelope":       `{"error":{"message":"` + msg + `","type":"invalid_request_error"}}`,
		"code only":      `{"error":{"message":"no such thing","code":"model_not_found"}}`,
		"error string":   `{"error":"` + msg + `"}`,
		"flat message":   `{"message":"` + msg + `","type":"invalid_request_error"}`,
		"flat detail":    `{"detail":"` + msg + `"}`,
		"vllm":           `{"object":"error","message":"` + msg + `","code":404}`,
		"plain text":     msg,
		"a json string":  strconv.Quote(msg),
		"without colon":  "The model `llama-3` does not exist or you do not have access to it.",
		"in a long text": "Sorry. " + strings.Repeat("x ", 200) + msg,
	}
	paths := map[string]func(shape string) *bodyTransport{
		"404 body": func(shape string) *bodyTransport {
			return &bodyTransport{status: http.StatusNotFound, contentType: "application/json", body: []byte(shape)}
		},
		"200 json body": func(shape string) *bodyTransport {
			return &bodyTransport{contentType: "application/json", body: []byte(shape)}
		},
		"200 text body": func(shape string) *bodyTransport {
			return &bodyTransport{contentType: "text/plain", body: []byte(shape)}
		},
		"stream event": func(shape string) *bodyTransport {
			return &bodyTransport{contentType: "text/event-stream", body: []byte("data: " + shape + "\n\n" + done)}
		},
		"error event": func(shape string) *bodyTransport {
			return &bodyTransport{contentType: "text/event-stream", body: []byte("event: error\ndata: " + shape + "\n\n")}
		},
	}
	for path, transport := range paths {
		for name, shape := range shapes {
			t.Run(path+"/"+name, func(t *testing.T) {
				tr := transport(shape)
				_, err := streamFrom(tr, WithMaxRetries(1), fast)
				if !errors.Is(err, ErrModelNotFound) {
					t.Fatalf("err = %v, want ErrModelNotFound", err)
				}
				if n := tr.requests.Load(); n != 2 {
					t.Fatalf("%d requests, want 2: not retried", n)
				}
			})
		}
	}
}
