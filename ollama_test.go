//go:build ollama

package lockchat_test

// The Ollama suite runs the library, the CLI and the official openai npm client against
// a real Ollama v0.17.4, built from source and serving tiny deterministic models
// (interop/ollama: build.sh, genmodel, start.sh). .ci/run starts it and runs:
//
//	LOCKCHAT_OLLAMA_URL=http://127.0.0.1:PORT/v1 go test -tags ollama -count=1 -run Ollama -v .
//
// Without LOCKCHAT_OLLAMA_URL every test skips. The expected answers are the chains of
// interop/ollama/genmodel/scenarios.go; change both together. The models answer the same
// at any temperature and seed, one token per chunk.
//
// Tool calls and reasoning are checked twice: through Chat, as a user would, and on the
// raw stream read with net/http (rawChat), which asserts what Ollama itself sends.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
)

// The models' answers.
const (
	ollamaText       = "Привет, мир! Вот \"цитата\" и эмодзи 🙂 👩‍💻;\tтаб, путь C:\\lockchat\\bin и знаки 1<2&3>0.\nВторая строка."
	ollamaTextTokens = 18
	ollamaAfterTool  = "В Париже солнечно, +18 °C."
	ollamaReasoning  = "Пользователь спрашивает о погоде."
	ollamaThought    = "Думаю, будет солнечно." // the think model's content
	ollamaLong       = "Один два три четыре пять шесть семь восемь."
	ollamaFirstFive  = "Один два три четыре пять"
)

// ollamaLoop is what the loop model streams before Ollama's repeat limit (a token
// repeated more than 30 times) stops it: 33 tokens, then the body ends.
var ollamaLoop = "Тик-так" + strings.Repeat(" ха", 31)

func ollamaURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("LOCKCHAT_OLLAMA_URL")
	if u == "" {
		t.Skip("LOCKCHAT_OLLAMA_URL is not set: .ci/run starts Ollama (interop/ollama/start.sh) and sets it")
	}
	return u
}

// The tools the tool models are asked about.
var (
	weatherTool = map[string]any{"type": "function", "function": map[string]any{
		"name": "get_weather", "description": "Current weather in a city",
		"parameters": map[string]any{"type": "object", "required": []string{"city"}, "properties": map[string]any{
			"city": map[string]any{"type": "string"}, "unit": map[string]any{"type": "string"},
		}},
	}}
	timeTool = map[string]any{"type": "function", "function": map[string]any{
		"name": "get_time", "description": "Current time in a time zone",
		"parameters": map[string]any{"type": "object", "required": []string{"zone"}, "properties": map[string]any{
			"zone": map[string]any{"type": "string"},
		}},
	}}
)

func userSays(text string) []map[string]any {
	return []map[string]any{{"role": "user", "content": text}}
}

