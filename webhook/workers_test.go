package webhook

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWorkers: an evaluation runs on a worker and do returns after it; at most max run at once,
// the others wait for a worker (and give up when their context ends, without running); a
// panic comes back on the caller's goroutine; idle workers exit, and a later job starts one.
func TestWorkers(t *testing.T) {
	w := &workers{max: 2, idle: 20 * time.Millisecond, jobs: make(chan *job)}
	ctx := context.Background()

	ran := false
	require.NoError(t, w.do(ctx, func() { ran = true }))
	assert.True(t, ran, "do returns after the job ran")

	// max jobs block on release; a third waits for a worker
	release := make(chan struct{})
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	started := make(chan struct{}, 3)
	for range 3 {
		wg.Go(func() {
			assert.NoError(t, w.do(ctx, func() {
				n := running.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				started <- struct{}{}
				<-release
				running.Add(-1)
			}))
		})
	}
	<-started
	<-started
	select {
	case <-started:
		t.Fatal("a third job ran while max (2) were running")
	case <-time.After(50 * time.Millisecond):
	}
	// a job whose context ends while it waits for a worker is not run
	cctx, cancel := context.WithCancel(ctx)
	cancelled := make(chan error, 1)
	var ranLate atomic.Bool
	go func() { cancelled <- w.do(cctx, func() { ranLate.Store(true) }) }()
	cancel()
	require.ErrorIs(t, <-cancelled, context.Canceled)
	close(release)
	wg.Wait()
	assert.Equal(t, int32(2), peak.Load(), "at most max jobs at once")
	assert.False(t, ranLate.Load(), "a job given up on is not run")

	// a panic is raised again in the caller
	assert.PanicsWithValue(t, "boom", func() { _ = w.do(ctx, func() { panic("boom") }) })
	require.NoError(t, w.do(ctx, func() {}), "the worker survives a job's panic")

	// idle workers exit; the next job starts one again
	require.Eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.running == 0
	}, 5*time.Second, 5*time.Millisecond)
	ran = false
	require.NoError(t, w.do(ctx, func() { ran = true }))
	assert.True(t, ran)
}
