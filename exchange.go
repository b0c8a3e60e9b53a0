package lockchat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"

	"github.com/lockchat/lockchat/internal/sse"
)

// exchange is one attempt of a call: one HTTP request and the reading of its answer.
// It holds what the attempt needs from the moment it is sent until it ends, and every
// failure of the attempt is turned into the call's error here, where it happens: the
// request's in send, a failed read of the body in Read, the server's in the readers of
// the body.
type exchange struct {
	ctx    context.Context         // the call's
	actx   context.Context         // the attempt's: ctx, cancelled early by cancel
	cancel context.CancelCauseFunc // with errIdleCause, errFirstOutputCause or errDrainCause
	cfg    *config                 // the configuration of the endpoint asked
	prep   *prepared               // what cfg's requests share
	idle   *idleTimer              // nil without an idle timeout
	first  *time.Timer             // the first-output timer; nil without one, or once output came
	h      handler
	tr     *tracer
	index  int // the endpoint's, in WithEndpoints' list

	delivered int            // chunks with output given to h
	req       *http.Request  // the request the response answers, after any redirect
	resp      *http.Response // nil until the headers arrive
}

// errIdleCause cancels an attempt whose server fell silent for too long,
// errFirstOutputCause one that delivered no output in time, and errDrainCause the
// drain after [DONE] (see drain).
var (
	errIdleCause        = errors.New("idle")
	errFirstOutputCause = errors.New("first output")
	errDrainCause       = errors.New("drained")
)

// attempt sends payload once to the endpoint cfg describes (number endpoint of
// WithEndpoints' list) and feeds the chunks of the answer to h. It returns how many
// chunks with output h was given, and an error that names the request if the server
// answered and quotes no credential of the call.
func (c *Client) attempt(ctx context.Context, cfg *config, endpoint int, payload []byte, h handler, tr *tracer) (delivered int, err error) {
	x := exchange{ctx: ctx, cfg: cfg, h: h, tr: tr, index: endpoint}
	err = x.chat(payload)
	return x.delivered, err
}

// start prepares the attempt: its context, its idle timer and the request to send to
// path under the base URL, with the configuration's headers (accept, if not "",
// replacing Accept) and payload as its body (none if nil). When start succeeds the
// caller must call stop once the attempt ends.
func (x *exchange) start(method, path, accept string, payload []byte) error {
	prep, err := x.cfg.prepared()
	if err != nil {
		return err
	}
	x.prep = prep
	url := prep.endpoint
	if path != chatPath {
		url = endpoint(x.cfg.baseURL, path)
	}
	x.actx, x.cancel = context.WithCancelCause(x.ctx)
	actx := x.actx
	if d := x.cfg.idleTimeout; d > 0 {
		x.idle = newIdleTimer(d, x.cancel)
		if prep.poolWaits {
			// Arm the timer only once the request is on the network, not while it waits
			// for a connection from the caller's pool.
			actx = httptrace.WithClientTrace(actx, x.idle.connectionTrace())
		} else {
			x.idle.onNetwork()
		}
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, method, url, body)
	if err != nil {
		x.stop()
		return &requestError{text: fmt.Sprintf("invalid base URL %q", maskURL(x.cfg.baseURL))}
	}
	// Each request gets its own map of the prepared headers, sharing their values: nothing
	// changes a value slice in place, and one that grew (Add) is a new slice, since the
	// prepared slices have no spare capacity.
	req.Header = make(http.Header, len(prep.header))
	maps.Copy(req.Header, prep.header)
	if accept != "" {
		req.Header["Accept"] = []string{accept}
	}
	if payload == nil {
		delete(req.Header, "Content-Type")
	}
	x.req = req
	return nil
}

// chatPath is the path of chat completions under the base URL.
const chatPath = "chat/completions"

// stop ends the attempt's timers and context, and closes the response.
func (x *exchange) stop() {
	if x.idle != nil {
		x.idle.headersDone()
	}
	if x.first != nil {
		x.first.Stop()
	}
	if x.resp != nil {
		x.resp.Body.Close()
	}
	x.cancel(nil)
}

// chat sends a chat-completions request and reads its answer.
func (x *exchange) chat(payload []byte) (err error) {
	if err := x.start(http.MethodPost, chatPath, "", payload); err != nil {
		return err
	}
	defer x.stop()
	defer func() { err = x.finish(err) }()
	if d := x.cfg.firstOutput; d > 0 {
		// Abandon the attempt unless output comes in time; the first chunk with output
		// stops the timer before the caller sees it (see deliver).
		x.first = time.AfterFunc(d, func() { x.cancel(errFirstOutputCause) })
	}
	if err := x.send(); err != nil {
		return err
	}
	x.tr.onResponse(x.resp)
	body, err := x.body()
	if err != nil {
		return err
	}
	if x.resp.StatusCode < 200 || x.resp.StatusCode > 299 {
		return x.statusError(body)
	}
	return x.readAnswer(body)
}

