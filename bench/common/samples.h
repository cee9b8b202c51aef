/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * samples.h - latencies of a benchmark run and their percentiles, shared by
 * the load generators and peers of bench/ (cad, ingest), so that every
 * figure in docs/BENCHMARKS.md is computed the same way: nearest rank.
 */
#ifndef AM_BENCH_SAMPLES_H
#define AM_BENCH_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Latencies in microseconds (clamped to 0..UINT32_MAX). Zero-initialise; free v. */
struct samples {
    uint32_t *v;
    size_t n, cap;
};

/* Adds one latency; exits the program if memory runs out (a benchmark cannot go on). */
void samples_add(struct samples *s, int64_t us);
/* Adds every latency of `from` to `into`. */
void samples_merge(struct samples *into, const struct samples *from);
/* Sorts, then {n, p50_ms, p90_ms, p99_ms, p999_ms, max_ms} (new reference). */
json_t *samples_summary(struct samples *s);

#endif
