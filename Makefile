# Lamina: a small Xen-ABI type-1 hypervisor. `make help` lists the targets.
.DEFAULT_GOAL := all
SHELL := /bin/bash
include mk/flags.mk

# Each part adds its outputs to ALL_IMAGES and its own rules.
ALL_IMAGES :=
include lib/lib.mk
include hv/hv.mk
include guests/guests.mk
include dom0/dom0.mk
include tests/unit/unit.mk
include guests/debian/debian.mk
include tests/integration/integration.mk
include bench/bench.mk

QEMU ?= qemu-system-x86_64
QEMU_MEM ?= 1G
DOM0_MEM ?= 256M
# The machine every run and test uses: TCG only (docs/testing.md says why).
QEMU_BASE = $(QEMU) -accel tcg -machine q35 -cpu max -m $(QEMU_MEM) -nodefaults \
            -display none -no-reboot

.PHONY: all help deps run run-iso iso test lint size clean
all: $(ALL_IMAGES)

help:
	@echo "Lamina build targets (DEBUG=1 default builds with assertions; DEBUG=0 for benchmarks)"
	@echo "  make run         build, then boot the hypervisor and dom0 (with its initrd) in QEMU; dom0's shell is on the terminal"
	@echo "                   (a 64 MiB virtio-blk disk, RUN_DISK=$(RUN_DISK), created if absent, is dom0's vda)"
	@echo "                   (a virtio-net NIC on QEMU user networking is dom0's eth0, the vswitch's uplink: 'netif', 'vswitch')"
	@echo "                   (quit: 'poweroff' in dom0, or Ctrl-A x)"
	@echo "  make run-iso     the same, booting through GRUB's multiboot2 from a grub-mkrescue ISO"
	@echo "  make test        host unit tests (Check, ASan+UBSan), lint, then QEMU integration tests (pytest)"
	@echo "  make unit        host unit tests only"
	@echo "  make integration QEMU integration tests only (PYTEST_ARGS=... to filter)"
	@echo "  make iso         build $(BUILD)/lamina.iso (GRUB, multiboot2)"
	@echo "  make bench       benchmarks (release build): boot time, xl create to /init, pvbench and blkbench (disk) domU vs native"
	@echo "  make bench-blk   only the block benchmark: domU xvda (dom0's virtio disk) vs native virtio-blk"
	@echo "  make lint        cppcheck and clang-tidy over the C sources"
	@echo "  make size        lines of code in the hypervisor (the trusted base)"
	@echo "  make deps        install missing Debian packages with apt-get (run/test do this themselves)"
	@echo "  make clean       remove build/"
	@echo "  make initrd      build dom0's initrd ($(BUILD)/dom0/initrd.cpio: guests and /etc/xen configs)"
	@echo "Variables: QEMU_MEM=$(QEMU_MEM) DOM0_MEM=$(DOM0_MEM) HV_ARGS='loglvl=all' DEBUG=$(DEBUG) INITRD_EXTRA=<dir> RUN_DISK=<image>"

deps:
	@tools/install-deps.sh

# make run's disk: a modern (virtio 1.x only) virtio-blk device, dom0's vda.
RUN_DISK ?= $(BUILD)/disk.img
$(BUILD)/disk.img: tools/mkdisk.py
	@mkdir -p $(@D)
	@test -e $@ || { echo "  DISK    $@ (64 MiB, MBR: vda1, vda2)"; tools/mkdisk.py $@ 64; }

run: deps
	$(MAKE) all $(DOM0_INITRD_FULL) $(RUN_DISK)
	$(QEMU_BASE) -serial mon:stdio -kernel $(HV_ELF) \
	  -append "dom0_mem=$(DOM0_MEM) $(HV_ARGS)" -initrd "$(DOM0_ELF) $(DOM0_ARGS),$(DOM0_INITRD_FULL)" \
	  -drive file=$(RUN_DISK),if=none,id=d0,format=raw -device virtio-blk-pci,drive=d0,disable-legacy=on \
	  -netdev user,id=n0 -device virtio-net-pci,netdev=n0,disable-legacy=on

iso: $(BUILD)/lamina.iso
$(BUILD)/lamina.iso: $(HV_ELF) $(DOM0_ELF) $(DOM0_INITRD) tools/mkiso.sh
	@echo "  ISO     $@"
	@tools/mkiso.sh $@ $(HV_ELF) "dom0_mem=$(DOM0_MEM) $(HV_ARGS)" $(DOM0_ELF) "$(DOM0_ARGS)" $(DOM0_INITRD)

run-iso: deps iso
	$(QEMU_BASE) -serial mon:stdio -cdrom $(BUILD)/lamina.iso

test: deps
	$(MAKE) unit
	$(MAKE) lint
	$(MAKE) all
	$(MAKE) integration

size:
	@tools/hv-size.sh

lint:
	@tools/lint.sh

clean:
	rm -rf build