// send sends the request and waits for the response's headers.
func (x *exchange) send() error {
	resp, err := x.prep.client.Do(x.req)
	if x.idle != nil {
		x.idle.headersDone()
	}
	if err != nil {
		if err := x.ended(); err != nil {
			return err
		}
		var redirErr *redirectError
		if errors.As(err, &redirErr) {
			return redirErr
		}
		return newTransportError(err)
	}
	x.resp = resp
	if resp.Request != nil {
		x.req = resp.Request
	}
	return nil
}

// finish completes the attempt's error: an *APIError names the request it answers and
// the server's request id, and no error quotes a credential of the call.
func (x *exchange) finish(err error) error {
	if err == nil || err == errStop {
		return err
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.URL == "" {
		apiErr.Method, apiErr.URL = x.req.Method, maskURL(x.req.URL.String())
	}
	if apiErr != nil && apiErr.RequestID == "" && x.resp != nil {
		apiErr.RequestID = requestID(x.resp.Header)
	}
	callSecrets(x.cfg).scrubError(err)
	return err
}

// body returns the response body as the readers of the answer read it: its reads
// watched by the idle timer and their failures explained (see Read), its
// Content-Encoding undone.
func (x *exchange) body() (io.Reader, error) {
	return decodeContent(x.resp, x)
}

// Read reads the response body. The idle timer runs during the read, and a failed read
// is explained here: the caller's context, a timeout, or the connection.
func (x *exchange) Read(p []byte) (int, error) {
	if x.idle != nil {
		x.idle.t.Reset(x.idle.d)
	}
	n, err := x.resp.Body.Read(p)
	if x.idle != nil {
		x.idle.t.Stop()
	}
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		// io.ErrUnexpectedEOF, a body shorter than its Content-Length, stays itself: it
		// says the answer was cut, as a stream that ends early does.
		if cerr := x.ended(); cerr != nil {
			return n, cerr
		}
		err = newTransportError(err)
	}
	return n, err
}

// ended returns the caller's context error, or the timeout's error if the attempt was
// cancelled for one, or nil.
func (x *exchange) ended() error {
	if err := x.ctx.Err(); err != nil {
		return err
	}
	switch context.Cause(x.actx) {
	case errIdleCause:
		return fmt.Errorf("%w: no data from the server for %v", ErrIdleTimeout, x.cfg.idleTimeout)
	case errFirstOutputCause:
		return fmt.Errorf("%w: no output from the server within %v", ErrFirstOutputTimeout, x.cfg.firstOutput)
	}
	return nil
}

// errorBodyLimit bounds how much of an error body is read.
const errorBodyLimit = 64 << 10

// statusError reads a bounded part of a non-2xx body and turns it into an *APIError. A
// 404 that carries no error object most often means a base URL without "/v1": the error
// says so.
func (x *exchange) statusError(body io.Reader) error {
	e, recognised, err := x.bodyError(body, "")
	if err != nil {
		return err
	}
	if !recognised && x.resp.StatusCode == http.StatusNotFound && !strings.Contains(x.req.URL.Path, "/v1/") {
		e.hint = `hint: the base URL may lack "/v1"`
	}
	return e
}

// bodyError reads a bounded part of a body that is not the answer asked for, and turns
// it into an *APIError: the error object the recogniser finds in it (recognised), else
// the status, the content type, message (if not "") and a bounded excerpt.
func (x *exchange) bodyError(body io.Reader, message string) (e *APIError, recognised bool, err error) {
	b, err := io.ReadAll(io.LimitReader(body, errorBodyLimit))
	if err != nil && x.ctx.Err() != nil {
		return nil, false, x.ctx.Err()
	}
	b = sse.TrimBOM(b)
	e = recogniseError(b)
	if recognised = e != nil; !recognised {
		e = &APIError{Message: message, ContentType: x.resp.Header.Get("Content-Type"), Body: excerpt(b)}
	}
	e.StatusCode = x.resp.StatusCode
	e.retryAfter = parseRetryAfter(x.resp.Header, time.Now())
	return e, recognised, nil
}

// unexpectedBody is the error for a 2xx body that is not a chat-completions answer.
func (x *exchange) unexpectedBody(body io.Reader, message string) error {
	e, _, err := x.bodyError(body, message)
	if err != nil {
		return err
	}
	return e
}

