package audit

import (
	"time"
)

// writtenVersion is the apiVersion in which obj was last written: that of its newest
// managedFields entry for the object itself (not a subresource such as status), or "" when it
// has none. An object is listed in the version the server prefers; a Flux object that Flux (or
// kubectl) applied in another served version is judged in that version, as the webhook judged
// it and as the file in Git reads.
func writtenVersion(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	entries, _ := md["managedFields"].([]any)
	var newest time.Time
	version := ""
	for _, e := range entries {
		entry, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if sub, _ := entry["subresource"].(string); sub != "" {
			continue
		}
		op, _ := entry["operation"].(string)
		if op != "Apply" && op != "Update" {
			continue
		}
		apiVersion, _ := entry["apiVersion"].(string)
		if apiVersion == "" {
			continue
		}
		var at time.Time
		if s, ok := entry["time"].(string); ok {
			at, _ = time.Parse(time.RFC3339, s)
		}
		if version == "" || !at.Before(newest) {
			newest, version = at, apiVersion
		}
	}
	return version
}
