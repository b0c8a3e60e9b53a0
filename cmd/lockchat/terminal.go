package main

import (
	"os"

	"golang.org/x/term"
)

// This file asks the terminal driver, through golang.org/x/term, what the command
// needs of it: whether a file is a terminal, raw mode for the line editor, and the
// width answers wrap at.

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// rawMode returns a function that puts the terminal f into raw mode and returns the
// function that restores it, for the line editor (see editor.go).
func rawMode(f *os.File) func() (restore func(), err error) {
	return func() (func(), error) {
		fd := int(f.Fd())
		old, err := term.MakeRaw(fd)
		if err != nil {
			return nil, err
		}
		return func() { term.Restore(fd, old) }, nil
	}
}

// terminalSize returns a function that reports the size of the terminal that files
// are, asking each in turn; 0, 0 when none is a terminal.
func terminalSize(files ...*os.File) func() (width, height int) {
	return func() (int, int) {
		for _, f := range files {
			if w, h, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
				return w, h
			}
		}
		return 0, 0
	}
}
