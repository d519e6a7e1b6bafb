#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Static analysis of the C sources in hv/, lib/, dom0/ and guests/: cppcheck, then clang-tidy if installed; exits 1 on any finding.
#
# Each tree is checked with the include paths its own build uses, plus
# -D__x86_64__ (cppcheck then analyses only that configuration). Missing
# trees are skipped, so it works while parts of the tree are still being
# written. A file that does not compile counts as a finding. Suppressions:
# tools/lint-suppressions.txt (cppcheck, with a reason per line) and inline
# /* cppcheck-suppress id */ or /* NOLINT(check) */ comments.
set -uo pipefail
cd "$(dirname "$0")/.."

SUPPRESSIONS=tools/lint-suppressions.txt
JOBS=$(nproc 2>/dev/null || echo 2)
COMMON_FLAGS=(-Iinclude -Ilib/include -D__x86_64__ -DLAMINA_DEBUG=1)

# clang-tidy: bug finders only. Left out, with the reason: swappable
# parameters and reserved identifiers (style; the ABI keeps Xen's
# __HYPERVISOR_* names), implicit widening of products (noise on bounded
# values), branch clones and memcmp-without-"!= 0" (style), insecure-API
# (memcpy and friends are our own freestanding ones).
TIDY_CHECKS='-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,'
TIDY_CHECKS+='-bugprone-implicit-widening-of-multiplication-result,-bugprone-branch-clone,'
TIDY_CHECKS+='-bugprone-suspicious-string-compare,clang-analyzer-*,'
TIDY_CHECKS+='-clang-analyzer-security.insecureAPI.*,misc-redundant-expression'

# The include paths a tree's sources are built with (see its .mk), plus any
# include/ directory inside it, so a new one is picked up without an edit.
tree_includes() {
    local tree=$1 d
    case $tree in
    hv) echo "-Ihv/include" ;;
    guests | dom0) echo "-Iguests/lib/include" ;;
    esac
    while IFS= read -r d; do
        echo "-I$d"
    done < <(find "$tree" -type d -name include 2>/dev/null | LC_ALL=C sort)
}

if ! command -v cppcheck >/dev/null 2>&1; then
    echo "lint: cppcheck is not installed (tools/install-deps.sh installs it)" >&2
    exit 1
fi
have_tidy=0
command -v clang-tidy >/dev/null 2>&1 && have_tidy=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
nfiles=0
for tree in hv lib dom0 guests; do
    [[ -d $tree ]] || continue
    mapfile -t files < <(find "$tree" -name '*.c' -type f | LC_ALL=C sort)
    ((${#files[@]})) || continue
    nfiles=$((nfiles + ${#files[@]}))
    mapfile -t incs < <(tree_includes "$tree" | awk '!seen[$0]++')
    echo "lint: $tree/ (${#files[@]} file(s))"

    if ! cppcheck --quiet --std=c11 --enable=warning,performance,portability \
        --inline-suppr --suppressions-list="$SUPPRESSIONS" --suppress=missingIncludeSystem \
        --error-exitcode=1 -j "$JOBS" \
        --template='{file}:{line}:{column}: {severity}: {message} [cppcheck:{id}]' \
        "${COMMON_FLAGS[@]}" "${incs[@]}" "${files[@]}" 2>"$tmp/cppcheck.txt"; then
        status=1
    fi
    # Keep the one-line findings; drop cppcheck's source excerpts and notes.
    grep -E '^[^ ].*: (error|warning|style|performance|portability): ' "$tmp/cppcheck.txt"

    ((have_tidy)) || continue
    # One clang-tidy per file, in parallel, each writing its own log.
    export TIDY_CHECKS PWD
    printf '%s\0' "${files[@]}" |
        xargs -0 -P "$JOBS" -I{} bash -c '
            f=$1; shift
            log="$0/$(printf %s "$f" | tr / _).log"
            clang-tidy --quiet --checks="$TIDY_CHECKS" --warnings-as-errors="*" \
                --header-filter="^$PWD/(hv|lib|include|dom0|guests)/" "$f" -- \
                -std=c11 -ffreestanding "$@" >"$log" 2>&1 || echo "$f" >>"$0/tidy-failed"
        ' "$tmp" {} "${COMMON_FLAGS[@]}" "${incs[@]}"
    # A finding in a header shows up once per file that includes it.
    cat "$tmp"/*.log 2>/dev/null | grep -E ': (warning|error): ' | sed "s|^$PWD/||" |
        LC_ALL=C sort -u
    rm -f "$tmp"/*.log
    if [[ -s $tmp/tidy-failed ]]; then
        status=1
        rm -f "$tmp/tidy-failed"
    fi
done

tools="cppcheck"
((have_tidy)) && tools+=" + clang-tidy" || tools+=" (clang-tidy not installed: skipped)"
if ((status)); then
    echo "lint: FAILED ($tools, $nfiles files)"
else
    echo "lint: clean ($tools, $nfiles files)"
fi
exit $status
