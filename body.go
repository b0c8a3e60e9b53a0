package lockchat

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// This file tells what a 2xx response body holds and hands it to the reader for that:
// it undoes a Content-Encoding net/http left in place, and tells an event stream from a
// JSON document by the Content-Type and the body's first bytes, since real servers label
// event streams text/plain or application/json.

// consumeBody reads a 2xx body: an event stream, one JSON document (a whole completion
// or an error object), or something else, which is an *APIError quoting it.
func consumeBody(ctx, actx context.Context, cfg *config, resp *http.Response, body io.Reader, h handler, delivered *int, idle *idleTimer, cancel context.CancelCauseFunc) error {
	mt, ok := mediaType(resp.Header.Get("Content-Type"))
	switch {
	case !ok:
		return unexpectedBody(ctx, resp, body, "unparsable content type")
	case mt != "" && mt != "text/event-stream" && mt != "text/plain" && !isJSONType(mt):
		return unexpectedBody(ctx, resp, body, "unexpected content type")
	}
	// The first bytes are read into the stream's own buffer, where the event reader
	// finds them if the body is an event stream.
	s := streamPool.Get().(*chunkStream)
	defer streamPool.Put(s)
	s.reset(body, cfg.maxLineSize)
	defer s.reset(nil, cfg.maxLineSize)
	switch s.events.sniff() {
	case jsonDocument:
		return consumeJSON(ctx, actx, cfg, resp, s, h, delivered)
	case otherText:
		// Text that is neither an event stream nor JSON, whatever its label: a proxy's
		// or gateway's message ("Upstream request timeout") the caller must see.
		return unexpectedBody(ctx, resp, s.events.rest(), "the body is neither an event stream nor JSON")
	}
	return consumeStream(ctx, actx, cfg, s, h, delivered, idle, cancel)
}

// unexpectedBody is the error for a 2xx body that is not a chat-completions answer.
func unexpectedBody(ctx context.Context, resp *http.Response, body io.Reader, message string) error {
	e, _, err := bodyError(ctx, resp, body, message)
	if err != nil {
		return err
	}
	return e
}

// mediaType returns the media type of a Content-Type header, lower-cased and without
// parameters ("" if the header is empty), and false if it is not type/subtype. Only the
// media type is read: a sloppy parameter does not make a stream unreadable.
func mediaType(header string) (string, bool) {
	mt, _, _ := strings.Cut(header, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "" {
		return "", strings.TrimSpace(header) == ""
	}
	typ, sub, ok := strings.Cut(mt, "/")
	return mt, ok && validHeaderName(typ) && validHeaderName(sub)
}

func isJSONType(mt string) bool { return mt == "application/json" || strings.HasSuffix(mt, "+json") }

// bodyKind is what the first bytes of a body say it holds.
type bodyKind int

const (
	eventStream  bodyKind = iota // a field line or a comment, or nothing at all
	jsonDocument                 // "{", or "[" (JSON that is no answer, a decode error)
	otherText                    // anything else
)

// sniffLimit bounds the bytes read to tell a body's kind.
const sniffLimit = 512

// eventFields are the field names of the event-stream format.
var eventFields = []string{"data", "event", "id", "retry"}

// classify tells the kind of a body from its first bytes b; known is false while more
// bytes are needed, and always true at the end of what can be read.
func classify(b []byte, end bool) (kind bodyKind, known bool) {
	if !end && len(b) < len(bom) && bytes.HasPrefix(bom, b) {
		return 0, false
	}
	b = bytes.TrimLeft(bytes.TrimPrefix(b, bom), " \t\r\n")
	switch {
	case len(b) == 0:
		return eventStream, end
	case b[0] == '{' || b[0] == '[':
		return jsonDocument, true
	case b[0] == ':':
		return eventStream, true
	}
	name := b
	if i := bytes.IndexAny(b, ":\r\n"); i >= 0 {
		name, end = b[:i], true
	}
	for _, f := range eventFields {
		if string(name) == f && end {
			return eventStream, true
		}
		if !end && strings.HasPrefix(f, string(name)) {
			return 0, false // a field name may still be arriving
		}
	}
	return otherText, true
}

// decodeContent undoes the body's Content-Encoding. net/http decodes gzip itself only
// when it asked for it; a server that compresses unasked, or with deflate, is decoded
// here. Any other coding fails as an *APIError naming it, rather than be read as garbage.
func decodeContent(resp *http.Response, body io.Reader) (io.Reader, error) {
	enc := strings.ToLower(strings.TrimSpace(strings.Join(resp.Header.Values("Content-Encoding"), ",")))
	switch enc {
	case "", "identity":
		return body, nil
	case "gzip", "x-gzip", "deflate":
		return &decodingReader{r: body, enc: enc}, nil
	}
	return nil, &APIError{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
		Message: fmt.Sprintf("the body has Content-Encoding %q, which lockchat cannot decode", enc)}
}

// decodingReader decompresses a body, setting its decompressor up on the first read.
type decodingReader struct {
	r   io.Reader
	enc string
	dec io.Reader
}

func (d *decodingReader) Read(p []byte) (int, error) {
	if d.dec == nil {
		dec, err := newDecompressor(d.enc, d.r)
		if err != nil {
			return 0, d.fail(err)
		}
		d.dec = dec
	}
	n, err := d.dec.Read(p)
	if err != nil && err != io.EOF {
		err = d.fail(err)
	}
	return n, err
}

// fail turns a decompressor's complaint about its input into ErrMalformedStream; a
// failure of the connection beneath passes through as it is.
func (d *decodingReader) fail(err error) error {
	var corrupt flate.CorruptInputError
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, zlib.ErrHeader) ||
		errors.Is(err, zlib.ErrChecksum) || errors.Is(err, zlib.ErrDictionary) || errors.As(err, &corrupt) {
		return fmt.Errorf("%w: the %s-encoded body does not decode: %v", ErrMalformedStream, d.enc, err)
	}
	return err
}

// newDecompressor returns a reader of r's decompressed bytes. "deflate" is zlib-wrapped
// by the standard, but some servers send raw deflate: the zlib header tells them apart.
func newDecompressor(enc string, r io.Reader) (io.Reader, error) {
	if enc != "deflate" {
		return gzip.NewReader(r)
	}
	var hdr [2]byte
	n, err := io.ReadFull(r, hdr[:])
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, err // io.EOF for an empty body
	}
	rest := io.MultiReader(bytes.NewReader(hdr[:n]), r)
	if n == 2 && hdr[0]&0x0f == 8 && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0 {
		return zlib.NewReader(rest)
	}
	return flate.NewReader(rest), nil
}
