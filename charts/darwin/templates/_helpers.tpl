{{/* The webhook's certificate mode (config.webhook.certificates.mode; the operator's default otherwise). */}}
{{- define "darwin.certificatesMode" -}}
{{- dig "webhook" "certificates" "mode" "self-managed" .Values.config -}}
{{- end }}

{{/*
Prefix of the cluster-scoped objects' names (ClusterRoles and their bindings, the webhook configuration):
the release's name, with "-darwin" unless it says darwin already, so two releases do not collide. Release
"darwin" keeps the plain names (darwin-operator, darwin-validating-webhook).
*/}}
{{- define "darwin.fullname" -}}
{{- if contains "darwin" .Release.Name }}{{ .Release.Name }}{{ else }}{{ printf "%s-darwin" .Release.Name }}{{ end }}
{{- end }}

{{/* Labels of every object; `component` names the program. */}}
{{- define "darwin.labels" -}}
app.kubernetes.io/part-of: darwin
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{ include "darwin.selector" . }}
{{- end }}

{{- define "darwin.selector" -}}
app.kubernetes.io/name: {{ .component }}
{{- end }}

{{- define "darwin.image" -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag }}
{{- end }}

{{/* The Secret holding the stores' credentials (yours, or the chart's darwin-stores). */}}
{{- define "darwin.storesSecret" -}}
{{- default "darwin-stores" .Values.stores.existingSecret -}}
{{- end }}

{{/* The operator's configuration file: the values' config with what the chart decides set. */}}
{{- define "darwin.config" -}}
{{- $mode := include "darwin.certificatesMode" . -}}
{{- $webhook := dict
  "certificates" (dict "namespace" .Release.Namespace "serviceName" "darwin-webhook")
  "configuration" (dict "manage" (ternary "inject-ca" "none" (eq $mode "self-managed")) "name" (printf "%s-validating-webhook" (include "darwin.fullname" .))) -}}
{{- $forced := dict "leaderElection" (dict "namespace" .Release.Namespace) "webhook" $webhook -}}
{{- mustMergeOverwrite (deepCopy .Values.config) $forced | toYaml -}}
{{- end }}

{{/* The restricted security context of every container. */}}
{{- define "darwin.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "darwin.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Environment naming the stores, for the programs that use them. */}}
{{- define "darwin.storesEnv" -}}
- name: DARWIN_MYSQL_URL
  valueFrom:
    secretKeyRef: { name: {{ include "darwin.storesSecret" . }}, key: mysql-url, optional: true }
{{- with .Values.stores.cassandra.contactPoints }}
- name: DARWIN_CASSANDRA_CONTACT
  value: {{ join "," . | quote }}
{{- end }}
- name: DARWIN_CASSANDRA_DATACENTER
  value: {{ .Values.stores.cassandra.localDataCenter | quote }}
{{- with .Values.stores.kafka.brokers }}
- name: DARWIN_KAFKA_BROKERS
  value: {{ join "," . | quote }}
{{- end }}
{{- with .Values.stores.offlineStore }}
{{- if .uri }}
- name: DARWIN_OFFLINE_STORE_URI
  value: {{ .uri | quote }}
{{- end }}
{{- if .endpoint }}
- name: DARWIN_S3_ENDPOINT
  value: {{ .endpoint | quote }}
{{- end }}
- name: DARWIN_S3_REGION
  value: {{ .region | quote }}
{{- end }}
- name: DARWIN_S3_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef: { name: {{ include "darwin.storesSecret" . }}, key: s3-access-key-id, optional: true }
- name: DARWIN_S3_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef: { name: {{ include "darwin.storesSecret" . }}, key: s3-secret-access-key, optional: true }
{{- end }}
