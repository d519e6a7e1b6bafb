#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Downloads Debian packages (with their exact dependency for meta-packages
# like linux-image-amd64) into a cache directory with apt-get download.
# Usage: fetch-debs.sh DIR PACKAGE... ; idempotent (skips what DIR has).
set -euo pipefail
dir=$1; shift
mkdir -p "$dir"
cd "$dir"
want=()
for pkg in "$@"; do
    if [ "$pkg" = linux-image-amd64 ]; then
        # The meta-package only depends on the versioned image package.
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
        if [ -z "$pkg" ]; then
            apt-get update -qq
            pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
        fi
    fi
    ls "${pkg}"_*.deb >/dev/null 2>&1 || want+=("$pkg")
done
[ ${#want[@]} -eq 0 ] && exit 0
# apt-get download runs as the _apt user when it can; a root-owned cache dir
# makes it warn and fall back to root, which is fine here. A stale package
# list is refreshed once.
if ! apt-get download -q "${want[@]}" 2>/dev/null; then
    apt-get update -qq
    apt-get download -q "${want[@]}"
fi
