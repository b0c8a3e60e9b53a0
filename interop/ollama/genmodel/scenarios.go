package main

// The scenarios: which models Ollama gets, what each one's template renders, and what
// the model then answers. ollama_test.go in the repository's root states the same answers
// as plain strings; change both together.
//
// Every template ends with one trigger, a control token. The model's next token depends
// only on its current token (see model.go), so the trigger alone picks the chain of
// pieces the model writes, at any temperature and seed. A chain ends with the
// end-of-sequence token, or, when loop is set, with a piece that is its own successor.
//
// Pieces are SentencePiece tokens: "▁" stands for a space. Each piece is one token, and no
// two pieces (in all chains together) may be equal, since a vocabulary maps each text to
// one token.

// chain is what the model writes after one trigger.
type chain struct {
	trigger string
	pieces  []string
	loop    bool
}

// The chains, one per trigger.
var chains = []chain{
	// (a) text: Cyrillic, emoji, double quotes, a backslash, a tab, a newline, and the
	// three characters Go's encoding/json writes as \u escapes (<, > and &).
	{trigger: "<|lc_text|>", pieces: []string{
		"Привет", ",▁мир!", "▁Вот", "▁\"цитата\"", "▁и", "▁эмодзи", "▁🙂", "▁👩‍💻", ";",
		"\t", "таб,", "▁путь", "▁C:\\lockchat\\bin", "▁и▁знаки", "▁1<2&3>0.", "\n", "Вторая",
		"▁строка.",
	}},
	// (b) one tool call, in the format the tool template renders (tag <tool_call>).
	{trigger: "<|lc_tool|>", pieces: []string{
		"<tool_call>", "{\"name\":▁\"get_weather\",", "▁\"arguments\":▁{",
		"\"city\":▁\"Paris\",", "▁\"unit\":▁\"celsius\"}}",
	}},
	// (c) two tool calls in one answer.
	{trigger: "<|lc_tools2|>", pieces: []string{
		"<tool_call>{\"name\":▁\"get_weather\",▁\"arguments\":▁",
		"{\"city\":▁\"Berlin\",▁\"unit\":▁\"celsius\"}}",
		"<tool_call>{\"name\":▁\"get_time\",▁\"arguments\":▁",
		"{\"zone\":▁\"Europe/Berlin\"}}",
	}},
	// (g) the answer once the conversation ends with a tool result.
	{trigger: "<|lc_after_tool|>", pieces: []string{
		"В▁Париже", "▁солнечно,", "▁+18▁°C.",
	}},
	// (d) reasoning, then the answer, split by the think template's tags.
	{trigger: "<|lc_think|>", pieces: []string{
		"<think>", "Пользователь", "▁спрашивает", "▁о", "▁погоде.", "</think>",
		"Думаю,", "▁будет", "▁солнечно.",
	}},
	// (e) an answer of eight tokens, for max_tokens below that.
	{trigger: "<|lc_long|>", pieces: []string{
		"Один", "▁два", "▁три", "▁четыре", "▁пять", "▁шесть", "▁семь", "▁восемь.",
	}},
	// (f) a loop: Ollama's server aborts a generation that repeats one token more than
	// 30 times, ending the stream with no finish reason.
	{trigger: "<|lc_loop|>", pieces: []string{"Тик", "-так", "▁ха"}, loop: true},
}

// model is one Ollama model: a name and a template over the shared weights.
type model struct {
	name     string
	template string
}

// plainTemplate renders the conversation, then the trigger.
func plainTemplate(trigger string) string {
	return "{{- range .Messages }}<|{{ .Role }}|>{{ .Content }}\n{{ end }}" + trigger
}

// toolTemplate declares the tools (so Ollama gives the model the tools capability),
// renders earlier tool calls after a <tool_call> tag (Ollama's tool parser takes the first
// text after {{ if .ToolCalls }} as the tag to look for in the output), and ends with the
// after-tool trigger when the last message is a tool result, else with trigger.
func toolTemplate(trigger string) string {
	return `{{- if .Tools }}<|tools|>{{ range .Tools }}{{ .Function.Name }};{{ end }}
{{ end }}
{{- $last := "" }}
{{- range .Messages }}{{ $last = .Role }}
{{- if .ToolCalls }}<tool_call>{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}{{ end }}
{{ else }}<|{{ .Role }}|>{{ .Content }}
{{ end }}
{{- end }}
{{- if eq $last "tool" }}<|lc_after_tool|>{{ else }}` + trigger + `{{ end }}`
}

// thinkTemplate renders earlier reasoning between <think> and </think>: Ollama infers a
// model's thinking tags from the text around {{ .Thinking }} inside the range over
// .Messages, gives it the thinking capability, and splits its output at those tags.
func thinkTemplate(trigger string) string {
	return "{{- range .Messages }}<|{{ .Role }}|>{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ .Content }}\n{{ end }}" + trigger
}

// models are the models the start script creates.
var models = []model{
	{"lockchat-text", plainTemplate("<|lc_text|>")},
	{"lockchat-tool", toolTemplate("<|lc_tool|>")},
	{"lockchat-tools2", toolTemplate("<|lc_tools2|>")},
	{"lockchat-think", thinkTemplate("<|lc_think|>")},
	{"lockchat-long", plainTemplate("<|lc_long|>")},
	{"lockchat-loop", plainTemplate("<|lc_loop|>")},
}
