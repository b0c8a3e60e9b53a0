package lockchat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// Stream yields the answer token by token, as the server sends it.
func ExampleClient_Stream() {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"Привет", "! ", "Всё ", "хорошо 🙂"}})
	defer srv.Close()

	client := lockchat.New(lockchat.WithBaseURL(srv.URL))
	messages := []lockchat.Message{{Role: "user", Content: "Привет! Как дела?"}}
	for token, err := range client.Stream(context.Background(), lockchat.ModelGPT35Turbo, messages) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("%q\n", token)
	}
	// Output:
	// "Привет"
	// "! "
	// "Всё "
	// "хорошо 🙂"
}

// Complete returns the whole answer; a model that "does not exist" at first is retried.
func ExampleClient_Complete() {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"Hello", ", world"}, ModelNotFound: 1})
	defer srv.Close()

	client := lockchat.New(lockchat.WithBaseURL(srv.URL))
	text, err := client.Complete(context.Background(), lockchat.ModelGPT4,
		[]lockchat.Message{{Role: "user", Content: "Say hello"}})
	fmt.Println(text, err)
	fmt.Println("requests:", len(srv.Requests()))
	// Output:
	// Hello, world <nil>
	// requests: 2
}

// StreamChunks gives the role, the finish reason and the usage along with the text.
func ExampleClient_StreamChunks() {
	srv := lockchattest.NewServer(lockchattest.Reply{
		Tokens: []string{"Hi"},
		Usage:  &lockchat.Usage{PromptTokens: 5, CompletionTokens: 1, TotalTokens: 6},
	})
	defer srv.Close()

	client := lockchat.New(lockchat.WithBaseURL(srv.URL))
	for chunk, err := range client.StreamChunks(context.Background(), "gpt-4", nil) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		for _, c := range chunk.Choices {
			fmt.Printf("choice %d: role=%q content=%q finish=%q\n", c.Index, c.Role, c.Content, c.FinishReason)
		}
		if chunk.Usage != nil {
			fmt.Println("total tokens:", chunk.Usage.TotalTokens)
		}
	}
	// Output:
	// choice 0: role="assistant" content="" finish=""
	// choice 0: role="" content="Hi" finish=""
	// choice 0: role="" content="" finish="stop"
	// total tokens: 6
}

// Errors from the server are *APIError values; a missing model also matches
// ErrModelNotFound.
func ExampleAPIError() {
	srv := lockchattest.NewServer(lockchattest.Reply{ModelNotFound: 100})
	defer srv.Close()

	client := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithMaxRetries(0))
	_, err := client.Complete(context.Background(), "gpt-5", nil)
	var apiErr *lockchat.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, errors.Is(err, lockchat.ErrModelNotFound))
	}
	// Output:
	// 404 model_not_found true
}

// Chat assembles the whole assistant turn. Here the model calls a tool; the caller runs
// it and sends the result back with the assistant's turn, and the model answers.
func ExampleClient_Chat() {
	srv := lockchattest.NewServer(
		lockchattest.Reply{ToolCalls: []lockchat.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}}, ArgumentFragment: 4},
		lockchattest.Reply{Tokens: []string{"It is 21 °C ", "in Paris."}},
	)
	defer srv.Close()

	client := lockchat.New(lockchat.WithBaseURL(srv.URL), lockchat.WithTools(lockchat.Tool{
		Name:        "get_weather",
		Description: "The current weather in a city.",
		Parameters:  json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`),
	}))
	ctx := context.Background()
	messages := []lockchat.Message{{Role: "user", Content: "What is the weather in Paris?"}}
	for {
		completion, err := client.Chat(ctx, lockchat.ModelGPT4, messages)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		answer := completion.Message()
		messages = append(messages, answer)
		if len(answer.ToolCalls) == 0 {
			fmt.Println(answer.Content)
			return
		}
		for _, call := range answer.ToolCalls {
			fmt.Printf("calling %s(%s)\n", call.Name, call.Arguments)
			result := `{"temperature":21}` // the tool's answer
			messages = append(messages, lockchat.Message{Role: "tool", ToolCallID: call.ID, Content: result})
		}
	}
	// Output:
	// calling get_weather({"city":"Paris"})
	// It is 21 °C in Paris.
}

// An Accumulator assembles chunks while the caller shows them as they arrive: here the
// reasoning of a reasoning model, then its answer, then the usage.
func ExampleAccumulator() {
	srv := lockchattest.NewServer(lockchattest.Reply{
		Reasoning: []string{"9.11 < 9.9, ", "so 9.9."},
		Tokens:    []string{"9.9 is ", "larger."},
		Usage:     &lockchat.Usage{PromptTokens: 12, CompletionTokens: 20, TotalTokens: 32, ReasoningTokens: 8},
	})
	defer srv.Close()

	client := lockchat.New(lockchat.WithBaseURL(srv.URL))
	messages := []lockchat.Message{{Role: "user", Content: "Which is larger, 9.11 or 9.9?"}}
	var acc lockchat.Accumulator
	for chunk, err := range client.StreamChunks(context.Background(), "deepseek-reasoner", messages, lockchat.WithUsage()) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		acc.Add(chunk)
		if err := acc.Err(); err != nil { // the answer passed acc.MaxSize
			fmt.Println("error:", err)
			return
		}
		for _, c := range chunk.Choices {
			if c.Reasoning != "" {
				fmt.Printf("thinking: %q\n", c.Reasoning)
			}
			if c.Content != "" {
				fmt.Printf("answer: %q\n", c.Content)
			}
		}
	}
	completion := acc.Completion()
	fmt.Printf("reasoning %q, content %q, finish %q\n", completion.Message().Reasoning, completion.Message().Content, completion.Choices[0].FinishReason)
	fmt.Println("tokens:", completion.Usage.TotalTokens, "of which reasoning:", completion.Usage.ReasoningTokens)
	// Output:
	// thinking: "9.11 < 9.9, "
	// thinking: "so 9.9."
	// answer: "9.9 is "
	// answer: "larger."
	// reasoning "9.11 < 9.9, so 9.9.", content "9.9 is larger.", finish "stop"
	// tokens: 32 of which reasoning: 8
}

// WithEndpoints serves a call from a list of endpoints: here the primary is
// overloaded, so the fallback, which knows the model by another name, answers.
func ExampleWithEndpoints() {
	primary := lockchattest.NewServer(lockchattest.Reply{Status: 503, Error: lockchattest.ErrorBody{Message: "overloaded"}})
	defer primary.Close()
	fallback := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"Hello from the fallback"}})
	defer fallback.Close()

	client := lockchat.New(lockchat.WithEndpoints(
		lockchat.Endpoint{BaseURL: primary.URL, APIKey: "key-of-the-primary"},
		lockchat.Endpoint{BaseURL: fallback.URL, Model: "llama3.2"},
	))
	comp, err := client.Chat(context.Background(), "gpt-4o-mini", []lockchat.Message{{Role: "user", Content: "Hello"}})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(comp.Message().Content)
	fmt.Println("answered by endpoint", comp.Endpoint, "as", fallback.Requests()[0].Model)
	// Output:
	// Hello from the fallback
	// answered by endpoint 1 as llama3.2
}
