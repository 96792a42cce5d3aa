package server_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	sigsyaml "sigs.k8s.io/yaml"
)

// TestLoad is a bounded load run over TLS on loopback against the real `ova-lint serve` binary:
// OVA_LINT_LOADTEST=1 go test ./webhook/server -run TestLoad -v (or `make loadtest`)
//
// 50 concurrent clients (OVA_LINT_LOADTEST_CONCURRENCY) send AdmissionReviews over keep-alive
// TLS connections, verifying the server against its CA, for 30 s per phase
// (OVA_LINT_LOADTEST_DURATION): at a fixed total rate of 2,000 req/s (OVA_LINT_LOADTEST_RATE),
// open loop, first the small mix, then ~400 documents of the platform repository
// (OVA_LINT_LOADTEST_CORPUS, OVA_LINT_LOADTEST_CORPUS_DOCS; 0 skips the phase); then the small
// mix as fast as the server answers. Each phase prints req/s, the client's latency percentiles
// counted from each request's scheduled send (queueing included: what the apiserver sees) and
// from the actual send, the server's own histogram, errors, and the server's peak RSS (sampled
// VmRSS and VmHWM). It fails on any error. Targets on 2 cores: >= 2,000 req/s, p99 from the
// schedule <= 5 ms, RSS <= 64 MiB (reported, not enforced: the machine is shared).
func TestLoad(t *testing.T) {
	if os.Getenv("OVA_LINT_LOADTEST") != "1" {
		t.Skip("load run: set OVA_LINT_LOADTEST=1 (50 clients for 2 x 30 s against the built binary; make loadtest)")
	}
	concurrency := envInt(t, "OVA_LINT_LOADTEST_CONCURRENCY", 50)
	duration := gatedDuration(t, 30*time.Second)

	// e.g. OVA_LINT_LOADTEST_SERVER_ARGS=--log-level=warn, OVA_LINT_LOADTEST_SERVER_ENV="GOGC=200"
	p := startServe(t, nil, strings.Fields(os.Getenv("OVA_LINT_LOADTEST_SERVER_ARGS"))...)
	if path := os.Getenv("OVA_LINT_LOADTEST_SERVER_LOG"); path != "" { // e.g. with GODEBUG=gctrace=1
		t.Cleanup(func() { _ = os.WriteFile(path, []byte(p.logs.String()), 0o644) })
	}
	pid, probe, caPEM, port := p.pid, p.probe, p.caPEM, p.port
	idleRSS := readStatus(t, pid, "VmRSS")

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	transport := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"},
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		MaxConnsPerHost:     concurrency,
		IdleConnTimeout:     time.Minute,
		// OVA_LINT_LOADTEST_HTTP2=1 with OVA_LINT_LOADTEST_SERVER_ARGS=--enable-http2: the
		// apiserver's way when the webhook offers h2 (one connection, streams multiplexed)
		ForceAttemptHTTP2: os.Getenv("OVA_LINT_LOADTEST_HTTP2") == "1",
	}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	url := fmt.Sprintf("https://127.0.0.1:%d/validate", port)
	bodies := loadMix(t)

	// warm up the connections and the server
	for i := 0; i < concurrency; i++ {
		require.NoError(t, post(client, url, bodies[i%len(bodies)]))
	}

	// Phase 1, the targets: 50 clients offering a fixed total rate (open loop). Latency counts from
	// each request's scheduled start, so a stalled server cannot hide its queue: what the
	// apiserver sees. First the small mix, then ~400 documents of the platform repository.
	rate := envInt(t, "OVA_LINT_LOADTEST_RATE", 2000)
	s0 := scrapeLatency(t, probe)
	paced := run(t, pid, client, url, bodies, concurrency, duration, rate)
	s1 := scrapeLatency(t, probe)
	paced.server = s1.quantiles(s0, 0.5, 0.9, 0.99, 0.999)
	phases := []phase{{fmt.Sprintf("%d-review mix at %d req/s", len(bodies), rate), paced, readStatus(t, pid, "VmHWM")}}
	if corpus := corpusMix(t, envInt(t, "OVA_LINT_LOADTEST_CORPUS_DOCS", 400)); len(corpus) > 0 {
		for i := 0; i < concurrency; i++ { // warm up: the corpus' kinds take other queries
			require.NoError(t, post(client, url, corpus[i%len(corpus)]))
		}
		s0 := scrapeLatency(t, probe)
		r := run(t, pid, client, url, corpus, concurrency, duration, rate)
		r.server = scrapeLatency(t, probe).quantiles(s0, 0.5, 0.9, 0.99, 0.999)
		phases = append(phases, phase{fmt.Sprintf("%d corpus documents at %d req/s", len(corpus), rate), r, readStatus(t, pid, "VmHWM")})
	}
	// Phase 2, the capacity: the same clients as fast as the server answers (closed loop).
	s2 := scrapeLatency(t, probe)
	flat := run(t, pid, client, url, bodies, concurrency, duration, 0)
	flat.server = scrapeLatency(t, probe).quantiles(s2, 0.5, 0.9, 0.99, 0.999)
	hwm := readStatus(t, pid, "VmHWM")
	phases = append(phases, phase{"as fast as answered", flat, hwm})

	report := fmt.Sprintf("load run: %d clients over keep-alive TLS on loopback, %s per phase, GOMAXPROCS=%s, server RSS idle %.1f MiB\n",
		concurrency, duration, gomaxprocs(), mib(idleRSS))
	for _, ph := range phases {
		report += ph.r.String(ph.name, ph.hwm)
	}
	// RSS is mostly the binary's own pages (text, rodata, pclntab: file-backed, shared, clean);
	// the Go heap and stacks are the anonymous part, what GOMEMLIMIT governs.
	report += fmt.Sprintf("  server RSS now: %.1f MiB anonymous + %.1f MiB file-backed (the binary)\n",
		mib(readStatus(t, pid, "RssAnon")), mib(readStatus(t, pid, "RssFile")))
	t.Log("\n" + report)
	fmt.Print(report)
	for _, ph := range phases[:len(phases)-1] {
		for _, target := range []struct {
			ok   bool
			what string
		}{
			{ph.r.rps >= 0.98*float64(rate) && rate >= 2000, fmt.Sprintf("throughput %.0f req/s at the offered rate (target >= 2000)", ph.r.rps)},
			{percentile(ph.r.sched, 0.99) <= 5*time.Millisecond, fmt.Sprintf("p99 %s from the schedule (target <= 5ms)", percentile(ph.r.sched, 0.99))},
			{ph.hwm <= 64<<20, fmt.Sprintf("peak RSS %.1f MiB so far (target <= 64 MiB)", mib(ph.hwm))},
		} {
			verdict := "met"
			if !target.ok {
				verdict = "MISSED"
			}
			t.Logf("target %s (%s): %s", verdict, ph.name, target.what)
		}
	}
	for _, ph := range phases {
		require.Zero(t, ph.r.errs, "errors under load, %s (first: %s)", ph.name, ph.r.firstErr)
	}

	// graceful stop under no load
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t, 40*time.Second), "serve exits 0 on SIGTERM:\n%s", tail(p.logs.String(), 20))
}

