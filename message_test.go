package lockchat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

func TestMessageMarshal(t *testing.T) {
	cases := []struct {
		name string
		msg  lockchat.Message
		want string
	}{
		{"plain user message, as before", lockchat.Message{Role: "user", Content: "hi"},
			`{"role":"user","content":"hi"}`},
		{"empty content is still sent", lockchat.Message{Role: "assistant"},
			`{"role":"assistant","content":""}`},
		{"escapes", lockchat.Message{Role: "user", Content: "q\"\\\n\t\x01 <&> \u2028 é 😀"},
			`{"role":"user","content":"q\"\\\n\t\u0001 <&> \u2028 é 😀"}`},
		{"invalid UTF-8 becomes U+FFFD", lockchat.Message{Role: "user", Content: "a\xffb"},
			`{"role":"user","content":"a\ufffdb"}`},
		{"name", lockchat.Message{Role: "user", Name: "ann", Content: "x"},
			`{"role":"user","content":"x","name":"ann"}`},
		{"parts replace content", lockchat.Message{Role: "user", Content: "ignored", Parts: []lockchat.Part{
			lockchat.TextPart("What is this?"), lockchat.ImagePart("data:image/png;base64,iVBORw0KGgo=")}},
			`{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}`},
		{"assistant tool calls with unmodelled keys", lockchat.Message{Role: "assistant", ToolCalls: []lockchat.ToolCall{
			{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`,
				Extra: map[string]json.RawMessage{"extra_content": json.RawMessage(`{"google":{"thought_signature":"sig"}}`)}},
			{ID: "call_2", Type: "function", Name: "get_time", Arguments: `{}`}}},
			`{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"},"extra_content":{"google":{"thought_signature":"sig"}}},{"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]}`},
		{"tool result", lockchat.Message{Role: "tool", ToolCallID: "call_1", Content: `{"temp":21}`},
			`{"role":"tool","content":"{\"temp\":21}","tool_call_id":"call_1"}`},
		{"reasoning from the caller goes as reasoning_content, refusal as refusal",
			lockchat.Message{Role: "assistant", Reasoning: "thought", Refusal: "no"},
			`{"role":"assistant","content":"","reasoning_content":"thought","refusal":"no"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := marshalPlain(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Fatalf("\n got %s\nwant %s", b, tc.want)
			}
			// It decodes back to a message that encodes to the same JSON value.
			var back lockchat.Message
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			again, _ := marshalPlain(back)
			var v1, v2 any
			_ = json.Unmarshal(b, &v1)
			_ = json.Unmarshal(again, &v2)
			if !reflect.DeepEqual(v1, v2) {
				t.Fatalf("round trip:\n got %s\nwant %s", again, b)
			}
		})
	}
}

// marshalPlain encodes v as lockchat sends it: without encoding/json's HTML escaping.
func marshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func TestMessageBadExtraIsAnError(t *testing.T) {
	m := lockchat.Message{Role: "assistant", ToolCalls: []lockchat.ToolCall{{ID: "c", Extra: map[string]json.RawMessage{"k": json.RawMessage("{oops")}}}}
	if _, err := json.Marshal(m); err == nil {
		t.Fatal("a tool call with invalid Extra JSON was encoded")
	}
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"x"}})
	defer srv.Close()
	_, err := lockchat.New(lockchat.WithBaseURL(srv.URL)).Complete(context.Background(), "m", []lockchat.Message{m})
	if err == nil || len(srv.Requests()) != 0 {
		t.Fatalf("err = %v, %d requests sent", err, len(srv.Requests()))
	}
}

func TestMessageUnmarshalShapes(t *testing.T) {
	cases := []struct {
		name, in string
		want     lockchat.Message
	}{
		{"null content", `{"role":"assistant","content":null,"refusal":"no"}`, lockchat.Message{Role: "assistant", Refusal: "no"}},
		{"reasoning_content", `{"role":"assistant","content":"a","reasoning_content":"r"}`, lockchat.Message{Role: "assistant", Content: "a", Reasoning: "r"}},
		{"a part of another type survives", `{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAA","format":"wav"}}]}`,
			lockchat.Message{Role: "user"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m lockchat.Message
			if err := json.Unmarshal([]byte(tc.in), &m); err != nil {
				t.Fatal(err)
			}
			parts := m.Parts
			m.Parts = nil
			if !reflect.DeepEqual(m, tc.want) {
				t.Fatalf("got %+v, want %+v", m, tc.want)
			}
			if len(parts) > 0 {
				m.Parts = parts
				b, _ := json.Marshal(m)
				if string(b) != tc.in {
					t.Fatalf("re-encoded as %s", b)
				}
			}
		})
	}
	var m lockchat.Message
	if err := json.Unmarshal([]byte(`{"role":"user","content":5}`), &m); err == nil {
		t.Fatal("a numeric content was accepted")
	}
}

