// Package treeindex remembers, between runs over one tree, what its directories list and what
// its files hold, so that a run over an unchanged tree neither lists every directory nor reads
// every file again. It is the idea of git's index and untracked cache:
//
//   - a directory's entries (names and types) are valid while the directory's stat holds
//     (adding, removing or renaming an entry changes the directory's modification time);
//   - a file's content digest, and what the caller derived from its bytes, are valid while the
//     file's stat (size, modification and change times in nanoseconds, inode, device, mode)
//     holds.
//
// A stat that is too recent to tell a later write apart (within RacyWindow of the run's start,
// or in the future) is "racy": such an entry is never recorded, so the next run reads the
// directory or file again. Entries are always checked against a fresh stat, so an index written
// by a concurrent or older run is only ever unused, never wrong. The index file carries a
// checksum: a damaged index is empty.
package treeindex

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/openova-io/ova-lint/linter/cache"
)

// RacyWindow is how close to the run's start a modification or change time makes an entry
// racy: file systems keep times at a granularity of up to two seconds (FAT), and a write in the
// same tick as the run's stat would not change it.
const RacyWindow = 2 * time.Second

// MaxAge removes the index files of other trees unused for this long.
const MaxAge = 14 * 24 * time.Hour

// MaxTrees bounds the index files kept: beyond it, the least recently used go first (every
// development build of ova-lint has its own scope, so rebuilding would otherwise pile them up).
const MaxTrees = 16

const magic = "OVALINT-TREEINDEX2\n"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Stat is what identifies one version of a file or directory.
type Stat struct {
	Size, Mtime, Ctime int64 // bytes; nanoseconds since the epoch
	Ino, Dev           uint64
	Mode               uint32
}

// File is what the index keeps of a file: the SHA-256 of its bytes and the caller's own data
// derived from them.
type File struct {
	Digest [32]byte
	Meta   []byte
}

type dirRecord struct {
	stat    Stat
	entries []entry
	used    atomic.Bool // by this run: kept when the index is written
}

type entry struct {
	dir  string // the directory's path: an *entry is the fs.DirEntry ReadDir returns
	name string
	typ  fs.FileMode
}

type fileRecord struct {
	stat Stat
	file File
	used atomic.Bool
}

// Index is the index of one tree for one run. It is safe for concurrent use: the records read
// are never changed (a hit only marks one used), what the run records goes to its own maps.
type Index struct {
	path   string
	cutoff int64 // stats at or after this time (ns) are racy

	oldDirs  map[string]*dirRecord // as read; read-only
	oldFiles map[string]*fileRecord
	damaged  bool
	dirHits  atomic.Int64
	fileHits atomic.Int64
	// recorded directories and files whose stat no longer held
	dirMismatches, fileMismatches atomic.Int64

	// What this run records is encoded at once, as encode writes it, rather than kept as
	// records in maps: on a first run over 75,000 entries the maps, their records and paths
	// held ~25 MB of the live heap through the whole lint (~10 MB encoded), and the collector
	// works in proportion. A path recorded twice is written twice; the later record wins when
	// the index is read, as the later assignment did in a map.
	mu                  sync.Mutex
	newDirs             cache.Writer // recorded directories: path, stat, entries
	newFiles            cache.Writer // recorded files: path, stat, digest, meta
	nNewDirs, nNewFiles int
}

// Open reads the index of scope (the tree and whatever else decides what an entry means: the
// caller's identity, its working directory) under dir, as of a run that started at start. An
// index that is missing or damaged is empty. Open fails only when dir cannot be created.
func Open(dir, scope string, start time.Time) (*Index, error) {
	dir = filepath.Join(dir, "trees")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tree index: %w", err)
	}
	ix := &Index{
		path:   filepath.Join(dir, cache.NewHasher().String(scope).Sum().String()[:32]+".index"),
		cutoff: start.Add(-RacyWindow).UnixNano(),
	}
	raw, err := os.ReadFile(ix.path)
	if err == nil && !ix.parse(raw) {
		ix.damaged = true
	}
	if ix.damaged || ix.oldDirs == nil {
		ix.oldDirs, ix.oldFiles = map[string]*dirRecord{}, map[string]*fileRecord{}
	}
	return ix, nil
}

