#!/usr/bin/env bash
# Prepares the release build tree for `make release`.
# Usage: scripts/release-tree.sh TREE STATIC_CXX_DIR FLAGS
#
# - SwiftPM does not reliably recompile when only -Xswiftc flags change, and objects built without
#   -function-sections defeat the code layout: a tree built with other flags is removed.
# - SwiftPM does not know the link reads scripts/layout/*: binaries older than them are removed,
#   so they are linked again.
# - The Swift runtime's link arguments ask for -lstdc++; STATIC_CXX_DIR, first in the library
#   search path, holds only the static archive, so that is what the linker takes.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$1
static_cxx=$2
flags=$3
stamp=$tree/layout-flags
if [[ -d $tree && "$(cat "$stamp" 2>/dev/null)" != "$flags" ]]; then
    echo "release: build flags changed, rebuilding $tree from scratch"
    rm -rf "$tree"
fi
mkdir -p "$tree"
printf '%s' "$flags" >"$stamp"
for binary in "$tree"/release/smegd "$tree"/release/smegctl; do
    for input in scripts/layout/smegd.order scripts/layout/private-text.ld; do
        if [[ -e $binary && $input -nt $binary ]]; then rm -f "$binary"; fi
    done
done
archive=$(g++ -print-file-name=libstdc++.a)
if [[ ! -f $archive ]]; then
    echo "make release: no libstdc++.a found; install libstdc++-12-dev (make deps does)" >&2
    exit 1
fi
mkdir -p "$static_cxx"
ln -sf "$archive" "$static_cxx/libstdc++.a"
