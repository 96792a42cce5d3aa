//go:build !linux && !darwin

package treeindex

import "io/fs"

// statPath gives no stat on this platform: without a change time, a file rewritten with its
// old size and modification time could not be told apart, so the index answers nothing.
func statPath(string) (Stat, bool) { return Stat{}, false }

// StatOf gives no stat on this platform either.
func StatOf(fs.FileInfo) (Stat, bool) { return Stat{}, false }
