package lockchat

// The helpers of this package's internal tests: chunk and event builders.

import (
	"strings"
	"time"
)

// chunk builds one "data:" event holding an OpenAI chunk whose choices are given raw.
func chunk(choices string) string {
	return `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[` + choices + "]}\n\n"
}

func delta(content string) string {
	return `{"index":0,"delta":{"content":` + content + `},"finish_reason":null}`
}

const (
	roleChunk   = `data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n"
	finishChunk = `data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n"
	done        = "data: [DONE]\n\n"
)

// fast makes retries quick enough for tests.
var fast = WithRetryDelay(time.Millisecond, 5*time.Millisecond)

// events turns lines of chunk JSON (or [DONE]) into a text/event-stream body.
func events(lines string) string {
	var b strings.Builder
	for _, l := range strings.Split(lines, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			b.WriteString("data: " + l + "\n\n")
		}
	}
	return b.String()
}
