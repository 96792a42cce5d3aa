package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
)

// SARIF 2.1.0 constants.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// InformationURI is the project's home page.
	InformationURI = "https://github.com/openova-io/ova-lint"
	// fingerprintKey names ova-lint's partial fingerprint (versioned: a change of the hash is a
	// new key, not a silent re-identification).
	fingerprintKey = "ovaLint/v1"
)

// RuleHelpURI is the documentation page of a rule, used as SARIF helpUri.
func RuleHelpURI(id string) string {
	return InformationURI + "/blob/main/docs/rules.md#" + id
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool     `json:"tool"`
	Invocations []sarifInvoke `json:"invocations"`
	ColumnKind  string        `json:"columnKind"`
	Results     []sarifResult `json:"results"`
}

type sarifInvoke struct {
	ExecutionSuccessful bool `json:"executionSuccessful"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	HelpURI              string         `json:"helpUri"`
	DefaultConfiguration sarifRuleConf  `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifRuleConf struct {
	Enabled bool   `json:"enabled"`
	Level   string `json:"level"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           *int              `json:"ruleIndex,omitempty"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Fixes               []sarifFix        `json:"fixes,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// SARIF writes a SARIF 2.1.0 log with one run: every rule of the catalogue in
// tool.driver.rules (help text, source of truth, helpUri) and one result per finding, placed at
// its file, line and column (paths relative to the source root, %SRCROOT%).
func SARIF(w io.Writer, rep *finding.Report, opts Options) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: "ova-lint", Version: opts.ToolVersion, InformationURI: InformationURI,
			Rules: []sarifRule{},
		}},
		Invocations: []sarifInvoke{{ExecutionSuccessful: true}},
		ColumnKind:  "unicodeCodePoints",
		Results:     []sarifResult{},
	}
	index := map[string]int{}
	for i, r := range opts.Rules {
		index[r.ID] = i
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleOf(r))
	}
	fps := Fingerprints(rep.Findings)
	for i, f := range rep.Findings {
		res := sarifResult{
			RuleID:  f.Rule,
			Level:   sarifLevel(f.Severity),
			Message: sarifText{Text: f.Message},
			Locations: []sarifLocation{{
				PhysicalLocation: physical(f),
			}},
			PartialFingerprints: map[string]string{fingerprintKey: fps[i]},
			Fixes:               sarifFixes(f),
		}
		if ri, ok := index[f.Rule]; ok {
			res.RuleIndex = &ri
		}
		if f.Kind != "" || f.Name != "" {
			// A live object (ova-lint audit) has no file: the object and its field path place it.
			fqn := objectRef(f)
			if f.Path != "" {
				fqn += ":" + f.Path
			}
			res.Locations[0].LogicalLocations = []sarifLogical{{
				Name: f.Name, FullyQualifiedName: fqn, Kind: "resource",
			}}
		}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

func sarifRuleOf(r *engine.Rule) sarifRule {
	var text, md strings.Builder
	text.WriteString(r.Description)
	md.WriteString(r.Description)
	if len(r.Sources) > 0 {
		text.WriteString("\n\nSource of truth:")
		md.WriteString("\n\n**Source of truth:**\n")
		for _, s := range r.Sources {
			desc := s.Description
			if desc == "" {
				desc = s.Ref
			}
			fmt.Fprintf(&text, "\n- %s (%s)", desc, s.Ref)
			if isAbsURL(s.Ref) {
				fmt.Fprintf(&md, "\n- [%s](%s)", desc, s.Ref)
			} else {
				fmt.Fprintf(&md, "\n- %s (`%s`)", desc, s.Ref)
			}
		}
	}
	fmt.Fprintf(&text, "\n\nSeverity: %s. Scope: %s. Runs: %s.", r.Severity, r.Scope, strings.Join(r.Runs, ", "))
	fmt.Fprintf(&md, "\n\nSeverity: `%s`. Scope: `%s`. Runs: %s.", r.Severity, r.Scope, strings.Join(r.Runs, ", "))
	return sarifRule{
		ID:                   r.ID,
		Name:                 ruleName(r.ID),
		ShortDescription:     sarifText{Text: r.Title},
		FullDescription:      sarifText{Text: r.Description},
		Help:                 sarifText{Text: text.String(), Markdown: md.String()},
		HelpURI:              RuleHelpURI(r.ID),
		DefaultConfiguration: sarifRuleConf{Enabled: !r.Disabled, Level: sarifLevel(r.Severity)},
		Properties: map[string]any{
			"tags":  []string{"ova-lint", r.Scope},
			"scope": r.Scope,
			"runs":  r.Runs,
		},
	}
}

// ruleName is the rule id in PascalCase, as SARIF suggests for rule names.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func sarifLevel(sev string) string {
	switch sev {
	case "error":
		return "error"
	case "warning":
		return "warning"
	}
	return "note"
}

// fileURI turns a display path into a relative URI reference (percent-encoded).
func fileURI(p string) string {
	u := url.URL{Path: p}
	s := u.String()
	// a first segment with a colon would read as a scheme: make it explicitly relative
	if i := strings.IndexAny(s, ":/"); i >= 0 && s[i] == ':' {
		s = "./" + s
	}
	return s
}

func isAbsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}

// objectRef names the object of a finding: Kind/namespace/name.
// physical places a finding in its file; nil for a live object's finding (ova-lint audit).
func physical(f finding.Finding) *sarifPhysical {
	if f.File == "" {
		return nil
	}
	return &sarifPhysical{
		ArtifactLocation: sarifArtifact{URI: fileURI(f.File), URIBaseID: "%SRCROOT%"},
		Region:           sarifRegion{StartLine: max(f.Line, 1), StartColumn: max(f.Column, 1)},
	}
}

func objectRef(f finding.Finding) string {
	parts := []string{}
	for _, p := range []string{f.Kind, f.Namespace, f.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/")
}
