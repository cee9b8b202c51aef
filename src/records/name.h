/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * name.h - private to src/records: names of people across Arabic and Latin
 * script and their spellings. A name is cut into tokens; each token gets a
 * phonetic form that both scripts map to (consonant classes, and vowels
 * where the script writes them), so that محمد, Mohammed, Mohamed and
 * Muhammad compare as near equal while Mahmoud (محمود) scores lower, and a
 * consonant skeleton used as the index key for candidates.
 *
 * Folding ignores case, Latin accents, Arabic diacritics (harakat), tatweel,
 * presentation forms, the forms of hamza, ta marbuta and alef maqsura;
 * compounds are joined (عبد الرحمن, Abderrahmane, Abdul Rahman,
 * Abd-el-Rahmane are one token, and so are Nour Eddine, نور الدين); an
 * article written apart (El Amrani) is dropped, one written joined
 * (العمراني, Elamrani, Ettazi) is a sound that may be missing, left out of
 * the key; particles (ben, bin, ibn, ould, ait, بن, ولد, آيت) are kept as
 * tokens of low weight. Letters of other scripts are ignored. Pure
 * functions: no I/O, bounded input, no state but a table of costs built on
 * first use (thread-safe); no allocation.
 */
#ifndef AM_RECORDS_NAME_H
#define AM_RECORDS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NAME_INPUT_MAX  512 /* bytes of a name to tokenise; longer is AM_ETOOBIG */
#define NAME_TOKENS_MAX 12  /* tokens kept of one name; more are AM_ETOOBIG */
#define NAME_KEY_SZ     24  /* a token's skeleton key, NUL included */
#define NAME_FOLD_SZ    64  /* a token's folded text, NUL included */
#define NAME_SYM_MAX    32  /* phonetic symbols of a token */

enum name_script { NAME_LATIN = 1, NAME_ARABIC = 2 };

struct name_token {
    char fold[NAME_FOLD_SZ];   /* folded text in its own script (lower case, no accents or
                                  harakat, compounds joined): equal folds are the same spelling */
    char key[NAME_KEY_SZ];     /* consonant skeleton, ASCII; equal for most spellings of a
                                  name in either script; the index key */
    uint8_t sym[NAME_SYM_MAX]; /* phonetic symbols (name.c defines the alphabet) */
    uint8_t nsym;
    uint8_t script; /* enum name_script */
    bool particle;  /* ben, bin, ibn, ould, ait... */
};

/*
 * Cuts `text` (UTF-8, Arabic or Latin script or both) into tokens, at most
 * `max` (<= NAME_TOKENS_MAX), into out[]; sets *n (0 for a name with no
 * letters, and on an error). Returns 0, AM_EINVAL for invalid UTF-8 (a NUL
 * byte included), AM_ETOOBIG past NAME_INPUT_MAX bytes or `max` tokens.
 * A word past NAME_FOLD_SZ is cut at a whole letter; a token's symbols are
 * read from its fold alone, so tokenizing a fold gives the token back.
 */
int name_tokenize(const char *text, size_t len, struct name_token *out, size_t max, size_t *n);

/*
 * How alike two tokens are, in [0, 1]: 1 for the same name (whatever the
 * script and spelling), lower with each difference of sound. Symmetric.
 * Tokens without symbols (an Arabic word of hamzas only) compare by fold: 1 or 0.
 */
double name_token_sim(const struct name_token *a, const struct name_token *b);

/*
 * Joins two adjacent tokens of one name into `out`, as if they were written
 * without a space: "Ben" "Jelloun" as Benjelloun, "Fatima" "Zahra" as
 * Fatimazahra, بن جلون as بنجلون. Records write such names either way, so
 * name_match() tries joins on both sides, and an index that wants to find
 * "Benjelloun" from "Ben Jelloun" (and back) can index joins too. The
 * symbols are a's then b's, the key is recomputed from them, the fold is
 * a.fold, a space and b.fold (cut at NAME_FOLD_SZ): no single token has that
 * fold, so equal folds still mean equal symbols. `out` is never a particle.
 * Returns 0, or AM_EINVAL when the scripts differ.
 */
int name_token_join(const struct name_token *a, const struct name_token *b, struct name_token *out);

/*
 * How well a query's tokens match a person's name tokens, in [0, 1]: each
 * query token is paired with its best distinct person token (order free),
 * particles weigh less, an unmatched query token lowers the score; person
 * tokens the query does not mention do not. Both arrays may mix scripts.
 * Two adjacent tokens on either side may also pair, joined, with one token
 * of the other (Ben Jelloun and Benjelloun). The pairing is greedy, best
 * score first; a pair below 0.5 counts as unmatched. The score is the
 * weighted mean over the query's tokens (particles 0.3, others 1).
 */
double name_match(const struct name_token *q, size_t nq, const struct name_token *p, size_t np);

/* Below this a token pair is not a match (the index drops such candidates). */
#define NAME_SIM_MIN 0.70

/*
 * From this name_match() score two names are taken for spellings of the same
 * name: every pair of tests/unit/data/name_pairs.tsv scores at least this in
 * both directions. Different names that share their consonants (Mohamed and
 * Mahmoud, Karim and Karima) can score above it across scripts, where Latin
 * vowels are all Arabic does not write; they rank below the true spelling.
 */
#define NAME_MATCH_MIN 0.80

#endif
