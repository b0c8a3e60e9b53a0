package lockchat_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// These tests drive Chat and Complete against lockchattest: the tool loop, answers that
// hold no text, and the retry rule for every kind of output.

func TestToolLoop(t *testing.T) {
	weather := lockchat.ToolCall{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}
	srv := lockchattest.NewServer(
		lockchattest.Reply{Reasoning: []string{"Need ", "weather."}, ToolCalls: []lockchat.ToolCall{weather}, ArgumentFragment: 3},
		lockchattest.Reply{Tokens: []string{"It is ", "21 °C."}, Usage: &lockchat.Usage{PromptTokens: 9, CompletionTokens: 4, TotalTokens: 13}},
	)
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithTools(lockchat.Tool{Name: "get_weather"}))
	ctx := context.Background()
	messages := []lockchat.Message{{Role: "user", Content: "Weather in Paris?"}}

	first, err := c.Chat(ctx, "m", messages)
	if err != nil {
		t.Fatal(err)
	}
	msg := first.Message()
	want := lockchat.ToolCall{ID: "call_1", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`}
	if len(msg.ToolCalls) != 1 || !reflect.DeepEqual(msg.ToolCalls[0], want) || msg.Reasoning != "Need weather." ||
		first.Choices[0].FinishReason != "tool_calls" || msg.Role != "assistant" {
		t.Fatalf("first turn: %+v", first)
	}
	// The caller runs the tool and sends its result back with the assistant turn.
	messages = append(messages, msg, lockchat.Message{Role: "tool", ToolCallID: "call_1", Content: `{"temp":21}`})
	second, err := c.Chat(ctx, "m", messages, lockchat.WithUsage())
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Message().Content; got != "It is 21 °C." || second.Usage == nil || second.Usage.TotalTokens != 13 {
		t.Fatalf("second turn: %+v", second)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	// The second request carries the whole exchange, as the server needs it.
	wantBody := `{"messages":[{"role":"user","content":"Weather in Paris?"},` +
		`{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}],"reasoning_content":"Need weather."},` +
		`{"role":"tool","content":"{\"temp\":21}","tool_call_id":"call_1"}],` +
		`"model":"m","stream":true,"stream_options":{"include_usage":true},"temperature":0.7,"tools":[{"type":"function","function":{"name":"get_weather"}}]}`
	if got := string(reqs[1].Body); got != wantBody {
		t.Fatalf("second request\n got %s\nwant %s", got, wantBody)
	}
	if got := reqs[1].Messages; len(got) != 3 || got[1].ToolCalls[0].ID != "call_1" || got[1].Reasoning != "Need weather." || got[2].ToolCallID != "call_1" {
		t.Fatalf("the fake decoded %+v", got)
	}
}

func TestReasoningIsSentBackUnderTheServersName(t *testing.T) {
	srv := lockchattest.NewServer(
		lockchattest.Reply{Reasoning: []string{"hmm"}, ReasoningField: "reasoning", ToolCalls: []lockchat.ToolCall{{ID: "c", Name: "f", Arguments: "{}"}}},
		lockchattest.Reply{Tokens: []string{"done"}},
	)
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL))
	first, err := c.Chat(context.Background(), "m", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Chat(context.Background(), "m", []lockchat.Message{first.Message()}); err != nil {
		t.Fatal(err)
	}
	want := `{"messages":[{"role":"assistant","content":"","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}],"reasoning":"hmm"}],"model":"m","stream":true,"temperature":0.7}`
	if got := string(srv.Requests()[1].Body); got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}

func TestCompleteAnswerWithoutText(t *testing.T) {
	cases := []struct {
		name   string
		reply  lockchattest.Reply
		target error
		text   string
	}{
		{"tool calls", lockchattest.Reply{ToolCalls: []lockchat.ToolCall{{ID: "c1", Name: "get_weather", Arguments: `{"city":"Paris"}`}, {ID: "c2", Name: "get_time", Arguments: "{}"}}, ArgumentFragment: 4},
			lockchat.ErrToolCalls, "2 tool call(s) (get_weather, get_time)"},
		{"refusal", lockchattest.Reply{Refusal: []string{"I can't ", "help."}}, lockchat.ErrRefusal, `"I can't help."`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := lockchattest.NewServer(tc.reply)
			defer srv.Close()
			text, err := lockchat.New(lockchat.WithBaseURL(srv.URL)).Complete(context.Background(), "m", nil)
			var nt *lockchat.NoTextError
			if text != "" || !errors.As(err, &nt) || !errors.Is(err, tc.target) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("Complete = %q, %v", text, err)
			}
			other := lockchat.ErrRefusal
			if tc.target == lockchat.ErrRefusal {
				other = lockchat.ErrToolCalls
			}
			if errors.Is(err, other) {
				t.Fatalf("%v also matches %v", err, other)
			}
			if len(srv.Requests()) != 1 {
				t.Fatalf("%d requests: an answer without text was retried", len(srv.Requests()))
			}
		})
	}
	// Text with a tool call is text.
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"Calling."}, ToolCalls: []lockchat.ToolCall{{ID: "c", Name: "f"}}})
	defer srv.Close()
	if text, err := lockchat.New(lockchat.WithBaseURL(srv.URL)).Complete(context.Background(), "m", nil); text != "Calling." || err != nil {
		t.Fatalf("Complete = %q, %v", text, err)
	}
}

