# bench/: benchmarks. They print measurements next to Xen's and never assert
# on them. `make bench` builds without assertions, then: boot time to dom0's
# prompt, xl create to a Debian domU's /init, pvbench domU versus native,
# blkbench: a domU's xvda (on dom0's virtio disk) versus native virtio-blk, and
# netbench: TCP and ping between domUs and to the host versus native virtio-net.
.PHONY: bench
bench: deps
	$(MAKE) DEBUG=0 all iso build/release/dom0/initrd-full.cpio
	/usr/bin/python3 bench/boot_time.py --runs 5 --iso --build build/release
	/usr/bin/python3 bench/domu_boot_time.py --runs 5 --build build/release
	/usr/bin/python3 bench/pvbench.py --runs 3 --build build/release
	/usr/bin/python3 bench/blkbench.py --boots 1 --rounds 3 --build build/release
	/usr/bin/python3 bench/netbench.py --rounds 3 --build build/release

# The block benchmark alone (bench/blkbench.py's docstring says what it runs).
.PHONY: bench-blk
bench-blk: deps
	$(MAKE) DEBUG=0 all build/release/dom0/initrd-full.cpio
	/usr/bin/python3 bench/blkbench.py --boots 1 --rounds 3 --build build/release

# The network benchmark alone (bench/netbench.py's docstring says what it runs).
.PHONY: bench-net
bench-net: deps
	$(MAKE) DEBUG=0 all build/release/dom0/initrd-full.cpio
	/usr/bin/python3 bench/netbench.py --rounds 3 --build build/release
