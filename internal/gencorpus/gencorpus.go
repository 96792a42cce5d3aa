// Package gencorpus writes deterministic, realistic GitOps trees for benchmarks: clusters with
// Flux sources, Kustomizations and HelmReleases, apps with Deployments, Services and
// ExternalSecrets, and platform blueprints with their charts; about 5% of the documents break a
// rule, spread over the rules. Two shapes: ShapeApps groups an app's documents in a few
// multi-document files, ShapeFiles writes nearly one document per file.
package gencorpus

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Stats says what was written.
type Stats struct {
	Files, Documents, Violations int
}

// Shape is how a generated tree lays its documents out in files.
type Shape string

const (
	// ShapeApps: per app, one file of Flux objects, one of workloads, a blueprint and its chart
	// (9 documents in 4 files).
	ShapeApps Shape = "apps"
	// ShapeFiles: per app, 10 documents in 9 files (only the Deployment and its Service share
	// one), an extra HorizontalPodAutoscaler and more kinds of violation: about 45,000 files
	// for 50,000 documents.
	ShapeFiles Shape = "files"
)

// docsPerApp is how many documents one app directory holds (see writeApp).
func docsPerApp(s Shape) int {
	if s == ShapeFiles {
		return 10
	}
	return 9
}

// clusters is how many cluster folders the apps are spread over.
const clusters = 16

// Generate writes a ShapeApps tree of about docs documents under dir. The same seed writes the
// same tree.
func Generate(dir string, docs int, seed uint64) (Stats, error) {
	return GenerateShape(dir, docs, seed, ShapeApps)
}

