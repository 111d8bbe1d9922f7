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
app.kubernetes.io/part-of: {{ .Values.partOf }}
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
{{- $repository := .Values.image.repository -}}
{{- with .Values.image.registry }}{{ $repository = printf "%s/%s" . $repository }}{{ end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
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

{{/*
Environment of both roles: this pod's name as WORKER_ID, then every secret-bearing setting from
the Secret (never the ConfigMap). JWT_SECRET and JWT_PRIVATE_KEY are alternatives, and
GATEWAY_ENCRYPTION_OLD_KEYS is only needed while keys rotate, so those three are optional: an
existing Secret may lack them. Then extraEnv, as given.
*/}}
{{- define "gateway.env" -}}
{{- $secret := include "gateway.secretName" . -}}
{{- $keys := .Values.secrets.keys -}}
- name: WORKER_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- range $name, $spec := dict "JWT_SECRET" (list $keys.jwtSecret true) "JWT_PRIVATE_KEY" (list $keys.jwtPrivateKey true) "GATEWAY_ENCRYPTION_KEY" (list $keys.encryptionKey false) "GATEWAY_ENCRYPTION_OLD_KEYS" (list $keys.encryptionOldKeys true) "REDIS_URL" (list $keys.redisUrl false) }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ index $spec 0 }}
      {{- if index $spec 1 }}
      optional: true
      {{- end }}
{{- end }}
{{- if not .Values.secrets.existingSecret }}
{{- range $name, $_ := .Values.secrets.extraVariables }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $name }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The ConfigMap first, then the extraEnvFrom sources (a later source wins on a clash). */}}
{{- define "gateway.envFrom" -}}
- configMapRef:
    name: {{ include "gateway.fullname" . }}
{{- with .Values.extraEnvFrom }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* A writable /tmp under the read-only root filesystem, then extraVolumeMounts (e.g. for *_FILE settings). */}}
{{- define "gateway.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "gateway.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* What both roles' pods share in their spec, after the termination grace period. */}}
{{- define "gateway.podSpecCommon" -}}
serviceAccountName: {{ include "gateway.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
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
