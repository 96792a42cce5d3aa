package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	admissionmetrics "sigs.k8s.io/controller-runtime/pkg/webhook/admission/metrics"
)

// maxReviewBytes is the largest AdmissionReview read, controller-runtime's own limit: two
// objects of at most 3 MiB and the rest of the request.
const maxReviewBytes = 7 << 20

// maxDepth is how deeply arrays and objects may nest in a review, encoding/json's limit.
const maxDepth = 10000

// requestLevel is the level of the per-request lines ("received request", "wrote response"):
// controller-runtime's V(5) as logr.FromSlogHandler maps it, so --log-level shows them where it
// showed controller-runtime's own.
const requestLevel = slog.LevelDebug - 1

var _ http.Handler = (*Handler)(nil)

// ServeHTTP serves AdmissionReviews (admission.k8s.io/v1 or v1beta1) as controller-runtime's
// admission.Webhook serves them, with the same answers: an empty body, a body over 7 MiB, a
// content type other than application/json or a body that is not an AdmissionReview get an
// error status; a review is answered in its own apiVersion and kind, with the request's uid.
//
// It reads only what Review reads: the review's apiVersion and kind, and the request's uid, kind,
// name, namespace, operation, user name, dryRun and objects (kept as slices of the body, not
// copied). The other fields are checked to be JSON, not decoded.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		h.writeError(w, nil, http.StatusBadRequest, "bad request", errors.New("request body is empty"))
		return
	}
	defer r.Body.Close()
	body, err := readBody(r)
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, errTooLarge) {
			code = http.StatusRequestEntityTooLarge
		}
		h.writeError(w, r, code, "unable to read the body from the incoming request", err)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		h.writeError(w, r, http.StatusBadRequest, "unable to process a request with unknown content type", fmt.Errorf("contentType=%s, expected application/json", ct))
		return
	}
	var req admission.Request
	gvk, err := decodeReview(body, &req.AdmissionRequest)
	if err != nil {
		h.writeError(w, r, http.StatusBadRequest, "unable to decode the request", err)
		return
	}
	ctx := r.Context()
	if h.log.Enabled(ctx, requestLevel) {
		h.log.LogAttrs(ctx, requestLevel, "received request", slog.String("requestID", string(req.UID)),
			slog.String("operation", string(req.Operation)), slog.String("kind", req.Kind.Kind), slog.String("namespace", req.Namespace))
	}
	resp := h.handleRecover(ctx, req)
	resp.UID = req.UID
	if resp.Result == nil || resp.Result.Code == 0 {
		// as admission.Response.Complete: a status code always
		res := *orEmpty(resp.Result)
		res.Code = http.StatusOK
		resp.Result = &res
	}
	if gvk.Empty() {
		gvk = admissionv1.SchemeGroupVersion.WithKind("AdmissionReview")
	}
	review := admissionv1.AdmissionReview{Response: &resp.AdmissionResponse}
	review.SetGroupVersionKind(gvk)
	if h.write(w, r, review) && h.log.Enabled(ctx, requestLevel) {
		h.log.LogAttrs(ctx, requestLevel, "wrote response", slog.String("requestID", string(resp.UID)), slog.Bool("allowed", resp.Allowed),
			slog.Int("code", int(resp.Result.Code)), slog.String("reason", string(resp.Result.Reason)), slog.String("message", resp.Result.Message))
	}
}

// handleRecover is Handle, with a panic turned into an error status (counted in
// controller-runtime's controller_runtime_webhook_panics_total, as its handler does).
func (h *Handler) handleRecover(ctx context.Context, req admission.Request) (resp admission.Response) {
	defer func() {
		if p := recover(); p != nil {
			admissionmetrics.WebhookPanics.WithLabelValues().Inc()
			h.log.LogAttrs(ctx, slog.LevelError, "review panicked", slog.String("uid", string(req.UID)), slog.String("panic", fmt.Sprint(p)))
			resp = admission.Errored(http.StatusInternalServerError, errors.New("internal error: the review panicked"))
		}
	}()
	return h.Handle(ctx, req)
}

func orEmpty[T any](p *T) *T {
	if p == nil {
		return new(T)
	}
	return p
}

