// SPDX-License-Identifier: MIT
/*
 * nettool: TCP traffic for the network tests and bench/netbench.py, run by
 * the Debian initramfs (guests/debian/init, lamina.test=net*). The same
 * static binary runs in a domU (xen-netfront) and natively (virtio-net).
 *
 *   nettool recv PORT                    accept one connection, read to EOF
 *   nettool send IP PORT BYTES [SEED]    send BYTES of a pseudo-random stream,
 *                                        then wait for the peer to close
 *   nettool xfer IP PORT BYTES [SEED]    like send, behind a "NETTOOL <bytes>\n"
 *                                        header, then read one reply line
 *                                        (for a peer that cannot see EOF:
 *                                        QEMU's guestfwd keeps its chardev open)
 *   nettool echo PORT                    echo every connection back, forever
 *   nettool rr IP PORT COUNT [SIZE]      COUNT request-response round trips of
 *                                        SIZE bytes (default 1) on one connection
 *
 * recv, send and xfer print one line
 *   nettool: <mode> <bytes> bytes checksum <crc32> in <s> s = <MiB/s> MiB/s
 * where the checksum is the CRC-32 (IEEE 802.3, zlib's crc32) of the bytes
 * that actually went through the socket: the receiver computes it over what
 * it read, knowing nothing of the seed. xfer adds "nettool: reply <line>".
 * rr prints
 *   nettool: rr <count> x <size> bytes median <us> us mean <us> us min <us> max <us>
 * Connecting is retried for up to 120 s (the peer may not listen yet). Any
 * failure prints "nettool: FAILED <what>: <error>" and exits with 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64u * 1024u)
#define CONNECT_SECONDS 120.0
#define RR_WARMUP 10u
#define RR_MAX_SIZE 65536u
#define RR_MAX_COUNT 1000000u

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fail(const char *what)
{
    printf("nettool: FAILED %s: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(1);
}

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: nettool recv PORT | send IP PORT BYTES [SEED] | xfer IP PORT BYTES [SEED] |\n"
                    "               echo PORT | rr IP PORT COUNT [SIZE]\n");
    exit(2);
}

/* A decimal number within [min, max], else usage. */
static unsigned long long number(const char *s, unsigned long long min, unsigned long long max)
{
    char *end;

    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        usage();
    return v;
}

/* CRC-32, reflected polynomial 0xEDB88320, eight table lookups per 8 bytes. */
static uint32_t crc_table[8][256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

/* Continues a CRC over more bytes (start with 0, as zlib's crc32). */
static uint32_t crc_update(uint32_t crc, const unsigned char *p, size_t n)
{
    uint32_t c = ~crc;

    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
            crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
            crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

/* The stream: xorshift64* words, little-endian, from a non-zero state. */
static void fill(unsigned char *buf, size_t len, uint64_t *state)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        uint64_t w = x * 0x2545f4914f6cdd1dull;
        memcpy(buf + i, &w, 8);
    }
}

static void write_all(int fd, const void *buf, size_t len, const char *what)
{
    const unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail(what);
        p += n;
        len -= (size_t)n;
    }
}

static void read_exact(int fd, void *buf, size_t len, const char *what)
{
    unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            errno = ECONNRESET;
        if (n <= 0)
            fail(what);
        p += n;
        len -= (size_t)n;
    }
}

static void nodelay(int fd)
{
    int one = 1;

    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        fail("TCP_NODELAY");
}

static int listen_on(const char *port_arg)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_port = htons((uint16_t)number(port_arg, 1, 65535));
    if (fd < 0)
        fail("socket");
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
        fail("SO_REUSEADDR");
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        fail("bind");
    if (listen(fd, 4) != 0)
        fail("listen");
    return fd;
}

static int accept_one(int lfd)
{
    int fd;

    do
        fd = accept(lfd, NULL, NULL);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        fail("accept");
    return fd;
}

/* Connects, retrying while the peer is not there yet (refused, unreachable,
 * timed out) for up to CONNECT_SECONDS. */
static int connect_to(const char *ip, const char *port_arg)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    double give_up = now_s() + CONNECT_SECONDS;

    a.sin_port = htons((uint16_t)number(port_arg, 1, 65535));
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
        usage();
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            fail("socket");
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
            return fd;
        int e = errno;
        close(fd);
        errno = e;
        if ((e != ECONNREFUSED && e != EHOSTUNREACH && e != ENETUNREACH && e != ETIMEDOUT && e != EINTR) ||
            now_s() > give_up)
            fail("connect");
        usleep(200 * 1000);
    }
}

static void report(const char *mode, unsigned long long bytes, uint32_t crc, double seconds)
{
    printf("nettool: %s %llu bytes checksum %08x in %.3f s = %.3f MiB/s\n", mode, bytes, crc, seconds,
           seconds > 0 ? (double)bytes / (1024.0 * 1024.0) / seconds : 0.0);
    fflush(stdout);
}

