//go:build !linux

package main

import "os"

// isTerminal reports whether f looks like a terminal. Without the terminal driver's
// ioctl (see terminal_linux.go) the best guess is a character device; /dev/null is one
// too, which at worst starts a chat that ends at once, on end of input.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
