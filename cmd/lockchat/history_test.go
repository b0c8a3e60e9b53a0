package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHistoryFile(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/state", "HOME": "/home/u"}, "/state/lockchat/history"},
		{map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/home/u"}, "/home/u/.local/state/lockchat/history"},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/lockchat/history"},
		{map[string]string{}, ""},
	}
	for _, tc := range cases {
		if got := historyFile(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.env, got, tc.want)
		}
	}
}

// TestHistoryBounds checks that the file keeps the last maxHistory lines, none too long,
// repeats of the last line once, and is written with mode 0600 whatever it had.
func TestHistoryBounds(t *testing.T) {
	file := filepath.Join(t.TempDir(), "lockchat", "history")
	h, err := loadHistory(file, nil)
	if err != nil || h.Len() != 0 {
		t.Fatalf("a missing file: %d lines, %v", h.Len(), err)
	}
	for i := range maxHistory + 10 {
		if err := h.record(fmt.Sprintf("line %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	h.record(fmt.Sprintf("line %d", maxHistory+9)) // a repeat
	h.record("   ")                                // blank
	h.record(strings.Repeat("x", maxHistoryLine+1))
	if h.Len() != maxHistory || h.At(0) != fmt.Sprintf("line %d", maxHistory+9) || h.At(maxHistory-1) != "line 10" {
		t.Fatalf("%d lines, newest %q, oldest %q", h.Len(), h.At(0), h.At(h.Len()-1))
	}
	os.Chmod(file, 0o644)
	h.record("one more")
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	// Read back: the same lines, and a file grown past the bound (by hand) is cut to it.
	again, err := loadHistory(file, nil)
	if err != nil || again.Len() != maxHistory || again.At(0) != "one more" || again.At(maxHistory-1) != "line 11" {
		t.Fatalf("read back %d lines, %v", again.Len(), err)
	}
	f, _ := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	for i := range 50 {
		fmt.Fprintf(f, "extra %d\n", i)
	}
	f.Close()
	if grown, _ := loadHistory(file, nil); grown.Len() != maxHistory || grown.At(0) != "extra 49" {
		t.Fatalf("a grown file: %d lines, newest %q", grown.Len(), grown.At(0))
	}
}

// TestHistorySkipsSecrets checks the lines that are never kept: the credentials in use,
// and what looks like a key.
func TestHistorySkipsSecrets(t *testing.T) {
	secret := []string{
		"my key is sk-proj-abcdefghijklmnop1234",
		"export OPENAI_API_KEY=whatever",
		"curl -H 'Authorization: Bearer abc.def.ghi'",
		"password: hunter22",
		"token=12345",
		"ghp_0123456789abcdefABCDEF0123",
		"AKIAIOSFODNN7EXAMPLE",
		"hf_abcdefghijklmnopqrstuvwxyz",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
		"a random 9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddcc key",
		"the server's own: LongEnoughValue", // one of the secrets given
	}
	plain := []string{
		"What is the capital of France?",
		"explain tokens and keys to me",
		"/save ~/chats/today.json",
		"supercalifragilisticexpialidocious-and-more-words",
		"/usr/local/lib/python3.11/site-packages",
	}
	file := filepath.Join(t.TempDir(), "history")
	h, _ := loadHistory(file, []string{"LongEnoughValue", "short", ""})
	for _, line := range append(secret, plain...) {
		h.record(line)
	}
	b, _ := os.ReadFile(file)
	if got, want := string(b), strings.Join(plain, "\n")+"\n"; got != want {
		t.Fatalf("history %q, want %q", got, want)
	}
	// A file that holds a secret from before is read without it.
	os.WriteFile(file, []byte("ok\n"+secret[0]+"\n"), 0o600)
	if h, _ := loadHistory(file, nil); h.Len() != 1 || h.At(0) != "ok" {
		t.Fatalf("read %d lines", h.Len())
	}
}

// TestHistoryWriteFailure checks that a history that cannot be written says so, and is
// kept for the run.
func TestHistoryWriteFailure(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "lockchat")
	os.WriteFile(blocker, nil, 0o600) // a file where the directory should be
	h, _ := loadHistory(filepath.Join(blocker, "history"), nil)
	if err := h.record("hi"); err == nil || !strings.HasPrefix(err.Error(), "lockchat: saving the history: ") || h.Len() != 1 {
		t.Fatalf("error %v, %d lines", err, h.Len())
	}
}
