{{/* vim: set filetype=mustache: */}}

{{/* The chart name, shortened to fit a DNS label. */}}
{{- define "chainlog.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The full name prefix of every resource: <release>-<chart>, or <release> when it already contains the chart
name. Truncated to 45 characters so that suffixes (-operator, -miner-123, -provision-topics) stay within DNS limits.
*/}}
{{- define "chainlog.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 45 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 45 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 45 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* helm.sh/chart label value. */}}
{{- define "chainlog.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The name of one component's resources: chainlog.componentName (dict "root" $ "component" "miner"). */}}
{{- define "chainlog.componentName" -}}
{{- printf "%s-%s" (include "chainlog.fullname" .root) .component -}}
{{- end -}}

{{/* Selector labels of a component (immutable: never add to them). */}}
{{- define "chainlog.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chainlog.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Standard labels of a component's resources. */}}
{{- define "chainlog.labels" -}}
helm.sh/chart: {{ include "chainlog.chart" .root }}
{{ include "chainlog.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Values.image.tag | default .root.Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: chainlog
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Common metadata annotations (renders "annotations:" only when there are any). */}}
{{- define "chainlog.annotations" -}}
{{- $annotations := merge (dict) (.extra | default dict) .root.Values.commonAnnotations -}}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The chainlog image reference. */}}
{{- define "chainlog.image" -}}
{{- $repository := .Values.image.repository -}}
{{- if .Values.image.registry -}}
{{- $repository = printf "%s/%s" .Values.image.registry .Values.image.repository -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* The bundled Kafka image reference. */}}
{{- define "chainlog.kafka.image" -}}
{{- $image := .Values.kafka.bundled.image -}}
{{- if $image.registry -}}
{{- printf "%s/%s:%s" $image.registry $image.repository $image.tag -}}
{{- else -}}
{{- printf "%s:%s" $image.repository $image.tag -}}
{{- end -}}
{{- end -}}

{{- define "chainlog.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The ServiceAccount of ingest, miners and auditor. */}}
{{- define "chainlog.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "chainlog.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The operator's ServiceAccount. */}}
{{- define "chainlog.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (include "chainlog.componentName" (dict "root" . "component" "operator")) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- required "operator.serviceAccount.name is required when operator.serviceAccount.create is false" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Replicas of the miner StatefulSet: miner.replicas, else one miner per transactions partition. */}}
{{/*
Miner replicas. miner.replicas null means one miner per transactions partition: the larger of the chart's
partition count and the count the operator observed on the topic (the StatefulSet's
chainlog.dev/observed-partitions annotation), so that an upgrade keeps up with partitions the operator
grew instead of shrinking the miners back to a stale value. `lookup` is empty under `helm template`.
*/}}
{{- define "chainlog.miner.replicas" -}}
{{- if kindIs "invalid" .Values.miner.replicas -}}
{{- $live := lookup "apps/v1" "StatefulSet" .Release.Namespace (include "chainlog.componentName" (dict "root" . "component" "miner")) -}}
{{- $observed := dig "metadata" "annotations" "chainlog.dev/observed-partitions" "0" $live | int -}}
{{- max (.Values.topics.transactions.partitions | int) $observed -}}
{{- else -}}
{{- .Values.miner.replicas | int -}}
{{- end -}}
{{- end -}}

{{/* Fixed container ports: the services' default HTTP_PORT values. */}}
{{- define "chainlog.port" -}}
{{- get (dict "ingest" 8080 "miner" 8081 "auditor" 8082 "operator" 8083) . -}}
{{- end -}}

{{/* Kafka bootstrap servers: the bundled broker's Service when enabled, else kafka.bootstrapServers. */}}
{{- define "chainlog.kafka.bootstrapServers" -}}
{{- if .Values.kafka.bundled.enabled -}}
{{- printf "%s.%s.svc:%d" (include "chainlog.componentName" (dict "root" . "component" "kafka")) .Release.Namespace (.Values.kafka.bundled.port | int) -}}
{{- else -}}
{{- required "kafka.bootstrapServers is required (or set kafka.bundled.enabled=true to try Chainlog with a bundled Kafka)" .Values.kafka.bootstrapServers | nospace -}}
{{- end -}}
{{- end -}}

{{/* Render-time checks of combinations the schema cannot express. Included by every workload. */}}
{{- define "chainlog.validate" -}}
{{- $sasl := .Values.kafka.sasl -}}
{{- if $sasl.enabled -}}
{{- if not $sasl.existingSecret -}}
{{- fail "kafka.sasl.enabled requires kafka.sasl.existingSecret (a Secret holding the password)" -}}
{{- end -}}
{{- if and (not $sasl.username) (not $sasl.usernameKey) -}}
{{- fail "kafka.sasl.enabled requires kafka.sasl.username or kafka.sasl.usernameKey" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.consensus.allowedMinerKeys (not .Values.miner.signingKeys.existingSecret) -}}
{{- fail "consensus.allowedMinerKeys lists the miners' public keys: set miner.signingKeys.existingSecret (their private keys), or leave both empty and the chart generates the keys" -}}
{{- end -}}
{{- if and .Values.consensus.allowedMinerKeys (not .Values.consensus.permissioned) -}}
{{- fail "consensus.allowedMinerKeys is set but consensus.permissioned is false: an open chain has no allow-list (remove the keys, or set permissioned: true)" -}}
{{- end -}}
{{- if and .Values.consensus.enforceBalances (not .Values.consensus.permissioned) -}}
{{- fail "consensus.enforceBalances needs consensus.permissioned=true: the ledger rules bind accounts to keys on a permissioned chain" -}}
{{- end -}}
{{- if and (or .Values.consensus.accountKeys .Values.consensus.genesisAllocations) (not .Values.consensus.enforceBalances) -}}
{{- fail "consensus.accountKeys and consensus.genesisAllocations need consensus.enforceBalances=true" -}}
{{- end -}}
{{- $auth := list (list "ingest" .Values.ingest.auth) (list "auditor" .Values.auditor.auth) -}}
{{- range $auth -}}
{{- if and (index . 1).enabled (not (index . 1).existingSecret) -}}
{{- fail (printf "%s.auth.enabled requires %s.auth.existingSecret (a Secret with the accepted bearer tokens)" (index . 0) (index . 0)) -}}
{{- end -}}
{{- end -}}
{{- $hpa := .Values.ingest.autoscaling -}}
{{- if and $hpa.enabled .Values.operator.enabled (eq .Values.operator.mode "ledgers") -}}
{{- fail "ingest.autoscaling.enabled needs operator.mode=statefulset: with operator.mode=ledgers the operator owns the ingest replicas (set ingest.replicas)" -}}
{{- end -}}
{{- if $hpa.enabled -}}
{{- if and (kindIs "invalid" $hpa.targetCPUUtilizationPercentage) (kindIs "invalid" $hpa.targetMemoryUtilizationPercentage) -}}
{{- fail "ingest.autoscaling.enabled needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage" -}}
{{- end -}}
{{- if gt ($hpa.minReplicas | int) ($hpa.maxReplicas | int) -}}
{{- fail (printf "ingest.autoscaling.minReplicas (%d) must not exceed maxReplicas (%d)" ($hpa.minReplicas | int) ($hpa.maxReplicas | int)) -}}
{{- end -}}
{{- end -}}
{{- $max := .Values.consensus.maxBlockTransactions -}}
{{- $cut := .Values.miner.config.cutAtPendingTransactions -}}
{{- if and (not (kindIs "invalid" $max)) (not (kindIs "invalid" $cut)) -}}
{{- if gt (add1 ($cut | int)) ($max | int) -}}
{{- fail (printf "miner.config.cutAtPendingTransactions (%d) plus the coinbase must fit consensus.maxBlockTransactions (%d)" ($cut | int) ($max | int)) -}}
{{- end -}}
{{- end -}}
{{- $take := .Values.miner.config.takeUpToTransactions -}}
{{- if not (kindIs "invalid" $take) -}}
{{- if and (not (kindIs "invalid" $cut)) (lt ($take | int) ($cut | int)) -}}
{{- fail (printf "miner.config.takeUpToTransactions (%d) must be at least miner.config.cutAtPendingTransactions (%d)" ($take | int) ($cut | int)) -}}
{{- end -}}
{{- if and (not (kindIs "invalid" $max)) (gt (add1 ($take | int)) ($max | int)) -}}
{{- fail (printf "miner.config.takeUpToTransactions (%d) plus the coinbase must fit consensus.maxBlockTransactions (%d)" ($take | int) ($max | int)) -}}
{{- end -}}
{{- end -}}
{{- $w := .Values.consensus.replayWindowMs -}}
{{- $ic := .Values.ingest.config -}}
{{- if and (kindIs "invalid" $w) (or (not (kindIs "invalid" $ic.timestampToleranceMs)) (not (kindIs "invalid" $ic.miningBacklogLimitMs))) -}}
{{- fail "ingest.config.timestampToleranceMs and miningBacklogLimitMs apply only with consensus.replayWindowMs" -}}
{{- end -}}
{{- end -}}

{{/*
Environment shared by every Chainlog container: Kafka connection, topics, log level.
Usage: include "chainlog.commonEnv" (dict "root" $ "component" "miner" "logLevel" .Values.miner.logLevel)
*/}}
{{- define "chainlog.commonEnv" -}}
{{- $root := .root -}}
{{- $kafka := $root.Values.kafka -}}
- name: KAFKA_BROKERS
  value: {{ include "chainlog.kafka.bootstrapServers" $root | quote }}
{{- if $kafka.clientIdPrefix }}
- name: KAFKA_CLIENT_ID
  value: {{ printf "%s-%s" $kafka.clientIdPrefix .component | quote }}
{{- end }}
{{- if not (kindIs "invalid" $kafka.connectionTimeoutMs) }}
- name: KAFKA_CONNECTION_TIMEOUT_MS
  value: {{ $kafka.connectionTimeoutMs | int | quote }}
{{- end }}
{{- if not (kindIs "invalid" $kafka.requestTimeoutMs) }}
- name: KAFKA_REQUEST_TIMEOUT_MS
  value: {{ $kafka.requestTimeoutMs | int | quote }}
{{- end }}
{{- if and $kafka.tls.enabled (not $kafka.bundled.enabled) }}
- name: KAFKA_SSL
  value: "true"
- name: KAFKA_SSL_REJECT_UNAUTHORIZED
  value: {{ $kafka.tls.rejectUnauthorized | quote }}
{{- if $kafka.tls.ca.existingSecret }}
- name: KAFKA_SSL_CA_FILE
  value: {{ printf "/etc/chainlog/kafka-tls/ca/%s" $kafka.tls.ca.key | quote }}
{{- end }}
{{- if $kafka.tls.clientCert.existingSecret }}
- name: KAFKA_SSL_CERT_FILE
  value: {{ printf "/etc/chainlog/kafka-tls/client/%s" $kafka.tls.clientCert.certKey | quote }}
- name: KAFKA_SSL_KEY_FILE
  value: {{ printf "/etc/chainlog/kafka-tls/client/%s" $kafka.tls.clientCert.keyKey | quote }}
{{- end }}
{{- end }}
{{- include "chainlog.kafkaSasl.componentEnv" . }}
{{- if and $kafka.sasl.enabled (not $kafka.bundled.enabled) }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $kafka.sasl.mechanism | quote }}
{{- if $kafka.sasl.mountAsFiles }}
{{- if $kafka.sasl.usernameKey }}
- name: KAFKA_SASL_USERNAME_FILE
  value: {{ printf "/etc/chainlog/kafka-sasl/%s" $kafka.sasl.usernameKey | quote }}
{{- else }}
- name: KAFKA_SASL_USERNAME
  value: {{ $kafka.sasl.username | quote }}
{{- end }}
- name: KAFKA_SASL_PASSWORD_FILE
  value: {{ printf "/etc/chainlog/kafka-sasl/%s" $kafka.sasl.passwordKey | quote }}
{{- else }}
{{- if $kafka.sasl.usernameKey }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $kafka.sasl.existingSecret | quote }}
      key: {{ $kafka.sasl.usernameKey | quote }}
{{- else }}
- name: KAFKA_SASL_USERNAME
  value: {{ $kafka.sasl.username | quote }}
{{- end }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $kafka.sasl.existingSecret | quote }}
      key: {{ $kafka.sasl.passwordKey | quote }}
{{- end }}
{{- end }}
- name: TOPIC_TRANSACTIONS
  value: {{ $root.Values.topics.transactions.name | quote }}
- name: TOPIC_BLOCKCHAIN
  value: {{ $root.Values.topics.blockchain.name | quote }}
- name: TOPIC_AUDIT
  value: {{ $root.Values.topics.audit.name | quote }}
- name: TOPIC_DEAD_LETTER
  value: {{ $root.Values.topics.deadLetter.name | quote }}
- name: LOG_LEVEL
  value: {{ .logLevel | default $root.Values.logLevel | quote }}
{{- end -}}

{{/*
The consensus parameters as a JSON list of env entries, rendered once for every reader of the chain (miners,
auditor; ingest takes the ones it applies at the door): nodes with different values compute different chains.
*/}}
{{- define "chainlog.consensusEntries" -}}
{{- $consensus := .Values.consensus -}}
{{- $entries := list (dict "name" "DIFFICULTY" "value" ($consensus.difficulty | int | toString)) (dict "name" "BLOCK_REWARD" "value" ($consensus.blockReward | int64 | toString)) -}}
{{- $keys := include "chainlog.minerKeys.source" . -}}
{{- if eq $keys "values" -}}
{{- $entries = append $entries (dict "name" "ALLOWED_MINER_KEYS" "value" (join "," $consensus.allowedMinerKeys)) -}}
{{- else if eq $keys "job" -}}
{{- /* The public keys the miner-keys hook Job derived from the miners' Secret. */ -}}
{{- $entries = append $entries (dict "name" "ALLOWED_MINER_KEYS" "valueFrom" (dict "configMapKeyRef" (dict "name" (include "chainlog.minerKeys.allowListName" .) "key" "allowed-miner-keys"))) -}}
{{- end -}}
{{- $entries = append $entries (dict "name" "REQUIRE_TRANSACTION_SIGNATURES" "value" ($consensus.requireTransactionSignatures | toString)) -}}
{{- if not (kindIs "invalid" $consensus.maxBlockTransactions) -}}
{{- $entries = append $entries (dict "name" "CONSENSUS_MAX_BLOCK_TRANSACTIONS" "value" ($consensus.maxBlockTransactions | int | toString)) -}}
{{- end -}}
{{- if not (kindIs "invalid" $consensus.replayWindowMs) -}}
{{- $entries = append $entries (dict "name" "REPLAY_WINDOW_MS" "value" ($consensus.replayWindowMs | int64 | toString)) -}}
{{- end -}}
{{- if $consensus.enforceBalances -}}
{{- $entries = append $entries (dict "name" "ENFORCE_BALANCES" "value" "true") -}}
{{- with include "chainlog.accountKeys" . -}}
{{- $entries = append $entries (dict "name" "ACCOUNT_KEYS" "value" .) -}}
{{- end -}}
{{- with include "chainlog.genesisAllocations" . -}}
{{- $entries = append $entries (dict "name" "GENESIS_ALLOCATIONS" "value" .) -}}
{{- end -}}
{{- end -}}
{{- toJson $entries -}}
{{- end -}}

{{/* consensus.accountKeys ({account: [key, ...]}) as ACCOUNT_KEYS: account=key,..., accounts and keys in order. */}}
{{- define "chainlog.accountKeys" -}}
{{- $pairs := list -}}
{{- range $account := keys .Values.consensus.accountKeys | sortAlpha -}}
{{- range $key := index $.Values.consensus.accountKeys $account -}}
{{- $pairs = append $pairs (printf "%s=%s" $account $key) -}}
{{- end -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{/* consensus.genesisAllocations ({account: amount}) as GENESIS_ALLOCATIONS: account=amount,..., in order. */}}
{{- define "chainlog.genesisAllocations" -}}
{{- $pairs := list -}}
{{- range $account := keys .Values.consensus.genesisAllocations | sortAlpha -}}
{{- $pairs = append $pairs (printf "%s=%s" $account (index $.Values.consensus.genesisAllocations $account | int64 | toString)) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{/* The consensus parameters: identical on miners and auditor. */}}
{{- define "chainlog.consensusEnv" -}}
{{- toYaml (include "chainlog.consensusEntries" . | fromJsonArray) -}}
{{- end -}}

{{/*
The consensus rules ingest applies at the door, from the same entries as the miners', so it never acknowledges a
transaction every block would refuse: signatures and the replay window's timestamp bound; with the ledger rules on,
every entry (ingest refuses a spend by a key not bound to its sender, which needs the bindings and the allow-list).
*/}}
{{- define "chainlog.admissionEnv" -}}
{{- $entries := list -}}
{{- range include "chainlog.consensusEntries" . | fromJsonArray -}}
{{- if or $.Values.consensus.enforceBalances (has .name (list "REQUIRE_TRANSACTION_SIGNATURES" "REPLAY_WINDOW_MS")) -}}
{{- $entries = append $entries . -}}
{{- end -}}
{{- end -}}
{{- toYaml $entries -}}
{{- end -}}

{{/*
Checkpoints (docs/protocol.md §5.1) of every chain reader that keeps state (miners, auditor): the topic always
(the provisioning creates it compacted), the tunables when set. Without a replay window they have no effect.
*/}}
{{- define "chainlog.checkpointEnv" -}}
{{- $c := .Values.checkpoints -}}
- name: TOPIC_CHECKPOINTS
  value: {{ .Values.topics.checkpoints.name | quote }}
{{- include "chainlog.optionalEnv" (list
      (dict "name" "CHECKPOINT_RESTORE" "value" $c.restore)
      (dict "name" "CHECKPOINT_EVERY_TRANSACTIONS" "value" $c.everyTransactions)
      (dict "name" "CHECKPOINT_EVERY_BLOCKS" "value" $c.everyBlocks)
      (dict "name" "CHECKPOINT_VERIFY" "value" $c.verify)
      (dict "name" "CHECKPOINT_VERIFY_WORKER" "value" $c.verifyWorker)) }}
{{- end -}}

{{/*
Renders NAME: value env entries for the values of a config map that are not null/empty.
Usage: include "chainlog.optionalEnv" (list (dict "name" "MAX_BATCH_SIZE" "value" .Values.ingest.config.maxBatchSize) ...)
*/}}
{{- define "chainlog.optionalEnv" -}}
{{- range . }}
{{- if not (or (kindIs "invalid" .value) (and (kindIs "string" .value) (eq .value ""))) }}
- name: {{ .name }}
  value: {{ if kindIs "float64" .value }}{{ .value | int64 | quote }}{{ else }}{{ .value | toString | quote }}{{ end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
NODE_OPTIONS of a chain reader (list value root): the value given, or for null a V8 heap cap when the chain has a
replay window (its memory is bounded by the window: without the cap V8 lets the heap grow to several times what
is live, docs/benchmarks.md) and nothing without one (every committed id stays in the heap: a cap would OOM). The
cap is on the old generation and the young one (2 MiB semi-spaces instead of up to 16): both flags apply to every
isolate of the process, the worker thread that reads the transactions topic too. Same as the operator's heapCapEnv.
*/}}
{{- define "chainlog.nodeOptions" -}}
{{- $value := index . 0 -}}
{{- $root := index . 1 -}}
{{- if kindIs "invalid" $value -}}
{{- if not (kindIs "invalid" $root.Values.consensus.replayWindowMs) -}}--max-old-space-size=128 --max-semi-space-size=2{{- end -}}
{{- else -}}
{{- $value -}}
{{- end -}}
{{- end -}}

{{/* Volumes for Kafka TLS/SASL secrets and /tmp. */}}
{{- define "chainlog.volumes" -}}
{{- $kafka := .Values.kafka -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if and $kafka.tls.enabled (not $kafka.bundled.enabled) }}
{{- if $kafka.tls.ca.existingSecret }}
- name: kafka-tls-ca
  secret:
    secretName: {{ $kafka.tls.ca.existingSecret | quote }}
    defaultMode: 0440
{{- end }}
{{- if $kafka.tls.clientCert.existingSecret }}
- name: kafka-tls-client
  secret:
    secretName: {{ $kafka.tls.clientCert.existingSecret | quote }}
    defaultMode: 0440
{{- end }}
{{- end }}
{{- if and $kafka.sasl.enabled $kafka.sasl.mountAsFiles (not $kafka.bundled.enabled) }}
- name: kafka-sasl
  secret:
    secretName: {{ $kafka.sasl.existingSecret | quote }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "chainlog.volumeMounts" -}}
{{- $kafka := .Values.kafka -}}
- name: tmp
  mountPath: /tmp
{{- if and $kafka.tls.enabled (not $kafka.bundled.enabled) }}
{{- if $kafka.tls.ca.existingSecret }}
- name: kafka-tls-ca
  mountPath: /etc/chainlog/kafka-tls/ca
  readOnly: true
{{- end }}
{{- if $kafka.tls.clientCert.existingSecret }}
- name: kafka-tls-client
  mountPath: /etc/chainlog/kafka-tls/client
  readOnly: true
{{- end }}
{{- end }}
{{- if and $kafka.sasl.enabled $kafka.sasl.mountAsFiles (not $kafka.bundled.enabled) }}
- name: kafka-sasl
  mountPath: /etc/chainlog/kafka-sasl
  readOnly: true
{{- end }}
{{- end -}}

{{/* startup (/healthz, where the component has one), liveness (/healthz) and readiness (/readyz) probes on the http port. Usage: include "chainlog.probes" .Values.ingest */}}
{{- define "chainlog.probes" -}}
{{- range $kind, $path := dict "startupProbe" "/healthz" "livenessProbe" "/healthz" "readinessProbe" "/readyz" }}
{{- $probe := dict }}
{{- if hasKey $ $kind }}{{ $probe = get $ $kind }}{{ end }}
{{- if $probe.enabled }}
{{ $kind }}:
  httpGet:
    path: {{ $path }}
    port: http
  {{- if hasKey $probe "initialDelaySeconds" }}
  initialDelaySeconds: {{ $probe.initialDelaySeconds }}
  {{- end }}
  periodSeconds: {{ $probe.periodSeconds }}
  timeoutSeconds: {{ $probe.timeoutSeconds }}
  failureThreshold: {{ $probe.failureThreshold }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Pod-level annotations: the component's, plus prometheus.io scrape hints when enabled. */}}
{{- define "chainlog.podAnnotations" -}}
{{- $annotations := merge (dict) (.values.podAnnotations | default dict) -}}
{{- if .root.Values.metrics.scrapeAnnotations -}}
{{- $_ := set $annotations "prometheus.io/scrape" "true" -}}
{{- $_ := set $annotations "prometheus.io/port" (include "chainlog.port" .component) -}}
{{- $_ := set $annotations "prometheus.io/path" "/metrics" -}}
{{- end -}}
{{- with .extra }}{{ $_ := merge $annotations . }}{{ end -}}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Scheduling: priority class, node selector, tolerations, affinity, topology spread. Usage: dict root values component */}}
{{- define "chainlog.scheduling" -}}
{{- $values := .values -}}
{{- with $values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml $values.topologySpreadConstraints | nindent 2 }}
{{- else if and .root.Values.topologySpread.enabled (not .noSpread) }}
topologySpreadConstraints:
  - maxSkew: {{ .root.Values.topologySpread.maxSkew }}
    topologyKey: {{ .root.Values.topologySpread.topologyKey | quote }}
    whenUnsatisfiable: {{ .root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "chainlog.selectorLabels" . | nindent 8 }}
{{- end }}
{{- end -}}

{{/* PodDisruptionBudget spec body. Usage: dict root values component */}}
{{- define "chainlog.pdb" -}}
{{- $pdb := .values.pdb -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "chainlog.componentName" . }}
  namespace: {{ .root.Release.Namespace | quote }}
  labels:
    {{- include "chainlog.labels" . | nindent 4 }}
  {{- with include "chainlog.annotations" (dict "root" .root) }}{{ . | trim | nindent 2 }}{{- end }}
spec:
  {{- if not (kindIs "invalid" $pdb.minAvailable) }}
  minAvailable: {{ $pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "chainlog.selectorLabels" . | nindent 6 }}
{{- end -}}

{{/* An Ingress to a component's Service. Usage: dict root values component */}}
{{- define "chainlog.ingress" -}}
{{- $ingress := .values.ingress -}}
{{- $serviceName := include "chainlog.componentName" . -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $serviceName }}
  namespace: {{ .root.Release.Namespace | quote }}
  labels:
    {{- include "chainlog.labels" . | nindent 4 }}
  {{- with include "chainlog.annotations" (dict "root" .root "extra" $ingress.annotations) }}{{ . | trim | nindent 2 }}{{- end }}
spec:
  {{- with $ingress.className }}
  ingressClassName: {{ . | quote }}
  {{- end }}
  {{- with $ingress.tls }}
  tls:
    {{- range . }}
    - hosts:
        {{- range .hosts }}
        - {{ . | quote }}
        {{- end }}
      {{- with .secretName }}
      secretName: {{ . | quote }}
      {{- end }}
    {{- end }}
  {{- end }}
  rules:
    {{- if not $ingress.hosts }}
    - http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ $serviceName }}
                port:
                  name: http
    {{- end }}
    {{- range $ingress.hosts }}
    - {{- with .host }}
      host: {{ . | quote }}
      {{- end }}
      http:
        paths:
          {{- range (.paths | default (list (dict "path" "/" "pathType" "Prefix"))) }}
          - path: {{ .path | quote }}
            pathType: {{ .pathType | default "Prefix" }}
            backend:
              service:
                name: {{ $serviceName }}
                port:
                  name: http
          {{- end }}
    {{- end }}
{{- end -}}

{{/*
The pod template of a Chainlog service.
Usage: include "chainlog.podTemplate" (dict "root" $ "component" "ingest" "values" .Values.ingest
         "env" (include "..." .) "volumes" "" "volumeMounts" "" "serviceAccountName" "..." "automountToken" false)
*/}}
{{- define "chainlog.podTemplate" -}}
{{- $root := .root -}}
{{- $values := .values -}}
metadata:
  labels:
    {{- include "chainlog.labels" . | nindent 4 }}
    {{- with $values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with include "chainlog.podAnnotations" . }}{{ . | trim | nindent 2 }}{{- end }}
spec:
  serviceAccountName: {{ .serviceAccountName | quote }}
  automountServiceAccountToken: {{ .automountToken }}
  # No Docker-link variables: a Service named "kafka" would otherwise inject KAFKA_PORT & co.
  enableServiceLinks: false
  {{- with include "chainlog.imagePullSecrets" $root }}{{ . | trim | nindent 2 }}{{- end }}
  securityContext:
    {{- toYaml (.podSecurityContext | default $root.Values.podSecurityContext) | nindent 4 }}
  terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
  {{- with include "chainlog.scheduling" . }}{{ . | trim | nindent 2 }}{{- end }}
  {{- with .initContainers }}
  initContainers:
    {{- . | trim | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .component }}
      image: {{ include "chainlog.image" $root | quote }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      workingDir: /app
      command:
        - node
        - {{ printf "services/%s/dist/main.js" .component }}
      ports:
        - name: http
          containerPort: {{ include "chainlog.port" .component }}
          protocol: TCP
      env:
        - name: HTTP_PORT
          value: {{ include "chainlog.port" .component | quote }}
        {{- include "chainlog.commonEnv" (dict "root" $root "component" .component "logLevel" $values.logLevel) | nindent 8 }}
        {{- with .env }}{{ . | trim | nindent 8 }}{{- end }}
        {{- with $values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with include "chainlog.probes" $values }}{{ . | trim | nindent 6 }}{{- end }}
      resources:
        {{- toYaml $values.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.containerSecurityContext | nindent 8 }}
      volumeMounts:
        {{- include "chainlog.volumeMounts" $root | nindent 8 }}
        {{- with .volumeMounts }}{{ . | trim | nindent 8 }}{{- end }}
        {{- with $values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    {{- include "chainlog.volumes" $root | nindent 4 }}
    {{- with .volumes }}{{ . | trim | nindent 4 }}{{- end }}
    {{- with $values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* A ClusterIP/NodePort/LoadBalancer or headless Service of a component. Usage: dict root component values [headless name] */}}
{{- define "chainlog.service" -}}
{{- $service := .values.service -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .name | default (include "chainlog.componentName" .) }}
  namespace: {{ .root.Release.Namespace | quote }}
  labels:
    {{- include "chainlog.labels" . | nindent 4 }}
  {{- with include "chainlog.annotations" (dict "root" .root "extra" $service.annotations) }}{{ . | trim | nindent 2 }}{{- end }}
spec:
  {{- if .headless }}
  type: ClusterIP
  clusterIP: None
  publishNotReadyAddresses: true
  {{- else }}
  type: {{ $service.type | default "ClusterIP" }}
  {{- end }}
  selector:
    {{- include "chainlog.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ $service.port }}
      targetPort: http
      protocol: TCP
      {{- if and (has ($service.type | default "ClusterIP") (list "NodePort" "LoadBalancer")) (not (kindIs "invalid" $service.nodePort)) }}
      nodePort: {{ $service.nodePort }}
      {{- end }}
{{- end -}}

{{/* A component's scheduling values as Ledger spec fields. Usage: include "chainlog.ledgerScheduling" .Values.miner */}}
{{- define "chainlog.ledgerScheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- end -}}

{{/*
Selector labels of a component's pods, whoever renders them: with operator.mode=ledgers the operator renders the
workloads with its own labels (chainlog.dev/ledger: the Ledger, named like the release's resources), the chart
renders only the operator. NetworkPolicies select pods with these.
*/}}
{{- define "chainlog.podSelectorLabels" -}}
{{- if and (include "chainlog.ledgerMode" .root) (has .component (list "ingest" "miner" "auditor" "kafka")) -}}
chainlog.dev/ledger: {{ include "chainlog.fullname" .root }}
app.kubernetes.io/component: {{ .component }}
{{- else -}}
{{ include "chainlog.selectorLabels" . }}
{{- end -}}
{{- end -}}

{{/* True (non-empty) when the operator keeps a Ledger and the chart renders no workloads of its own. */}}
{{- define "chainlog.ledgerMode" -}}
{{- if and .Values.operator.enabled (eq .Values.operator.mode "ledgers") }}true{{ end -}}
{{- end -}}


{{/*
Where the allow-list comes from: "values" (consensus.allowedMinerKeys, with miner.signingKeys.existingSecret),
"job" (the miner-keys hook Job generates or reads the keys and publishes their public keys in a ConfigMap), or
"open" (consensus.permissioned=false: the article's open mode, unsigned blocks from anyone who can write).
*/}}
{{- define "chainlog.minerKeys.source" -}}
{{- if not .Values.consensus.permissioned -}}open
{{- else if .Values.consensus.allowedMinerKeys -}}values
{{- else -}}job
{{- end -}}
{{- end -}}

{{/* The Secret with the miners' private keys (empty in open mode). */}}
{{- define "chainlog.minerKeys.secretName" -}}
{{- if .Values.consensus.permissioned -}}
{{- .Values.miner.signingKeys.existingSecret | default (include "chainlog.componentName" (dict "root" . "component" "miner-keys")) -}}
{{- end -}}
{{- end -}}

{{/* The ConfigMap with the allow-list the miner-keys Job writes. */}}
{{- define "chainlog.minerKeys.allowListName" -}}
{{- include "chainlog.componentName" (dict "root" . "component" "allowed-miner-keys") -}}
{{- end -}}

{{/*
How many per-miner keys the Job ensures: every miner the StatefulSet can grow to. With the operator that is its
partition ceiling (it scales miners up without a Helm upgrade, and a new miner must find its key and every
auditor must already allow it); without, the miner count.
*/}}
{{- define "chainlog.minerKeys.count" -}}
{{- $miners := include "chainlog.miner.replicas" . | int -}}
{{- if .Values.operator.enabled -}}
{{- max $miners (.Values.operator.config.maxPartitions | default 64 | int) -}}
{{- else -}}
{{- $miners -}}
{{- end -}}
{{- end -}}

{{/*
Bearer-token authentication of a service's API (AUTH_TOKENS_FILE from a Secret). Usage: include "chainlog.auth.env" .Values.ingest.auth
*/}}
{{- define "chainlog.auth.env" -}}
{{- if .enabled }}
- name: AUTH_TOKENS_FILE
  value: {{ printf "/etc/chainlog/auth/%s" .key | quote }}
{{- end }}
{{- end -}}

{{- define "chainlog.auth.volume" -}}
{{- if .enabled }}
- name: auth-tokens
  secret:
    secretName: {{ .existingSecret | quote }}
    defaultMode: 0440
    items:
      - key: {{ .key | quote }}
        path: {{ .key | quote }}
{{- end }}
{{- end -}}

{{- define "chainlog.auth.mount" -}}
{{- if .enabled }}
- name: auth-tokens
  mountPath: /etc/chainlog/auth
  readOnly: true
{{- end }}
{{- end -}}

{{/*
Pods of one component of any Ledger in the namespace (a LabelSelector body): the operator serves every Ledger there,
the chart's and those applied with kubectl.
*/}}
{{- define "chainlog.anyLedgerPods" -}}
matchLabels:
  app.kubernetes.io/component: {{ . }}
matchExpressions:
  - key: chainlog.dev/ledger
    operator: Exists
{{- end -}}

{{/*
The auditor's data directory (DATA_DIR): its transaction index, on the StatefulSet's PersistentVolumeClaim
(auditor.persistence.enabled) or on an emptyDir (rebuilt from the chain on every start).
*/}}
{{- define "chainlog.auditor.dataDir" -}}/var/lib/chainlog/auditor{{- end -}}

{{- define "chainlog.auditor.dataEnv" -}}
- name: DATA_DIR
  value: {{ include "chainlog.auditor.dataDir" . | quote }}
{{- /* glibc keeps a malloc arena per thread (LevelDB's compaction thread, libuv's pool) and what is freed stays in it:
two arenas cut the back-fill's anonymous memory by ~40 MiB (docs/benchmarks.md, session 8). The operator sets the same. */}}
- name: MALLOC_ARENA_MAX
  value: "2"
{{- /* A fixed mmap threshold (which also stops glibc from raising it, and the trim threshold, as large chunks are freed):
allocations from 128 KiB up (a block's bytes in LevelDB's write batches and memtables, fetch buffers) are mapped and
returned to the OS when freed instead of fragmenting the arenas: the 1M back-fill's peak 230 -> 214 MiB and its RSS
at the end 213 -> 184 MiB in one comparison (docs/benchmarks.md, session 9). The operator sets the same. */}}
- name: MALLOC_MMAP_THRESHOLD_
  value: "131072"
{{- end -}}

{{- define "chainlog.auditor.dataMount" -}}
- name: data
  mountPath: {{ include "chainlog.auditor.dataDir" . | quote }}
{{- end -}}

{{- define "chainlog.auditor.dataVolume" -}}
{{- if not .Values.auditor.persistence.enabled -}}
- name: data
  emptyDir:
    {{- with .Values.auditor.persistence.emptyDirSizeLimit }}
    sizeLimit: {{ . | quote }}
    {{- else }}
    {}
    {{- end }}
{{- end -}}
{{- end -}}
