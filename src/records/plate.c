/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * plate.c - vehicle plates, national identity card numbers (CIN) and
 * telephone numbers as people, registries and cameras write them, parsed
 * and normalised to one key each, so that the same vehicle or person is
 * found whatever the spelling. Pure functions: no I/O, no globals.
 *
 * Moroccan plates (REC_PLATE_MA) are a serial number (1 to 99999), an
 * Arabic series letter and a prefecture code (1 to 89). Accepted forms:
 *
 *   12345 | أ | 6    12345-أ-6    12345أ6    12345 A 6    12345-A-6    12345A6
 *
 * Separators are ignored: space, tab, '|', '-', '.', '/', dashes and
 * no-break spaces of Unicode, and the invisible direction marks that Arabic
 * text pasted from elsewhere carries; tatweel and harakat are ignored too
 * (so "هـ" is ه). Lower case is upper case. Arabic-Indic digits (٠-٩, ۰-۹)
 * are digits. Leading zeros do not count: "00123" is serial 123.
 *
 * Order. The serial comes first as the plate reads from left to right. Text
 * typed in an Arabic context sometimes gives the numbers the other way round
 * ("6 | أ | 12345"); that order is read only when it is the only valid one:
 * the written order is tried first (serial of 1-5 digits, then a code of
 * 1-89), and the reversed order when the written one is not valid (a last
 * number of 3 or more digits, or a first one that is no prefecture code:
 * "6 أ 12345" is 12345-A-6, "12 A 95" is 95-A-12). When both orders are
 * valid (both numbers 1-89: "12 A 34") the written order wins and
 * plate_variants() offers the other at a lower score (PLATE_SCORE_SWAP).
 *
 * Series letters. Each Arabic letter has one canonical Latin code, used in
 * keys and accepted as input in its place, so that the key is the same
 * whether the letter was typed in Arabic or in Latin:
 *
 *   أ A    ب B    ت TT   ث TH   ج J    ح HH   خ KH   د D    ذ DH   ر R
 *   ز Z    س S    ش SH   ص SS   ض DD   ط T    ظ ZZ   ع AA   غ GH   ف F
 *   ق Q    ك K    ل L    م M    ن N    ه H    و W    ي Y    ڭ G    ڤ V
 *
 * The letters of the series in use (أ ب د ه و ط ي) take the single Latin
 * letter people write for them; the others take a single letter when it is
 * unambiguous and a doubled or two-letter code otherwise (ح HH beside ه H,
 * ت TT beside ط T). Also read: ا إ آ ٱ as أ; ى ی as ي; ک as ك; ھ ە ہ as ه;
 * گ as ڭ; and in Latin E for ه (many write it so) and CH for ش. O is NOT
 * read as و: O is the classic misreading of 0 (and D), so a plate written
 * with O is refused, and plate_variants() tries 0, D and Q in its place.
 *
 * Keys: "12345-A-6" (serial and code without leading zeros), "WW-123456",
 * "CD-12-345", "F:FR:AB123CD". Every key is ASCII and parses back to itself
 * (with no country), and `display` to the same key (with the plate's country).
 *
 * WW plates (REC_PLATE_WW, a new vehicle not registered yet): "WW" and a
 * number of 1 to 6 digits, either order: "WW 123456", "WW-123456",
 * "WW123456", "123456 WW". Key "WW-123456".
 *
 * Diplomatic plates (REC_PLATE_DIPLOMATIC): the series CD (corps
 * diplomatique), CMD (chef de mission) or CC (corps consulaire) and two
 * numbers of 1 to 5 digits (the mission, then the vehicle), the series
 * before, between or after them: "CD 12-345", "12 CD 345", "12-345 CD".
 * The numbers keep their written order; key "CD-12-345". Written without a
 * separator between the two numbers ("CD 12345") the split is unknown and
 * the plate is refused. The Arabic forms (هـ د...) are not read.
 *
 * Foreign plates (REC_PLATE_FOREIGN): given with the ISO 3166-1 alpha-2
 * code of their country (any case; "MA" or none means a Moroccan plate),
 * or written as their key "F:FR:AB-123-CD". Separators are dropped, letters
 * upper-cased; what is left must be 2 to 10 characters of A-Z and 0-9 (a
 * plate with other letters is refused rather than silently cut). Key
 * "F:FR:AB123CD".
 *
 * Reading errors (plate_variants). Cameras and people confuse 0/O/D/Q,
 * 8/B, 1/I/L, 5/S and 2/Z, a letter position being read as a digit and the
 * other way round ("12345 8 6" has no letter; with B it is 12345-B-6). The
 * readings tried: as written (score 1), each one with one character
 * exchanged within its set (PLATE_SCORE_ONE), then with two
 * (PLATE_SCORE_TWO), each only if it parses, each key once with its best
 * score, best first; a Moroccan reading whose numbers could be either way
 * round also gives the other order at PLATE_SCORE_SWAP times its score.
 * Only the first VARIANT_POSITIONS confusable characters are exchanged,
 * more than any plate form holds (the longest, CMD and two numbers of five
 * digits, has 13 characters): at most about 1,100 parses of 64 bytes.
 * Example: "1234586" (no letter) gives exactly three readings, all at 0.85:
 * 12345-B-6 (8 read as B), 1234-S-86 (5 as S) and 34586-Z-1 (2 as Z, the
 * numbers then the other way round); two exchanges always leave two letters.
 *
 * CIN: one or two letters (the issuing office) and 1 to 8 digits; case,
 * spaces, '-' and '.' ignored: "be 123.456" is "BE123456". Leading zeros of
 * the number are kept (they are part of the number on the card).
 *
 * Telephone numbers are normalised to E.164 (records_phone_parse, below).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "records/plate.h"

/* Confusable characters looked at by plate_variants; more are left as written. */
#define VARIANT_POSITIONS 16
/* Distinct readings collected before the best `max` are kept. */
#define VARIANT_KEEP 256

/* ------------------------------------------------------------ the letters */

struct plate_letter {
    uint32_t cp;      /* the Arabic letter */
    const char *code; /* its canonical Latin code */
};

/* Canonical letters first: the first entry of a code is the letter shown in `display`. */
static const struct plate_letter plate_letters[] = {
    {0x0623, "A"},
    {0x0628, "B"},
    {0x062A, "TT"},
    {0x062B, "TH"},
    {0x062C, "J"},
    {0x062D, "HH"},
    {0x062E, "KH"},
    {0x062F, "D"},
    {0x0630, "DH"},
    {0x0631, "R"},
    {0x0632, "Z"},
    {0x0633, "S"},
    {0x0634, "SH"},
    {0x0635, "SS"},
    {0x0636, "DD"},
    {0x0637, "T"},
    {0x0638, "ZZ"},
    {0x0639, "AA"},
    {0x063A, "GH"},
    {0x0641, "F"},
    {0x0642, "Q"},
    {0x0643, "K"},
    {0x0644, "L"},
    {0x0645, "M"},
    {0x0646, "N"},
    {0x0647, "H"},
    {0x0648, "W"},
    {0x064A, "Y"},
    {0x06AD, "G"},
    {0x06A4, "V"},
    /* Other forms of the same letters. */
    {0x0627, "A"},
    {0x0625, "A"},
    {0x0622, "A"},
    {0x0671, "A"},
    {0x0649, "Y"},
    {0x06CC, "Y"},
    {0x06A9, "K"},
    {0x06BE, "H"},
    {0x06D5, "H"},
    {0x06C1, "H"},
    {0x06AF, "G"},
};
#define PLATE_NLETTERS (sizeof(plate_letters) / sizeof(plate_letters[0]))

/* Latin spellings that are not a canonical code. */
static const struct {
    const char *latin, *code;
} plate_aliases[] = {{"E", "H"}, {"CH", "SH"}};

static const char *const diplomatic_series[] = {"CD", "CMD", "CC"};

static const char *letter_code_of_cp(uint32_t cp)
{
    for (size_t i = 0; i < PLATE_NLETTERS; i++)
        if (plate_letters[i].cp == cp)
            return plate_letters[i].code;
    return NULL;
}

/* The canonical code for a Latin spelling, or NULL. */
static const char *letter_code_of_latin(const char *s)
{
    for (size_t i = 0; i < PLATE_NLETTERS; i++)
        if (strcmp(plate_letters[i].code, s) == 0)
            return plate_letters[i].code;
    for (size_t i = 0; i < sizeof(plate_aliases) / sizeof(plate_aliases[0]); i++)
        if (strcmp(plate_aliases[i].latin, s) == 0)
            return plate_aliases[i].code;
    return NULL;
}

static uint32_t letter_cp_of_code(const char *code)
{
    for (size_t i = 0; i < PLATE_NLETTERS; i++)
        if (strcmp(plate_letters[i].code, code) == 0)
            return plate_letters[i].cp;
    return 0;
}

/* ------------------------------------------------------------ characters */

enum plate_char_kind { PC_BAD, PC_SEP, PC_IGNORE, PC_DIGIT, PC_LATIN, PC_ARABIC };

/*
 * What code point `cp` is in a plate; sets *ascii to the digit or the upper
 * case Latin letter, *code to an Arabic letter's code.
 */
static enum plate_char_kind plate_char(uint32_t cp, char *ascii, const char **code)
{
    if (cp >= '0' && cp <= '9') {
        *ascii = (char)cp;
        return PC_DIGIT;
    }
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z')) {
        *ascii = (char)(cp & ~0x20u);
        return PC_LATIN;
    }
    if (cp >= 0x0660 && cp <= 0x0669) {
        *ascii = (char)('0' + (cp - 0x0660));
        return PC_DIGIT;
    }
    if (cp >= 0x06F0 && cp <= 0x06F9) {
        *ascii = (char)('0' + (cp - 0x06F0));
        return PC_DIGIT;
    }
    switch (cp) {
    case ' ':
    case '\t':
    case '|':
    case '-':
    case '.':
    case '/':
    case 0x00A0: /* no-break space */
    case 0x2007:
    case 0x202F:
    case 0x2212: /* minus sign */
    case 0x061C: /* Arabic letter mark */
    case 0xFEFF: /* byte order mark */
        return PC_SEP;
    case 0x0640: /* tatweel: هـ is ه */
        return PC_IGNORE;
    default:
        break;
    }
    if ((cp >= 0x2010 && cp <= 0x2015) || (cp >= 0x200B && cp <= 0x200F) ||
        (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
        return PC_SEP;
    if ((cp >= 0x064B && cp <= 0x065F) || cp == 0x0670)
        return PC_IGNORE; /* harakat */
    const char *c = letter_code_of_cp(cp);
    if (c) {
        *code = c;
        return PC_ARABIC;
    }
    return PC_BAD;
}

/* Names a character that cannot be part of a plate, for a reason. */
static void char_name(uint32_t cp, char *buf, size_t sz)
{
    if (cp > 0x20 && cp < 0x7f)
        snprintf(buf, sz, "'%c'", (char)cp);
    else
        snprintf(buf, sz, "U+%04X", (unsigned)cp);
}

/* Names a byte of ASCII-only input (CIN, phone) that is not allowed there. */
static void byte_name(char c, char *buf, size_t sz)
{
    if (c > 0x20 && c < 0x7f)
        snprintf(buf, sz, "'%c'", c);
    else if (c & 0x80)
        snprintf(buf, sz, "a non-ASCII character");
    else
        snprintf(buf, sz, "a control character");
}

/* ------------------------------------------------------------ the parts */

enum part_kind { PART_DIGITS = 1, PART_LATIN, PART_ARABIC };

#define PARTS_MAX 3

/* A plate cut into runs of digits and of letters; an Arabic letter is a part of its own. */
struct plate_parts {
    int n;
    struct {
        enum part_kind kind;
        size_t len;
        char text[PLATE_INPUT_MAX + 1]; /* ASCII digits, upper-case letters, or a letter's code */
    } p[PARTS_MAX];
};

static int parts_cut(const char *text, size_t len, struct plate_parts *pp, char *why, size_t whysz)
{
    pp->n = 0;
    int cur = -1; /* the part being extended, or -1 after a separator */
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = am_utf8_decode(text + i, len - i, &cp);
        if (!k)
            return am_why(why, whysz, AM_EINVAL, "not valid UTF-8");
        i += k;
        char ascii = 0;
        const char *code = NULL;
        enum plate_char_kind ck = plate_char(cp, &ascii, &code);
        if (ck == PC_BAD) {
            char name[16];
            char_name(cp, name, sizeof(name));
            return am_why(why, whysz, AM_EINVAL, "%s cannot be part of a plate", name);
        }
        if (ck == PC_IGNORE)
            continue;
        if (ck == PC_SEP) {
            cur = -1;
            continue;
        }
        enum part_kind want = ck == PC_DIGIT   ? PART_DIGITS
                              : ck == PC_LATIN ? PART_LATIN
                                               : PART_ARABIC;
        if (cur < 0 || pp->p[cur].kind != want || want == PART_ARABIC) {
            if (pp->n == PARTS_MAX)
                return am_why(why, whysz, AM_EINVAL,
                              "too many parts for a plate (number, letter, number)");
            cur = pp->n++;
            pp->p[cur].kind = want;
            pp->p[cur].len = 0;
            pp->p[cur].text[0] = '\0';
        }
        const char *add = want == PART_ARABIC ? code : &ascii;
        size_t addlen = want == PART_ARABIC ? strlen(code) : 1;
        /* The input is at most PLATE_INPUT_MAX bytes and no code is longer than its letter. */
        memcpy(pp->p[cur].text + pp->p[cur].len, add, addlen);
        pp->p[cur].len += addlen;
        pp->p[cur].text[pp->p[cur].len] = '\0';
    }
    if (pp->n == 0)
        return am_why(why, whysz, AM_EINVAL, "no plate: no digits or letters");
    return 0;
}

/* The digits of a part without leading zeros ("" for zero); its length. */
static size_t digits_significant(const char *digits, const char **sig)
{
    while (*digits == '0')
        digits++;
    *sig = digits;
    return strlen(digits);
}

/* The value of a number part, or -1 if it has more than `maxdigits` significant digits. */
static long part_value(const char *digits, size_t maxdigits)
{
    const char *sig;
    size_t n = digits_significant(digits, &sig);
    if (n > maxdigits)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (sig[i] - '0');
    return v;
}

/* ------------------------------------------------------------ plate forms */

static void set_display_ma(struct plate *out, long serial, const char *code, long pref)
{
    char letter[8];
    size_t k = am_utf8_encode(letter_cp_of_code(code), letter);
    if (strcmp(code, "H") == 0)
        k += am_utf8_encode(0x0640, letter + k); /* ه is written هـ on plates */
    letter[k] = '\0';
    snprintf(out->display, sizeof(out->display), "%ld | %s | %ld", serial, letter, pref);
}

static bool ma_valid(long serial, long pref)
{
    return serial >= 1 && serial <= 99999 && pref >= 1 && pref <= 89;
}

static int parse_ma(const struct plate_parts *pp, const char *code, struct plate *out,
                    char alt[REC_PLATE_KEY_SZ], char *why, size_t whysz)
{
    const char *a = pp->p[0].text, *b = pp->p[2].text;
    long va = part_value(a, 5), vb = part_value(b, 5);
    bool written = ma_valid(va, vb), reversed = ma_valid(vb, va);
    long serial, pref;
    if (written) {
        serial = va;
        pref = vb;
    } else if (reversed) {
        serial = vb;
        pref = va;
    } else if (va == 0 || vb == 0) {
        return am_why(why, whysz, AM_EINVAL, "a plate number cannot be 0");
    } else if ((va < 0 || va > 89) && (vb < 0 || vb > 89)) {
        return am_why(why, whysz, AM_EINVAL,
                      "no prefecture code: one of the numbers must be 1 to 89");
    } else {
        return am_why(why, whysz, AM_EINVAL, "the serial number has at most 5 digits");
    }
    out->kind = REC_PLATE_MA;
    am_strlcpy(out->country, "MA", sizeof(out->country));
    snprintf(out->key, sizeof(out->key), "%ld-%s-%ld", serial, code, pref);
    set_display_ma(out, serial, code, pref);
    if (alt && written && reversed && va != vb)
        snprintf(alt, REC_PLATE_KEY_SZ, "%ld-%s-%ld", vb, code, va);
    return 0;
}

static bool is_diplomatic(const char *s)
{
    for (size_t i = 0; i < sizeof(diplomatic_series) / sizeof(diplomatic_series[0]); i++)
        if (strcmp(s, diplomatic_series[i]) == 0)
            return true;
    return false;
}

static int parse_diplomatic(const struct plate_parts *pp, int letter, struct plate *out, char *why,
                            size_t whysz)
{
    const char *series = pp->p[letter].text;
    if (pp->n != 3 || pp->p[letter].kind != PART_LATIN)
        return am_why(why, whysz, AM_EINVAL,
                      "a diplomatic plate has two numbers, separated (%s 12-345)", series);
    const char *num[2];
    int k = 0;
    for (int i = 0; i < 3; i++) {
        if (i == letter)
            continue;
        if (pp->p[i].kind != PART_DIGITS)
            return am_why(why, whysz, AM_EINVAL,
                          "a diplomatic plate has one series and two numbers");
        long v = part_value(pp->p[i].text, 5);
        if (v <= 0)
            return am_why(why, whysz, AM_EINVAL,
                          "the numbers of a diplomatic plate are 1 to 99999");
        digits_significant(pp->p[i].text, &num[k++]);
    }
    out->kind = REC_PLATE_DIPLOMATIC;
    am_strlcpy(out->country, "MA", sizeof(out->country));
    snprintf(out->key, sizeof(out->key), "%s-%s-%s", series, num[0], num[1]);
    snprintf(out->display, sizeof(out->display), "%s %s-%s", series, num[0], num[1]);
    return 0;
}

static int parse_ww(const struct plate_parts *pp, int letter, struct plate *out, char *why,
                    size_t whysz)
{
    if (pp->n != 2 || pp->p[1 - letter].kind != PART_DIGITS)
        return am_why(why, whysz, AM_EINVAL, "a WW plate is WW and one number (WW 123456)");
    const char *sig;
    long v = part_value(pp->p[1 - letter].text, 6);
    if (v <= 0)
        return am_why(why, whysz, AM_EINVAL, "the number of a WW plate is 1 to 6 digits, not 0");
    digits_significant(pp->p[1 - letter].text, &sig);
    out->kind = REC_PLATE_WW;
    am_strlcpy(out->country, "MA", sizeof(out->country));
    snprintf(out->key, sizeof(out->key), "WW-%s", sig);
    snprintf(out->display, sizeof(out->display), "WW %s", sig);
    return 0;
}

static int parse_moroccan(const char *text, size_t len, struct plate *out,
                          char alt[REC_PLATE_KEY_SZ], char *why, size_t whysz)
{
    struct plate_parts pp;
    int rc = parts_cut(text, len, &pp, why, whysz);
    if (rc)
        return rc;
    int letter = -1, nletters = 0;
    for (int i = 0; i < pp.n; i++) {
        if (pp.p[i].kind != PART_DIGITS) {
            letter = i;
            nletters++;
        }
    }
    if (nletters == 0)
        return am_why(why, whysz, AM_EINVAL,
                      "no series letter: a plate reads serial | letter | prefecture (12345 | أ | "
                      "6)");
    if (nletters > 1)
        return am_why(why, whysz, AM_EINVAL, "more than one letter group in the plate");
    const char *ltext = pp.p[letter].text;
    if (pp.p[letter].kind == PART_LATIN) {
        if (strcmp(ltext, "WW") == 0)
            return parse_ww(&pp, letter, out, why, whysz);
        if (is_diplomatic(ltext))
            return parse_diplomatic(&pp, letter, out, why, whysz);
    }
    const char *code = pp.p[letter].kind == PART_ARABIC ? ltext : letter_code_of_latin(ltext);
    if (!code) {
        if (strcmp(ltext, "O") == 0)
            return am_why(why, whysz, AM_EINVAL,
                          "'O' is not a series letter: write W for و (O is read for 0)");
        return am_why(why, whysz, AM_EINVAL, "'%.8s' is not a series letter", ltext);
    }
    if (pp.n != 3 || letter != 1)
        return am_why(why, whysz, AM_EINVAL,
                      "a plate reads serial | letter | prefecture (12345 | أ | 6)");
    return parse_ma(&pp, code, out, alt, why, whysz);
}

static int parse_foreign(const char *text, size_t len, const char cc[3], struct plate *out,
                         char *why, size_t whysz)
{
    char norm[PLATE_INPUT_MAX + 1];
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = am_utf8_decode(text + i, len - i, &cp);
        if (!k)
            return am_why(why, whysz, AM_EINVAL, "not valid UTF-8");
        i += k;
        char ascii = 0;
        const char *code = NULL;
        enum plate_char_kind ck = plate_char(cp, &ascii, &code);
        if (ck == PC_SEP || ck == PC_IGNORE)
            continue;
        if (ck != PC_DIGIT && ck != PC_LATIN) {
            char name[16];
            char_name(cp, name, sizeof(name));
            return am_why(why, whysz, AM_EINVAL,
                          "a foreign plate is written with A-Z and 0-9 (%s is neither)", name);
        }
        norm[n++] = ascii;
    }
    norm[n] = '\0';
    if (n < 2 || n > 10)
        return am_why(why, whysz, AM_EINVAL,
                      "a foreign plate has 2 to 10 letters and digits (this one has %zu)", n);
    out->kind = REC_PLATE_FOREIGN;
    memcpy(out->country, cc, 3);
    snprintf(out->key, sizeof(out->key), "F:%s:%s", cc, norm);
    am_strlcpy(out->display, norm, sizeof(out->display));
    return 0;
}

