package sse

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// interopDir holds the Node.js peers (npm ci --prefix interop installs them).
const interopDir = "../../interop"

// needNode returns the path of node, skipping the test when the peers are not installed,
// except in CI, where a missing peer is a failure.
func needNode(t *testing.T, module string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(interopDir, "node_modules", module))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (%v); .ci/run must run npm ci --prefix %s", module, err, interopDir)
		}
		t.Skipf("%s not installed (npm ci --prefix %s): %v", module, interopDir, err)
	}
	return node
}

type conformanceCase struct {
	Input []byte `json:"input"` // base64 in JSON
	Cuts  []int  `json:"cuts"`
}

type conformanceResult struct {
	Events []testEvent `json:"events"`
	Retry  int64       `json:"retry"`
}

// chatBodies are event streams as chat servers send them: OpenAI's, with a role chunk
// and [DONE]; CRLF line ends and keep-alive comments (proxies, llama.cpp); an error
// event; data split over several lines; a BOM; a body cut short.
var chatBodies = []string{
	"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n" +
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n" +
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
	": ping\r\n\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\n\r\n: ping\r\n\r\ndata: [DONE]\r\n\r\n",
	"event: error\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n",
	"data: {\"choices\":\ndata: [{\"delta\":{\"content\":\"x\"}}]}\n\n",
	"\xEF\xBB\xBFdata: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\\\":1}\"}}]}}]}\n\n",
	"id: 1\nretry: 3000\ndata: {\"choices\":[{\"delta\":{\"content\":\"Привет 😀\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"cont",
}

// sseAlphabet is what random event streams are made of: field names right and wrong,
// every line end, comments, BOMs, multi-byte text.
var sseAlphabet = []string{
	"data:", "data: ", "data", "event: ", "event:error", "event:", "id: 1", "id:", "id: x\x00", "retry: 15",
	"retry: 2x", "retry:", ":comment", ": c", "Data: X", "DATA", "\n", "\n", "\n", "\r", "\r\n", "\r\n",
	"foo", " bar", ":", " ", "é", "😀", "Привет", "\xEF\xBB\xBF", "x", "{\"a\":1}",
}

func randomStream(rng *rand.Rand) []byte {
	var b bytes.Buffer
	for range 1 + rng.IntN(40) {
		b.WriteString(sseAlphabet[rng.IntN(len(sseAlphabet))])
	}
	return b.Bytes()
}

// TestConformsToEventsourceParser feeds the same byte streams, cut the same ways, to our
// event reader and to eventsource-parser (npm, the most used JavaScript parser), and
// requires the same events and the same reconnection time.
func TestConformsToEventsourceParser(t *testing.T) {
	node := needNode(t, "eventsource-parser")
	var cases []conformanceCase
	add := func(in []byte, rng *rand.Rand) {
		cases = append(cases, conformanceCase{Input: in, Cuts: []int{}})
		for range 3 {
			var cuts []int
			for off := 1 + rng.IntN(4); off < len(in); off += 1 + rng.IntN(8) {
				cuts = append(cuts, off)
			}
			cases = append(cases, conformanceCase{Input: in, Cuts: append([]int{}, cuts...)})
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, body := range chatBodies {
		add([]byte(body), rng)
	}
	for range 3000 {
		add(randomStream(rng), rng)
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(interopDir, "sse-events.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var want []conformanceResult
	if err := json.Unmarshal(out, &want); err != nil || len(want) != len(cases) {
		t.Fatalf("node answered %d results for %d cases: %v", len(want), len(cases), err)
	}
	failures := 0
	for i, c := range cases {
		evs, retry, _ := readEvents(c.Input, c.Cuts, 1<<20)
		got := conformanceResult{Events: evs, Retry: retry}
		if got.Events == nil {
			got.Events = []testEvent{}
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("input %q cut at %v:\n ours %+v\n eventsource-parser %+v", c.Input, c.Cuts, got, want[i])
			if failures++; failures > 5 {
				t.FailNow()
			}
		}
	}
	t.Logf("%d streams agree with eventsource-parser", len(cases))
}
