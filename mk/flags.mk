# Compiler flags shared by every part of the build. Included by the top Makefile.
# DEBUG=1 (the default) turns on assertions; DEBUG=0 builds for benchmarks.
DEBUG ?= 1
CC := gcc
LD := ld
OBJCOPY := objcopy
BUILD := build/$(if $(filter 1,$(DEBUG)),debug,release)

WARNINGS := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
            -Wmissing-declarations -Wshadow -Wundef -Wvla -Wimplicit-fallthrough \
            -Wcast-qual -Wno-address-of-packed-member
DEBUG_CFLAGS := $(if $(filter 1,$(DEBUG)),-DLAMINA_DEBUG=1 -Og,-DLAMINA_DEBUG=0 -O2)

# Code that runs on the (virtual) machine: no libc, no SSE (nobody saves it for
# us), no red zone (interrupts and bounce frames land below %rsp).
FREESTANDING := -std=c11 -ffreestanding -fno-common -fno-stack-protector \
                -fno-asynchronous-unwind-tables -fno-unwind-tables -mno-red-zone \
                -mno-sse -mno-sse2 -mno-mmx -mno-avx -mgeneral-regs-only -g \
                -fno-strict-aliasing -fcf-protection=none $(WARNINGS) $(DEBUG_CFLAGS) \
                -Iinclude -Ilib/include
