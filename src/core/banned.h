/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * banned.h - functions that may not be used in amane.
 *
 * Included at the end of core.h, which every amane source file includes
 * after its system headers. Each banned function is redefined to an
 * undeclared identifier, so any use is a compile error that names the
 * reason. Use the bounded replacements (am_strlcpy, snprintf, am_parse_i64,
 * gmtime_r) instead.
 */
#ifndef AM_BANNED_H
#define AM_BANNED_H

/* Included first, so that system headers are read before the poison below. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#define AM_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) AM_BANNED(strcpy)
#undef strcat
#define strcat(x, y) AM_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) AM_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) AM_BANNED(strncat)
#undef sprintf
#define sprintf(...) AM_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) AM_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) AM_BANNED(strtok)
#undef gets
#define gets(x) AM_BANNED(gets)
#undef atoi
#define atoi(x) AM_BANNED(atoi)
#undef atol
#define atol(x) AM_BANNED(atol)
#undef gmtime
#define gmtime(x) AM_BANNED(gmtime)
#undef localtime
#define localtime(x) AM_BANNED(localtime)
#undef asctime
#define asctime(x) AM_BANNED(asctime)
#undef ctime
#define ctime(x) AM_BANNED(ctime)

#endif
