{{/*
Every topic wismo reads or writes: the env key naming it, its default name, its
key space (partitions: keyed by order or customer id; scanPartitions: keyed by
tracking number) and its kind. Topics read together by one service must keep
the same partition count (co-partitioned): the services refuse to start otherwise.
*/}}
{{- define "wismo.topicTable" -}}
- {key: WISMO_TOPIC_ORDERS, name: orders, keyspace: partitions, kind: input}
- {key: WISMO_TOPIC_CARRIER_SCANS, name: carrier-scans, keyspace: scanPartitions, kind: input}
- {key: WISMO_TOPIC_NOTIFICATIONS, name: notification-commands, keyspace: partitions, kind: output}
- {key: WISMO_TOPIC_DELAY_APOLOGIES, name: delay-apology-commands, keyspace: partitions, kind: output}
- {key: WISMO_TOPIC_REVIEW_REQUESTS, name: review-request-commands, keyspace: partitions, kind: output}
- {key: WISMO_TOPIC_DEAD_LETTER, name: dead-letter, keyspace: partitions, kind: deadLetter}
- {key: WISMO_TOPIC_OUTBOX, name: wismo-order-tracker-outbox, keyspace: partitions, kind: internal}
- {key: WISMO_TOPIC_ROUTED_SCANS, name: wismo-scan-matcher-routed-scans, keyspace: partitions, kind: internal}
- {key: WISMO_TOPIC_SHIPMENT_REGISTRATIONS, name: wismo-scan-matcher-shipments, keyspace: scanPartitions, kind: internal}
- {key: WISMO_TOPIC_MATCHER_CHANGELOG, name: wismo-scan-matcher-changelog, keyspace: scanPartitions, kind: changelog}
- {key: WISMO_TOPIC_TRACKER_CHANGELOG, name: wismo-order-tracker-changelog, keyspace: partitions, kind: changelog}
- {key: WISMO_TOPIC_DISPATCHER_CHANGELOG, name: wismo-dispatcher-changelog, keyspace: partitions, kind: changelog}
{{- end }}

{{/* A topic's name as the services resolve it: its own key, else WISMO_TOPIC_PREFIX + the default. */}}
{{- define "wismo.topicName" -}}
{{- $cfg := .root.Values.config }}
{{- index $cfg .topic.key | default (printf "%s%s" (default "" $cfg.WISMO_TOPIC_PREFIX) .topic.name) }}
{{- end }}
