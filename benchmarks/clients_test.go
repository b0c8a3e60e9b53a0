package benchmarks

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/lockchat/lockchat"
	openaigo "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// A client is one way of calling the server. open prepares it once, as a program would:
// it makes the client object for the server at base (reached through hc) and converts
// the workload's conversation to the client's own message type. The call it returns
// sends the conversation, reads one whole stream and hands what it read to chk, which
// checks it fragment by fragment. A call that cannot read the workload's shape returns
// errCannot, and the client is left out of that workload.
type client struct {
	name string
	// floor is set for the clients that decode nothing: they read bytes or lines.
	floor bool
	open  func(hc *http.Client, base string, w Workload) call
}

// A call reads one whole stream and feeds it to chk.
type call func(ctx context.Context, chk *checkers) error

var errCannot = errors.New("this client cannot decode the workload's shape")

const (
	model  = "gpt-4o-mini"
	apiKey = "sk-bench"
)

// checker compares fragments as they come with the expected text, without keeping them:
// with the text itself, or with its Digest when the text is too large to hold.
type checker struct {
	want      string
	wantSum   Digest
	useDigest bool
	got       Digest // what came, when useDigest
	off       int
}

func newChecker(want string, sum Digest, useDigest bool) checker {
	return checker{want: want, wantSum: sum, useDigest: useDigest}
}

func (c *checker) add(tok string) error {
	if c.useDigest {
		c.got.Add(tok)
		if c.got.Len > c.wantSum.Len {
			return fmt.Errorf("got more than the %d bytes expected", c.wantSum.Len)
		}
		return nil
	}
	if !strings.HasPrefix(c.want[c.off:], tok) {
		return fmt.Errorf("wrong fragment %q at byte %d", excerpt(tok), c.off)
	}
	c.off += len(tok)
	return nil
}

// addBytes is add for bytes read from a body; it does not copy them.
func (c *checker) addBytes(p []byte) error {
	if c.useDigest {
		c.got.AddBytes(p)
		if c.got.Len > c.wantSum.Len {
			return fmt.Errorf("got more than the %d bytes expected", c.wantSum.Len)
		}
		return nil
	}
	if len(p) > len(c.want)-c.off || string(p) != c.want[c.off:c.off+len(p)] {
		return fmt.Errorf("wrong bytes %q at byte %d", excerpt(string(p)), c.off)
	}
	c.off += len(p)
	return nil
}

func (c *checker) done() error {
	if c.useDigest {
		if c.got != c.wantSum {
			return fmt.Errorf("got %d bytes (FNV %x), want %d (FNV %x)", c.got.Len, c.got.Sum, c.wantSum.Len, c.wantSum.Sum)
		}
		return nil
	}
	if c.off != len(c.want) {
		return fmt.Errorf("got %d bytes, want %d", c.off, len(c.want))
	}
	return nil
}

