#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages Lamina needs to build, test and lint; does nothing but print one line when all are there.
#
# Idempotent and non-interactive (no stdin needed): asks dpkg first and runs
# apt-get update + install only for what is missing. Needs root (or sudo).
set -euo pipefail

# libc6-dev is only a Recommends of gcc, but the host unit tests need it.
PACKAGES=(
    gcc make binutils libc6-dev
    qemu-system-x86 grub-pc-bin grub-common xorriso mtools
    check pkg-config python3-pytest python3-pytest-xdist cpio e2fsprogs
    cppcheck clang-tidy
)

# Prints the given packages that dpkg does not have fully installed (one
# dpkg-query for all of them, so the common all-present case stays fast).
not_installed() {
    local have pkg
    # dpkg-query fails when any package is unknown; its output still counts.
    have=" $({ dpkg-query -W -f='${Package}\t${Status}\n' "$@" 2>/dev/null || true; } |
             awk -F'\t' '$2 == "install ok installed" { printf "%s ", $1 }') "
    for pkg in "$@"; do
        [[ $have == *" $pkg "* ]] || echo "$pkg"
    done
}

mapfile -t missing < <(not_installed "${PACKAGES[@]}")
if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo -n)
    else
        echo "install-deps: need root to install: ${missing[*]}" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef
          -o Dpkg::Options::=--force-confold)
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update </dev/null
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install \
    "${missing[@]}" </dev/null

# Say so if apt-get "succeeded" without providing everything.
mapfile -t still < <(not_installed "${missing[@]}")
if ((${#still[@]})); then
    echo "install-deps: still missing after apt-get: ${still[*]}" >&2
    exit 1
fi
echo "install-deps: installed ${#missing[@]} package(s)"
