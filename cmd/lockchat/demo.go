package main

import (
	"time"

	"github.com/lockchat/lockchat"
	"github.com/lockchat/lockchat/lockchattest"
)

// This file is the -demo tour: what the in-process fake server answers, one reply per
// message, the last one repeating.

// demoDelay is the pause before each streamed piece, slow enough to watch.
const demoDelay = 40 * time.Millisecond

// demoReplies show in turn streaming text with reasoning, a tool call, and an answer
// that closes the tour; each with usage. Each piece is streamed after the given pause.
func demoReplies(delay time.Duration) []lockchattest.Reply {
	replies := []lockchattest.Reply{
		{
			Reasoning: []string{"The user ", "says hello. ", "I will greet them ", "and show how ", "an answer streams."},
			Tokens: []string{"Привет", "! ", "This answer ", "streams ", "token ", "by ", "token", " 🙂 ",
				"The text before it ", "was my reasoning, ", "set apart ", "and shown as it arrived. ", "Send another message ", "to see a tool call."},
			Usage: &lockchat.Usage{PromptTokens: 14, CompletionTokens: 41, TotalTokens: 55, ReasoningTokens: 12},
		},
		{
			Tokens:           []string{"Let me ", "look up ", "the weather ", "in Berlin."},
			ToolCalls:        []lockchat.ToolCall{{ID: "call_demo_1", Name: "get_weather", Arguments: `{"city":"Berlin","unit":"celsius"}`}},
			ArgumentFragment: 8,
			Usage:            &lockchat.Usage{PromptTokens: 70, CompletionTokens: 23, TotalTokens: 93},
		},
		{
			Tokens: []string{"That was ", "the tour: ", "streamed text, ", "reasoning, ", "a tool call ", "and usage. ",
				"This fake server ", "answers every ", "further message ", "with this text. ", "Try /retry, /help, ",
				"or a message ", "between \"\"\" lines. ", "/bye leaves."},
			Usage: &lockchat.Usage{PromptTokens: 120, CompletionTokens: 38, TotalTokens: 158},
		},
	}
	for i := range replies {
		replies[i].Delay = delay
	}
	return replies
}
