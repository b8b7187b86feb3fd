{{/*
Names and labels.
*/}}
{{- define "webwork-scim.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every resource name, cut to 63 characters (the DNS label limit).
*/}}
{{- define "webwork-scim.fullname" -}}
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

{{- define "webwork-scim.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "webwork-scim.labels" -}}
helm.sh/chart: {{ include "webwork-scim.chart" . }}
{{ include "webwork-scim.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: webwork
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "webwork-scim.selectorLabels" -}}
app.kubernetes.io/name: {{ include "webwork-scim.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The server pods: the migration Job's pods share name and instance but not the component, so
the Service, the PodDisruptionBudget and the NetworkPolicy never select them.
*/}}
{{- define "webwork-scim.serverSelectorLabels" -}}
{{ include "webwork-scim.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "webwork-scim.migrationSelectorLabels" -}}
{{ include "webwork-scim.selectorLabels" . }}
app.kubernetes.io/component: migration
{{- end }}

{{- define "webwork-scim.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "webwork-scim.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The migration Job runs before the chart's own resources exist, so it cannot use a
ServiceAccount the chart is about to make: it uses an existing one, or the namespace's default
(without its token either way).
*/}}
{{- define "webwork-scim.migrationServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}default{{- else }}{{ default "default" .Values.serviceAccount.name }}{{- end }}
{{- end }}

{{- define "webwork-scim.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
The DATABASE_URL the chart knows: database.url, else (without existingSecret) the embedded
SQLite file on the volume; empty when existingSecret holds it.
*/}}
{{- define "webwork-scim.databaseUrl" -}}
{{- if .Values.database.url }}
{{- .Values.database.url }}
{{- else if not .Values.existingSecret.name -}}
sqlite:///data/webwork-scim.db
{{- end }}
{{- end }}

{{/*
Database kind. SQLite is recognised from the URL above; a URL kept in existingSecret is taken to
be PostgreSQL (a SQLite path holds no secret and belongs in database.url).
*/}}
{{- define "webwork-scim.sqlite" -}}
{{- if hasPrefix "sqlite:" (include "webwork-scim.databaseUrl" .) }}true{{ end }}
{{- end }}

{{- define "webwork-scim.secretName" -}}
{{- if .Values.existingSecret.name }}
{{- .Values.existingSecret.name }}
{{- else }}
{{- include "webwork-scim.fullname" . }}
{{- end }}
{{- end }}

{{- define "webwork-scim.jwtKeys" -}}
{{- if kindIs "string" .Values.jwt.keys }}
{{- .Values.jwt.keys }}
{{- else if .Values.jwt.keys }}
{{- toJson .Values.jwt.keys }}
{{- end }}
{{- end }}

{{/*
PUBLIC_BASE_URL: as set, else the first ingress host, else the in-cluster Service address.
*/}}
{{- define "webwork-scim.publicBaseUrl" -}}
{{- if .Values.config.publicBaseUrl }}
{{- .Values.config.publicBaseUrl | trimSuffix "/" }}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts }}
{{- $host := (first .Values.ingress.hosts).host }}
{{- $tls := false }}
{{- range .Values.ingress.tls }}
{{- if has $host (default list .hosts) }}{{ $tls = true }}{{ end }}
{{- end }}
{{- printf "%s://%s" (ternary "https" "http" $tls) $host }}
{{- else }}
{{- printf "http://%s.%s.svc:%v" (include "webwork-scim.fullname" .) .Release.Namespace .Values.service.port }}
{{- end }}
{{- end }}

{{/*
The pod's grace period must outlast the preStop delay plus the time the binary gives in-flight
requests after SIGTERM; otherwise the kubelet's SIGKILL cuts them short.
*/}}
{{- define "webwork-scim.terminationGracePeriodSeconds" -}}
{{- $needed := add .Values.lifecycle.preStopSleepSeconds .Values.config.shutdownTimeoutSecs }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add $needed 5 }}
{{- else if le (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed lifecycle.preStopSleepSeconds + config.shutdownTimeoutSecs (%v), or SIGKILL cuts in-flight requests short" .Values.terminationGracePeriodSeconds $needed) }}
{{- else }}
{{- .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/*
Refuses settings that would deploy something broken. Included by every template that depends on
them, so `helm template` of any one file fails as well.
*/}}
{{- define "webwork-scim.validate" -}}
{{- $sqlite := include "webwork-scim.sqlite" . }}
{{- if $sqlite }}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) }}
{{- fail "SQLite supports one replica; use PostgreSQL for more (set database.url to a postgres:// URL, or turn autoscaling off and set replicaCount to 1)" }}
{{- end }}
{{- $url := include "webwork-scim.databaseUrl" . }}
{{- if not (regexMatch "^sqlite:///data/[^/?]+([?].*)?$" $url) }}
{{- fail (printf "database.url %q: a SQLite file must live in /data, the only persistent writable directory, e.g. sqlite:///data/webwork-scim.db" $url) }}
{{- end }}
{{- else if .Values.existingSecret.name }}
{{- if .Values.database.url }}
{{- fail "database.url is set but existingSecret.name is too: put DATABASE_URL in the existing Secret and leave database.url empty (only a sqlite:// URL may stay in values)" }}
{{- end }}
{{- if .Values.database.migrationUrl }}
{{- fail "database.migrationUrl is set but existingSecret.name is too: put MIGRATION_DATABASE_URL in the existing Secret" }}
{{- end }}
{{- end }}
{{- if and .Values.webhooks.urls (not .Values.webhooks.secret) (not .Values.existingSecret.name) }}
{{- fail "webhooks.urls needs webhooks.secret (whsec_…) or existingSecret.name holding WEBHOOK_SECRET" }}
{{- end }}
{{- if and .Values.existingSecret.name (or .Values.webhooks.secret (include "webwork-scim.jwtKeys" .)) }}
{{- fail "webhooks.secret and jwt.keys are ignored with existingSecret.name: put them in the existing Secret" }}
{{- end }}
{{- range $k, $v := .Values.extraEnv }}
{{- if has $k (list "DATABASE_URL" "MIGRATION_DATABASE_URL" "JWT_KEYS" "WEBHOOK_SECRET") }}
{{- fail (printf "extraEnv.%s: secrets do not belong in the ConfigMap; use database.*, jwt.keys, webhooks.secret or existingSecret" $k) }}
{{- end }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- $_ := include "webwork-scim.terminationGracePeriodSeconds" . }}
{{- end }}

{{/*
Secret environment of the server, from the chart's Secret or existingSecret. env wins over
envFrom, so nothing in the ConfigMap can shadow these.
*/}}
{{- define "webwork-scim.secretEnv" -}}
{{- $secret := include "webwork-scim.secretName" . }}
{{- $keys := .Values.existingSecret.keys }}
{{- if .Values.existingSecret.name }}
{{- if not (include "webwork-scim.sqlite" .) }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.databaseUrl }}
{{- end }}
- name: JWT_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.jwtKeys }}
      optional: true
