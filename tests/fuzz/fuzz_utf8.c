/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_utf8.c - fuzzes am_utf8_valid(), the gate in front of every JSON
 * body, path, query argument, user name and configuration file. It compares
 * the answer with a reference written here from the table of well-formed
 * byte sequences in the Unicode Standard (chapter 3, table 3-7), which works
 * on byte ranges instead of decoding code points, and refuses NUL as amane
 * does. It checks the whole input and two of its prefixes, so that sequences
 * cut at the end are covered. Any disagreement is abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool in(uint8_t b, uint8_t lo, uint8_t hi)
{
    return b >= lo && b <= hi;
}

static bool ref_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        /* The second byte's range depends on the lead byte; the rest are 80..BF. */
        uint8_t lo2 = 0x80, hi2 = 0xbf;
        size_t len;
        if (b == 0x00)
            return false;
        if (b <= 0x7f) {
            i++;
            continue;
        } else if (in(b, 0xc2, 0xdf)) {
            len = 2;
        } else if (b == 0xe0) {
            len = 3;
            lo2 = 0xa0;
        } else if (in(b, 0xe1, 0xec) || in(b, 0xee, 0xef)) {
            len = 3;
        } else if (b == 0xed) {
            len = 3;
            hi2 = 0x9f;
        } else if (b == 0xf0) {
            len = 4;
            lo2 = 0x90;
        } else if (in(b, 0xf1, 0xf3)) {
            len = 4;
        } else if (b == 0xf4) {
            len = 4;
            hi2 = 0x8f;
        } else {
            return false; /* 80..C1, F5..FF never start a sequence */
        }
        if (n - i < len || !in(s[i + 1], lo2, hi2))
            return false;
        for (size_t k = 2; k < len; k++)
            if (!in(s[i + k], 0x80, 0xbf))
                return false;
        i += len;
    }
    return true;
}

static void compare(const uint8_t *data, size_t n)
{
    bool got = am_utf8_valid((const char *)data, n);
    bool want = ref_utf8_valid(data, n);
    if (got != want) {
        fprintf(stderr, "fuzz_utf8: am_utf8_valid says %s, the reference %s, on %zu bytes:",
                got ? "valid" : "invalid", want ? "valid" : "invalid", n);
        for (size_t i = 0; i < n && i < 64; i++)
            fprintf(stderr, " %02x", data[i]);
        fprintf(stderr, "\n");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    compare(data, size);
    if (size > 0)
        compare(data, size - 1);
    if (size > 1)
        compare(data, size / 2);
    return 0;
}
