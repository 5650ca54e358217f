#!/usr/bin/env bash
# Installs every tool the test suite needs into ${CHAINLOG_CACHE:-$HOME/.cache/chainlog}
# (Debian packages first), printing each step's time. Each step is idempotent
# and fast when its cache is warm.
#   install-all.sh                 all steps: apt etcd kube-apiserver helm kubeconform
#   install-all.sh apt helm ...    only these steps (in the order given)
# Afterwards: export PATH="${CHAINLOG_CACHE:-$HOME/.cache/chainlog}/bin:$PATH"
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(apt etcd kube-apiserver helm kubeconform)
for s in "${steps[@]}"; do
  [ -f "$TOOLS_DIR/install-$s.sh" ] || die "unknown step '$s' (apt, etcd, kube-apiserver, helm, kubeconform)"
done

log "cache: $CHAINLOG_CACHE; steps: ${steps[*]}"
total=$(now)
summary=()
for s in "${steps[@]}"; do
  t=$(now); cpu_children; c=$CPU_CHILDREN
  if ! bash "$TOOLS_DIR/install-$s.sh"; then
    die "step '$s' failed after $(elapsed "$t") (scripts/tools/install-$s.sh; see the error above)"
  fi
  cpu_children
  summary+=("$s $(elapsed "$t") (cpu $(( CPU_CHILDREN - c ))s)")
done
log "done in $(elapsed "$total"): $(printf '%s, ' "${summary[@]}" | sed 's/, $//')"
