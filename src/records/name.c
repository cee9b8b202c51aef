/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * name.c - names of people across Arabic and Latin script (see name.h).
 *
 * A name goes through three steps. Letters: the UTF-8 is decoded and each
 * letter brought to a base form, ASCII for Latin (case, accents and
 * ligatures folded, with ICU's NFKD for anything past ASCII) and the plain
 * Arabic alphabet for Arabic (presentation forms through NFKD, harakat,
 * tatweel and Persian variants by table); anything that is not a letter
 * cuts words. Words: an article standing alone is dropped, compounds are
 * joined (Abd el Kader, عبد الرحمن, Nour Eddine), particles marked; what is
 * left of a token is its fold. Sounds: the fold is read by the rules of its
 * script (phon_latin, phon_arabic) into phonetic symbols that both scripts
 * share, and the consonant symbols make the key.
 *
 * name_token_sim() is a weighted edit distance between two symbol strings,
 * with costs that depend on the pair of scripts: Arabic writes long vowels
 * only, so a Latin short vowel it lacks costs little, a Latin "ou" more, an
 * Arabic long vowel Latin lacks more again, while every consonant counts.
 * Costs and weights are in hundredths.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/utf16.h>

#include "core/core.h"
#include "records/name.h"

/* ---------------------------------------------------------------- symbols */

/*
 * The phonetic alphabet. Consonants first (SY_B to SY_Y), then symbols
 * only one script produces and the vowels. SY_LONG marks a long vowel:
 * an Arabic vowel letter, or a Latin digraph (ou, oo, ee) or a vowel right
 * after another.
 */
enum {
    SY_B = 1, /* b p ب پ */
    SY_T,     /* t ت ط ث */
    SY_D,     /* d د ض ذ ظ */
    SY_S,     /* s, c before e i y, ç, س ص */
    SY_Z,     /* z ز */
    SY_SH,    /* ch sh ش */
    SY_J,     /* j dj, g before e i y, ج */
    SY_K,     /* k q, c elsewhere, ق ك */
    SY_G,     /* g gh غ ڭ */
    SY_X,     /* kh خ */
    SY_H,     /* h ح ه */
    SY_F,     /* f ph v ف ڤ */
    SY_L,
    SY_M,
    SY_N,
    SY_R,
    SY_W,   /* w, ou before a vowel, و as a consonant */
    SY_Y,   /* y before a vowel, ي as a consonant */
    SY_HA,  /* ه ending a word: an h, or the a of a ta marbuta written ه */
    SY_HX,  /* the h of Latin th and dh: an h (Thami) or nothing (Othmane) */
    SY_LX,  /* the l of an article (ال, el-, Abdel-): there or not */
    SY_AIN, /* ع: Latin writes it as the vowel it carries, or not at all */
    SY_A,
    SY_I,
    SY_U,  /* u, o, ou */
    SY_E,  /* Latin e: a short vowel of any colour */
    SY_V,  /* ا أ إ opening an Arabic word: a glottal stop and any short vowel */
    SY_AY, /* ى: a long a, or an i where ى is written for ي */
    SY_COUNT
};
#define SY_LONG    0x80
#define SY_BASE(s) ((s)&0x7f)

static bool sy_cons(int b)
{
    return b >= SY_B && b <= SY_Y;
}

static bool sy_vowel(int b)
{
    return b >= SY_A;
}

/* The key letter of each symbol; 0 for symbols the key leaves out. */
static const char sy_key[SY_COUNT] = {
    [SY_B] = 'b',  [SY_T] = 't', [SY_D] = 'd', [SY_S] = 's',  [SY_Z] = 'z',
    [SY_SH] = 'c', [SY_J] = 'j', [SY_K] = 'k', [SY_G] = 'g',  [SY_X] = 'x',
    [SY_H] = 'h',  [SY_F] = 'f', [SY_L] = 'l', [SY_M] = 'm',  [SY_N] = 'n',
    [SY_R] = 'r',  [SY_W] = 'w', [SY_Y] = 'y', [SY_HA] = 'h',
};

/* A growing symbol string; doubled consonants collapse (Latin doubles, shadda is not written). */
struct phon {
    uint8_t sym[NAME_SYM_MAX];
    size_t n;
};

static void emit_raw(struct phon *p, uint8_t s)
{
    if (p->n < NAME_SYM_MAX)
        p->sym[p->n++] = s;
}

static void emit(struct phon *p, uint8_t s)
{
    if (!(p->n && sy_cons(s) && p->sym[p->n - 1] == s))
        emit_raw(p, s);
}

static bool last_is_vowel(const struct phon *p)
{
    return p->n && sy_vowel(SY_BASE(p->sym[p->n - 1]));
}

/*
 * The key: consonants in order, without the vowels, ع, the article's l or
 * the h of th. A y is kept only when it opens the name (Youssef, يوسف): in
 * the middle the two scripts disagree on it (Meryem, مريم).
 */
static void make_key(const uint8_t *sym, size_t n, char key[NAME_KEY_SZ])
{
    size_t k = 0;
    bool opening = true;
    for (size_t i = 0; i < n && k + 1 < NAME_KEY_SZ; i++) {
        int b = SY_BASE(sym[i]);
        if (b == SY_LX)
            continue;
        if (sy_key[b] && (b != SY_Y || opening))
            key[k++] = sy_key[b];
        opening = false;
    }
    key[k] = '\0';
}

/* ---------------------------------------------------------------- Latin */

static bool lat_vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* Consonants the Arabic article assimilates (ar-Rahman, es-Salam, et-Tazi, en-Nour). */
static bool lat_sun(char c)
{
    return c == 't' || c == 'd' || c == 'r' || c == 'z' || c == 's' || c == 'n';
}

/* Consonant letters in s[i..n), a y before a vowel counted as one (Ilyas). */
static size_t lat_consonants(const char *s, size_t i, size_t n)
{
    size_t k = 0;
    for (; i < n; i++)
        if (!lat_vowel(s[i]) && (s[i] != 'y' || (i + 1 < n && lat_vowel(s[i + 1]))))
            k++;
    return k;
}

/*
 * Reads s[i..end) into symbols. `final_e`: a final e is silent (Amine,
 * Ouafae); false when the word goes on past `end`.
 */
static void lat_scan(const char *s, size_t i, size_t end, bool final_e, struct phon *p)
{
    while (i < end) {
        char c = s[i], nx = i + 1 < end ? s[i + 1] : '\0', nx2 = i + 2 < end ? s[i + 2] : '\0';
        bool after_vowel = last_is_vowel(p);
        switch (c) {
        case 'a':
            /* aa is an a and an ain (Saad, Jaafar, Maati), not a long a. */
            emit(p, SY_A | (after_vowel ? SY_LONG : 0));
            while (i + 1 < end && s[i + 1] == 'a')
                i++;
            break;
        case 'e':
            if (nx == 'e') {
                emit(p, SY_I | SY_LONG);
                i++;
            } else if (!(final_e && i + 1 == end && end >= 3)) {
                emit(p, SY_E);
            }
            break;
        case 'i':
            emit(p, SY_I | (after_vowel || nx == 'i' ? SY_LONG : 0));
            if (nx == 'i')
                i++;
            break;
        case 'o':
        case 'u':
            if ((c == 'o' && nx == 'u') || (c == 'o' && nx == 'o') || (c == 'u' && nx == 'u')) {
                /* ou before a vowel is a w (Ouafae, Alaoui, Zerouali, Radouane). */
                if (c == 'o' && nx == 'u' && nx2 && (lat_vowel(nx2) || nx2 == 'y'))
                    emit(p, SY_W);
                else
                    emit(p, SY_U | SY_LONG);
                i++;
            } else {
                emit(p, SY_U | (after_vowel ? SY_LONG : 0));
            }
            break;
        case 'y':
            if (nx && lat_vowel(nx))
                emit(p, SY_Y);
            else
                emit(p, SY_I | (after_vowel ? SY_LONG : 0));
            break;
        case 'b':
            emit(p, SY_B);
            break;
        case 'p':
            if (nx == 'h') {
                emit(p, SY_F);
                i++;
            } else {
                emit(p, SY_B);
            }
            break;
        case 'c':
            if (nx == 'h') {
                emit(p, SY_SH);
                i++;
            } else if (nx == 'k') {
                emit(p, SY_K);
                i++;
            } else if (nx == 'e' || nx == 'i' || nx == 'y') {
                emit(p, SY_S);
            } else {
                emit(p, SY_K);
            }
            break;
        case 's':
            if (nx == 'h') {
                emit(p, SY_SH);
                i++;
            } else if (nx == 'c' && nx2 == 'h') {
                emit(p, SY_SH);
                i += 2;
            } else {
                emit(p, SY_S);
            }
            break;
        case 'k':
            if (nx == 'h') {
                emit(p, SY_X);
                i++;
            } else {
                emit(p, SY_K);
            }
            break;
        case 'q':
            emit(p, SY_K);
            if (nx == 'u' && nx2 && lat_vowel(nx2))
                i++;
            break;
        case 'g':
            if (nx == 'h') {
                emit(p, SY_G);
                i++;
            } else if (nx == 'u' && (nx2 == 'e' || nx2 == 'i' || nx2 == 'y')) {
                emit(p, SY_G);
                i++;
            } else if (nx == 'e' || nx == 'i' || nx == 'y') {
                emit(p, SY_J);
            } else {
                emit(p, SY_G);
            }
            break;
        case 'd':
            if (nx == 'j') {
                emit(p, SY_J);
                i++;
            } else if (nx == 'h') {
                emit(p, SY_D);
                emit(p, SY_HX);
                i++;
            } else {
                emit(p, SY_D);
            }
            break;
        case 't':
            if (nx == 'h') {
                emit(p, SY_T);
                emit(p, SY_HX);
                i++;
            } else if (nx == 'c' && nx2 == 'h') {
                emit(p, SY_SH);
                i += 2;
            } else {
                emit(p, SY_T);
            }
            break;
        case 'x':
            emit(p, SY_K);
            emit(p, SY_S);
            break;
        case 'v':
        case 'f':
            emit(p, SY_F);
            break;
        case 'h':
            /* A final h after a vowel is the ه of Abdellah, or silent (Sarah). */
            emit(p, i + 1 == end && after_vowel ? SY_HA : SY_H);
            break;
        case 'j':
            emit(p, SY_J);
            break;
        case 'l':
            emit(p, SY_L);
            break;
        case 'm':
            emit(p, SY_M);
            break;
        case 'n':
            emit(p, SY_N);
            break;
        case 'r':
            emit(p, SY_R);
            break;
        case 'w':
            emit(p, SY_W);
            break;
        case 'z':
            emit(p, SY_Z);
            break;
        default:
            break;
        }
        i++;
    }
}

/* Short ASCII words with their lengths, for the lists of words the rules know. */
struct word_list {
    const char *s;
    size_t len;
};
#define WL(x)                                                                                      \
    {                                                                                              \
        x, sizeof(x) - 1                                                                           \
    }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Endings for "ad-Din" joined to the name before it (Noureddine, Salaheddine, Alaeddine). */
static const struct word_list lat_eddine[] = {WL("eddine"), WL("eddin"), WL("edine"), WL("edin"),
                                              WL("addine"), WL("addin"), WL("uddin"), WL("oddine")};

/* Reads the fold of a Latin token (ASCII a-z) into symbols. */
static void phon_latin(const char *s, size_t n, struct phon *p)
{
    size_t i = 0, end = n;
    bool eddine = false;
    for (size_t k = 0; k < COUNT(lat_eddine); k++) {
        size_t m = lat_eddine[k].len;
        if (n >= m + 2 && memcmp(s + n - m, lat_eddine[k].s, m) == 0) {
            end = n - m;
            eddine = true;
            break;
        }
    }
    if (end >= 5 && memcmp(s, "abd", 3) == 0) {
        /* Abd + article + name: Abdelkader, Abdul Rahman, Abderrahmane, Abdellah. */
        emit(p, SY_A);
        emit(p, SY_B);
        emit(p, SY_D);
        i = 3;
        size_t v = s[i] == 'o' && s[i + 1] == 'u' ? 2 : lat_vowel(s[i]) ? 1 : 0;
        if (v && i + v + 2 < end && s[i + v] == 'l') {
            lat_scan(s, i, i + v, false, p);
            emit(p, SY_LX);
            i += v + 1;
        } else if (v == 1 && i + 3 < end && lat_sun(s[i + 1]) && s[i + 2] == s[i + 1]) {
            lat_scan(s, i, i + 1, false, p);
            emit(p, SY_LX);
            i += 1;
        }
    } else if (end >= 5 && (s[0] == 'a' || s[0] == 'e' || s[0] == 'i') && s[1] == 'l' &&
               s[2] != 'l' &&
               ((s[0] == 'e' && lat_vowel(s[2])) || lat_consonants(s, 2, end) >= 2)) {
        /* A joined article: Elalaoui, Elidrissi, Elmehdi, Ilyas (الياس), Ilham (الهام); but
           not the al of Alaoui or Alami (ʿal-), nor the il of Ilias. */
        emit(p, SY_LX);
        i = 2;
    } else if (end >= 4 && s[0] == 'e' && lat_sun(s[1]) && s[2] == s[1]) {
        /* An assimilated one: Ettazi, Essaidi, Errami, Ezzahra. */
        emit(p, SY_LX);
        i = 1;
    }
    lat_scan(s, i, end, !eddine, p);
    if (eddine) {
        emit(p, SY_E);
        emit(p, SY_LX);
        emit(p, SY_D);
        emit(p, SY_I | SY_LONG);
        emit(p, SY_N);
    }
}

/* ---------------------------------------------------------------- Arabic */

enum {
    AR_HAMZA = 0x0621,
    AR_ALEF_MADDA = 0x0622,
    AR_ALEF_HAMZA = 0x0623,
    AR_WAW_HAMZA = 0x0624,
    AR_ALEF_HAMZA_BELOW = 0x0625,
    AR_YEH_HAMZA = 0x0626,
    AR_ALEF = 0x0627,
    AR_BEH = 0x0628,
    AR_TEH_MARBUTA = 0x0629,
    AR_DAL = 0x062F,
    AR_AIN = 0x0639,
    AR_LAM = 0x0644,
    AR_NOON = 0x0646,
    AR_HEH = 0x0647,
    AR_WAW = 0x0648,
    AR_ALEF_MAKSURA = 0x0649,
    AR_YEH = 0x064A,
    AR_PEH = 0x067E,
    AR_VEH = 0x06A4,
    AR_NG = 0x06AD, /* ڭ, the Moroccan g; گ and ݣ fold to it */
};

/* Consonant symbols of U+0600..U+064A by their last two hex digits; 0 for the letters read by rule.
 */
static const uint8_t ar_cons[0x4B] = {
    [0x28] = SY_B, [0x2A] = SY_T, [0x2B] = SY_T, [0x2C] = SY_J, [0x2D] = SY_H, [0x2E] = SY_X,
    [0x2F] = SY_D, [0x30] = SY_D, [0x31] = SY_R, [0x32] = SY_Z, [0x33] = SY_S, [0x34] = SY_SH,
    [0x35] = SY_S, [0x36] = SY_D, [0x37] = SY_T, [0x38] = SY_D, [0x3A] = SY_G, [0x41] = SY_F,
    [0x42] = SY_K, [0x43] = SY_K, [0x44] = SY_L, [0x45] = SY_M, [0x46] = SY_N,
};

/* Letters that write a vowel: before one, و and ي are consonants (Marwa, Hayat). */
static bool ar_vowel_letter(uint16_t c)
{
    return c == AR_ALEF || c == AR_ALEF_MADDA || c == AR_WAW || c == AR_YEH ||
           c == AR_ALEF_MAKSURA || c == AR_TEH_MARBUTA;
}

static void ar_scan(const uint16_t *c, size_t i, size_t end, bool opening, struct phon *p)
{
    for (; i < end; i++, opening = false) {
        uint16_t ch = c[i], nx = i + 1 < end ? c[i + 1] : 0;
        switch (ch) {
        case AR_ALEF:
            emit(p, opening ? SY_V : (SY_A | SY_LONG));
            break;
        case AR_ALEF_HAMZA:
        case AR_ALEF_HAMZA_BELOW:
            emit(p, opening ? SY_V : SY_A);
            break;
        case AR_ALEF_MADDA:
            emit(p, SY_A | SY_LONG);
            break;
        case AR_HAMZA:
            break;
        case AR_WAW:
        case AR_WAW_HAMZA:
            emit(p, opening || ar_vowel_letter(nx) ? SY_W : (SY_U | SY_LONG));
            break;
        case AR_YEH:
        case AR_YEH_HAMZA:
            /* -iya is written ية and read as a vowel (Nadia, Zakia, Fouzia). */
            if (!opening && nx == AR_TEH_MARBUTA && i + 2 == end)
                emit(p, SY_I | SY_LONG);
            else
                emit(p, opening || ar_vowel_letter(nx) ? SY_Y : (SY_I | SY_LONG));
            break;
        case AR_ALEF_MAKSURA:
            emit(p, SY_AY | SY_LONG);
            break;
        case AR_TEH_MARBUTA:
            /* After an alef it is read as t (Hayat, Najat); else as a (Fatima, Hamza). */
            emit(p, i && c[i - 1] == AR_ALEF ? SY_T : SY_A);
            break;
        case AR_HEH:
            emit(p, !opening && i + 1 == end ? SY_HA : SY_H);
            break;
        case AR_AIN:
            emit(p, SY_AIN);
            break;
        case AR_PEH:
            emit(p, SY_B);
            break;
        case AR_VEH:
            emit(p, SY_F);
            break;
        case AR_NG:
            emit(p, SY_G);
            break;
        default:
            /* Two letters read alike are two sounds (تط in Tetouani); one letter twice is one. */
            if (ch >= AR_HAMZA && ch <= AR_YEH && ar_cons[ch - 0x0600]) {
                if (i && c[i - 1] == ch)
                    emit(p, ar_cons[ch - 0x0600]);
                else
                    emit_raw(p, ar_cons[ch - 0x0600]);
            }
            break;
        }
    }
}

/* Reads the letters of an Arabic token into symbols. */
static void phon_arabic(const uint16_t *c, size_t n, struct phon *p)
{
    static const uint16_t din[] = {AR_ALEF, AR_LAM, AR_DAL, AR_YEH, AR_NOON};
    size_t i = 0, end = n;
    bool eddine = false;
    if (n >= 7 && memcmp(c + n - 5, din, sizeof(din)) == 0) {
        end = n - 5;
        eddine = true;
    }
    if (end >= 4 && c[0] == AR_ALEF && c[1] == AR_LAM) {
        /* The article: العلوي, الإدريسي, and the الياس, الهام that Latin reads Ilyas, Ilham. */
        emit(p, SY_LX);
        i = 2;
    } else if (end >= 5 && c[0] == AR_AIN && c[1] == AR_BEH && c[2] == AR_DAL) {
        emit(p, SY_AIN);
        emit(p, SY_B);
        emit(p, SY_D);
        i = 3;
        if (end - i >= 3 && c[i] == AR_ALEF && c[i + 1] == AR_LAM) {
            emit(p, SY_LX);
            i += 2;
        }
    }
    ar_scan(c, i, end, true, p);
    if (eddine) {
        emit(p, SY_LX);
        emit(p, SY_D);
        emit(p, SY_I | SY_LONG);
        emit(p, SY_N);
    }
}

/* ---------------------------------------------------------------- letters */

/* Letters of a name after folding, in words. Latin letters are ASCII a-z. */
#define LETTERS_MAX (2 * NAME_INPUT_MAX)
#define WORDS_MAX   (NAME_INPUT_MAX / 2 + 2)

struct word {
    uint16_t start, len;
    uint8_t script;
};

struct letters {
    uint16_t c[LETTERS_MAX];
    size_t n;
    struct word w[WORDS_MAX];
    size_t nw;
    bool open; /* the last word still takes letters */
};

static void put(struct letters *L, uint16_t c, uint8_t script)
{
    if (L->n >= LETTERS_MAX)
        return;
    if (!L->open || L->w[L->nw - 1].script != script) {
        if (L->nw >= WORDS_MAX)
            return;
        L->w[L->nw++] = (struct word){.start = (uint16_t)L->n, .len = 0, .script = script};
        L->open = true;
    }
    L->c[L->n++] = c;
    L->w[L->nw - 1].len++;
}

static void cut(struct letters *L)
{
    L->open = false;
}

#define AR_SEP  0xFFFF /* a code point that cuts words */
#define AR_DROP 0      /* one that is ignored */

/*
 * The base letter of a code point of the Arabic blocks: a letter of
 * U+0621..U+064A, پ, ڤ or ڭ; AR_DROP for harakat, tatweel, Quranic marks
 * and letters of other languages; AR_SEP for digits and punctuation.
 */
static uint16_t ar_base(UChar32 cp)
{
    if ((cp >= AR_HAMZA && cp <= 0x063A) || (cp >= 0x0641 && cp <= AR_YEH))
        return (uint16_t)cp;
    switch (cp) {
    case 0x063B:
    case 0x063C:
    case 0x06A9:
    case 0x06AA:
    case 0x06AB:
    case 0x06AC:
        return 0x0643; /* keheh and its kin: ك */
    case 0x063D:
    case 0x063E:
    case 0x063F:
    case 0x06CC:
    case 0x06CD:
    case 0x06CE:
    case 0x06D0:
    case 0x06D2:
        return AR_YEH;
    case 0x066E:
        return AR_BEH;
    case 0x066F:
        return 0x0642;
    case 0x0671:
    case 0x0675:
        return AR_ALEF;
    case 0x0672:
        return AR_ALEF_HAMZA;
    case 0x0673:
        return AR_ALEF_HAMZA_BELOW;
    case 0x0686:
        return 0x062C; /* چ as ج */
    case AR_PEH:
    case AR_VEH:
    case AR_NG:
        return (uint16_t)cp;
    case 0x06AF:
    case 0x0763:
        return AR_NG;
    case 0x06BE:
    case 0x06C0:
    case 0x06C1:
    case 0x06D5:
        return AR_HEH;
    case 0x06C3:
        return AR_TEH_MARBUTA;
    case 0x06C4:
    case 0x06C5:
    case 0x06C6:
    case 0x06C7:
    case 0x06C8:
    case 0x06C9:
    case 0x06CA:
    case 0x06CB:
        return AR_WAW;
    default:
        break;
    }
    int8_t t = u_charType(cp);
    if ((t >= U_UPPERCASE_LETTER && t <= U_COMBINING_SPACING_MARK) || t == U_FORMAT_CHAR)
        return AR_DROP;
    return AR_SEP;
}

static bool in_arabic_block(UChar32 cp)
{
    return (cp >= 0x0600 && cp <= 0x06FF) || (cp >= 0x0750 && cp <= 0x077F);
}

/* Apostrophes and the like: dropped inside a word (M'barek, Sa'id), never cut one. */
static bool is_apostrophe(UChar32 cp)
{
    switch (cp) {
    case 0x27:
    case 0x60:
    case 0xB4:
    case 0x2BB:
    case 0x2BC:
    case 0x2BE:
    case 0x2BF:
    case 0x2018:
    case 0x2019:
    case 0x2032:
        return true;
    default:
        return false;
    }
}

/* Letters NFKD leaves alone that have a plain Latin reading. */
static const char *lat_special(UChar32 cp)
{
    switch (cp) {
    case 0xE6:
        return "ae";
    case 0x153:
        return "oe";
    case 0xF8:
        return "o";
    case 0xDF:
        return "ss";
    case 0x142:
        return "l";
    case 0x111:
    case 0xF0:
        return "d";
    case 0xFE:
        return "th";
    case 0x131:
        return "i";
    case 0x127:
        return "h";
    case 0xE7:
        return "s"; /* ç: Fayçal is فيصل */
    default:
        return NULL;
    }
}

/* Adds the letter cp (past ASCII, outside the Arabic blocks) by its NFKD decomposition. */
static void put_decomposed(struct letters *L, UChar32 cp)
{
    cp = u_tolower(cp);
    const char *sp = lat_special(cp);
    if (sp) {
        for (; *sp; sp++)
            put(L, (uint16_t)*sp, NAME_LATIN);
        return;
    }
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2 *nfkd = unorm2_getNFKDInstance(&err);
    UChar buf[32];
    int32_t len = U_SUCCESS(err) ? unorm2_getDecomposition(nfkd, cp, buf, 32, &err) : -1;
    if (len < 0 || U_FAILURE(err))
        return; /* no decomposition: a letter of another script, ignored */
    for (int32_t k = 0; k < len;) {
        UChar32 d;
        U16_NEXT(buf, k, len, d);
        d = u_tolower(d);
        if (d >= 'a' && d <= 'z') {
            put(L, (uint16_t)d, NAME_LATIN);
        } else if (in_arabic_block(d)) {
            uint16_t b = ar_base(d);
            if (b != AR_DROP && b != AR_SEP)
                put(L, b, NAME_ARABIC);
        }
    }
}

static int read_letters(const char *text, size_t len, struct letters *L)
{
    L->n = L->nw = 0;
    L->open = false;
    for (size_t i = 0, k; i < len; i += k) {
        uint32_t cp;
        k = am_utf8_decode(text + i, len - i, &cp);
        if (!k || !cp)
            return AM_EINVAL;
        if (cp < 0x80) {
            if (cp >= 'A' && cp <= 'Z')
                put(L, (uint16_t)(cp - 'A' + 'a'), NAME_LATIN);
            else if (cp >= 'a' && cp <= 'z')
                put(L, (uint16_t)cp, NAME_LATIN);
            else if (!is_apostrophe((UChar32)cp))
                cut(L);
        } else if (in_arabic_block((UChar32)cp)) {
            uint16_t b = ar_base((UChar32)cp);
            if (b == AR_SEP)
                cut(L);
            else if (b != AR_DROP)
                put(L, b, NAME_ARABIC);
        } else if (!is_apostrophe((UChar32)cp)) {
            int8_t t = u_charType((UChar32)cp);
            if (t >= U_UPPERCASE_LETTER && t <= U_OTHER_LETTER)
                put_decomposed(L, (UChar32)cp);
            else if (!(t >= U_NON_SPACING_MARK && t <= U_COMBINING_SPACING_MARK) &&
                     t != U_FORMAT_CHAR)
                cut(L);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- words */

static bool word_is(const struct letters *L, size_t wi, const struct word_list *x)
{
    const struct word *w = &L->w[wi];
    if (w->script != NAME_LATIN || w->len != x->len)
        return false;
    for (size_t k = 0; k < x->len; k++)
        if (L->c[w->start + k] != (uint16_t)x->s[k])
            return false;
    return true;
}

static bool word_is_ar(const struct letters *L, size_t wi, const uint16_t *ar, size_t m)
{
    const struct word *w = &L->w[wi];
    return w->script == NAME_ARABIC && w->len == m &&
           memcmp(L->c + w->start, ar, m * sizeof(uint16_t)) == 0;
}

static bool word_in(const struct letters *L, size_t wi, const struct word_list *list, size_t n)
{
    if (L->w[wi].len > 6)
        return false;
    for (size_t k = 0; k < n; k++)
        if (word_is(L, wi, &list[k]))
            return true;
    return false;
}

/* Articles written apart (El Amrani, Ed-Dahbi, Er-Rami, Es-Saidi, Et-Tazi, Ez-Zahra, Ech-Chaoui):
   dropped before a name. */
static const struct word_list lat_articles[] = {WL("el"), WL("al"), WL("ed"), WL("er"), WL("es"),
                                                WL("et"), WL("ez"), WL("en"), WL("ech")};
static const struct word_list lat_particles[] = {WL("ben"),   WL("bin"),  WL("ibn"),  WL("ould"),
                                                 WL("ait"),   WL("bent"), WL("bint"), WL("oulad"),
                                                 WL("ouled"), WL("ibnou")};
static const struct word_list lat_abd[] = {WL("abd"), WL("abdel"), WL("abdal"), WL("abdul"),
                                           WL("abdoul")};
static const struct word_list lat_din[] = {WL("eddine"), WL("eddin"), WL("edine"),
                                           WL("addine"), WL("addin"), WL("uddin"),
                                           WL("dine"),   WL("din"),   WL("ddine")};

static const uint16_t ar_al[] = {AR_ALEF, AR_LAM};
static const uint16_t ar_abd[] = {AR_AIN, AR_BEH, AR_DAL};
static const uint16_t ar_din[] = {AR_ALEF, AR_LAM, AR_DAL, AR_YEH, AR_NOON};

static bool is_article(const struct letters *L, size_t wi)
{
    return word_in(L, wi, lat_articles, COUNT(lat_articles)) || word_is_ar(L, wi, ar_al, 2);
}

static bool is_particle(const struct letters *L, size_t wi)
{
    static const uint16_t bn[] = {AR_BEH, AR_NOON};
    static const uint16_t ibn[] = {AR_ALEF, AR_BEH, AR_NOON};
    static const uint16_t ibn2[] = {AR_ALEF_HAMZA_BELOW, AR_BEH, AR_NOON};
    static const uint16_t bint[] = {AR_BEH, AR_NOON, 0x062A};
    static const uint16_t wld[] = {AR_WAW, AR_LAM, AR_DAL};
    static const uint16_t awlad[] = {AR_ALEF, AR_WAW, AR_LAM, AR_ALEF, AR_DAL};
    static const uint16_t awlad2[] = {AR_ALEF_HAMZA, AR_WAW, AR_LAM, AR_ALEF, AR_DAL};
    static const uint16_t ait[] = {AR_ALEF_MADDA, AR_YEH, 0x062A};
    static const uint16_t ait2[] = {AR_ALEF, AR_YEH, 0x062A};
    static const uint16_t ait3[] = {AR_ALEF_HAMZA, AR_YEH, 0x062A};
    if (L->w[wi].script == NAME_LATIN)
        return word_in(L, wi, lat_particles, COUNT(lat_particles));
    return word_is_ar(L, wi, bn, 2) || word_is_ar(L, wi, ibn, 3) || word_is_ar(L, wi, ibn2, 3) ||
           word_is_ar(L, wi, bint, 3) || word_is_ar(L, wi, wld, 3) || word_is_ar(L, wi, awlad, 5) ||
           word_is_ar(L, wi, awlad2, 5) || word_is_ar(L, wi, ait, 3) ||
           word_is_ar(L, wi, ait2, 3) || word_is_ar(L, wi, ait3, 3);
}

static bool is_abd(const struct letters *L, size_t wi)
{
    return word_in(L, wi, lat_abd, COUNT(lat_abd)) || word_is_ar(L, wi, ar_abd, 3);
}

static bool is_din(const struct letters *L, size_t wi)
{
    return word_in(L, wi, lat_din, COUNT(lat_din)) || word_is_ar(L, wi, ar_din, 5);
}

/* Appends word wi's letters to buf (at most cap); returns the new length. */
static size_t append_word(const struct letters *L, size_t wi, uint16_t *buf, size_t n, size_t cap)
{
    const struct word *w = &L->w[wi];
    for (size_t k = 0; k < w->len && n < cap; k++)
        buf[n++] = L->c[w->start + k];
    return n;
}

/* Writes a token from its letters: fold (cut at a whole letter), symbols, key. */
static void make_token(const uint16_t *c, size_t n, uint8_t script, bool particle,
                       struct name_token *t)
{
    memset(t, 0, sizeof(*t));
    t->script = script;
    t->particle = particle;
    size_t f = 0, kept = 0;
    for (; kept < n; kept++) {
        char u[4];
        size_t m = am_utf8_encode(c[kept], u);
        if (f + m >= NAME_FOLD_SZ)
            break;
        memcpy(t->fold + f, u, m);
        f += m;
    }
    t->fold[f] = '\0';
    /* The symbols are read from the fold's letters only, so equal folds give equal symbols. */
    struct phon p = {.n = 0};
    if (script == NAME_LATIN)
        phon_latin(t->fold, f, &p);
    else
        phon_arabic(c, kept, &p);
    memcpy(t->sym, p.sym, p.n);
    t->nsym = (uint8_t)p.n;
    make_key(t->sym, t->nsym, t->key);
}

int name_tokenize(const char *text, size_t len, struct name_token *out, size_t max, size_t *n)
{
    *n = 0;
    if (len > NAME_INPUT_MAX)
        return AM_ETOOBIG;
    if (max > NAME_TOKENS_MAX)
        max = NAME_TOKENS_MAX;
    struct letters L;
    int rc = read_letters(text, len, &L);
    if (rc)
        goto out;
    for (size_t wi = 0; wi < L.nw; wi++) {
        bool has_next = wi + 1 < L.nw && L.w[wi + 1].script == L.w[wi].script;
        if (has_next && is_article(&L, wi))
            continue;
        uint16_t buf[NAME_FOLD_SZ];
        size_t m = append_word(&L, wi, buf, 0, NAME_FOLD_SZ);
        bool particle = is_particle(&L, wi);
        uint8_t script = L.w[wi].script;
        /* Abd joins the name after it, with the article if written apart (Abd el Kader,
           Abd ar-Rahman: any word of a vowel and a consonant there). */
        if (has_next && is_abd(&L, wi)) {
            size_t next = wi + 1;
            const struct word *w = &L.w[next];
            bool article = is_article(&L, next) ||
                           (w->script == NAME_LATIN && w->len == 2 &&
                            lat_vowel((char)L.c[w->start]) && !lat_vowel((char)L.c[w->start + 1]));
            if (article && next + 1 < L.nw && L.w[next + 1].script == script) {
                m = append_word(&L, next, buf, m, NAME_FOLD_SZ);
                next++;
            }
            m = append_word(&L, next, buf, m, NAME_FOLD_SZ);
            wi = next;
        }
        /* ad-Din joins the name before it (Nour Eddine, Nour Ed-Dine, نور الدين). */
        if (!particle) {
            size_t next = wi + 1;
            if (next + 1 < L.nw && L.w[next].script == script && is_article(&L, next) &&
                L.w[next + 1].script == script && is_din(&L, next + 1)) {
                m = append_word(&L, next, buf, m, NAME_FOLD_SZ);
                next++;
            }
            if (next < L.nw && L.w[next].script == script && is_din(&L, next)) {
                m = append_word(&L, next, buf, m, NAME_FOLD_SZ);
                wi = next;
            }
        }
        if (*n >= max) {
            rc = AM_ETOOBIG;
            goto out;
        }
        make_token(buf, m, script, particle, &out[*n]);
        (*n)++;
    }
out:
    if (rc)
        *n = 0;
    return rc;
}

int name_token_join(const struct name_token *a, const struct name_token *b, struct name_token *out)
{
    if (a->script != b->script)
        return AM_EINVAL;
    struct name_token t;
    memset(&t, 0, sizeof(t));
    t.script = a->script;
    size_t fa = strlen(a->fold), fb = strlen(b->fold), f = fa;
    memcpy(t.fold, a->fold, fa);
    if (f + 1 < NAME_FOLD_SZ)
        t.fold[f++] = ' ';
    for (size_t k = 0, m; k < fb; k += m) {
        /* Whole UTF-8 sequences only. */
        m = 1;
        while (k + m < fb && ((unsigned char)b->fold[k + m] & 0xC0) == 0x80)
            m++;
        if (f + m >= NAME_FOLD_SZ)
            break;
        memcpy(t.fold + f, b->fold + k, m);
        f += m;
    }
    t.fold[f] = '\0';
    struct phon p = {.n = 0};
    for (size_t k = 0; k < a->nsym; k++)
        emit(&p, a->sym[k]);
    for (size_t k = 0; k < b->nsym; k++)
        emit(&p, b->sym[k]);
    memcpy(t.sym, p.sym, p.n);
    t.nsym = (uint8_t)p.n;
    make_key(t.sym, t.nsym, t.key);
    *out = t;
    return 0;
}

/* ---------------------------------------------------------------- similarity */

enum { PAIR_LL, PAIR_AA, PAIR_LA };

/*
 * Substitution costs, one table per pair of scripts (for PAIR_LA the Latin
 * symbol and the Arabic one, in either order: the symbols that only one
 * script produces keep the tables symmetric). An entry holds cost + 1; 0
 * means the default for the two classes (sub_default). The same symbol
 * costs 0, or, differing in length only, sub_len[pair].
 */
#define N2(x, y, c) [x][y] = (c) + 1, [y][x] = (c) + 1
#define CONSONANTS_NEAR                                                                            \
    N2(SY_S, SY_Z, 50), N2(SY_D, SY_T, 50), N2(SY_K, SY_G, 50), N2(SY_H, SY_X, 50),                \
        N2(SY_K, SY_X, 50), N2(SY_G, SY_X, 60), N2(SY_S, SY_SH, 50), N2(SY_J, SY_Z, 50),           \
        N2(SY_J, SY_G, 50), N2(SY_D, SY_Z, 50), N2(SY_T, SY_S, 60), N2(SY_K, SY_S, 60),            \
        N2(SY_B, SY_F, 60), N2(SY_LX, SY_L, 0), N2(SY_HX, SY_H, 0), N2(SY_HA, SY_H, 0),            \
        N2(SY_HX, SY_HA, 0)

static const uint8_t sub_ll[SY_COUNT][SY_COUNT] = {
    CONSONANTS_NEAR,    N2(SY_Y, SY_I, 20), N2(SY_W, SY_U, 30),
    N2(SY_E, SY_A, 20), N2(SY_E, SY_I, 20), N2(SY_E, SY_U, 30),
    N2(SY_A, SY_I, 50), N2(SY_A, SY_U, 50), N2(SY_I, SY_U, 50),
};

static const uint8_t sub_aa[SY_COUNT][SY_COUNT] = {
    CONSONANTS_NEAR,     N2(SY_Y, SY_I, 10),   N2(SY_W, SY_U, 10),
    N2(SY_V, SY_A, 20),  N2(SY_V, SY_AIN, 60), N2(SY_AIN, SY_A, 80),
    N2(SY_AY, SY_A, 10), N2(SY_AY, SY_I, 10),  N2(SY_HA, SY_A, 10),
};

static const uint8_t sub_la[SY_COUNT][SY_COUNT] = {
    CONSONANTS_NEAR,     N2(SY_Y, SY_I, 20),  N2(SY_W, SY_U, 30),  N2(SY_E, SY_A, 10),
    N2(SY_E, SY_I, 10),  N2(SY_E, SY_U, 30),  N2(SY_A, SY_I, 50),  N2(SY_A, SY_U, 50),
    N2(SY_I, SY_U, 50),  N2(SY_AIN, SY_A, 0), N2(SY_AIN, SY_I, 0), N2(SY_AIN, SY_U, 0),
    N2(SY_AIN, SY_E, 0), N2(SY_V, SY_A, 0),   N2(SY_V, SY_I, 0),   N2(SY_V, SY_U, 0),
    N2(SY_V, SY_E, 0),   N2(SY_AY, SY_A, 0),  N2(SY_AY, SY_I, 0),  N2(SY_AY, SY_E, 10),
    N2(SY_AY, SY_U, 50), N2(SY_HA, SY_A, 0),  N2(SY_HA, SY_E, 10), N2(SY_HA, SY_U, 30),
    N2(SY_HA, SY_I, 50), N2(SY_W, SY_AIN, 5),
};

static const uint8_t (*const sub_tab[3])[SY_COUNT] = {sub_ll, sub_aa, sub_la};
static const int sub_len[3] = {10, 20, 0};

/* Two consonants 100, two vowels 50 (100 between Arabic letters), else 150: never taken. */
static int sub_default(int pair, int x, int y)
{
    if (sy_cons(x) && sy_cons(y))
        return 100;
    if (sy_vowel(x) && sy_vowel(y))
        return pair == PAIR_AA ? 100 : 50;
    return 150;
}

static int sub_cost(int pair, uint8_t x, uint8_t y)
{
    if (x == y)
        return 0;
    int bx = SY_BASE(x), by = SY_BASE(y);
    if (bx == by)
        return sub_len[pair];
    int t = sub_tab[pair][bx][by];
    int c = t ? t - 1 : sub_default(pair, bx, by);
    if (pair == PAIR_LA && ((x | y) & SY_LONG)) {
        /* ع carries a short vowel: a long Latin one is more (Said is not سعد). And a Latin e is
           a short vowel: an Arabic long one is more (Lahcen is not لحسين). */
        if (bx == SY_AIN || by == SY_AIN)
            return 25;
        if (bx == SY_E || by == SY_E)
            return c + 15;
    }
    return c;
}

/*
 * sub_cost() for every pair of symbols, long or not, tabulated once: the
 * edit distance's inner loop is then a lookup. Indexed by SY_INDEX.
 */
#define SY_INDEX(s) ((SY_BASE(s) << 1) | ((s) >> 7))
static uint8_t sub_table[3][2 * SY_COUNT][2 * SY_COUNT];
static pthread_once_t sub_table_once = PTHREAD_ONCE_INIT;

static void sub_table_init(void)
{
    for (int pair = 0; pair < 3; pair++)
        for (int x = 0; x < 2 * SY_COUNT; x++)
            for (int y = 0; y < 2 * SY_COUNT; y++) {
                uint8_t sx = (uint8_t)((x >> 1) | ((x & 1) << 7));
                uint8_t sy = (uint8_t)((y >> 1) | ((y & 1) << 7));
                sub_table[pair][x][y] = (uint8_t)sub_cost(pair, sx, sy);
            }
}

static bool ar_vowel_sym(uint8_t s)
{
    int b = SY_BASE(s);
    return b == SY_A || b == SY_I || b == SY_U || b == SY_AY;
}

/*
 * What it costs to leave symbol i of s (n symbols, Latin or not) unmatched
 * against a token of the other script (PAIR_LA) or of the same one.
 */
static int del_cost(int pair, bool latin, const uint8_t *s, size_t n, size_t i)
{
    int b = SY_BASE(s[i]);
    bool lng = s[i] & SY_LONG, first = i == 0, last = i + 1 == n;
    switch (b) {
    case SY_LX:
        return 10;
    case SY_HX:
        return pair == PAIR_LA ? 15 : 20;
    case SY_W:
    case SY_Y:
        return pair == PAIR_AA ? 100 : 80;
    case SY_HA:
        return !latin ? 50 : pair == PAIR_LA ? 15 : 20;
    default:
        break;
    }
    if (pair == PAIR_AA) {
        if (b == SY_V)
            return 80;
        if (b == SY_A && !lng)
            return 50; /* ة */
        return 100;
    }
    if (pair == PAIR_LL || latin) {
        if (b == SY_E)
            return first ? 20 : pair == PAIR_LL ? 20 : 5;
        if (!sy_vowel(b))
            return 100;
        if (pair == PAIR_LL)
            return first ? 40 : last ? 50 : lng ? 40 : 30;
        /* A Latin vowel Arabic does not write: a short one costs little, but one opening the
           word needs an alef or ain there, and an ou, ee or a final vowel is likely long. */
        return first ? 50 : lng ? 35 : last ? 40 : 10;
    }
    /* An Arabic symbol Latin lacks. */
    switch (b) {
    case SY_V:
        return 10;
    case SY_AIN:
        return (i + 1 < n && ar_vowel_sym(s[i + 1])) || (i && ar_vowel_sym(s[i - 1])) ? 10 : 15;
    case SY_A:
    case SY_I:
    case SY_U:
    case SY_AY:
        return lng ? 60 : 50;
    default:
        return 100;
    }
}

/* How much a symbol weighs in the score's denominator. */
static int sym_weight(uint8_t s, bool latin)
{
    int b = SY_BASE(s);
    if (sy_cons(b))
        return 100;
    switch (b) {
    case SY_HA:
        return 80;
    case SY_AIN:
    case SY_V:
        return 50;
    case SY_LX:
    case SY_HX:
        return 30;
    case SY_AY:
        return 80;
    case SY_E:
        return 30;
    default:
        break;
    }
    if (latin)
        return s & SY_LONG ? 60 : 50;
    return s & SY_LONG ? 80 : 50;
}

double name_token_sim(const struct name_token *a, const struct name_token *b)
{
    if (!a->nsym || !b->nsym)
        return a->nsym == b->nsym && strcmp(a->fold, b->fold) == 0 ? 1.0 : 0.0;
    int pair;
    if (a->script == b->script) {
        pair = a->script == NAME_LATIN ? PAIR_LL : PAIR_AA;
    } else {
        pair = PAIR_LA;
        if (a->script != NAME_LATIN) {
            const struct name_token *t = a;
            a = b;
            b = t;
        }
    }
    bool la = a->script == NAME_LATIN, lb = b->script == NAME_LATIN;
    size_t n = a->nsym, m = b->nsym;
    int da[NAME_SYM_MAX], db[NAME_SYM_MAX], wa = 0, wb = 0;
    uint8_t bi[NAME_SYM_MAX];
    for (size_t i = 0; i < n; i++) {
        da[i] = del_cost(pair, la, a->sym, n, i);
        wa += sym_weight(a->sym[i], la);
    }
    for (size_t j = 0; j < m; j++) {
        db[j] = del_cost(pair, lb, b->sym, m, j);
        wb += sym_weight(b->sym[j], lb);
        bi[j] = (uint8_t)SY_INDEX(b->sym[j]);
    }
    pthread_once(&sub_table_once, sub_table_init);
    int row[NAME_SYM_MAX + 1];
    row[0] = 0;
    for (size_t j = 0; j < m; j++)
        row[j + 1] = row[j] + db[j];
    for (size_t i = 0; i < n; i++) {
        const uint8_t *sub = sub_table[pair][SY_INDEX(a->sym[i])];
        int diag = row[0];
        row[0] += da[i];
        for (size_t j = 0; j < m; j++) {
            int c = diag + sub[bi[j]];
            int up = row[j + 1] + da[i], left = row[j] + db[j];
            if (up < c)
                c = up;
            if (left < c)
                c = left;
            diag = row[j + 1];
            row[j + 1] = c;
        }
    }
    int norm = wa > wb ? wa : wb;
    double s = 1.0 - (double)row[m] / norm;
    return s < 0 ? 0 : s;
}

/* ---------------------------------------------------------------- names */

#define PARTICLE_WEIGHT 0.3
/* A token pair below this adds nothing to a name's score: it is not the same name. */
#define MATCH_FLOOR 0.5
/* A query token matched this well alone is not tried joined. */
#define JOIN_NEEDLESS 0.95

/* One way to pair tokens: q[q0..q0+qn) with p[p0..p0+pn), qn and pn 1 or 2 (a join). */
struct pairing {
    double sim;
    uint8_t q0, qn, p0, pn;
};

/* Whether a join of lengths n1 + n2 is worth comparing with a token of length m. */
static bool join_fits(size_t n1, size_t n2, size_t m)
{
    size_t n = n1 + n2, d = n > m ? n - m : m - n, slack = m / 3 > 3 ? m / 3 : 3;
    return d <= slack;
}

double name_match(const struct name_token *q, size_t nq, const struct name_token *p, size_t np)
{
    if (!nq || !np)
        return 0.0;
    if (nq > NAME_TOKENS_MAX)
        nq = NAME_TOKENS_MAX;
    if (np > NAME_TOKENS_MAX)
        np = NAME_TOKENS_MAX;
    struct pairing c[3 * NAME_TOKENS_MAX * NAME_TOKENS_MAX];
    size_t nc = 0;
    double best[NAME_TOKENS_MAX];
    for (size_t i = 0; i < nq; i++) {
        best[i] = 0;
        for (size_t j = 0; j < np; j++) {
            double s = name_token_sim(&q[i], &p[j]);
            if (s > best[i])
                best[i] = s;
            c[nc++] = (struct pairing){s, (uint8_t)i, 1, (uint8_t)j, 1};
        }
    }
    /* Joins, for a name written in one word on one side and two on the other; not tried for
       query tokens already well matched alone, nor at lengths that cannot match. */
    struct name_token joined;
    for (size_t i = 0; i + 1 < nq; i++) {
        if ((best[i] >= JOIN_NEEDLESS && best[i + 1] >= JOIN_NEEDLESS) || !q[i].nsym ||
            !q[i + 1].nsym || name_token_join(&q[i], &q[i + 1], &joined))
            continue;
        for (size_t j = 0; j < np; j++)
            if (join_fits(q[i].nsym, q[i + 1].nsym, p[j].nsym))
                c[nc++] =
                    (struct pairing){name_token_sim(&joined, &p[j]), (uint8_t)i, 2, (uint8_t)j, 1};
    }
    for (size_t j = 0; j + 1 < np; j++) {
        bool built = false;
        for (size_t i = 0; i < nq; i++) {
            if (best[i] >= JOIN_NEEDLESS || !join_fits(p[j].nsym, p[j + 1].nsym, q[i].nsym))
                continue;
            if (!built &&
                (!p[j].nsym || !p[j + 1].nsym || name_token_join(&p[j], &p[j + 1], &joined)))
                break;
            built = true;
            c[nc++] =
                (struct pairing){name_token_sim(&q[i], &joined), (uint8_t)i, 1, (uint8_t)j, 2};
        }
    }

    double total = 0, got = 0;
    for (size_t i = 0; i < nq; i++)
        total += q[i].particle ? PARTICLE_WEIGHT : 1.0;
    /* Greedy: the best pairing of free tokens first; on a tie, the one with fewer tokens. */
    uint32_t qused = 0, pused = 0;
    for (;;) {
        size_t k_best = nc;
        for (size_t k = 0; k < nc; k++) {
            uint32_t qm = ((1u << c[k].qn) - 1) << c[k].q0, pm = ((1u << c[k].pn) - 1) << c[k].p0;
            if ((qm & qused) || (pm & pused) || c[k].sim < MATCH_FLOOR)
                continue;
            if (k_best == nc || c[k].sim > c[k_best].sim ||
                (c[k].sim == c[k_best].sim && c[k].qn + c[k].pn < c[k_best].qn + c[k_best].pn))
                k_best = k;
        }
        if (k_best == nc)
            break;
        const struct pairing *b = &c[k_best];
        qused |= ((1u << b->qn) - 1) << b->q0;
        pused |= ((1u << b->pn) - 1) << b->p0;
        for (size_t i = b->q0; i < (size_t)b->q0 + b->qn; i++)
            got += b->sim * (q[i].particle ? PARTICLE_WEIGHT : 1.0);
    }
    double s = got / total;
    return s > 1.0 ? 1.0 : s;
}
