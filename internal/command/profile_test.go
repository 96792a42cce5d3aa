package command

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestStartCPUProfile(t *testing.T) {
	t.Run("no path profiles nothing", func(t *testing.T) {
		stop, err := StartCPUProfile("")
		if err != nil {
			t.Fatal(err)
		}
		stop()
	})
	t.Run("a profile is written when it stops", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cpu.out")
		stop, err := StartCPUProfile(path)
		if err != nil {
			t.Fatal(err)
		}
		stop()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) { // pprof's gzip-compressed protocol buffer
			t.Fatalf("profile is not gzip data: % x", data[:min(len(data), 8)])
		}
	})
	t.Run("an unwritable path is a usage error", func(t *testing.T) {
		_, err := StartCPUProfile(filepath.Join(t.TempDir(), "missing", "cpu.out"))
		var usage UsageError
		if err == nil || !errors.As(err, &usage) {
			t.Fatalf("want a usage error, got %v", err)
		}
	})
}