// TestDeliveredIsTheSameForEveryCall cuts a stream after two chunks of output of each
// kind and checks that every call reports the same failure, not retried.
func TestDeliveredIsTheSameForEveryCall(t *testing.T) {
	replies := map[string]lockchattest.Reply{
		"reasoning":  {Reasoning: []string{"a", "b", "c"}, Tokens: []string{"x"}, CutAfter: 2},
		"tokens":     {Tokens: []string{"a", "b", "c"}, CutAfter: 2},
		"refusal":    {Refusal: []string{"a", "b", "c"}, CutAfter: 2},
		"tool calls": {ToolCalls: []lockchat.ToolCall{{ID: "c", Name: "f", Arguments: "abcdef"}}, ArgumentFragment: 2, CutAfter: 2},
	}
	calls := map[string]func(c *lockchat.Client) error{
		"Stream": func(c *lockchat.Client) error {
			for _, err := range c.Stream(context.Background(), "m", nil) {
				if err != nil {
					return err
				}
			}
			return nil
		},
		"StreamChunks": func(c *lockchat.Client) error {
			for _, err := range c.StreamChunks(context.Background(), "m", nil) {
				if err != nil {
					return err
				}
			}
			return nil
		},
		"Chat": func(c *lockchat.Client) error {
			_, err := c.Chat(context.Background(), "m", nil)
			return err
		},
		"Complete": func(c *lockchat.Client) error {
			_, err := c.Complete(context.Background(), "m", nil)
			return err
		},
	}
	for kind, reply := range replies {
		for name, call := range calls {
			t.Run(kind+"/"+name, func(t *testing.T) {
				srv := lockchattest.NewServer(reply)
				defer srv.Close()
				err := call(lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithRetryDelay(0, 0)))
				var ie *lockchat.InterruptedError
				if !errors.As(err, &ie) || ie.Delivered != 2 {
					t.Fatalf("err = %v, want an *InterruptedError after 2 chunks", err)
				}
				if n := len(srv.Requests()); n != 1 {
					t.Fatalf("%d requests: output already delivered was asked for again", n)
				}
			})
		}
	}
}

func TestChatReturnsWhatArrivedWithTheError(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Reasoning: []string{"r1"}, Tokens: []string{"a", "b", "c"}, CutAfter: 3})
	defer srv.Close()
	got, err := lockchat.New(lockchat.WithBaseURL(srv.URL)).Chat(context.Background(), "m", nil)
	var ie *lockchat.InterruptedError
	if !errors.As(err, &ie) || got.Message().Content != "ab" || got.Message().Reasoning != "r1" || got.Choices[0].FinishReason != "" {
		t.Fatalf("Chat = %+v, %v", got, err)
	}
}

func TestCompletionSizeLimit(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"0123456789", "0123456789", "0123456789"}})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithMaxCompletionSize(15))
	got, err := c.Chat(context.Background(), "m", nil)
	var tooLarge *lockchat.CompletionTooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Limit != 15 || got.Message().Content != "0123456789" {
		t.Fatalf("Chat = %q, %v", got.Message().Content, err)
	}
	text, err := c.Complete(context.Background(), "m", nil)
	if !errors.As(err, &tooLarge) || len(text) > 30 {
		t.Fatalf("Complete = %q, %v", text, err)
	}
	// 0 lifts the limit.
	if got, err := c.Chat(context.Background(), "m", nil, lockchat.WithMaxCompletionSize(0)); err != nil || len(got.Message().Content) != 30 {
		t.Fatalf("no limit: %q, %v", got.Message().Content, err)
	}
}