/* "", NULL and "MA" (any case) are Morocco; otherwise two letters, upper-cased. */
static int country_norm(const char *country, char cc[3], char *why, size_t whysz)
{
    if (!country || !country[0]) {
        memcpy(cc, "MA", 3);
        return 0;
    }
    if (strlen(country) != 2)
        return am_why(why, whysz, AM_EINVAL,
                      "the country is an ISO 3166-1 alpha-2 code of two letters (FR, ES)");
    for (int i = 0; i < 2; i++) {
        char c = country[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c < 'A' || c > 'Z')
            return am_why(why, whysz, AM_EINVAL,
                          "the country is an ISO 3166-1 alpha-2 code of two letters (FR, ES)");
        cc[i] = c;
    }
    cc[2] = '\0';
    return 0;
}

/* Recognises the key form "F:CC:" at the start of `text`; sets cc and the offset past it. */
static bool foreign_prefix(const char *text, size_t len, char cc[3], size_t *skip)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t'))
        i++;
    if (len - i < 5 || (text[i] != 'F' && text[i] != 'f') || text[i + 1] != ':' ||
        text[i + 4] != ':')
        return false;
    for (int k = 0; k < 2; k++) {
        char c = text[i + 2 + k];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c < 'A' || c > 'Z')
            return false;
        cc[k] = c;
    }
    cc[2] = '\0';
    *skip = i + 5;
    return true;
}

