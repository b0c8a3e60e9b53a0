// Package cutread gives tests a body that arrives in pieces cut at chosen offsets, as a
// network delivers it, and the ways to cut an input.
package cutread

import "io"

// Reader returns B in pieces, cut at the offsets Cuts, one piece a Read.
type Reader struct {
	B    []byte
	Cuts []int // increasing offsets into B
	off  int
}

func (r *Reader) Read(p []byte) (int, error) {
	if r.off >= len(r.B) {
		return 0, io.EOF
	}
	end := len(r.B)
	for len(r.Cuts) > 0 && r.Cuts[0] <= r.off {
		r.Cuts = r.Cuts[1:]
	}
	if len(r.Cuts) > 0 {
		end = r.Cuts[0]
	}
	n := copy(p, r.B[r.off:end])
	r.off += n
	return n, nil
}

// Ways returns the ways a test feeds an input of n bytes: whole, cut at each single
// offset, and one byte a read.
func Ways(n int) [][]int {
	out := [][]int{nil}
	for i := 1; i < n; i++ {
		out = append(out, []int{i})
	}
	every := make([]int, 0, n)
	for i := 1; i < n; i++ {
		every = append(every, i)
	}
	return append(out, every)
}
