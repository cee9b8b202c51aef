/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * amane.c - main() of the amane command-line tool: administration and
 * queries that work on the same store as the server, whether or not the
 * server is running (SQLite WAL admits both; the server notices events the
 * tool appended and streams them).
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"

extern char **environ;

const char *cli_actor(void)
{
    static char actor[64];
    if (!actor[0]) {
        struct passwd *pw = getpwuid(getuid());
        snprintf(actor, sizeof(actor), "cli:%.50s", pw ? pw->pw_name : "unknown");
    }
    return actor;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("amane: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static void usage(FILE *f)
{
    fputs("usage: amane [-c FILE] [--section.key=value ...] COMMAND ...\n"
          "\n"
          "commands:\n"
          "  user add USERNAME --role ROLE [--name NAME] [--password-stdin]\n"
          "  user list [--json]\n"
          "  user disable USERNAME\n"
          "  user passwd USERNAME [--password-stdin]\n"
          "  incident open --type T [--priority P] [--caller NAME] [--phone P]\n"
          "                [--lat LAT --lon LON] [--address TEXT] [--narrative TEXT]\n"
          "  incident list [--status open|closed|all]\n"
          "  incident show NUMBER\n"
          "  incident note NUMBER --text TEXT\n"
          "  incident close NUMBER --disposition D\n"
          "  unit add CALLSIGN --kind KIND [--capabilities a,b] [--crew x,y] [--sector CODE]\n"
          "  unit list\n"
          "  unit status CALLSIGN STATUS [--reason TEXT]\n"
          "  roads import FILE.osm|FILE.pbf [--rural] [--out GRAPH]\n"
          "  roads info [GRAPH]\n"
          "  roads export [GRAPH] --csv OUT.csv|-\n"
          "  roads route --from LAT,LON --to LAT,LON [--emergency] [--graph GRAPH]\n"
          "  simulate --server http://HOST:PORT --units N [--protocol osmand|teltonika|mqtt]\n"
          "           [--osmand-port P] [--teltonika-port P] [--mqtt HOST:PORT]\n"
          "           [--interval-ms MS] [--speedup X]\n"
          "           [--seconds S] [--user U] [--password-stdin] [--graph GRAPH]\n"
          "  records import FILE --kind persons|vehicles|hotlist [--format csv|jsonl] [--dry-run]\n"
          "  records export --kind K --format csv|jsonl --reason TEXT [--ref REF] [--out FILE]\n"
          "  records generate --out DIR [--persons N] [--vehicles N] [--hotlist N] [--seed S]\n"
          "                   [--format csv|jsonl]\n"
          "  audit verify          check the hash chain of the event log\n"
          "  demo seed             create the demo users and logbook (idempotent)\n"
          "  version\n"
          "\n"
          "roles: admin supervisor dispatcher patrol analyst examiner trainer trainee\n",
          f);
}

int main(int argc, char **argv)
{
    argc--;
    argv++;
    if (argc >= 1 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0 ||
                      strcmp(argv[0], "help") == 0)) {
        usage(stdout);
        return 0;
    }
    struct app a = {0};
    if (app_config(&a.cfg, &argc, argv, environ))
        return 2;
    if (argc < 1) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[0], "version") == 0) {
        puts("amane " AMANE_VERSION);
        return 0;
    }
    int (*cmd)(struct app *, int, char **) = NULL;
    if (strcmp(argv[0], "user") == 0)
        cmd = cli_user;
    else if (strcmp(argv[0], "audit") == 0)
        cmd = cli_audit;
    else if (strcmp(argv[0], "demo") == 0)
        cmd = cli_demo;
    else if (strcmp(argv[0], "incident") == 0)
        cmd = cli_incident;
    else if (strcmp(argv[0], "unit") == 0)
        cmd = cli_unit;
    else if (strcmp(argv[0], "records") == 0)
        cmd = cli_records;
    if (cmd == cli_records && argc >= 2 && strcmp(argv[1], "generate") == 0)
        return cli_records_generate(&a, argc - 2, argv + 2); /* needs no store */
    if (!cmd && strcmp(argv[0], "roads") == 0)
        return cli_roads(&a, argc - 1, argv + 1); /* needs no store */
    if (!cmd && strcmp(argv[0], "simulate") == 0)
        return cli_simulate(&a, argc - 1, argv + 1); /* talks to a running amaned */
    if (!cmd) {
        fprintf(stderr, "amane: '%s' is not a command (try --help)\n", argv[0]);
        return 2;
    }
    /* The tool's logs are for problems only. */
    if (am_log_get_level() < AM_LOG_WARN)
        am_log_set_level(AM_LOG_WARN);
    int rc = app_open(&a, false);
    if (rc) {
        app_close(&a);
        return cli_fail("cannot open the store '%s': %s", a.cfg.db_path, am_strerror(rc));
    }
    int code = cmd(&a, argc - 1, argv + 1);
    app_close(&a);
    return code;
}
