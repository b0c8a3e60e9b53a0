package lockchat

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// The bodies below are written for these tests after the servers' own documentation and
// source (each case names its server), one per server habit: what each server sends for
// tool calls, reasoning, refusals and usage; the README's rule table lists the habits. Each is assembled by
// Chat and by an Accumulator fed from StreamChunks, whole, one byte a read and cut at
// random, and must give the same Completion every time.

type dialectCase struct {
	name string
	body string
	want Completion
}

// asst builds an assistant message.
func asst(content string, calls ...ToolCall) Message {
	return Message{Role: "assistant", Content: content, ToolCalls: calls}
}

func call(id, name, args string) ToolCall {
	return ToolCall{ID: id, Type: "function", Name: name, Arguments: args}
}

func one(m Message, finish string) []CompletionChoice {
	return []CompletionChoice{{Index: 0, Message: m, FinishReason: finish}}
}

func withReasoning(m Message, text, field string) Message {
	m.Reasoning = text
	if field == fieldReasoning {
		m.reasoningField = field
	}
	return m
}

var weatherCalls = []ToolCall{
	call("call_aB1", "get_weather", `{"city":"Paris"}`),
	call("call_cD2", "get_time", `{"tz":"Europe/Paris"}`),
}

var dialectCases = []dialectCase{
	{name: "openai parallel tool calls, obfuscation, usage chunk",
		body: events(`
{"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_a7d06e42a7","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"xK3"}
{"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_a7d06e42a7","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_aB1","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"q"}
{"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_a7d06e42a7","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Zt09"}
{"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_a7d06e42a7","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\":\"Paris\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"b"}
{"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_a7d06e42a7","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_cD2","type":"function","function":{"name":"get_time","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Tf3w"}
{"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_a7d06e42a7","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":"}}]},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Lq"}
{"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_a7d06e42a7","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"Europe/Paris\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"a8"}
{"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_a7d06e42a7","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null,"obfuscation":"Kx"}
{"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_a7d06e42a7","choices":[],"usage":{"prompt_tokens":80,"completion_tokens":40,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":64,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}},"obfuscation":"Yz"}
[DONE]`),
		want: Completion{ID: "chatcmpl-A1", Model: "gpt-4o-2024-08-06", Choices: one(asst("", weatherCalls...), "tool_calls"),
			Usage: &Usage{PromptTokens: 80, CompletionTokens: 40, TotalTokens: 120, CachedTokens: 64}}},

	{name: "openai refusal",
		body: events(`
{"id":"chatcmpl-R","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":""},"logprobs":null,"finish_reason":null}]}
{"id":"chatcmpl-R","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"refusal":"I'm sorry,"},"logprobs":null,"finish_reason":null}]}
{"id":"chatcmpl-R","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"refusal":" I can't help with that."},"logprobs":null,"finish_reason":null}]}
{"id":"chatcmpl-R","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}
[DONE]`),
		want: Completion{ID: "chatcmpl-R", Model: "gpt-4o",
			Choices: one(Message{Role: "assistant", Refusal: "I'm sorry, I can't help with that."}, "stop")}},

	{name: "openai role and tool call in one chunk, then content",
		body: events(`
{"id":"c","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_x","type":"function","function":{"name":"lookup","arguments":"{}"}}]},"finish_reason":null}]}
{"id":"c","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Looking "},"finish_reason":null}]}
{"id":"c","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"it up."},"finish_reason":null}]}
{"id":"c","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
[DONE]`),
		want: Completion{ID: "c", Model: "gpt-4o", Choices: one(asst("Looking it up.", call("call_x", "lookup", "{}")), "tool_calls")}},

	{name: "azure filter results, id-less annotation chunk, choice without delta",
		body: events(`
{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"prompt_index":0}]}
{"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1730000000,"id":"chatcmpl-Az","model":"gpt-4o-mini","object":"chat.completion.chunk","system_fingerprint":"fp_b"}
{"choices":[{"content_filter_results":{},"delta":{"tool_calls":[{"function":{"arguments":"","name":"get_weather"},"id":"call_az","index":0,"type":"function"}]},"finish_reason":null,"index":0,"logprobs":null}],"created":1730000000,"id":"chatcmpl-Az","model":"gpt-4o-mini","object":"chat.completion.chunk","system_fingerprint":"fp_b"}
{"choices":[{"content_filter_results":{},"delta":{"tool_calls":[{"function":{"arguments":"{\"city\":\"Oslo\"}"},"index":0}]},"finish_reason":null,"index":0,"logprobs":null}],"created":1730000000,"id":"chatcmpl-Az","model":"gpt-4o-mini","object":"chat.completion.chunk","system_fingerprint":"fp_b"}
{"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"tool_calls","index":0,"logprobs":null}],"created":1730000000,"id":"chatcmpl-Az","model":"gpt-4o-mini","object":"chat.completion.chunk","system_fingerprint":"fp_b"}
{"choices":[{"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":10},"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"finish_reason":null,"index":0}],"created":0,"id":"","model":"","object":""}
[DONE]`),
		want: Completion{ID: "chatcmpl-Az", Model: "gpt-4o-mini",
			Choices: one(asst("", call("call_az", "get_weather", `{"city":"Oslo"}`)), "tool_calls")}},

	{name: "vllm reasoning_content, opening without arguments, last fragment on the finish chunk",
		body: events(`
{"id":"chatcmpl-v","object":"chat.completion.chunk","created":1,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}
{"id":"chatcmpl-v","object":"chat.completion.chunk","created":1,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"reasoning_content":"The user wants"},"logprobs":null,"finish_reason":null}]}
{"id":"chatcmpl-v","object":"chat.completion.chunk","created":1,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"reasoning_content":" the weather."},"logprobs":null,"finish_reason":null}]}
{"id":"chatcmpl-v","object":"chat.completion.chunk","created":1,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"tool_calls":[{"id":"chatcmpl-tool-9f1c2e","type":"function","index":0,"function":{"name":"get_weather"}}]},"logprobs":null,"finish_reason":null}]}
{"id":"chatcmpl-v","object":"chat.completion.chunk","created":1,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":""}}]},"logprobs":null,"finish_reason":null}]}
{"id":"chatcmpl-v","object":"chat.completion.chunk","created":1,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": "}}]},"logprobs":null,"finish_reason":null}]}
{"id":"chatcmpl-v","object":"chat.completion.chunk","created":1,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Rome\"}"}}]},"logprobs":null,"finish_reason":"tool_calls","stop_reason":null}]}
{"id":"chatcmpl-v","object":"chat.completion.chunk","created":1,"model":"Qwen/Qwen3-8B","choices":[],"usage":{"prompt_tokens":200,"total_tokens":230,"completion_tokens":30}}
[DONE]`),
		want: Completion{ID: "chatcmpl-v", Model: "Qwen/Qwen3-8B",
			Choices: one(withReasoning(asst("", call("chatcmpl-tool-9f1c2e", "get_weather", `{"city": "Rome"}`)), "The user wants the weather.", ""), "tool_calls"),
			Usage:   &Usage{PromptTokens: 200, CompletionTokens: 30, TotalTokens: 230}}},

	{name: "vllm transition release: the same reasoning under both names",
		body: events(`
{"id":"t","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}
{"id":"t","model":"m","choices":[{"index":0,"delta":{"reasoning":"Two","reasoning_content":"Two"}}]}
{"id":"t","model":"m","choices":[{"index":0,"delta":{"reasoning":" plus two.","reasoning_content":" plus two."}}]}
{"id":"t","model":"m","choices":[{"index":0,"delta":{"content":"4"}}]}
{"id":"t","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}
[DONE]`),
		want: Completion{ID: "t", Model: "m", Choices: one(withReasoning(asst("4"), "Two plus two.", ""), "stop")}},

	{name: "sglang: id and type on every fragment, name null after the first, explicit nulls",
		body: events(`
{"id":"s1","object":"chat.completion.chunk","created":1,"model":"qwen","choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning_content":null,"tool_calls":null},"logprobs":null,"finish_reason":null,"matched_stop":null}],"usage":null}
{"id":"s1","object":"chat.completion.chunk","created":1,"model":"qwen","choices":[{"index":0,"delta":{"role":null,"content":null,"reasoning_content":null,"tool_calls":[{"id":"call_s","index":0,"type":"function","function":{"name":"search","arguments":""}}]},"logprobs":null,"finish_reason":null,"matched_stop":null}],"usage":null}
{"id":"s1","object":"chat.completion.chunk","created":1,"model":"qwen","choices":[{"index":0,"delta":{"role":null,"content":null,"reasoning_content":null,"tool_calls":[{"id":"call_s","index":0,"type":"function","function":{"name":null,"arguments":"{\"q\": \"go"}}]},"logprobs":null,"finish_reason":null,"matched_stop":null}],"usage":null}
{"id":"s1","object":"chat.completion.chunk","created":1,"model":"qwen","choices":[{"index":0,"delta":{"role":null,"content":null,"reasoning_content":null,"tool_calls":[{"id":"call_s","index":0,"type":"function","function":{"name":null,"arguments":"lang\"}"}}]},"logprobs":null,"finish_reason":null,"matched_stop":null}],"usage":null}
{"id":"s1","object":"chat.completion.chunk","created":1,"model":"qwen","choices":[{"index":0,"delta":{"role":null,"content":null,"reasoning_content":null,"tool_calls":null},"logprobs":null,"finish_reason":"tool_calls","matched_stop":null}],"usage":null}
[DONE]`),
		want: Completion{ID: "s1", Model: "qwen", Choices: one(asst("", call("call_s", "search", `{"q": "golang"}`)), "tool_calls")}},

	{name: "lmdeploy: two calls both at index 0",
		body: events(`
{"id":"l","model":"internlm","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}
{"id":"l","model":"internlm","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"chatcmpl-tool-1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}}]}
{"id":"l","model":"internlm","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"chatcmpl-tool-2","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"Europe/Paris\"}"}}]}}]}
{"id":"l","model":"internlm","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
[DONE]`),
		want: Completion{ID: "l", Model: "internlm",
			Choices: one(asst("", call("chatcmpl-tool-1", "get_weather", `{"city":"Paris"}`), call("chatcmpl-tool-2", "get_time", `{"tz":"Europe/Paris"}`)), "tool_calls"),
			Repairs: []Repair{{Choice: 0, Kind: RepairIndexReused, Count: 1}}}},

	{name: "deepseek thinking: reasoning, then content, usage on the finish chunk",
		body: events(`
{"id":"ds","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_ds","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}]}
{"id":"ds","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_ds","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Hmm, "},"logprobs":null,"finish_reason":null}]}
{"id":"ds","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_ds","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"9.11 < 9.9"},"logprobs":null,"finish_reason":null}]}
{"id":"ds","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_ds","choices":[{"index":0,"delta":{"content":"9.9 is","reasoning_content":null},"logprobs":null,"finish_reason":null}]}
{"id":"ds","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_ds","choices":[{"index":0,"delta":{"content":" larger.","reasoning_content":null},"logprobs":null,"finish_reason":null}]}
{"id":"ds","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner","system_fingerprint":"fp_ds","choices":[{"index":0,"delta":{"content":"","reasoning_content":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":15,"completion_tokens":90,"total_tokens":105,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":70},"prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":15}}
[DONE]`),
		want: Completion{ID: "ds", Model: "deepseek-reasoner",
			Choices: one(withReasoning(asst("9.9 is larger."), "Hmm, 9.11 < 9.9", ""), "stop"),
			Usage:   &Usage{PromptTokens: 15, CompletionTokens: 90, TotalTokens: 105, ReasoningTokens: 70}}},

	{name: "llama.cpp: arguments begin in the opening delta, usage with timings",
		body: events(`
{"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"created":1,"id":"chatcmpl-ll","model":"gpt-oss","system_fingerprint":"b6000","object":"chat.completion.chunk"}
{"choices":[{"finish_reason":null,"index":0,"delta":{"reasoning_content":"Need weather."}}],"created":1,"id":"chatcmpl-ll","model":"gpt-oss","system_fingerprint":"b6000","object":"chat.completion.chunk"}
{"choices":[{"finish_reason":null,"index":0,"delta":{"tool_calls":[{"index":0,"id":"Xk2mQ9pL7vR4tY8wZ1nB3cD5fG6hJ0aS","type":"function","function":{"name":"get_weather","arguments":"{\""}}]}}],"created":1,"id":"chatcmpl-ll","model":"gpt-oss","system_fingerprint":"b6000","object":"chat.completion.chunk"}
{"choices":[{"finish_reason":null,"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"city\":\"Lima\"}"}}]}}],"created":1,"id":"chatcmpl-ll","model":"gpt-oss","system_fingerprint":"b6000","object":"chat.completion.chunk"}
{"choices":[{"finish_reason":"tool_calls","index":0,"delta":{}}],"created":1,"id":"chatcmpl-ll","model":"gpt-oss","system_fingerprint":"b6000","object":"chat.completion.chunk"}
{"choices":[],"created":1,"id":"chatcmpl-ll","model":"gpt-oss","system_fingerprint":"b6000","object":"chat.completion.chunk","usage":{"completion_tokens":25,"prompt_tokens":60,"total_tokens":85},"timings":{"prompt_n":60,"predicted_n":25,"predicted_per_second":41.5}}
[DONE]`),
		want: Completion{ID: "chatcmpl-ll", Model: "gpt-oss",
			Choices: one(withReasoning(asst("", call("Xk2mQ9pL7vR4tY8wZ1nB3cD5fG6hJ0aS", "get_weather", `{"city":"Lima"}`)), "Need weather.", ""), "tool_calls"),
			Usage:   &Usage{PromptTokens: 60, CompletionTokens: 25, TotalTokens: 85}}},

	{name: "ollama: role and empty content everywhere, reasoning field, whole calls",
		body: events(`
{"id":"chatcmpl-611","object":"chat.completion.chunk","created":1,"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"Weather "},"finish_reason":null}]}
{"id":"chatcmpl-611","object":"chat.completion.chunk","created":1,"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"and time."},"finish_reason":null}]}
{"id":"chatcmpl-611","object":"chat.completion.chunk","created":1,"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"id":"call_aB1","index":0,"type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_cD2","index":1,"type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"Europe/Paris\"}"}}]},"finish_reason":null}]}
{"id":"chatcmpl-611","object":"chat.completion.chunk","created":1,"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"tool_calls"}]}
{"id":"chatcmpl-611","object":"chat.completion.chunk","created":1,"model":"qwen3:8b","system_fingerprint":"fp_ollama","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":20,"total_tokens":50}}
[DONE]`),
		want: Completion{ID: "chatcmpl-611", Model: "qwen3:8b",
			Choices: one(withReasoning(asst("", weatherCalls...), "Weather and time.", fieldReasoning), "tool_calls"),
			Usage:   &Usage{PromptTokens: 30, CompletionTokens: 20, TotalTokens: 50}}},

	{name: "ollama before 0.4.7: several whole calls without index, finish stop",
		body: events(`
{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"llama3.1","choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"id":"call_aB1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_cD2","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"Europe/Paris\"}"}}]},"finish_reason":null}]}
{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"llama3.1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop"}]}
[DONE]`),
		want: Completion{ID: "chatcmpl-1", Model: "llama3.1", Choices: one(asst("", weatherCalls...), "stop"),
			Repairs: []Repair{{Choice: 0, Kind: RepairNoIndex, Count: 2}}}},

	{name: "openrouter: reasoning and reasoning_details, finish twice, usage on a choice chunk",
		body: events(`
{"id":"gen-1","provider":"Anthropic","model":"anthropic/claude-sonnet-4","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"Simple","reasoning_details":[{"type":"reasoning.text","text":"Simple","format":"anthropic-claude-v1","index":0}]},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}
{"id":"gen-1","provider":"Anthropic","model":"anthropic/claude-sonnet-4","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":" sum.","reasoning_details":[{"type":"reasoning.text","text":" sum.","format":"anthropic-claude-v1","index":0}]},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}
{"id":"gen-1","provider":"Anthropic","model":"anthropic/claude-sonnet-4","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":null,"reasoning_details":[{"type":"reasoning.text","signature":"EqQBCkYIBxgCKkB","format":"anthropic-claude-v1","index":0}]},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}
{"id":"gen-1","provider":"Anthropic","model":"anthropic/claude-sonnet-4","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"It is 4."},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}
{"id":"gen-1","provider":"Anthropic","model":"anthropic/claude-sonnet-4","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop","native_finish_reason":"end_turn","logprobs":null}]}
{"id":"gen-1","provider":"Anthropic","model":"anthropic/claude-sonnet-4","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop","native_finish_reason":"end_turn","logprobs":null}],"usage":{"prompt_tokens":40,"completion_tokens":30,"total_tokens":70,"cost":0.00057,"is_byok":false,"cost_details":{"upstream_inference_cost":null},"completion_tokens_details":{"reasoning_tokens":12}}}
[DONE]`),
		want: Completion{ID: "gen-1", Model: "anthropic/claude-sonnet-4",
			Choices: one(withReasoning(asst("It is 4."), "Simple sum.", fieldReasoning), "stop"),
			Usage:   &Usage{PromptTokens: 40, CompletionTokens: 30, TotalTokens: 70, ReasoningTokens: 12}}},

	{name: "gemini: index-less calls, arguments split over index-less deltas, thought signature, finish stop",
		body: events(`
{"choices":[{"delta":{"role":"assistant","tool_calls":[{"extra_content":{"google":{"thought_signature":"CiQB0e2Kb2X"}},"function":{"arguments":"{\"city\":","name":"get_weather"},"id":"function-call-1","type":"function"}]},"index":0}],"created":1,"id":"jm4owj31","model":"gemini-2.5-flash","object":"chat.completion.chunk"}
{"choices":[{"delta":{"role":"assistant","tool_calls":[{"function":{"arguments":"\"Paris\"}"},"type":"function"}]},"index":0}],"created":1,"id":"jm4owj31","model":"gemini-2.5-flash","object":"chat.completion.chunk"}
{"choices":[{"delta":{"role":"assistant","tool_calls":[{"function":{"arguments":"{\"tz\":\"Europe/Paris\"}","name":"get_time"},"id":"function-call-2","type":"function"}]},"index":0}],"created":1,"id":"jm4owj31","model":"gemini-2.5-flash","object":"chat.completion.chunk"}
{"choices":[{"delta":{"role":"assistant"},"finish_reason":"stop","index":0}],"created":1,"id":"jm4owj31","model":"gemini-2.5-flash","object":"chat.completion.chunk","usage":{"completion_tokens":18,"prompt_tokens":52,"total_tokens":70}}
[DONE]`),
		want: Completion{ID: "jm4owj31", Model: "gemini-2.5-flash",
			Choices: one(asst("",
				ToolCall{ID: "function-call-1", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`,
					Extra: map[string]json.RawMessage{"extra_content": json.RawMessage(`{"google":{"thought_signature":"CiQB0e2Kb2X"}}`)}},
				call("function-call-2", "get_time", `{"tz":"Europe/Paris"}`)), "stop"),
			Usage:   &Usage{PromptTokens: 52, CompletionTokens: 18, TotalTokens: 70},
			Repairs: []Repair{{Choice: 0, Kind: RepairNoIndex, Count: 3}}}},

	{name: "mistral: all calls in one delta without type, finish and usage on it",
		body: events(`
{"id":"mis","object":"chat.completion.chunk","created":1,"model":"mistral-large-latest","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}
{"id":"mis","object":"chat.completion.chunk","created":1,"model":"mistral-large-latest","choices":[{"index":0,"delta":{"tool_calls":[{"id":"D681PevKs","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"},"index":0},{"id":"x9LpQ2wEr","function":{"name":"get_time","arguments":"{\"tz\": \"Europe/Paris\"}"},"index":1}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":90,"total_tokens":130,"completion_tokens":40}}
[DONE]`),
		want: Completion{ID: "mis", Model: "mistral-large-latest",
			Choices: one(asst("", call("D681PevKs", "get_weather", `{"city": "Paris"}`), call("x9LpQ2wEr", "get_time", `{"tz": "Europe/Paris"}`)), "tool_calls"),
			Usage:   &Usage{PromptTokens: 90, CompletionTokens: 40, TotalTokens: 130},
			Repairs: []Repair{{Choice: 0, Kind: RepairTypeMissing, Count: 2}}}},

	{name: "groq: whole calls, usage twice (x_groq and a usage chunk)",
		body: events(`
{"id":"chatcmpl-g","object":"chat.completion.chunk","created":1,"model":"moonshotai/kimi-k2","system_fingerprint":"fp_g","choices":[{"index":0,"delta":{"role":"assistant","content":null},"logprobs":null,"finish_reason":null}],"x_groq":{"id":"req_01"}}
{"id":"chatcmpl-g","object":"chat.completion.chunk","created":1,"model":"moonshotai/kimi-k2","system_fingerprint":"fp_g","choices":[{"index":0,"delta":{"tool_calls":[{"id":"functions.get_weather:0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"},"index":0}]},"logprobs":null,"finish_reason":null}]}
{"id":"chatcmpl-g","object":"chat.completion.chunk","created":1,"model":"moonshotai/kimi-k2","system_fingerprint":"fp_g","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"x_groq":{"id":"req_01","usage":{"queue_time":0.1,"prompt_tokens":201,"completion_tokens":58,"total_tokens":259}},"usage":{"queue_time":0.1,"prompt_tokens":201,"prompt_time":0.01,"completion_tokens":58,"completion_time":0.2,"total_tokens":259,"total_time":0.21}}
{"id":"chatcmpl-g","object":"chat.completion.chunk","created":1,"model":"moonshotai/kimi-k2","system_fingerprint":"fp_g","choices":[],"usage":{"queue_time":0.1,"prompt_tokens":201,"prompt_time":0.01,"completion_tokens":58,"completion_time":0.2,"total_tokens":259,"total_time":0.21},"service_tier":"on_demand"}
[DONE]`),
		want: Completion{ID: "chatcmpl-g", Model: "moonshotai/kimi-k2",
			Choices: one(asst("", call("functions.get_weather:0", "get_weather", `{"city":"Paris"}`)), "tool_calls"),
			Usage:   &Usage{PromptTokens: 201, CompletionTokens: 58, TotalTokens: 259},
			Repairs: []Repair{{Choice: -1, Kind: RepairUsageRepeated, Count: 1}}}},

	{name: "xai: role and the first call in one chunk",
		body: events(`
{"id":"x1","object":"chat.completion.chunk","created":1,"model":"grok-4","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"call_12345678","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"},"index":0,"type":"function"}]}}],"system_fingerprint":"fp_x"}
{"id":"x1","object":"chat.completion.chunk","created":1,"model":"grok-4","choices":[{"index":0,"delta":{"tool_calls":[{"id":"call_87654321","function":{"name":"get_time","arguments":"{\"tz\":\"Europe/Paris\"}"},"index":1,"type":"function"}]}}],"system_fingerprint":"fp_x"}
{"id":"x1","object":"chat.completion.chunk","created":1,"model":"grok-4","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"system_fingerprint":"fp_x"}
{"id":"x1","object":"chat.completion.chunk","created":1,"model":"grok-4","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":30,"total_tokens":180,"cost_in_usd_ticks":1234}}
[DONE]`),
		want: Completion{ID: "x1", Model: "grok-4",
			Choices: one(asst("", call("call_12345678", "get_weather", `{"city":"Paris"}`), call("call_87654321", "get_time", `{"tz":"Europe/Paris"}`)), "tool_calls"),
			Usage:   &Usage{PromptTokens: 100, CompletionTokens: 30, TotalTokens: 180}}},

	{name: "lm studio: continuations repeat type and an empty name",
		body: events(`
{"id":"chatcmpl-lm","object":"chat.completion.chunk","created":1,"model":"qwen2.5-7b-instruct","system_fingerprint":"qwen2.5-7b-instruct","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"365174485","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]}
{"id":"chatcmpl-lm","object":"chat.completion.chunk","created":1,"model":"qwen2.5-7b-instruct","system_fingerprint":"qwen2.5-7b-instruct","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"type":"function","function":{"name":"","arguments":"{\"city\":"}}]},"logprobs":null,"finish_reason":null}]}
{"id":"chatcmpl-lm","object":"chat.completion.chunk","created":1,"model":"qwen2.5-7b-instruct","system_fingerprint":"qwen2.5-7b-instruct","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"type":"function","function":{"name":"","arguments":"\"Paris\"}"}}]},"logprobs":null,"finish_reason":null}]}
{"id":"chatcmpl-lm","object":"chat.completion.chunk","created":1,"model":"qwen2.5-7b-instruct","system_fingerprint":"qwen2.5-7b-instruct","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}
[DONE]`),
		want: Completion{ID: "chatcmpl-lm", Model: "qwen2.5-7b-instruct",
			Choices: one(asst("", call("365174485", "get_weather", `{"city":"Paris"}`)), "tool_calls")}},

	{name: "litellm (OCI upstream): new chunk and call ids every chunk, no role, last fragment with finish",
		body: events(`
{"id":"chatcmpl-o1","created":1,"model":"cohere.command-r","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_o1","type":"function","function":{"name":"get_weather","arguments":"{\"city\""}}]}}]}
{"id":"chatcmpl-o2","created":1,"model":"cohere.command-r","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_o2","type":"function","function":{"name":"","arguments":": \"Paris\""}}]}}]}
{"id":"chatcmpl-o3","created":1,"model":"cohere.command-r","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_o3","type":"function","function":{"name":"","arguments":"}"}}]},"finish_reason":"stop"}]}
[DONE]`),
		want: Completion{ID: "chatcmpl-o1", Model: "cohere.command-r",
			Choices: one(asst("", call("call_o1", "get_weather", `{"city": "Paris"}`)), "stop"),
			Repairs: []Repair{{Choice: -1, Kind: RepairChunkIDChanged, Count: 2}, {Choice: 0, Kind: RepairCallChanged, Count: 2}, {Choice: 0, Kind: RepairRoleMissing, Count: 1}}}},

	{name: "z.ai glm: role on every chunk, no finish_reason key until the end",
		body: events(`
{"id":"2025112601","created":1,"model":"glm-4.7-flash","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Weather lookup."}}]}
{"id":"2025112601","created":1,"model":"glm-4.7-flash","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"call_0a1b2c3d4e5f60718293a4b5","index":0,"type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}}]}
{"id":"2025112601","created":1,"model":"glm-4.7-flash","choices":[{"index":0,"finish_reason":"tool_calls","delta":{"role":"assistant","content":""}}],"usage":{"prompt_tokens":150,"completion_tokens":20,"total_tokens":170}}
[DONE]`),
		want: Completion{ID: "2025112601", Model: "glm-4.7-flash",
			Choices: one(withReasoning(asst("", call("call_0a1b2c3d4e5f60718293a4b5", "get_weather", `{"city":"Paris"}`)), "Weather lookup.", ""), "tool_calls"),
			Usage:   &Usage{PromptTokens: 150, CompletionTokens: 20, TotalTokens: 170}}},

	{name: "avian (kimi): the same reasoning twice, chunk id changes, finish twice",
		body: events(`
{"id":"cmpl-av1","object":"chat.completion.chunk","model":"kimi-k2.5","choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning_content":"Add them.","reasoning_details":[{"type":"reasoning.text","text":"Add them."}]}}]}
{"id":"cmpl-av2","object":"chat.completion.chunk","model":"kimi-k2.5","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"functions.add:0","type":"function","function":{"name":"add","arguments":"{\"a\":2,\"b\":2}"}}]}}]}
{"id":"cmpl-av2","object":"chat.completion.chunk","model":"kimi-k2.5","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
{"id":"cmpl-av2","object":"chat.completion.chunk","model":"kimi-k2.5","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":60,"completion_tokens":25,"total_tokens":85}}
[DONE]`),
		want: Completion{ID: "cmpl-av1", Model: "kimi-k2.5",
			Choices: one(withReasoning(asst("", call("functions.add:0", "add", `{"a":2,"b":2}`)), "Add them.", ""), "tool_calls"),
			Usage:   &Usage{PromptTokens: 60, CompletionTokens: 25, TotalTokens: 85},
			Repairs: []Repair{{Choice: -1, Kind: RepairChunkIDChanged, Count: 3}}}},

	{name: "bedrock gateway: the first call at index 1",
		body: events(`
{"id":"b","model":"anthropic.claude","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}
{"id":"b","model":"anthropic.claude","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"tooluse_A","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}
{"id":"b","model":"anthropic.claude","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"city\":\"Paris\"}"}}]}}]}
{"id":"b","model":"anthropic.claude","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
[DONE]`),
		want: Completion{ID: "b", Model: "anthropic.claude",
			Choices: one(asst("", call("tooluse_A", "get_weather", `{"city":"Paris"}`)), "tool_calls"),
			Repairs: []Repair{{Choice: 0, Kind: RepairIndexGap, Count: 1}}}},

	{name: "bedrock-style gateway: index -1",
		body: events(`
{"id":"b","model":"claude","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":-1,"id":"tooluse_B","type":"function","function":{"name":"get_time","arguments":""}}]}}]}
{"id":"b","model":"claude","choices":[{"index":0,"delta":{"tool_calls":[{"index":-1,"function":{"arguments":"{\"tz\":"}}]}}]}
{"id":"b","model":"claude","choices":[{"index":0,"delta":{"tool_calls":[{"index":-1,"function":{"arguments":"\"UTC\"}"}}]}}]}
{"id":"b","model":"claude","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
[DONE]`),
		want: Completion{ID: "b", Model: "claude",
			Choices: one(asst("", call("tooluse_B", "get_time", `{"tz":"UTC"}`)), "tool_calls"),
			Repairs: []Repair{{Choice: 0, Kind: RepairIndexMinusOne, Count: 3}}}},

	{name: "surrogate pairs split between fragments of arguments, reasoning and refusal",
		body: events(`
{"id":"u","model":"m","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"think \ud83e"}}]}
{"id":"u","model":"m","choices":[{"index":0,"delta":{"reasoning_content":"\udd14 done"}}]}
{"id":"u","model":"m","choices":[{"index":0,"delta":{"refusal":"no \ud83d"}}]}
{"id":"u","model":"m","choices":[{"index":0,"delta":{"refusal":"\ude45"}}]}
{"id":"u","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"say","arguments":"{\"e\":\"\ud83d"}}]}}]}
{"id":"u","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c2","type":"function","function":{"name":"say","arguments":"{\"e\":\"\ud83d"}}]}}]}
{"id":"u","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\ude00\"}"}}]}}]}
{"id":"u","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"x\"}"}}]}}]}
{"id":"u","model":"m","choices":[{"index":0,"delta":{"content":"a\ud83d"},"finish_reason":"tool_calls"}]}
[DONE]`),
		want: Completion{ID: "u", Model: "m",
			Choices: one(Message{Role: "assistant", Content: "a\uFFFD", Reasoning: "think 🤔 done", Refusal: "no 🙅",
				ToolCalls: []ToolCall{call("c1", "say", `{"e":"😀"}`), call("c2", "say", "{\"e\":\"\uFFFDx\"}")}}, "tool_calls")}},

	{name: "a call without id keeps an empty id, content after a tool call",
		body: events(`
{"id":"n","model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"type":"function","function":{"name":"ping","arguments":"{}"}}]}}]}
{"id":"n","model":"m","choices":[{"index":0,"delta":{"content":"Pinged."}}]}
{"id":"n","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}
[DONE]`),
		want: Completion{ID: "n", Model: "m", Choices: one(asst("Pinged.", call("", "ping", "{}")), "tool_calls")}},

	{name: "n=2: tool calls in two choices, interleaved",
		body: events(`
{"id":"c","model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"a0","type":"function","function":{"name":"f","arguments":"{\"x\""}}]}},{"index":1,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"b0","type":"function","function":{"name":"g","arguments":"{\"y\""}}]}}]}
{"id":"c","model":"m","choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":2}"}}]}}]}
{"id":"c","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]}}]}
{"id":"c","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"},{"index":1,"delta":{},"finish_reason":"tool_calls"}]}
[DONE]`),
		want: Completion{ID: "c", Model: "m", Choices: []CompletionChoice{
			{Index: 0, Message: asst("", call("a0", "f", `{"x":1}`)), FinishReason: "tool_calls"},
			{Index: 1, Message: asst("", call("b0", "g", `{"y":2}`)), FinishReason: "tool_calls"}}}},

	{name: "truncated arguments at length are kept as they are",
		body: events(`
{"id":"c","model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"t","type":"function","function":{"name":"write","arguments":"{\"text\":\"once upon"}}]}}]}
{"id":"c","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}
[DONE]`),
		want: Completion{ID: "c", Model: "m", Choices: one(asst("", call("t", "write", `{"text":"once upon`)), "length")}},
}

// dialectCuts are the ways each dialect body is fed: whole, one byte a read, and at
// random cuts.
func dialectCuts(n int, seed uint64) [][]int {
	cuts := [][]int{nil}
	every := make([]int, 0, n)
	for i := 1; i < n; i++ {
		every = append(every, i)
	}
	cuts = append(cuts, every)
	rng := rand.New(rand.NewPCG(seed, 3))
	for range 16 {
		var c []int
		for off := 1 + rng.IntN(40); off < n; off += 1 + rng.IntN(40) {
			c = append(c, off)
		}
		cuts = append(cuts, c)
	}
	return cuts
}

func bodyClient(body []byte, cuts []int, opts ...Option) *Client {
	hc := &http.Client{Transport: &bodyTransport{contentType: "text/event-stream", body: body, cuts: cuts}}
	return New(append([]Option{WithHTTPClient(hc), WithMaxRetries(0), WithIdleTimeout(0)}, opts...)...)
}

func TestDialects(t *testing.T) {
	for i, tc := range dialectCases {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			for _, cut := range dialectCuts(len(body), uint64(i)) {
				c := bodyClient(body, cut)
				got, err := c.Chat(context.Background(), "m", nil)
				if err != nil {
					t.Fatalf("Chat, cut at %v: %v", cut, err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("Chat, cut at %v:\n got %s\nwant %s", cut, dump(got), dump(tc.want))
				}
				// An Accumulator fed from StreamChunks gives the same.
				var acc Accumulator
				for ch, err := range c.StreamChunks(context.Background(), "m", nil) {
					if err != nil {
						t.Fatalf("StreamChunks, cut at %v: %v", cut, err)
					}
					acc.Add(ch)
				}
				if got := acc.Completion(); !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("Accumulator, cut at %v:\n got %s\nwant %s", cut, dump(got), dump(tc.want))
				}
			}
		})
	}
}

// dump shows a completion with the unexported field that DeepEqual compares.
func dump(c Completion) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id %q model %q usage %+v repairs %+v", c.ID, c.Model, c.Usage, c.Repairs)
	for _, ch := range c.Choices {
		m := ch.Message
		fmt.Fprintf(&b, "\n  choice %d finish %q role %q content %q reasoning %q (field %q) refusal %q", ch.Index, ch.FinishReason, m.Role, m.Content, m.Reasoning, m.reasoningField, m.Refusal)
		for _, tc := range m.ToolCalls {
			fmt.Fprintf(&b, "\n    call id %q type %q name %q args %q extra %s", tc.ID, tc.Type, tc.Name, tc.Arguments, tc.Extra)
		}
	}
	return b.String()
}
