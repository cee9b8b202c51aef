/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_osmand_http.c - fuzzes osmand_http_parse(), the framing parser of
 * the OsmAnd port's HTTP/1.1 server, as a connection reads a byte stream:
 * the input is everything a client sent, requests parsed one after the
 * other (pipelining) until one is incomplete or refused.
 *
 * It asserts, for each request: (1) the answer is 0, OSMAND_HTTP_MORE or a
 * status of the documented refusals (400, 411, 413, 414, 417, 431, 505),
 * a refusal with a reason; (2) "more" only while the request could still
 * fit (under 8 KiB of head plus 64 KiB of body): a connection never buffers
 * beyond that; (3) an accepted request lies inside the buffer: 0 < used <=
 * len, the body ends at `used`, the body at most 64 KiB, the path begins
 * with '/', the strings end inside the head; (4) parsing is deterministic
 * (a fresh copy gives the same answer, length and fields), and every proper
 * prefix of an accepted request is "more", fed in two steps with the scan
 * hint as a connection does. Any failed check is abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avl/osmand_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REQUESTS 64

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_osmand_http: %s\n", what);
    abort();
}

static bool inside(const char *p, const char *buf, size_t n)
{
    return p >= buf && p < buf + n;
}

/* A string that begins inside buf[0..n) and ends there. */
static void check_string(const char *s, const char *buf, size_t n, const char *what)
{
    if (!inside(s, buf, n) || !memchr(s, '\0', n - (size_t)(s - buf)))
        fail(what);
}

static bool is_refusal(int rc)
{
    return rc == 400 || rc == 411 || rc == 413 || rc == 414 || rc == 417 || rc == 431 || rc == 505;
}

/* Parses a copy of in[0..n) and returns the answer (and *used, *r); the copy in *out. */
static int parse(const uint8_t *in, size_t n, struct osmand_http_req *r, size_t *used, char **out)
{
    char *b = malloc(n ? n : 1);
    if (!b)
        fail("out of memory");
    if (n)
        memcpy(b, in, n);
    const char *why = NULL;
    int rc = osmand_http_parse(b, n, r, used, NULL, &why);
    if (rc != 0 && rc != OSMAND_HTTP_MORE) {
        if (!is_refusal(rc))
            fail("an answer that is neither a request, more nor a documented refusal");
        if (!why || !why[0])
            fail("a refusal without a reason");
    }
    *out = b;
    return rc;
}

/* Every proper prefix of an accepted request is "more", also in two steps with the scan hint. */
static void check_prefixes(const uint8_t *in, size_t used)
{
    size_t cuts[3] = {used / 3, used / 2, used - 1};
    char *b = malloc(used);
    if (!b)
        fail("out of memory");
    for (int k = 0; k < 3; k++) {
        size_t cut = cuts[k];
        if (cut == 0)
            continue;
        struct osmand_http_req r;
        size_t u, scan = 0;
        memcpy(b, in, used);
        if (osmand_http_parse(b, cut, &r, &u, &scan, NULL) != OSMAND_HTTP_MORE || u != 0)
            fail("a proper prefix of a request is not 'more'");
        if (osmand_http_parse(b, used, &r, &u, &scan, NULL) != 0 || u != used)
            fail("the request, read in two steps, is not the same");
    }
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    for (int i = 0; i < MAX_REQUESTS && off < size; i++) {
        const uint8_t *in = data + off;
        size_t n = size - off;
        struct osmand_http_req r, r2;
        size_t used = 0, used2 = 0;
        char *b, *b2;
        int rc = parse(in, n, &r, &used, &b);
        int rc2 = parse(in, n, &r2, &used2, &b2);
        if (rc != rc2 || used != used2)
            fail("not deterministic");
        if (rc == OSMAND_HTTP_MORE && n >= OSMAND_HTTP_MAX_HEAD + OSMAND_HTTP_MAX_BODY)
            fail("'more' past the largest request");
        if (rc == 0) {
            if (used == 0 || used > n)
                fail("used out of the buffer");
            if (r.body_len > OSMAND_HTTP_MAX_BODY || r.body + r.body_len != b + used ||
                (r.body_len && !inside(r.body, b, used)))
                fail("the body is not where the request ends");
            check_string(r.method_name, b, used, "the method name is not inside the head");
            check_string(r.path, b, used, "the path is not inside the head");
            if (r.path[0] != '/')
                fail("a path that does not begin with '/'");
            if (r.query)
                check_string(r.query, b, used, "the query is not inside the head");
            if (r.content_type[0])
                check_string(r.content_type, b, used, "the content type is not inside the head");
            if (r.minor != 0 && r.minor != 1)
                fail("a version other than 1.0 and 1.1");
            if ((r.method == OSMAND_HTTP_GET) != (strcmp(r.method_name, "GET") == 0) ||
                (r.method == OSMAND_HTTP_POST) != (strcmp(r.method_name, "POST") == 0))
                fail("the method does not match its name");
            if (r.method != r2.method || r.keep_alive != r2.keep_alive ||
                r.body_len != r2.body_len || strcmp(r.path, r2.path) != 0 ||
                strcmp(r.content_type, r2.content_type) != 0 || !r.query != !r2.query ||
                (r.query && strcmp(r.query, r2.query) != 0))
                fail("the same request parsed twice differs");
            check_prefixes(in, used);
        }
        free(b);
        free(b2);
        if (rc != 0)
            break;
        off += used;
    }
    return 0;
}
