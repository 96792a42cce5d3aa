// Package cache keeps the results of earlier runs on disk, addressed by content: an entry is
// found by a key that hashes everything its value was computed from (a file's bytes and path
// and the fingerprint of the engine that judged it), so an entry is never stale, only unused.
//
// The entries of one engine fingerprint live in one pack file, read whole when a run starts.
// When it ends, a run that only added entries appends them in one write; any other change
// writes the pack again (to a temporary file, then renamed over the old one). A reader stops at
// the first record that is not whole, so concurrent runs never see a partial entry, and the
// last writer wins. Every entry carries a
// checksum: a corrupt or truncated entry is a miss, never a value. The cache is bounded: a pack
// keeps its most recently used entries up to the size cap, and the packs of other fingerprints
// are removed, oldest first, when the directory outgrows the cap or when unused for MaxAge.
package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Key addresses one entry: a SHA-256 of everything its value depends on.
type Key [sha256.Size]byte

// String is the key in hex.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// Options bound a cache directory.
type Options struct {
	// MaxBytes caps the size of the directory's packs; 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxAge removes a pack (of another fingerprint) unused for this long, and drops an entry
	// unused for this long; 0 means DefaultMaxAge.
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultMaxBytes = 512 << 20
	DefaultMaxAge   = 14 * 24 * time.Hour
)

const (
	magic      = "OVALINT-CACHE1\n"
	packSuffix = ".pack"
	// recordHeader: key, last use (unix seconds), payload length, CRC-32C of key+payload.
	recordHeader = sha256.Size + 8 + 4 + 4
	// maxEntry bounds one payload, so a corrupt length cannot ask for gigabytes.
	maxEntry = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Session is the cache of one engine fingerprint for one run. Get and Put are safe for
// concurrent use; Close writes what the run used and added.
type Session struct {
	dir, path string
	opts      Options
	now       int64

	// old is the pack as read: read-only, so a hit takes no lock (a record only marks itself
	// checked, used or dropped).
	old map[Key]*record

	// whole says the pack as read ends with a whole record: entries may be appended to it.
	whole bool
	// size is the pack's size as read.
	size int64

	mu    sync.Mutex
	fresh map[Key][]byte // added by this run
	bad   int            // old entries that failed their checksum or did not decode
}

type record struct {
	used    int64 // last use, unix seconds
	sum     uint32
	payload []byte
	checked atomic.Bool // the checksum held
	hit     atomic.Bool // this run read it
	dropped atomic.Bool // it failed: not kept
}

// Open starts a session on the pack of fingerprint in dir (created if missing). A pack that
// cannot be read is treated as empty.
func Open(dir, fingerprint string, opts Options) (*Session, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	name := fingerprintName(fingerprint)
	s := &Session{
		dir: dir, path: filepath.Join(dir, name+packSuffix), opts: opts, now: opts.Now().Unix(),
		old: map[Key]*record{}, fresh: map[Key][]byte{},
	}
	raw, err := os.ReadFile(s.path)
	if err == nil {
		s.old, s.whole = parse(raw, name)
		s.size = int64(len(raw))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read cache: %w", err)
	}
	return s, nil
}

// fingerprintName is the file name of a fingerprint's pack.
func fingerprintName(fingerprint string) string {
	h := sha256.Sum256([]byte(fingerprint))
	return hex.EncodeToString(h[:16])
}

// parse reads the records of a pack; it stops at the first record whose header does not fit
// (a truncated pack keeps its whole records). whole says every byte of raw was a record.
// Checksums are verified on Get.
func parse(raw []byte, name string) (_ map[Key]*record, whole bool) {
	head := magic + name + "\n"
	if len(raw) < len(head) || string(raw[:len(head)]) != head {
		return map[Key]*record{}, false
	}
	raw = raw[len(head):]
	// two passes: the records are counted first, so the map and the records are each allocated
	// once (a pack of 45,000 entries parses in half the time)
	next := func(raw []byte) (int, bool) {
		if len(raw) < recordHeader {
			return 0, false
		}
		n := binary.LittleEndian.Uint32(raw[sha256.Size+8:])
		if n > maxEntry || int(n) > len(raw)-recordHeader {
			return 0, false
		}
		return recordHeader + int(n), true
	}
	count := 0
	for rest := raw; ; count++ {
		n, ok := next(rest)
		if !ok {
			break
		}
		rest = rest[n:]
	}
	out := make(map[Key]*record, count)
	records := make([]record, count)
	for i := range records {
		n, _ := next(raw)
		var k Key
		copy(k[:], raw)
		r := &records[i]
		r.used = int64(binary.LittleEndian.Uint64(raw[sha256.Size:]))
		r.sum = binary.LittleEndian.Uint32(raw[sha256.Size+12:])
		r.payload = raw[recordHeader:n]
		out[k] = r
		raw = raw[n:]
	}
	return out, len(raw) == 0
}

func checksum(k Key, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(k[:], castagnoli), castagnoli, payload)
}