// phase is one phase of the load run: its name, result and the server's VmHWM after it.
type phase struct {
	name string
	r    result
	hwm  int64
}

// result is one phase of the load run.
type result struct {
	lat      []time.Duration // from sending the request to reading the whole response
	sched    []time.Duration // from the scheduled start (open loop): adds the client's own lag
	server   []time.Duration // p50, p90, p99, p99.9 measured inside the server
	rps      float64
	errs     int64
	firstErr string
	cpu      float64 // server cores used
	peakRSS  int64
	elapsed  time.Duration
}

func (r result) pct(p float64) time.Duration { return percentile(r.lat, p) }

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func (r result) String(name string, hwm int64) string {
	us := func(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }
	line := func(what string, ps []time.Duration) string {
		return fmt.Sprintf("    %-34s p50 %-8s p90 %-8s p99 %-8s p99.9 %-8s max %s\n", what, us(ps[0]), us(ps[1]), us(ps[2]), us(ps[3]), us(ps[4]))
	}
	pcts := func(sorted []time.Duration) []time.Duration {
		return []time.Duration{percentile(sorted, 0.5), percentile(sorted, 0.9), percentile(sorted, 0.99), percentile(sorted, 0.999), percentile(sorted, 1)}
	}
	return fmt.Sprintf("  %s: %.0f req/s, %d ok, %d errors, server CPU %.2f cores, RSS peak sampled %.1f MiB, VmHWM %.1f MiB\n",
		name, r.rps, len(r.lat), r.errs, r.cpu, mib(r.peakRSS), mib(hwm)) +
		line("client, from the scheduled send:", pcts(r.sched)) +
		line("client, from the actual send:", pcts(r.lat)) +
		line("server histogram (±10%):", append(r.server[:4:4], 0))
}

