// Command auditbench measures `ova-lint audit` against the manual route on a real kube-apiserver
// holding -objects objects that the audit concerns (Flux custom resources, and ConfigMaps,
// Secrets and Deployments carrying Flux's labels) plus unlabelled noise. In one run, interleaved,
// -runs times each:
//
//   - audit: `ova-lint audit -f json`;
//   - manual: `kubectl get <the same kinds> -A -o yaml` into files (the Flux kinds whole, the
//     other kinds once per Flux controller label, as the audit lists them), then
//     `ova-lint lint --render off --no-schema -f json` on those files.
//
// It reports the medians of wall time, peak RSS (the largest process of the route) and API
// requests (the apiserver's apiserver_request_total before and after), and the audit/manual
// ratio. `make auditbench` runs it.
//
//	KUBEBUILDER_ASSETS=... go run ./hack/auditbench -ova bin/ova-lint -objects 10000 -runs 5
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Flux controller modules whose config/crd/bases hold the CRDs.
var fluxModules = []string{
	"github.com/fluxcd/source-controller@v1.9.6",
	"github.com/fluxcd/kustomize-controller@v1.9.6",
	"github.com/fluxcd/helm-controller@v1.6.4",
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "auditbench:", err)
		os.Exit(1)
	}
}

type measure struct {
	wall     time.Duration
	rssKB    int64
	requests int
	exit     int
}

func run() error {
	ova := flag.String("ova", "bin/ova-lint", "ova-lint binary")
	assets := flag.String("assets", os.Getenv("KUBEBUILDER_ASSETS"), "directory of etcd, kube-apiserver and kubectl (default $KUBEBUILDER_ASSETS)")
	objects := flag.Int("objects", 10000, "objects the audit concerns")
	noise := flag.Int("noise", 1000, "unlabelled ConfigMaps, which neither route audits")
	runs := flag.Int("runs", 5, "runs per route; the median is reported")
	hold := flag.Bool("hold", false, "populate, print the kubeconfig path and wait for an interrupt instead of measuring (for profiling)")
	flag.Parse()
	if *assets == "" {
		return errors.New("-assets or KUBEBUILDER_ASSETS: the directory of etcd, kube-apiserver and kubectl")
	}
	kubectl := filepath.Join(*assets, "kubectl")
	ovaBin, err := filepath.Abs(*ova)
	if err != nil {
		return err
	}
	ctx := context.Background()
	ctrllog.SetLogger(logr.Discard())

	crds, err := fluxCRDDirs()
	if err != nil {
		return err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: *assets, CRDDirectoryPaths: crds, ErrorIfCRDPathMissing: true,
		CRDInstallOptions: envtest.CRDInstallOptions{MaxTime: 90 * time.Second},
	}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("envtest: %w", err)
	}
	defer func() { _ = env.Stop() }()
	user, err := env.ControlPlane.AddUser(envtest.User{Name: "auditbench", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "auditbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	kubeconfig := filepath.Join(work, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		return err
	}

	fast := rest.CopyConfig(cfg)
	fast.QPS, fast.Burst = 2000, 4000
	begin := time.Now()
	n, err := populate(ctx, fast, *objects, *noise)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "auditbench: %d objects (+%d unlabelled) created in %s\n", n, *noise, time.Since(begin).Round(time.Millisecond))
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if *hold {
		fmt.Println(kubeconfig)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		return nil
	}
	requests := func() (int, error) { return requestTotal(ctx, cs) }

	audit := func() (measure, error) {
		return measured(requests, func() (measure, error) {
			return runOnce(ctx, nil, ovaBin, "audit", "--kubeconfig", kubeconfig, "-f", "json")
		})
	}
	manual := func() (measure, error) {
		dir := filepath.Join(work, "manual")
		_ = os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return measure{}, err
		}
		return measured(requests, func() (measure, error) {
			var total measure
			gets := [][]string{
				{"get", "gitrepositories,ocirepositories,helmrepositories,kustomizations,helmreleases", "-A", "-o", "yaml"},
				{"get", "configmaps,secrets,deployments", "-A", "-l", "kustomize.toolkit.fluxcd.io/name", "-o", "yaml"},
				{"get", "configmaps,secrets,deployments", "-A", "-l", "helm.toolkit.fluxcd.io/name", "-o", "yaml"},
			}
			for i, g := range gets {
				out, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d.yaml", i)))
				if err != nil {
					return measure{}, err
				}
				args := append([]string{"--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(work, "kubectl-cache")}, g...)
				m, err := runOnce(ctx, out, kubectl, args...)
				out.Close()
				if err != nil || m.exit != 0 {
					return measure{}, fmt.Errorf("kubectl %s: exit %d: %v", strings.Join(g, " "), m.exit, err)
				}
				total = add(total, m)
			}
			m, err := runOnce(ctx, nil, ovaBin, "lint", "--render", "off", "--no-schema", "-f", "json", dir)
			if err != nil {
				return measure{}, err
			}
			total = add(total, m)
			total.exit = m.exit
			return total, nil
		})
	}

	var audits, manuals []measure
	for r := 0; r < *runs; r++ {
		a, err := audit()
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		m, err := manual()
		if err != nil {
			return fmt.Errorf("manual: %w", err)
		}
		audits, manuals = append(audits, a), append(manuals, m)
		fmt.Fprintf(os.Stderr, "auditbench: run %d: audit %s %d MiB %d requests; manual %s %d MiB %d requests\n", r+1,
			a.wall.Round(time.Millisecond), a.rssKB/1024, a.requests, m.wall.Round(time.Millisecond), m.rssKB/1024, m.requests)
	}
	a, m := median(audits), median(manuals)
	fmt.Printf("| %d objects (+%d unlabelled) | wall (median of %d) | peak RSS (median) | API requests | exit |\n|---|---|---|---|---|\n", n, *noise, *runs)
	fmt.Printf("| `ova-lint audit` | %.2f s | %.0f MiB | %d | %d |\n", a.wall.Seconds(), float64(a.rssKB)/1024, a.requests, a.exit)
	fmt.Printf("| kubectl get -o yaml + `ova-lint lint` | %.2f s | %.0f MiB | %d | %d |\n", m.wall.Seconds(), float64(m.rssKB)/1024, m.requests, m.exit)
	fmt.Printf("| **ratio audit / manual** | **%.2f×** | %.2f× | %.2f× | |\n", a.wall.Seconds()/m.wall.Seconds(), float64(a.rssKB)/float64(m.rssKB), float64(a.requests)/float64(max(m.requests, 1)))
	return nil
}

