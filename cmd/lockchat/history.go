package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// This file keeps the lines typed at the chat's prompt, for Up and Down to recall, in a
// file across runs: $XDG_STATE_HOME/lockchat/history, else ~/.local/state/lockchat/history.
// The file holds the last maxHistory lines, one a line, and is written whole each time,
// with mode 0600 in a directory of mode 0700. A line that looks like it carries a
// secret is never kept, nor recalled.

const (
	maxHistory     = 1000 // lines kept
	maxHistoryLine = 4096 // longer lines are not kept (in bytes)
)

// history is the chat's line history. It is the editor's term.History, read by Up and
// Down; the chat records what the user typed with record, since the editor would add
// the lines of a paste too.
type history struct {
	lines   []string // oldest first
	file    string   // "" when the history is not kept in a file
	secrets []string // the API key and credential values in use: a line holding one is not kept
}

// historyFile returns where the history is kept, from the environment; "" when no
// directory is known.
func historyFile(getenv func(string) string) string {
	dir := getenv("XDG_STATE_HOME")
	if !filepath.IsAbs(dir) { // the XDG spec says to ignore a relative path
		home := getenv("HOME")
		if !filepath.IsAbs(home) {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "lockchat", "history")
}

// loadHistory reads the history kept in file ("" for none). A missing file is an empty
// history; a file that cannot be read is too, with the error.
func loadHistory(file string, secrets []string) (*history, error) {
	h := &history{file: file}
	for _, s := range secrets {
		if len(s) >= 8 { // shorter values would match too much ordinary text
			h.secrets = append(h.secrets, s)
		}
	}
	if file == "" {
		return h, nil
	}
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return h, fmt.Errorf("lockchat: reading the history: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxHistoryLine+1)
	for sc.Scan() {
		if line := sc.Text(); h.keeps(line) {
			h.lines = append(h.lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return h, fmt.Errorf("lockchat: reading the history: %w", err)
	}
	if len(h.lines) > maxHistory {
		h.lines = h.lines[len(h.lines)-maxHistory:]
	}
	return h, nil
}

// Add is the editor's call for every line it returns, pasted ones included: it does
// nothing, as the chat records lines itself.
func (h *history) Add(string) {}

// Len returns the number of lines.
func (h *history) Len() int { return len(h.lines) }

// At returns a line: 0 is the most recent.
func (h *history) At(i int) string { return h.lines[len(h.lines)-1-i] }

// record adds a typed line, unless it is empty, repeats the last one, is too long or
// looks like it carries a secret, and writes the file. Its error says why the file
// could not be written; the line is kept for this run all the same.
func (h *history) record(line string) error {
	if strings.TrimSpace(line) == "" || !h.keeps(line) || (len(h.lines) > 0 && h.lines[len(h.lines)-1] == line) {
		return nil
	}
	h.lines = append(h.lines, line)
	if len(h.lines) > maxHistory {
		h.lines = h.lines[len(h.lines)-maxHistory:]
	}
	if h.file == "" {
		return nil
	}
	return h.write()
}

// keeps reports whether line may be kept.
func (h *history) keeps(line string) bool {
	if len(line) > maxHistoryLine || strings.ContainsAny(line, "\n\r") {
		return false
	}
	for _, s := range h.secrets {
		if strings.Contains(line, s) {
			return false
		}
	}
	return !looksSecret(line)
}

// write replaces the file with the history: a new file of mode 0600, renamed over the
// old one, so that a failure leaves the old file whole and no other mode survives.
func (h *history) write() error {
	dir := filepath.Dir(h.file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("lockchat: saving the history: %w", err)
	}
	f, err := os.CreateTemp(dir, ".history-*") // mode 0600
	if err != nil {
		return fmt.Errorf("lockchat: saving the history: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, line := range h.lines {
		w.WriteString(line + "\n")
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), h.file)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("lockchat: saving the history: %w", err)
	}
	return nil
}

// secretPatterns match text that looks like a credential: a provider's key or token by
// its prefix, a bearer token, a JWT, and a "key=…" or "password: …" assignment.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`\b(sk|pk|rk)-[A-Za-z0-9_-]{12,}`),
	regexp.MustCompile(`\b(ghp|gho|ghu|ghs|ghr|github_pat|glpat|xox[abprs]|AKIA|AIza|hf)[_-]?[A-Za-z0-9_-]{12,}`),
	regexp.MustCompile(`(?i)\bbearer\s+\S{8,}`),
	regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`),
	regexp.MustCompile(`(?i)(api[_-]?key|token|secret|passw(or)?d|credential|authorization)["']?\s*[:=]\s*\S+`),
}

// longToken matches a run of 32 or more characters that a random key is written in.
var longToken = regexp.MustCompile(`[A-Za-z0-9+/_-]{32,}`)

// looksSecret reports whether line looks like it carries a credential: one of the
// patterns, or a long token that mixes letters and digits, as random keys do and long
// words and most paths do not.
func looksSecret(line string) bool {
	for _, re := range secretPatterns {
		if re.MatchString(line) {
			return true
		}
	}
	for _, m := range longToken.FindAllString(line, -1) {
		if mixesLettersAndDigits(m) {
			return true
		}
	}
	return false
}

// mixesLettersAndDigits reports whether s holds both, as a random key does and a long
// word or path does not.
func mixesLettersAndDigits(s string) bool {
	letters, digits := false, false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			letters = true
		}
	}
	return letters && digits
}
