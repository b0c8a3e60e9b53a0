package main

import (
	"testing"
)

func TestStripper(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain text", "Привет, мир 🙂", "Привет, мир 🙂"},
		{"newlines and tabs stay", "a\n\tb\n", "a\n\tb\n"},
		{"colour", "\x1b[31mred\x1b[0m text", "red text"},
		{"cursor movement and clear screen", "a\x1b[2J\x1b[1;1Hb\x1b[?25l", "ab"},
		{"carriage return and backspace", "shown\rhidden\b\b", "shownhidden"},
		{"bell and other C0", "a\x07b\x00c\x7f", "abc"},
		{"C1 controls", "a\u009b31mb\u0085c", "a31mbc"},
		{"window title: the text stays visible", "\x1b]0;evil title\x07after", "0;evil titleafter"},
		{"hyperlink: the target shows", "\x1b]8;;http://x.example\x1b\\click\x1b]8;;\x1b\\", "8;;http://x.exampleclick8;;"},
		{"two-character sequences", "\x1b7saved\x1b8\x1bc", "saved"},
		{"ESC before a non-ASCII character", "\x1bПривет", "Привет"},
		{"CSI ended by a byte no CSI holds", "\x1b[12\nnext", "\nnext"},
		{"lone ESC at the end", "text\x1b", "text"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := stripAll(tc.in); got != tc.want {
				t.Fatalf("stripAll(%q) = %q, want %q", tc.in, got, tc.want)
			}
			// The same, whatever the split into chunks (between characters: a chunk's text
			// is always whole characters).
			for i := range tc.in + " " {
				var s stripper
				if got := s.strip(tc.in[:i]) + s.strip(tc.in[i:]); got != tc.want {
					t.Fatalf("split at %d: %q, want %q", i, got, tc.want)
				}
			}
		})
	}
}