// run drives concurrency clients for d. With rate > 0 each client sends at rate/concurrency per
// second on a fixed schedule; with rate 0 back to back. Latency is measured from the send; the
// open loop also reports it from the scheduled start, which adds the generator's own lag on the
// shared cores.
func run(t *testing.T, pid int, client *http.Client, url string, bodies [][]byte, concurrency int, d time.Duration, rate int) result {
	t.Helper()
	var (
		wg       sync.WaitGroup
		errs     atomic.Int64
		firstErr atomic.Value
		peakRSS  atomic.Int64
		lat      = make([][]time.Duration, concurrency)
		sched    = make([][]time.Duration, concurrency)
	)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
				if v := readStatus(t, pid, "VmRSS"); v > peakRSS.Load() {
					peakRSS.Store(v)
				}
			}
		}
	}()
	var interval time.Duration
	if rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(concurrency) / float64(rate))
	}
	cpuBefore := cpuTime(t, pid)
	start := time.Now()
	stopAt := start.Add(d)
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			samples := make([]time.Duration, 0, 1<<15)
			lagged := make([]time.Duration, 0, 1<<15)
			next := start.Add(interval * time.Duration(w) / time.Duration(concurrency))
			for i := w; ; i++ {
				if interval > 0 {
					if wait := time.Until(next); wait > 0 {
						time.Sleep(wait)
					}
				} else {
					next = time.Now()
				}
				if next.After(stopAt) {
					break
				}
				sent := time.Now()
				if err := post(client, url, bodies[i%len(bodies)]); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					samples = append(samples, time.Since(sent))
					lagged = append(lagged, time.Since(next))
				}
				next = next.Add(interval)
			}
			lat[w], sched[w] = samples, lagged
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	r := result{errs: errs.Load(), peakRSS: peakRSS.Load(), elapsed: elapsed}
	r.cpu = (cpuTime(t, pid) - cpuBefore).Seconds() / elapsed.Seconds()
	if v, ok := firstErr.Load().(string); ok {
		r.firstErr = v
	}
	for w := range lat {
		r.lat = append(r.lat, lat[w]...)
		r.sched = append(r.sched, sched[w]...)
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	sort.Slice(r.sched, func(i, j int) bool { return r.sched[i] < r.sched[j] })
	r.rps = float64(len(r.lat)) / elapsed.Seconds()
	return r
}

