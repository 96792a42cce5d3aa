package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	sigsyaml "sigs.k8s.io/yaml"
)

// Secret values the reviews below carry. Each is distinctive, so finding it anywhere is a leak.
const (
	secretStringData = "s3cr3t-stringData-Pa55w0rd"
	secretData       = "s3cr3t-data-Pa55w0rd" // sent base64-encoded
	secretEnv        = "s3cr3t-env-Pa55w0rd"
	secretDBURL      = "s3cr3t-dburl-Pa55w0rd"
	secretGitURL     = "s3cr3t-giturl-Pa55w0rd"
	secretHelmURL    = "s3cr3t-helmurl-Pa55w0rd"
	secretSOPSData   = "c29wcy1lbmNyeXB0ZWQtUGE1NXcwcmQ=" // the data: of an ENC[...] value
	secretSOPSMac    = "c29wcy1tYWMtUGE1NXcwcmQ="
	secretBroken     = "s3cr3t-broken-Pa55w0rd"
	secretUser       = "flux-bot-user" // the user: part of user:pass@
)

// leaks is every string that must not appear: the values, their base64 forms, the ENC[...] values.
func leaks() []string {
	out := []string{
		secretStringData, secretData, base64.StdEncoding.EncodeToString([]byte(secretData)), secretEnv, secretDBURL,
		secretGitURL, secretHelmURL, secretSOPSData, secretSOPSMac, secretBroken, secretUser,
		"ENC[AES256_GCM,data:" + secretSOPSData,
	}
	for _, s := range []string{secretStringData, secretEnv, secretDBURL, secretGitURL, secretHelmURL, secretBroken} {
		out = append(out, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	return out
}

func sopsValue(data string) string {
	return "ENC[AES256_GCM,data:" + data + ",iv:aXYtdGVzdA==,tag:dGFnLXRlc3Q=,type:str]"
}

// secretReviews are AdmissionReviews holding secret values, each with the rule it must trip (so
// the test sees the messages that talk about them), by name.
func secretReviews(t *testing.T) []secretReview {
	t.Helper()
	flux := map[string]any{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
	secret := map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata":   map[string]any{"name": "db", "namespace": "apps", "labels": flux},
		"stringData": map[string]any{"password": secretStringData, "sops-value": sopsValue(secretSOPSData)},
		"data":       map[string]any{"token": base64.StdEncoding.EncodeToString([]byte(secretData))},
	}
	sopsSecret := map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata":   map[string]any{"name": "sops", "namespace": "apps", "labels": flux},
		"stringData": map[string]any{"api_key": sopsValue(secretSOPSData)},
		"sops": map[string]any{"version": "3.8.1", "mac": sopsValue(secretSOPSMac),
			"age": []any{map[string]any{"recipient": "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3q7h8", "enc": secretSOPSMac}}},
	}
	deployment := yamlMap(t, fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: apps}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.0.0
          env:
            - {name: DB_PASSWORD, value: %s}
            - {name: DATABASE_URL, value: "postgres://%s:%s@db.apps:5432/app"}
`, secretEnv, secretUser, secretDBURL))
	deployment["metadata"].(map[string]any)["labels"] = flux
	gitRepo := yamlMap(t, fmt.Sprintf(`
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: platform, namespace: flux-system}
spec:
  interval: 5m
  url: https://%s:%s@github.com/acme/platform.git
  ref: {branch: main}
  secretRef: {name: gitea-token}
`, secretUser, secretGitURL))
	helmRepo := yamlMap(t, fmt.Sprintf(`
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: flux-system}
spec:
  interval: 3m
  url: https://%s:%s@charts.example.com/stable
`, secretUser, secretHelmURL))
	kustomization := yamlMap(t, fmt.Sprintf(`
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 5m
  path: ./apps
  prune: false
  wait: true
  sourceRef: {kind: GitRepository, name: platform}
  healthChecks: [{apiVersion: apps/v1, kind: Deployment, name: api, namespace: apps}]
  decryption: {provider: sops, secretRef: {name: sops-age}}
  postBuild: {substitute: {db_password: %q, token: %q}}
