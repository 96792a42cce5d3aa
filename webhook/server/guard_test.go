package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBudget(t *testing.T) {
	tests := []struct {
		name    string
		max     int64
		held    []int64 // acquired first, kept
		want    int64   // then asked for
		fits    bool
		release int // how many of held are released while waiting (0: none)
	}{
		{name: "fits", max: 100, held: []int64{40}, want: 60, fits: true},
		{name: "does not fit", max: 100, held: []int64{40}, want: 61},
		{name: "a small one passes a full-size one that waits", max: 100, held: []int64{90}, want: 10, fits: true},
		{name: "larger than the budget runs alone", max: 100, want: 500, fits: true},
		{name: "larger than the budget waits for the others", max: 100, held: []int64{1}, want: 500},
		{name: "room made while waiting", max: 100, held: []int64{50, 30}, want: 60, fits: true, release: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBudget(tc.max)
			for _, n := range tc.held {
				require.NoError(t, b.acquire(context.Background(), n))
			}
			if tc.release > 0 {
				go func() {
					time.Sleep(20 * time.Millisecond)
					for _, n := range tc.held[:tc.release] {
						b.release(n)
					}
				}()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			err := b.acquire(ctx, tc.want)
			if tc.fits {
				require.NoError(t, err)
				b.release(tc.want)
			} else {
				require.ErrorIs(t, err, context.DeadlineExceeded)
			}
			for _, n := range tc.held[tc.release:] {
				b.release(n)
			}
			assert.Zero(t, b.used, "every reservation released")
		})
	}
}

func TestLimitedBody(t *testing.T) {
	tests := []struct {
		size, limit int
		over        bool
	}{
		{10, 10, false},
		{11, 10, true},
		{0, 10, false},
		{1 << 20, 100, true},
		{100, 1 << 20, false},
	}
	for _, tc := range tests {
		b := &limitedBody{src: io.NopCloser(bytes.NewReader(make([]byte, tc.size))), left: int64(tc.limit)}
		got, err := io.ReadAll(b)
		if tc.over {
			assert.True(t, errors.Is(err, errBodyTooLarge), "%d of %d: %v", tc.size, tc.limit, err)
			assert.True(t, b.over)
			assert.LessOrEqual(t, len(got), tc.limit)
		} else {
			assert.NoError(t, err, "%d of %d", tc.size, tc.limit)
			assert.Len(t, got, tc.size)
			assert.False(t, b.over)
		}
	}
}

func TestQueueWait(t *testing.T) {
	for url, want := range map[string]time.Duration{
		"/validate?timeout=5s":   5 * time.Second,
		"/validate?timeout=10s":  10 * time.Second,
		"/validate?timeout=300s": maxQueueWait,
		"/validate?timeout=x":    defaultQueueWait,
		"/validate":              defaultQueueWait,
	} {
		assert.Equal(t, want, queueWait(httptest.NewRequest("POST", url, strings.NewReader(""))), url)
	}
}

func TestJSONObjectAhead(t *testing.T) {
	long := strings.Repeat(" ", 2000)
	tests := []struct {
		body, rest string
		ok         bool
	}{
		{`{"a":1}`, `{"a":1}`, true},
		{" \n\t{\"a\":1}", `{"a":1}`, true},
		{long + `{"a":1}`, `{"a":1}`, true},
		{"request: {uid: x}", "request: {uid: x}", false},
		{"[1]", "[1]", false},
		{"\ufeff{}", "\ufeff{}", false},
		{"", "", true},   // empty: controller-runtime's own error
		{"  ", "", true}, // white only: likewise
	}
	for _, tc := range tests {
		r := httptest.NewRequest("POST", "/validate", strings.NewReader(tc.body))
		assert.Equal(t, tc.ok, jsonObjectAhead(r), "%q", tc.body)
		rest, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		assert.Equal(t, tc.rest, string(rest), "%q: the body is read on from where it starts", tc.body)
	}
}