func TestOllamaText(t *testing.T) {
	base := ollamaURL(t)
	c := lockchat.New(lockchat.WithBaseURL(base))
	var tokens []string
	for tok, err := range c.Stream(context.Background(), "lockchat-text", hello) {
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	if got := strings.Join(tokens, ""); got != ollamaText {
		t.Fatalf("streamed %q, want %q", got, ollamaText)
	}
	if len(tokens) != ollamaTextTokens {
		t.Errorf("%d tokens, want %d: one per chunk", len(tokens), ollamaTextTokens)
	}
	out, err := exec.Command("node", filepath.Join("interop", "reference-client.mjs"), base, "lockchat-text", hello[0].Content, "true").Output()
	if err != nil || string(out) != ollamaText {
		t.Fatalf("reference client printed %q, %v; we %q", out, err, ollamaText)
	}
}

func TestOllamaDeterministic(t *testing.T) {
	base := ollamaURL(t)
	c := lockchat.New(lockchat.WithBaseURL(base))
	for _, temp := range []float64{0, 0.7, 1.5} {
		t.Run(fmt.Sprintf("temperature=%g", temp), func(t *testing.T) {
			for _, seed := range []int{1, 42} {
				got, err := c.Complete(context.Background(), "lockchat-text", hello, lockchat.WithTemperature(temp), lockchat.WithParam("seed", seed))
				if err != nil || got != ollamaText {
					t.Fatalf("seed %d: %q, %v", seed, got, err)
				}
			}
		})
	}
}

func TestOllamaUsage(t *testing.T) {
	base := ollamaURL(t)
	c := lockchat.New(lockchat.WithBaseURL(base))
	usageOpt := lockchat.WithUsage()
	var text strings.Builder
	var finish string
	var usage *lockchat.Usage
	for ch, err := range c.StreamChunks(context.Background(), "lockchat-text", hello, usageOpt) {
		if err != nil {
			t.Fatal(err)
		}
		if usage != nil {
			t.Fatalf("a chunk after the usage chunk: %+v", ch)
		}
		for _, choice := range ch.Choices {
			text.WriteString(choice.Content)
			finish += choice.FinishReason
		}
		if ch.Usage != nil {
			if len(ch.Choices) != 0 {
				t.Errorf("usage rides on a chunk with choices: %+v", ch)
			}
			usage = ch.Usage
		}
	}
	if text.String() != ollamaText || finish != "stop" {
		t.Fatalf("text %q, finish %q", text.String(), finish)
	}
	// Ollama counts the end-of-sequence token as generated: 18 pieces and the end.
	if usage == nil || usage.CompletionTokens != ollamaTextTokens+1 || usage.PromptTokens <= 0 ||
		usage.TotalTokens != usage.PromptTokens+usage.CompletionTokens {
		t.Fatalf("usage %+v", usage)
	}
	ref := refChat(t, base, "raw", map[string]any{"model": "lockchat-text", "messages": userSays(hello[0].Content),
		"stream_options": map[string]any{"include_usage": true}})
	if ref.Usage == nil || *ref.Usage != *usage || ref.Content != ollamaText {
		t.Fatalf("reference client: usage %+v, content %q; we %+v", ref.Usage, ref.Content, usage)
	}
}

func TestOllamaMaxTokens(t *testing.T) {
	base := ollamaURL(t)
	c := lockchat.New(lockchat.WithBaseURL(base))
	if got, err := c.Complete(context.Background(), "lockchat-long", hello); err != nil || got != ollamaLong {
		t.Fatalf("without max_tokens: %q, %v", got, err)
	}
	var text strings.Builder
	var finish string
	for ch, err := range c.StreamChunks(context.Background(), "lockchat-long", hello, lockchat.WithParam("max_tokens", 5)) {
		if err != nil {
			t.Fatal(err)
		}
		for _, choice := range ch.Choices {
			text.WriteString(choice.Content)
			finish += choice.FinishReason
		}
	}
	if text.String() != ollamaFirstFive || finish != "length" {
		t.Fatalf("max_tokens 5: text %q, finish %q", text.String(), finish)
	}
	ref := refChat(t, base, "raw", map[string]any{"model": "lockchat-long", "messages": userSays(hello[0].Content), "max_tokens": 5})
	if ref.Content != ollamaFirstFive || ref.FinishReason == nil || *ref.FinishReason != "length" {
		t.Fatalf("reference client: %q, finish %v", ref.Content, ref.FinishReason)
	}
}

func TestOllamaNoFinishReason(t *testing.T) {
	base := ollamaURL(t)
	raw := rawChat(t, base, map[string]any{"model": "lockchat-loop", "messages": userSays("Laugh.")})
	if raw.Content != ollamaLoop || raw.FinishReason != "" || raw.Done || raw.Chunks != 33 {
		t.Fatalf("quirk gone? the loop model's stream: %d chunks, content %q, finish %q, [DONE] %v",
			raw.Chunks, raw.Content, raw.FinishReason, raw.Done)
	}
	// We deliver what arrived, then say the stream was cut short.
	c := lockchat.New(lockchat.WithBaseURL(base))
	got, err := c.Complete(context.Background(), "lockchat-loop", hello)
	var interrupted *lockchat.InterruptedError
	if got != ollamaLoop || !errors.As(err, &interrupted) || interrupted.Delivered != 33 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Complete = %q, %v; want the 33 tokens and an interruption (io.ErrUnexpectedEOF)", got, err)
	}
	// The official client differs. Iterating the raw stream, it takes the end of the body
	// for the end of the answer: same text, no finish reason, no error. Its stream helper
	// does notice, when it builds the final message.
	ref := refChat(t, base, "raw", map[string]any{"model": "lockchat-loop", "messages": userSays("Laugh.")})
	if ref.Content != ollamaLoop || ref.FinishReason != nil || ref.Error != nil {
		t.Fatalf("reference client (raw): %q, finish %v, error %+v", ref.Content, ref.FinishReason, ref.Error)
	}
	ref = refChat(t, base, "helper", map[string]any{"model": "lockchat-loop", "messages": userSays("Laugh.")})
	if ref.Error == nil || !strings.Contains(ref.Error.Message, "missing finish_reason") {
		t.Fatalf("reference client (helper): error %+v, want missing finish_reason", ref.Error)
	}
}