static int parse_any(const char *text, size_t len, const char *country, struct plate *out,
                     char alt[REC_PLATE_KEY_SZ], char *why, size_t whysz)
{
    memset(out, 0, sizeof(*out));
    if (alt)
        alt[0] = '\0';
    if (len > PLATE_INPUT_MAX)
        return am_why(why, whysz, AM_ETOOBIG, "a plate has at most %d bytes", PLATE_INPUT_MAX);
    if (memchr(text, '\0', len))
        return am_why(why, whysz, AM_EINVAL, "a NUL byte in the plate");
    char cc[3], pcc[3];
    int rc = country_norm(country, cc, why, whysz);
    if (rc)
        return rc;
    size_t skip;
    if (foreign_prefix(text, len, pcc, &skip)) {
        if (strcmp(pcc, "MA") == 0)
            return am_why(why, whysz, AM_EINVAL, "F:MA: is not a foreign plate");
        if (strcmp(cc, "MA") != 0 && strcmp(cc, pcc) != 0)
            return am_why(why, whysz, AM_EINVAL, "the plate says %s but the country is %s", pcc,
                          cc);
        return parse_foreign(text + skip, len - skip, pcc, out, why, whysz);
    }
    if (strcmp(cc, "MA") != 0)
        return parse_foreign(text, len, cc, out, why, whysz);
    return parse_moroccan(text, len, out, alt, why, whysz);
}

