# SPDX-License-Identifier: MIT
# dom0/: the first domain's kernel (dom0/kernel), built on the guest runtime
# of guests/lib (GUEST_CFLAGS, GUEST_RT_OBJS from guests/guests.mk, which the
# top Makefile includes first). The toolstack will live in dom0/toolstack.
DOM0_ELF := $(BUILD)/dom0/dom0.elf
DOM0_SRCS := $(wildcard dom0/kernel/*.c)
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
