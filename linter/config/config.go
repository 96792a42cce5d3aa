// Package config loads the ova-lint configuration: the embedded default profile (the values of
// the platform's Flux README) with an optional .ova-lint.yaml merged over it.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// FileName is the name of the configuration file searched from the linted root upward.
const FileName = ".ova-lint.yaml"

//go:embed default.yaml
var defaultProfile []byte

// Severity levels of a finding.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Config is the effective configuration shared by the CLI and the admission webhook.
type Config struct {
	// KubernetesVersion selects the core Kubernetes schemas ("1.31", ...).
	KubernetesVersion string `json:"kubernetesVersion"`
	// FluxVersion selects the Flux CRD schemas ("2.4" ... "2.9"). The profile's value is a
	// fallback: unless the user sets it (FluxVersionFrom), the linter takes the version the
	// linted tree pins, when it pins one.
	FluxVersion string `json:"fluxVersion"`
	// FluxVersionFrom says who set FluxVersion: "" for the profile default, else e.g.
	// "set in .ova-lint.yaml" or "set by --flux-version".
	FluxVersionFrom string `json:"-"`
	// Exclude lists path globs skipped while walking the tree.
	Exclude []string `json:"exclude"`
	// Rules overrides severities or disables rules by id.
	Rules map[string]RuleConfig `json:"rules"`
	// Environments select objects by path, label or namespace.
	Environments []Environment `json:"environments"`
	// Params are handed to the Rego rules as data.ova.params.
	Params map[string]any `json:"params"`
	// Waivers are path-scoped exceptions with a reason.
	Waivers []Waiver `json:"waivers,omitempty"`

	// Source is the file the configuration was read from ("" for the embedded defaults).
	Source string `json:"-"`
}

// RuleConfig overrides one rule.
type RuleConfig struct {
	Severity string `json:"severity,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
}

// Environment names a deployment stage and how to recognise its objects.
type Environment struct {
	Name       string            `json:"name"`
	Paths      []string          `json:"paths,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Namespaces []string          `json:"namespaces,omitempty"`
}

// Waiver exempts the files matching Path from Rules, for Reason, until an optional date.
type Waiver struct {
	Path   string   `json:"path"`
	Rules  []string `json:"rules"`
	Reason string   `json:"reason"`
	Until  string   `json:"until,omitempty"`
}

// Default returns the embedded default profile.
func Default() (*Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(defaultProfile, &c); err != nil {
		return nil, fmt.Errorf("embedded default profile: %w", err)
	}
	return &c, nil
}

// DefaultYAML returns the embedded default profile as written, comments included.
func DefaultYAML() []byte { return append([]byte(nil), defaultProfile...) }

// Load returns the defaults with the file at path merged over them. An empty path yields the
// defaults. The file is checked against the structure of a configuration (see Check).
func Load(path string) (*Config, error) { return LoadWith(path, nil) }

// LoadWith is Load that also checks the rule ids and parameters the file names against the rule
// catalogue cat. An invalid file is an *Error listing every problem.
func LoadWith(path string, cat *Catalogue) (*Config, error) {
	c, err := Default()
	if err != nil {
		return nil, err
	}
	if path == "" {
		return c, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if err := Check(raw, path, cat); err != nil {
		return nil, err
	}
	if err := c.merge(raw); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.Source = path
	if c.FluxVersionFrom != "" {
		c.FluxVersionFrom = "set in " + path
	}
	return c, nil
}

// Parse returns the defaults with the YAML document raw merged over them.
func Parse(raw []byte) (*Config, error) { return ParseWith(raw, nil) }

// ParseWith is Parse that also checks rule ids and parameters against cat (see LoadWith).
func ParseWith(raw []byte, cat *Catalogue) (*Config, error) {
	c, err := Default()
	if err != nil {
		return nil, err
	}
	if err := Check(raw, "", cat); err != nil {
		return nil, err
	}
	if err := c.merge(raw); err != nil {
		return nil, err
	}
	return c, nil
}

// Find looks for FileName in dir and its parents and returns its path, or "" if there is none.
func Find(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find config: %w", err)
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		abs = filepath.Dir(abs)
	}
	for {
		candidate := filepath.Join(abs, FileName)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("find config: %w", err)
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return "", nil
		}
		abs = parent
	}
}

// merge applies a user document over c: scalars and lists replace, params merge key by key.
func (c *Config) merge(raw []byte) error {
	var user Config
	if err := yaml.UnmarshalStrict(raw, &user); err != nil {
		return err
	}
	var present map[string]any
	if err := yaml.Unmarshal(raw, &present); err != nil {
		return err
	}
	if user.KubernetesVersion != "" {
		c.KubernetesVersion = user.KubernetesVersion
	}
	if user.FluxVersion != "" {
		c.FluxVersion = user.FluxVersion
		c.FluxVersionFrom = "set in the configuration (fluxVersion)"
	}
	if _, ok := present["exclude"]; ok {
		c.Exclude = user.Exclude
	}
	if _, ok := present["environments"]; ok {
		c.Environments = user.Environments
	}
	if _, ok := present["waivers"]; ok {
		c.Waivers = user.Waivers
	}
	if c.Rules == nil {
		c.Rules = map[string]RuleConfig{}
	}
	for id, rc := range user.Rules {
		c.Rules[id] = rc
	}
	c.Params = mergeMaps(c.Params, user.Params)
	return c.Validate()
}

// Validate reports configuration values that cannot work.
func (c *Config) Validate() error {
	var errs []error
	for id, rc := range c.Rules {
		switch rc.Severity {
		case "", SeverityError, SeverityWarning, SeverityInfo:
		default:
			errs = append(errs, fmt.Errorf("rules.%s.severity: %q is not one of error, warning, info", id, rc.Severity))
		}
	}
	for i, env := range c.Environments {
		if strings.TrimSpace(env.Name) == "" {
			errs = append(errs, fmt.Errorf("environments[%d]: name is required", i))
		}
		for _, g := range env.Paths {
			if err := ValidateGlob(g); err != nil {
				errs = append(errs, fmt.Errorf("environments[%d].paths: %w", i, err))
			}
		}
	}
	for _, g := range c.Exclude {
		if err := ValidateGlob(g); err != nil {
			errs = append(errs, fmt.Errorf("exclude: %w", err))
		}
	}
	for i, w := range c.Waivers {
		if strings.TrimSpace(w.Reason) == "" {
			errs = append(errs, fmt.Errorf("waivers[%d] (%s): a waiver needs a reason", i, w.Path))
		}
	}
	return errors.Join(errs...)
}

// YAML renders the effective configuration.
func (c *Config) YAML() ([]byte, error) {
	return yaml.Marshal(c)
}

func mergeMaps(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if bm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				out[k] = mergeMaps(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// EnvironmentFor returns the name of the first environment that selects an object by its
// root-relative path, its labels or its namespace, or "" when none does.
func (c *Config) EnvironmentFor(path string, labels map[string]string, namespace string) string {
	for _, env := range c.Environments {
		for _, g := range env.Paths {
			if path != "" && MatchGlob(g, path) {
				return env.Name
			}
		}
		if len(env.Labels) > 0 && len(labels) > 0 {
			all := true
			for k, v := range env.Labels {
				if labels[k] != v {
					all = false
					break
				}
			}
			if all {
				return env.Name
			}
		}
		for _, g := range env.Namespaces {
			if namespace != "" && MatchGlob(g, namespace) {
				return env.Name
			}
		}
	}
	return ""
}
