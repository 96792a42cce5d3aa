package schema

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// netnsEnv is set when the test binary re-runs itself inside an empty
// network namespace.
const netnsEnv = "OVA_LINT_SCHEMA_IN_NETNS"

// TestNoNetwork proves that validation never touches the network:
//
//  1. statically, the package's dependency graph contains no HTTP or TLS
//     client (nor kubeconform's HTTP registry and loader);
//  2. dynamically, with http.DefaultTransport and the DNS resolver replaced
//     by traps, opening every catalog, adding a CRD, compiling every schema
//     and validating every test document triggers neither;
//  3. the same workload passes inside an empty network namespace
//     (`unshare -n`), when the system allows creating one.
func TestNoNetwork(t *testing.T) {
	inNetns := os.Getenv(netnsEnv) == "1"
	if !inNetns {
		t.Run("dependency graph has no network client", func(t *testing.T) {
			goBin, err := exec.LookPath("go")
			if err != nil {
				t.Skip("go command not available")
			}
			out, err := exec.Command(goBin, "list", "-deps", ".").Output()
			require.NoError(t, err)
			for _, pkg := range strings.Fields(string(out)) {
				for _, banned := range []string{
					"net/http", "crypto/tls",
					"github.com/hashicorp/go-retryablehttp",
					"github.com/yannh/kubeconform/pkg/loader",
					"github.com/yannh/kubeconform/pkg/registry",
				} {
					assert.False(t, pkg == banned || strings.HasPrefix(pkg, banned+"/"),
						"linter/schema depends on %s", pkg)
				}
			}
		})
	}

	t.Run("trapped transport and resolver", func(t *testing.T) {
		var calls atomic.Int32
		origTransport, origResolver := http.DefaultTransport, net.DefaultResolver
		t.Cleanup(func() { http.DefaultTransport, net.DefaultResolver = origTransport, origResolver })
		http.DefaultTransport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			calls.Add(1)
			t.Errorf("HTTP request to %s", r.URL)
			return nil, errors.New("network use in a test that forbids it")
		})
		net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			calls.Add(1)
			t.Errorf("DNS dial %s %s", network, addr)
			return nil, errors.New("network use in a test that forbids it")
		}}
		offlineWorkload(t)
		assert.Zero(t, calls.Load())
	})

	if inNetns {
		t.Run("network namespace is empty", func(t *testing.T) {
			c, err := net.DialTimeout("tcp", "192.0.2.1:443", time.Second)
			if err == nil {
				c.Close()
			}
			require.Error(t, err, "the network namespace should have no route")
		})
		return
	}

	t.Run("inside unshare -n", func(t *testing.T) {
		unshare, err := exec.LookPath("unshare")
		if err != nil {
			t.Skip("unshare not available")
		}
		var prefix []string
		for _, args := range [][]string{{"-n"}, {"-r", "-n"}} {
			if exec.Command(unshare, append(args, "true")...).Run() == nil {
				prefix = args
				break
			}
		}
		if prefix == nil {
			t.Skip("cannot create a network namespace here")
		}
		self, err := os.Executable()
		require.NoError(t, err)
		args := append(append([]string{}, prefix...), self, "-test.run", "^TestNoNetwork$", "-test.count", "1", "-test.v")
		cmd := exec.Command(unshare, args...)
		cmd.Env = append(os.Environ(), netnsEnv+"=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "--- PASS: TestNoNetwork/network_namespace_is_empty")
		assert.Contains(t, string(out), "--- PASS: TestNoNetwork/trapped_transport_and_resolver")
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// offlineWorkload exercises every code path that could conceivably fetch:
// each catalog combination, a CRD from the tree, every schema compiled,
// every test document validated.
func offlineWorkload(t *testing.T) {
	files, err := filepath.Glob("testdata/*/*.yaml")
	require.NoError(t, err)
	kubes, fluxes := Versions()
	for _, k := range kubes {
		for _, f := range fluxes {
			v := newValidator(t, Options{KubernetesVersion: k, FluxVersion: f}, widgetCRD)
			compileAll(t, v)
			for _, file := range files {
				_, err := validateFile(v, filepath.ToSlash(file), loadDoc(t, file))
				if err != nil && !errors.Is(err, ErrNoSchema) {
					t.Errorf("%s: %v", file, err)
				}
			}
		}
	}
}
