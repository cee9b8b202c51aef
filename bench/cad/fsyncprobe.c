/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fsyncprobe.c - the disk's yardstick for the CAD benchmark: rewrites one
 * 4 KiB block of a file and fdatasync()s it, in a loop, and reports the
 * latency of each flush. A durable commit cannot be answered faster than
 * one flush, so the p99 and the maximum here bound what any server that
 * commits to this disk can promise, amane and PostgreSQL alike.
 *
 * Usage: cad_fsyncprobe DIR [SECONDS]   (default 5 s)
 * Output: one JSON line on stdout; the file it made is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/bench.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double rank_ms(const int64_t *v, size_t n, double q)
{
    size_t k = (size_t)ceil(q * (double)n);
    return n ? v[(k < 1 ? 1 : k) - 1] / 1000.0 : 0;
}

int main(int argc, char **argv)
{
    bench_prog = "fsyncprobe";
    if (argc < 2 || argc > 3) {
        fputs("usage: cad_fsyncprobe DIR [SECONDS]\n", stderr);
        return 2;
    }
    int seconds = argc == 3 ? atoi(argv[2]) : 5;
    if (seconds < 1 || seconds > 600) {
        fputs("cad_fsyncprobe: SECONDS must be 1..600\n", stderr);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/fsyncprobe.%d", argv[1], (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "cad_fsyncprobe: cannot open '%s': %s\n", path, strerror(errno));
        return 1;
    }
    unlink(path);
    char block[4096];
    memset(block, 'x', sizeof(block));
    size_t n = 0, cap = 65536;
    int64_t *lat = malloc(cap * sizeof(*lat));
    int rc = 0;
    int64_t end = mono_us() + (int64_t)seconds * 1000000;
    while (lat && mono_us() < end) {
        block[n % sizeof(block)]++;
        int64_t t0 = mono_us();
        if (pwrite(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block) || fdatasync(fd)) {
            fprintf(stderr, "cad_fsyncprobe: write or fdatasync failed: %s\n", strerror(errno));
            rc = 1;
            break;
        }
        if (n == cap) {
            cap *= 2;
            int64_t *p = realloc(lat, cap * sizeof(*lat));
            if (!p)
                break;
            lat = p;
        }
        lat[n++] = mono_us() - t0;
    }
    close(fd);
    if (!lat || !n)
        return 1;
    qsort(lat, n, sizeof(*lat), cmp_i64);
    printf("{\"tool\":\"fsyncprobe\",\"seconds\":%d,\"flushes\":%zu,\"per_s\":%.1f,\"p50_ms\":%.3f,"
           "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
           seconds, n, (double)n / seconds, rank_ms(lat, n, 0.5), rank_ms(lat, n, 0.9),
           rank_ms(lat, n, 0.99), rank_ms(lat, n, 0.999), lat[n - 1] / 1000.0);
    free(lat);
    return rc;
}