func TestOllamaUnknownModel(t *testing.T) {
	base := ollamaURL(t)
	const msg = "model 'no-such-model' not found"
	c := lockchat.New(lockchat.WithBaseURL(base))
	_, err := c.Complete(context.Background(), "no-such-model", hello)
	var apiErr *lockchat.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Message != msg || apiErr.Type != "api_error" || apiErr.InStream {
		t.Fatalf("err = %v (%+v), want *APIError 404 %q", err, apiErr, msg)
	}
	// A 404 is not retried, and Ollama's wording is not the "does not exist" that
	// ErrModelNotFound (and its retry) is about.
	if strings.Contains(err.Error(), "giving up") || errors.Is(err, lockchat.ErrModelNotFound) {
		t.Fatalf("err = %v", err)
	}
	raw := rawChat(t, base, map[string]any{"model": "no-such-model", "messages": userSays("hi")})
	if raw.Status != 404 || !strings.HasPrefix(raw.ContentType, "application/json") {
		t.Fatalf("raw: status %d, content type %q", raw.Status, raw.ContentType)
	}
	ref := refChat(t, base, "raw", map[string]any{"model": "no-such-model", "messages": userSays("hi")})
	if ref.Error == nil || ref.Error.Status != 404 || ref.Error.Type != "api_error" || !strings.Contains(ref.Error.Message, msg) {
		t.Fatalf("reference client: %+v", ref.Error)
	}
}

// The tools as lockchat sends them.
var (
	weatherToolGo = lockchat.Tool{Name: "get_weather", Description: "Current weather in a city",
		Parameters: weatherTool["function"].(map[string]any)["parameters"]}
	timeToolGo = lockchat.Tool{Name: "get_time", Description: "Current time in a time zone",
		Parameters: timeTool["function"].(map[string]any)["parameters"]}
)

// callArgs parses each call's arguments: Ollama writes the keys in any order.
func callArgs(t *testing.T, calls []lockchat.ToolCall) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, c := range calls {
		out = append(out, parseArgs(t, c.Arguments))
	}
	return out
}

