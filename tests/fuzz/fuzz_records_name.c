/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_records_name.c - fuzzes the names of persons (src/records/name.c):
 * name_tokenize(), name_token_sim(), name_token_join() and name_match().
 * The input is two names, split at its first NUL byte (no NUL: the input
 * twice).
 *
 * A name past NAME_INPUT_MAX bytes must be AM_ETOOBIG; otherwise invalid
 * UTF-8 (or a NUL) is AM_EINVAL, and nothing else fails but too many
 * tokens, which must fail again with a smaller max. On success: at most
 * max tokens, and the same ones again with max = n; each fold valid UTF-8,
 * not empty, terminated in its array, and a fixed point (tokenized alone it
 * gives back the same token); each key lower-case ASCII letters,
 * terminated; nsym <= NAME_SYM_MAX; the script Latin or Arabic. Scores in
 * [0, 1], token scores symmetric, 1 for a token with symbols against
 * itself; joins of adjacent tokens of one script keep the same rules. Any
 * failed check is abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "records/name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_records_name: %s\n", what);
    abort();
}

static void check_token(const struct name_token *t)
{
    size_t f = strnlen(t->fold, NAME_FOLD_SZ), k = strnlen(t->key, NAME_KEY_SZ);
    if (f == 0 || f >= NAME_FOLD_SZ || !am_utf8_valid(t->fold, f))
        fail("a fold empty, unterminated or not UTF-8");
    if (k >= NAME_KEY_SZ)
        fail("a key unterminated");
    for (size_t i = 0; i < k; i++)
        if (t->key[i] < 'a' || t->key[i] > 'z')
            fail("a key with something else than a-z");
    if (t->nsym > NAME_SYM_MAX)
        fail("too many symbols");
    if (t->script != NAME_LATIN && t->script != NAME_ARABIC)
        fail("a token of no script");
    if (t->nsym && name_token_sim(t, t) != 1.0)
        fail("a token is not itself");
}

static bool same_token(const struct name_token *a, const struct name_token *b)
{
    return !strcmp(a->fold, b->fold) && !strcmp(a->key, b->key) && a->nsym == b->nsym &&
           !memcmp(a->sym, b->sym, a->nsym) && a->script == b->script && a->particle == b->particle;
}

/* Tokenizes one name and checks it; returns the token count (0 on a refusal). */
static size_t check_name(const char *s, size_t len, struct name_token *t)
{
    size_t n = 99;
    int rc = name_tokenize(s, len, t, NAME_TOKENS_MAX, &n);
    if (len > NAME_INPUT_MAX) {
        if (rc != AM_ETOOBIG)
            fail("a name past NAME_INPUT_MAX was not refused");
        return 0;
    }
    bool valid = am_utf8_valid(s, len);
    if (rc == AM_EINVAL) {
        if (valid)
            fail("valid UTF-8 refused as invalid");
        return 0;
    }
    if (!valid)
        fail("invalid UTF-8 accepted");
    if (rc == AM_ETOOBIG) {
        struct name_token small[2];
        if (n != 0 || name_tokenize(s, len, small, 2, &n) != AM_ETOOBIG)
            fail("too many tokens, but not with a smaller max");
        return 0;
    }
    if (rc != 0 || n > NAME_TOKENS_MAX)
        fail("an unexpected result");
    for (size_t i = 0; i < n; i++) {
        check_token(&t[i]);
        struct name_token alone;
        size_t m;
        if (name_tokenize(t[i].fold, strlen(t[i].fold), &alone, 1, &m) != 0 || m != 1 ||
            !same_token(&alone, &t[i]))
            fail("a fold is not a fixed point");
        if (i + 1 < n) {
            struct name_token joined;
            int jr = name_token_join(&t[i], &t[i + 1], &joined);
            if (jr != (t[i].script == t[i + 1].script ? 0 : AM_EINVAL))
                fail("a join refused or accepted wrongly");
            if (!jr) {
                check_token(&joined);
                if (joined.particle)
                    fail("a join is a particle");
            }
        }
    }
    if (n) {
        struct name_token again[NAME_TOKENS_MAX];
        size_t m;
        if (name_tokenize(s, len, again, n, &m) != 0 || m != n)
            fail("max = n does not give the n tokens");
        for (size_t i = 0; i < n; i++)
            if (!same_token(&again[i], &t[i]))
                fail("tokenizing twice differs");
        if (name_tokenize(s, len, again, n - 1, &m) != AM_ETOOBIG)
            fail("max = n - 1 is not AM_ETOOBIG");
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *a = (const char *)data, *b = a;
    size_t la = size, lb = size;
    const uint8_t *nul = memchr(data, 0, size);
    if (nul) {
        la = (size_t)(nul - data);
        b = (const char *)nul + 1;
        lb = size - la - 1;
    }
    struct name_token ta[NAME_TOKENS_MAX], tb[NAME_TOKENS_MAX];
    size_t na = check_name(a, la, ta), nb = check_name(b, lb, tb);
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            double ab = name_token_sim(&ta[i], &tb[j]), ba = name_token_sim(&tb[j], &ta[i]);
            if (!(ab >= 0.0 && ab <= 1.0))
                fail("a token score out of [0, 1]");
            if (ab != ba)
                fail("a token score not symmetric");
        }
    double m = name_match(ta, na, tb, nb), r = name_match(tb, nb, ta, na);
    if (!(m >= 0.0 && m <= 1.0) || !(r >= 0.0 && r <= 1.0))
        fail("a name score out of [0, 1]");
    if ((!na || !nb) && (m != 0.0 || r != 0.0))
        fail("a name without tokens scores");
    return 0;
}
