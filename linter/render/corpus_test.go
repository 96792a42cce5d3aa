package render

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusRoot is a checkout of the platform repository some machines have;
// the test is skipped elsewhere.
const corpusRoot = "/work/shared/corpus/openova"

// TestCorpusCharts renders every in-tree chart of the corpus with its own
// values: nothing may panic; failures and missing dependencies are logged.
func TestCorpusCharts(t *testing.T) {
	if _, err := os.Stat(corpusRoot); err != nil {
		t.Skipf("no corpus at %s", corpusRoot)
	}
	var dirs []string
	for _, pattern := range []string{"platform/*/chart", "products/*/chart"} {
		m, err := filepath.Glob(filepath.Join(corpusRoot, pattern))
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, m...)
	}
	sort.Strings(dirs)
	if len(dirs) == 0 {
		t.Skip("no charts in the corpus")
	}
	var rendered, objects, secrets, traced int
	for _, dir := range dirs {
		relPath, _ := filepath.Rel(corpusRoot, dir)
		relPath = filepath.ToSlash(relPath)
		name := filepath.Base(filepath.Dir(dir))
		res, err := Render(context.Background(), Release{
			ChartDir:    dir,
			ChartRel:    relPath,
			Name:        name,
			Namespace:   name,
			KubeVersion: "1.31",
		})
		if err != nil {
			if strings.Contains(err.Error(), "panic:") {
				t.Errorf("%s: %v", relPath, err)
			}
			t.Logf("FAIL %s: %v", relPath, err)
			continue
		}
		rendered++
		objects += len(res.Objects)
		nSecrets, nTraced := 0, 0
		for _, o := range res.Objects {
			if o.Line < 1 || !strings.HasPrefix(o.Template, relPath+"/") {
				t.Errorf("%s: object placed at %s:%d", relPath, o.Template, o.Line)
			}
			if isV1Secret(o.Object) {
				nSecrets++
				nTraced += len(o.GitValues)
				for k, p := range o.GitValues {
					t.Logf("     %s: Secret value %s traced to %s:%d (%s)", relPath, k, p.File, p.Line, p.Via)
				}
			}
		}
		secrets += nSecrets
		traced += nTraced
		t.Logf("ok   %s: %d objects, %d Secrets, missing dependencies %v", relPath, len(res.Objects), nSecrets, res.MissingDependencies)
	}
	t.Logf("corpus: %d/%d charts rendered, %d objects, %d Secrets, %d Secret values traced to Git", rendered, len(dirs), objects, secrets, traced)
}
