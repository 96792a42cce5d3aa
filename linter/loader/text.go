package loader

import (
	"bytes"
	"encoding/binary"
	"io"
	"io/fs"
	"os"
	"unicode/utf16"
	"unicode/utf8"
)

// ReadFile reads the file at name, but no more than limits.MaxFileBytes+1 bytes: enough for
// Parse to report a file over the limit without holding all of it in memory.
func ReadFile(name string, limits Limits) ([]byte, error) {
	data, _, err := ReadFileInfo(name, limits)
	return data, err
}

// ReadFileInfo is ReadFile that also returns the stat of the opened file, taken before it was
// read (nil when it could not be taken).
func ReadFileInfo(name string, limits Limits) ([]byte, fs.FileInfo, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	size := 0
	fi, err := f.Stat()
	if err != nil {
		fi = nil
	} else if fi.Mode().IsRegular() {
		size = int(min(fi.Size(), 1<<30))
	}
	data, err := readAll(f, size, limits)
	return data, fi, err
}

// ReadAll reads r like ReadFile reads a file.
func ReadAll(r io.Reader, limits Limits) ([]byte, error) { return readAll(r, 0, limits) }

// readAll reads r to its end, or to one byte past limits.MaxFileBytes (so Parse can tell the
// file is too large). size, when known, sizes the buffer: a file is read in one call plus the
// one that sees its end, instead of io.ReadAll's growing 512-byte reads.
func readAll(r io.Reader, size int, limits Limits) ([]byte, error) {
	if limits.MaxFileBytes > 0 {
		r = io.LimitReader(r, limits.MaxFileBytes+1)
		size = int(min(int64(size), limits.MaxFileBytes+1))
	}
	buf := make([]byte, 0, max(size+1, 512))
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow
		}
	}
}

// IsBinary reports whether data is not text: it holds a NUL character, which YAML (and any text
// format) excludes. UTF-16 with a byte order mark is text.
func IsBinary(data []byte) bool {
	return bytes.IndexByte(UTF8(data), 0) >= 0
}

// UTF8 returns data as UTF-8. YAML streams may be UTF-16 with a byte order mark (YAML 1.2,
// section 5.2); they are transcoded, without the mark, so the rules that read the raw text see
// what the parser sees. Anything else is returned as it is.
func UTF8(data []byte) []byte {
	var order binary.ByteOrder
	switch {
	case len(data) >= 2 && data[0] == 0xFF && data[1] == 0xFE:
		order = binary.LittleEndian
	case len(data) >= 2 && data[0] == 0xFE && data[1] == 0xFF:
		order = binary.BigEndian
	default:
		return data
	}
	body := data[2:]
	units := make([]uint16, len(body)/2)
	for i := range units {
		units[i] = order.Uint16(body[2*i:])
	}
	out := make([]byte, 0, len(body)/2+len(body)%2*utf8.UTFMax)
	for _, r := range utf16.Decode(units) {
		out = utf8.AppendRune(out, r)
	}
	if len(body)%2 == 1 {
		out = utf8.AppendRune(out, utf8.RuneError) // a truncated code unit
	}
	return out
}

// offsetPosition returns the 1-based line and column (in characters, as yaml.v3 counts them)
// of byte offset i in data.
func offsetPosition(data []byte, i int) (line, column int) {
	line = 1 + bytes.Count(data[:i], []byte{'\n'})
	return line, 1 + utf8.RuneCount(data[bytes.LastIndexByte(data[:i], '\n')+1:i])
}

// nodeEstimateExceeded returns the line where an estimate of the YAML nodes in data passes max,
// or 0 when it does not. The estimate is one node per line with content and one per indicator
// that opens a node: "[", "{", ",", and "-", "?", ":" before a blank (":" also after a quote, as
// in JSON's "key":value). It is the real count for ordinary block YAML and JSON, up to twice it
// for a list of scalars ("- x") and above it for prose. It skips only lines
// that start with "#", which hold no node; quotes and trailing comments are counted, so no text
// can hide nodes from it.
func nodeEstimateExceeded(data []byte, max int) int {
	n, line := 0, 1
	lineStart := true // nothing but blanks on this line so far
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch c {
		case '\n':
			line++
			lineStart = true
			continue
		case '\r':
			if i+1 < len(data) && data[i+1] == '\n' {
				continue
			}
			line++
			lineStart = true
			continue
		case ' ', '\t':
			continue
		}
		indicator := false
		switch c {
		case '[', '{', ',':
			indicator = true
		case '-', '?', ':':
			next := byte(' ')
			if i+1 < len(data) {
				next = data[i+1]
			}
			switch next {
			case ' ', '\t', '\r', '\n', ',', '[', ']', '{', '}':
				indicator = true
			}
			if c == ':' && i > 0 && (data[i-1] == '"' || data[i-1] == '\'') {
				indicator = true
			}
		}
		if lineStart {
			lineStart = false
			if c == '#' {
				// A line that starts with a comment holds no node: it is a comment, or text of a
				// block or quoted scalar. (A "#" later in a line may be inside quotes.)
				for i+1 < len(data) && data[i+1] != '\n' && data[i+1] != '\r' {
					i++
				}
				continue
			}
			if c == '-' || c == '.' {
				if atLineBegin(data, i) && isMarker(data[i:], c) {
					i += 2 // a document marker opens no node; what follows it on the line may
					continue
				}
			}
			n++
		}
		if indicator {
			n++
		}
		if n > max {
			return line
		}
	}
	return 0
}

// atLineBegin reports whether offset i is at column 1.
func atLineBegin(data []byte, i int) bool {
	return i == 0 || data[i-1] == '\n' || data[i-1] == '\r'
}

// isMarker reports whether b begins with a document marker ("---" or "...") made of c.
func isMarker(b []byte, c byte) bool {
	if len(b) < 3 || b[1] != c || b[2] != c {
		return false
	}
	return len(b) == 3 || b[3] == ' ' || b[3] == '\t' || b[3] == '\n' || b[3] == '\r'
}
