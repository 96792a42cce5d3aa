{{/* Names and labels shared by every template. */}}

{{- define "ova-lint.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ova-lint.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "ova-lint.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "ova-lint.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ova-lint.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ova-lint.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ova-lint.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ova-lint.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: admission-webhook
{{- end -}}

{{- define "ova-lint.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ova-lint.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ova-lint.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the serving certificate. */}}
{{- define "ova-lint.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" -}}
{{- required "tls.secretName is required with tls.mode=secret" .Values.tls.secretName -}}
{{- else -}}
{{- printf "%s-tls" (include "ova-lint.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Namespaces never checked: kube-system, the release namespace and tls.exemptNamespaces. */}}
{{- define "ova-lint.exemptNamespaces" -}}
{{- $ns := list "kube-system" .Release.Namespace -}}
{{- range .Values.webhook.exemptNamespaces }}{{- $ns = append $ns . -}}{{- end -}}
{{- $ns | uniq | toJson -}}
{{- end -}}

{{- define "ova-lint.validTLSMode" -}}
{{- if not (has .Values.tls.mode (list "certManager" "selfSigned" "secret")) -}}
{{- fail (printf "tls.mode %q: want certManager, selfSigned or secret" .Values.tls.mode) -}}
{{- end -}}
{{- end -}}

{{/*
The chart-generated CA and serving certificate (tls.mode=selfSigned), made once per render and
shared by the Secret and the ValidatingWebhookConfiguration. An existing Secret is reused, so an
upgrade does not rotate the CA under the apiserver's feet.
*/}}
{{- define "ova-lint.selfSignedTLS" -}}
{{- if not (hasKey .Values "__ovaLintTLS") -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "ova-lint.tlsSecretName" .) -}}
{{- if and $secret (hasKey $secret "data") (hasKey $secret.data "ca.crt") (hasKey $secret.data "tls.crt") (hasKey $secret.data "tls.key") -}}
{{- $_ := set .Values "__ovaLintTLS" (dict "ca" (index $secret.data "ca.crt") "crt" (index $secret.data "tls.crt") "key" (index $secret.data "tls.key")) -}}
{{- else -}}
{{- $svc := include "ova-lint.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- $days := int .Values.tls.selfSigned.validityDays -}}
{{- $ca := genCA (printf "%s-ca" $svc) $days -}}
{{- $dns := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) -}}
{{- $cert := genSignedCert (printf "%s.%s.svc" $svc $ns) nil $dns $days $ca -}}
{{- $_ := set .Values "__ovaLintTLS" (dict "ca" ($ca.Cert | b64enc) "crt" ($cert.Cert | b64enc) "key" ($cert.Key | b64enc)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The report API the background audit writes: openreports or wgpolicyk8s. */}}
{{- define "ova-lint.reportAPI" -}}
{{- if not (has .Values.reports.api (list "openreports" "wgpolicyk8s")) -}}
{{- fail (printf "reports.api %q: want openreports or wgpolicyk8s" .Values.reports.api) -}}
{{- end -}}
{{- .Values.reports.api -}}
{{- end -}}
