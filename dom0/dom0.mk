# SPDX-License-Identifier: MIT
# dom0/: the first domain's kernel (dom0/kernel), built on the guest runtime
# of guests/lib (GUEST_CFLAGS, GUEST_RT_OBJS from guests/guests.mk, which the
# top Makefile includes first), and its toolstack (dom0/toolstack: xl and the
# domain builder).
DOM0_ELF := $(BUILD)/dom0/dom0.elf
DOM0_SRCS := $(wildcard dom0/kernel/*.c dom0/toolstack/*.c dom0/backends/*/*.c dom0/xenstored/*.c)
DOM0_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(DOM0_SRCS))
ALL_IMAGES += $(DOM0_ELF)

$(BUILD)/dom0/%.o: dom0/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(DOM0_ELF): $(DOM0_OBJS) $(GUEST_RT_OBJS) $(GUEST_LDS)
	@echo "  LD      $@"
	@$(LD) $(GUEST_LDFLAGS) -o $@ $(DOM0_OBJS) $(GUEST_RT_OBJS)

.PHONY: dom0
dom0: $(DOM0_ELF)

-include $(DOM0_OBJS:.o=.d)

# dom0's initrd: a cpio "newc" archive of dom0/initrd/ (configs under
# /etc/xen), every guest under /usr/lib/lamina/guests/<name>.elf (debug info
# stripped), and, on top, the tree INITRD_EXTRA=<dir> names if given. Built
# from a staging directory so the archive holds exactly that tree.
DOM0_INITRD := $(BUILD)/dom0/initrd.cpio
DOM0_INITRD_ROOT := $(BUILD)/dom0/initrd-root
DOM0_INITRD_SKEL := $(shell find dom0/initrd -type f 2>/dev/null)
INITRD_EXTRA ?=
ALL_IMAGES += $(DOM0_INITRD)

$(DOM0_INITRD): $(GUEST_ELFS) $(DOM0_INITRD_SKEL) dom0/dom0.mk $(if $(INITRD_EXTRA),FORCE)
	@command -v cpio >/dev/null 2>&1 || { echo "dom0 initrd: 'cpio' is not installed (Debian package 'cpio')" >&2; exit 1; }
	@echo "  CPIO    $@"
	@rm -rf $(DOM0_INITRD_ROOT)
	@mkdir -p $(DOM0_INITRD_ROOT)/usr/lib/lamina/guests
	@cp -R dom0/initrd/. $(DOM0_INITRD_ROOT)/
	@for g in $(GUEST_ELFS); do $(OBJCOPY) --strip-debug $$g $(DOM0_INITRD_ROOT)/usr/lib/lamina/guests/$$(basename $$g); done
	@$(if $(INITRD_EXTRA),cp -R $(INITRD_EXTRA)/. $(DOM0_INITRD_ROOT)/)
	@cd $(DOM0_INITRD_ROOT) && find . -mindepth 1 | LC_ALL=C sort | \
	  cpio --quiet -o -H newc -R 0:0 --reproducible > $(abspath $@).tmp
	@mv $@.tmp $@

.PHONY: initrd FORCE
initrd: $(DOM0_INITRD)
FORCE:
