# guests/debian/: the unmodified guests from Debian's packages, fetched with
# apt-get download (tools/fetch-debs.sh) at build time, never committed:
#   $(DEBIAN_DIR)/vmlinuz          linux-image-amd64's kernel (bzImage, XZ)
#   $(DEBIAN_DIR)/initramfs.cpio.gz busybox-static + guests/debian/init + pvbench + ldt_test + blkbench
#                                  + nettool
#                                  + the block, net and virtio modules below
#   $(DEBIAN_DIR)/pvgrub.elf       grub-mkimage -O x86_64-xen with pvgrub.cfg embedded
#                                  (GRUB runs it line by line: no comments in that file)
DEBIAN_DIR := $(BUILD)/debian
DEBIAN_DEBS := $(BUILD)/debs/.fetched
DEBIAN_IMAGES := $(DEBIAN_DIR)/vmlinuz $(DEBIAN_DIR)/initramfs.cpio.gz $(DEBIAN_DIR)/pvgrub.elf

$(DEBIAN_DEBS): tools/fetch-debs.sh
	@tools/fetch-debs.sh $(BUILD)/debs linux-image-amd64 busybox-static grub-xen-bin
	@touch $@

$(DEBIAN_DIR)/vmlinuz: $(DEBIAN_DEBS)
	@mkdir -p $(DEBIAN_DIR)/x
	@dpkg-deb -x $$(ls $(BUILD)/debs/linux-image-[0-9]*.deb | head -1) $(DEBIAN_DIR)/x
	@cp $$(ls $(DEBIAN_DIR)/x/boot/vmlinuz-* | head -1) $@
	@echo "  DEB     $@"

$(DEBIAN_DIR)/pvbench: ../shared/bench/pvbench.c
	@mkdir -p $(@D)
	@$(CC) -static -O2 -o $@ $<

$(DEBIAN_DIR)/ldt_test: guests/debian/ldt_test.c
	@mkdir -p $(@D)
	@$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

$(DEBIAN_DIR)/blkbench: guests/debian/blkbench.c
	@mkdir -p $(@D)
	@$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

