package lockchat_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/lockchat/lockchat"
)

// These tests feed an Accumulator chunks made by hand, as a caller with its own stream
// source would; dialect_test.go feeds it real streams.

func TestAccumulatorZeroValue(t *testing.T) {
	var acc lockchat.Accumulator
	got := acc.Completion()
	if got.ID != "" || len(got.Choices) != 0 || got.Usage != nil || acc.Err() != nil {
		t.Fatalf("empty accumulator: %+v", got)
	}
	if m := got.Message(); m.Role != "assistant" || m.Content != "" {
		t.Fatalf("Message of nothing: %+v", m)
	}
}

func TestAccumulatorRules(t *testing.T) {
	var acc lockchat.Accumulator
	acc.Add(lockchat.Chunk{ID: "a", Model: "m1", Choices: []lockchat.Choice{{Index: 1, Role: "assistant", Content: "second "}}})
	acc.Add(lockchat.Chunk{ID: "a", Choices: []lockchat.Choice{{Index: 0, Content: "first ", ToolCalls: []lockchat.ToolCallDelta{
		{Index: 2, ID: "c2", Name: "g", Arguments: `{"b"`},
		{Index: 0, ID: "c0", Type: "function", Name: "f", Arguments: `{`, Extra: map[string]json.RawMessage{"k": json.RawMessage(`1`)}},
	}}}})
	first := acc.Completion()
	acc.Add(lockchat.Chunk{Model: "m2", Usage: &lockchat.Usage{TotalTokens: 5}, Choices: []lockchat.Choice{{Index: 0, Content: "text", ToolCalls: []lockchat.ToolCallDelta{
		{Index: 0, ID: "other", Name: "", Arguments: `}`, Extra: map[string]json.RawMessage{"k": json.RawMessage(`2`)}},
		{Index: 2, Arguments: `:1`},
		{Index: -1, Arguments: `}`}, // a negative index continues the call of the fragment before
	}}}})
	acc.Add(lockchat.Chunk{Usage: &lockchat.Usage{TotalTokens: 7}, Choices: []lockchat.Choice{{Index: 0, FinishReason: "length"}, {Index: 0, FinishReason: "tool_calls"}}})
	got := acc.Completion()
	want := lockchat.Completion{ID: "a", Model: "m1", Usage: &lockchat.Usage{TotalTokens: 7},
		Choices: []lockchat.CompletionChoice{
			{Index: 0, FinishReason: "tool_calls", Message: lockchat.Message{Role: "assistant", Content: "first text", ToolCalls: []lockchat.ToolCall{
				{ID: "c0", Type: "function", Name: "f", Arguments: `{}`, Extra: map[string]json.RawMessage{"k": json.RawMessage(`1`)}},
				{ID: "c2", Type: "function", Name: "g", Arguments: `{"b":1}`},
			}}},
			{Index: 1, Message: lockchat.Message{Role: "assistant", Content: "second "}},
		},
		Repairs: []lockchat.Repair{
			{Choice: 0, Kind: lockchat.RepairCallChanged, Count: 1},
			{Choice: -1, Kind: lockchat.RepairUsageRepeated, Count: 1},
			{Choice: 0, Kind: lockchat.RepairRoleMissing, Count: 1},
			{Choice: 0, Kind: lockchat.RepairTypeMissing, Count: 1},
		}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("\n got %+v\nwant %+v", got, want)
	}
	// What Completion returned before does not change with later chunks.
	if m := first.Message(); m.Content != "first " || m.ToolCalls[0].Arguments != "{" || first.Usage != nil {
		t.Fatalf("an earlier Completion changed: %+v", first)
	}
	// Nor does what the caller does to a returned completion change the accumulator.
	got.Choices[0].Message.ToolCalls[0].Extra["k"] = json.RawMessage(`3`)
	got.Usage.TotalTokens = 0
	if again := acc.Completion(); string(again.Choices[0].Message.ToolCalls[0].Extra["k"]) != "1" || again.Usage.TotalTokens != 7 {
		t.Fatalf("the accumulator shares memory with a completion it returned: %+v", again)
	}
}

func TestAccumulatorMaxSize(t *testing.T) {
	acc := lockchat.Accumulator{MaxSize: 8}
	acc.Add(lockchat.Chunk{Choices: []lockchat.Choice{{Content: "12345"}}})
	acc.Add(lockchat.Chunk{Choices: []lockchat.Choice{{Reasoning: "6789"}}})
	acc.Add(lockchat.Chunk{Choices: []lockchat.Choice{{Content: "x"}}})
	var tooLarge *lockchat.CompletionTooLargeError
	if err := acc.Err(); !errors.As(err, &tooLarge) || tooLarge.Limit != 8 {
		t.Fatalf("Err = %v", err)
	}
	if m := acc.Completion().Message(); m.Content != "12345" || m.Reasoning != "" {
		t.Fatalf("kept %+v past the limit", m)
	}
	unlimited := lockchat.Accumulator{MaxSize: -1}
	unlimited.Add(lockchat.Chunk{Choices: []lockchat.Choice{{Content: string(make([]byte, lockchat.DefaultMaxCompletionSize+1))}}})
	if unlimited.Err() != nil {
		t.Fatal(unlimited.Err())
	}
}
