{{/*
Each miner's container sees only its own private key. One pod template serves every ordinal and a Secret volume
cannot pick a key per ordinal, so with per-miner keys the Secret is mounted into an init step only, which copies
miner-<ordinal>.key into an in-memory emptyDir and exits; the miner container mounts that, never the Secret. The
operator renders the same (services/operator/src/ledger/render.ts, minerKeyFiles; the chart test compares them).
The kubelet still delivers the whole Secret to each miner pod's volume: a miner process cannot read another
miner's key, a compromised node can.
*/}}

{{/* Usage: include "chainlog.minerKey.volumes" (dict "root" $ "secret" "<name>") */}}
{{- define "chainlog.minerKey.volumes" -}}
{{- $keys := .root.Values.miner.signingKeys -}}
{{- if $keys.perMiner -}}
- name: miner-keys-all
  secret:
    secretName: {{ .secret | quote }}
    defaultMode: 0440
- name: miner-key
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
{{- else -}}
- name: miner-key
  secret:
    secretName: {{ .secret | quote }}
    defaultMode: 0440
    items:
      - key: {{ $keys.key | quote }}
        path: miner.key
{{- end -}}
{{- end -}}

{{- define "chainlog.minerKey.initContainer" -}}
- name: miner-key
  image: {{ include "chainlog.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command:
    - sh
    - -c
    - |-
      set -eu
      umask 077
      src="/etc/chainlog/miner-keys/miner-${POD_INDEX}.key"
      [ -s "$src" ] || { echo "the miner keys Secret has no key miner-${POD_INDEX}.key: add one (chainlog key new) before scaling to this miner" >&2; exit 1; }
      cp "$src" /etc/chainlog/miner-key/miner.key
  env:
    - name: POD_INDEX
      valueFrom:
        fieldRef:
          fieldPath: metadata.labels['apps.kubernetes.io/pod-index']
  resources:
    requests:
      cpu: 10m
      memory: 16Mi
    limits:
      memory: 64Mi
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  volumeMounts:
    - name: miner-keys-all
      mountPath: /etc/chainlog/miner-keys
      readOnly: true
    - name: miner-key
      mountPath: /etc/chainlog/miner-key
{{- end -}}