int plate_parse(const char *text, size_t len, const char *country, struct plate *out, char *why,
                size_t whysz)
{
    return parse_any(text, len, country, out, NULL, why, whysz);
}

/* ------------------------------------------------------------ variants */

/* The characters a reader confuses `c` with (upper case), or NULL. */
static const char *confusable_set(char c)
{
    switch (c) {
    case '0':
    case 'O':
    case 'o':
    case 'D':
    case 'd':
    case 'Q':
    case 'q':
        return "0ODQ";
    case '8':
    case 'B':
    case 'b':
        return "8B";
    case '1':
    case 'I':
    case 'i':
    case 'L':
    case 'l':
        return "1IL";
    case '5':
    case 'S':
    case 's':
        return "5S";
    case '2':
    case 'Z':
    case 'z':
        return "2Z";
    default:
        return NULL;
    }
}

struct variant_set {
    struct plate_variant v[VARIANT_KEEP];
    size_t n;
};

static void variant_add(struct variant_set *vs, const char *key, double score, int subs)
{
    for (size_t i = 0; i < vs->n; i++) {
        if (strcmp(vs->v[i].key, key) == 0) {
            if (score > vs->v[i].score) {
                vs->v[i].score = score;
                vs->v[i].substitutions = subs;
            }
            return;
        }
    }
    if (vs->n == VARIANT_KEEP)
        return;
    am_strlcpy(vs->v[vs->n].key, key, sizeof(vs->v[vs->n].key));
    vs->v[vs->n].score = score;
    vs->v[vs->n].substitutions = subs;
    vs->n++;
}

