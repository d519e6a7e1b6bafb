# SPDX-License-Identifier: MIT
# guests/: the guest runtime (guests/lib) and one conformance guest per C file.
# Every guest is a Xen PV kernel linked at VIRT_BASE (guests/lib/guest.lds).
GUEST_NAMES := entry_state hypercall_page events_timers trap_bounce priv_insn \
               hv_memory hypercall_storm crash_unhandled writable_pt \
               misc_hypercalls victim attacker console_ring ldt_failsafe grant_table \
               blk_hostile net_hostile

GUEST_CFLAGS := $(FREESTANDING) -mcmodel=kernel -fno-pie -fno-pic -Iguests/lib/include -MMD -MP
GUEST_ASFLAGS := $(GUEST_CFLAGS) -D__ASSEMBLER__
GUEST_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=4096 -z noexecstack \
                 --build-id=none --no-warn-rwx-segments -T guests/lib/guest.lds
GUEST_LDS := guests/lib/guest.lds

# The runtime plus lib/ (fmt, string, cmdline), compiled for the kernel code model.
GUEST_RT_SRCS := $(wildcard guests/lib/*.c guests/lib/*.S) $(LIB_SRCS)
GUEST_RT_OBJS := $(patsubst %,$(BUILD)/guests/rt/%.o,$(basename $(GUEST_RT_SRCS)))

GUEST_OBJS := $(patsubst %,$(BUILD)/guests/obj/%.o,$(GUEST_NAMES))
GUEST_ELFS := $(patsubst %,$(BUILD)/guests/%.elf,$(GUEST_NAMES))
ALL_IMAGES += $(GUEST_ELFS)

$(BUILD)/guests/rt/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (guest)"
	@$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guests/rt/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $< (guest)"
	@$(CC) $(GUEST_ASFLAGS) -c $< -o $@

$(BUILD)/guests/obj/%.o: guests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guests/%.elf: $(BUILD)/guests/obj/%.o $(GUEST_RT_OBJS) $(GUEST_LDS)
	@echo "  LD      $@"
	@$(LD) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_RT_OBJS)

# Keep the objects: they are only reached through pattern rules.
.SECONDARY: $(GUEST_OBJS) $(GUEST_RT_OBJS)

.PHONY: guests
guests: $(GUEST_ELFS)

-include $(wildcard $(BUILD)/guests/rt/*/*.d $(BUILD)/guests/rt/*/*/*.d $(BUILD)/guests/obj/*.d)
