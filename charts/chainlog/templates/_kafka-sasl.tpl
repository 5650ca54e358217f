{{/*
SASL/SCRAM + ACLs on the bundled Kafka (kafka.bundled.sasl): the credentials Secret and what each service reads
from it. Who may do what is services/operator/src/kafka/acls.ts (the operator, or in statefulset mode the topics
Job, applies it); the principal names below are that file's.
*/}}

{{/* "true" when the bundled Kafka runs with SASL and ACLs. */}}
{{- define "chainlog.kafkaSasl.enabled" -}}
{{- if and .Values.kafka.bundled.enabled .Values.kafka.bundled.sasl.enabled }}true{{ end -}}
{{- end -}}

{{/* The Secret with the passwords. */}}
{{- define "chainlog.kafkaSasl.secretName" -}}
{{- .Values.kafka.bundled.sasl.existingSecret | default (include "chainlog.componentName" (dict "root" . "component" "kafka-credentials")) -}}
{{- end -}}

{{/*
The Ledger's spec.kafka.bundled.sasl.credentialsSecret, or empty. A Ledger that already runs a bundled Kafka without
SASL keeps it (its brokers formatted their storage without the users; the CRD refuses the change): an upgrade
must not break a running ledger. `lookup` is empty under `helm template`.
*/}}
{{- define "chainlog.kafkaSasl.ledgerSecret" -}}
{{- if include "chainlog.kafkaSasl.enabled" . -}}
{{- $live := lookup "chainlog.dev/v1alpha1" "Ledger" .Release.Namespace (include "chainlog.fullname" .) -}}
{{- $liveBundled := dig "spec" "kafka" "bundled" dict $live -}}
{{- if or (not $live) (hasKey $liveBundled "sasl") -}}
{{- include "chainlog.kafkaSasl.secretName" . -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
A service's own Kafka principal: KAFKA_SASL_* with only its own password. Usage:
include "chainlog.kafkaSasl.env" (dict "root" $ "user" "chainlog-ingest")
*/}}
{{- define "chainlog.kafkaSasl.env" -}}
{{- if include "chainlog.kafkaSasl.enabled" .root }}
- name: KAFKA_SASL_MECHANISM
  value: scram-sha-512
- name: KAFKA_SASL_USERNAME
  value: {{ .user | quote }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "chainlog.kafkaSasl.secretName" .root | quote }}
      key: {{ .user | quote }}
{{- end }}
{{- end -}}

{{/*
The principal of a chart component on the bundled Kafka (services/operator/src/kafka/acls.ts): each service its
own; the topics Job and, in statefulset mode, the operator (topic create/alter/describe and the ACLs) the
administrator. In ledgers mode the operator reads the Ledger's Secret itself and gets nothing here.
Usage: include "chainlog.kafkaSasl.componentEnv" (dict "root" $ "component" "miner")
*/}}
{{- define "chainlog.kafkaSasl.componentEnv" -}}
{{- $principals := dict "ingest" "chainlog-ingest" "miner" "chainlog-miner" "auditor" "chainlog-auditor" "provision-topics" "chainlog-admin" -}}
{{- if not (include "chainlog.ledgerMode" .root) }}{{ $_ := set $principals "operator" "chainlog-admin" }}{{ end -}}
{{- with get $principals .component -}}
{{- include "chainlog.kafkaSasl.env" (dict "root" $.root "user" .) -}}
{{- end -}}
{{- end -}}

{{/*
A SASL broker's listeners, as services/operator/src/ledger/render.ts's saslListeners renders them for a Ledger
(the chart test compares the two): clients on CLIENT (SCRAM-SHA-512), the brokers on INTERNAL and CONTROLLER
(SASL/PLAIN as the super user `broker`, whose JAAS the entrypoint script writes). No ACL, no access.
Usage: include "chainlog.kafkaSasl.brokerEnv" (dict "client" "host:9092" "internal" "host:9094")
*/}}
{{- define "chainlog.kafkaSasl.brokerEnv" -}}
- name: KAFKA_ADVERTISED_LISTENERS
  value: {{ printf "CLIENT://%s,INTERNAL://%s" .client .internal | quote }}
- name: KAFKA_LISTENERS
  value: CLIENT://:9092,CONTROLLER://:9093,INTERNAL://:9094
- name: KAFKA_LISTENER_SECURITY_PROTOCOL_MAP
  value: CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT
- name: KAFKA_INTER_BROKER_LISTENER_NAME
  value: INTERNAL
- name: KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL
  value: PLAIN
- name: KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL
  value: PLAIN
- name: KAFKA_LISTENER_NAME_CLIENT_SASL_ENABLED_MECHANISMS
  value: SCRAM-SHA-512
- name: KAFKA_LISTENER_NAME_CONTROLLER_SASL_ENABLED_MECHANISMS
  value: PLAIN
- name: KAFKA_LISTENER_NAME_INTERNAL_SASL_ENABLED_MECHANISMS
  value: PLAIN
- name: KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___512_SASL_JAAS_CONFIG
  value: "org.apache.kafka.common.security.scram.ScramLoginModule required;"
- name: KAFKA_AUTHORIZER_CLASS_NAME
  value: org.apache.kafka.metadata.authorizer.StandardAuthorizer
- name: KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND
  value: "false"
- name: KAFKA_SUPER_USERS
  value: "User:broker;User:chainlog-admin"
{{- end -}}

{{/* The credentials Secret as the entrypoint script reads it (0440 with the pod's fsGroup: the broker's user only). */}}
{{- define "chainlog.kafkaSasl.brokerVolume" -}}
- name: sasl
  secret:
    secretName: {{ include "chainlog.kafkaSasl.secretName" . | quote }}
    defaultMode: 0440
    items:
      - key: broker
        path: broker
      {{- range list "chainlog-admin" "chainlog-ingest" "chainlog-miner" "chainlog-auditor" "chainlog-reader" }}
      - key: {{ . }}
        path: {{ printf "scram/%s" . }}
      {{- end }}
{{- end -}}