func TestOllamaToolCall(t *testing.T) {
	base := ollamaURL(t)
	// Through Chat: the call assembled, then the tool loop.
	c := lockchat.New(lockchat.WithBaseURL(base), lockchat.WithTools(weatherToolGo))
	ctx := context.Background()
	messages := []lockchat.Message{{Role: "user", Content: "What is the weather in Paris?"}}
	first, err := c.Chat(ctx, "lockchat-tool", messages)
	if err != nil {
		t.Fatal(err)
	}
	answer := first.Message()
	if len(answer.ToolCalls) != 1 || first.Choices[0].FinishReason != "tool_calls" || answer.Content != "" || len(first.Repairs) != 0 {
		t.Fatalf("Chat: %+v", first)
	}
	if got := answer.ToolCalls[0]; got.Name != "get_weather" || got.Type != "function" || !strings.HasPrefix(got.ID, "call_") ||
		!reflect.DeepEqual(parseArgs(t, got.Arguments), map[string]any{"city": "Paris", "unit": "celsius"}) {
		t.Fatalf("Chat's call: %+v", got)
	}
	messages = append(messages, answer, lockchat.Message{Role: "tool", ToolCallID: answer.ToolCalls[0].ID, Content: `{"temperature":18,"sky":"clear"}`})
	second, err := c.Chat(ctx, "lockchat-tool", messages)
	if err != nil || second.Message().Content != ollamaAfterTool || len(second.Message().ToolCalls) != 0 {
		t.Fatalf("Chat after the tool result: %+v, %v", second, err)
	}
	// Complete on a tool-call answer says so rather than return "".
	if text, err := c.Complete(ctx, "lockchat-tool", messages[:1]); text != "" || !errors.Is(err, lockchat.ErrToolCalls) {
		t.Fatalf("Complete = %q, %v", text, err)
	}

	// What Ollama sends, read raw.
	req := map[string]any{"model": "lockchat-tool", "messages": userSays("What is the weather in Paris?"), "tools": []any{weatherTool}}
	raw := rawChat(t, base, req)
	wantArgs := map[string]any{"city": "Paris", "unit": "celsius"}
	if len(raw.ToolCalls) != 1 || raw.FinishReason != "tool_calls" || raw.Content != "" || !raw.Done {
		t.Fatalf("calls %+v, finish %q, content %q, [DONE] %v", raw.ToolCalls, raw.FinishReason, raw.Content, raw.Done)
	}
	call := raw.ToolCalls[0]
	if call.Index != 0 || call.Type != "function" || call.Name != "get_weather" || !strings.HasPrefix(call.ID, "call_") || !reflect.DeepEqual(call.Args, wantArgs) {
		t.Fatalf("call %+v", call)
	}
	ref := refChat(t, base, "helper", req)
	if len(ref.ToolCalls) != 1 || ref.ToolCalls[0].Name != "get_weather" || !reflect.DeepEqual(parseArgs(t, ref.ToolCalls[0].Arguments), wantArgs) ||
		ref.FinishReason == nil || *ref.FinishReason != "tool_calls" {
		t.Fatalf("reference client: %+v, finish %v", ref.ToolCalls, ref.FinishReason)
	}

	// The tool loop: the call and its result go back; the model answers with text.
	argsJSON, err := json.Marshal(call.Args)
	if err != nil {
		t.Fatal(err)
	}
	req["messages"] = append(userSays("What is the weather in Paris?"),
		map[string]any{"role": "assistant", "content": "", "tool_calls": []any{map[string]any{
			"id": call.ID, "type": "function", "function": map[string]any{"name": call.Name, "arguments": string(argsJSON)},
		}}},
		map[string]any{"role": "tool", "tool_call_id": call.ID, "content": `{"temperature":18,"sky":"clear"}`},
	)
	raw = rawChat(t, base, req)
	if raw.Content != ollamaAfterTool || raw.FinishReason != "stop" || len(raw.ToolCalls) != 0 {
		t.Fatalf("after the tool result: %q, finish %q, calls %+v", raw.Content, raw.FinishReason, raw.ToolCalls)
	}
	if ref := refChat(t, base, "helper", req); ref.Content != ollamaAfterTool {
		t.Fatalf("reference client after the tool result: %q", ref.Content)
	}
}