// readAnswer reads a 2xx body: an event stream, one JSON document (a whole completion
// or an error object), or something else, which is an *APIError quoting it.
func (x *exchange) readAnswer(body io.Reader) error {
	mt, ok := mediaType(x.resp.Header.Get("Content-Type"))
	switch {
	case !ok:
		return x.unexpectedBody(body, "unparsable content type")
	case mt != "" && mt != "text/event-stream" && mt != "text/plain" && !isJSONType(mt):
		return x.unexpectedBody(body, "unexpected content type")
	}
	// The first bytes are read into the stream's own buffer, where the event reader
	// finds them if the body is an event stream.
	s := streamPool.Get().(*chunkStream)
	defer streamPool.Put(s)
	s.reset(body, x.cfg.maxLineSize)
	defer s.reset(nil, x.cfg.maxLineSize)
	s.endpoint = x.index
	switch s.events.Sniff() {
	case sse.JSONDocument:
		return x.readJSON(s)
	case sse.OtherText:
		// Text that is neither an event stream nor JSON, whatever its label: a proxy's
		// or gateway's message ("Upstream request timeout") the caller must see.
		return x.unexpectedBody(s.events.Rest(), "the body is neither an event stream nor JSON")
	}
	return x.readStream(s)
}

// readStream decodes an event-stream body, which s was reset to read, and delivers its
// chunks.
func (x *exchange) readStream(s *chunkStream) error {
	for {
		err := s.next()
		if err == io.EOF {
			if s.done && !s.events.Ended() {
				x.drain()
			}
			return nil
		}
		if err != nil {
			return err
		}
		if err := x.deliver(s); err != nil {
			return err
		}
	}
}

// deliver hands the chunk decoded in s to the handler, after counting it if it carries
// output, and returns the error the chunk carried, or errStop if the caller wants no
// more.
func (x *exchange) deliver(s *chunkStream) error {
	output := s.hasOutput()
	if output {
		x.delivered++
		if x.first != nil {
			x.first.Stop()
			x.first = nil
		}
	}
	x.tr.onChunk(s, output)
	if !x.h(s) {
		return errStop
	}
	if s.dec.apiErr != nil {
		return s.dec.apiErr
	}
	return nil
}

// readJSON handles a 2xx body that holds one JSON document: an error object, or a whole
// completion (asked for by WithoutStreaming, or from a server that ignored "stream":
// true). It reads the document the way next reads an event's data, with the same error
// recogniser, from the body s began to read when it sniffed it.
func (x *exchange) readJSON(s *chunkStream) error {
	b, err := readLimited(s.events.Rest(), x.cfg.maxLineSize)
	if err != nil {
		return err
	}
	if err := s.dec.decode(b); err != nil {
		if e := recogniseError(b); e != nil {
			e.StatusCode = x.resp.StatusCode
			return e
		}
		return &dataError{what: err.Error(), where: "body", excerpt: excerpt(b)}
	}
	if e := s.dec.apiErr; e != nil {
		e.StatusCode, e.InStream = x.resp.StatusCode, false // the body, not an event, held it
	}
	s.raw = b
	if err := s.track(); err != nil {
		return err
	}
	// The document's chunk, then one of surrogate halves it left held back, if any.
	for more := true; more; more = s.flushHalves() {
		if err := x.deliver(s); err != nil {
			return err
		}
	}
	return nil
}

// readLimited reads all of r, at most limit bytes of it, less a byte order mark at its
// start; a longer body is a *LineTooLongError.
func readLimited(r io.Reader, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limitPlusOne(limit)))
	if err != nil {
		return nil, readerError(err)
	}
	if len(b) > limit {
		return nil, &LineTooLongError{Limit: limit}
	}
	return sse.TrimBOM(b), nil
}

// drain reads what little may follow [DONE] (the end of a chunked body), so that the
// connection can be reused, but never waits long for a server that keeps it open: each
// read is bounded by the attempt's idle timer, shortened, or by a timer of its own.
func (x *exchange) drain() {
	if x.idle != nil {
		x.idle.limit(drainTimeout)
	} else {
		t := time.AfterFunc(drainTimeout, func() { x.cancel(errDrainCause) })
		defer t.Stop()
	}
	buf := drainBufs.Get().(*[512]byte)
	defer drainBufs.Put(buf)
	for range drainLimit / len(buf) {
		if _, err := x.Read(buf[:]); err != nil {
			return
		}
	}
}

// drainBufs holds the buffers drain reads into: an open stream holds none.
var drainBufs = sync.Pool{New: func() any { return new([512]byte) }}

const (
	drainTimeout = 50 * time.Millisecond
	drainLimit   = 4 << 10
)