// TestNoTextErrorQuotesNoKey: the error quotes the server's names and refusal, which a
// server may fill with what it was sent.
func TestNoTextErrorQuotesNoKey(t *testing.T) {
	const key = "sk-live-0123456789abcdef"
	srv := lockchattest.NewServer(lockchattest.Reply{Refusal: []string{"your key " + key + " is revoked"}})
	defer srv.Close()
	_, err := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithAPIKey(key)).Complete(context.Background(), "m", nil)
	if !errors.Is(err, lockchat.ErrRefusal) || strings.Contains(err.Error(), key) || strings.Contains(err.Error(), key[:12]) {
		t.Fatalf("err = %v", err)
	}
}

// TestStreamEndsAnAnswerWithoutText checks that Stream, which shows text only, ends an
// answer that holds tool calls or a refusal instead with Complete's *NoTextError, not
// with nothing.
func TestStreamEndsAnAnswerWithoutText(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		reply lockchattest.Reply
		kind  error
	}{
		{"tool calls", lockchattest.Reply{Reasoning: []string{"Let me ", "look."}, ToolCalls: []lockchat.ToolCall{{ID: "c1", Name: "get_weather", Arguments: `{"city":"Oslo"}`}}, ArgumentFragment: 3}, lockchat.ErrToolCalls},
		{"a refusal", lockchattest.Reply{Refusal: []string{"I can't ", "do that."}}, lockchat.ErrRefusal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := lockchattest.NewServer(tc.reply)
			defer srv.Close()
			c := lockchat.New(lockchat.WithBaseURL(srv.URL))
			toks, err := collect(c.Stream(ctx, "m", hello))
			var fromStream, fromComplete *lockchat.NoTextError
			if len(toks) != 0 || !errors.As(err, &fromStream) || !errors.Is(err, tc.kind) {
				t.Fatalf("Stream: tokens %q, err %v; want a *NoTextError matching %v", toks, err, tc.kind)
			}
			_, err = c.Complete(ctx, "m", hello)
			if !errors.As(err, &fromComplete) {
				t.Fatalf("Complete: err %v", err)
			}
			if !reflect.DeepEqual(fromStream.Message, fromComplete.Message) || fromStream.Error() != fromComplete.Error() {
				t.Errorf("Stream's error %+v differs from Complete's %+v", fromStream.Message, fromComplete.Message)
			}
			if tc.kind == lockchat.ErrToolCalls && (fromComplete.Message.Reasoning != "Let me look." || fromComplete.Message.ToolCalls[0].Arguments != `{"city":"Oslo"}`) {
				t.Errorf("NoTextError.Message = %+v, want the reasoning and the whole call", fromComplete.Message)
			}
		})
	}
	// Text and tool calls together is an answer with text: no error.
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"Sure."}, ToolCalls: []lockchat.ToolCall{{ID: "c1", Name: "f", Arguments: "{}"}}})
	defer srv.Close()
	if toks, err := collect(lockchat.New(lockchat.WithBaseURL(srv.URL)).Stream(ctx, "m", hello)); err != nil || len(toks) != 1 {
		t.Fatalf("tokens %q, err %v", toks, err)
	}
}

// TestCompleteIsChatAndATextCheck checks that Complete keeps Chat's size limit: past it
// the error is the size error, not a NoTextError with a cut tool call.
func TestCompleteIsChatAndATextCheck(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{ToolCalls: []lockchat.ToolCall{{ID: "c1", Name: "f", Arguments: `{"q":"` + strings.Repeat("x", 500) + `"}`}}, ArgumentFragment: 50})
	defer srv.Close()
	c := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithMaxCompletionSize(200))
	_, err := c.Complete(context.Background(), "m", hello)
	var tooLarge *lockchat.CompletionTooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Limit != 200 || errors.Is(err, lockchat.ErrToolCalls) {
		t.Fatalf("err = %v, want a *CompletionTooLargeError of 200 and no NoTextError", err)
	}
	_, err = collect(c.Stream(context.Background(), "m", hello))
	if !errors.As(err, &tooLarge) {
		t.Fatalf("Stream: err = %v, want the size error", err)
	}
}