func TestOllamaTwoToolCalls(t *testing.T) {
	base := ollamaURL(t)
	c := lockchat.New(lockchat.WithBaseURL(base), lockchat.WithTools(weatherToolGo, timeToolGo))
	got, err := c.Chat(context.Background(), "lockchat-tools2", []lockchat.Message{{Role: "user", Content: "Weather and time in Berlin?"}})
	if err != nil {
		t.Fatal(err)
	}
	calls := got.Message().ToolCalls
	wantArgs := []map[string]any{{"city": "Berlin", "unit": "celsius"}, {"zone": "Europe/Berlin"}}
	if len(calls) != 2 || calls[0].Name != "get_weather" || calls[1].Name != "get_time" || calls[0].ID == calls[1].ID ||
		!reflect.DeepEqual(callArgs(t, calls), wantArgs) || got.Choices[0].FinishReason != "tool_calls" {
		t.Fatalf("Chat: %+v", got)
	}

	req := map[string]any{"model": "lockchat-tools2", "messages": userSays("Weather and time in Berlin?"), "tools": []any{weatherTool, timeTool}}
	raw := rawChat(t, base, req)
	want := []struct {
		name string
		args map[string]any
	}{
		{"get_weather", map[string]any{"city": "Berlin", "unit": "celsius"}},
		{"get_time", map[string]any{"zone": "Europe/Berlin"}},
	}
	if len(raw.ToolCalls) != len(want) || raw.FinishReason != "tool_calls" || raw.Content != "" {
		t.Fatalf("calls %+v, finish %q, content %q", raw.ToolCalls, raw.FinishReason, raw.Content)
	}
	for i, w := range want {
		c := raw.ToolCalls[i]
		if c.Index != i || c.Name != w.name || !reflect.DeepEqual(c.Args, w.args) || c.ID == "" {
			t.Errorf("call %d: %+v, want %s %v", i, c, w.name, w.args)
		}
	}
	if raw.ToolCalls[0].ID == raw.ToolCalls[1].ID || raw.ToolCalls[0].Chunk == raw.ToolCalls[1].Chunk {
		t.Errorf("the calls share an id or a chunk: %+v", raw.ToolCalls)
	}
	ref := refChat(t, base, "helper", req)
	if len(ref.ToolCalls) != len(want) {
		t.Fatalf("reference client: %+v", ref.ToolCalls)
	}
	for i, w := range want {
		if c := ref.ToolCalls[i]; c.Name != w.name || !reflect.DeepEqual(parseArgs(t, c.Arguments), w.args) {
			t.Errorf("reference client, call %d: %+v", i, c)
		}
	}
}

func TestOllamaReasoning(t *testing.T) {
	base := ollamaURL(t)
	c := lockchat.New(lockchat.WithBaseURL(base))
	got, err := c.Chat(context.Background(), "lockchat-think", hello)
	if err != nil {
		t.Fatal(err)
	}
	m := got.Message()
	if m.Reasoning != ollamaReasoning || m.Content != ollamaThought || got.Choices[0].FinishReason != "stop" {
		t.Fatalf("Chat: reasoning %q, content %q, finish %q", m.Reasoning, m.Content, got.Choices[0].FinishReason)
	}
	// The turn goes back under Ollama's own field name, "reasoning".
	if b, _ := json.Marshal(m); !strings.Contains(string(b), `"reasoning":`) || strings.Contains(string(b), `"reasoning_content"`) {
		t.Fatalf("the assistant turn would be sent back as %s", b)
	}

	req := map[string]any{"model": "lockchat-think", "messages": userSays("Will it be sunny?")}
	raw := rawChat(t, base, req)
	if raw.Reasoning != ollamaReasoning || raw.Content != ollamaThought || raw.FinishReason != "stop" {
		t.Fatalf("reasoning %q, content %q, finish %q", raw.Reasoning, raw.Content, raw.FinishReason)
	}
	if raw.Mixed || raw.ReasoningAfterContent {
		t.Fatalf("reasoning and content share a chunk (%v) or reasoning follows content (%v)", raw.Mixed, raw.ReasoningAfterContent)
	}
	// Complete yields content only: no reasoning leaks into the text.
	if got, err := c.Complete(context.Background(), "lockchat-think", hello); err != nil || got != ollamaThought {
		t.Fatalf("Complete = %q, %v; want %q", got, err, ollamaThought)
	}
	// Joining the raw deltas, the official client gets both right. Its stream helper keeps
	// the content but not the reasoning, a field it does not know: each delta's
	// reasoning replaces the last, so only the last piece is left.
	ref := refChat(t, base, "raw", req)
	if ref.Reasoning != ollamaReasoning || ref.Content != ollamaThought {
		t.Fatalf("reference client (raw): reasoning %q, content %q", ref.Reasoning, ref.Content)
	}
	ref = refChat(t, base, "helper", req)
	if ref.Content != ollamaThought || ref.Reasoning != " погоде." {
		t.Fatalf("quirk gone? reference client (helper): reasoning %q, content %q", ref.Reasoning, ref.Content)
	}
}

