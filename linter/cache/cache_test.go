package cache

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func key(s string) Key { return NewHasher().String(s).Sum() }

func open(t *testing.T, dir, fp string, opts Options) *Session {
	t.Helper()
	s, err := Open(dir, fp, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func closeSession(t *testing.T, s *Session) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, "fp", Options{})
	if _, ok := s.Get(key("a")); ok {
		t.Fatal("hit in an empty cache")
	}
	s.Put(key("a"), []byte("value a"))
	s.Put(key("b"), []byte(""))
	closeSession(t, s)

	s = open(t, dir, "fp", Options{})
	for k, want := range map[string]string{"a": "value a", "b": ""} {
		got, ok := s.Get(key(k))
		if !ok || string(got) != want {
			t.Errorf("Get(%s) = %q, %v; want %q", k, got, ok, want)
		}
	}
	if st := s.Stats(); st.Read != 2 || st.Hits != 2 || st.Added != 0 {
		t.Errorf("stats %+v", st)
	}
	closeSession(t, s)
	// another fingerprint sees none of it
	o := open(t, dir, "other", Options{})
	if _, ok := o.Get(key("a")); ok {
		t.Error("an entry crossed fingerprints")
	}
}

func TestKeyParts(t *testing.T) {
	if NewHasher().String("ab", "c").Sum() == NewHasher().String("a", "bc").Sum() {
		t.Error("parts are not delimited")
	}
}

// packOf writes one pack with the given entries and returns its path.
func packOf(t *testing.T, dir string, entries map[string]string) string {
	t.Helper()
	s := open(t, dir, "fp", Options{})
	for k, v := range entries {
		s.Put(key(k), []byte(v))
	}
	closeSession(t, s)
	return s.path
}

func TestCorruptIsMiss(t *testing.T) {
	const first = "the first record"
	cases := []struct {
		name   string
		damage func([]byte) []byte
		// want are the keys still found
		want []string
	}{
		{"payload byte flipped", func(b []byte) []byte {
			i := bytes.Index(b, []byte("AAAAAAAA"))
			b[i+3] ^= 0x20
			return b
		}, []string{"b"}},
		{"checksum flipped", func(b []byte) []byte {
			i := bytes.Index(b, []byte("AAAAAAAA"))
			b[i-1] ^= 0xff
			return b
		}, []string{"b"}},
		{"truncated", func(b []byte) []byte { return b[:len(b)-3] }, []string{first}},
		{"bad header", func(b []byte) []byte { b[0] = 'X'; return b }, nil},
		{"garbage", func([]byte) []byte { return []byte("not a pack at all") }, nil},
		{"empty", func([]byte) []byte { return nil }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := packOf(t, dir, map[string]string{"a": "AAAAAAAAAAAAAAAA", "b": "BBBBBBBBBBBBBBBB"})
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, c.damage(raw), 0o644); err != nil {
				t.Fatal(err)
			}
			s := open(t, dir, "fp", Options{})
			found := map[string]bool{}
			for _, k := range []string{"a", "b"} {
				v, ok := s.Get(key(k))
				if ok {
					found[k] = true
					if want := bytes.Repeat(bytes.ToUpper([]byte(k)), 16); !bytes.Equal(v, want) {
						t.Errorf("%s: a damaged value was returned: %q", k, v)
					}
				}
			}
			for _, k := range c.want {
				if k == first { // the record written first survives a cut in the last
					k = "a"
					if key("b").String() < key("a").String() {
						k = "b"
					}
				}
				if !found[k] {
					t.Errorf("%s lost: only the damaged entry should be", k)
				}
				delete(found, k)
			}
			if len(found) > 0 {
				t.Errorf("damaged entries were trusted: %v", found)
			}
			// the damaged entry is recomputed and stored again
			s.Put(key("a"), []byte("recomputed"))
			closeSession(t, s)
			s = open(t, dir, "fp", Options{})
			if v, ok := s.Get(key("a")); !ok || string(v) != "recomputed" {
				t.Errorf("after recompute: %q %v", v, ok)
			}
		})
	}
}

