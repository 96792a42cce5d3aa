package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// minRequestWeight is what the smallest review counts for in the in-flight budget: its
	// evaluation's own garbage (~30 KiB) more than its body.
	minRequestWeight = 32 << 10
	// maxDiscard is how much of a refused body is read and thrown away, so that a client still
	// writing it reads the 413 instead of a connection reset; a larger body is cut off.
	maxDiscard = 32 << 20
	// defaultQueueWait is how long a review waits for the in-flight budget when the request
	// does not say (the apiserver sends ?timeout=, the webhook's timeoutSeconds).
	defaultQueueWait = 10 * time.Second
	maxQueueWait     = 30 * time.Second
)

// guard is what the webhook listener serves in front of controller-runtime's admission handler:
//
//   - While draining, every response closes its connection ("Connection: close"): the client
//     opens its next connection to a ready replica, instead of reusing one that the listener's
//     shutdown closes under a request it is writing.
//   - A body over MaxRequestBytes is refused with 413 and a Status, and not kept: a declared
//     length over the limit before anything is read, a body of unknown length (chunked) when it
//     passes the limit. controller-runtime would read 7 MiB of it into memory first.
//   - The bodies in flight, read and evaluated, stay within MaxInFlightBytes: a request reserves
//     its declared length (the limit when unknown) before its body is read, and waits for it up
//     to the apiserver's timeout (then 429, Retry-After 1).
func (s *Server) guard(next http.Handler) http.Handler {
	limit := s.opts.MaxRequestBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		if r.ContentLength > limit {
			s.tooLarge(w, r, r.Body, r.ContentLength)
			return
		}
		weight := r.ContentLength
		if weight < 0 {
			weight = limit
		}
		weight = max(weight, minRequestWeight)
		ctx, cancel := context.WithTimeout(r.Context(), queueWait(r))
		err := s.budget.acquire(ctx, weight)
		cancel()
		if err != nil {
			s.log.Warn("request refused: too many bytes in flight", slog.String("remote", r.RemoteAddr),
				slog.Int64("bytes", r.ContentLength), slog.Int64("in_flight_limit", s.budget.max))
			w.Header().Set("Retry-After", "1")
			writeStatus(w, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests,
				"the webhook is busy with large reviews; retry")
			return
		}
		defer s.budget.release(weight)
		if !jsonObjectAhead(r) {
			discard(r.Body, r.ContentLength)
			w.Header().Set("Connection", "close")
			writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "the request body is not a JSON AdmissionReview")
			return
		}
		if r.ContentLength >= 0 {
			next.ServeHTTP(w, r)
			return
		}
		body := &limitedBody{src: r.Body, left: limit}
		r.Body = body
		gw := &guardWriter{ResponseWriter: w, over: func() bool { return body.over }}
		gw.refuse = func() { s.tooLarge(w, r, body.src, -1) }
		next.ServeHTTP(gw, r)
	})
}

// jsonObjectAhead reports whether the body starts (after white space) with "{", and puts what it
// read back in front of the body. The apiserver sends JSON; anything else would reach the YAML
// decoder of controller-runtime's deserializer, whose errors quote the document (and are logged).
func jsonObjectAhead(r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true // controller-runtime answers "request body is empty"
	}
	var (
		peeked []byte
		buf    [512]byte
		found  bool
		ok     bool
	)
	for !found {
		n, err := r.Body.Read(buf[:])
		chunk := buf[:n]
		if i := bytes.IndexFunc(chunk, func(c rune) bool { return !unicode.IsSpace(c) }); i >= 0 {
			found, ok = true, chunk[i] == '{'
			peeked = append(peeked, chunk[i:]...) // leading white space is dropped
		}
		if err != nil {
			break
		}
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(peeked), r.Body), r.Body}
	return ok || !found // an empty or all-white body: controller-runtime's own error
}

// queueWait is how long a request may wait for the in-flight budget: the timeout the apiserver
// gives the webhook call (its ?timeout= parameter), else defaultQueueWait.
func queueWait(r *http.Request) time.Duration {
	if d, err := time.ParseDuration(r.URL.Query().Get("timeout")); err == nil && d > 0 {
		return min(d, maxQueueWait)
	}
	return defaultQueueWait
}

// tooLarge refuses a request body over the limit (size -1: of unknown length). It reads and
// discards up to maxDiscard of what is left, so the client gets to read the answer, and closes
// the connection.
func (s *Server) tooLarge(w http.ResponseWriter, r *http.Request, body io.Reader, size int64) {
	s.log.Warn("request refused: body over the limit", slog.String("remote", r.RemoteAddr),
		slog.Int64("bytes", size), slog.Int64("limit", s.opts.MaxRequestBytes))
	discard(body, size)
	w.Header().Set("Connection", "close")
	what := "the request body"
	if size >= 0 {
		what += " of " + strconv.FormatInt(size, 10) + " bytes"
	}
	writeStatus(w, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge,
		fmt.Sprintf("%s is over the limit of %d bytes", what, s.opts.MaxRequestBytes))
}

// discard reads and throws away up to maxDiscard of a refused body (size -1: of unknown length),
// so that a client still writing it gets to read the answer; a larger one is not read at all.
func discard(body io.Reader, size int64) {
	if size <= maxDiscard && body != nil {
		_, _ = io.CopyN(io.Discard, body, maxDiscard)
	}
}

// writeStatus answers with a Kubernetes Status, which the apiserver reads from a failed webhook
// call.
func writeStatus(w http.ResponseWriter, code int32, reason metav1.StatusReason, msg string) {
	body, _ := json.Marshal(metav1.Status{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status:   metav1.StatusFailure, Code: code, Reason: reason, Message: msg,
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(code))
	_, _ = w.Write(body)
}

// errBodyTooLarge ends the read of a body of unknown length at the limit.
var errBodyTooLarge = errors.New("request body over the limit")

// limitedBody reads a body of unknown length up to left bytes, then fails.
type limitedBody struct {
	src  io.ReadCloser
	left int64
	over bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.src.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		b.over = true
		return 0, errBodyTooLarge
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.src.Close() }

// guardWriter replaces the handler's answer to a body that went over the limit (controller-
// runtime's "unable to read the body", in a 200) with the 413 refusal.
type guardWriter struct {
	http.ResponseWriter
	over    func() bool
	refuse  func()
	refused bool
}

func (g *guardWriter) WriteHeader(code int) {
	if g.over() {
		g.refuseOnce()
		return
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *guardWriter) Write(p []byte) (int, error) {
	if g.over() {
		g.refuseOnce()
		return len(p), nil
	}
	return g.ResponseWriter.Write(p)
}

func (g *guardWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

func (g *guardWriter) refuseOnce() {
	if !g.refused {
		g.refused = true
		g.refuse()
	}
}

// budget bounds the request bytes in flight. Unlike a FIFO semaphore it lets a small request
// through while a large one waits for room, so ordinary reviews never queue behind a large one.
type budget struct {
	mu    sync.Mutex
	used  int64
	max   int64
	freed chan struct{} // closed and replaced on every release
}

func newBudget(max int64) *budget { return &budget{max: max, freed: make(chan struct{})} }

// acquire reserves n bytes, waiting for releases until ctx ends. A request larger than the whole
// budget runs when nothing else does.
func (b *budget) acquire(ctx context.Context, n int64) error {
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+n <= b.max {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
}