func excerpt(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// checkers checks what a workload carries: the content, the reasoning, the arguments,
// and for the clients that decode nothing, the body. first, if set, is called once, at
// the first token: the first non-empty fragment, or for a body the end of the event
// that carries it.
type checkers struct {
	text, reasoning, args, body checker
	firstAt                     int
	first                       func()
	seen                        bool
}

func newCheckers(w Workload) *checkers {
	c := new(checkers)
	c.reset(w)
	return c
}

// reset makes c ready to check another reading of w; it keeps c.first.
func (c *checkers) reset(w Workload) {
	long := w.Long != nil
	c.text = newChecker(w.Text, w.TextDigest, long)
	c.reasoning = newChecker(w.Reasoning, Digest{}, long)
	c.args = newChecker(w.Args, Digest{}, long)
	c.body = newChecker(w.Body, w.BodyDigest, long)
	c.firstAt, c.seen = w.FirstTokenAt, false
}

func (c *checkers) add(text, reasoning string, args ...string) error {
	if !c.seen && (text != "" || reasoning != "" || len(args) > 0) {
		c.token()
	}
	if err := c.text.add(text); err != nil {
		return fmt.Errorf("content: %w", err)
	}
	if err := c.reasoning.add(reasoning); err != nil {
		return fmt.Errorf("reasoning: %w", err)
	}
	for _, a := range args {
		if err := c.args.add(a); err != nil {
			return fmt.Errorf("arguments: %w", err)
		}
	}
	return nil
}

// addBody checks bytes of the body, for the clients that decode nothing.
func (c *checkers) addBody(p []byte) error {
	if err := c.body.addBytes(p); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if !c.seen && c.firstAt > 0 && c.body.off >= c.firstAt {
		c.token()
	}
	return nil
}

func (c *checkers) token() {
	c.seen = true
	if c.first != nil {
		c.first()
	}
}

// done checks that all was read; a client that checks the body checks only that.
func (c *checkers) done() error {
	if c.body.off > 0 || c.body.got.Len > 0 {
		return c.body.done()
	}
	return errors.Join(c.text.done(), c.reasoning.done(), c.args.done())
}

// textOnly reports whether a workload carries nothing but content.
func textOnly(w Workload) bool { return w.Reasoning == "" && w.Args == "" }

var clients = []client{
	{name: "lockchat", open: func(hc *http.Client, base string, w Workload) call {
		c := lockchat.New(lockchat.WithBaseURL(base), lockchat.WithHTTPClient(hc), lockchat.WithAPIKey(apiKey), lockchat.WithInsecureHTTP()) // the in-memory host is not loopback by name
		msgs := lockchatMessages(w)
		if !textOnly(w) {
			return lockchatChunks(c, msgs)
		}
		return func(ctx context.Context, chk *checkers) error {
			for tok, err := range c.Stream(ctx, model, msgs) {
				if err != nil {
					return err
				}
				if err := chk.add(tok, ""); err != nil {
					return err
				}
			}
			return chk.done()
		}
	}},
	{name: "lockchat-chunks", open: func(hc *http.Client, base string, w Workload) call {
		c := lockchat.New(lockchat.WithBaseURL(base), lockchat.WithHTTPClient(hc), lockchat.WithAPIKey(apiKey), lockchat.WithInsecureHTTP()) // the in-memory host is not loopback by name
		return lockchatChunks(c, lockchatMessages(w))
	}},
	{name: "go-openai", open: func(hc *http.Client, base string, w Workload) call {
		if w.ReasoningField != "" && w.ReasoningField != "reasoning_content" {
			return cannot // go-openai reads reasoning_content only
		}
		cfg := goopenai.DefaultConfig(apiKey)
		cfg.BaseURL, cfg.HTTPClient = base, hc
		c := goopenai.NewClientWithConfig(cfg)
		var msgs []goopenai.ChatCompletionMessage
		for _, t := range w.Request() {
			msgs = append(msgs, goopenai.ChatCompletionMessage{Role: t.Role, Content: t.Content})
		}
		return func(ctx context.Context, chk *checkers) error {
			stream, err := c.CreateChatCompletionStream(ctx, goopenai.ChatCompletionRequest{Model: model, Messages: msgs})
			if err != nil {
				return err
			}
			defer stream.Close()
			for {
				resp, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					return chk.done()
				}
				if err != nil {
					return err
				}
				if len(resp.Choices) > 0 {
					d := resp.Choices[0].Delta
					var args []string
					for _, tc := range d.ToolCalls {
						args = append(args, tc.Function.Arguments)
					}
					if err := chk.add(d.Content, d.ReasoningContent, args...); err != nil {
						return err
					}
				}
			}
		}
	}},
	{name: "openai-go", open: func(hc *http.Client, base string, w Workload) call {
		c := openaigo.NewClient(option.WithBaseURL(base), option.WithHTTPClient(hc), option.WithAPIKey(apiKey), option.WithMaxRetries(0))
		var msgs []openaigo.ChatCompletionMessageParamUnion
		for _, t := range w.Request() {
			switch t.Role {
			case "assistant":
				msgs = append(msgs, openaigo.AssistantMessage(t.Content))
			case "system":
				msgs = append(msgs, openaigo.SystemMessage(t.Content))
			default:
				msgs = append(msgs, openaigo.UserMessage(t.Content))
			}
		}
		return func(ctx context.Context, chk *checkers) error {
			stream := c.Chat.Completions.NewStreaming(ctx, openaigo.ChatCompletionNewParams{Model: model, Messages: msgs})
			defer stream.Close()
			for stream.Next() {
				ch := stream.Current()
				if len(ch.Choices) == 0 {
					continue
				}
				d := ch.Choices[0].Delta
				// openai-go has no reasoning field; its maintainers point to the raw extra
				// fields (openai-go #566).
				var reasoning string
				if f, ok := d.JSON.ExtraFields[w.ReasoningField]; ok && w.ReasoningField != "" {
					_ = json.Unmarshal([]byte(f.Raw()), &reasoning)
				}
				var args []string
				for _, tc := range d.ToolCalls {
					args = append(args, tc.Function.Arguments)
				}
				if err := chk.add(d.Content, reasoning, args...); err != nil {
					return err
				}
			}
			if err := stream.Err(); err != nil {
				return err
			}
			return chk.done()
		}
	}},
	{name: "encoding-json", open: func(hc *http.Client, base string, w Workload) call {
		return func(ctx context.Context, chk *checkers) error {
			return readLines(ctx, hc, base, w, chk, func(data []byte) error {
				var ch struct {
					Choices []struct {
						Delta struct {
							Content          string `json:"content"`
							ReasoningContent string `json:"reasoning_content"`
							Reasoning        string `json:"reasoning"`
							ToolCalls        []struct {
								Function struct {
									Arguments string `json:"arguments"`
								} `json:"function"`
							} `json:"tool_calls"`
						} `json:"delta"`
					} `json:"choices"`
				}
				if err := json.Unmarshal(data, &ch); err != nil {
					return err
				}
				if len(ch.Choices) == 0 {
					return nil
				}
				d := ch.Choices[0].Delta
				reasoning := d.ReasoningContent
				if reasoning == "" {
					reasoning = d.Reasoning
				}
				var args []string
				for _, tc := range d.ToolCalls {
					args = append(args, tc.Function.Arguments)
				}
				return chk.add(d.Content, reasoning, args...)
			})
		}
	}},
	{name: "raw-lines", floor: true, open: func(hc *http.Client, base string, w Workload) call {
		// A floor: read the lines with a 64 KiB bufio.Scanner, decode nothing. It checks
		// the body line by line.
		return func(ctx context.Context, chk *checkers) error {
			return readLines(ctx, hc, base, w, chk, nil)
		}
	}},
	{name: "raw", floor: true, open: func(hc *http.Client, base string, w Workload) call {
		// The floor: plain net/http posting the JSON it marshals, reading the body into a
		// 512-byte buffer, decoding nothing. It checks the body byte for byte.
		return func(ctx context.Context, chk *checkers) error {
			resp, err := post(ctx, hc, base, w)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var buf [512]byte
			for {
				n, err := resp.Body.Read(buf[:])
				if err := chk.addBody(buf[:n]); err != nil {
					return err
				}
				if err == io.EOF {
					return chk.done()
				}
				if err != nil {
					return err
				}
			}
		}
	}},
}

