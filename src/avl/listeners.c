/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * listeners.c - where devices connect: the OsmAnd HTTP port (5055 by
 * default, as Traccar's), on which the Traccar Client phone app reports.
 * A report is answered 200 only once its batch is durable (fleet.c), so
 * that the app keeps and resends what a crash would have lost; an unknown
 * device gets 400, a flood 429, a full queue 503.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avl/avl.h"
#include "http/http.h"

/* Percent-encodes `s` (RFC 3986 unreserved characters kept) onto `b`. */
static int encode(struct am_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            rc = am_buf_append(b, (const char *)&c, 1);
        else
            rc = am_buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
        if (rc)
            return rc;
    }
    return 0;
}

/* The query string again, from the arguments the server decoded. */
static int rebuild_query(const struct http_req *req, struct am_buf *b)
{
    int rc = 0;
    for (int i = 0; i < req->nargs && !rc; i++) {
        const char *arg = req->args[i], *eq = strchr(arg, '=');
        size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
        if (i)
            rc = am_buf_append(b, "&", 1);
        if (!rc)
            rc = encode(b, arg, klen);
        if (!rc && eq)
            rc = am_buf_append(b, "=", 1);
        if (!rc && eq)
            rc = encode(b, eq + 1, strlen(eq + 1));
    }
    if (!rc)
        rc = am_buf_append(b, "", 1) ? AM_ENOMEM : 0;
    return rc;
}

static void answer(struct http_req *req, struct http_resp *resp, int rc, const char *why)
{
    if (rc == 0)
        http_text(resp, 200, "text/plain; charset=utf-8", strdup(""));
    else if (rc == AM_ENOTFOUND)
        http_problem(resp, req, 400, "unknown-device", "Unknown device",
                     "this device is not registered for OsmAnd");
    else if (rc == AM_EINVAL)
        http_problem(resp, req, 400, "invalid-position", "Invalid position report", "%s", why);
    else if (rc == AM_EBUSY)
        http_problem(resp, req, 429, "too-many-reports", "Too many reports",
                     "this device reports too often, or the server is saturated");
    else
        http_problem_err(resp, req, rc, NULL);
}

static void osmand_durable(void *arg, int rc)
{
    struct http_later *l = arg;
    answer(http_later_req(l), http_later_resp(l), rc ? AM_EIO : 0, NULL);
    http_later_done(l);
}

static void osmand_request(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct avl *a = arg;
    struct am_buf q;
    am_buf_init(&q, 64 * 1024);
    char why[200] = "";
    struct avl_fix fix;
    int rc = rebuild_query(req, &q);
    if (!rc)
        rc = avl_osmand_decode(q.data, req->body, req->body_len, req->content_type, am_now_us(),
                               &fix, why, sizeof(why));
    am_buf_release(&q);
    if (rc) {
        answer(req, resp, rc, why);
        return;
    }
    /* Answered by osmand_durable once the batch is written, or here if refused. */
    struct http_later *l = http_later(resp);
    rc = avl_ingest(a, AVL_OSMAND, &fix, osmand_durable, l);
    if (rc) {
        answer(req, resp, rc, why);
        http_later_done(l);
    }
}

int avl_listen(struct avl *a, struct http_server *srv, int osmand_port, int *osmand_bound)
{
    if (osmand_port < 0)
        return 0;
    return http_listen(srv, "osmand", osmand_port, osmand_request, a, osmand_bound);
}
