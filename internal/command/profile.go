package command

import (
	"os"
	"runtime/pprof"
)

// StartCPUProfile starts a CPU profile written to path (a command's hidden --cpuprofile); ""
// profiles nothing. The returned func stops it and closes the file.
func StartCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	out, err := os.Create(path)
	if err != nil {
		return nil, Usage("--cpuprofile: %v", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, Usage("--cpuprofile: %v", err)
	}
	return func() {
		pprof.StopCPUProfile()
		out.Close()
	}, nil
}
