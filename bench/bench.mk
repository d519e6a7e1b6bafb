# bench/: benchmarks. They print measurements and never assert on them.
# `make bench` builds a release image (no assertions) and times boots.
.PHONY: bench
bench:
	$(MAKE) DEBUG=0 all iso
	/usr/bin/python3 bench/boot_time.py --runs 5 --iso --build build/release
