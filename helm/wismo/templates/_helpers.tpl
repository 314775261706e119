{{/* Names and labels. */}}
{{- define "wismo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "wismo.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "wismo.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "wismo.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "wismo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wismo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "wismo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "wismo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: wismo
{{- end }}

{{/* Labels of one service's objects; call with (dict "root" $ "svc" $svc). */}}
{{- define "wismo.svcLabels" -}}
{{ include "wismo.labels" .root }}
app.kubernetes.io/component: {{ .svc.name }}
{{- end }}

{{- define "wismo.svcSelector" -}}
{{ include "wismo.selectorLabels" .root }}
app.kubernetes.io/component: {{ .svc.name }}
{{- end }}

{{/*
The three services. key: its values block; stateful: restores real state on every
assignment (so static membership pays off); keyspace: which partition count bounds
its replicas (its state and inputs are co-partitioned in that key space); lookup:
serves a state lookup (so gets the lookup.* settings).
*/}}
{{- define "wismo.services" -}}
- name: scan-matcher
  key: scanMatcher
  stateful: true
  keyspace: scanPartitions
  policy: false
  mappings: false
  lookup: true
- name: order-tracker
  key: orderTracker
  stateful: true
  keyspace: partitions
  policy: true
  mappings: true
  lookup: true
- name: dispatcher
  key: dispatcher
  stateful: false
  keyspace: partitions
  policy: true
  mappings: false
  lookup: false
{{- end }}

{{/* Enabled services with their values merged in, as a list under "items". */}}
{{- define "wismo.enabledServices" -}}
{{- $items := list }}
{{- range (include "wismo.services" . | fromYamlArray) }}
{{- $v := index $.Values .key }}
{{- if $v.enabled }}
{{- $static := and .stateful $.Values.staticMembership.enabled }}
{{- $items = append $items (merge (dict "values" $v "static" $static "kind" (ternary "StatefulSet" "Deployment" $static) "fullname" (printf "%s-%s" (include "wismo.fullname" $) .name)) .) }}
{{- end }}
{{- end }}
{{- toYaml (dict "items" $items) }}
{{- end }}

{{/* The consumer group of a service: its own WISMO_GROUP_ID, else the binary's default (prefixed like the topics). */}}
{{- define "wismo.groupId" -}}
{{- $svc := .svc }}
{{- $prefix := default "" .root.Values.config.WISMO_TOPIC_PREFIX }}
{{- index (default dict $svc.values.config) "WISMO_GROUP_ID" | default (printf "%swismo-%s" $prefix $svc.name) }}
{{- end }}

{{- define "wismo.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{- define "wismo.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "wismo.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Replicas bound: a consumer beyond the partition count would sit idle. */}}
{{- define "wismo.maxReplicas" -}}
{{- $parts := int (index .root.Values.topics .svc.keyspace) }}
{{- $max := int (default $parts .svc.values.autoscaling.maxReplicas) }}
{{- min $max $parts }}
{{- end }}