// Empty reports whether the index holds no record of an earlier run (a first run, or a damaged
// index): the run will read every file. A nil Index is empty.
func (ix *Index) Empty() bool {
	return ix == nil || len(ix.oldDirs)+len(ix.oldFiles) == 0
}

// Stats says how many directories and files the index answered for, and whether the index
// read was damaged.
type Stats struct {
	Dirs, Files int
	Damaged     bool
}

// Stats counts what the index answered so far.
func (ix *Index) Stats() Stats {
	if ix == nil {
		return Stats{}
	}
	return Stats{Dirs: int(ix.dirHits.Load()), Files: int(ix.fileHits.Load()), Damaged: ix.damaged}
}

// racy reports whether st is too recent to be trusted later.
func (ix *Index) racy(st Stat) bool {
	return st.Mtime >= ix.cutoff || st.Ctime >= ix.cutoff
}

// staleAfter is how many recorded directories (or files) in a row may fail their stat, with
// none holding, before the index stops asking for them: a fresh checkout gives every directory
// and file a new inode, and a stat per path would then buy nothing.
const staleAfter = 256

// checking reports whether records are worth a stat: some held, or fewer than staleAfter failed.
func checking(hits, mismatches *atomic.Int64) bool {
	return hits.Load() > 0 || mismatches.Load() < staleAfter
}

// ReadDir is os.ReadDir through the index: the entries recorded for osPath when its stat still
// holds, else the directory read now (and recorded under the stat of the opened directory,
// unless it is racy). A nil Index reads the directory.
func (ix *Index) ReadDir(osPath string) ([]fs.DirEntry, error) {
	if ix == nil {
		return os.ReadDir(osPath)
	}
	if r, ok := ix.oldDirs[osPath]; ok && checking(&ix.dirHits, &ix.dirMismatches) {
		if st, statOK := statPath(osPath); statOK && r.stat == st && !ix.racy(st) {
			r.used.Store(true)
			ix.dirHits.Add(1)
			out := make([]fs.DirEntry, len(r.entries))
			for i := range r.entries {
				out[i] = &r.entries[i]
			}
			return out, nil
		}
		ix.dirMismatches.Add(1)
	}
	des, st, err := readDir(osPath)
	if err != nil || st == (Stat{}) || ix.racy(st) {
		return des, err
	}
	ix.mu.Lock()
	w := &ix.newDirs
	w.String(osPath)
	writeStat(w, st)
	w.Int(len(des))
	for _, d := range des {
		w.String(d.Name())
		w.Int(int(d.Type()))
	}
	ix.nNewDirs++
	ix.mu.Unlock()
	return des, nil
}

