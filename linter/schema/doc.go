// Package schema implements ova-lint's `schema` rule: strict JSON Schema
// validation of every document against schemas carried by the binary.
//
// # Engine: kubeconform's validator, without the byte round trip
//
// kubeconform's pkg/validator (v0.8.0) only validates bytes: for each
// resource it unmarshals YAML again (sigs.k8s.io/yaml), looks the schema up
// through registries (files or HTTP) and then calls
// santhosh-tekuri/jsonschema/v6's Schema.Validate on the decoded map. ova-lint
// already holds every document as a map[string]any (it needs the yaml.v3 node
// tree for positions anyway), so going through pkg/validator would mean
// re-serialising and re-parsing each document, and serving schemas from a
// directory or URL instead of from the binary.
//
// This package therefore drives the same engine directly, configured the
// way kubeconform's validator configures it: jsonschema/v6 (the version this
// module builds kubeconform with), draft-04 as the default draft, format
// assertions on, and kubeconform's "duration" format (Go durations or
// ISO 8601). Schemas are kubeconform's strict flavour (additionalProperties
// false; see internal/convert). Each schema is compiled once per
// Validator, on first use, and cached per apiVersion/kind; compiled schemas
// are immutable, so Validate is safe for concurrent use and costs one walk of
// the object. TestKubeconformParity runs kubeconform's own pkg/validator
// (local schema files only) over the test documents and checks that it
// reaches the same verdicts.
//
// Differences from plain kubeconform, all deliberate:
//   - the document root is strict too (kubeconform's openapi2jsonschema.py
//     leaves the root of CRD schemas open by default);
//   - metadata of custom resources is validated as ObjectMeta;
//   - null values in objects are treated as absent, as the API server does
//     (kubernetes-json-schema expresses the same by adding "null" to the
//     type of optional fields);
//   - .status of CRDs with a status subresource is not checked (the API
//     server ignores it on create and update);
//   - a kind without a schema is an error (NoSchemaError), never a pass.
//
// # Schemas
//
// The catalog (catalog/*.json.gz, embedded) is built by `go generate` from
// Go module sources; see README.md and catalog/SOURCES.md. Nothing is ever
// fetched at run time: the JSON Schema compiler is given a loader that
// refuses every URL, all references point into embedded catalogs, and
// TestNoNetwork proves it.
//
// # Errors
//
// Validation errors carry the path of the offending field (for an unknown
// field, the field itself; for a missing required field, the object that
// lacks it) and a message that names types, field names and schema
// constraints only, never the value found in the document: values may be
// secrets.
package schema
