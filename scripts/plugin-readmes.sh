#!/usr/bin/env bash
# Rewrites the generated manifest block of every plugin README from the built plugins' manifests
# (`synchost plugins inspect NAME --markdown`). Prints the READMEs it changed on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build >&2
bin=$(swift build --show-bin-path)
for dir in Plugins/*/; do
  name=$(basename "$dir" | tr '[:upper:]' '[:lower:]')
  readme="$dir/README.md"
  block=$("$bin/synchost" plugins inspect "$name" --markdown --plugins "$bin")
  BLOCK="$block" python3 - "$readme" <<'PY'
import os, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
begin, end = "<!-- manifest: generated", "<!-- /manifest -->"
if begin not in text:
    sys.exit(f"{path}: no generated manifest block (add the two markers where the tables belong)")
i = text.index(begin)
j = text.index(end, i) + len(end)
new = text[:i] + os.environ["BLOCK"] + text[j:]
if new != text:
    open(path, "w", encoding="utf-8").write(new)
    print(path)
PY
done
