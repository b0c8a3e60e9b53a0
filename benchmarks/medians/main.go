// Command medians reads `go test -bench` output and prints, for each metric, the median
// of every benchmark's runs with the clients side by side.
//
//	go test -run '^$' -bench . -benchmem -count 5 | go run ./medians
//
// A benchmark's client is the last element of its name, or, for a benchmark that
// measures all clients in one run, the suffix of a metric's unit: "p50-µs:lockchat" is
// the metric p50-µs of the client lockchat.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The clients, in the order of the columns; a benchmark whose last name element is not
// one of them is a row of its own.
var clientOrder = []string{"lockchat", "lockchat-chunks", "go-openai", "openai-go", "encoding-json", "raw-lines", "raw"}

var procSuffix = regexp.MustCompile(`-\d+$`)

func main() {
	// samples[metric][row][client] holds every run's value.
	samples := map[string]map[string]map[string][]float64{}
	var metrics, rows []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		row, client := name, "-"
		if i := strings.LastIndexByte(name, '/'); i >= 0 && slices.Contains(clientOrder, name[i+1:]) {
			row, client = name[:i], name[i+1:]
		}
		if !slices.Contains(rows, row) {
			rows = append(rows, row)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			unit, client := f[i+1], client
			if u, c, ok := strings.Cut(unit, ":"); ok && slices.Contains(clientOrder, c) {
				unit, client = u, c
			}
			if samples[unit] == nil {
				samples[unit] = map[string]map[string][]float64{}
				metrics = append(metrics, unit)
			}
			if samples[unit][row] == nil {
				samples[unit][row] = map[string][]float64{}
			}
			samples[unit][row][client] = append(samples[unit][row][client], v)
		}
	}
	cols := append(slices.Clone(clientOrder), "-")
	for _, unit := range metrics {
		if unit == "ns/op" || unit == "B/op" || unit == "allocs/op" {
			continue // the per-token and per-stream figures say it better
		}
		fmt.Printf("\n%s (median of runs)\n", unit)
		var used []string
		for _, c := range cols {
			for _, r := range rows {
				if len(samples[unit][r][c]) > 0 && !slices.Contains(used, c) {
					used = append(used, c)
				}
			}
		}
		width := len("benchmark")
		for _, r := range rows {
			if samples[unit][r] != nil {
				width = max(width, len(r))
			}
		}
		fmt.Printf("| %-*s |", width, "benchmark")
		for _, c := range used {
			fmt.Printf(" %15s |", c)
		}
		fmt.Printf("\n|%s|", strings.Repeat("-", width+2))
		for range used {
			fmt.Printf("%s:|", strings.Repeat("-", 16))
		}
		fmt.Println()
		for _, r := range rows {
			if samples[unit][r] == nil {
				continue
			}
			fmt.Printf("| %-*s |", width, r)
			for _, c := range used {
				vs := samples[unit][r][c]
				if len(vs) == 0 {
					fmt.Printf(" %15s |", "")
					continue
				}
				fmt.Printf(" %15s |", format(median(vs)))
			}
			fmt.Println()
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func format(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