var errTooLarge = fmt.Errorf("request entity is too large; limit is %d bytes", maxReviewBytes)

// readBody reads the request body, at most maxReviewBytes.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > 0 && r.ContentLength < maxReviewBytes {
		// one allocation of the declared length (bytes.Buffer.ReadFrom would grow it again
		// to read the end): net/http ends the body there, a shorter one is an error
		body := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, fmt.Errorf("read the request body: %w", err)
		}
		return body, nil
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r.Body, maxReviewBytes))
	if err != nil {
		return nil, fmt.Errorf("read the request body: %w", err)
	}
	if n >= maxReviewBytes {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

// writeError answers a request that was not reviewed with an error status (an AdmissionReview
// without apiVersion and kind, as controller-runtime's), and logs msg (controller-runtime's
// message for the case) with err, which never quotes the body.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, code int, msg string, err error) {
	attrs := []slog.Attr{slog.Int("code", code), slog.String("error", err.Error())}
	if r != nil {
		attrs = append(attrs, slog.String("remote", r.RemoteAddr))
	}
	h.log.LogAttrs(context.Background(), slog.LevelError, msg, attrs...)
	resp := admission.Errored(int32(code), err)
	h.write(w, r, admissionv1.AdmissionReview{Response: &resp.AdmissionResponse})
}

// write writes review as the response and reports whether it could.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, review admissionv1.AdmissionReview) bool {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(review); err != nil {
		// The client went away, most likely: nothing more can be written.
		attrs := []slog.Attr{slog.String("error", err.Error())}
		if r != nil {
			attrs = append(attrs, slog.String("remote", r.RemoteAddr))
		}
		h.log.LogAttrs(context.Background(), slog.LevelError, "unable to encode and write the response", attrs...)
		return false
	}
	return true
}

// errReview is a body that is not an AdmissionReview. The message never quotes the body.
type errReview struct {
	what string
	at   int
}

func (e *errReview) Error() string {
	return fmt.Sprintf("unable to decode the request: %s (byte %d)", e.what, e.at)
}

// reviewDecoder reads an AdmissionReview: the fields Review reads, into an AdmissionRequest.
type reviewDecoder struct {
	astDecoder
	depth int
}

func (d *reviewDecoder) fail(what string) error { return &errReview{what: what, at: d.pos} }

// decodeReview decodes an AdmissionReview into req and returns its group, version and kind, as
// controller-runtime's deserializer does: keys of the request are case-sensitive, a repeated key
// decodes again over the first (the last value wins), null leaves a field as it was, and the
// review's apiVersion and kind are matched whatever their case (encoding/json's rule).
func decodeReview(body []byte, req *admissionv1.AdmissionRequest) (schema.GroupVersionKind, error) {
	d := reviewDecoder{astDecoder: astDecoder{data: body}}
	var apiVersion, kind string
	err := d.object(func(key string) error {
		switch {
		case key == "request":
			return d.request(req)
		case strings.EqualFold(key, "apiVersion"):
			return d.stringInto(&apiVersion)
		case strings.EqualFold(key, "kind"):
			return d.stringInto(&kind)
		}
		return d.skip()
	})
	if err != nil {
		return schema.GroupVersionKind{}, err
	}
	if d.space() != 0 {
		return schema.GroupVersionKind{}, d.fail("data after the AdmissionReview")
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return schema.GroupVersionKind{}, fmt.Errorf("unable to decode the request: %w", err)
	}
	return gv.WithKind(kind), nil
}

// object reads the object at pos (or null), calling field with pos at the value of each key.
func (d *reviewDecoder) object(field func(key string) error) error {
	if d.null() {
		return nil
	}
	if d.space() != '{' {
		return d.fail("expected an object")
	}
	if d.depth++; d.depth > maxDepth {
		return d.fail("nested too deeply")
	}
	d.pos++
	for first := true; ; first = false {
		c := d.space()
		if c == '}' && first {
			break
		}
		if c != '"' {
			return d.fail("expected a key")
		}
		key, err := d.str()
		if err != nil {
			return d.fail("invalid key")
		}
		if d.space() != ':' {
			return d.fail("expected ':'")
		}
		d.pos++
		d.space()
		if err := field(key); err != nil {
			return err
		}
		c = d.space()
		if c == ',' {
			d.pos++
			continue
		}
		if c != '}' {
			return d.fail("expected ',' or '}'")
		}
		break
	}
	d.pos++
	d.depth--
	return nil
}

