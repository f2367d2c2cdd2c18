#!/usr/bin/env bash
# Refreshes the front-end assets in static/vendor/ from the npm registry.
# Run by a developer when bumping a version; the result is committed, so
# neither `make run` nor production needs Node or a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
BOOTSTRAP=5.3.9
BOOTSTRAP_ICONS=1.13.2
CHARTJS=4.6.1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm init -y >/dev/null && npm install --no-audit --no-fund \
  "bootstrap@$BOOTSTRAP" "bootstrap-icons@$BOOTSTRAP_ICONS" "chart.js@$CHARTJS" >/dev/null)
dest=static/vendor
rm -rf "$dest" && mkdir -p "$dest/bootstrap" "$dest/bootstrap-icons/fonts" "$dest/chartjs"
cp "$tmp/node_modules/bootstrap/dist/css/bootstrap.min.css" "$dest/bootstrap/"
cp "$tmp/node_modules/bootstrap/dist/js/bootstrap.bundle.min.js" "$dest/bootstrap/"
cp "$tmp/node_modules/bootstrap/LICENSE" "$dest/bootstrap/LICENSE"
cp "$tmp/node_modules/bootstrap-icons/font/bootstrap-icons.min.css" "$dest/bootstrap-icons/"
cp "$tmp/node_modules/bootstrap-icons/font/fonts/bootstrap-icons.woff2" "$dest/bootstrap-icons/fonts/"
cp "$tmp/node_modules/bootstrap-icons/LICENSE" "$dest/bootstrap-icons/LICENSE"
cp "$tmp/node_modules/chart.js/dist/chart.umd.min.js" "$dest/chartjs/" 2>/dev/null \
  || cp "$tmp/node_modules/chart.js/dist/chart.umd.js" "$dest/chartjs/chart.umd.min.js"
cp "$tmp/node_modules/chart.js/LICENSE.md" "$dest/chartjs/LICENSE.md"
# The icon font CSS also names a .woff fallback; modern browsers take woff2.
python3 - "$dest/bootstrap-icons/bootstrap-icons.min.css" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(re.sub(r',url\("fonts/bootstrap-icons\.woff\?[^"]*"\) format\("woff"\)', "", s))
PY
# Source maps are not shipped: drop the comments naming them, or collectstatic's
# manifest storage fails on the missing .map files.
python3 - "$dest/chartjs/chart.umd.min.js" "$dest/bootstrap/bootstrap.bundle.min.js" \
  "$dest/bootstrap/bootstrap.min.css" <<'PY'
import re, sys
for p in sys.argv[1:]:
    s = open(p).read()
    open(p, "w").write(re.sub(r"\n?/[/*]# sourceMappingURL=[^\n]*?(\*/)?\s*$", "\n", s))
PY
echo "vendored bootstrap $BOOTSTRAP, bootstrap-icons $BOOTSTRAP_ICONS, chart.js $CHARTJS"