static void variant_try(struct variant_set *vs, const char *text, size_t len, const char *country,
                        double score, int subs)
{
    struct plate p;
    char alt[REC_PLATE_KEY_SZ];
    if (parse_any(text, len, country, &p, alt, NULL, 0))
        return;
    variant_add(vs, p.key, score, subs);
    if (alt[0])
        variant_add(vs, alt, score * PLATE_SCORE_SWAP, subs);
}

int plate_variants(const char *text, size_t len, const char *country, struct plate_variant *out,
                   size_t max, size_t *n)
{
    *n = 0;
    if (len > PLATE_INPUT_MAX)
        return AM_ETOOBIG;
    char buf[PLATE_INPUT_MAX];
    memcpy(buf, text, len);
    size_t pos[VARIANT_POSITIONS];
    size_t npos = 0;
    for (size_t i = 0; i < len && npos < VARIANT_POSITIONS; i++)
        if (confusable_set(buf[i]))
            pos[npos++] = i;

    struct variant_set set, *vs = &set;
    vs->n = 0;
    variant_try(vs, buf, len, country, 1.0, 0);
    for (size_t i = 0; i < npos; i++) {
        char ci = buf[pos[i]];
        const char *si = confusable_set(ci);
        for (const char *a = si; *a; a++) {
            if (*a == (char)(ci & ~0x20) || *a == ci)
                continue;
            buf[pos[i]] = *a;
            variant_try(vs, buf, len, country, PLATE_SCORE_ONE, 1);
        }
        buf[pos[i]] = ci;
    }
    for (size_t i = 0; i < npos; i++) {
        char ci = buf[pos[i]];
        const char *si = confusable_set(ci);
        for (const char *a = si; *a; a++) {
            if (*a == (char)(ci & ~0x20) || *a == ci)
                continue;
            buf[pos[i]] = *a;
            for (size_t j = i + 1; j < npos; j++) {
                char cj = buf[pos[j]];
                const char *sj = confusable_set(cj);
                for (const char *b = sj; *b; b++) {
                    if (*b == (char)(cj & ~0x20) || *b == cj)
                        continue;
                    buf[pos[j]] = *b;
                    variant_try(vs, buf, len, country, PLATE_SCORE_TWO, 2);
                }
                buf[pos[j]] = cj;
            }
        }
        buf[pos[i]] = ci;
    }
    /* Best first; a stable insertion sort keeps the order of discovery among equals. */
    for (size_t i = 1; i < vs->n; i++) {
        struct plate_variant t = vs->v[i];
        size_t j = i;
        while (j > 0 && vs->v[j - 1].score < t.score) {
            vs->v[j] = vs->v[j - 1];
            j--;
        }
        vs->v[j] = t;
    }
    size_t keep = vs->n < max ? vs->n : max;
    memcpy(out, vs->v, keep * sizeof(*out));
    *n = keep;
    return 0;
}

