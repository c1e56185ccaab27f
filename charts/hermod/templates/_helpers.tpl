{{/* The chart name, shortened to the 63 characters a label value allows. */}}
{{- define "hermod.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's objects. A release already named after the chart (helm
install hermod ...) is not repeated: "hermod", not "hermod-hermod".
*/}}
{{- define "hermod.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "hermod.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "hermod.labels" -}}
helm.sh/chart: {{ include "hermod.chart" . }}
{{ include "hermod.selectorLabels" . }}
app.kubernetes.io/version: {{ (.Values.image.tag | default .Chart.AppVersion) | toString | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The labels the Deployment selects its Pods by: never change them after install. */}}
{{- define "hermod.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hermod.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "hermod.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "hermod.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding SLACK_TOKEN (and optionally SENTRY_ENDPOINT); installing without one fails early. */}}
{{- define "hermod.secretName" -}}
{{- required "existingSecret must name a Secret holding SLACK_TOKEN (and optionally SENTRY_ENDPOINT): kubectl create secret generic hermod --from-literal=SLACK_TOKEN=xoxb-..." .Values.existingSecret }}
{{- end }}

{{- define "hermod.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
