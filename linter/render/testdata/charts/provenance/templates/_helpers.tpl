{{- define "provenance.fullname" -}}
{{ .Release.Name }}-provenance
{{- end }}