/* ------------------------------------------------------------ CIN */

/* Letters and digits of a CIN without separators, upper case; AM_EINVAL on other characters. */
static int cin_norm(const char *text, size_t len, char *out, size_t *nletters, size_t *ndigits,
                    char *why, size_t whysz)
{
    *nletters = *ndigits = 0;
    if (len > 32)
        return am_why(why, whysz, AM_EINVAL, "too long for a CIN");
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == ' ' || c == '-' || c == '.')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c >= 'A' && c <= 'Z') {
            if (*ndigits)
                return am_why(why, whysz, AM_EINVAL, "a CIN is letters then digits (BE123456)");
            if (++*nletters > 2)
                return am_why(why, whysz, AM_EINVAL, "a CIN has one or two letters");
        } else if (c >= '0' && c <= '9') {
            if (++*ndigits > 8)
                return am_why(why, whysz, AM_EINVAL, "a CIN has at most 8 digits");
        } else {
            char name[24];
            byte_name(c, name, sizeof(name));
            return am_why(why, whysz, AM_EINVAL, "%s cannot be part of a CIN", name);
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return 0;
}

int cin_parse(const char *text, size_t len, char out[REC_CIN_SZ], char *why, size_t whysz)
{
    char tmp[REC_CIN_SZ];
    size_t nl, nd;
    int rc = cin_norm(text, len, tmp, &nl, &nd, why, whysz);
    if (rc)
        return rc;
    if (nl == 0)
        return am_why(why, whysz, AM_EINVAL, "a CIN starts with one or two letters (BE123456)");
    if (nd == 0)
        return am_why(why, whysz, AM_EINVAL, "a CIN has digits after its letters (BE123456)");
    memset(out, 0, REC_CIN_SZ);
    memcpy(out, tmp, nl + nd);
    return 0;
}

