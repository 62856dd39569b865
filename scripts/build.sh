#!/usr/bin/env bash
# Bundles the action's two entry points and the qdc command line with ncc into $1 (default dist/),
# unminified, so that a stack trace from a user's run points at a line one can read.
# ESM out, so dist/ carries its own package.json saying so.
set -euo pipefail
out="${1:-dist}"
rm -rf "$out/main" "$out/post" "$out/cli"
for entry in main post; do
  npx ncc build "src/$entry.ts" -o "$out/$entry" --target es2022 --quiet
done
npx ncc build src/cli/main.ts -o "$out/cli" --target es2022 --quiet
# package.json "bin" points here: an executable script.
if ! head -c2 "$out/cli/index.js" | grep -q '#!'; then
  printf '#!/usr/bin/env node\n' | cat - "$out/cli/index.js" > "$out/cli/index.js.tmp"
  mv "$out/cli/index.js.tmp" "$out/cli/index.js"
fi
chmod +x "$out/cli/index.js"
printf '{\n  "type": "module"\n}\n' > "$out/package.json"