func post(c *http.Client, url string, body []byte) error {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// corpusMix is up to limit documents of the platform repository (OVA_LINT_LOADTEST_CORPUS,
// default ../shared/corpus/openova), read at test time, sent as AdmissionReviews the way
// kustomize-controller applies them: CREATE of the object with its Kustomization's labels, in
// its namespace (default "default"; none for cluster-scoped kinds). Helm templates and
// documents that are not objects are left out. Nil when the corpus is not there.
func corpusMix(t *testing.T, limit int) [][]byte {
	t.Helper()
	root := os.Getenv("OVA_LINT_LOADTEST_CORPUS")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared", "corpus", "openova")
	}
	if _, err := os.Stat(root); err != nil {
		t.Logf("corpus %s: %v: the corpus mix is skipped", root, err)
		return nil
	}
	var out [][]byte
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || len(out) >= limit {
			return err
		}
		if d.IsDir() && d.Name() == "templates" {
			return filepath.SkipDir // Helm templates: not YAML until rendered
		}
		if d.IsDir() || (filepath.Ext(path) != ".yaml" && filepath.Ext(path) != ".yml") {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, doc := range bytes.Split(raw, []byte("\n---")) {
			if len(out) >= limit {
				break
			}
			var obj map[string]any
			if sigsyaml.Unmarshal(doc, &obj) != nil {
				continue
			}
			apiVersion, _ := obj["apiVersion"].(string)
			kind, _ := obj["kind"].(string)
			md, _ := obj["metadata"].(map[string]any)
			name, _ := md["name"].(string)
			if apiVersion == "" || kind == "" || name == "" || kind == "Kustomization" && apiVersion == "kustomize.config.k8s.io/v1beta1" {
				continue
			}
			ns, _ := md["namespace"].(string)
			if ns == "" && !clusterScoped[kind] {
				ns = "default"
				md["namespace"] = ns
			}
			labels, _ := md["labels"].(map[string]any)
			if labels == nil {
				labels = map[string]any{}
			}
			labels["kustomize.toolkit.fluxcd.io/name"] = "platform"
			labels["kustomize.toolkit.fluxcd.io/namespace"] = "flux-system"
			md["labels"] = labels
			out = append(out, reviewOf(t, len(out), obj))
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// clusterScoped are the cluster-scoped kinds of the corpus: their requests carry no namespace.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "CustomResourceDefinition": true,
	"ClusterIssuer": true, "ClusterSecretStore": true, "StorageClass": true, "PriorityClass": true,
	"ClusterPolicy": true, "ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true, "PersistentVolume": true,
	"CiliumClusterwideNetworkPolicy": true, "IngressClass": true, "GatewayClass": true, "APIService": true,
}

// reviewOf is a CREATE AdmissionReview of obj, uid number i.
func reviewOf(t *testing.T, i int, obj map[string]any) []byte {
	t.Helper()
	doc, err := json.Marshal(obj)
	require.NoError(t, err)
	apiVersion := obj["apiVersion"].(string)
	group, version, _ := strings.Cut(apiVersion, "/")
	if version == "" {
		group, version = "", apiVersion
	}
	md := obj["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	gvk := metav1.GroupVersionKind{Group: group, Version: version, Kind: obj["kind"].(string)}
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i)), Kind: gvk, Name: md["name"].(string), Namespace: ns,
			Resource:  metav1.GroupVersionResource{Group: group, Version: version, Resource: strings.ToLower(gvk.Kind) + "s"},
			Operation: admissionv1.Create, Object: k8sruntime.RawExtension{Raw: doc},
			UserInfo: authnv1.UserInfo{Username: "system:serviceaccount:flux-system:kustomize-controller"},
		},
	})
	require.NoError(t, err)
	return b
}

