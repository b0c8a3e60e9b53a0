package benchmarks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// This file holds the child processes of the gateway benchmarks. The test binary runs
// itself again with childEnv set: as the server, so that the client's process holds only
// client state, or as one client reading one long answer, so that its peak RSS is its own.

// childEnv tells a re-executed test binary what to be instead of a test run.
const childEnv = "LOCKCHAT_BENCH_CHILD"

// TestMain runs the tests, or the child process childEnv names.
func TestMain(m *testing.M) {
	var err error
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "server":
		err = serveChild(os.Stdin, os.Stdout)
	case "long":
		err = longAnswerChild(os.Getenv("LOCKCHAT_BENCH_CLIENT"), os.Getenv("LOCKCHAT_BENCH_BASE"), os.Getenv("LOCKCHAT_BENCH_TOKENS"))
	default:
		err = fmt.Errorf("unknown %s=%q", childEnv, os.Getenv(childEnv))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", os.Getenv(childEnv), err)
		os.Exit(1)
	}
	os.Exit(0)
}

// child starts the test binary again as the child kind, with env added.
func child(kind string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+kind), env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// serverProcess is a workload server in a child process. Its URL serves, under
// /MODE/WORKLOAD/chat/completions, the workload named WORKLOAD (see serverWorkload) in
// one of two modes: "stream" writes the events one by one, flushing after each; "hold"
// writes the first w.Hold events, then waits until release (or the client leaves) before
// writing the rest.
type serverProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	URL   string
}

// startServer starts a server process; close ends it. Closing the process's standard
// input ends it too, so a parent that dies leaves no server behind.
func startServer() (*serverProcess, error) {
	cmd := child("server")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProcess{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	line, err := p.out.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		p.close()
		return nil, fmt.Errorf("server process: %q, %v", line, err)
	}
	p.URL = strings.TrimSpace(line)
	return p, nil
}

// release lets every holding stream go on, and returns once the server has been told.
func (p *serverProcess) release() error {
	if _, err := io.WriteString(p.stdin, "release\n"); err != nil {
		return err
	}
	if line, err := p.out.ReadString('\n'); err != nil || line != "released\n" {
		return fmt.Errorf("server process: %q, %v", line, err)
	}
	return nil
}

func (p *serverProcess) close() error {
	p.stdin.Close()
	return p.cmd.Wait()
}

// serveChild is the server process: it prints its URL, then releases the holding streams
// for each "release" line on in, and returns when in ends.
func serveChild(in io.Reader, out io.Writer) error {
	if _, err := raiseFileLimit(0); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s := &workloadServer{workloads: map[string]served{}, released: make(chan struct{})}
	srv := &http.Server{Handler: s}
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Fprintf(out, "http://%s\n", ln.Addr())
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if sc.Text() == "release" {
			s.once.Do(func() { close(s.released) })
			fmt.Fprintln(out, "released")
		}
	}
	return sc.Err()
}

// workloadServer serves the workloads, built on first use.
type workloadServer struct {
	mu        sync.Mutex
	workloads map[string]served
	released  chan struct{}
	once      sync.Once
}

// served is a workload and its events.
type served struct {
	w      Workload
	events []string
}

func (s *workloadServer) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[2] != "chat" || parts[3] != "completions" || (parts[0] != "stream" && parts[0] != "hold") {
		http.Error(rw, "no such route", http.StatusNotFound)
		return
	}
	sv, err := s.workload(parts[1])
	if err != nil {
		http.Error(rw, err.Error(), http.StatusNotFound)
		return
	}
	rw.Header().Set("Content-Type", "text/event-stream")
	f := rw.(http.Flusher)
	write := func(ev string) error {
		_, err := io.WriteString(rw, ev)
		f.Flush()
		return err
	}
	if sv.w.Long != nil {
		sv.w.Long.Each(write)
		return
	}
	for i, ev := range sv.events {
		if parts[0] == "hold" && i == sv.w.Hold {
			select {
			case <-s.released:
			case <-r.Context().Done():
				return
			}
		}
		if write(ev) != nil {
			return
		}
	}
}

// workload returns the named workload: "short", "idle-BYTES" (Idle(BYTES)) or
// "long-TOKENS" (a LongStream; the server does not need Long's digests).
func (s *workloadServer) workload(name string) (served, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sv, ok := s.workloads[name]; ok {
		return sv, nil
	}
	var w Workload
	kind, arg, _ := strings.Cut(name, "-")
	n, err := strconv.Atoi(arg)
	switch {
	case name == "short":
		w = Short("short", nil)
	case kind == "idle" && err == nil:
		w = Idle(n)
	case kind == "long" && err == nil:
		w = Workload{Name: name, Long: &LongStream{Tokens: n}}
	default:
		return served{}, fmt.Errorf("no workload %q", name)
	}
	sv := served{w: w, events: strings.SplitAfter(w.Body, "\n\n")}
	if sv.events[len(sv.events)-1] == "" {
		sv.events = sv.events[:len(sv.events)-1]
	}
	s.workloads[name] = sv
	return sv, nil
}

// raiseFileLimit raises the soft limit on open files to the hard one and returns it. It
// fails if that is not enough for need files.
func raiseFileLimit(need int) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	if uint64(need) > lim.Cur {
		return lim.Cur, fmt.Errorf("%d open files needed, the limit is %d (raise it with ulimit -Hn)", need, lim.Cur)
	}
	return lim.Cur, nil
}

// longAnswerChild is one client reading one long answer of tokens (a decimal string)
// from base, in a process of its own. It prints the process's peak resident set size
// (VmHWM) at its start and at its end, in KiB, then the garbage collections and the
// bytes allocated while it read.
func longAnswerChild(name, base, tokens string) error {
	start, err := peakRSS()
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(tokens)
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	var c *client
	for i := range clients {
		if clients[i].name == name {
			c = &clients[i]
		}
	}
	if c == nil {
		return fmt.Errorf("no client %q", name)
	}
	w := Long(n)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	if err := c.open(&http.Client{Transport: tr}, base, w)(ctx, newCheckers(w)); err != nil {
		return err
	}
	peak, err := peakRSS()
	if err != nil {
		return err
	}
	runtime.ReadMemStats(&after)
	fmt.Printf("rss-kib %d %d gc %d alloc %d\n", start, peak, after.NumGC-before.NumGC, after.TotalAlloc-before.TotalAlloc)
	return nil
}

// peakRSS returns the process's peak resident set size, VmHWM, in KiB.
func peakRSS() (int, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}
