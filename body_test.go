package lockchat

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/lockchat/lockchat/internal/cutread"
)

func TestBodyKinds(t *testing.T) {
	sse := chunk(delta(`"a"`)) + done
	completion := `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"a"},"finish_reason":"stop"}]}`
	isUnexpected := func(ct, quoted string) func(error) bool {
		return func(err error) bool {
			var e *APIError
			return errors.As(err, &e) && e.StatusCode == 200 && e.ContentType == ct && strings.Contains(e.Body, quoted)
		}
	}
	cases := []struct {
		name, ct, body string
		tokens         []string
		check          func(error) bool
	}{
		{"event stream labelled text/plain", "text/plain; charset=utf-8", sse, []string{"a"}, nil},
		{"event stream labelled application/json", "application/json", sse, []string{"a"}, nil},
		{"event stream starting with a comment, labelled text/plain", "text/plain", ": hi\n\n" + sse, []string{"a"}, nil},
		{"event stream starting with a BOM and blank lines, labelled application/json", "application/json", "\xEF\xBB\xBF\r\n\n" + sse, []string{"a"}, nil},
		{"completion labelled application/json", "application/json", completion, []string{"a"}, nil},
		{"completion labelled text/plain", "text/plain", completion, []string{"a"}, nil},
		{"completion labelled text/event-stream", "text/event-stream", "\n " + completion, []string{"a"}, nil},
		{"completion without a label", "", completion, []string{"a"}, nil},
		{"error object labelled text/event-stream", "text/event-stream", `{"error":{"message":"nope","code":"bad"}}`, nil,
			isAPIError(200, "nope", "", "bad", false)},
		{"sloppy parameters", "text/event-stream; charset", sse, []string{"a"}, nil},
		{"upper case", "Text/Event-Stream", sse, []string{"a"}, nil},
		{"plain text that is not a stream", "text/plain", "Service temporarily unavailable", nil,
			isUnexpected("text/plain", "Service temporarily unavailable")},
		{"unparsable content type", "event stream", "<html>Login required</html>", nil,
			isUnexpected("event stream", "<html>Login required</html>")},
		{"html", "text/html", "<html>Login required</html>", nil, isUnexpected("text/html", "Login required")},
		{"json that is not an object", "application/json", "[1,2]", nil, is(ErrMalformedStream)},
		{"plain text labelled text/event-stream", "text/event-stream", "Upstream request timeout", nil,
			isUnexpected("text/event-stream", "Upstream request timeout")},
		{"plain text without a label", "", "Upstream request timeout", nil,
			isUnexpected("", "Upstream request timeout")},
		{"plain text labelled application/json", "application/json; charset=utf-8", "Upstream request timeout\n", nil,
			isUnexpected("application/json; charset=utf-8", "Upstream request timeout")},
		{"completion after a BOM", "application/json", "\xEF\xBB\xBF" + completion, []string{"a"}, nil},
		{"error object after a BOM", "application/json", "\xEF\xBB\xBF" + `{"error":{"message":"nope","code":"bad"}}`, nil,
			isAPIError(200, "nope", "", "bad", false)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.ct
			if ct == "" {
				ct = "-"
			}
			for _, cut := range cutread.Ways(len(tc.body)) {
				tr := &bodyTransport{body: []byte(tc.body), cuts: cut, header: http.Header{"Content-Type": {tc.ct}}}
				toks, err := streamFrom(tr)
				if !slices.Equal(toks, tc.tokens) || (tc.check == nil) != (err == nil) || tc.check != nil && !tc.check(err) {
					t.Fatalf("cut at %v: tokens %q, err %v", cut, toks, err)
				}
			}
		})
	}
}

func TestContentEncoding(t *testing.T) {
	sse := chunk(delta(`"Привет"`)) + finishChunk + done
	gz := compress(sse, func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) })
	for _, tc := range []struct {
		name, encoding string
		body           []byte
	}{
		{"gzip", "gzip", gz},
		{"x-gzip", "X-Gzip", gz},
		{"zlib deflate", "deflate", compress(sse, func(w io.Writer) io.WriteCloser { return zlib.NewWriter(w) })},
		{"raw deflate", "deflate", compress(sse, func(w io.Writer) io.WriteCloser { fw, _ := flate.NewWriter(w, flate.BestSpeed); return fw })},
		{"identity", "identity", []byte(sse)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, cut := range [][]int{nil, {1}, {2}, {5, 11, 40}} {
				tr := &bodyTransport{contentType: "text/event-stream", body: tc.body, cuts: cut, header: http.Header{"Content-Encoding": {tc.encoding}}}
				if toks, err := streamFrom(tr); err != nil || !slices.Equal(toks, []string{"Привет"}) {
					t.Fatalf("cut at %v: tokens %q, err %v", cut, toks, err)
				}
			}
		})
	}
	t.Run("an error body is decoded too", func(t *testing.T) {
		body := compress(`{"error":{"message":"slow down","code":"rate_limit_exceeded"}}`, func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) })
		tr := &bodyTransport{status: 429, contentType: "application/json", body: body, header: http.Header{"Content-Encoding": {"gzip"}}}
		_, err := streamFrom(tr)
		if !isAPIError(429, "slow down", "", "rate_limit_exceeded", false)(err) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a coding lockchat cannot decode is named", func(t *testing.T) {
		tr := &bodyTransport{contentType: "text/event-stream", body: []byte("\x1b\x00\x00garbage"), header: http.Header{"Content-Encoding": {"br"}}}
		_, err := streamFrom(tr, WithMaxRetries(2))
		var e *APIError
		if !errors.As(err, &e) || !strings.Contains(err.Error(), `Content-Encoding "br"`) || strings.Contains(err.Error(), "garbage") {
			t.Fatalf("err = %v", err)
		}
		if n := tr.requests.Load(); n != 1 {
			t.Fatalf("%d requests: an undecodable coding was retried", n)
		}
	})
	t.Run("a corrupt body is malformed", func(t *testing.T) {
		reservedBlock := []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x07\x00") // a gzip header, then a deflate block of the reserved type
		for _, body := range [][]byte{[]byte("not gzip at all"), reservedBlock} {
			tr := &bodyTransport{contentType: "text/event-stream", body: body, header: http.Header{"Content-Encoding": {"gzip"}}}
			if _, err := streamFrom(tr); !errors.Is(err, ErrMalformedStream) || !strings.Contains(err.Error(), "gzip") {
				t.Fatalf("err = %v", err)
			}
		}
	})
}

// compress returns s compressed by the writer newWriter makes.
func compress(s string, newWriter func(io.Writer) io.WriteCloser) []byte {
	var buf bytes.Buffer
	w := newWriter(&buf)
	io.WriteString(w, s)
	w.Close()
	return buf.Bytes()
}
