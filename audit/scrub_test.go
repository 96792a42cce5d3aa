package audit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/webhook"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// secretOf builds a Flux-applied Secret with stringData and data values.
func secretOf(label string, stringData, data map[string]any) map[string]any {
	obj := map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{"name": "s", "namespace": "apps", "labels": map[string]any{label: "apps"}},
	}
	if stringData != nil {
		obj["stringData"] = stringData
	}
	if data != nil {
		obj["data"] = data
	}
	return obj
}

// secretValues are values that must never survive scrubbing, each of a kind the rules tell
// apart: plaintext, references of every default pattern, SOPS values, blanks.
var secretValues = []string{
	"hunter2-plain", "op://vault/db/password", "vault:secret/data/db#password", "ref+awsssm://db/password",
	"<path:secret/data/db#password>", "${DB_PASSWORD}", "{{ .Values.password }}", "op://vault/db/password\n",
	"ENC[AES256_GCM,data:Zm9vYmFy,iv:AAAA,tag:BBBB,type:str]", "  padded-plain  ",
}

func TestScrubKeepsVerdictsAndDropsValues(t *testing.T) {
	tests := []struct {
		name string
		cfg  string // .ova-lint.yaml, "" for the defaults
		obj  map[string]any
	}{
		{name: "stringData of every shape", obj: secretOf(webhook.LabelKustomizeName, toAny(secretValues), nil)},
		{name: "data of every shape", obj: secretOf(webhook.LabelKustomizeName, nil, b64Values(secretValues))},
		{name: "data that is not base64", obj: secretOf(webhook.LabelKustomizeName, nil, map[string]any{"a": "not base64 at all!", "b": "ENC[AES256_GCM,data:x,type:str]"})},
		{name: "empty and null", obj: secretOf(webhook.LabelKustomizeName, map[string]any{"a": "", "b": nil}, map[string]any{"c": "", "d": b64(" ")})},
		{name: "references only", obj: secretOf(webhook.LabelKustomizeName, map[string]any{"a": "op://x/y/z", "b": "${X}"}, map[string]any{"c": b64("vault:a/b")})},
		{name: "applied by helm-controller", obj: secretOf(webhook.LabelHelmName, map[string]any{"a": "hunter2-plain"}, nil)},
		{name: "a pattern of the configuration", cfg: "params:\n  secrets:\n    reference_patterns: ['^sm://']\n",
			obj: secretOf(webhook.LabelKustomizeName, map[string]any{"a": "sm://prod/db", "b": "op://x/y/z", "c": "hunter2-plain"}, nil)},
		{name: "kubectl's last applied configuration", obj: func() map[string]any {
			o := secretOf(webhook.LabelKustomizeName, nil, map[string]any{"a": b64("hunter2-plain")})
			o["metadata"].(map[string]any)["annotations"] = map[string]any{lastApplied: `{"stringData":{"a":"hunter2-plain"}}`, "team": "db"}
			return o
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg *config.Config
			if tt.cfg != "" {
				var err error
				cfg, err = config.Parse([]byte(tt.cfg))
				require.NoError(t, err)
			}
			e := newTestEnv(t, cfg)
			wChecked, want := e.webhookVerdict(t, tt.obj)
			aChecked, got := e.auditVerdict(t, tt.obj)
			assert.Equal(t, wChecked, aChecked)
			assert.Equal(t, want, got, "the scrubbed Secret gets the webhook's verdict on the original")

			scrubbed := deepCopy(t, tt.obj)
			require.NoError(t, e.scrubber.Scrub(context.Background(), scrubbed))
			raw, err := json.Marshal(scrubbed)
			require.NoError(t, err)
			for _, field := range []string{"data", "stringData"} {
				values, _ := tt.obj[field].(map[string]any)
				for k, v := range values {
					s, _ := v.(string)
					if s == "" {
						continue
					}
					assert.NotContains(t, string(raw), s, "value of %s.%s", field, k)
					if dec, err := base64.StdEncoding.DecodeString(s); err == nil && len(dec) > 2 {
						assert.NotContains(t, string(raw), string(dec), "decoded value of %s.%s", field, k)
					}
					assert.Contains(t, scrubbed[field], k, "keys stay")
				}
			}
			assert.NotContains(t, string(raw), "hunter2")
			assert.NotContains(t, string(raw), lastApplied)
		})
	}
}

func TestScrubLeavesOtherObjects(t *testing.T) {
	e := newTestEnv(t, nil)
	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"}, "data": map[string]any{"a": "hunter2-plain"}}
	sealed := map[string]any{"apiVersion": "bitnami.com/v1alpha1", "kind": "Secret", "data": map[string]any{"a": "x"}}
	for _, obj := range []map[string]any{cm, sealed} {
		before := deepCopy(t, obj)
		require.NoError(t, e.scrubber.Scrub(context.Background(), obj))
		assert.Equal(t, before, obj)
	}
}

func TestScrubberRefusesPatternsThatSwallowThePlaceholders(t *testing.T) {
	cfg, err := config.Parse([]byte("params:\n  secrets:\n    reference_patterns: ['.']\n"))
	require.NoError(t, err)
	_, err = NewScrubber(context.Background(), cfg)
	assert.ErrorContains(t, err, "placeholders")
}

func toAny(vs []string) map[string]any {
	out := map[string]any{}
	for i, v := range vs {
		out["k"+string(rune('a'+i))] = v
	}
	return out
}

func b64Values(vs []string) map[string]any {
	out := map[string]any{}
	for i, v := range vs {
		out["k"+string(rune('a'+i))] = b64(v)
	}
	return out
}
