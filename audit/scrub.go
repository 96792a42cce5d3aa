package audit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
)

// Placeholders that stand for a Secret value once it is dropped. Each keeps the one property
// the rules read from a value: whether it is plaintext (plaintext-secret, decided by the rules'
// own library, data.ova.lib.secrets.plaintext), and whether it is a SOPS-encrypted value
// (no-sops). A value that is not plaintext (empty, or a reference to a secret kept elsewhere)
// becomes empty, which is not plaintext either: the reference itself is not kept.
const (
	plaintextPlaceholder = "redacted-by-ova-lint"
	sopsPlaceholder      = "ENC[AES256_GCM,data:redacted-by-ova-lint,type:str]"
)

// lastApplied is kubectl's annotation holding the whole object as applied: values included.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// secretsLib is the Rego package whose plaintext(field, value) the rules use.
const secretsLib = "data.ova.lib.secrets"

// Scrubber replaces the values of core v1 Secrets by placeholders, asking the rules' own
// library which values are plaintext: the verdict of every secrets rule on the scrubbed Secret
// is the verdict on the original, and no value survives. It is safe for concurrent use.
type Scrubber struct {
	plaintext rego.PreparedEvalQuery
}

// NewScrubber compiles the rules' secrets library with the parameters of cfg.
func NewScrubber(ctx context.Context, cfg *config.Config) (*Scrubber, error) {
	modules, err := engine.LoadModules(false)
	if err != nil {
		return nil, err
	}
	lib := map[string]*ast.Module{}
	for name, m := range modules {
		if m.Package.Path.String() == secretsLib {
			lib[name] = m
		}
	}
	if len(lib) == 0 {
		return nil, errors.New("scrub secrets: the rules' secrets library is missing")
	}
	compiler := ast.NewCompiler()
	if compiler.Compile(lib); compiler.Failed() {
		return nil, fmt.Errorf("scrub secrets: compile the secrets library: %w", compiler.Errors)
	}
	store := inmem.NewFromObject(map[string]any{"ova": map[string]any{"params": cfg.Params}})
	// The keys of input.values that hold plaintext, for the field input.field.
	q := `keys := {k | some k, v in input.values; ` + secretsLib + `.plaintext(input.field, v)}`
	pq, err := rego.New(rego.Query(q), rego.Compiler(compiler), rego.Store(store)).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("scrub secrets: prepare the query: %w", err)
	}
	s := &Scrubber{plaintext: pq}
	// The placeholders must be what they stand for under this configuration.
	for _, field := range []string{"data", "stringData"} {
		keys, err := s.plaintextKeys(ctx, field, map[string]any{
			"plain": placeholder(field, plaintextPlaceholder), "sops": sopsPlaceholder, "empty": "",
		})
		if err != nil {
			return nil, err
		}
		if !keys["plain"] || !keys["sops"] || keys["empty"] {
			return nil, fmt.Errorf("scrub secrets: secrets.reference_patterns make the placeholders %q or %q references", plaintextPlaceholder, sopsPlaceholder)
		}
	}
	return s, nil
}

// plaintextKeys returns the keys of values whose value is plaintext in field.
func (s *Scrubber) plaintextKeys(ctx context.Context, field string, values map[string]any) (map[string]bool, error) {
	rs, err := s.plaintext.Eval(ctx, rego.EvalInput(map[string]any{"field": field, "values": values}))
	if err != nil {
		return nil, fmt.Errorf("scrub secrets: %w", err)
	}
	out := map[string]bool{}
	if len(rs) == 0 {
		return out, nil
	}
	keys, _ := rs[0].Bindings["keys"].([]any)
	for _, k := range keys {
		if s, ok := k.(string); ok {
			out[s] = true
		}
	}
	return out, nil
}

// IsSecret reports whether obj is a core v1 Secret.
func IsSecret(obj map[string]any) bool {
	return obj["apiVersion"] == "v1" && obj["kind"] == "Secret"
}

// Scrub drops the values of obj when it is a core v1 Secret, in place: every value of data and
// stringData becomes a placeholder (plaintext, SOPS-encrypted, or empty for a value that is not
// plaintext), and kubectl's last-applied-configuration annotation, which repeats the values, is
// removed. Keys, labels, annotations and type stay. Other objects are left alone.
func (s *Scrubber) Scrub(ctx context.Context, obj map[string]any) error {
	if !IsSecret(obj) {
		return nil
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, lastApplied)
		}
	}
	for _, field := range []string{"data", "stringData"} {
		values, ok := obj[field].(map[string]any)
		if !ok {
			if _, present := obj[field]; present && obj[field] != nil {
				obj[field] = map[string]any{} // not a mapping: nothing a rule reads, nothing kept
			}
			continue
		}
		plain, err := s.plaintextKeys(ctx, field, values)
		if err != nil {
			// Never keep a value the verdict could not be asked about.
			clear(values)
			return err
		}
		for k, v := range values {
			str, isString := v.(string)
			switch {
			case !isString && v == nil:
				// null stays null: nothing to hide
			case isString && sops(str):
				values[k] = sopsPlaceholder
			case plain[k]:
				values[k] = placeholder(field, plaintextPlaceholder)
			default:
				values[k] = ""
			}
		}
	}
	return nil
}

// sops reports whether a value is a SOPS-encrypted one (the format, not a verdict: no-sops
// decides).
func sops(v string) bool {
	return strings.HasPrefix(v, "ENC[") && strings.Contains(v, "AES256_GCM")
}

// placeholder is p as field holds it: base64 in data.
func placeholder(field, p string) string {
	if field == "data" {
		return base64.StdEncoding.EncodeToString([]byte(p))
	}
	return p
}
