// Command gencorpus writes a deterministic GitOps tree for benchmarks (see internal/gencorpus).
//
//	go run ./hack/gencorpus -docs 50000 -out /tmp/corpus-50k
//	go run ./hack/gencorpus -docs 50000 -shape files -out /tmp/files-50k   # ~45,000 files
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/openova-io/ova-lint/internal/gencorpus"
)

func main() {
	docs := flag.Int("docs", 10000, "number of documents to write")
	out := flag.String("out", "", "output directory (must not exist or be empty)")
	seed := flag.Uint64("seed", 42, "seed: the same seed writes the same tree")
	shape := flag.String("shape", string(gencorpus.ShapeApps), "layout: apps (9 documents in 4 files per app) or files (about one document per file)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gencorpus: -out is required")
		os.Exit(2)
	}
	st, err := gencorpus.GenerateShape(*out, *docs, *seed, gencorpus.Shape(*shape))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
	fmt.Printf("%d files, %d documents, %d violations in %s\n", st.Files, st.Documents, st.Violations, *out)
}
