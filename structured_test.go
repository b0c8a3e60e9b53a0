package lockchat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

type weather struct {
	City    string  `json:"city"`
	Celsius float64 `json:"celsius"`
	Sunny   bool    `json:"sunny"`
}

// A structured answer: the schema comes from a Go type, and the streamed answer decodes
// into it.
func ExampleCompletion_Decode() {
	srv := lockchattest.NewServer(lockchattest.Reply{
		Tokens: []string{`{"city":"Ber`, `lin","celsius":21.5,`, `"sunny":true}`},
	})
	defer srv.Close()

	type Weather struct {
		City    string  `json:"city"`
		Celsius float64 `json:"celsius"`
		Sunny   bool    `json:"sunny"`
	}
	schema, err := lockchat.SchemaFor[Weather]()
	if err != nil {
		fmt.Println(err)
		return
	}
	client := lockchat.New(lockchat.WithBaseURL(srv.URL))
	completion, err := client.Chat(context.Background(), "gpt-4o",
		[]lockchat.Message{{Role: "user", Content: "The weather in Berlin?"}},
		lockchat.WithJSONSchema("weather", schema, true))
	if err != nil {
		fmt.Println(err)
		return
	}
	var w Weather
	if err := completion.Decode(&w); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", w)
	// Output:
	// {City:Berlin Celsius:21.5 Sunny:true}
}

func TestWithJSONSchemaPayload(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{`{}`}})
	defer srv.Close()
	schema, err := lockchat.SchemaFor[weather]()
	if err != nil {
		t.Fatal(err)
	}
	client := lockchat.New(lockchat.WithBaseURL(srv.URL))
	ctx := context.Background()
	if _, err := client.Chat(ctx, "m", nil, lockchat.WithJSONSchema("weather", schema, true), lockchat.WithMaxTokens(50)); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Chat(ctx, "m", nil, lockchat.WithJSONObject()); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	var first struct {
		ResponseFormat struct {
			Type       string `json:"type"`
			JSONSchema struct {
				Name   string          `json:"name"`
				Schema json.RawMessage `json:"schema"`
				Strict bool            `json:"strict"`
			} `json:"json_schema"`
		} `json:"response_format"`
		MaxTokens int `json:"max_tokens"`
	}
	if err := json.Unmarshal(reqs[0].Body, &first); err != nil {
		t.Fatal(err)
	}
	rf := first.ResponseFormat
	if rf.Type != "json_schema" || rf.JSONSchema.Name != "weather" || !rf.JSONSchema.Strict || string(rf.JSONSchema.Schema) != string(schema) {
		t.Errorf("response_format = %+v, schema %s", rf, rf.JSONSchema.Schema)
	}
	if first.MaxTokens != 50 {
		t.Errorf("max_tokens = %d, want 50", first.MaxTokens)
	}
	if got := string(mustMarshal(t, reqs[1].Payload["response_format"])); got != `{"type":"json_object"}` {
		t.Errorf("response_format = %s", got)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCompletionDecode(t *testing.T) {
	ctx := context.Background()
	chat := func(t *testing.T, r lockchattest.Reply) lockchat.Completion {
		t.Helper()
		srv := lockchattest.NewServer(r)
		defer srv.Close()
		c, err := lockchat.New(lockchat.WithBaseURL(srv.URL)).Chat(ctx, "m", nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	fragments := []string{`{"ci`, `ty":"Осло","cel`, `sius":-3,"sunny":false}`}
	want := weather{City: "Осло", Celsius: -3}

	t.Run("after Chat", func(t *testing.T) {
		var w weather
		if err := chat(t, lockchattest.Reply{Tokens: fragments}).Decode(&w); err != nil || w != want {
			t.Errorf("got %+v, %v", w, err)
		}
	})

	t.Run("after an Accumulator fed from StreamChunks", func(t *testing.T) {
		srv := lockchattest.NewServer(lockchattest.Reply{Tokens: fragments})
		defer srv.Close()
		var acc lockchat.Accumulator
		for ch, err := range lockchat.New(lockchat.WithBaseURL(srv.URL)).StreamChunks(ctx, "m", nil) {
			if err != nil {
				t.Fatal(err)
			}
			acc.Add(ch)
		}
		var w weather
		if err := acc.Completion().Decode(&w); err != nil || w != want {
			t.Errorf("got %+v, %v", w, err)
		}
	})

	t.Run("refusal", func(t *testing.T) {
		var w weather
		err := chat(t, lockchattest.Reply{Refusal: []string{"I can't ", "help with that."}}).Decode(&w)
		var nt *lockchat.NoTextError
		if !errors.As(err, &nt) || !errors.Is(err, lockchat.ErrRefusal) || nt.Message.Refusal != "I can't help with that." {
			t.Errorf("err = %v, want a *NoTextError matching ErrRefusal", err)
		}
	})

	t.Run("tool calls", func(t *testing.T) {
		var w weather
		err := chat(t, lockchattest.Reply{ToolCalls: []lockchat.ToolCall{{ID: "c1", Name: "f", Arguments: "{}"}}}).Decode(&w)
		if !errors.Is(err, lockchat.ErrToolCalls) {
			t.Errorf("err = %v, want ErrToolCalls", err)
		}
	})

	t.Run("cut at length", func(t *testing.T) {
		var w weather
		err := chat(t, lockchattest.Reply{Tokens: fragments[:2], FinishReason: "length"}).Decode(&w)
		var de *lockchat.DecodeError
		if !errors.Is(err, lockchat.ErrTruncatedJSON) || !errors.As(err, &de) || !de.Truncated {
			t.Fatalf("err = %v, want a truncated *DecodeError", err)
		}
		if !strings.Contains(err.Error(), `"length"`) || !strings.Contains(err.Error(), "Осло") {
			t.Errorf("error %q should say length and quote the content", err)
		}
		var syn *json.SyntaxError
		if !errors.As(err, &syn) {
			t.Errorf("err = %v, want encoding/json's error inside", err)
		}
	})

	t.Run("invalid JSON", func(t *testing.T) {
		long := "Sure! Here is the weather: " + strings.Repeat("sunny ", 200)
		var w weather
		err := chat(t, lockchattest.Reply{Tokens: []string{long}}).Decode(&w)
		var de *lockchat.DecodeError
		if !errors.As(err, &de) || errors.Is(err, lockchat.ErrTruncatedJSON) {
			t.Fatalf("err = %v, want a *DecodeError, not truncated", err)
		}
		if !strings.HasPrefix(err.Error(), "lockchat: the answer is not the JSON asked for") || strings.Count(err.Error(), "lockchat:") != 1 {
			t.Errorf("error %q", err)
		}
		if len(de.Excerpt) > 300 || !strings.HasPrefix(de.Excerpt, "Sure! Here is") || !strings.HasSuffix(de.Excerpt, "…") {
			t.Errorf("excerpt %q is not a bounded excerpt", de.Excerpt)
		}
	})

	t.Run("wrong type", func(t *testing.T) {
		var w weather
		err := chat(t, lockchattest.Reply{Tokens: []string{`{"city":1}`}}).Decode(&w)
		var ute *json.UnmarshalTypeError
		if !errors.As(err, &ute) {
			t.Errorf("err = %v, want a *json.UnmarshalTypeError inside", err)
		}
	})

	t.Run("nil target", func(t *testing.T) {
		err := chat(t, lockchattest.Reply{Tokens: []string{`{}`}}).Decode(nil)
		if err == nil || !strings.HasPrefix(err.Error(), "lockchat: ") {
			t.Errorf("err = %v", err)
		}
	})
}
