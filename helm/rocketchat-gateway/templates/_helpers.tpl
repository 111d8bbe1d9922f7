{{/*
Names, labels and the pieces both Deployments share. Plain text blocks only: every helper that
emits YAML is included with `nindent`, on a line of its own.
*/}}

{{- define "gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gateway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gateway.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "gateway.secretName" -}}
{{- default (include "gateway.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "gateway.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
Seconds Kubernetes waits between the start of termination and SIGKILL: the preStop sleep (it
counts against the grace period), then SHUTDOWN_GRACE_MS rounded up, then a margin. The gateway
gives up its own drain at SHUTDOWN_GRACE_MS, so it always exits before the SIGKILL.
Call with (dict "root" $ "preStopSeconds" N).
*/}}
{{- define "gateway.terminationGracePeriodSeconds" -}}
{{- $graceSeconds := div (add (int .root.Values.config.shutdownGraceMs) 999) 1000 -}}
{{- add (int .preStopSeconds) $graceSeconds (int .root.Values.lifecycle.terminationMarginSeconds) -}}
{{- end -}}

{{/* Environment of both roles: the ConfigMap, the Secret, and this pod's name as WORKER_ID. */}}
{{- define "gateway.env" -}}
- name: WORKER_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "gateway.secretName" . }}
      key: {{ .Values.secrets.keys.jwtSecret }}
- name: GATEWAY_ENCRYPTION_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "gateway.secretName" . }}
      key: {{ .Values.secrets.keys.encryptionKey }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "gateway.secretName" . }}
      key: {{ .Values.secrets.keys.redisUrl }}
{{- end -}}

{{/* The container security context of both roles: nothing a compromised process could use. */}}
{{- define "gateway.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "gateway.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
fsGroup: {{ .Values.podSecurityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Probes of both roles, on the HTTP port: each role serves /healthz and /readyz there. */}}
{{- define "gateway.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: {{ .Values.probes.startup.periodSeconds }}
  failureThreshold: {{ .Values.probes.startup.failureThreshold }}
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
  timeoutSeconds: {{ .Values.probes.liveness.timeoutSeconds }}
  failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
  timeoutSeconds: {{ .Values.probes.readiness.timeoutSeconds }}
  failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
{{- end -}}

{{/* Rolls the pods when the configuration or the chart-made Secret changes. */}}
{{- define "gateway.checksums" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end -}}