- name: WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $keys.webhookSecret }}
      optional: true
{{- else }}
{{- if not (include "webwork-scim.sqlite" .) }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: DATABASE_URL
{{- end }}
{{- if include "webwork-scim.jwtKeys" . }}
- name: JWT_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: JWT_KEYS
{{- end }}
{{- if .Values.webhooks.secret }}
- name: WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: WEBHOOK_SECRET
{{- end }}
{{- end }}
{{- end }}

{{/*
Whether the chart makes its own Secret for the server (never with existingSecret, nor when
there is nothing secret to hold).
*/}}
{{- define "webwork-scim.chartSecret" -}}
{{- if and (not .Values.existingSecret.name) (or (not (include "webwork-scim.sqlite" .)) (include "webwork-scim.jwtKeys" .) .Values.webhooks.secret) }}true{{ end }}
{{- end }}

{{- define "webwork-scim.migrationEnabled" -}}
{{- if and .Values.migration.enabled (not (include "webwork-scim.sqlite" .)) }}true{{ end }}
{{- end }}

{{- define "webwork-scim.podsReplicated" -}}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{/*
NetworkPolicy peers from {cidrs, to}; nothing when both are empty (any destination).
*/}}
{{- define "webwork-scim.egressPeers" -}}
{{- if or .cidrs .to }}
to:
  {{- range .cidrs }}
  - ipBlock:
      cidr: {{ . }}
  {{- end }}
  {{- with .to }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
Egress both the server and the migration Job need: DNS, and PostgreSQL unless on SQLite.
*/}}
{{- define "webwork-scim.egressDnsAndDatabase" -}}
{{- $egress := .Values.networkPolicy.egress }}
{{- if $egress.dns.enabled }}
# Name resolution through the cluster's DNS.
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ $egress.dns.namespace }}
      {{- with $egress.dns.podLabels }}
      podSelector:
        matchLabels:
          {{- toYaml . | nindent 10 }}
      {{- end }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}
{{- if not (include "webwork-scim.sqlite" .) }}
# PostgreSQL.
- ports:
    - port: {{ $egress.database.port }}
      protocol: TCP
  {{- with include "webwork-scim.egressPeers" $egress.database | trim }}
  {{- . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
The server's egress rules: DNS, PostgreSQL, the webhook targets, and any extra rules.
*/}}
{{- define "webwork-scim.networkPolicyEgress" -}}
{{- $egress := .Values.networkPolicy.egress }}
{{- include "webwork-scim.egressDnsAndDatabase" . }}
{{- if .Values.webhooks.urls }}
# Lifecycle events to WebWork's app.
- ports:
    {{- range include "webwork-scim.webhookPorts" . | fromJsonArray }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with include "webwork-scim.egressPeers" $egress.webhooks | trim }}
  {{- . | nindent 2 }}
  {{- end }}
{{- end }}
{{- with $egress.extra }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Ports the webhook egress rule opens: as set, else those of webhooks.urls (80 for http:// and
443 for https:// when a URL names none), as a JSON array.
*/}}
{{- define "webwork-scim.webhookPorts" -}}
{{- $ports := list }}
{{- if .Values.networkPolicy.egress.webhooks.ports }}
{{- $ports = .Values.networkPolicy.egress.webhooks.ports }}
{{- else }}
{{- range .Values.webhooks.urls }}
{{- $host := (urlParse .).host }}
{{- $port := ternary 443 80 (hasPrefix "https://" .) }}
{{- if regexMatch ":[0-9]+$" $host }}
{{- $port = regexFind "[0-9]+$" $host | atoi }}
{{- end }}
{{- $ports = append $ports $port }}
{{- end }}
{{- end }}
{{- $ports | uniq | toJson }}
{{- end }}
