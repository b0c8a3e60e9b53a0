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

// A client reads one whole stream from baseURL through hc and checks, fragment by
// fragment, that it gets exactly the workload's content, reasoning and arguments. A
// client that cannot read a workload's shape returns errCannot, and is left out.
type client struct {
	name string
	run  func(ctx context.Context, hc *http.Client, baseURL string, w Workload) error
}

var errCannot = errors.New("this client cannot decode the workload's shape")

// checker compares fragments as they come with the expected text, without keeping them.
type checker struct {
	want string
	off  int
}

func (c *checker) add(tok string) error {
	if !strings.HasPrefix(c.want[c.off:], tok) {
		return fmt.Errorf("wrong fragment %q at byte %d", tok, c.off)
	}
	c.off += len(tok)
	return nil
}

func (c *checker) done() error {
	if c.off != len(c.want) {
		return fmt.Errorf("got %d bytes, want %d", c.off, len(c.want))
	}
	return nil
}

// checkers checks the three things a workload carries.
type checkers struct{ text, reasoning, args checker }

func newCheckers(w Workload) *checkers {
	return &checkers{checker{want: w.Text}, checker{want: w.Reasoning}, checker{want: w.Args}}
}

func (c *checkers) add(text, reasoning string, args ...string) error {
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

func (c *checkers) done() error {
	return errors.Join(c.text.done(), c.reasoning.done(), c.args.done())
}

// textOnly reports whether a workload carries nothing but content.
func textOnly(w Workload) bool { return w.Reasoning == "" && w.Args == "" }

var messages = []lockchat.Message{{Role: "user", Content: "hi"}}

var clients = []client{
	{"lockchat", func(ctx context.Context, hc *http.Client, base string, w Workload) error {
		c := lockchat.New(lockchat.WithBaseURL(base), lockchat.WithHTTPClient(hc))
		if !textOnly(w) {
			return lockchatChunks(ctx, c, w)
		}
		chk := checker{want: w.Text}
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
	{"lockchat-chunks", func(ctx context.Context, hc *http.Client, base string, w Workload) error {
		return lockchatChunks(ctx, lockchat.New(lockchat.WithBaseURL(base), lockchat.WithHTTPClient(hc)), w)
	}},
	{"go-openai", func(ctx context.Context, hc *http.Client, base string, w Workload) error {
		if w.ReasoningField != "" && w.ReasoningField != "reasoning_content" {
			return errCannot // go-openai reads reasoning_content only
		}
		cfg := goopenai.DefaultConfig("sk-bench")
		cfg.BaseURL, cfg.HTTPClient = base, hc
		stream, err := goopenai.NewClientWithConfig(cfg).CreateChatCompletionStream(ctx, goopenai.ChatCompletionRequest{
			Model: "gpt-4o-mini", Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: "hi"}},
		})
		if err != nil {
			return err
		}
		defer stream.Close()
		chk := newCheckers(w)
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
	}},
	{"openai-go", func(ctx context.Context, hc *http.Client, base string, w Workload) error {
		c := openaigo.NewClient(option.WithBaseURL(base), option.WithHTTPClient(hc), option.WithAPIKey("sk-bench"), option.WithMaxRetries(0))
		stream := c.Chat.Completions.NewStreaming(ctx, openaigo.ChatCompletionNewParams{
			Model: "gpt-4o-mini", Messages: []openaigo.ChatCompletionMessageParamUnion{openaigo.UserMessage("hi")},
		})
		defer stream.Close()
		chk := newCheckers(w)
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
	}},
	{"encoding-json", func(ctx context.Context, hc *http.Client, base string, w Workload) error {
		return readLines(ctx, hc, base, func(data []byte, chk *checkers) error {
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
		}, w)
	}},
	{"raw-lines", func(ctx context.Context, hc *http.Client, base string, w Workload) error {
		// The floor: read the lines, decode nothing. It checks the number of events.
		events := 0
		err := readLines(ctx, hc, base, func(data []byte, chk *checkers) error {
			events++
			chk.text.off, chk.reasoning.off, chk.args.off = len(w.Text), len(w.Reasoning), len(w.Args)
			return nil
		}, w)
		if err == nil && events < w.Tokens {
			return fmt.Errorf("%d events, want at least %d", events, w.Tokens)
		}
		return err
	}},
}

// lockchatChunks reads a workload with StreamChunks.
func lockchatChunks(ctx context.Context, c *lockchat.Client, w Workload) error {
	chk := newCheckers(w)
	for ch, err := range c.StreamChunks(ctx, "gpt-4o-mini", messages) {
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

// readLines posts a request and hands each "data: " payload before [DONE] to f.
func readLines(ctx context.Context, hc *http.Client, base string, f func([]byte, *checkers) error, w Workload) error {
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
	chk := newCheckers(w)
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
		if err := f(data, chk); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}
