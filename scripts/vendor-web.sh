#!/usr/bin/env bash
# Re-vendor the web UI's third-party front-end files from the npm registry.
#
#   scripts/vendor-web.sh [ECHARTS_VERSION] [HTMX_VERSION]
#   ECHARTS_VERSION=5.6.0 HTMX_VERSION=2.0.11 scripts/vendor-web.sh
#
# Downloads the package tarballs with `npm pack`, checks each tarball against
# the registry's `dist.integrity`, copies the browser builds and licence files
# into src/cxvalue/interfaces/web/static/vendor/ and rewrites VERSIONS.md.
# Needs: bash, npm (and node, which npm brings), tar.  No CDN is used at run time.
set -euo pipefail

ECHARTS_VERSION="${1:-${ECHARTS_VERSION:-5.6.0}}"
HTMX_VERSION="${2:-${HTMX_VERSION:-2.0.11}}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/src/cxvalue/interfaces/web/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# fetch PKG VERSION -> unpacks into $WORK/PKG/package, prints the integrity
fetch() {
    local pkg="$1" ver="$2" dir="$WORK/$1" tgz expected actual
    mkdir -p "$dir"
    tgz="$(cd "$dir" && npm pack --silent "$pkg@$ver" | tail -n 1)"
    expected="$(npm view "$pkg@$ver" dist.integrity)"
    actual="sha512-$(node -e 'const c=require("crypto"),f=require("fs");
        process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$dir/$tgz")"
    if [[ "$expected" != "$actual" ]]; then
        echo "integrity mismatch for $pkg@$ver: registry $expected, tarball $actual" >&2
        exit 1
    fi
    tar xzf "$dir/$tgz" -C "$dir"
    printf '%s' "$actual"
}

need() { [[ -f "$1" ]] || { echo "missing in package: $1" >&2; exit 1; }; }

echo "echarts $ECHARTS_VERSION, htmx.org $HTMX_VERSION" >&2
ECHARTS_SHA="$(fetch echarts "$ECHARTS_VERSION")"
HTMX_SHA="$(fetch htmx.org "$HTMX_VERSION")"
E="$WORK/echarts/package"
H="$WORK/htmx.org/package"

# echarts.min.js bundles zrender (BSD-3-Clause); ship its licence as well.
ZRENDER_VERSION="$(node -p 'require(process.argv[1]).dependencies.zrender' "$E/package.json")"
ZRENDER_VERSION="${ZRENDER_VERSION#^}"; ZRENDER_VERSION="${ZRENDER_VERSION#~}"
ZRENDER_SHA="$(fetch zrender "$ZRENDER_VERSION")"
Z="$WORK/zrender/package"

# The i18n/langXX.js files are the UMD builds that call echarts.registerLocale;
# i18n/langXX-obj.js are bare objects and are not what we want.
for f in dist/echarts.min.js i18n/langZH.js i18n/langEN.js LICENSE; do need "$E/$f"; done
grep -q "registerLocale('ZH'" "$E/i18n/langZH.js" || { echo "langZH.js is not the UMD build" >&2; exit 1; }
grep -q "registerLocale('EN'" "$E/i18n/langEN.js" || { echo "langEN.js is not the UMD build" >&2; exit 1; }
for f in dist/htmx.min.js LICENSE; do need "$H/$f"; done
need "$Z/LICENSE"

rm -rf "$VENDOR/echarts" "$VENDOR/htmx"
mkdir -p "$VENDOR/echarts" "$VENDOR/htmx"
cp "$E/dist/echarts.min.js" "$E/i18n/langZH.js" "$E/i18n/langEN.js" "$E/LICENSE" "$VENDOR/echarts/"
ECHARTS_FILES="dist/echarts.min.js, i18n/langZH.js, i18n/langEN.js, LICENSE"
if [[ -f "$E/NOTICE" ]]; then cp "$E/NOTICE" "$VENDOR/echarts/"; ECHARTS_FILES="$ECHARTS_FILES, NOTICE"; fi
if [[ -f "$E/licenses/LICENSE-d3" ]]; then
    cp "$E/licenses/LICENSE-d3" "$VENDOR/echarts/LICENSE-d3"; ECHARTS_FILES="$ECHARTS_FILES, licenses/LICENSE-d3"
fi
cp "$Z/LICENSE" "$VENDOR/echarts/LICENSE-zrender"
cp "$H/dist/htmx.min.js" "$H/LICENSE" "$VENDOR/htmx/"

ECHARTS_LICENSE="$(node -p 'require(process.argv[1]).license' "$E/package.json")"
HTMX_LICENSE="$(node -p 'require(process.argv[1]).license' "$H/package.json")"
ZRENDER_LICENSE="$(node -p 'require(process.argv[1]).license' "$Z/package.json")"

cat > "$VENDOR/VERSIONS.md" <<MD
# Vendored front-end files

Served as-is from \`/static/vendor/\`; no CDN, no build step. Regenerate with
\`scripts/vendor-web.sh [ECHARTS_VERSION] [HTMX_VERSION]\`, which downloads the
tarballs with \`npm pack\`, checks them against the registry's \`dist.integrity\`
and rewrites this file.

| package | version | npm tarball integrity | files taken | licence |
| --- | --- | --- | --- | --- |
| echarts | $ECHARTS_VERSION | \`$ECHARTS_SHA\` | $ECHARTS_FILES → \`echarts/\` (flat) | $ECHARTS_LICENSE |
| zrender | $ZRENDER_VERSION | \`$ZRENDER_SHA\` | LICENSE → \`echarts/LICENSE-zrender\` (zrender is bundled inside echarts.min.js) | $ZRENDER_LICENSE |
| htmx.org | $HTMX_VERSION | \`$HTMX_SHA\` | dist/htmx.min.js, LICENSE → \`htmx/\` | $HTMX_LICENSE |

Notes:

- \`echarts/langZH.js\` and \`echarts/langEN.js\` are the UMD builds from the
  package's \`i18n/\` folder; loaded after \`echarts.min.js\` they call
  \`echarts.registerLocale('ZH'|'EN', …)\`.
- \`echarts.min.js\` also carries tslib's helpers; their 0BSD notice is kept
  inside the file itself.
MD

ls -l "$VENDOR/echarts" "$VENDOR/htmx" >&2
echo "wrote $VENDOR/VERSIONS.md" >&2