// Get returns the value stored under k. A value whose checksum fails is a miss (and is dropped
// from the pack).
func (s *Session) Get(k Key) ([]byte, bool) {
	if r, ok := s.old[k]; ok && !r.dropped.Load() {
		if !r.checked.Load() {
			if checksum(k, r.payload) != r.sum {
				s.Drop(k)
				return nil, false
			}
			r.checked.Store(true)
		}
		r.hit.Store(true)
		return r.payload, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.fresh[k]
	return v, ok
}

// Has reports whether an entry is stored under k, without reading it (Get may still find it
// corrupt).
func (s *Session) Has(k Key) bool {
	if r, ok := s.old[k]; ok && !r.dropped.Load() {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.fresh[k]
	return ok
}

// Put stores v under k. v must not change afterwards.
func (s *Session) Put(k Key, v []byte) {
	if len(v) > maxEntry {
		return
	}
	s.mu.Lock()
	s.fresh[k] = v
	s.mu.Unlock()
}

// Drop forgets the entry under k: its value did not decode, so it must not be kept.
func (s *Session) Drop(k Key) {
	if r, ok := s.old[k]; ok {
		r.dropped.Store(true)
	}
	s.mu.Lock()
	delete(s.fresh, k)
	s.bad++ // the pack changed: it is written again
	s.mu.Unlock()
}

// Stats counts what a session did.
type Stats struct {
	// Read is the number of entries in the pack when the run started; Hits how many the run
	// used; Added how many it computed and stored; Corrupt how many failed their checksum or
	// did not decode.
	Read, Hits, Added, Corrupt int
}

// Stats says how the session went so far.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Added: len(s.fresh), Corrupt: s.bad}
	for _, r := range s.old {
		if !r.dropped.Load() {
			st.Read++
			if r.hit.Load() {
				st.Hits++
			}
		}
	}
	return st
}

// Close writes the pack when the run changed it: the entries this run used or added first, then
// the other entries of the pack by most recent use, while the pack fits MaxBytes and the entries
// are younger than MaxAge. It then removes other fingerprints' packs that are older than MaxAge
// or that do not fit the cap beside it, oldest first. When nothing changed it only marks the
// pack as used.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fresh) == 0 && s.keepsAll(0) {
		now := time.Unix(s.now, 0)
		if err := os.Chtimes(s.path, now, now); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cache: %w", err)
		}
		return s.trim()
	}
	if s.appendable() {
		if err := s.appendFresh(); err == nil {
			return s.trim()
		}
		// the pack could not be appended to: it is written whole below
	}
	// An entry read from the pack keeps its stored checksum, whether or not this run verified
	// it: a checksum computed afresh would vouch for bytes damaged on disk.
	type entry struct {
		k       Key
		used    int64
		payload []byte
		sum     uint32
	}
	var entries []entry
	var size int64
	for k, v := range s.fresh {
		entries = append(entries, entry{k, s.now, v, checksum(k, v)})
	}
	var rest []entry
	dropped := 0
	for k, r := range s.old {
		if _, dup := s.fresh[k]; dup || r.dropped.Load() {
			continue
		}
		switch {
		case r.hit.Load():
			entries = append(entries, entry{k, s.now, r.payload, r.sum})
		case s.now-r.used <= int64(s.opts.MaxAge/time.Second):
			rest = append(rest, entry{k, r.used, r.payload, r.sum})
		default:
			dropped++
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].used > rest[j].used })
	entries = append(entries, rest...)
	kept := entries[:0]
	for _, e := range entries {
		n := int64(recordHeader + len(e.payload))
		if size+n > s.opts.MaxBytes {
			dropped++
			continue
		}
		size += n
		kept = append(kept, e)
	}
	// Keys sorted: the same entries make the same pack.
	sort.Slice(kept, func(i, j int) bool { return string(kept[i].k[:]) < string(kept[j].k[:]) })
	tmp, err := os.CreateTemp(s.dir, ".pack-*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename; removes a failed write
	w := &errWriter{w: tmp}
	buf := make([]byte, 0, recordHeader)
	io.WriteString(w, magic+strings.TrimSuffix(filepath.Base(s.path), packSuffix)+"\n")
	for _, e := range kept {
		w.Write(appendHeader(buf[:0], e.k, e.used, e.payload, e.sum))
		w.Write(e.payload)
	}
	if err := w.flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("cache: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return s.trim()
}

// keepsAll reports whether the pack as read, grown by extra bytes of new entries, keeps every
// entry it holds: the run found nothing corrupt, and no entry has aged out or falls outside the
// cap. s.mu is held.
func (s *Session) keepsAll(extra int64) bool {
	if s.bad > 0 {
		return false
	}
	size := extra
	maxAge := int64(s.opts.MaxAge / time.Second)
	for _, r := range s.old {
		if r.dropped.Load() || (!r.hit.Load() && s.now-r.used > maxAge) {
			return false
		}
		size += int64(recordHeader + len(r.payload))
	}
	return size <= s.opts.MaxBytes
}

// appendable reports whether the entries this run added can be appended to the pack as read:
// it ends with a whole record, and with them it keeps every entry (see keepsAll). A run that
// changes a few files then writes their entries, not the whole pack again. s.mu is held.
func (s *Session) appendable() bool {
	if !s.whole || len(s.fresh) == 0 {
		return false
	}
	var extra int64
	for k, v := range s.fresh {
		if _, dup := s.old[k]; dup {
			return false
		}
		extra += int64(recordHeader + len(v))
	}
	return s.keepsAll(extra)
}

// appendFresh appends the entries this run added to the pack, in one write: a concurrent reader
// sees whole records before it (a record cut short at the end of what it reads is not one),
// and a concurrent run's append or rewrite loses these entries at worst. The entries read keep
// their last use as written (only a rewrite refreshes it). s.mu is held.
func (s *Session) appendFresh() error {
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != s.size {
		f.Close()
		return errors.New("cache: the pack changed since it was read") // written whole instead
	}
	keys := make([]Key, 0, len(s.fresh))
	for k := range s.fresh {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return string(keys[i][:]) < string(keys[j][:]) })
	var buf []byte
	for _, k := range keys {
		v := s.fresh[k]
		buf = append(appendHeader(buf, k, s.now, v, checksum(k, v)), v...)
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return fmt.Errorf("cache: %w", err)
	}
	return f.Close()
}