// measured runs f and adds the API requests the apiserver counted meanwhile (less the one that
// reads the counter).
func measured(requests func() (int, error), f func() (measure, error)) (measure, error) {
	before, err := requests()
	if err != nil {
		return measure{}, err
	}
	m, err := f()
	if err != nil {
		return measure{}, err
	}
	after, err := requests()
	if err != nil {
		return measure{}, err
	}
	m.requests = after - before - 1
	return m, nil
}

// add sums the wall time and requests of two processes run one after the other; the peak RSS
// is the larger one.
func add(a, b measure) measure {
	return measure{wall: a.wall + b.wall, rssKB: max(a.rssKB, b.rssKB), requests: a.requests + b.requests, exit: b.exit}
}

func runOnce(ctx context.Context, stdout io.Writer, name string, args ...string) (measure, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout = io.Discard
	if stdout != nil {
		cmd.Stdout = stdout
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return measure{}, err
	}
	m := measure{wall: wall, exit: cmd.ProcessState.ExitCode()}
	if m.exit > 1 {
		return m, fmt.Errorf("%s exited %d: %s", filepath.Base(name), m.exit, stderr.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.rssKB = ru.Maxrss
	}
	return m, nil
}

func median(ms []measure) measure {
	out := ms[len(ms)/2]
	sort.Slice(ms, func(i, j int) bool { return ms[i].wall < ms[j].wall })
	out.wall = ms[len(ms)/2].wall
	sort.Slice(ms, func(i, j int) bool { return ms[i].rssKB < ms[j].rssKB })
	out.rssKB = ms[len(ms)/2].rssKB
	sort.Slice(ms, func(i, j int) bool { return ms[i].requests < ms[j].requests })
	out.requests = ms[len(ms)/2].requests
	return out
}

// requestTotal sums apiserver_request_total from the apiserver's /metrics.
func requestTotal(ctx context.Context, cs *kubernetes.Clientset) (int, error) {
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the apiserver's metrics: %w", err)
	}
	total := 0.0
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			total += v
		}
	}
	return int(total), sc.Err()
}

// fluxCRDDirs locates the Flux CRDs in the Go module cache.
func fluxCRDDirs() ([]string, error) {
	var dirs []string
	for _, m := range fluxModules {
		cmd := exec.Command("go", "mod", "download", "-json", m)
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go mod download %s: %w", m, err)
		}
		var info struct{ Dir, Error string }
		if err := json.Unmarshal(out, &info); err != nil || info.Error != "" {
			return nil, fmt.Errorf("go mod download %s: %v %s", m, err, info.Error)
		}
		dirs = append(dirs, filepath.Join(info.Dir, "config", "crd", "bases"))
	}
	return dirs, nil
}

