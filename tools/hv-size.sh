#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reports the size of the trusted base: lines of C, headers, assembly and linker scripts in hv/ and include/public/.
#
# Counts are `wc -l` lines (comments and blank lines included), per directory
# (files directly in it) and in total; the public ABI headers are counted
# apart from hv/. Following docs/style.md's habit, a file over 1,000 lines
# gets a warning and one over 1,500 makes the script exit 1.
set -euo pipefail
cd "$(dirname "$0")/.."

WARN_LINES=1000
FAIL_LINES=1500

# Prints "kind<TAB>dir<TAB>lines<TAB>path" for each counted file under the
# given roots (tabs, so paths with spaces survive).
list() {
    { find "$@" -type f \( -name '*.c' -o -name '*.h' -o -name '*.S' -o -name '*.s' \
        -o -name '*.lds' -o -name '*.ld' \) 2>/dev/null || true; } | LC_ALL=C sort |
    while IFS= read -r f; do
        case $f in
        *.lds.S | *.ld.S | *.lds | *.ld) kind=lds ;;
        *.S | *.s) kind=asm ;;
        *.c) kind=c ;;
        *.h) kind=h ;;
        esac
        printf '%s\t%s\t%s\t%s\n' "$kind" "$(dirname "$f")" "$(wc -l <"$f")" "$f"
    done
}

# Reads list's output; prints one row per directory and a total row.
table() {
    awk -F'\t' -v title="$1" '
    function row(name, c, h, a, l) {
        printf "  %-34s %7d %7d %7d %7d %8d\n", name, c, h, a, l, c + h + a + l
    }
    {
        kind = $1; dir = $2; n = $3
        if (!(dir in seen)) { seen[dir] = 1; order[++ndirs] = dir }
        count[dir, kind] += n; total[kind] += n
    }
    END {
        printf "%s\n", title
        printf "  %-34s %7s %7s %7s %7s %8s\n", "directory", "C", "headers", "asm", "linker", "total"
        for (i = 1; i <= ndirs; i++) {
            d = order[i]
            row(d, count[d, "c"], count[d, "h"], count[d, "asm"], count[d, "lds"])
        }
        row("total", total["c"], total["h"], total["asm"], total["lds"])
    }'
}

# Sums the line counts of list's output.
lines() {
    awk -F'\t' '{ s += $3 } END { print s + 0 }'
}

if [[ ! -d hv ]]; then
    echo "hv-size: no hv/ directory" >&2
    exit 1
fi

hv_files=$(list hv)
abi_files=$(list include/public)

printf '%s\n' "$hv_files" | sed '/^$/d' | table "Hypervisor (hv/)"
echo
printf '%s\n' "$abi_files" | sed '/^$/d' | table "Public ABI headers (include/public/)"
echo
hv_total=$(printf '%s\n' "$hv_files" | sed '/^$/d' | lines)
abi_total=$(printf '%s\n' "$abi_files" | sed '/^$/d' | lines)
printf 'Trusted base: %d lines (hv/ %d + include/public/ %d)\n' \
    $((hv_total + abi_total)) "$hv_total" "$abi_total"

status=0
while IFS=$'\t' read -r _ _ n f; do
    [[ -n ${f:-} ]] || continue
    if ((n > FAIL_LINES)); then
        echo "hv-size: ERROR: $f has $n lines (limit $FAIL_LINES): split it" >&2
        status=1
    elif ((n > WARN_LINES)); then
        echo "hv-size: warning: $f has $n lines (over $WARN_LINES)" >&2
    fi
done <<<"$hv_files"$'\n'"$abi_files"
exit $status
