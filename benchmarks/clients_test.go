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

// A client reads one whole stream from baseURL through hc and checks, token by token,
// that it gets exactly want.
type client struct {
	name string
	run  func(ctx context.Context, hc *http.Client, baseURL string, want string) error
}

// checker compares the tokens as they come with the expected text, without keeping them.
type checker struct {
	want string
	off  int
}

func (c *checker) add(tok string) error {
	if !strings.HasPrefix(c.want[c.off:], tok) {
		return fmt.Errorf("wrong token %q at byte %d", tok, c.off)
	}
	c.off += len(tok)
	return nil
}

func (c *checker) done() error {
	if c.off != len(c.want) {
		return fmt.Errorf("got %d bytes of text, want %d", c.off, len(c.want))
	}
	return nil
}

var messages = []lockchat.Message{{Role: "user", Content: "hi"}}

var clients = []client{
	{"lockchat", func(ctx context.Context, hc *http.Client, base, want string) error {
		c := lockchat.New(lockchat.WithBaseURL(base), lockchat.WithHTTPClient(hc))
		chk := checker{want: want}
		for tok, err := range c.Stream(ctx, "gpt-4o-mini", messages) {
			if err != nil {
				return err
			}
			if err := chk.add(tok); err != nil {
				return err
			}
		}
		return chk.done()
	}},
	{"go-openai", func(ctx context.Context, hc *http.Client, base, want string) error {
		cfg := goopenai.DefaultConfig("sk-bench")
		cfg.BaseURL, cfg.HTTPClient = base, hc
		stream, err := goopenai.NewClientWithConfig(cfg).CreateChatCompletionStream(ctx, goopenai.ChatCompletionRequest{
			Model: "gpt-4o-mini", Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: "hi"}},
		})
		if err != nil {
			return err
		}
		defer stream.Close()
		chk := checker{want: want}
		for {
			resp, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return chk.done()
			}
			if err != nil {
				return err
			}
			if len(resp.Choices) > 0 {
				if err := chk.add(resp.Choices[0].Delta.Content); err != nil {
					return err
				}
			}
		}
	}},
	{"openai-go", func(ctx context.Context, hc *http.Client, base, want string) error {
		c := openaigo.NewClient(option.WithBaseURL(base), option.WithHTTPClient(hc), option.WithAPIKey("sk-bench"), option.WithMaxRetries(0))
		stream := c.Chat.Completions.NewStreaming(ctx, openaigo.ChatCompletionNewParams{
			Model: "gpt-4o-mini", Messages: []openaigo.ChatCompletionMessageParamUnion{openaigo.UserMessage("hi")},
		})
		defer stream.Close()
		chk := checker{want: want}
		for stream.Next() {
			ch := stream.Current()
			if len(ch.Choices) > 0 {
				if err := chk.add(ch.Choices[0].Delta.Content); err != nil {
					return err
				}
			}
		}
		if err := stream.Err(); err != nil {
			return err
		}
		return chk.done()
	}},
	{"encoding-json", func(ctx context.Context, hc *http.Client, base, want string) error {
		return readLines(ctx, hc, base, func(data []byte, chk *checker) error {
			var ch struct {
				Choices []struct {
					Delta struct {
						Content string `json:"content"`
					} `json:"delta"`
				} `json:"choices"`
			}
			if err := json.Unmarshal(data, &ch); err != nil {
				return err
			}
			if len(ch.Choices) > 0 {
				return chk.add(ch.Choices[0].Delta.Content)
			}
			return nil
		}, want)
	}},
	{"raw-lines", func(ctx context.Context, hc *http.Client, base, want string) error {
		// The floor: read the lines, decode nothing. It checks the number of events.
		events := 0
		err := readLines(ctx, hc, base, func(data []byte, chk *checker) error {
			events++
			chk.off = len(chk.want)
			return nil
		}, want)
		if err == nil && events == 0 {
			return errors.New("no events")
		}
		return err
	}},
}

// readLines posts a request and hands each "data: " payload before [DONE] to f.
func readLines(ctx context.Context, hc *http.Client, base string, f func([]byte, *checker) error, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","stream":true}`))
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	chk := checker{want: want}
	for sc.Scan() {
		line := sc.Bytes()
		data, ok := bytes.CutPrefix(line, []byte("data: "))
		if !ok {
			continue
		}
		if bytes.Equal(data, []byte("[DONE]")) {
			io.Copy(io.Discard, resp.Body)
			return chk.done()
		}
		if err := f(data, &chk); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}
