package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// Hasher builds a Key from parts; each part is length-prefixed, so ("ab", "c") and ("a", "bc")
// make different keys.
type Hasher struct {
	h hash.Hash
}

// NewHasher returns an empty Hasher.
func NewHasher() *Hasher { return &Hasher{h: sha256.New()} }

// Bytes adds one part.
func (h *Hasher) Bytes(p []byte) *Hasher {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(p)))
	h.h.Write(n[:])
	h.h.Write(p)
	return h
}

// String adds parts.
func (h *Hasher) String(parts ...string) *Hasher {
	for _, p := range parts {
		h.Bytes([]byte(p))
	}
	return h
}

// Sum is the key of the parts added so far.
func (h *Hasher) Sum() Key {
	var k Key
	h.h.Sum(k[:0])
	return k
}
