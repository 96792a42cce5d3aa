package render

import (
	"bytes"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
)

// sources knows where every file of a loaded chart tree is in Git.
type sources struct {
	// files maps template and CRD files (shared by pointer with the
	// dependency-processed copies of the charts) to repository paths.
	files map[*chart.File]string
	// values are the values.yaml files of the tree: the root chart first,
	// then vendored subcharts in walk order.
	values []valuesFile
	// templates are all template files of the tree in walk order.
	templates []textFile
}

// valuesFile is one chart's values.yaml.
type valuesFile struct {
	file string
	data []byte
}

// textFile is one template with its repository path.
type textFile struct {
	f    *chart.File
	file string
}

func newSources() *sources {
	return &sources{files: map[*chart.File]string{}}
}

// file returns the repository path of f, or fallback when f is unknown.
func (s *sources) file(f *chart.File, fallback string) string {
	if p, ok := s.files[f]; ok {
		return p
	}
	return fallback
}

// walk records the files of c, whose directory is prefix in the repository,
// and recurses into its vendored subcharts.
func (s *sources) walk(c *chart.Chart, prefix string) {
	tpls := append([]*chart.File(nil), c.Templates...)
	sort.SliceStable(tpls, func(i, j int) bool { return tpls[i].Name < tpls[j].Name })
	for _, t := range tpls {
		if t == nil {
			continue
		}
		p := path.Join(prefix, t.Name)
		s.files[t] = p
		s.templates = append(s.templates, textFile{f: t, file: p})
	}
	for _, f := range c.Files {
		if f != nil && strings.HasPrefix(f.Name, "crds/") {
			s.files[f] = path.Join(prefix, f.Name)
		}
	}
	for _, f := range c.Raw {
		if f != nil && f.Name == "values.yaml" {
			s.values = append(s.values, valuesFile{file: path.Join(prefix, "values.yaml"), data: f.Data})
		}
	}

	cands := subchartCandidates(c)
	used := make([]bool, len(cands))
	deps := append([]*chart.Chart(nil), c.Dependencies()...)
	sort.SliceStable(deps, func(i, j int) bool {
		if deps[i].Name() != deps[j].Name() {
			return deps[i].Name() < deps[j].Name()
		}
		return deps[i].Metadata.Version < deps[j].Metadata.Version
	})
	for _, d := range deps {
		sub := path.Join(prefix, "charts", d.Name())
		for i, cand := range cands {
			if !used[i] && cand.name == d.Name() && cand.version == d.Metadata.Version {
				used[i] = true
				sub = path.Join(prefix, "charts", cand.entry)
				break
			}
		}
		s.walk(d, sub)
	}
}

// candidate is an entry under charts/ that the loader turned into a subchart.
type candidate struct {
	entry   string // directory name or .tgz file name under charts/
	name    string
	version string
}

// subchartCandidates lists the entries under c's charts/ with the name and
// version of the chart each holds, so that a loaded dependency (whose
// origin the loader does not record) can be matched to its entry.
func subchartCandidates(c *chart.Chart) []candidate {
	var out []candidate
	for _, f := range c.Raw {
		if f == nil || !strings.HasPrefix(f.Name, "charts/") {
			continue
		}
		rest := strings.TrimPrefix(f.Name, "charts/")
		if strings.IndexAny(rest, "_.") == 0 {
			continue // the loader skips these too
		}
		entry, file, isDir := strings.Cut(rest, "/")
		switch {
		case isDir && file == "Chart.yaml":
			var md struct {
				Name    string `yaml:"name"`
				Version string `yaml:"version"`
			}
			if yaml.Unmarshal(f.Data, &md) == nil {
				out = append(out, candidate{entry: entry, name: md.Name, version: md.Version})
			}
		case !isDir && path.Ext(rest) == ".tgz":
			sc, err := loader.LoadArchive(bytes.NewReader(f.Data))
			if err == nil && sc.Metadata != nil {
				out = append(out, candidate{entry: entry, name: sc.Metadata.Name, version: sc.Metadata.Version})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].entry < out[j].entry })
	return out
}