// loadMix is the review mix: Flux CRs clean, denied and warned, and objects Flux applies.
func loadMix(t *testing.T) [][]byte {
	t.Helper()
	docs := []string{
		`{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization","metadata":{"name":"apps","namespace":"flux-system"},"spec":{"interval":"10m","path":"./apps","prune":true,"wait":true,"sourceRef":{"kind":"GitRepository","name":"platform"},"healthChecks":[{"apiVersion":"apps/v1","kind":"Deployment","name":"api","namespace":"apps"}]}}`,
		badKustomization,
		`{"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"GitRepository","metadata":{"name":"platform","namespace":"flux-system"},"spec":{"interval":"1m","url":"https://gitea.fsn1.acme.example/platform/platform.git","ref":{"branch":"main"},"secretRef":{"name":"gitea-token"}}}`,
		`{"apiVersion":"helm.toolkit.fluxcd.io/v2","kind":"HelmRelease","metadata":{"name":"api","namespace":"flux-system"},"spec":{"interval":"15m","chart":{"spec":{"chart":"api","version":"1.0.0","sourceRef":{"kind":"HelmRepository","name":"platform"}}}}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api","namespace":"apps","labels":{"kustomize.toolkit.fluxcd.io/name":"apps"}},"spec":{"selector":{"matchLabels":{"app":"api"}},"template":{"metadata":{"labels":{"app":"api"}},"spec":{"containers":[{"name":"api","image":"ghcr.io/acme/api:1.0.0","env":[{"name":"LOG_LEVEL","value":"info"},{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}}]}]}}}}`,
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"apps","labels":{"kustomize.toolkit.fluxcd.io/name":"apps"}},"type":"Opaque","data":{"password":"aHVudGVyMg=="}}`,
	}
	var out [][]byte
	for i, doc := range docs {
		var obj map[string]any
		require.NoError(t, sigsyaml.Unmarshal([]byte(doc), &obj))
		out = append(out, reviewOf(t, i, obj))
	}
	return out
}

// readStatus reads a /proc/<pid>/status field in bytes.
func readStatus(t *testing.T, pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	return 0
}

// cpuTime is the user+system CPU time of a process.
func cpuTime(t *testing.T, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func gomaxprocs() string {
	if v := os.Getenv("GOMAXPROCS"); v != "" {
		return v
	}
	return strconv.Itoa(runtime.GOMAXPROCS(0))
}

func envInt(t *testing.T, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, name)
		return n
	}
	return def
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// latencySnapshot is the server's own view of review latency: controller-runtime's
// controller_runtime_webhook_latency_seconds native histogram (bucket factor 1.1), from the
// moment the handler is entered to the response written, without TLS, network or client lag.
type latencySnapshot struct {
	schema  int32
	zero    uint64
	buckets map[int]uint64
}

func scrapeLatency(t *testing.T, probe string) latencySnapshot {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+probe+"/metrics", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", string(expfmt.FmtProtoDelim))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	snap := latencySnapshot{buckets: map[int]uint64{}}
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		if mf.GetName() != "controller_runtime_webhook_latency_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			snap.schema, snap.zero = h.GetSchema(), h.GetZeroCount()
			idx, count, d := 0, int64(0), 0
			for _, span := range h.GetPositiveSpan() {
				idx += int(span.GetOffset())
				for j := uint32(0); j < span.GetLength(); j++ {
					count += h.GetPositiveDelta()[d]
					d++
					snap.buckets[idx] += uint64(count)
					idx++
				}
			}
		}
	}
	return snap
}

// quantiles of the reviews between two snapshots (upper bucket bounds, within 10%).
func (after latencySnapshot) quantiles(before latencySnapshot, qs ...float64) []time.Duration {
	var idx []int
	total := after.zero - before.zero
	for i, c := range after.buckets {
		if c > before.buckets[i] {
			idx = append(idx, i)
			total += c - before.buckets[i]
		}
	}
	sort.Ints(idx)
	base := math.Pow(2, math.Pow(2, -float64(after.schema)))
	out := make([]time.Duration, len(qs))
	for k, q := range qs {
		want, cum := uint64(math.Ceil(q*float64(total))), after.zero-before.zero
		for _, i := range idx {
			cum += after.buckets[i] - before.buckets[i]
			if cum >= want {
				out[k] = time.Duration(math.Pow(base, float64(i)) * float64(time.Second))
				break
			}
		}
	}
	return out
}
