package schema

import (
	"fmt"
	"testing"

	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/yannh/kubeconform/pkg/validator"
	"gopkg.in/yaml.v3"
)

func TestScratch(t *testing.T) {
	var m map[string]any
	yaml.Unmarshal([]byte("a: 2024-01-01T00:00:00Z\nb: 2024-01-01\nc: 1\nd: 1.5\ne: ~\nf: 12345678901234567890\ng: !!binary aGVsbG8=\n1: x\n"), &m)
	for k, v := range m {
		fmt.Printf("%s %T %v\n", k, v, v)
	}
	_ = jsonschema.Draft4
	_ = validator.Opts{}
}