// readDir is os.ReadDir that also returns the directory's stat, taken on the opened directory
// before its entries are read (zero when the platform gives none).
func readDir(osPath string) ([]fs.DirEntry, Stat, error) {
	f, err := os.Open(osPath)
	if err != nil {
		return nil, Stat{}, err
	}
	defer f.Close()
	var st Stat
	if fi, err := f.Stat(); err == nil {
		st, _ = StatOf(fi)
	}
	des, err := f.ReadDir(-1)
	slices.SortFunc(des, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return des, st, err
}

// *entry is a recorded directory entry, as ReadDir returns it (no allocation per entry).
func (e *entry) Name() string               { return e.name }
func (e *entry) IsDir() bool                { return e.typ.IsDir() }
func (e *entry) Type() fs.FileMode          { return e.typ }
func (e *entry) Info() (fs.FileInfo, error) { return os.Lstat(filepath.Join(e.dir, e.name)) }
func (e *entry) String() string             { return fs.FormatDirEntry(e) }

// Lookup returns what was recorded for osPath when the file's stat still holds (ok). It takes
// no stat when nothing was recorded for the file.
func (ix *Index) Lookup(osPath string) (File, bool) {
	if ix == nil {
		return File{}, false
	}
	r, found := ix.oldFiles[osPath]
	if !found || !checking(&ix.fileHits, &ix.fileMismatches) {
		return File{}, false
	}
	st, statOK := statPath(osPath)
	if !statOK || r.stat != st || ix.racy(st) {
		ix.fileMismatches.Add(1)
		return File{}, false
	}
	r.used.Store(true)
	ix.fileHits.Add(1)
	return r.file, true
}

// Record keeps f for osPath under st, the stat of the file taken before it was read (StatOf the
// opened file's Stat): a write after that stat changes the stat, so the entry cannot outlive
// it. A racy or zero stat is not recorded.
func (ix *Index) Record(osPath string, st Stat, f File) {
	if ix == nil || st == (Stat{}) || ix.racy(st) {
		return
	}
	ix.mu.Lock()
	w := &ix.newFiles
	w.String(osPath)
	writeStat(w, st)
	w.Blob(f.Digest[:])
	w.Blob(f.Meta)
	ix.nNewFiles++
	ix.mu.Unlock()
}

// Close writes the index of this run (the entries it used or recorded) when it differs from
// the one read, and removes the index files of other trees unused for MaxAge or beyond the
// MaxTrees most recently used. A failure only costs the next run time.
func (ix *Index) Close() error {
	if ix == nil {
		return nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.damaged && ix.changes()*rewriteEvery < len(ix.oldDirs)+len(ix.oldFiles) {
		now := time.Now()
		_ = os.Chtimes(ix.path, now, now) // in use: not trimmed
		return ix.trim()
	}
	body := ix.encode()
	out := make([]byte, 0, len(magic)+4+len(body))
	out = append(out, magic...)
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(body, castagnoli))
	out = append(out, body...)
	tmp, err := os.CreateTemp(filepath.Dir(ix.path), ".index-*")
	if err != nil {
		return fmt.Errorf("tree index: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return fmt.Errorf("tree index: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("tree index: %w", err)
	}
	if err := os.Rename(tmp.Name(), ix.path); err != nil {
		return fmt.Errorf("tree index: %w", err)
	}
	return ix.trim()
}

// rewriteEvery: the index is written again when this run changed at least one record in
// rewriteEvery (recorded, or read and not used). Below that the index is kept as it is: the
// next run reads again the few files and directories whose records no longer hold (a file is
// still found in the result cache by its digest), which costs less than writing an index of
// 75,000 records after a run that changed one file.
const rewriteEvery = 500

// changes counts the records this run recorded, and the records read that it did not use.
func (ix *Index) changes() int {
	return ix.nNewDirs + ix.nNewFiles + unused(ix.oldDirs) + unused(ix.oldFiles)
}

// unused counts the records read that this run did not use.
func unused[R interface{ isUsed() bool }](m map[string]R) int {
	n := 0
	for _, r := range m {
		if !r.isUsed() {
			n++
		}
	}
	return n
}

func (r *dirRecord) isUsed() bool  { return r.used.Load() }
func (r *fileRecord) isUsed() bool { return r.used.Load() }

// trim removes other trees' index files unused for MaxAge or beyond the MaxTrees most recently
// used, and temporary files of runs that died while writing.
func (ix *Index) trim() error {
	dir := filepath.Dir(ix.path)
	des, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("tree index: %w", err)
	}
	type index struct {
		path string
		mod  time.Time
	}
	var others []index
	now := time.Now()
	for _, de := range des {
		p := filepath.Join(dir, de.Name())
		if p == ix.path {
			continue
		}
		info, err := de.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		switch age := now.Sub(info.ModTime()); {
		case strings.HasPrefix(de.Name(), ".index-"):
			if age > time.Hour { // a concurrent run's write takes a second
				os.Remove(p)
			}
		case strings.HasSuffix(de.Name(), ".index"):
			if age > MaxAge {
				os.Remove(p)
			} else {
				others = append(others, index{p, info.ModTime()})
			}
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i].mod.After(others[j].mod) })
	for i, o := range others {
		if i+1 >= MaxTrees { // this run's own index is one of the MaxTrees
			os.Remove(o.path)
		}
	}
	return nil
}

// statSize is the size of a Stat as the index writes it: fixed-width fields, which read in a
// fraction of the time of six varints.
const statSize = 5*8 + 4

func writeStat(w *cache.Writer, st Stat) {
	var b [statSize]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(st.Size))
	binary.LittleEndian.PutUint64(b[8:], uint64(st.Mtime))
	binary.LittleEndian.PutUint64(b[16:], uint64(st.Ctime))
	binary.LittleEndian.PutUint64(b[24:], st.Ino)
	binary.LittleEndian.PutUint64(b[32:], st.Dev)
	binary.LittleEndian.PutUint32(b[40:], st.Mode)
	w.Blob(b[:])
}

