package lockchat_test

import (
	"context"
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
