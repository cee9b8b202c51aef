/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * plate.h - private to src/records: identity card numbers and vehicle
 * plates, parsed from what people and cameras write and normalised to one
 * key, so that `12345 | أ | 6`, `12345-A-6` and `12345أ6` are the same
 * vehicle, and common reading errors (0/O/D, 8/B, 1/I) can be tried at a
 * lower score. Pure functions: no I/O, no globals, bounded input.
 */
#ifndef AM_RECORDS_PLATE_H
#define AM_RECORDS_PLATE_H

#include <stddef.h>
#include <stdint.h>

#include "records/records.h"

#define PLATE_INPUT_MAX 64 /* bytes of a plate as written; longer is AM_ETOOBIG */

struct plate {
    enum records_plate_kind kind;
    char key[REC_PLATE_KEY_SZ]; /* canonical ASCII key, e.g. "12345-A-6", "WW-123456",
                                   "CD-12-345", "F:FR:AB123CD" (see plate.c) */
    char display[REC_PLATE_SZ]; /* as a Moroccan plate reads: "12345 | أ | 6", "WW 123456",
                                   "CD 12-345"; a foreign plate: "AB123CD" */
    char country[3];            /* "MA", or the foreign plate's ISO alpha-2 */
};

/*
 * Parses a plate written in any of the accepted forms (plate.c lists them).
 * `country` is the ISO 3166-1 alpha-2 code of a foreign plate (any case),
 * or NULL, "" or "MA" for a Moroccan one (MA, WW, diplomatic). A foreign
 * plate may also be written as its key, "F:FR:AB-123-CD", with no country
 * (or the same one). Every key, and every `display`, parses back to the
 * same key. Returns 0, AM_ETOOBIG past PLATE_INPUT_MAX, or AM_EINVAL with
 * the reason in `why` (why may be NULL).
 */
int plate_parse(const char *text, size_t len, const char *country, struct plate *out, char *why,
                size_t whysz);

/* The scores of plate_variants: one exchanged character, two, and the other order of numbers. */
#define PLATE_SCORE_ONE  0.85
#define PLATE_SCORE_TWO  0.70
#define PLATE_SCORE_SWAP 0.90 /* times the score of the reading whose numbers were swapped */

/* One reading of a plate under common reading errors, with its score (1 = as written). */
struct plate_variant {
    char key[REC_PLATE_KEY_SZ];
    double score;
    int substitutions;
};

/*
 * The readings of `text` to look up: the plate as written first (score 1),
 * then each reading with up to two characters exchanged among the
 * confusable sets (0/O/D/Q, 8/B, 1/I/L, 5/S, 2/Z), each at a lower score
 * (PLATE_SCORE_ONE, PLATE_SCORE_TWO), and for a Moroccan plate whose two
 * numbers could be either way round ("12 A 34") the other order
 * (PLATE_SCORE_SWAP times), only readings that parse, each key once with
 * its best score, best first, at most `max`. Sets *n. Returns 0 (even if
 * none parses: *n = 0), AM_ETOOBIG past PLATE_INPUT_MAX. At most about a
 * thousand parses of the input: cheap enough for every camera read.
 */
int plate_variants(const char *text, size_t len, const char *country, struct plate_variant *out,
                   size_t max, size_t *n);

/*
 * Parses a national identity card number: one or two letters then 1 to 8
 * digits, case and separators (space, '-', '.') ignored: "be 123 456" →
 * "BE123456". Returns 0 or AM_EINVAL with the reason.
 */
int cin_parse(const char *text, size_t len, char out[REC_CIN_SZ], char *why, size_t whysz);

/*
 * A partial CIN to search with: at least 3 characters; letters then digits
 * ("BE12", prefix of a full number) or digits only ("12345", a prefix of
 * the number's digits). Normalised as cin_parse does; *digits_only is set
 * for the second form. AM_EINVAL otherwise.
 */
int cin_parse_partial(const char *text, size_t len, char out[REC_CIN_SZ], int *digits_only,
                      char *why, size_t whysz);

/*
 * Normalises a telephone number to E.164: "0612345678", "06 12 34 56 78",
 * "+212 6 12 34 56 78", "+212 (0)6...", "00212 6..." are all
 * "+212612345678"; a Moroccan number is 9 digits after the trunk 0,
 * starting 5 (fixed), 6 or 7 (mobile) or 8 (other fixed services); a
 * foreign one is "+" or "00", a country code and 8 to 15 digits in all.
 * Spaces, '-', '.', '/' and parentheses are ignored. Returns 0 or AM_EINVAL
 * with the reason. (plate.c)
 */
int records_phone_parse(const char *text, size_t len, char out[REC_PHONE_SZ], char *why,
                        size_t whysz);

#endif