static int do_recv(const char *port)
{
    static unsigned char buf[CHUNK];
    int lfd = listen_on(port);
    int fd = accept_one(lfd);
    double t0 = now_s();
    unsigned long long total = 0;
    uint32_t crc = 0;

    close(lfd);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("read");
        if (n == 0)
            break;
        crc = crc_update(crc, buf, (size_t)n);
        total += (unsigned long long)n;
    }
    double t = now_s() - t0;
    close(fd);
    report("recv", total, crc, t);
    return 0;
}

/* send and xfer: the stream, then either the peer's EOF (send) or its reply
 * line (xfer). */
static int do_send(int argc, char **argv, int framed)
{
    static unsigned char buf[CHUNK];
    if (argc != 5 && argc != 6)
        usage();
    unsigned long long bytes = number(argv[4], 0, 1ull << 40);
    uint64_t state = argc == 6 ? number(argv[5], 0, UINT64_MAX) : 1;
    state = state * 0x9e3779b97f4a7c15ull + 0x6c616d696e61ull;
    if (state == 0)
        state = 1;
    int fd = connect_to(argv[2], argv[3]);
    double t0 = now_s();
    uint32_t crc = 0;

    if (framed) {
        char head[40];
        int n = snprintf(head, sizeof(head), "NETTOOL %llu\n", bytes);
        write_all(fd, head, (size_t)n, "write header");
    }
    for (unsigned long long left = bytes; left > 0;) {
        size_t n = left < CHUNK ? (size_t)left : CHUNK;
        fill(buf, CHUNK, &state);
        crc = crc_update(crc, buf, n);
        write_all(fd, buf, n, "write");
        left -= n;
    }
    char reply[128];
    size_t got = 0;
    if (framed) {
        /* One line back, once the peer has everything. */
        while (got < sizeof(reply) - 1 && (got == 0 || reply[got - 1] != '\n')) {
            ssize_t n = read(fd, reply + got, 1);
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0)
                errno = ECONNRESET;
            if (n <= 0)
                fail("read reply");
            got += (size_t)n;
        }
        while (got > 0 && (reply[got - 1] == '\n' || reply[got - 1] == '\r'))
            got--;
    } else {
        /* The receiver closes once it has read our EOF: then all arrived. */
        if (shutdown(fd, SHUT_WR) != 0)
            fail("shutdown");
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) != 0)
            if (n < 0 && errno != EINTR)
                fail("read until the peer closes");
    }
    reply[got] = '\0';
    double t = now_s() - t0;
    close(fd);
    report(framed ? "xfer" : "send", bytes, crc, t);
    if (framed) {
        for (size_t i = 0; i < got; i++)
            if (reply[i] < ' ' || reply[i] > '~')
                reply[i] = '?';
        printf("nettool: reply %s\n", reply);
    }
    return 0;
}

static _Noreturn void do_echo(const char *port)
{
    static unsigned char buf[CHUNK];
    int lfd = listen_on(port);

    for (;;) {
        int fd = accept_one(lfd);
        nodelay(fd);
        for (;;) {
            ssize_t n = read(fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            write_all(fd, buf, (size_t)n, "echo write");
        }
        close(fd);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static int do_rr(int argc, char **argv)
{
    if (argc != 5 && argc != 6)
        usage();
    unsigned count = (unsigned)number(argv[4], 1, RR_MAX_COUNT);
    size_t size = argc == 6 ? (size_t)number(argv[5], 1, RR_MAX_SIZE) : 1;
    static unsigned char out[RR_MAX_SIZE], in[RR_MAX_SIZE];
    double *lat = malloc(count * sizeof(*lat));
    if (!lat)
        fail("malloc");
    int fd = connect_to(argv[2], argv[3]);
    nodelay(fd);
    double sum = 0;

    for (unsigned i = 0; i < RR_WARMUP + count; i++) {
        memset(out, (int)(i & 0xff), size);
        double t0 = now_s();
        write_all(fd, out, size, "rr write");
        read_exact(fd, in, size, "rr read");
        double t = (now_s() - t0) * 1e6;
        if (memcmp(in, out, size) != 0) {
            errno = EIO;
            fail("rr: the answer differs from the request");
        }
        if (i >= RR_WARMUP) {
            lat[i - RR_WARMUP] = t;
            sum += t;
        }
    }
    close(fd);
    qsort(lat, count, sizeof(*lat), cmp_double);
    double median = count % 2 ? lat[count / 2] : (lat[count / 2 - 1] + lat[count / 2]) / 2;
    printf("nettool: rr %u x %zu bytes median %.1f us mean %.1f us min %.1f us max %.1f us\n", count, size, median,
           sum / count, lat[0], lat[count - 1]);
    free(lat);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    crc_init();
    if (strcmp(argv[1], "recv") == 0 && argc == 3)
        return do_recv(argv[2]);
    if (strcmp(argv[1], "send") == 0)
        return do_send(argc, argv, 0);
    if (strcmp(argv[1], "xfer") == 0)
        return do_send(argc, argv, 1);
    if (strcmp(argv[1], "echo") == 0 && argc == 3)
        do_echo(argv[2]);
    if (strcmp(argv[1], "rr") == 0)
        return do_rr(argc, argv);
    usage();
}