int cin_parse_partial(const char *text, size_t len, char out[REC_CIN_SZ], int *digits_only,
                      char *why, size_t whysz)
{
    char tmp[REC_CIN_SZ];
    size_t nl, nd;
    int rc = cin_norm(text, len, tmp, &nl, &nd, why, whysz);
    if (rc)
        return rc;
    if (nl + nd < 3)
        return am_why(why, whysz, AM_EINVAL, "a partial CIN has at least 3 characters");
    memset(out, 0, REC_CIN_SZ);
    memcpy(out, tmp, nl + nd);
    *digits_only = nl == 0;
    return 0;
}

/* ------------------------------------------------------------ phones */

int records_phone_parse(const char *text, size_t len, char out[REC_PHONE_SZ], char *why,
                        size_t whysz)
{
    if (len > 40)
        return am_why(why, whysz, AM_EINVAL, "too long for a phone number");
    char d[41];
    size_t n = 0;
    bool plus = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c >= '0' && c <= '9') {
            d[n++] = c;
        } else if (c == '+' && n == 0 && !plus) {
            plus = true;
        } else if (c == '(' && i + 2 < len && text[i + 1] == '0' && text[i + 2] == ')' &&
                   (plus || (n >= 2 && d[0] == '0' && d[1] == '0'))) {
            i += 2; /* "+212 (0)6...": the national trunk 0, not dialled from abroad */
        } else if (c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')') {
            continue;
        } else {
            char name[24];
            byte_name(c, name, sizeof(name));
            return am_why(why, whysz, AM_EINVAL, "%s cannot be part of a phone number", name);
        }
    }
    d[n] = '\0';
    const char *num = d;
    if (!plus && n >= 2 && d[0] == '0' && d[1] == '0') {
        plus = true;
        num += 2;
    }
    if (plus) {
        if (num[0] == '0' || num[0] == '\0')
            return am_why(why, whysz, AM_EINVAL, "no country code after + or 00");
        if (strncmp(num, "212", 3) != 0) {
            size_t k = strlen(num);
            if (k < 8 || k > 15)
                return am_why(why, whysz, AM_EINVAL,
                              "an international number has 8 to 15 digits (this one has %zu)", k);
            memset(out, 0, REC_PHONE_SZ);
            out[0] = '+';
            memcpy(out + 1, num, k);
            return 0;
        }
        num += 3;
        if (num[0] == '0') /* "+212 06...": a trunk 0 written anyway */
            num++;
    } else if (num[0] == '0') {
        num++;
    } else {
        return am_why(why, whysz, AM_EINVAL,
                      "a phone number starts with 0, + or 00 (0612345678, +33...)");
    }
    size_t k = strlen(num);
    if (k != 9 || num[0] < '5' || num[0] > '8')
        return am_why(why, whysz, AM_EINVAL,
                      "a Moroccan number is 0 and 9 digits, starting 05, 06, 07 or 08");
    memset(out, 0, REC_PHONE_SZ);
    memcpy(out, "+212", 4);
    memcpy(out + 4, num, k);
    return 0;
}