func TestRequestFieldsForTools(t *testing.T) {
	srv := lockchattest.NewServer(lockchattest.Reply{Tokens: []string{"ok"}})
	defer srv.Close()
	weather := lockchat.Tool{Name: "get_weather", Description: "Weather in a city.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}
	calls := []struct {
		name string
		opts []lockchat.Option
		want string
	}{
		{"tools and usage", []lockchat.Option{lockchat.WithTools(weather), lockchat.WithUsage()},
			`{"messages":[{"role":"user","content":"hi"}],"model":"m","stream":true,"stream_options":{"include_usage":true},"temperature":0.7,"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather in a city.","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]}`},
		{"required", []lockchat.Option{lockchat.WithTools(lockchat.Tool{Name: "f", Strict: true}), lockchat.WithToolChoice(lockchat.ToolChoiceRequired)},
			`{"messages":[{"role":"user","content":"hi"}],"model":"m","stream":true,"temperature":0.7,"tool_choice":"required","tools":[{"type":"function","function":{"name":"f","strict":true}}]}`},
		{"auto and none", []lockchat.Option{lockchat.WithToolChoice(lockchat.ToolChoiceNone)},
			`{"messages":[{"role":"user","content":"hi"}],"model":"m","stream":true,"temperature":0.7,"tool_choice":"none"}`},
		{"a named function", []lockchat.Option{lockchat.WithToolChoice(lockchat.ToolChoiceFunction("get_weather"))},
			`{"messages":[{"role":"user","content":"hi"}],"model":"m","stream":true,"temperature":0.7,"tool_choice":{"type":"function","function":{"name":"get_weather"}}}`},
		{"WithParam overrides an option's field", []lockchat.Option{lockchat.WithToolChoice(lockchat.ToolChoiceAuto), lockchat.WithParam("tool_choice", "none")},
			`{"messages":[{"role":"user","content":"hi"}],"model":"m","stream":true,"temperature":0.7,"tool_choice":"none"}`},
	}
	c := lockchat.New(lockchat.WithBaseURL(srv.URL))
	for i, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Complete(context.Background(), "m", []lockchat.Message{{Role: "user", Content: "hi"}}, tc.opts...); err != nil {
				t.Fatal(err)
			}
			if got := string(srv.Requests()[i].Body); got != tc.want {
				t.Fatalf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestPartJSONRoundTrip checks that a Part encodes in the OpenAI shape, alone as in a
// message, and decodes back to the same part.
func TestPartJSONRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		part lockchat.Part
		want string
	}{
		{lockchat.ImagePart("https://example.com/cat.png"), `{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}`},
		{lockchat.TextPart("Что на фото?"), `{"type":"text","text":"Что на фото?"}`},
	} {
		b, err := json.Marshal(tc.part)
		if err != nil || string(b) != tc.want {
			t.Errorf("json.Marshal(%+v) = %s, %v; want %s", tc.part, b, err, tc.want)
		}
		var back lockchat.Part
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, tc.part) {
			t.Errorf("round trip of %s gave %+v, %v", b, back, err)
		}
		// Inside a message, the same encoding.
		m, err := json.Marshal(lockchat.Message{Role: "user", Parts: []lockchat.Part{tc.part}})
		if err != nil || !strings.Contains(string(m), `"content":[`+tc.want+`]`) {
			t.Errorf("message %s, %v", m, err)
		}
	}
	// A part of another type goes back as it came.
	raw := `{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}`
	var p lockchat.Part
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	if b, err := json.Marshal(p); err != nil || string(b) != raw {
		t.Errorf("json.Marshal = %s, %v; want %s", b, err, raw)
	}
}

// TestCustomToolCallIsAssembledAndSentBackAsItCame checks an OpenAI custom tool call:
// custom.input streamed in fragments is joined, and the call goes back without an empty
// function object beside custom.
func TestCustomToolCallIsAssembledAndSentBackAsItCame(t *testing.T) {
	events := []string{
		`{"id":"x","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"custom","custom":{"name":"code_exec","input":""}}]}}]}`,
		`{"id":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"custom":{"input":"print("}}]}}]}`,
		`{"id":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"custom":{"input":"\"hi\")"}}]}}]}`,
		`{"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
	}
	base := newRawServer(t, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, e := range events {
			io.WriteString(w, "data: "+e+"\n\n")
		}
		io.WriteString(w, "data: [DONE]\n\n")
	})
	got, err := lockchat.New(lockchat.WithBaseURL(base)).Chat(context.Background(), "m", nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := got.Message().ToolCalls
	if len(calls) != 1 || calls[0].Type != "custom" || string(calls[0].Extra["custom"]) != `{"input":"print(\"hi\")","name":"code_exec"}` {
		t.Fatalf("calls %+v", calls)
	}
	b, err := calls[0].MarshalJSON()
	if want := `{"id":"call_1","type":"custom","custom":{"input":"print(\"hi\")","name":"code_exec"}}`; err != nil || string(b) != want {
		t.Fatalf("sent back as\n %s, %v\nwant %s", b, err, want)
	}
}

// TestCustomToolCallSendsBackItsKeys: an input that stays "" is kept, one the call never
// had is not added.
func TestCustomToolCallSendsBackItsKeys(t *testing.T) {
	for in, want := range map[string]string{`{"name":"f","input":""}`: `{"input":"","name":"f"}`, `{"name":"f"}`: `{"name":"f"}`} {
		var acc lockchat.Accumulator
		acc.Add(lockchat.Chunk{Choices: []lockchat.Choice{{ToolCalls: []lockchat.ToolCallDelta{
			{ID: "c", Type: "custom", Extra: map[string]json.RawMessage{"custom": json.RawMessage(in)}},
		}}}})
		if got := string(acc.Completion().Message().ToolCalls[0].Extra["custom"]); got != want {
			t.Fatalf("%s assembled to %s, want %s", in, got, want)
		}
	}
}

// TestNoTextErrorNamesACustomCall checks that a custom tool call is named by its custom
// object's name in the NoTextError of an answer without text.
func TestNoTextErrorNamesACustomCall(t *testing.T) {
	base := newRawServer(t, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","type":"custom","custom":{"name":"code_exec","input":"x"}}]},"finish_reason":"tool_calls"}]}`+"\n\ndata: [DONE]\n\n")
	})
	_, err := lockchat.New(lockchat.WithBaseURL(base)).Complete(context.Background(), "m", nil)
	if !errors.Is(err, lockchat.ErrToolCalls) || !strings.Contains(err.Error(), "(code_exec)") {
		t.Fatalf("err = %v", err)
	}
}
