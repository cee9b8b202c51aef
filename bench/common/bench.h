/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * bench.h - what the load generators and peers of bench/ share besides
 * their samples: messages on stderr under the program's name, and the two
 * clocks in microseconds.
 */
#ifndef AM_BENCH_BENCH_H
#define AM_BENCH_BENCH_H

#include <stdint.h>

/* The program's name in its messages; main() sets it first. */
extern const char *bench_prog;

/* "prog: message" on stderr, then exit(1). */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* "prog: message" on stderr. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* CLOCK_MONOTONIC and CLOCK_REALTIME in microseconds. */
int64_t mono_us(void);
int64_t real_us(void);

#endif