// appendHeader appends the header of a record of a pack to buf: key, last use, payload length,
// checksum (recordHeader bytes; parse reads them).
func appendHeader(buf []byte, k Key, used int64, payload []byte, sum uint32) []byte {
	buf = append(buf, k[:]...)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(used))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(payload)))
	return binary.LittleEndian.AppendUint32(buf, sum)
}

// trim removes other packs that are older than MaxAge or that do not fit the cap beside the
// newer ones, and temporary files left by runs that died while writing.
func (s *Session) trim() error {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	type pack struct {
		path string
		mod  time.Time
		size int64
	}
	var packs []pack
	now := time.Unix(s.now, 0)
	for _, de := range des {
		info, err := de.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		p := filepath.Join(s.dir, de.Name())
		switch {
		case strings.HasPrefix(de.Name(), ".pack-"):
			if now.Sub(info.ModTime()) > time.Hour { // a concurrent run's write takes seconds
				os.Remove(p)
			}
		case strings.HasSuffix(de.Name(), packSuffix):
			packs = append(packs, pack{p, info.ModTime(), info.Size()})
		}
	}
	sort.Slice(packs, func(i, j int) bool {
		if packs[i].path == s.path || packs[j].path == s.path {
			return packs[i].path == s.path
		}
		return packs[i].mod.After(packs[j].mod)
	})
	var total int64
	for _, p := range packs {
		total += p.size
		if p.path != s.path && (total > s.opts.MaxBytes || now.Sub(p.mod) > s.opts.MaxAge) {
			os.Remove(p.path)
			total -= p.size
		}
	}
	return nil
}

// errWriter buffers writes and keeps the first error.
type errWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	e.buf = append(e.buf, p...)
	if len(e.buf) >= 1<<20 {
		e.flush()
	}
	return len(p), nil
}

func (e *errWriter) flush() error {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
	return e.err
}

// DefaultDir is the cache directory of ova-lint under the user's cache directory
// ($XDG_CACHE_HOME/ova-lint, ~/Library/Caches/ova-lint, %LocalAppData%\ova-lint).
func DefaultDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache directory: %w (set --cache-dir or --no-cache)", err)
	}
	return filepath.Join(base, "ova-lint", "results"), nil
}
