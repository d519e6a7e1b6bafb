# bench/: benchmarks (boot time today; guest/native ratios later). Never timed asserts.
.PHONY: bench
bench: all
	/usr/bin/python3 bench/boot_time.py --runs 5