func TestConcurrentRuns(t *testing.T) {
	dir := t.TempDir()
	const runs, entries = 8, 200
	value := func(run, i int) []byte { return bytes.Repeat([]byte(fmt.Sprintf("%d-%d;", run, i)), 50) }
	var wg sync.WaitGroup
	errs := make(chan error, runs)
	for r := 0; r < runs; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 3; round++ {
				s, err := Open(dir, "fp", Options{})
				if err != nil {
					errs <- err
					return
				}
				for i := 0; i < entries; i++ {
					k := key(fmt.Sprint(r, i))
					if v, ok := s.Get(k); ok && !bytes.Equal(v, value(r, i)) {
						errs <- fmt.Errorf("run %d read a wrong value for %d: %.20q", r, i, v)
					}
					s.Put(k, value(r, i))
				}
				if err := s.Close(); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// the pack that won is whole: every entry in it is one some run wrote, intact
	s := open(t, dir, "fp", Options{})
	if st := s.Stats(); st.Read < entries {
		t.Errorf("the last pack holds %d entries, want at least one run's %d", st.Read, entries)
	}
	hits := 0
	for r := 0; r < runs; r++ {
		for i := 0; i < entries; i++ {
			if v, ok := s.Get(key(fmt.Sprint(r, i))); ok {
				hits++
				if !bytes.Equal(v, value(r, i)) {
					t.Fatalf("entry %d-%d damaged", r, i)
				}
			}
		}
	}
	if st := s.Stats(); st.Corrupt != 0 || hits != st.Read {
		t.Errorf("hits %d, stats %+v", hits, st)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".pack-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestBounded(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	const maxBytes = 8 << 10
	big := bytes.Repeat([]byte("x"), 1000)
	// an old fingerprint's pack
	s := open(t, dir, "old", Options{MaxBytes: maxBytes, Now: clock})
	s.Put(key("o"), big)
	closeSession(t, s)
	oldPack := s.path
	os.Chtimes(oldPack, now, now)

	// a run that adds more than the cap keeps its own pack within the cap
	now = now.Add(time.Hour)
	s = open(t, dir, "fp", Options{MaxBytes: maxBytes, Now: clock})
	for i := 0; i < 20; i++ {
		s.Put(key(fmt.Sprint(i)), big)
	}
	closeSession(t, s)
	info, err := os.Stat(s.path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > maxBytes+100 {
		t.Errorf("pack is %d bytes, cap %d", info.Size(), maxBytes)
	}
	if _, err := os.Stat(oldPack); !os.IsNotExist(err) {
		t.Errorf("the old fingerprint's pack was kept beyond the cap: %v", err)
	}

	// entries unused for MaxAge are dropped; used ones are kept
	now = now.Add(DefaultMaxAge + time.Hour)
	s = open(t, dir, "fp", Options{MaxBytes: 1 << 20, Now: clock})
	kept := -1
	for i := 0; i < 20; i++ {
		if _, ok := s.Get(key(fmt.Sprint(i))); ok {
			kept = i
			break
		}
	}
	if kept < 0 {
		t.Fatal("no entry survived the cap")
	}
	closeSession(t, s)
	s = open(t, dir, "fp", Options{MaxBytes: 1 << 20, Now: clock})
	if st := s.Stats(); st.Read != 1 {
		t.Errorf("after MaxAge the pack holds %d entries, want the 1 used", st.Read)
	}
	if _, ok := s.Get(key(fmt.Sprint(kept))); !ok {
		t.Error("the used entry was dropped")
	}
}

// TestRewriteKeepsDamageDetectable: a run that rewrites the pack without reading a damaged
// entry keeps that entry's stored checksum, so a later run still refuses it (a checksum
// computed afresh at the rewrite would have vouched for the damaged bytes).
func TestRewriteKeepsDamageDetectable(t *testing.T) {
	dir := t.TempDir()
	path := packOf(t, dir, map[string]string{"a": "AAAAAAAAAAAAAAAA", "b": "BBBBBBBBBBBBBBBB"})
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte("AAAAAAAA"))
	raw[i+3] ^= 0x20
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	// an entry of three weeks ago, unused: the next run that adds one writes the pack whole
	// (x ages out) instead of appending to it
	old := open(t, dir, "fp", Options{Now: func() time.Time { return time.Now().Add(-21 * 24 * time.Hour) }})
	old.Put(key("x"), []byte("old"))
	closeSession(t, old)
	s := open(t, dir, "fp", Options{})
	if _, ok := s.Get(key("b")); !ok {
		t.Fatal("b lost")
	}
	s.Put(key("c"), []byte("a new entry: the pack is rewritten")) // a is neither read nor dropped
	ino := inode(t, path)
	closeSession(t, s)
	if os.SameFile(inode(t, path), ino) {
		t.Fatal("the pack was not written whole")
	}

	s = open(t, dir, "fp", Options{})
	if v, ok := s.Get(key("a")); ok {
		t.Errorf("the damaged entry was trusted after the rewrite: %q", v)
	}
	for _, k := range []string{"b", "c"} {
		if _, ok := s.Get(key(k)); !ok {
			t.Errorf("%s lost", k)
		}
	}
}

// TestCloseWritesOnlyWhatChanged: a run that changed nothing leaves the pack as it was; a run
// that only added entries appends them (the pack's bytes kept, the file the same); the next run
// reads every entry.
func TestCloseWritesOnlyWhatChanged(t *testing.T) {
	for _, c := range []struct {
		name string
		add  map[string]string
	}{
		{"nothing changed", nil},
		{"entries added", map[string]string{"b": "2", "c": "3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := packOf(t, dir, map[string]string{"a": "1"})
			before, _ := os.ReadFile(path)
			ino := inode(t, path)
			s := open(t, dir, "fp", Options{})
			s.Get(key("a"))
			grow := 0
			for k, v := range c.add {
				s.Put(key(k), []byte(v))
				grow += recordHeader + len(v)
			}
			closeSession(t, s)
			after, _ := os.ReadFile(path)
			if !bytes.HasPrefix(after, before) || len(after) != len(before)+grow || !os.SameFile(inode(t, path), ino) {
				t.Fatalf("the pack was written again: %d bytes before, %d after (%d added)", len(before), len(after), grow)
			}
			want := map[string]string{"a": "1"}
			maps.Copy(want, c.add)
			s = open(t, dir, "fp", Options{})
			for k, w := range want {
				if got, ok := s.Get(key(k)); !ok || string(got) != w {
					t.Errorf("Get(%s) = %q, %v; want %q", k, got, ok, w)
				}
			}
			closeSession(t, s)
		})
	}
}

// TestDamagedTailIsRewritten: a pack whose end is not a whole record (a write cut short) is
// written whole, not appended to after the damage, where no reader would find the new entries.
func TestDamagedTailIsRewritten(t *testing.T) {
	dir := t.TempDir()
	path := packOf(t, dir, map[string]string{"a": "1"})
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("a record cut short")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s := open(t, dir, "fp", Options{})
	s.Put(key("b"), []byte("2"))
	closeSession(t, s)
	s = open(t, dir, "fp", Options{})
	if !s.whole {
		t.Error("the damaged tail is still there")
	}
	for k, want := range map[string]string{"a": "1", "b": "2"} {
		if got, ok := s.Get(key(k)); !ok || string(got) != want {
			t.Errorf("Get(%s) = %q, %v; want %q", k, got, ok, want)
		}
	}
}
