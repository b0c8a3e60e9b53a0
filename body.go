package lockchat

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// This file reads what the headers say of a response body: its Content-Encoding, undone
// where net/http left it in place, and its media type. What the first bytes say is
// internal/sse's (Reader.Sniff); exchange.readAnswer weighs both.

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
