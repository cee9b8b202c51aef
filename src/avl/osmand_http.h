/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * osmand_http.h - private to src/avl: the OsmAnd port's own HTTP/1.1 server
 * (osmand_http.c), on the raw TCP listener of src/http. The framing parser
 * is a pure function, declared here for its unit test and fuzz target.
 */
#ifndef AM_AVL_OSMAND_HTTP_H
#define AM_AVL_OSMAND_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct avl;
struct http_server;

#define OSMAND_HTTP_MAX_HEAD (8 * 1024)  /* request line and headers, CRLFs included */
#define OSMAND_HTTP_MAX_BODY (64 * 1024) /* a body, by its Content-Length */

/* osmand_http_parse(): the buffer holds only part of a request, read more. */
#define OSMAND_HTTP_MORE 1

enum osmand_http_method { OSMAND_HTTP_GET, OSMAND_HTTP_POST, OSMAND_HTTP_OTHER };

/*
 * One request, pointing into the buffer given to osmand_http_parse() (valid
 * while it is). `path` and `query` are NUL-terminated in place; `query` is
 * NULL without a '?'. `content_type` is "" when absent. `body` is not
 * NUL-terminated.
 */
struct osmand_http_req {
    enum osmand_http_method method;
    int minor;       /* HTTP/1.minor: 0 or 1 */
    bool keep_alive; /* the connection stays open after the answer */
    const char *method_name, *path, *query, *content_type;
    const char *body;
    size_t body_len;
    /* Set even when OSMAND_HTTP_MORE is returned: the head is whole and the
     * client waits for "100 Continue" before sending the body. */
    bool head_done, expect_continue;
};

/*
 * Parses one request at the start of buf[0..len): the request line (GET,
 * POST or another method token; an origin-form target; HTTP/1.0 or 1.1),
 * headers (CRLF line ends, no folding; Host required in HTTP/1.1;
 * Content-Length once, decimal; Transfer-Encoding refused; Connection;
 * Content-Type; Expect: 100-continue), then Content-Length bytes of body.
 * Empty lines before a request line are skipped.
 *
 * Returns 0 with *req filled and *used the bytes of the request; the head
 * is then NUL-terminated in place (buf is modified only then).
 * OSMAND_HTTP_MORE when the request is not whole yet (*scan, if not NULL,
 * remembers how far the end of the head was looked for: give the same
 * variable, 0 for a new request, on the next call). Or the HTTP status of
 * the refusal, after which the connection cannot be read further: 400
 * (malformed), 411 (Transfer-Encoding: send Content-Length), 413 (body over
 * OSMAND_HTTP_MAX_BODY), 414 (request line over OSMAND_HTTP_MAX_HEAD), 417
 * (an Expect other than 100-continue), 431 (head over OSMAND_HTTP_MAX_HEAD),
 * 505 (not HTTP/1.x); *why (may be NULL) gets a static reason.
 */
int osmand_http_parse(char *buf, size_t len, struct osmand_http_req *req, size_t *used,
                      size_t *scan, const char **why);

/*
 * Listens for OsmAnd reports on `port` (0: any free port) with the server
 * above on `srv`'s raw TCP listener; *bound (may be NULL) gets the port.
 * Returns as http_listen_raw().
 */
int avl_osmand_listen(struct avl *a, struct http_server *srv, int port, int *bound);

#endif
