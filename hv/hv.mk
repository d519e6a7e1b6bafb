# hv/: the hypervisor, the trusted base. One ELF64 image that boots through
# multiboot1 (QEMU -kernel) and multiboot2 (GRUB).
HV_SRCS := $(wildcard hv/common/*.c hv/arch/x86_64/*.c hv/arch/x86_64/pv/*.c)
HV_ASM := $(wildcard hv/arch/x86_64/*.S hv/arch/x86_64/boot/*.S)
# Only the shared code the hypervisor needs: it is part of the trusted base.
HV_LIB_SRCS := lib/fmt.c lib/string.c lib/cmdline.c lib/elf_pv.c lib/pv_layout.c
HV_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(HV_SRCS) $(HV_LIB_SRCS)) $(patsubst %.S,$(BUILD)/%.o,$(HV_ASM))
HV_ELF := $(BUILD)/hv/lamina.elf
# Linked far from the top 2 GiB (in Xen's reserved slots), so position-
# independent code with RIP-relative addressing rather than -mcmodel=kernel.
HV_CFLAGS := $(FREESTANDING) -fpie -fvisibility=hidden -Ihv/include
ALL_IMAGES += $(HV_ELF)

$(BUILD)/hv/%.o: hv/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(HV_CFLAGS) -MMD -c $< -o $@
$(BUILD)/hv/%.o: hv/%.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(HV_CFLAGS) -D__ASSEMBLER__ -MMD -c $< -o $@
$(BUILD)/hv/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(HV_CFLAGS) -MMD -c $< -o $@

HV_OBJS := $(patsubst $(BUILD)/lib/%,$(BUILD)/hv/lib/%,$(HV_OBJS))
$(HV_ELF): $(HV_OBJS) hv/hv.lds
	@echo "  LD      $@"
	@$(LD) -nostdlib -static -no-pie -z noexecstack --no-warn-rwx-segments -T hv/hv.lds -o $@ $(HV_OBJS)

-include $(HV_OBJS:.o=.d)
