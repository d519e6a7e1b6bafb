# SPDX-License-Identifier: MIT
# Host unit tests (Check, under ASan+UBSan). Included by the top Makefile.
# Every tests/unit/test_<name>.c becomes $(BUILD)/unit/test_<name>, linked with
# $(LIB_HOST_SRCS), $(UNIT_EXTRA_SRCS) (all tests) and $(UNIT_SRCS_test_<name>)
# (that test only; define it above the rules below), so adding a test is adding
# a file. `make unit` builds and runs them all, and fails if any test fails or
# if there is none.

UNIT_DIR := $(BUILD)/unit
UNIT_TESTS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(UNIT_DIR)/%,$(UNIT_TESTS))
UNIT_EXTRA_SRCS ?=

# Recursively expanded so pkg-config runs only when a unit rule is used.
UNIT_CHECK_CFLAGS = $(shell pkg-config --cflags check)
UNIT_CHECK_LIBS = $(shell pkg-config --libs check)
UNIT_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_CFLAGS = -std=c11 -g -O1 $(WARNINGS) $(UNIT_SAN) -Iinclude -Ilib/include -Itests/unit \
              $(UNIT_CHECK_CFLAGS) -MMD -MP
# CK_FORK=no: one process per binary, so ASan reports the first bad access
# with a full stack instead of Check turning it into a bare "signal" error.
UNIT_ENV := CK_FORK=no ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:strict_string_checks=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

unit_obj = $(patsubst %.c,$(UNIT_DIR)/obj/%.o,$(1))
UNIT_LIB_OBJS = $(call unit_obj,$(LIB_HOST_SRCS) $(UNIT_EXTRA_SRCS))

$(UNIT_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $< (unit)"
	@$(CC) $(UNIT_CFLAGS) -c $< -o $@

# PV MMU tests: hypervisor files built unchanged on the host behind tests/unit/hv_harness.h.
UNIT_HV_TESTS := pv_mm ptwr descriptor gnttab
UNIT_HV_SRCS := hv/arch/x86_64/pv/mm.c hv/arch/x86_64/pv/ptwr.c hv/arch/x86_64/pv/descriptor.c \
                hv/common/gnttab.c tests/unit/hv_harness.c
$(foreach t,$(UNIT_HV_TESTS),$(eval UNIT_SRCS_test_$(t) := $(UNIT_HV_SRCS)))
$(call unit_obj,$(UNIT_HV_SRCS) $(patsubst %,tests/unit/test_%.c,$(UNIT_HV_TESTS))): UNIT_CFLAGS += -Ihv/include -include tests/unit/hv_harness.h
-include $(wildcard $(UNIT_DIR)/obj/hv/*/*.d $(UNIT_DIR)/obj/hv/*/*/*/*.d)

# One link rule per test: its own object, the shared objects, and its extras.
define unit_test_rule
$(UNIT_DIR)/$(1): $(call unit_obj,tests/unit/$(1).c $(UNIT_SRCS_$(1))) $$(UNIT_LIB_OBJS)
	@echo "  LD      $$@"
	@$$(CC) $$(UNIT_SAN) $$^ $$(UNIT_CHECK_LIBS) -o $$@
endef
$(foreach t,$(UNIT_BINS),$(eval $(call unit_test_rule,$(notdir $(t)))))

.PHONY: unit
unit: $(UNIT_BINS)
	@if [ -z "$(UNIT_BINS)" ]; then echo "unit: no tests/unit/test_*.c found" >&2; exit 1; fi
	@fail=0; for t in $(UNIT_BINS); do \
	    echo "== $$t"; \
	    $(UNIT_ENV) $$t || { echo "unit: $$t FAILED (exit $$?)" >&2; fail=1; }; \
	done; exit $$fail

-include $(wildcard $(UNIT_DIR)/obj/*/*.d $(UNIT_DIR)/obj/*/*/*.d)
