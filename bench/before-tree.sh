#!/usr/bin/env bash
# Builds the "before" side of a --before benchmark (bench/e2e.ts, bench/replay.ts): a checkout of <commit> in
# <dir> whose node_modules link to this tree's packages, except @chainlog/*, which link to <dir>/services/*,
# and this tree's bench/ (and scripts/lib/) copied in (the scripts run from the before-side's cwd and must speak today's flags).
#   bash bench/before-tree.sh <commit> <dir>
set -euo pipefail
commit=${1:?usage: bench/before-tree.sh <commit> <dir>}
dir=${2:?usage: bench/before-tree.sh <commit> <dir>}
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$dir"
mkdir -p "$dir/node_modules/@chainlog"
git -C "$here" archive "$commit" | tar -x -C "$dir"
for entry in "$here"/node_modules/* "$here"/node_modules/.bin; do
  name=$(basename "$entry")
  [ "$name" = "@chainlog" ] || ln -s "$entry" "$dir/node_modules/$name"
done
for service in "$dir"/services/*/; do
  ln -s "${service%/}" "$dir/node_modules/@chainlog/$(basename "$service")"
done
# A checkout from before core's named entry points (#18) exports only "."; today's bench imports
# @chainlog/core/<entry>: each entry it lacks is mapped to its root entry, which exported everything.
node -e '
  const fs = require("fs");
  const file = process.argv[1] + "/services/core/package.json";
  const today = require(process.argv[2] + "/services/core/package.json").exports;
  const old = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const entry of Object.keys(today)) old.exports[entry] ??= old.exports["."];
  fs.writeFileSync(file, JSON.stringify(old, null, 2) + "\n");
' "$dir" "$here"
rm -rf "$dir/bench"
cp -r "$here/bench" "$dir/bench"
# and the scripts' helpers it imports (the broker, free ports): nothing of the services uses them.
cp -r "$here/scripts/lib/." "$dir/scripts/lib/"
echo "$dir: $(git -C "$here" rev-parse --short "$commit") with this tree's bench/"
