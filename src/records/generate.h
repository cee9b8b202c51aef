/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * generate.h - private to src/records: realistic synthetic Moroccan records
 * for tests, the demo and benchmarks (`amane records generate`). Common
 * given and family names in Arabic script and in Latin transliteration,
 * drawn with the frequencies of real life (many Mohammeds), several Latin
 * spellings of the same Arabic name as civil registries wrote them, CINs
 * with the letters of real issuing offices, plates with real prefecture
 * codes and the series letters in use, real makes and models. Deterministic
 * for a seed: the same seed gives the same records.
 */
#ifndef AM_RECORDS_GENERATE_H
#define AM_RECORDS_GENERATE_H

#include <stdint.h>

#include "records/records.h"

struct records_gen {
    uint64_t state; /* PRNG state (private): the seed; each record has its own stream */
    int64_t persons, vehicles, hotlist; /* how many made so far */
};

/*
 * Every record is a pure function of the seed, its kind and its index, so
 * that the sequential functions below and the `_at` ones give the same
 * records, in any order, from any number of threads. Nothing is allocated:
 * the records are filled in place, zero past the end of every string.
 *
 * Uniqueness: CINs are unique among the first 35 million persons of a seed
 * (numbers of 6 digits, the offices weighted), and beyond (7 and 8 digits)
 * up to 5 billion; plates among the first 62 million vehicles (the first 18
 * million weighted by prefecture, with WW, foreign and diplomatic plates);
 * VINs among the first 990 million.
 */

/* Starts a generator from `seed`. */
void records_gen_init(struct records_gen *g, uint64_t seed);
/* The next person: CINs unique across one generator's output. */
void records_gen_person(struct records_gen *g, struct records_person *out);
/*
 * The next vehicle: plates and VINs unique across one generator's output;
 * the owner is one of the first `persons` persons this seed makes (by CIN),
 * or none if `persons` is 0.
 */
void records_gen_vehicle(struct records_gen *g, int64_t persons, struct records_vehicle *out);
/*
 * The next hotlist entry: a stolen vehicle among the first `vehicles`
 * vehicles, or a wanted or missing person among the first `persons`
 * persons (by plate or CIN), with reason, service, validity and action.
 */
void records_gen_hotlist(struct records_gen *g, int64_t persons, int64_t vehicles,
                         struct records_hotlist *out);

/* The CIN of person `index` (>= 0) of `seed`, as records_gen_person gives it. */
void records_gen_cin(uint64_t seed, int64_t index, char out[REC_CIN_SZ]);
/* Person `index` (>= 0) of `seed`: the (index + 1)th records_gen_person. */
void records_gen_person_at(uint64_t seed, int64_t index, struct records_person *out);
/* Vehicle `index` (>= 0) of `seed`, its owner among the first `persons` persons. */
void records_gen_vehicle_at(uint64_t seed, int64_t index, int64_t persons,
                            struct records_vehicle *out);
/*
 * Hotlist entry `index` (>= 0) of `seed`, naming one of the first `persons`
 * persons or `vehicles` vehicles; different entries name different ones
 * while index is below their count. A stolen foreign vehicle's plate is
 * written "F:FR:AB-123-CD" (the entry has no country field). Validity is
 * counted from `today` ("YYYY-MM-DD"); NULL is the fixed day the sequential
 * function uses (2026-11-29), so that a seed always gives the same entries.
 */
void records_gen_hotlist_at(uint64_t seed, int64_t index, int64_t persons, int64_t vehicles,
                            const char *today, struct records_hotlist *out);

#endif