// readStat reads writeStat's; ok is false when the entry is not one.
func readStat(r *cache.Reader) (Stat, bool) {
	b := r.Blob()
	if len(b) != statSize {
		return Stat{}, false
	}
	return Stat{
		Size:  int64(binary.LittleEndian.Uint64(b[0:])),
		Mtime: int64(binary.LittleEndian.Uint64(b[8:])),
		Ctime: int64(binary.LittleEndian.Uint64(b[16:])),
		Ino:   binary.LittleEndian.Uint64(b[24:]),
		Dev:   binary.LittleEndian.Uint64(b[32:]),
		Mode:  binary.LittleEndian.Uint32(b[40:]),
	}, true
}

// encode writes the records this run used (those read whose stat held), then those it
// recorded: a path in both is read as the recorded one.
func (ix *Index) encode() []byte {
	newDirs, _ := ix.newDirs.Bytes()
	newFiles, _ := ix.newFiles.Bytes()
	var w cache.Writer
	w.Grow(len(newDirs) + len(newFiles) + 4096) // grown once for the new records
	w.Int(usedCount(ix.oldDirs) + ix.nNewDirs)
	for p, r := range ix.oldDirs {
		if !r.used.Load() {
			continue
		}
		w.String(p)
		writeStat(&w, r.stat)
		w.Int(len(r.entries))
		for _, e := range r.entries {
			w.String(e.name)
			w.Int(int(e.typ))
		}
	}
	w.Raw(newDirs)
	w.Int(usedCount(ix.oldFiles) + ix.nNewFiles)
	for p, r := range ix.oldFiles {
		if !r.used.Load() {
			continue
		}
		w.String(p)
		writeStat(&w, r.stat)
		w.Blob(r.file.Digest[:])
		w.Blob(r.file.Meta)
	}
	w.Raw(newFiles)
	b, _ := w.Bytes() // only strings, ints and bytes: no error
	return b
}

// usedCount counts the records read that this run used.
func usedCount[R interface{ isUsed() bool }](m map[string]R) int {
	return len(m) - unused(m)
}

// parse reads an index file; false when it is damaged.
func (ix *Index) parse(raw []byte) bool {
	if len(raw) < len(magic)+4 || string(raw[:len(magic)]) != magic {
		return false
	}
	sum := binary.LittleEndian.Uint32(raw[len(magic):])
	body := raw[len(magic)+4:]
	if crc32.Checksum(body, castagnoli) != sum {
		return false
	}
	// Paths, names and metadata are strings and slices of raw, which the records keep alive:
	// no copy of each (an index of 75,000 entries parses in half the time).
	str := func(r *cache.Reader) string {
		b := r.Blob()
		if len(b) == 0 {
			return ""
		}
		return unsafe.String(&b[0], len(b))
	}
	r := cache.NewReader(body)
	nd := r.Len()
	ix.oldDirs = make(map[string]*dirRecord, nd)
	dirs := make([]dirRecord, nd)
	var slab []entry
	for i := 0; i < nd && r.Err() == nil; i++ {
		p := str(r)
		rec := &dirs[i]
		var ok bool
		if rec.stat, ok = readStat(r); !ok {
			return false
		}
		if ne := r.Len(); ne > 0 {
			if cap(slab)-len(slab) < ne {
				slab = make([]entry, 0, max(ne, 4096))
			}
			rec.entries = slab[len(slab) : len(slab)+ne : len(slab)+ne]
			slab = slab[:len(slab)+ne]
			for j := range rec.entries {
				rec.entries[j] = entry{dir: p, name: str(r), typ: fs.FileMode(r.Int())}
			}
		}
		ix.oldDirs[p] = rec
	}
	nf := r.Len()
	ix.oldFiles = make(map[string]*fileRecord, nf)
	files := make([]fileRecord, nf)
	for i := 0; i < nf && r.Err() == nil; i++ {
		p := str(r)
		rec := &files[i]
		var ok bool
		if rec.stat, ok = readStat(r); !ok {
			return false
		}
		d := r.Blob()
		if len(d) != len(rec.file.Digest) {
			return false
		}
		copy(rec.file.Digest[:], d)
		if m := r.Blob(); len(m) > 0 {
			rec.file.Meta = m[:len(m):len(m)]
		}
		ix.oldFiles[p] = rec
	}
	return r.Done() == nil
}