func TestOllamaCLI(t *testing.T) {
	base := ollamaURL(t)
	bin := filepath.Join(t.TempDir(), "lockchat")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/lockchat").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "-base-url", base, "-model", "lockchat-text", hello[0].Content).Output()
	if err != nil || string(out) != ollamaText+"\n" {
		t.Fatalf("CLI printed %q, %v", out, err)
	}
	// -json: one chunk per line as Ollama sent it, then the assembled completion.
	out, err = exec.Command(bin, "-base-url", base, "-model", "lockchat-text", "-json", hello[0].Content).Output()
	if err != nil {
		t.Fatalf("CLI -json: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	var text strings.Builder
	for _, l := range lines[:len(lines)-1] {
		var ch struct {
			Object  string `json:"object"`
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(l), &ch); err != nil || ch.Object != "chat.completion.chunk" {
			t.Fatalf("CLI -json line %q: %v", l, err)
		}
		for _, c := range ch.Choices {
			text.WriteString(c.Delta.Content)
		}
	}
	var final struct {
		Object  string `json:"object"`
		Choices []struct {
			Message      struct{ Content string } `json:"message"`
			FinishReason string                   `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &final); err != nil || final.Object != "chat.completion" ||
		len(final.Choices) != 1 || final.Choices[0].Message.Content != ollamaText || final.Choices[0].FinishReason != "stop" || text.String() != ollamaText {
		t.Fatalf("CLI -json: chunks %q, completion %s (%v)", text.String(), lines[len(lines)-1], err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-base-url", base, "-model", "no-such-model", "-api-key", secretKey, "hi")
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "model 'no-such-model' not found") ||
		strings.Contains(stderr.String(), "RECOGNISABLE") {
		t.Fatalf("CLI with an unknown model: %v, stderr %q", err, stderr.String())
	}
}

// rawResult is what rawChat read from one streamed response.
type rawResult struct {
	Status      int
	ContentType string
	Chunks      int // data events other than [DONE]
	Content     string
	Reasoning   string
	ToolCalls   []rawToolCall
	// FinishReason is the last non-null finish_reason, "" if none came.
	FinishReason string
	Done         bool // [DONE] arrived
	// Mixed reports a chunk with both reasoning and content; ReasoningAfterContent a
	// reasoning chunk after the first content.
	Mixed, ReasoningAfterContent bool
}

// rawToolCall is one tool call as it arrived, with its arguments parsed.
type rawToolCall struct {
	Index int
	ID    string
	Type  string
	Name  string
	Args  map[string]any
	Chunk int // the chunk that carried it
}

// rawChat posts a streamed chat request and reads the answer with net/http and
// encoding/json, checking on the way what every Ollama chunk does: each delta repeats the
// role and has a content field, "" when the chunk carries something else, and each tool
// call arrives whole, in one chunk.
func rawChat(t *testing.T, base string, req map[string]any) rawResult {
	t.Helper()
	body := map[string]any{"stream": true}
	for k, v := range req {
		body[k] = v
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 2 * time.Minute}
	resp, err := hc.Post(strings.TrimRight(base, "/")+"/chat/completions", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := rawResult{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
	if resp.StatusCode != http.StatusOK {
		return r
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			r.Done = true
			continue
		}
		r.Chunks++
		var chunk wireChunk
		if err := json.Unmarshal([]byte(data), &chunk); err != nil {
			t.Fatalf("chunk %d: %v: %s", r.Chunks, err, data)
		}
		for _, ch := range chunk.Choices {
			d := ch.Delta
			if d.Content == nil || d.Role != "assistant" {
				t.Errorf("chunk %d: no content field, or role %q, in %s", r.Chunks, d.Role, data)
			}
			content, reasoning := "", d.Reasoning
			if d.Content != nil {
				content = *d.Content
			}
			r.Mixed = r.Mixed || content != "" && reasoning != ""
			r.ReasoningAfterContent = r.ReasoningAfterContent || reasoning != "" && r.Content != ""
			r.Content += content
			r.Reasoning += reasoning
			for _, c := range d.ToolCalls {
				r.ToolCalls = append(r.ToolCalls, rawToolCall{Index: c.Index, ID: c.ID, Type: c.Type, Name: c.Function.Name,
					Args: parseArgs(t, c.Function.Arguments), Chunk: r.Chunks})
			}
			if ch.FinishReason != nil {
				r.FinishReason = *ch.FinishReason
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	return r
}

// parseArgs parses a tool call's arguments, which must be a whole JSON object.
func parseArgs(t *testing.T, s string) map[string]any {
	t.Helper()
	var args map[string]any
	if err := json.Unmarshal([]byte(s), &args); err != nil {
		t.Fatalf("tool-call arguments %q are not a whole JSON object: %v", s, err)
	}
	return args
}

// refResult is what interop/ollama/reference-chat.mjs printed.
type refResult struct {
	Content   string `json:"content"`
	Reasoning string `json:"reasoning"`
	ToolCalls []struct {
		Index     int    `json:"index"`
		ID        string `json:"id"`
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"tool_calls"`
	FinishReason *string         `json:"finish_reason"`
	Usage        *lockchat.Usage `json:"usage"`
	Chunks       int             `json:"chunks"`
	Error        *struct {
		Status  int    `json:"status"`
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// refChat sends req through the official openai npm client, in mode "raw" (its chunks,
// joined) or "helper" (its stream helper's final message). Without npm's packages it
// skips, except in CI.
func refChat(t *testing.T, base, mode string, req map[string]any) refResult {
	t.Helper()
	if _, err := os.Stat(filepath.Join("interop", "node_modules", "openai")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the openai npm package is missing: run npm ci --prefix interop")
		}
		t.Skip("the openai npm package is missing: run npm ci --prefix interop")
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("node", filepath.Join("interop", "ollama", "reference-chat.mjs"), base, mode, string(b)).Output()
	if err != nil {
		t.Fatalf("reference client: %v", err)
	}
	var r refResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("reference client printed %q: %v", out, err)
	}
	return r
}

// TestOllamaStructured asks for an answer that follows a schema written by SchemaFor.
// Ollama constrains its sampling to the schema, so even the tiny model's answer decodes;
// it is the same streamed and not.
func TestOllamaStructured(t *testing.T) {
	base := ollamaURL(t)
	type sky struct {
		Sunny bool `json:"sunny"`
		Windy bool `json:"windy"`
	}
	schema, err := lockchat.SchemaFor[sky]()
	if err != nil {
		t.Fatal(err)
	}
	c := lockchat.New(lockchat.WithBaseURL(base), lockchat.WithTemperature(0), lockchat.WithMaxTokens(400),
		lockchat.WithJSONSchema("sky", schema, true))
	for _, mode := range []struct {
		name string
		opts []lockchat.Option
	}{{"streamed", nil}, {"without streaming", []lockchat.Option{lockchat.WithoutStreaming()}}} {
		t.Run(mode.name, func(t *testing.T) {
			comp, err := c.Chat(context.Background(), "lockchat-text", hello, mode.opts...)
			if err != nil {
				t.Fatal(err)
			}
			var got sky
			if err := comp.Decode(&got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got != (sky{Sunny: true, Windy: true}) || comp.Choices[0].FinishReason != "stop" {
				t.Errorf("decoded %+v, finish %q", got, comp.Choices[0].FinishReason)
			}
		})
	}
}

// TestOllamaWithoutStreaming reads Ollama's one JSON answer through every call.
func TestOllamaWithoutStreaming(t *testing.T) {
	base := ollamaURL(t)
	c := lockchat.New(lockchat.WithBaseURL(base), lockchat.WithoutStreaming())
	ctx := context.Background()
	var tokens []string
	for tok, err := range c.Stream(ctx, "lockchat-text", hello) {
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	if len(tokens) != 1 || tokens[0] != ollamaText {
		t.Errorf("Stream gave %q, want the whole text as one token", tokens)
	}
	comp, err := c.Chat(ctx, "lockchat-think", hello)
	if err != nil {
		t.Fatal(err)
	}
	m := comp.Message()
	if m.Content != ollamaThought || m.Reasoning != ollamaReasoning || comp.Usage == nil || comp.Usage.CompletionTokens == 0 {
		t.Errorf("Chat: content %q, reasoning %q, usage %+v", m.Content, m.Reasoning, comp.Usage)
	}
}

// TestOllamaModels lists the test models through Client.Models.
func TestOllamaModels(t *testing.T) {
	base := ollamaURL(t)
	models, err := lockchat.New(lockchat.WithBaseURL(base)).Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range models {
		ids = append(ids, m.ID)
	}
	for _, want := range []string{"lockchat-text:latest", "lockchat-tool:latest", "lockchat-think:latest", "lockchat-long:latest", "lockchat-loop:latest", "lockchat-tools2:latest"} {
		if !slices.Contains(ids, want) {
			t.Errorf("models %q lack %q", ids, want)
		}
	}
}

// TestOllamaFailover puts a dead endpoint and one that answers 503 in front of the real
// server, which knows the model by its own name.
func TestOllamaFailover(t *testing.T) {
	base := ollamaURL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/v1"
	ln.Close()
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":{"message":"overloaded","type":"server_error"}}`)
	}))
	defer busy.Close()
	var attempts []int
	// No call here waits out the backoff (each failover is at once), but an endpoint
	// that failed rests for it: long enough for the second call.
	client := lockchat.New(lockchat.WithRetryDelay(5*time.Second, 10*time.Second),
		lockchat.WithTrace(func(ctx context.Context, _ lockchat.CallInfo) (context.Context, *lockchat.Trace) {
			return ctx, &lockchat.Trace{Attempt: func(a lockchat.AttemptInfo) { attempts = append(attempts, a.Endpoint) }}
		}),
		lockchat.WithEndpoints(
			lockchat.Endpoint{BaseURL: dead},
			lockchat.Endpoint{BaseURL: busy.URL + "/v1"},
			lockchat.Endpoint{BaseURL: base, Model: "lockchat-text"},
		))
	comp, err := client.Chat(context.Background(), "gpt-4o-mini", hello)
	if err != nil || comp.Message().Content != ollamaText || comp.Endpoint != 2 {
		t.Fatalf("Chat = %q from endpoint %d, %v; want Ollama's answer from endpoint 2", comp.Message().Content, comp.Endpoint, err)
	}
	if !slices.Equal(attempts, []int{0, 1, 2}) {
		t.Fatalf("attempts at endpoints %v, want 0, 1, 2", attempts)
	}
	// The next call starts at Ollama: the other two are cooling down.
	attempts = nil
	if text, err := client.Complete(context.Background(), "gpt-4o-mini", hello); err != nil || text != ollamaText || !slices.Equal(attempts, []int{2}) {
		t.Fatalf("second call: %q, %v; attempts %v, want Ollama's answer at once", text, err, attempts)
	}
}
