package schema

// Rebuilds catalog/ from module sources (needs the Go module proxy; see README.md).
//go:generate go run ./internal/gen -out catalog
