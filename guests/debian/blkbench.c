// SPDX-License-Identifier: MIT
/*
 * blkbench: raw block device throughput and latency, run by the Debian
 * initramfs (lamina.test=blkbench) for bench/blkbench.py. The same binary
 * measures a domU's /dev/xvda (xen-blkfront) and, natively under QEMU,
 * /dev/vda (virtio-blk).
 *
 *   blkbench DEVICE LABEL ROUNDS
 *
 * Every access is O_DIRECT, one request at a time (queue depth 1), so the
 * guest's page cache plays no part. Each round:
 *   sequential writes then reads of the first SEQ_BYTES in SEQ_REQ requests,
 *     passes over it for SEQ_SECONDS each (at least one pass): MiB/s; the
 *     reads check the stamps the writes left in every 4 KiB block;
 *   random 4 KiB writes then reads at block-aligned offsets anywhere on the
 *     device, for RAND_SECONDS each (at least RAND_MIN_OPS): operations per
 *     second and the mean latency of one operation in microseconds.
 * One machine-readable line per round:
 *   BLKBENCH label=L round=N seq_write_mibs=X seq_read_mibs=X rand_write_iops=X
 *     rand_write_lat_us=X rand_read_iops=X rand_read_lat_us=X end
 * then "BLKBENCH done", or "BLKBENCH FAILED <reason>" on any error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096u
#define SEQ_REQ (1u << 20)
#define SEQ_BYTES (32u << 20)
#define SEQ_SECONDS 2.0
#define RAND_SECONDS 3.0
#define RAND_MIN_OPS 64u

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fail(const char *what, long long at)
{
    printf("BLKBENCH FAILED %s at byte %lld: %s\n", what, at, strerror(errno));
    fflush(stdout);
    exit(1);
}

/* The stamp at the start of each 4 KiB block: which round wrote it, where. */
static void stamp(unsigned char *buf, size_t len, unsigned round, uint64_t offset)
{
    for (size_t i = 0; i < len; i += BLOCK) {
        uint64_t words[2] = { 0x6c616d696e61ull + round, offset + i };
        memcpy(buf + i, words, sizeof(words));
    }
}

static int stamped(const unsigned char *buf, size_t len, unsigned round, uint64_t offset)
{
    for (size_t i = 0; i < len; i += BLOCK) {
        uint64_t words[2] = { 0x6c616d696e61ull + round, offset + i };
        if (memcmp(buf + i, words, sizeof(words)) != 0)
            return 0;
    }
    return 1;
}

static void pass(int fd, unsigned char *buf, unsigned round, int write)
{
    for (uint64_t off = 0; off < SEQ_BYTES; off += SEQ_REQ) {
        if (write) {
            stamp(buf, SEQ_REQ, round, off);
            if (pwrite(fd, buf, SEQ_REQ, (off_t)off) != (ssize_t)SEQ_REQ)
                fail("sequential write", (long long)off);
        } else {
            if (pread(fd, buf, SEQ_REQ, (off_t)off) != (ssize_t)SEQ_REQ)
                fail("sequential read", (long long)off);
            if (!stamped(buf, SEQ_REQ, round, off)) {
                errno = EIO;
                fail("sequential read: not what was written", (long long)off);
            }
        }
    }
}

/* Passes over the sequential region until SEQ_SECONDS have gone by (at
 * least one); returns MiB/s. */
static double sequential(int fd, unsigned char *buf, unsigned round, int write)
{
    double t0 = now_s(), t;
    unsigned passes = 0;

    do {
        pass(fd, buf, round, write);
        passes++;
        t = now_s();
    } while (t - t0 < SEQ_SECONDS);
    return (double)passes * (SEQ_BYTES >> 20) / (t - t0);
}

/* Random 4 KiB requests; returns operations per second, sets the mean
 * latency in microseconds. */
static double random_io(int fd, unsigned char *buf, uint64_t blocks, uint64_t *seed, int write, double *lat_us)
{
    double t0 = now_s(), busy = 0, t = t0;
    unsigned ops = 0;

    while (ops < RAND_MIN_OPS || t - t0 < RAND_SECONDS) {
        *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
        off_t off = (off_t)((*seed >> 17) % blocks * BLOCK);
        double start = now_s();
        ssize_t n = write ? pwrite(fd, buf, BLOCK, off) : pread(fd, buf, BLOCK, off);
        if (n != (ssize_t)BLOCK)
            fail(write ? "random write" : "random read", (long long)off);
        t = now_s();
        busy += t - start;
        ops++;
    }
    *lat_us = busy / ops * 1e6;
    return ops / (t - t0);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: blkbench DEVICE LABEL ROUNDS\n");
        return 2;
    }
    unsigned rounds = (unsigned)strtoul(argv[3], NULL, 10);
    int fd = open(argv[1], O_RDWR | O_DIRECT);
    if (fd < 0)
        fail("open", 0);
    uint64_t size = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) != 0)
        fail("BLKGETSIZE64", 0);
    if (size < SEQ_BYTES) {
        errno = ENOSPC;
        fail("device smaller than the sequential region", (long long)size);
    }
    void *mem = NULL;
    if (posix_memalign(&mem, BLOCK, SEQ_REQ) != 0)
        fail("posix_memalign", 0);
    unsigned char *buf = mem;
    memset(buf, 0xa5, SEQ_REQ);
    printf("BLKBENCH %s: %llu bytes, O_DIRECT, queue depth 1\n", argv[1], (unsigned long long)size);
    uint64_t seed = 12345;
    for (unsigned r = 1; r <= rounds; r++) {
        double sw = sequential(fd, buf, r, 1);
        double sr = sequential(fd, buf, r, 0);
        double rw_lat, rr_lat;
        double rw = random_io(fd, buf, size / BLOCK, &seed, 1, &rw_lat);
        double rr = random_io(fd, buf, size / BLOCK, &seed, 0, &rr_lat);
        printf("BLKBENCH label=%s round=%u seq_write_mibs=%.3f seq_read_mibs=%.3f rand_write_iops=%.1f "
               "rand_write_lat_us=%.1f rand_read_iops=%.1f rand_read_lat_us=%.1f end\n",
               argv[2], r, sw, sr, rw, rw_lat, rr, rr_lat);
        fflush(stdout);
    }
    free(mem);
    close(fd);
    printf("BLKBENCH done\n");
    return 0;
}