`, sopsValue(secretSOPSData), secretStringData))

	var out []secretReview
	add := func(name string, op admissionv1.Operation, obj, old map[string]any, dryRun bool, rules ...string) {
		out = append(out, secretReview{name: name, body: admissionReview(t, name, op, obj, old, dryRun), rules: rules})
	}
	add("plaintext Secret (data, stringData, an ENC value) applied by Flux", admissionv1.Create, secret, nil, false, "plaintext-secret", "no-sops")
	add("the same Secret, dry run", admissionv1.Create, secret, nil, true, "plaintext-secret")
	add("UPDATE of the Secret: the errors it had come back as warnings", admissionv1.Update, secret, secret, false, "plaintext-secret")
	add("SOPS-encrypted Secret with its sops block", admissionv1.Create, sopsSecret, nil, false, "no-sops")
	add("Deployment with a literal password and a user:pass@ URL in env", admissionv1.Create, deployment, nil, false, "literal-credential")
	add("UPDATE of the Deployment: warnings", admissionv1.Update, deployment, deployment, false, "literal-credential")
	add("GitRepository URL with user:pass@", admissionv1.Create, gitRepo, nil, false, "gitea-url", "sync-interval")
	add("HelmRepository URL with user:pass@", admissionv1.Create, helmRepo, nil, false)
	add("Kustomization with SOPS decryption and secret substitutions", admissionv1.Create, kustomization, nil, false, "no-sops", "kustomization-prune")
	add("DELETE of the Secret", admissionv1.Delete, nil, secret, false)
	add("Secret not applied by Flux (skipped)", admissionv1.Create, withoutLabels(secret), nil, false)

	// error paths: an object the handler cannot decode, bodies that are not an AdmissionReview
	notObject := func(name, object string) secretReview {
		body := admissionReview(t, name, admissionv1.Create, kustomization, nil, false)
		i := bytes.Index(body, []byte(`"object":{`))
		j := bytes.Index(body, []byte(`,"oldObject"`))
		if j < 0 {
			j = bytes.Index(body, []byte(`,"dryRun"`))
		}
		require.True(t, i > 0 && j > i, "%s", body)
		return secretReview{name: name, body: slices.Concat(body[:i], []byte(`"object":`+object), body[j:])}
	}
	out = append(out,
		notObject("object that is an array", `["password", "`+secretBroken+`"]`),
		notObject("object that is a string", `"`+secretBroken+`"`),
		secretReview{name: "object that is not valid JSON", body: bytes.Replace(admissionReview(t, "x", admissionv1.Create, kustomization, nil, false),
			[]byte(`"object":{`), []byte(`"object":{"password" "`+secretBroken+`",`), 1)},
		secretReview{name: "YAML body", body: []byte("request:\n  uid: x\n  password: " + secretBroken + "\n  object: {a: [" + secretBroken + "}\n")},
		secretReview{name: "YAML body with a secret as a map key", body: []byte("request:\n  uid: x\n  object:\n    ? [" + secretBroken + "]\n    : x\n")},
		secretReview{name: "YAML body with a secret where a mapping belongs", body: []byte("request: [" + secretBroken + "]\n")},
		secretReview{name: "YAML body with a bad tag", body: []byte("request:\n  uid: !!int " + secretBroken + "\n")},
		secretReview{name: "body with a wrongly typed field", body: []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","dryRun":"` + secretBroken + `","object":{"password":"` + secretBroken + `"}}}`)},
		secretReview{name: "body with a number where a string belongs", body: []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":1234567890123456789012345,"operation":"CREATE"}}`)},
		secretReview{name: "body cut short", body: []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","object":{"password":"` + secretBroken)},
	)
	return out
}

type secretReview struct {
	name  string
	body  []byte
	rules []string // rule ids the response must name (causes or warnings)
}

func yamlMap(t *testing.T, doc string) map[string]any {
	t.Helper()
	var obj map[string]any
	require.NoError(t, sigsyaml.Unmarshal([]byte(doc), &obj))
	return obj
}

func withoutLabels(obj map[string]any) map[string]any {
	b, _ := json.Marshal(obj)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	delete(out["metadata"].(map[string]any), "labels")
	return out
}

func admissionReview(t *testing.T, uid string, op admissionv1.Operation, obj, old map[string]any, dryRun bool) []byte {
	t.Helper()
	subject := obj
	if subject == nil {
		subject = old
	}
	apiVersion := subject["apiVersion"].(string)
	group, version, found := strings.Cut(apiVersion, "/")
	if !found {
		group, version = "", apiVersion
	}
	md := subject["metadata"].(map[string]any)
	gvk := metav1.GroupVersionKind{Group: group, Version: version, Kind: subject["kind"].(string)}
	raw := func(o map[string]any) k8sruntime.RawExtension {
		if o == nil {
			return k8sruntime.RawExtension{}
		}
		b, err := json.Marshal(o)
		require.NoError(t, err)
		return k8sruntime.RawExtension{Raw: b}
	}
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: types.UID(uid), Kind: gvk, Name: md["name"].(string), Namespace: md["namespace"].(string),
			Resource:  metav1.GroupVersionResource{Group: group, Version: version, Resource: strings.ToLower(gvk.Kind) + "s"},
			Operation: op, Object: raw(obj), OldObject: raw(old), DryRun: &dryRun,
		},
	})
	require.NoError(t, err)
	return b
}

// TestNoSecretInLogsResponsesOrMetrics sends AdmissionReviews holding secret values (plaintext
// Secret data and stringData applied by Flux, literal env passwords, user:pass@ URLs, SOPS
// ENC[...] values and a sops block, and broken requests quoting them) to the real binary, at the
// default log level and at the most verbose one (debug-8: every line controller-runtime writes,
// including its per-request V(5) lines), and asserts that no value appears in the logs, the
// responses (denial messages, status causes, warnings, error statuses) or /metrics.
func TestNoSecretInLogsResponsesOrMetrics(t *testing.T) {
	reviews := secretReviews(t)
	for _, level := range []string{"info", "debug", "debug-8"} {
		t.Run("log-level="+level, func(t *testing.T) {
			p := startServe(t, nil, "--log-level", level)
			client := keepAliveClients(p, 1)[0]
			var responses bytes.Buffer
			for _, r := range reviews {
				resp, err := client.Post(p.url, "application/json", bytes.NewReader(r.body))
				require.NoError(t, err, r.name)
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err, r.name)
				fmt.Fprintf(&responses, "%s\n", raw)
				if resp.StatusCode != http.StatusOK { // refused before the handler: a Status
					var st metav1.Status
					require.NoError(t, json.Unmarshal(raw, &st), "%s: %s", r.name, raw)
					assert.Equal(t, "Status", st.Kind, r.name)
					assert.Empty(t, r.rules, r.name)
					continue
				}
				var review admissionv1.AdmissionReview
				require.NoError(t, json.Unmarshal(raw, &review), "%s: %s", r.name, raw)
				require.NotNil(t, review.Response, r.name)
				// the response talks about the rules the values trip: the messages are there
				var said []string
				if st := review.Response.Result; st != nil && st.Details != nil {
					for _, c := range st.Details.Causes {
						said = append(said, string(c.Type)+" "+c.Message)
					}
				}
				said = append(said, review.Response.Warnings...)
				for _, rule := range r.rules {
					assert.Contains(t, strings.Join(said, "\n"), rule, "%s: the response names %s", r.name, rule)
				}
			}
			metricsResp, err := http.Get("http://" + p.probe + "/metrics")
			require.NoError(t, err)
			metrics, err := io.ReadAll(metricsResp.Body)
			metricsResp.Body.Close()
			require.NoError(t, err)
			require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
			require.NoError(t, p.wait(t, 40*time.Second))
			logs := p.logs.String()

			// the run did log what the level promises
			assert.Contains(t, logs, `"msg":"admission review"`)
			assert.Contains(t, string(metrics), `ova_lint_admission_denials_total{rule="plaintext-secret"}`)
			switch level {
			case "debug":
				assert.Contains(t, logs, `"decision":"skipped"`, "clean and skipped reviews are debug lines")
			case "debug-8":
				assert.Contains(t, logs, `"msg":"wrote response"`, "controller-runtime's V(5) lines are on")
				assert.Contains(t, logs, `"msg":"unable to decode the request"`, "controller-runtime's decode errors are logged")
			}

			for _, leak := range leaks() {
				assert.NotContains(t, logs, leak, "logs at %s", level)
				assert.NotContains(t, responses.String(), leak, "responses")
				assert.NotContains(t, string(metrics), leak, "metrics")
			}
			if t.Failed() || os.Getenv("DUMP") != "" {
				t.Logf("responses:\n%s", responses.String())
				t.Logf("logs:\n%s", logs)
			}
		})
	}
}
