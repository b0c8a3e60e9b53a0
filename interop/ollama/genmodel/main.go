// Command genmodel writes a tiny deterministic GGUF model and one Modelfile per test
// model into a directory, for lockchat's integration suite against a real Ollama server.
//
// Usage:
//
//	go run . -out DIR
//
// It writes DIR/lockchat-tiny.gguf and DIR/NAME.Modelfile for each model in scenarios.go;
// "ollama create NAME -f DIR/NAME.Modelfile" then makes each model. The weights make
// greedy decoding and sampling alike follow fixed chains of tokens, so every model gives
// the same answer at any temperature and seed (see model.go).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ggufName is the weights' file name, shared by every Modelfile.
const ggufName = "lockchat-tiny.gguf"

func main() {
	out := flag.String("out", "", "directory to write the model and Modelfiles into")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: genmodel -out DIR")
		os.Exit(2)
	}
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "genmodel:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	v, err := buildVocab(chains)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeGGUF(filepath.Join(dir, ggufName), v); err != nil {
		return fmt.Errorf("writing the model: %w", err)
	}
	for _, m := range models {
		if strings.Contains(m.template, `"""`) {
			return fmt.Errorf("model %s: a template may not contain \"\"\"", m.name)
		}
		// One thread: the model is too small to share out, and on a busy machine a
		// second thread makes each token wait for the slower one.
		modelfile := fmt.Sprintf("FROM ./%s\nPARAMETER num_thread 1\nTEMPLATE \"\"\"%s\"\"\"\n", ggufName, m.template)
		if err := os.WriteFile(filepath.Join(dir, m.name+".Modelfile"), []byte(modelfile), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "genmodel: %d tokens, %d chain states, %d models in %s\n", len(v.tokens), len(v.state), len(models), dir)
	return nil
}
