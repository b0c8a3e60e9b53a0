package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lockchat/lockchat"
)

// This file saves a conversation to a file and reads it back, for /save, /load and
// -load. The file is the JSON of a chat-completions request without its options:
//
//	{"model": "llama3", "messages": [{"role": "system", "content": "…"}, {"role": "user", …}, …]}
//
// each message as lockchat.Message encodes it (the OpenAI shape: tool calls, tool
// results, reasoning under the name the server used, refusals), so that it round-trips
// through lockchat.Message's JSON, and any request body, or a bare array of messages,
// can be loaded.

// maxConversation bounds the file read by /load and -load.
const maxConversation = 32 << 20

// conversation is what a file holds.
type conversation struct {
	Model    string             `json:"model,omitempty"`
	Messages []lockchat.Message `json:"messages"`
}

// saveConversation writes conv to file, readable by its owner alone.
func saveConversation(file string, conv conversation) error {
	b, err := json.MarshalIndent(conv, "", "  ")
	if err != nil {
		return fmt.Errorf("lockchat: saving the conversation: %w", err)
	}
	if err := os.WriteFile(file, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("lockchat: saving the conversation: %w", err)
	}
	return nil
}

// loadConversation reads a conversation from file.
func loadConversation(file string) (conversation, error) {
	var conv conversation
	f, err := os.Open(file)
	if err != nil {
		return conv, fmt.Errorf("lockchat: loading a conversation: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConversation+1))
	switch {
	case err != nil:
		return conv, fmt.Errorf("lockchat: loading a conversation: %w", err)
	case len(b) > maxConversation:
		return conv, fmt.Errorf("lockchat: loading a conversation: %s is larger than %d MiB", file, maxConversation>>20)
	}
	conv, err = parseConversation(b)
	if err != nil {
		return conv, fmt.Errorf("lockchat: loading a conversation: %s: %w", file, err)
	}
	return conv, nil
}

// parseConversation reads a conversation file's content: an object with "messages",
// or an array of messages.
func parseConversation(b []byte) (conversation, error) {
	var conv conversation
	b = bytes.TrimSpace(b)
	var err error
	if len(b) > 0 && b[0] == '[' {
		err = json.Unmarshal(b, &conv.Messages)
	} else {
		err = json.Unmarshal(b, &conv)
	}
	if err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return conv, fmt.Errorf("not JSON (at byte %d)", syntax.Offset)
		}
		return conv, errors.New(strings.TrimPrefix(err.Error(), "lockchat: "))
	}
	if len(conv.Messages) == 0 {
		return conv, errors.New(`no messages (want {"messages": [...]})`)
	}
	for i, m := range conv.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant", "tool":
		default:
			return conv, fmt.Errorf("message %d has the role %q; want system, developer, user, assistant or tool", i+1, stripAll(m.Role))
		}
	}
	return conv, nil
}

// expandHome turns a leading ~/ into the home directory, as a shell would for a file
// named at the chat's prompt.
func expandHome(file string, getenv func(string) string) string {
	if rest, ok := strings.CutPrefix(file, "~/"); ok {
		if home := getenv("HOME"); home != "" {
			return filepath.Join(home, rest)
		}
	}
	return file
}
