#!/usr/bin/env bash
# Builds a bootable ISO (GRUB 2, multiboot2) holding the hypervisor and dom0,
# the way a real PC boots Lamina.
# Usage: mkiso.sh OUT.iso HV.elf HV_ARGS DOM0.elf [DOM0_ARGS [DOM0_INITRD]]
set -euo pipefail
out=$1 hv=$2 hv_args=$3 dom0=$4 dom0_args=${5:-} dom0_initrd=${6:-}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub"
cp "$hv" "$stage/boot/lamina.elf"
cp "$dom0" "$stage/boot/dom0.elf"
initrd_line=
if [ -n "$dom0_initrd" ]; then
    cp "$dom0_initrd" "$stage/boot/dom0-initrd.cpio"
    initrd_line="module2 /boot/dom0-initrd.cpio"
fi
cat > "$stage/boot/grub/grub.cfg" <<CFG
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
menuentry "Lamina" {
    multiboot2 /boot/lamina.elf $hv_args
    module2 /boot/dom0.elf $dom0_args
    $initrd_line
}
CFG
# Only the modules this menu needs (a 1 MB image instead of 19 MB).
grub-mkrescue -d /usr/lib/grub/i386-pc \
    --install-modules="multiboot2 normal configfile iso9660 biosdisk serial terminal" \
    --locales= --fonts= --themes= -o "$out" "$stage" 2>/dev/null
