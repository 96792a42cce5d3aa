package webhook

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// workerIdle is how long an evaluation worker waits for work before it exits.
const workerIdle = 10 * time.Second

// workers runs evaluations on a few long-lived goroutines instead of the request's own.
//
// OPA's evaluation recurses deeply: a review grows its goroutine's stack to 64-128 KiB. Run on
// the connection's goroutine (one per client connection: 50 in the load test, one per apiserver
// connection in a cluster), every connection kept such a stack, about 8 MiB in all, in the
// memory the soft limit leaves to the heap; and each collection halved the idle ones, so the
// next review paid to grow its stack again. A goroutine per evaluation is worse: it grows a new
// stack every time (+75 µs per review). A worker keeps its stack from one review to the next,
// and there are only a few of them, as many as the cores the evaluations can use.
//
// A worker exits after workerIdle without work, so a Handler needs no Close.
type workers struct {
	max  int
	idle time.Duration // how long a worker waits for work before it exits
	jobs chan *job     // unbuffered: a send succeeds when an idle worker takes the job

	mu      sync.Mutex
	running int // workers started and not exited
	waiting int // submitters blocked on a send while every worker was busy
}

// job is one evaluation and the channel that says it is done.
type job struct {
	run  func()
	done chan struct{}
	// recovered is what run panicked with: do panics with it again on the request's goroutine,
	// where the Handler's recovery answers the review (a worker's panic would end the process).
	recovered any
}

// call runs j and closes done, recovering a panic into j.recovered.
func (j *job) call() {
	defer close(j.done)
	defer func() { j.recovered = recover() }()
	j.run()
}

func newWorkers() *workers {
	return &workers{max: max(2, runtime.GOMAXPROCS(0)), idle: workerIdle, jobs: make(chan *job)}
}

// do runs f on a worker and waits for it. It gives up waiting for a worker when ctx ends and
// returns ctx's error without running f. Once a worker has f, do waits for f to return: f
// must end by itself (the evaluation's own timeout).
func (w *workers) do(ctx context.Context, f func()) error {
	j := &job{run: f, done: make(chan struct{})}
	select {
	case w.jobs <- j: // an idle worker took it
	default:
		w.mu.Lock()
		if w.running < w.max {
			w.running++
			w.mu.Unlock()
			go w.work(j)
			break
		}
		w.waiting++
		w.mu.Unlock()
		var err error
		select {
		case w.jobs <- j:
		case <-ctx.Done():
			err = ctx.Err()
		}
		w.mu.Lock()
		w.waiting--
		w.mu.Unlock()
		if err != nil {
			return err
		}
	}
	<-j.done
	if j.recovered != nil {
		panic(j.recovered)
	}
	return nil
}

// work runs j, then every job it receives, until it has been idle for w.idle with nobody
// waiting for a worker.
func (w *workers) work(j *job) {
	idle := time.NewTimer(w.idle)
	defer idle.Stop()
	for {
		j.call()
		idle.Reset(w.idle)
		for j = nil; j == nil; {
			select {
			case j = <-w.jobs:
			case <-idle.C:
				w.mu.Lock()
				if w.waiting == 0 {
					w.running--
					w.mu.Unlock()
					return
				}
				w.mu.Unlock()
				idle.Reset(w.idle)
			}
		}
	}
}
