package treeindex

import "syscall"

// times are the modification and change times of st, in nanoseconds.
func times(st *syscall.Stat_t) (mtime, ctime int64) { return st.Mtim.Nano(), st.Ctim.Nano() }
