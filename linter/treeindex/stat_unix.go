//go:build linux || darwin

package treeindex

import (
	"io/fs"
	"syscall"
)

// statPath stats osPath (following symbolic links, as opening it does); false when it cannot.
func statPath(osPath string) (Stat, bool) {
	var st syscall.Stat_t
	for {
		err := syscall.Stat(osPath, &st)
		if err == nil {
			return statOf(&st), true
		}
		if err != syscall.EINTR {
			return Stat{}, false
		}
	}
}

// StatOf is the Stat of a file's os.FileInfo (os.Stat's, or an opened file's Stat); false when
// it carries none.
func StatOf(fi fs.FileInfo) (Stat, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st == nil {
		return Stat{}, false
	}
	return statOf(st), true
}

func statOf(st *syscall.Stat_t) Stat {
	mtime, ctime := times(st)
	return Stat{Size: st.Size, Mtime: mtime, Ctime: ctime, Ino: st.Ino, Dev: uint64(st.Dev), Mode: uint32(st.Mode)}
}
