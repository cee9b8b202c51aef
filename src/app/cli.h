/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cli.h - private to the amane command-line tool: its subcommands.
 */
#ifndef AM_CLI_H
#define AM_CLI_H

#include "app/app.h"

/* Each returns the process exit code: 0 ok, 1 failed, 2 usage error. */
int cli_user(struct app *a, int argc, char **argv);
int cli_audit(struct app *a, int argc, char **argv);
int cli_demo(struct app *a, int argc, char **argv);
int cli_incident(struct app *a, int argc, char **argv);
int cli_unit(struct app *a, int argc, char **argv);
int cli_roads(struct app *a, int argc, char **argv);
int cli_simulate(struct app *a, int argc, char **argv);
int cli_records(struct app *a, int argc, char **argv);
/* `records generate`: needs no store. */
int cli_records_generate(struct app *a, int argc, char **argv);

/* The actor recorded in events for CLI changes: "cli:<login>". */
const char *cli_actor(void);
/* Prints "amane: <msg>" to stderr; returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
