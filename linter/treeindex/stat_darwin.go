package treeindex

import "syscall"

// statPath stats osPath (following symbolic links, as opening it does); false when it cannot.
func statPath(osPath string) (Stat, bool) {
	var st syscall.Stat_t
	for {
		err := syscall.Stat(osPath, &st)
		if err == nil {
			break
		}
		if err != syscall.EINTR {
			return Stat{}, false
		}
	}
	return Stat{
		Size: st.Size, Mtime: st.Mtimespec.Nano(), Ctime: st.Ctimespec.Nano(),
		Ino: st.Ino, Dev: uint64(st.Dev), Mode: uint32(st.Mode),
	}, true
}