// TestMaxCompletionSizeZeroIsTheDefault checks the one meaning of 0 for every size limit:
// the default, DefaultMaxCompletionSize; a negative value is no limit.
func TestMaxCompletionSizeZeroIsTheDefault(t *testing.T) {
	big := make([]string, lockchat.DefaultMaxCompletionSize/(1<<20)+1)
	for i := range big {
		big[i] = strings.Repeat("x", 1<<20)
	}
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: big})
	defer srv.Close()
	ctx := context.Background()
	var tooLarge *lockchat.CompletionTooLargeError
	for _, opt := range []lockchat.Option{lockchat.WithMaxCompletionSize(0), nil} {
		_, err := lockchat.New(lockchat.WithBaseURL(srv.URL), opt).Chat(ctx, "m", hello)
		if !errors.As(err, &tooLarge) || tooLarge.Limit != lockchat.DefaultMaxCompletionSize {
			t.Fatalf("err = %v, want the default limit", err)
		}
	}
	var acc lockchat.Accumulator // MaxSize 0
	acc.Add(lockchat.Chunk{Choices: []lockchat.Choice{{Content: strings.Repeat("x", lockchat.DefaultMaxCompletionSize+1)}}})
	if !errors.As(acc.Err(), &tooLarge) || tooLarge.Limit != lockchat.DefaultMaxCompletionSize {
		t.Fatalf("Accumulator: err = %v, want the default limit", acc.Err())
	}
	comp, err := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithMaxCompletionSize(-1)).Chat(ctx, "m", hello)
	if err != nil || len(comp.Message().Content) != len(big)<<20 {
		t.Fatalf("no limit: %d bytes, err %v", len(comp.Message().Content), err)
	}
}

// TestChatAssemblesTheAttemptThatAnswered checks that the chunks of an attempt that
// failed before output (here a role chunk, then an overloaded error) leave nothing in the
// completion: neither their id and model nor a repair.
func TestChatAssemblesTheAttemptThatAnswered(t *testing.T) {
	srv := lockchattest.NewServer(
		lockchattest.Reply{Raw: []string{
			`data: {"id":"failed-1","model":"old-model","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}` + "\n\n",
			`data: {"error":{"message":"overloaded","type":"server_error"}}` + "\n\n",
		}},
		lockchattest.Reply{Tokens: []string{"ok"}},
	)
	defer srv.Close()
	comp, err := lockchat.New(lockchat.WithBaseURL(srv.URL), fast).Chat(context.Background(), "m", hello)
	if err != nil {
		t.Fatal(err)
	}
	if comp.ID != "chatcmpl-lockchattest" || comp.Model != "m" || len(comp.Repairs) != 0 || comp.Message().Content != "ok" {
		t.Fatalf("completion id %q, model %q, repairs %v, content %q", comp.ID, comp.Model, comp.Repairs, comp.Message().Content)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

// TestToolCallsOfAChunkAreBounded: many choices of many empty calls, each within its
// own bound, make too many calls for one chunk.
func TestToolCallsOfAChunkAreBounded(t *testing.T) {
	calls := "[" + strings.Repeat("{},", 999) + "{}]"
	var choices []string
	for i := range 8 {
		choices = append(choices, fmt.Sprintf(`{"index":%d,"delta":{"tool_calls":%s}}`, i, calls))
	}
	base := sseServer(t, `{"choices":[`+strings.Join(choices, ",")+`]}`)
	_, err := lockchat.New(lockchat.WithBaseURL(base)).Chat(context.Background(), "m", nil)
	if !errors.Is(err, lockchat.ErrMalformedStream) || !strings.Contains(err.Error(), "in one chunk") || strings.Count(err.Error(), "lockchat:") != 1 {
		t.Fatalf("err = %v", err)
	}
}

// TestMaxCompletionSizeCountsEmptyCalls: a 300 KB stream of empty calls passes a
// 256 KiB limit.
func TestMaxCompletionSizeCountsEmptyCalls(t *testing.T) {
	calls := "[" + strings.Repeat("{},", 999) + "{}]"
	var events []string
	for i := range 100 {
		events = append(events, fmt.Sprintf(`{"choices":[{"index":%d,"delta":{"tool_calls":%s}}]}`, i, calls))
	}
	base := sseServer(t, events...)
	got, err := lockchat.New(lockchat.WithBaseURL(base), lockchat.WithMaxCompletionSize(256<<10)).Chat(context.Background(), "m", nil)
	var tooLarge *lockchat.CompletionTooLargeError
	n := 0
	for _, c := range got.Choices {
		n += len(c.Message.ToolCalls)
	}
	if !errors.As(err, &tooLarge) || n > 256<<10/3 {
		t.Fatalf("%d calls, err %v", n, err)
	}
}
