# lib/: pure C shared by the hypervisor, dom0, guests and host tests.
# LIB_SRCS are built freestanding into each image; LIB_HOST_SRCS are the ones
# host unit tests compile (string.c is freestanding-only: it defines memcpy).
LIB_SRCS := lib/fmt.c lib/string.c lib/cmdline.c lib/elf_pv.c lib/pv_layout.c lib/cpio.c lib/xlcfg.c
LIB_HOST_SRCS := lib/fmt.c lib/cmdline.c lib/elf_pv.c lib/pv_layout.c lib/cpio.c lib/xlcfg.c
LIB_SRCS += lib/cons_ring.c
LIB_HOST_SRCS += lib/cons_ring.c
LIB_SRCS += lib/xs_arena.c lib/xs_wire.c lib/xs_store.c lib/xs_core.c lib/xs_direct.c lib/xs_ring.c
LIB_HOST_SRCS += lib/xs_arena.c lib/xs_wire.c lib/xs_store.c lib/xs_core.c lib/xs_direct.c lib/xs_ring.c
LIB_SRCS += lib/xz.c lib/bzimage.c
LIB_HOST_SRCS += lib/xz.c lib/bzimage.c
LIB_SRCS += lib/blkif.c lib/xenbus_back.c lib/blkback.c lib/xl_disk.c lib/partition.c lib/virtq.c
LIB_HOST_SRCS += lib/blkif.c lib/xenbus_back.c lib/blkback.c lib/xl_disk.c lib/partition.c lib/virtq.c
LIB_SRCS += lib/arp.c lib/xl_vif.c lib/ring_back.c lib/netif.c lib/vswitch.c lib/netback.c lib/netcsum.c lib/netgso.c
LIB_HOST_SRCS += lib/arp.c lib/xl_vif.c lib/ring_back.c lib/netif.c lib/vswitch.c lib/netback.c lib/netcsum.c lib/netgso.c
