package sse

import (
	"testing"

	"github.com/lockchat/lockchat/internal/leakcheck"
)

// TestMain fails the tests when a goroutine outlives them (see leakcheck).
func TestMain(m *testing.M) { leakcheck.Main(m) }
