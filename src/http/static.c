/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * static.c - the web apps' files under web_root, served by a worker. Paths
 * are checked before the file system sees them: no "..", no hidden files,
 * no symlink out of the root.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http/http_int.h"

#define STATIC_MAX (16 * 1024 * 1024)

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".geojson", "application/geo+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

void http_static_serve(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct http_server *s = arg;
    char rel[1024];
    const char *p = req->path;
    if (strcmp(p, "/") == 0) {
        /* The command-room console is the home page. */
        http_text(resp, 302, "text/plain; charset=utf-8", strdup("/console/\n"));
        am_strlcpy(resp->headers, "location: /console/\r\n", sizeof(resp->headers));
        return;
    }
    if (strstr(p, "/.") || strchr(p, '\\') || strlen(p) > 400) {
        http_problem(resp, req, 404, "not-found", "Not found", "no such file");
        return;
    }
    size_t n = strlen(p);
    snprintf(rel, sizeof(rel), "%s%s%s", s->web_root, p, p[n - 1] == '/' ? "index.html" : "");
    char real[PATH_MAX], root[PATH_MAX];
    struct stat sb;
    if (!realpath(s->web_root, root) || !realpath(rel, real) || strncmp(real, root, strlen(root)) ||
        real[strlen(root)] != '/' || stat(real, &sb) || !S_ISREG(sb.st_mode) ||
        sb.st_size > STATIC_MAX) {
        http_problem(resp, req, 404, "not-found", "Not found", "no such file");
        return;
    }
    FILE *f = fopen(real, "rb");
    char *body = f ? malloc((size_t)sb.st_size + 1) : NULL;
    if (!body || fread(body, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        free(body);
        if (f)
            fclose(f);
        http_problem(resp, req, 500, "internal", "Internal error", NULL);
        return;
    }
    fclose(f);
    body[sb.st_size] = '\0';
    free(resp->body);
    resp->status = 200;
    resp->content_type = type_of(real);
    resp->body = body;
    resp->body_len = (size_t)sb.st_size;
    am_strlcpy(resp->headers, "cache-control: no-cache\r\n", sizeof(resp->headers));
}
