package webhook

import (
	"fmt"
	"net/http"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// CauseTypePrefix starts the Type of every status cause of a denial: "ova-lint/<rule-id>".
const CauseTypePrefix = "ova-lint/"

// Response turns a decision into an admission response: denied with a 403 status naming every
// error finding (message and one cause per finding), or allowed; warnings either way.
func (d Decision) Response() admission.Response {
	var warnings []string
	for _, f := range d.Warnings {
		warnings = append(warnings, WarningText(f))
	}
	if d.Allowed() {
		resp := admission.Allowed("")
		resp.Warnings = warnings
		return resp
	}
	causes := make([]metav1.StatusCause, 0, len(d.Denials))
	for _, f := range d.Denials {
		causes = append(causes, metav1.StatusCause{
			Type:    metav1.CauseType(CauseTypePrefix + f.Rule),
			Message: f.Message,
			Field:   f.Field,
		})
	}
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{
		Allowed: false,
		Result: &metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    http.StatusForbidden,
			Reason:  metav1.StatusReasonForbidden,
			Message: DenialMessage(d),
			Details: &metav1.StatusDetails{Name: d.Name, Kind: d.Kind, Causes: causes},
		},
		Warnings: warnings,
	}}
}

// DenialMessage says which object breaks which rules, where, and what to do. One error fits on a
// line; several are listed one per line.
func DenialMessage(d Decision) string {
	head := "ova-lint rejected " + objectRef(d.Kind, d.Namespace, d.Name)
	if len(d.Denials) == 1 {
		return head + ": " + findingLine(d.Denials[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%d errors):", head, len(d.Denials))
	for _, f := range d.Denials {
		b.WriteString("\n- ")
		b.WriteString(findingLine(f))
	}
	return b.String()
}

// WarningText is the admission warning for a finding that does not block the request.
func WarningText(f Finding) string {
	if f.Preexisting {
		return "ova-lint " + findingLine(f) + " (not blocking: the stored object already has it)"
	}
	return "ova-lint " + findingLine(f)
}

// findingLine renders "severity rule-id at field: message", like the CLI's text format.
func findingLine(f Finding) string {
	at := ""
	if f.Field != "" {
		at = " at " + f.Field
	}
	return f.Severity + " " + f.Rule + at + ": " + f.Message
}

func objectRef(kind, namespace, name string) string {
	ref := name
	if namespace != "" {
		ref = namespace + "/" + name
	}
	if kind == "" {
		return ref
	}
	return kind + " " + ref
}
