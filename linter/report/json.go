package report

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/openova-io/ova-lint/linter/finding"
)

// JSON writes the report contract: {"findings":[...],"summary":{...}}.
func JSON(w io.Writer, rep *finding.Report, _ Options) error {
	out := *rep
	if out.Findings == nil {
		out.Findings = []finding.Finding{}
	}
	compact, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = w.Write(append(indentJSON(make([]byte, 0, len(compact)*3/2), compact), '\n'))
	return err
}

// indentJSON appends src, compact JSON as json.Marshal writes it, to dst indented by two spaces
// as json.Indent (and an Encoder with SetIndent("", "  ")) would: a report of 3,000 findings
// indents in a fraction of json.Indent's time, which scans every byte with its full state
// machine.
func indentJSON(dst, src []byte) []byte {
	depth := 0
	open := false // after { or [: the newline waits, an empty object or array stays {} or []
	newline := func() {
		dst = append(dst, '\n')
		for range depth {
			dst = append(dst, ' ', ' ')
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '{', '[':
			if open {
				newline()
			}
			dst = append(dst, c)
			depth++
			open = true
			continue
		case '}', ']':
			depth--
			if !open {
				newline()
			}
			open = false
			dst = append(dst, c)
			continue
		}
		if open {
			newline()
			open = false
		}
		switch c {
		case ',':
			dst = append(dst, ',')
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		case '"':
			j := i + 1
			for j < len(src) {
				k := bytes.IndexAny(src[j:], `"\`)
				if k < 0 {
					j = len(src)
					break
				}
				j += k
				if src[j] == '\\' {
					j += 2
					continue
				}
				break
			}
			end := min(j+1, len(src))
			dst = append(dst, src[i:end]...)
			i = end - 1
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
