package cutread

import (
	"bytes"
	"io"
	"testing"
)

func TestReaderGivesEveryByteOnce(t *testing.T) {
	in := []byte("abcdef")
	for _, cut := range Ways(len(in)) {
		r := &Reader{B: in, Cuts: cut}
		var pieces int
		var got []byte
		buf := make([]byte, 64)
		for {
			n, err := r.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			pieces++
		}
		if !bytes.Equal(got, in) || pieces != len(cut)+1 {
			t.Fatalf("cut %v: %q in %d pieces", cut, got, pieces)
		}
	}
}