// GenerateShape writes a tree of about docs documents of the given shape under dir. The same
// seed and shape write the same tree.
func GenerateShape(dir string, docs int, seed uint64, shape Shape) (Stats, error) {
	if shape != ShapeApps && shape != ShapeFiles {
		return Stats{}, fmt.Errorf("generate: unknown shape %q (apps or files)", shape)
	}
	g := &gen{dir: dir, shape: shape, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	apps := docs / docsPerApp(shape)
	if apps < 1 {
		apps = 1
	}
	for i := 0; i < apps; i++ {
		if err := g.writeApp(i); err != nil {
			return g.stats, err
		}
	}
	return g.stats, nil
}

type gen struct {
	dir   string
	shape Shape
	rng   *rand.Rand
	stats Stats
}

// bad returns true for about 5% of the calls sites that can break a rule.
func (g *gen) bad() bool {
	if g.rng.IntN(100) < 5 {
		g.stats.Violations++
		return true
	}
	return false
}

func (g *gen) write(rel string, docs ...string) error {
	p := filepath.Join(g.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if err := os.WriteFile(p, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	g.stats.Files++
	g.stats.Documents += len(docs)
	return nil
}

// writeApp writes one app: a Flux source, Kustomization and HelmRelease in its cluster folder,
// a workload folder (Deployment, Service, ExternalSecret, ConfigMap) and a blueprint with chart.
func (g *gen) writeApp(i int) error {
	cluster := fmt.Sprintf("cluster-%02d", i%16)
	env := []string{"production", "staging"}[i%2]
	app := fmt.Sprintf("app-%05d", i)
	ns := app + "-" + map[string]string{"production": "prod", "staging": "staging"}[env]
	interval := map[string]string{"production": "10m", "staging": "1m"}[env]
	gitInterval := "1m"

	url := fmt.Sprintf("https://gitea.fsn1.acme.example/acme/%s.git", app)
	if g.bad() {
		url = fmt.Sprintf("https://github.com/acme/%s", app)
	}
	branch := "main"
	if g.bad() {
		branch = "develop"
	}
	prune, wait := "true", "true"
	if g.bad() {
		prune = "false"
	}
	if g.bad() {
		wait = "false"
	}
	hrInterval := interval
	if g.bad() {
		hrInterval = "15m"
	}
	source := fmt.Sprintf(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: %[1]s
  namespace: flux-system
  labels:
    app.kubernetes.io/part-of: %[1]s
spec:
  interval: %[2]s
  url: %[3]s
  ref:
    branch: %[4]s
  secretRef:
    name: gitea-token
`, app, gitInterval, url, branch)
	ks := fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %[1]s
  namespace: flux-system
spec:
  interval: %[2]s
  targetNamespace: %[3]s
  sourceRef:
    kind: GitRepository
    name: %[1]s
  path: ./deploy/%[4]s
  prune: %[5]s
  wait: %[6]s
  timeout: 5m
  healthChecks:
    - apiVersion: apps/v1
      kind: Deployment
      name: %[1]s
      namespace: %[3]s
`, app, interval, ns, env, prune, wait)
	hr := fmt.Sprintf(`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: %[1]s
  namespace: flux-system
spec:
  interval: %[2]s
  releaseName: %[1]s
  targetNamespace: %[3]s
  chart:
    spec:
      chart: bp-%[1]s
      version: 1.%[4]d.0
      sourceRef:
        kind: HelmRepository
        name: catalyst
        namespace: flux-system
  install:
    remediation:
      retries: 3
  values:
    replicaCount: 2
    resources:
      requests: {cpu: 50m, memory: 64Mi}
`, app, hrInterval, ns, i%7)
	if i < clusters {
		// the HelmRepository the cluster's HelmReleases install from (flux-source-ref)
		if err := g.write(filepath.Join("clusters", cluster, env, "catalyst-helmrepository.yaml"), fmt.Sprintf(helmRepository, interval)); err != nil {
			return err
		}
	}
	fluxDir := filepath.Join("clusters", cluster, env)
	if g.shape == ShapeFiles {
		fluxDir = filepath.Join(fluxDir, app)
		for _, f := range [][2]string{{"gitrepository.yaml", source}, {"flux-kustomization.yaml", ks}, {"helmrelease.yaml", hr}} {
			if err := g.write(filepath.Join(fluxDir, f[0]), f[1]); err != nil {
				return err
			}
		}
	} else if err := g.write(filepath.Join(fluxDir, app+".yaml"), source, ks, hr); err != nil {
		return err
	}

	pwEnv := `            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: ` + app + `-db
                  key: password
`
	if g.bad() {
		pwEnv = `            - name: DB_PASSWORD
              value: not-a-real-password-` + app + `
`
	}
	deploy := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: %[2]s
  labels:
    app.kubernetes.io/name: %[1]s
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: %[1]s
  template:
    metadata:
      labels:
        app.kubernetes.io/name: %[1]s
    spec:
      serviceAccountName: %[1]s
      containers:
        - name: app
          image: ghcr.io/acme/%[1]s:1.0.0
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
%[3]s          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 256Mi
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
`, app, ns, pwEnv)
	svc := fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  selector:
    app.kubernetes.io/name: %[1]s
  ports:
    - name: http
      port: 80
      targetPort: http
`, app, ns)
	es := fmt.Sprintf(`apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: %[1]s-db
  namespace: %[2]s
spec:
  refreshInterval: 1h
  secretStoreRef:
    kind: ClusterSecretStore
    name: openbao
  target:
    name: %[1]s-db
  data:
    - secretKey: password
      remoteRef:
        key: apps/%[1]s/db
        property: password
`, app, ns)
	if g.bad() {
		es = fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %[1]s-db
  namespace: %[2]s
stringData:
  password: not-a-real-password
`, app, ns)
	}
	cm := fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %[1]s-config
  namespace: %[2]s
data:
  LOG_FORMAT: json
  FEATURE_FLAGS: "a,b,c"
`, app, ns)
	deployDir := filepath.Join("apps", app, "deploy", env)
	if g.shape == ShapeFiles {
		hpa := fmt.Sprintf(hpaDoc, "autoscaling/v2", app, ns)
		if g.bad() {
			hpa = fmt.Sprintf(hpaDoc, "autoscaling/v2beta2", app, ns) // removed in Kubernetes 1.26
		}
		if g.bad() {
			cm += "  API_TOKEN: ENC[AES256_GCM,data:c2VjcmV0,iv:aXY=,tag:dGFn,type:str]\n" // no-sops
		}
		files := []struct {
			name string
			docs []string
		}{
			{"deployment.yaml", []string{deploy, svc}},
			{"externalsecret.yaml", []string{es}},
			{"configmap.yaml", []string{cm}},
			{"hpa.yaml", []string{hpa}},
		}
		for _, f := range files {
			if err := g.write(filepath.Join(deployDir, f.name), f.docs...); err != nil {
				return err
			}
		}
	} else if err := g.write(filepath.Join(deployDir, "workload.yaml"), deploy, svc, es, cm); err != nil {
		return err
	}

	version := fmt.Sprintf("1.%d.0", i%7)
	chartVersion := version
	if g.bad() {
		chartVersion = fmt.Sprintf("1.%d.1", i%7)
	}
	bp := fmt.Sprintf(`apiVersion: catalyst.openova.io/v1alpha1
kind: Blueprint
metadata:
  name: bp-%[1]s
spec:
  version: %[2]s
  card:
    title: %[1]s
    summary: Generated blueprint for benchmarks.
  manifests:
    chart: ./chart
`, app, version)
	// no dependencies: the chart says it ships only its own resources (chart-upstream)
	chart := fmt.Sprintf("apiVersion: v2\nname: bp-%s\nversion: %s\ntype: application\nannotations:\n  catalyst.openova.io/no-upstream: \"true\"\n", app, chartVersion)
	if err := g.write(filepath.Join("platform", app, "blueprint.yaml"), bp); err != nil {
		return err
	}
	return g.write(filepath.Join("platform", app, "chart", "Chart.yaml"), chart)
}

// helmRepository is the cluster's chart repository (one per cluster folder); %s is its interval.
const helmRepository = `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: catalyst
  namespace: flux-system
spec:
  interval: %s
  type: oci
  url: oci://harbor.fsn1.acme.example/catalyst
`

// hpaDoc is an app's HorizontalPodAutoscaler (ShapeFiles): apiVersion, app, namespace.
const hpaDoc = `apiVersion: %[1]s
kind: HorizontalPodAutoscaler
metadata:
  name: %[2]s
  namespace: %[3]s
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: %[2]s
  minReplicas: 2
  maxReplicas: 6
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 80
`