// populate creates the objects: one in ten of each kind breaks a rule. Of n: 5% GitRepositories,
// 10% Kustomizations, 5% HelmReleases, 1% HelmRepositories, 30% ConfigMaps, 24% Secrets (half
// plaintext, half references), the rest Deployments; spread over 20 namespaces.
func populate(ctx context.Context, cfg *rest.Config, n, noise int) (int, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	const namespaces = 20
	nsName := func(i int) string { return fmt.Sprintf("team-%02d", i%namespaces) }
	for i := 0; i < namespaces; i++ {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsName(i)}}, metav1.CreateOptions{}); err != nil {
			return 0, err
		}
	}
	type item struct {
		gvr schema.GroupVersionResource
		obj map[string]any
	}
	var items []item
	addN := func(count int, gvr schema.GroupVersionResource, mk func(i int, ns, name string, bad bool) map[string]any) {
		for i := 0; i < count; i++ {
			ns := nsName(i)
			name := fmt.Sprintf("%s-%05d", strings.TrimSuffix(gvr.Resource, "s"), i)
			items = append(items, item{gvr, mk(i, ns, name, i%10 == 0)})
		}
	}
	kustomizeLabels := map[string]any{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
	helmLabels := map[string]any{"helm.toolkit.fluxcd.io/name": "api", "helm.toolkit.fluxcd.io/namespace": "flux-system"}
	meta := func(ns, name string, labels map[string]any) map[string]any {
		m := map[string]any{"name": name, "namespace": ns}
		if labels != nil {
			m["labels"] = labels
		}
		return m
	}
	git := schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	helmRepo := schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "helmrepositories"}
	ks := schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	hr := schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}
	cm := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secret := schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	deploy := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

	nGit, nKs, nHr, nRepo := n*5/100, n*10/100, n*5/100, n/100
	nCM, nSecret := n*30/100, n*24/100
	nDeploy := n - nGit - nKs - nHr - nRepo - nCM - nSecret
	addN(nGit, git, func(i int, ns, name string, bad bool) map[string]any {
		branch := "main"
		if bad {
			branch = "develop"
		}
		return map[string]any{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": meta(ns, name, nil),
			"spec": map[string]any{"interval": "1m", "url": "https://gitea.fsn1.acme.example/platform/" + name + ".git",
				"ref": map[string]any{"branch": branch}, "secretRef": map[string]any{"name": "gitea-token"}}}
	})
	addN(nRepo, helmRepo, func(i int, ns, name string, bad bool) map[string]any {
		return map[string]any{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository", "metadata": meta(ns, name, nil),
			"spec": map[string]any{"interval": "10m", "url": "https://charts.example.com"}}
	})
	addN(nKs, ks, func(i int, ns, name string, bad bool) map[string]any {
		return map[string]any{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": meta(ns, name, nil),
			"spec": map[string]any{"interval": "10m", "path": "./" + name, "prune": !bad, "wait": true,
				"sourceRef":    map[string]any{"kind": "GitRepository", "name": fmt.Sprintf("gitrepositorie-%05d", i%max(nGit, 1))},
				"healthChecks": []any{map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "namespace": ns}}}}
	})
	addN(nHr, hr, func(i int, ns, name string, bad bool) map[string]any {
		version := "1.0.0"
		if bad {
			version = ">=1.0.0"
		}
		return map[string]any{"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": meta(ns, name, nil),
			"spec": map[string]any{"interval": "10m", "chart": map[string]any{"spec": map[string]any{"chart": "api", "version": version,
				"sourceRef": map[string]any{"kind": "HelmRepository", "name": fmt.Sprintf("helmrepositorie-%05d", i%max(nRepo, 1))}}}}}
	})
	addN(nCM, cm, func(i int, ns, name string, bad bool) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(ns, name, kustomizeLabels),
			"data": map[string]any{"LOG_LEVEL": "info", "FEATURES": strings.Repeat("x", 200)}}
	})
	addN(nSecret, secret, func(i int, ns, name string, bad bool) map[string]any {
		value := "op://platform/" + name + "/password"
		if i%2 == 0 {
			value = "plaintext-" + name
		}
		return map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta(ns, name, kustomizeLabels),
			"stringData": map[string]any{"password": value}}
	})
	addN(nDeploy, deploy, func(i int, ns, name string, bad bool) map[string]any {
		env := []any{map[string]any{"name": "DB_HOST", "value": "db"}}
		if bad {
			env = append(env, map[string]any{"name": "DB_PASSWORD", "value": "literal"})
		}
		return map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(ns, name, helmLabels),
			"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
				"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": name}},
					"spec": map[string]any{"containers": []any{map[string]any{"name": "api", "image": "registry.example.com/api:1.0.0", "env": env}}}}}}
	})
	for i := 0; i < noise; i++ {
		items = append(items, item{cm, map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": meta(nsName(i), fmt.Sprintf("unmanaged-%05d", i), nil), "data": map[string]any{"a": "b"}}})
	}

	work := make(chan item)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Go(func() {
			for it := range work {
				u := &unstructured.Unstructured{Object: it.obj}
				if _, err := dyn.Resource(it.gvr).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{}); err != nil {
					select {
					case errs <- fmt.Errorf("create %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err):
					default:
					}
				}
			}
		})
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return n, nil
}
