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

{{/* repository:tag, and @digest when one is given (the runtime then pulls by digest). */}}
{{- define "hermod.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- with .Values.image.digest }}{{ $ref = printf "%s@%s" $ref . }}{{ end }}
{{- $ref }}
{{- end }}

{{/*
The flags the chart sets from its values. Hermod exits 2 when a flag is given twice, so
extraArgs may not repeat one (as --flag, --flag=value or --no-flag): the render fails
instead of a Pod that crash-loops.
*/}}
{{- define "hermod.managedFlags" -}}
level message-mode failing-grace-seconds bake-seconds group-window-seconds progress-deadline-seconds log-lines log-redact metrics-port commit-sha-annotation repo-url-annotation git-annotation-warning
{{- end }}

{{- define "hermod.checkExtraArgs" -}}
{{- $managed := splitList " " (include "hermod.managedFlags" .) }}
{{- range .Values.extraArgs }}
{{- $name := regexReplaceAll "^--(no-)?([^=]*)(=.*)?$" . "${2}" }}
{{- if and (hasPrefix "--" .) (has $name $managed) }}
{{- fail (printf "extraArgs repeats --%s, which the chart already sets: use the chart's value for it instead (see values.yaml)" $name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The Pod annotations: the Prometheus scrape ones (port from metrics.port), then podAnnotations. */}}
{{- define "hermod.podAnnotations" -}}
{{- $annotations := dict }}
{{- if .Values.metrics.scrapeAnnotations }}
{{- $_ := set $annotations "prometheus.io/scrape" "true" }}
{{- $_ := set $annotations "prometheus.io/port" (toString .Values.metrics.port) }}
{{- $_ := set $annotations "prometheus.io/path" "/metrics" }}
{{- end }}
{{- $annotations = mergeOverwrite $annotations .Values.podAnnotations }}
{{- with $annotations }}{{ toYaml . }}{{ end }}
{{- end }}

{{/* Whether to render the PodDisruptionBudget: as asked, or (enabled: null) when replicas > 1. */}}
{{- define "hermod.pdbEnabled" -}}
{{- $enabled := .Values.podDisruptionBudget.enabled }}
{{- if kindIs "invalid" $enabled }}{{ $enabled = gt (int .Values.replicas) 1 }}{{ end }}
{{- if $enabled }}true{{ end }}
{{- end }}
