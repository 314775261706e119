{{/*
The container env of one service (call with (dict "root" $ "svc" $svc)): what the
chart itself sets, then the WISMO_* settings of `config` (shared) and the
service's own `config` (wins), then the raw `extraEnv` entries. A setting the
chart owns may not be set again: one key, one source.
*/}}
{{- define "wismo.env" -}}
{{- $root := .root }}
{{- $svc := .svc }}
{{- $k := $root.Values.kafka }}
{{- $env := list (dict "name" "WISMO_BOOTSTRAP_SERVERS" "value" (required "kafka.bootstrapServers is required" $k.bootstrapServers)) }}
{{- if $svc.policy }}
{{- $env = append $env (dict "name" "WISMO_POLICY_FILE" "value" "/etc/wismo/policy/policy.toml") }}
{{- end }}
{{- if and $svc.mappings $root.Values.mappings }}
{{- $env = append $env (dict "name" "WISMO_MAPPINGS_DIR" "value" "/etc/wismo/mappings") }}
{{- end }}
{{- if $k.securityProtocol }}
{{- $env = append $env (dict "name" "WISMO_KAFKA_SECURITY_PROTOCOL" "value" $k.securityProtocol) }}
{{- end }}
{{- if $k.sasl.mechanism }}
{{- $secret := required "kafka.sasl.secretName is required with kafka.sasl.mechanism" $k.sasl.secretName }}
{{- $env = append $env (dict "name" "WISMO_KAFKA_SASL_MECHANISM" "value" $k.sasl.mechanism) }}
{{- if $k.sasl.usernameKey }}
{{- $env = append $env (dict "name" "WISMO_KAFKA_SASL_USERNAME" "valueFrom" (dict "secretKeyRef" (dict "name" $secret "key" $k.sasl.usernameKey))) }}
{{- else }}
{{- $env = append $env (dict "name" "WISMO_KAFKA_SASL_USERNAME" "value" (required "kafka.sasl.username or kafka.sasl.usernameKey is required" $k.sasl.username)) }}
{{- end }}
{{- $env = append $env (dict "name" "WISMO_KAFKA_SASL_PASSWORD" "valueFrom" (dict "secretKeyRef" (dict "name" $secret "key" $k.sasl.passwordKey))) }}
{{- end }}
{{- if $k.tls.caSecret }}
{{- $env = append $env (dict "name" "WISMO_KAFKA_SSL_CA_LOCATION" "value" (printf "/etc/wismo/kafka-ca/%s" $k.tls.caKey)) }}
{{- end }}
{{- if $k.tls.clientSecret }}
{{- $env = append $env (dict "name" "WISMO_KAFKA_SSL_CERTIFICATE_LOCATION" "value" (printf "/etc/wismo/kafka-client/%s" $k.tls.certKey)) }}
{{- $env = append $env (dict "name" "WISMO_KAFKA_SSL_KEY_LOCATION" "value" (printf "/etc/wismo/kafka-client/%s" $k.tls.keyKey)) }}
{{- end }}
{{- $l := $root.Values.lookup }}
{{- if and $svc.lookup (ne $l.mode "open") }}
{{- $env = append $env (dict "name" "WISMO_LOOKUP" "value" $l.mode) }}
{{- if eq $l.mode "token" }}
{{- $secret := required "lookup.tokenSecret is required with lookup.mode token" $l.tokenSecret }}
{{- $env = append $env (dict "name" "WISMO_LOOKUP_TOKEN" "valueFrom" (dict "secretKeyRef" (dict "name" $secret "key" $l.tokenKey))) }}
{{- end }}
{{- end }}
{{- if $svc.static }}
{{- /* Static membership: a restarted pod keeps its partitions, no rebalance. */}}
{{- $env = append $env (dict "name" "WISMO_KAFKA_CONSUMER_GROUP_INSTANCE_ID" "valueFrom" (dict "fieldRef" (dict "fieldPath" "metadata.name"))) }}
{{- end }}
{{- $env = append $env (dict "name" "WISMO_SPILL_DIR" "value" "/var/lib/wismo/spill") }}
{{- $env = append $env (dict "name" "RUST_LOG" "value" $root.Values.logLevel) }}
{{- $owned := dict }}
{{- range $env }}{{ $_ := set $owned .name true }}{{ end }}
{{- range list "WISMO_LOOKUP" "WISMO_LOOKUP_TOKEN" "WISMO_LOOKUP_TOKEN_FILE" }}{{ $_ := set $owned . true }}{{ end }}
{{- range $key, $_ := $root.Values.config }}
{{- if eq $key "WISMO_GROUP_ID" }}
{{- fail "config.WISMO_GROUP_ID would give every service one consumer group: set it per service (<service>.config)" }}
{{- end }}
{{- end }}
{{- range $key, $_ := $svc.values.config }}
{{- if hasPrefix "WISMO_TOPIC_" $key }}
{{- fail (printf "%s.config.%s: topic names must agree across services and topics; set them in config (shared)" $svc.key $key) }}
{{- end }}
{{- end }}
{{- $settings := merge (deepCopy (default dict $svc.values.config)) (deepCopy (default dict $root.Values.config)) }}
{{- range $key, $value := $settings }}
{{- if hasKey $owned $key }}
{{- fail (printf "%s is set by the chart itself (kafka.*, lookup.*, staticMembership, logLevel, policy, mappings); remove it from config" $key) }}
{{- end }}
{{- $env = append $env (dict "name" $key "value" (toString $value)) }}
{{- end }}
{{- $env = concat $env (default list $root.Values.extraEnv) (default list $svc.values.extraEnv) }}
{{- toYaml $env }}
{{- end }}
