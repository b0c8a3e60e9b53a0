package lockchat

import (
	"fmt"
	"strings"
	"testing"
)

// TestLayoutSlots checks the chunk layout's numbering: within a record no two keys share
// a slot, and every slot lies inside the record.
func TestLayoutSlots(t *testing.T) {
	records := []struct {
		name string
		o    *object
		n    int
	}{{"chunk", &chunkLayout, nChunkSlots}, {"choice", &choiceLayout, nChoiceSlots}, {"tool call", &callLayout, nCallSlots}}
	for _, r := range records {
		used := map[int]string{}
		var walk func(o *object, at int)
		walk = func(o *object, at int) {
			for _, k := range o.keys {
				s := at + k.slot
				if s < 0 || s >= r.n {
					t.Errorf("%s: %q has slot %d, outside its %d", r.name, k.name, s, r.n)
				}
				if prev, ok := used[s]; ok {
					t.Errorf("%s: %q and %q share slot %d", r.name, prev, k.name, s)
				}
				used[s] = k.name
				if k.obj != nil {
					walk(k.obj, at+k.at)
				}
			}
		}
		walk(r.o, 0)
	}
}

// TestFastAndSlowAgree checks inputs where the walkers could part: an error in one choice
// and a delta that is not an object in a later one, repeated keys whose first value is
// null, and a choice whose delta and message both carry tool calls.
func TestFastAndSlowAgree(t *testing.T) {
	calls := func(n int, id string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(`{"id":"`+id+`"},`, n), ",") + "]"
	}
	cases := []string{
		`{"choices":[{"index":-1},{"delta":5}]}`,
		`{"choices":[{"index":-1},5]}`,
		`{"choices":[{"delta":{"content":"x"},"message":5}]}`,
		`{"choices":[{"delta":null,"message":"x"}]}`,
		`{"choices":[null,{"delta":{"content":"x"}}]}`,
		`{"id":null,"id":"x","choices":[]}`,
		`{"choices":[{"delta":{"content":null,"content":"x"}}]}`,
		`{"choices":[{"delta":{"tool_calls":[{"id":null,"id":"x"}]}}]}`,
		`{"choices":[{"delta":{"tool_calls":[{"function":{"name":null,"name":"f"}}]}}]}`,
		`{"choices":[{"message":{"tool_calls":[{"id":"m"}]},"delta":{"tool_calls":[{"id":"d"}]}}]}`,
		`{"choices":[{"delta":{"tool_calls":[{"id":"d"}]},"message":{"tool_calls":[{"id":"m"}]}}]}`,
		`{"choices":[{"delta":null,"message":{"tool_calls":[{"id":"m"}]}}]}`,
		`{"choices":[1,2]`,
		`{"choices":[{},]}`,
		`{"choices":[{"delta":{"tool_calls":[1,]}}]}`,
		// The calls of a message not read take no room from those read.
		`{"choices":[{"message":{"tool_calls":` + calls(1024, "m") + `},"delta":{"tool_calls":` + calls(1000, "d") + `}},` +
			`{"delta":{"tool_calls":` + calls(24, "e") + `},"message":{"tool_calls":` + calls(1024, "n") + `}}]}`,
		`{"choices":[{"message":{"tool_calls":` + calls(1024, "m") + `},"delta":{"tool_calls":` + calls(1000, "d") + `}},` +
			`{"delta":{"tool_calls":` + calls(25, "e") + `}}]}`,
		`{"choices":[{"delta":{"tool_calls":` + calls(1025, "d") + `}}]}`,
	}
	for _, data := range cases {
		name := data
		if len(name) > 80 {
			name = name[:80] + "…"
		}
		var fast, full, slow chunkDecoder
		errFast := fast.decodeMode([]byte(data), true)
		errFull := full.decode([]byte(data))
		errJSON := slow.decodeMode([]byte(data), false)
		if fmt.Sprint(errFull) != fmt.Sprint(errJSON) || errFull == nil && !sameDecoding(&full, &slow) {
			t.Errorf("%s: decode gives %v %+v, encoding/json %v %+v", name, errFull, full.choices, errJSON, slow.choices)
		}
		if errFast == errSlow {
			continue // the fast walker declined
		}
		if fmt.Sprint(errFast) != fmt.Sprint(errJSON) {
			t.Errorf("%s: fast path error %v, encoding/json %v", name, errFast, errJSON)
			continue
		}
		if errFast == nil && !sameDecoding(&fast, &slow) {
			t.Errorf("%s:\nfast %+v %d calls\nslow %+v %d calls", name, fast.choices, len(fast.calls), slow.choices, len(slow.calls))
		}
	}
}
