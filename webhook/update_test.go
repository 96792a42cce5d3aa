package webhook_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/openova-io/ova-lint/webhook"
)

// TestUpdateOldObject: the stored object of an UPDATE is evaluated only for the rules that found
// errors in the new one (not at all when it is byte for byte the new one), and that is exact: an error is pre-existing (a warning) when the stored
// object has the same finding, and a denial when the stored object is clean, breaks only other
// rules, has a different finding of the rule, or waives it.
func TestUpdateOldObject(t *testing.T) {
	base := newEnv(t, "")
	now := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	h, err := webhook.NewHandler(webhook.Options{Engine: base.engine, Config: base.cfg, Now: now})
	require.NoError(t, err)

	good := yamlObject(t, goodKustomization)
	bad := yamlObject(t, badKustomization)     // kustomization-prune
	noWait := set(good, false, "spec", "wait") // kustomization-wait
	both := set(bad, false, "spec", "wait")    // kustomization-prune and kustomization-wait
	reconcile := map[string]any{"reconcile.fluxcd.io/requestedAt": "2026-11-25T10:00:00Z"}
	annotate := func(obj map[string]any, a map[string]any) map[string]any {
		return set(obj, a, "metadata", "annotations")
	}
	waive := func(obj map[string]any, value string) map[string]any {
		return annotate(obj, map[string]any{"ova-lint.openova.io/waive": value})
	}
	secret := fluxApplied(yamlObject(t, plaintextSecret))
	otherKey := set(secret, map[string]any{"token": "c2VjcmV0LXRva2Vu"}, "data")

	tests := []struct {
		name     string
		obj, old map[string]any
		// denied and preexisting are the rule ids of the denials and of the pre-existing
		// warnings, in the order of the decision.
		denied, preexisting []string
	}{
		{name: "the stored object has the same error: a pre-existing warning", obj: annotate(bad, reconcile), old: bad, preexisting: []string{"kustomization-prune"}},
		{name: "the stored object is clean: a denial", obj: bad, old: good, denied: []string{"kustomization-prune"}},
		{name: "the stored object breaks another rule only: a denial", obj: bad, old: noWait, denied: []string{"kustomization-prune"}},
		{name: "the stored object breaks more rules: only the shared one is pre-existing", obj: bad, old: both, preexisting: []string{"kustomization-prune"}},
		{name: "a new rule on top of a pre-existing one", obj: both, old: bad, denied: []string{"kustomization-wait"}, preexisting: []string{"kustomization-prune"}},
		{name: "a different finding of the same rule: a denial", obj: set(bad, nil, "spec", "prune"), old: bad, denied: []string{"kustomization-prune"}},
		{name: "the stored object waived the rule: a denial", obj: bad, old: waive(bad, "kustomization-prune; reason=migration; until=2026-12-31"), denied: []string{"kustomization-prune"}},
		{
			name: "an expired waiver the stored object had waives nothing there either: pre-existing",
			obj:  waive(bad, "kustomization-prune; reason=migration; until=2026-11-01"), old: waive(bad, "kustomization-prune; reason=migration; until=2026-11-01"),
			preexisting: []string{"kustomization-prune"},
		},
		{name: "the stored object is this object (a no-op apply): every error pre-existing", obj: both, old: both, preexisting: []string{"kustomization-prune", "kustomization-wait"}},
		{name: "a no-op apply of a waived object: nothing", obj: waive(bad, "kustomization-prune; reason=migration; until=2026-12-31"), old: waive(bad, "kustomization-prune; reason=migration; until=2026-12-31")},
		{name: "a plaintext Secret stored with the same key: pre-existing", obj: annotate(secret, reconcile), old: secret, preexisting: []string{"plaintext-secret"}},
		{name: "a plaintext Secret applied again unchanged: pre-existing", obj: secret, old: secret, preexisting: []string{"plaintext-secret"}},
		{name: "a plaintext Secret stored with another key: a denial", obj: secret, old: otherKey, denied: []string{"plaintext-secret"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var review admissionv1.AdmissionReview
			require.NoError(t, json.Unmarshal(reviewJSON(t, request{op: admissionv1.Update, obj: tc.obj, old: tc.old}), &review))
			d, err := h.Review(t.Context(), admission.Request{AdmissionRequest: *review.Request})
			require.NoError(t, err)
			require.True(t, d.Checked, d.Reason)
			var denied, preexisting []string
			for _, f := range d.Denials {
				denied = append(denied, f.Rule)
			}
			for _, f := range d.Warnings {
				if f.Preexisting {
					preexisting = append(preexisting, f.Rule)
				}
			}
			assert.Equal(t, tc.denied, denied, "denials")
			assert.Equal(t, tc.preexisting, preexisting, "pre-existing warnings")
		})
	}
}