// cannot is the call of a client that cannot read a workload's shape.
func cannot(context.Context, *checkers) error { return errCannot }

// clientsNamed returns the named clients, in the order given.
func clientsNamed(names ...string) []client {
	var cs []client
	for _, n := range names {
		for _, c := range clients {
			if c.name == n {
				cs = append(cs, c)
			}
		}
	}
	if len(cs) != len(names) {
		panic(fmt.Sprintf("clientsNamed(%q): unknown name", names))
	}
	return cs
}

func lockchatMessages(w Workload) []lockchat.Message {
	var msgs []lockchat.Message
	for _, t := range w.Request() {
		msgs = append(msgs, lockchat.Message{Role: t.Role, Content: t.Content})
	}
	return msgs
}

// lockchatChunks reads a workload with StreamChunks.
func lockchatChunks(c *lockchat.Client, msgs []lockchat.Message) call {
	return func(ctx context.Context, chk *checkers) error {
		for ch, err := range c.StreamChunks(ctx, model, msgs) {
			if err != nil {
				return err
			}
			for _, choice := range ch.Choices {
				var args []string
				for _, tc := range choice.ToolCalls {
					args = append(args, tc.Arguments)
				}
				if err := chk.add(choice.Content, choice.Reasoning, args...); err != nil {
					return err
				}
			}
		}
		return chk.done()
	}
}

// rawRequest is the request body the clients without a library write with encoding/json.
type rawRequest struct {
	Model    string `json:"model"`
	Messages []Turn `json:"messages"`
	Stream   bool   `json:"stream"`
}

// post sends the conversation with encoding/json and plain net/http, and fails on a
// status other than 200.
func post(ctx context.Context, hc *http.Client, base string, w Workload) (*http.Response, error) {
	payload, err := json.Marshal(rawRequest{Model: model, Messages: w.Request(), Stream: true})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/chat/completions", bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	return resp, nil
}

// readLines posts the conversation and hands each "data: " payload before [DONE] to f;
// with f nil it checks the body's lines instead.
func readLines(ctx context.Context, hc *http.Client, base string, w Workload, chk *checkers, f func([]byte) error) error {
	resp, err := post(ctx, hc, base, w)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20+4096)
	for sc.Scan() {
		line := sc.Bytes()
		if f == nil {
			if err := chk.addBody(line); err != nil {
				return err
			}
			if err := chk.addBody(newline); err != nil {
				return err
			}
			continue
		}
		data, ok := bytes.CutPrefix(line, []byte("data: "))
		if !ok {
			continue
		}
		if bytes.Equal(data, []byte("[DONE]")) {
			io.Copy(io.Discard, resp.Body)
			return chk.done()
		}
		if err := f(data); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if f == nil {
		return chk.done()
	}
	return io.ErrUnexpectedEOF
}

var newline = []byte("\n")
