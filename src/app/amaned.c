/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * amaned.c - main() of the amane server: configuration, wiring, signals, the
 * network loop, and an orderly stop on SIGINT/SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"

extern char **environ;

static struct http_server *running;

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        http_stop(running);
}

static void print_route(void *arg, const char *method, const char *pattern, unsigned roles,
                        unsigned flags)
{
    (void)arg;
    printf("%-6s %-40s ", method, pattern);
    if (flags & HTTP_PUBLIC)
        fputs("public", stdout);
    for (int r = 0, first = 1; r < AM_ROLE_COUNT; r++) {
        if (roles & AM_ROLE_BIT(r)) {
            printf("%s%s", first ? "" : ",", am_role_name((enum am_role)r));
            first = 0;
        }
    }
    putchar('\n');
}

static void usage(void)
{
    fputs("usage: amaned [-c FILE] [--section.key=value ...]\n"
          "\n"
          "Runs the amane server. Settings come from amane.conf (or -c FILE), then\n"
          "AMANE_<SECTION>_<KEY> environment variables, then --section.key=value flags,\n"
          "e.g. --server.port=8080 --store.path=var/amane.db. See docs/configuration.md.\n"
          "\n"
          "  --routes   print the route table (method, path, roles) and exit\n",
          stdout);
}

int main(int argc, char **argv)
{
    argc--;
    argv++;
    bool routes = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--routes") == 0) {
            routes = true;
            argv[i--] = argv[--argc];
            continue;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            puts("amaned " AMANE_VERSION);
            return 0;
        }
    }
    struct app a = {0};
    if (app_config(&a.cfg, &argc, argv, environ))
        return 2;
    if (argc > 0) {
        fprintf(stderr, "amaned: unexpected argument '%s' (try --help)\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (routes) {
        /* Any free port: listing must not collide with a running server. */
        a.cfg.port = 0;
        am_log_set_level(AM_LOG_WARN);
    }
    int rc = app_open(&a, true);
    if (rc) {
        fprintf(stderr, "amaned: cannot start: %s\n", am_strerror(rc));
        app_close(&a);
        return 1;
    }
    if (routes) {
        http_route_each(a.http, print_route, NULL);
        app_close(&a);
        return 0;
    }
    running = a.http;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    am_info("amaned", "listening", "url=%s://%s:%d db=\"%s\" version=%s",
            a.cfg.tls_cert[0] ? "https" : "http", a.cfg.listen, http_port(a.http), a.cfg.db_path,
            AMANE_VERSION);
    rc = http_run(a.http);
    am_info("amaned", "stopping", NULL);
    running = NULL;
    app_close(&a);
    return rc ? 1 : 0;
}
