// Package smoke proves that the control plane built by ../build.sh works with
// controller-runtime envtest: it starts etcd + kube-apiserver, creates a
// ConfigMap through client-go and another one with `kubectl apply`, and stops.
//
//	cd hack/controlplane/smoke && go test -v .
//
// KUBEBUILDER_ASSETS is used when set; otherwise ../build.sh is run to get
// (and if needed build) the cached binaries.
package smoke

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

func assetsDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir
	}
	script, err := filepath.Abs(filepath.Join("..", "build.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

func TestEnvtestControlPlane(t *testing.T) {
	dir := assetsDir(t)
	for _, bin := range []string{"etcd", "kube-apiserver", "kubectl"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			t.Fatalf("missing %s in %s: %v", bin, dir, err)
		}
	}

	env := &envtest.Environment{BinaryAssetsDirectory: dir}
	start := time.Now()
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("envtest start: %v", err)
	}
	t.Logf("envtest started in %s (assets %s)", time.Since(start).Round(time.Millisecond), dir)
	defer func() {
		stop := time.Now()
		if err := env.Stop(); err != nil {
			t.Errorf("envtest stop: %v", err)
		}
		t.Logf("envtest stopped in %s", time.Since(stop).Round(time.Millisecond))
	}()

	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	sv, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("server version: %v", err)
	}
	t.Logf("kube-apiserver reports %s", sv.GitVersion)
	if sv.GitVersion != "v1.36.4" {
		t.Errorf("server version = %q, want v1.36.4", sv.GitVersion)
	}

	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke", Namespace: "default"},
		Data:       map[string]string{"hello": "world"},
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create configmap: %v", err)
	}
	got, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "smoke", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get configmap: %v", err)
	}
	if got.Data["hello"] != "world" {
		t.Fatalf("configmap data = %v", got.Data)
	}

	// kubectl from the same assets dir, wired to envtest by controller-runtime.
	user, err := env.ControlPlane.AddUser(envtest.User{Name: "smoke-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatalf("add user: %v", err)
	}
	kubectl, err := user.Kubectl()
	if err != nil {
		t.Fatalf("kubectl: %v", err)
	}
	manifest := filepath.Join(t.TempDir(), "cm.yaml")
	yaml := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: smoke-kubectl\n  namespace: default\ndata:\n  via: kubectl\n"
	if err := os.WriteFile(manifest, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	kstart := time.Now()
	stdout, stderr, err := kubectl.Run("apply", "-f", manifest)
	if err != nil {
		errOut, _ := io.ReadAll(stderr)
		t.Fatalf("kubectl apply: %v: %s", err, errOut)
	}
	out, _ := io.ReadAll(stdout)
	t.Logf("kubectl apply (%s): %s", time.Since(kstart).Round(time.Millisecond), strings.TrimSpace(string(out)))
	got, err = cs.CoreV1().ConfigMaps("default").Get(ctx, "smoke-kubectl", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get configmap applied by kubectl: %v", err)
	}
	if got.Data["via"] != "kubectl" {
		t.Fatalf("kubectl configmap data = %v", got.Data)
	}
}