$(DEBIAN_DIR)/nettool: guests/debian/nettool.c
	@mkdir -p $(@D)
	@$(CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

# Kernel modules the block tests load with busybox insmod, in dependency
# order (from each module's .modinfo depends=; the deb has no modules.dep):
# ext4 needs crc16, mbcache and jbd2, and the crc32c hash for its checksums;
# xen-blkfront is a module in Debian's kernel (xen-pv-abi.md §8.4).
DEBIAN_MODULES := lib/crc16 fs/mbcache fs/jbd2/jbd2 crypto/crc32c_generic fs/ext4/ext4 drivers/block/xen-blkfront
# xen-netfront for the network tests (its .modinfo depends= is empty).
DEBIAN_NET_MODULES := drivers/net/xen-netfront
# virtio-blk for bench/blkbench.py's native run (the kernel under plain QEMU):
# all modules in Debian's kernel, listed in /lib/modules/order-virtio.
DEBIAN_VIRTIO_MODULES := drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
    drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk
# virtio-net for bench/netbench.py's native run (/lib/modules/order-virtio-net):
# the virtio core above, then virtio_net and what it depends on.
DEBIAN_VIRTIO_NET_MODULES := $(filter-out drivers/block/virtio_blk,$(DEBIAN_VIRTIO_MODULES)) \
    net/core/failover drivers/net/net_failover drivers/net/virtio_net

$(DEBIAN_DIR)/initramfs.cpio.gz: $(DEBIAN_DEBS) guests/debian/init $(DEBIAN_DIR)/pvbench $(DEBIAN_DIR)/ldt_test \
    $(DEBIAN_DIR)/blkbench $(DEBIAN_DIR)/nettool $(DEBIAN_DIR)/vmlinuz guests/debian/debian.mk
	@rm -rf $(DEBIAN_DIR)/rootfs $(DEBIAN_DIR)/bb && mkdir -p $(DEBIAN_DIR)/rootfs/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,mnt,lib/modules} $(DEBIAN_DIR)/bb
	@dpkg-deb -x $$(ls $(BUILD)/debs/busybox-static_*.deb | head -1) $(DEBIAN_DIR)/bb
	@cp $(DEBIAN_DIR)/bb/bin/busybox $(DEBIAN_DIR)/rootfs/bin/
	@for m in $(sort $(DEBIAN_MODULES) $(DEBIAN_NET_MODULES) $(DEBIAN_VIRTIO_MODULES) $(DEBIAN_VIRTIO_NET_MODULES)); do \
	    cp $$(ls -d $(DEBIAN_DIR)/x/lib/modules/*/kernel | head -1)/$$m.ko $(DEBIAN_DIR)/rootfs/lib/modules/ || exit 1; \
	done
	@printf '%s\n' $(notdir $(DEBIAN_MODULES)) > $(DEBIAN_DIR)/rootfs/lib/modules/order
	@printf '%s\n' $(notdir $(DEBIAN_VIRTIO_MODULES)) > $(DEBIAN_DIR)/rootfs/lib/modules/order-virtio
	@printf '%s\n' $(notdir $(DEBIAN_NET_MODULES)) > $(DEBIAN_DIR)/rootfs/lib/modules/order-net
	@printf '%s\n' $(notdir $(DEBIAN_VIRTIO_NET_MODULES)) > $(DEBIAN_DIR)/rootfs/lib/modules/order-virtio-net
	@cp guests/debian/init $(DEBIAN_DIR)/rootfs/init && chmod +x $(DEBIAN_DIR)/rootfs/init
	@cp $(DEBIAN_DIR)/pvbench $(DEBIAN_DIR)/ldt_test $(DEBIAN_DIR)/blkbench $(DEBIAN_DIR)/nettool $(DEBIAN_DIR)/rootfs/bin/
	@cd $(DEBIAN_DIR)/rootfs && find . | cpio -o -H newc --quiet | gzip -9 > ../initramfs.cpio.gz
	@echo "  CPIO    $@"

$(DEBIAN_DIR)/pvgrub.elf: $(DEBIAN_DEBS) guests/debian/pvgrub.cfg
	@rm -rf $(DEBIAN_DIR)/grub && mkdir -p $(DEBIAN_DIR)/grub
	@dpkg-deb -x $$(ls $(BUILD)/debs/grub-xen-bin_*.deb | head -1) $(DEBIAN_DIR)/grub
	@grub-mkimage -d $(DEBIAN_DIR)/grub/usr/lib/grub/x86_64-xen -O x86_64-xen -p '(memdisk)/' \
	    -c guests/debian/pvgrub.cfg -o $@ echo ls halt normal
	@echo "  GRUB    $@"

.PHONY: debian-guests
debian-guests: $(DEBIAN_IMAGES)

# dom0's initrd for `make run` and the real-guest tests: the base initrd's
# tree plus the Debian guests under /usr/lib/lamina/debian/, which
# /etc/xen/debian.cfg, pvgrub.cfg and pvbench.cfg name.
DOM0_INITRD_FULL := $(BUILD)/dom0/initrd-full.cpio
$(DOM0_INITRD_FULL): $(DOM0_INITRD) $(DEBIAN_IMAGES)
	@echo "  CPIO    $@"
	@rm -rf $(BUILD)/dom0/initrd-full-root && cp -R $(DOM0_INITRD_ROOT) $(BUILD)/dom0/initrd-full-root
	@mkdir -p $(BUILD)/dom0/initrd-full-root/usr/lib/lamina/debian
	@cp $(DEBIAN_IMAGES) $(BUILD)/dom0/initrd-full-root/usr/lib/lamina/debian/
	@cd $(BUILD)/dom0/initrd-full-root && find . -mindepth 1 | LC_ALL=C sort | \
	  cpio --quiet -o -H newc -R 0:0 --reproducible > $(abspath $@).tmp
	@mv $@.tmp $@
