package lockchat

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// This file holds the rules by which tool-call fragments become calls. Servers disagree
// on how they stream tool calls; these rules fit every server lockchat was tested on,
// and what they repair is reported (ToolCallDelta.Repair, Completion.Repairs) rather
// than failed or hidden:
//
//   - an index is a key, not a position: it continues the call that has it, and a new
//     index opens the next call, so a gap leaves no hole (RepairIndexGap; OpenAI and most
//     servers, gateways that start at 1);
//   - no index, or -1, continues the current call, unless the fragment has a new
//     non-empty id; index-less entries of one array are separate calls (RepairNoIndex,
//     RepairIndexMinusOne; Gemini, Ollama before 0.4.7, Bedrock gateways);
//   - an entry with its own new id and name at an index that holds another call opens a
//     new call (RepairIndexReused; lmdeploy);
//   - a call's first non-empty id, type and name win, never concatenated or overwritten
//     (RepairCallChanged when they change; SGLang, LM Studio, LiteLLM), and so does the
//     first value of any other key (Extra), and of an OpenAI custom call's keys but its
//     input, which is appended;
//   - type defaults to "function" (RepairTypeMissing; Mistral);
//   - every arguments fragment is appended, the finish chunk's included, and kept as
//     received even when it is not valid JSON (vLLM; an answer cut by "length").
//
// The stream numbers the fragments (numberCalls), so that ToolCallDelta.Index is already
// the call's position; the Accumulator merges them (addCall). The README's rule table
// says the same.

// The repairs of tool calls, as ToolCallDelta.Repair (the first four, made by the stream)
// and Repair.Kind name them.
const (
	// RepairNoIndex: the fragment had no index (Gemini, Ollama before 0.4.7).
	RepairNoIndex = "tool call without index"
	// RepairIndexMinusOne: the fragment had index -1 (some Bedrock gateways).
	RepairIndexMinusOne = "tool call with index -1"
	// RepairIndexReused: a fragment with its own id and name came at an index that already
	// held another call, and started a new one (lmdeploy).
	RepairIndexReused = "tool call index reused by another call"
	// RepairIndexGap: the server's indexes skipped a number (a gateway that starts at 1).
	RepairIndexGap = "tool call index skipped"
	// RepairTypeMissing: a tool call never said its type; it is taken as "function".
	RepairTypeMissing = "tool call type missing, function assumed"
	// RepairCallChanged: a fragment gave a call another id, type or name; the first is kept.
	RepairCallChanged = "tool call id, type or name changed, first kept"
)

// callKey identifies a tool call: the server's index (-1 for none) and its first id.
type callKey struct {
	index int
	id    string
}

// numberCalls gives each tool-call fragment of a choice its position in the assembled
// message (c.pos), by the index rules above, and the repair it took (c.repair).
func (st *choiceState) numberCalls(calls []decodedCall) error {
	indexless := 0
	for j := range calls {
		c := &calls[j]
		p := -1
		if c.hasIndex && c.index >= 0 {
			p = st.find(c.index)
			if p >= 0 && c.id != "" && c.name != "" && st.calls[p].id != "" && c.id != st.calls[p].id {
				p, c.repair = -1, RepairIndexReused
			} else if p < 0 && c.index > st.top+1 {
				c.repair = RepairIndexGap
			}
			st.top = max(st.top, c.index)
		} else {
			c.repair = RepairNoIndex
			if c.hasIndex {
				c.repair = RepairIndexMinusOne
			}
			if cur := st.current; cur >= 0 && indexless == 0 &&
				(c.id == "" || st.calls[cur].id == "" || c.id == st.calls[cur].id) {
				p = cur
			}
			indexless++
		}
		if p < 0 {
			if len(st.calls) == maxToolCalls {
				return errTooManyCalls
			}
			key := -1
			if c.hasIndex {
				key = c.index
			}
			p = len(st.calls)
			st.calls = append(st.calls, callKey{index: key, id: c.id})
		} else if st.calls[p].id == "" {
			st.calls[p].id = c.id
		}
		st.current = p
		c.pos = p
	}
	return nil
}

var errTooManyCalls = malformed("tool_calls", fmt.Errorf("more than %d calls in one choice", maxToolCalls))

// find returns the position of the latest call with the server's index i, or -1.
func (st *choiceState) find(i int) int {
	for p := len(st.calls) - 1; p >= 0; p-- {
		if st.calls[p].index == i {
			return p
		}
	}
	return -1
}

// addCall adds one tool-call fragment; it reports false when the size limit was passed.
func (a *Accumulator) addCall(ac *accChoice, d *ToolCallDelta) bool {
	if d.Repair != "" {
		a.note(ac.index, d.Repair)
	}
	n := len(ac.calls)
	call := ac.call(d.Index)
	if len(ac.calls) > n && !a.grow(minEntrySize) {
		ac.calls = ac.calls[:n]
		return false
	}
	changed := false
	for _, f := range []struct {
		dst *string
		v   string
	}{{&call.id, d.ID}, {&call.typ, d.Type}, {&call.name, d.Name}} {
		switch {
		case *f.dst == "":
			if !a.grow(len(f.v)) {
				return false
			}
			*f.dst = f.v
		case f.v != "" && f.v != *f.dst:
			changed = true
		}
	}
	if changed {
		a.note(ac.index, RepairCallChanged)
	}
	for k, v := range d.Extra {
		if k == "custom" && len(v) > 0 && v[0] == '{' {
			if !a.addCustom(call, v) {
				return false
			}
			continue
		}
		if _, ok := call.extra[k]; ok {
			continue // the first value of a key wins, like the id's
		}
		if !a.grow(len(k) + len(v)) {
			return false
		}
		if call.extra == nil {
			call.extra = map[string]json.RawMessage{}
		}
		call.extra[k] = v
	}
	return a.write(&call.args, d.Arguments)
}

// addCustom adds a fragment of an OpenAI custom tool call's "custom" object: its input
// is appended, as the arguments of a function are; any other key's first value wins, as
// the name's does. It reports false when the size limit was passed.
func (a *Accumulator) addCustom(call *accCall, v json.RawMessage) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		return a.grow(len(v)) // not an object after all: dropped, but counted
	}
	call.isCustom = true
	for k, v := range m {
		if k == "input" && len(v) > 0 && v[0] == '"' {
			if call.input == nil {
				call.input = []byte{} // the call has an input, even if it stays ""
			}
			if !a.write(&call.input, textOf(v)) {
				return false
			}
			continue
		}
		if _, ok := call.custom[k]; ok {
			continue
		}
		if !a.grow(len(k) + len(v)) {
			return false
		}
		if call.custom == nil {
			call.custom = map[string]json.RawMessage{}
		}
		call.custom[k] = v
	}
	return true
}

// customJSON returns the assembled "custom" object, its keys in sorted order.
func (call *accCall) customJSON() json.RawMessage {
	m := maps.Clone(call.custom)
	if call.input != nil {
		if m == nil {
			m = map[string]json.RawMessage{}
		}
		m["input"] = appendString(nil, string(call.input))
	}
	b := []byte{'{'}
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = append(b, m[k]...)
	}
	return append(b, '}')
}