// null consumes a null at pos.
func (d *reviewDecoder) null() bool {
	if d.space() == 'n' && d.literal("null") == nil {
		return true
	}
	return false
}

// stringInto reads a string (or null, which leaves s as it was).
func (d *reviewDecoder) stringInto(s *string) error {
	if d.null() {
		return nil
	}
	if d.space() != '"' {
		return d.fail("expected a string")
	}
	v, err := d.str()
	if err != nil {
		return d.fail("invalid string")
	}
	*s = v
	return nil
}

// rawInto reads any value into raw: its text, a slice of the body (null leaves raw as it was,
// as runtime.RawExtension's UnmarshalJSON does).
func (d *reviewDecoder) rawInto(raw *[]byte) error {
	start := d.pos
	if err := d.skip(); err != nil {
		return err
	}
	if text := d.data[start:d.pos]; string(text) != "null" {
		*raw = text[:len(text):len(text)]
	}
	return nil
}

// skip moves pos past any JSON value, checking it.
func (d *reviewDecoder) skip() error {
	switch c := d.space(); c {
	case '{':
		return d.object(func(string) error { return d.skip() })
	case '[':
		if d.depth++; d.depth > maxDepth {
			return d.fail("nested too deeply")
		}
		d.pos++
		for first := true; ; first = false {
			if d.space() == ']' && first {
				break
			}
			if err := d.skip(); err != nil {
				return err
			}
			c := d.space()
			if c == ',' {
				d.pos++
				continue
			}
			if c != ']' {
				return d.fail("expected ',' or ']'")
			}
			break
		}
		d.pos++
		d.depth--
		return nil
	case '"':
		if _, ok := d.skipStr(); !ok {
			return d.fail("invalid string")
		}
		return nil
	case 't', 'f', 'n':
		for _, w := range []string{"true", "false", "null"} {
			if w[0] == c {
				if d.literal(w) != nil {
					return d.fail("invalid literal")
				}
			}
		}
		return nil
	}
	if !d.number() {
		return d.fail("invalid value")
	}
	return nil
}

// request reads the AdmissionRequest at pos into req.
func (d *reviewDecoder) request(req *admissionv1.AdmissionRequest) error {
	return d.object(func(key string) error {
		switch key {
		case "uid":
			s := string(req.UID)
			err := d.stringInto(&s)
			req.UID = types.UID(s)
			return err
		case "kind":
			return d.object(func(key string) error {
				switch key {
				case "group":
					return d.stringInto(&req.Kind.Group)
				case "version":
					return d.stringInto(&req.Kind.Version)
				case "kind":
					return d.stringInto(&req.Kind.Kind)
				}
				return d.skip()
			})
		case "name":
			return d.stringInto(&req.Name)
		case "namespace":
			return d.stringInto(&req.Namespace)
		case "operation":
			s := string(req.Operation)
			err := d.stringInto(&s)
			req.Operation = admissionv1.Operation(s)
			return err
		case "userInfo":
			return d.object(func(key string) error {
				if key == "username" {
					return d.stringInto(&req.UserInfo.Username)
				}
				return d.skip()
			})
		case "object":
			return d.rawInto(&req.Object.Raw)
		case "oldObject":
			return d.rawInto(&req.OldObject.Raw)
		case "dryRun":
			if d.null() {
				req.DryRun = nil // a pointer: null sets it to nil
				return nil
			}
			var b bool
			switch d.space() {
			case 't':
				b = true
				if d.literal("true") != nil {
					return d.fail("invalid literal")
				}
			case 'f':
				if d.literal("false") != nil {
					return d.fail("invalid literal")
				}
			default:
				return d.fail("expected a boolean")
			}
			req.DryRun = &b
			return nil
		}
		return d.skip()
	})
}
