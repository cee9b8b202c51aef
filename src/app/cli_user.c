/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cli_user.c - `amane user add|list|disable|passwd`: user administration
 * from a shell on the server, e.g. to create the first administrator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "app/cli.h"

/* Reads one line from stdin without its newline; prompts without echo on a terminal. */
static int read_password(bool from_stdin, char *out, size_t outsz)
{
    bool tty = isatty(STDIN_FILENO);
    if (!from_stdin && !tty)
        return cli_fail("no password given: use --password-stdin or a terminal");
    struct termios old, quiet;
    if (tty && !from_stdin) {
        fputs("password: ", stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    char *ok = fgets(out, (int)outsz, stdin);
    if (tty && !from_stdin) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fputc('\n', stderr);
    }
    if (!ok)
        return cli_fail("no password read");
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    return 0;
}

static int user_add(struct app *a, int argc, char **argv)
{
    const char *username = NULL, *role_s = NULL, *name = NULL;
    bool from_stdin = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
            role_s = argv[++i];
        else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--password-stdin") == 0)
            from_stdin = true;
        else if (argv[i][0] != '-' && !username)
            username = argv[i];
        else
            return cli_fail("user add: unexpected argument '%s'", argv[i]) + 1;
    }
    if (!username || !role_s)
        return cli_fail("usage: amane user add USERNAME --role ROLE [--name NAME] "
                        "[--password-stdin]") +
               1;
    char why[160];
    enum am_role role;
    if (auth_check_username(username, why, sizeof(why)))
        return cli_fail("%s", why);
    if (am_role_parse(role_s, &role))
        return cli_fail("'%s' is not a role (admin supervisor dispatcher patrol analyst "
                        "examiner trainer trainee)",
                        role_s);
    if (!name)
        name = username;
    if (auth_check_display_name(name, why, sizeof(why)))
        return cli_fail("%s", why);
    char pw[AUTH_PASSWORD_MAX + 2];
    if (read_password(from_stdin, pw, sizeof(pw)))
        return 1;
    if (auth_check_password(pw, why, sizeof(why))) {
        sodium_memzero(pw, sizeof(pw));
        return cli_fail("%s", why);
    }
    int64_t id;
    int rc = auth_user_add(a->auth, cli_actor(), username, name, role, pw, &id);
    sodium_memzero(pw, sizeof(pw));
    if (rc == AM_ECONFLICT)
        return cli_fail("user '%s' already exists", username);
    if (rc)
        return cli_fail("cannot add user '%s': %s", username, am_strerror(rc));
    printf("added user %s (id %lld, role %s)\n", username, (long long)id, role_s);
    return 0;
}

static int user_list(struct app *a, int argc, char **argv)
{
    bool as_json = argc == 1 && strcmp(argv[0], "--json") == 0;
    if (argc > 1 || (argc == 1 && !as_json))
        return cli_fail("usage: amane user list [--json]") + 1;
    json_t *users;
    int rc = auth_user_list(a->auth, &users);
    if (rc)
        return cli_fail("cannot list users: %s", am_strerror(rc));
    if (as_json) {
        json_dumpf(users, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    } else {
        printf("%-20s %-11s %-8s %s\n", "USERNAME", "ROLE", "STATE", "NAME");
        size_t i;
        json_t *u;
        json_array_foreach(users, i, u)
        {
            const char *state = json_is_true(json_object_get(u, "disabled"))         ? "disabled"
                                : json_is_string(json_object_get(u, "locked_until")) ? "locked"
                                                                                     : "active";
            printf("%-20s %-11s %-8s %s\n", json_string_value(json_object_get(u, "username")),
                   json_string_value(json_object_get(u, "role")), state,
                   json_string_value(json_object_get(u, "display_name")));
        }
    }
    json_decref(users);
    return 0;
}

static int user_disable(struct app *a, int argc, char **argv)
{
    if (argc != 1)
        return cli_fail("usage: amane user disable USERNAME") + 1;
    int rc = auth_user_disable(a->auth, cli_actor(), argv[0]);
    if (rc == AM_ENOTFOUND)
        return cli_fail("no user '%s'", argv[0]);
    if (rc)
        return cli_fail("cannot disable '%s': %s", argv[0], am_strerror(rc));
    printf("disabled user %s and revoked its tokens\n", argv[0]);
    return 0;
}

static int user_passwd(struct app *a, int argc, char **argv)
{
    const char *username = NULL;
    bool from_stdin = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--password-stdin") == 0)
            from_stdin = true;
        else if (!username && argv[i][0] != '-')
            username = argv[i];
        else
            return cli_fail("user passwd: unexpected argument '%s'", argv[i]) + 1;
    }
    if (!username)
        return cli_fail("usage: amane user passwd USERNAME [--password-stdin]") + 1;
    char pw[AUTH_PASSWORD_MAX + 2], why[160];
    if (read_password(from_stdin, pw, sizeof(pw)))
        return 1;
    if (auth_check_password(pw, why, sizeof(why))) {
        sodium_memzero(pw, sizeof(pw));
        return cli_fail("%s", why);
    }
    int rc = auth_user_passwd(a->auth, cli_actor(), username, pw);
    sodium_memzero(pw, sizeof(pw));
    if (rc == AM_ENOTFOUND)
        return cli_fail("no user '%s'", username);
    if (rc)
        return cli_fail("cannot set the password of '%s': %s", username, am_strerror(rc));
    printf("password of %s changed; its tokens are revoked\n", username);
    return 0;
}

int cli_user(struct app *a, int argc, char **argv)
{
    if (argc < 1)
        return cli_fail("usage: amane user add|list|disable|passwd ...") + 1;
    if (strcmp(argv[0], "add") == 0)
        return user_add(a, argc - 1, argv + 1);
    if (strcmp(argv[0], "list") == 0)
        return user_list(a, argc - 1, argv + 1);
    if (strcmp(argv[0], "disable") == 0)
        return user_disable(a, argc - 1, argv + 1);
    if (strcmp(argv[0], "passwd") == 0)
        return user_passwd(a, argc - 1, argv + 1);
    return cli_fail("'user %s' is not a command", argv[0]) + 1;
}
