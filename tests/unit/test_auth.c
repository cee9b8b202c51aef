/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_auth.c - unit tests of src/auth on a real store: user validation and
 * creation, login and bearer tokens, wrong passwords, lockout and its expiry,
 * token expiry, logout, disabling, the user list, the events auth appends
 * (and that none of them carries a secret), and which roles see which events.
 *
 * Argon2id makes every password hash cost ~0.2 s, so all tests share one
 * store and use their own users; the whole file hashes 39 times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "store/store.h"

#define TTL_S     3600
#define THRESHOLD 3

static char tmp_dir[256];
static struct store *st;
/* threshold 3, lockout 10 min, tokens for an hour */
static struct auth *au;
/* threshold 2, lockout 1 s, tokens for 1 s: for the tests that wait */
static struct auth *fast;

/* Every password and token this file used: no event may contain one. */
static const char *secrets[64];
static int nsecrets;
static char tokens[32][AUTH_TOKEN_BUFSZ];
static int ntokens;

static const char *secret(const char *pw)
{
    if (nsecrets < 64)
        secrets[nsecrets++] = pw;
    return pw;
}

static void keep_token(const char *t)
{
    if (ntokens < 32)
        am_strlcpy(tokens[ntokens++], t, AUTH_TOKEN_BUFSZ);
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            char p[512];
            snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

static int group_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/amane-test-auth-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmp_dir))
        return -1;
    char path[300];
    snprintf(path, sizeof(path), "%s/auth.db", tmp_dir);
    struct store_opts so = {.path = path,
                            .readers = 2,
                            .max_batch = 64,
                            .sync_full = false,
                            .migrations = auth_migrations,
                            .nmigrations = auth_nmigrations};
    if (store_open(&st, &so))
        return -1;
    struct auth_opts o = {.token_ttl_s = TTL_S, .lockout_threshold = THRESHOLD, .lockout_s = 600};
    struct auth_opts of = {.token_ttl_s = 1, .lockout_threshold = 2, .lockout_s = 1};
    if (auth_new(&au, st, &o) || auth_new(&fast, st, &of))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    auth_free(au);
    auth_free(fast);
    store_close(st);
    remove_tree(tmp_dir);
    return 0;
}

static int64_t add_user(struct auth *a, const char *name, enum am_role role, const char *pw)
{
    int64_t id = 0;
    int rc = auth_user_add(a, "admin", name, "Test User", role, secret(pw), &id);
    if (rc)
        fail_msg("auth_user_add %s: %s", name, am_strerror(rc));
    assert_true(id > 0);
    return id;
}

/* Logs in, expecting `want`; keeps the token. */
static void login(struct auth *a, const char *name, const char *pw, int want,
                  char token[AUTH_TOKEN_BUFSZ], struct am_principal *p)
{
    char tok[AUTH_TOKEN_BUFSZ] = "";
    struct am_principal pp;
    memset(&pp, 0, sizeof(pp));
    int rc = auth_login(a, name, pw, tok, &pp);
    if (rc != want)
        fail_msg("login %s: %s, expected %s", name, am_strerror(rc), am_strerror(want));
    if (!rc)
        keep_token(tok);
    if (token)
        am_strlcpy(token, tok, AUTH_TOKEN_BUFSZ);
    if (p)
        *p = pp;
}

static const char *str_of(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

/* Events of `type` whose data names `username`. */
struct ev_count {
    const char *type, *username;
    int n;
    json_t *last;
};

static int count_ev(struct am_event *ev, void *arg)
{
    struct ev_count *c = arg;
    if (strcmp(ev->type, c->type))
        return 0;
    json_t *d = json_loadb(ev->data, ev->data_len, 0, NULL);
    if (!d)
        return AM_ECORRUPT;
    if (strcmp(str_of(json_object_get(d, "username")), c->username) == 0) {
        c->n++;
        json_decref(c->last);
        c->last = json_incref(d);
    }
    json_decref(d);
    return 0;
}

static int events_of(const char *type, const char *username, json_t **last)
{
    struct ev_count c = {type, username, 0, NULL};
    assert_int_equal(store_events_since(st, 0, 0, count_ev, &c), 0);
    if (last)
        *last = c.last;
    else
        json_decref(c.last);
    return c.n;
}

/* ------------------------------------------------------------- validation */

static void test_validation(void **state)
{
    (void)state;
    char why[128];
    static const char *const good_names[] = {"abc", "amina", "a.b-c_9", "y.benali",
                                             "abcdefghijklmnopqrstuvwxyz012345"};
    static const char *const bad_names[] = {"",       "ab",     "abcdefghijklmnopqrstuvwxyz0123456",
                                            "Amina",  "9lives", "_amina",
                                            ".amina", "am ina", "amïna",
                                            "a/b",    "ali@x",  "أمينة"};
    for (size_t i = 0; i < sizeof(good_names) / sizeof(good_names[0]); i++) {
        if (auth_check_username(good_names[i], why, sizeof(why)))
            fail_msg("username '%s' refused: %s", good_names[i], why);
    }
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        why[0] = '\0';
        if (auth_check_username(bad_names[i], why, sizeof(why)) != AM_EINVAL)
            fail_msg("username '%s' accepted", bad_names[i]);
        assert_true(strlen(why) > 0);
    }
    assert_int_equal(auth_check_username(NULL, why, sizeof(why)), AM_EINVAL);

    char d128[129], d129[130];
    memset(d128, 'd', 128);
    d128[128] = '\0';
    memset(d129, 'd', 129);
    d129[129] = '\0';
    static const char *const good_display[] = {"Amina El Idrissi", "أمينة الإدريسي", "ⵜⴰⵎⴰⵣⵉⵖⵜ",
                                               "x"};
    for (size_t i = 0; i < sizeof(good_display) / sizeof(good_display[0]); i++)
        assert_int_equal(auth_check_display_name(good_display[i], why, sizeof(why)), 0);
    assert_int_equal(auth_check_display_name(d128, why, sizeof(why)), 0);
    static const char *const bad_display[] = {
        "", "line\nbreak", "tab\there", "\x1b[31mred", "bad \xc0\xaf utf8", "cut \xd8"};
    for (size_t i = 0; i < sizeof(bad_display) / sizeof(bad_display[0]); i++) {
        if (auth_check_display_name(bad_display[i], why, sizeof(why)) != AM_EINVAL)
            fail_msg("display name #%zu accepted", i);
    }
    assert_int_equal(auth_check_display_name(d129, why, sizeof(why)), AM_EINVAL);
    assert_int_equal(auth_check_display_name(NULL, why, sizeof(why)), AM_EINVAL);

    char p256[257], p257[258];
    memset(p256, 'p', 256);
    p256[256] = '\0';
    memset(p257, 'p', 257);
    p257[257] = '\0';
    assert_int_equal(auth_check_password("12345678", why, sizeof(why)), 0);
    assert_int_equal(auth_check_password("كلمة", why, sizeof(why)), 0); /* 8 bytes */
    assert_int_equal(auth_check_password(p256, why, sizeof(why)), 0);
    assert_int_equal(auth_check_password("1234567", why, sizeof(why)), AM_EINVAL);
    assert_int_equal(auth_check_password("كلم", why, sizeof(why)), AM_EINVAL); /* 6 bytes */
    assert_int_equal(auth_check_password(p257, why, sizeof(why)), AM_EINVAL);
    assert_int_equal(auth_check_password("12345678\xff", why, sizeof(why)), AM_EINVAL);
    assert_int_equal(auth_check_password("", why, sizeof(why)), AM_EINVAL);
    assert_int_equal(auth_check_password(NULL, why, sizeof(why)), AM_EINVAL);

    /* auth_user_add refuses each bad field before doing anything. */
    int64_t id = -1;
    const char *pw = secret("valid-password-1");
    assert_int_equal(auth_user_add(au, "admin", "Bad", "Bad", AM_ROLE_PATROL, pw, &id), AM_EINVAL);
    assert_int_equal(auth_user_add(au, "admin", "valid", "", AM_ROLE_PATROL, pw, &id), AM_EINVAL);
    assert_int_equal(auth_user_add(au, "admin", "valid", "V", AM_ROLE_PATROL, "short", &id),
                     AM_EINVAL);
    assert_int_equal(auth_user_add(au, "admin", "valid", "V", AM_ROLE_COUNT, pw, &id), AM_EINVAL);
    assert_int_equal(auth_user_add(au, "admin", "valid", "V", (enum am_role) - 1, pw, &id),
                     AM_EINVAL);
    assert_int_equal(auth_user_add(au, "admin", NULL, "V", AM_ROLE_PATROL, pw, &id), AM_EINVAL);
    assert_true(id == -1);
    assert_int_equal(events_of("user.created", "valid", NULL), 0);
}

/* ------------------------------------------------------------- users */

static void test_user_add_duplicate(void **state)
{
    (void)state;
    int64_t id = add_user(au, "amina", AM_ROLE_DISPATCHER, "amina-pass-1");
    int64_t id2 = -1;
    assert_int_equal(auth_user_add(au, "admin", "amina", "Another Amina", AM_ROLE_ADMIN,
                                   secret("amina-pass-2"), &id2),
                     AM_ECONFLICT);
    assert_true(id2 == -1);
    json_t *ev = NULL;
    assert_int_equal(events_of("user.created", "amina", &ev), 1);
    assert_int_equal(json_integer_value(json_object_get(ev, "user_id")), id);
    assert_string_equal(json_string_value(json_object_get(ev, "role")), "dispatcher");
    json_decref(ev);
}

/* ------------------------------------------------------------- login */

static void test_login_and_authenticate(void **state)
{
    (void)state;
    int64_t id = add_user(au, "youssef", AM_ROLE_PATROL, "youssef-pass-1");
    char t1[AUTH_TOKEN_BUFSZ], t2[AUTH_TOKEN_BUFSZ];
    struct am_principal p;
    int64_t before = am_now_us();
    login(au, "youssef", "youssef-pass-1", 0, t1, &p);
    assert_int_equal(strncmp(t1, "am_", 3), 0);
    assert_int_equal(strlen(t1), 46);
    assert_int_equal(strspn(t1 + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                                    "-_"),
                     43);
    assert_int_equal(p.user_id, id);
    assert_string_equal(p.username, "youssef");
    assert_int_equal(p.role, AM_ROLE_PATROL);
    assert_true(p.token_expires_us >= before + TTL_S * 1000000LL);
    assert_true(p.token_expires_us <= am_now_us() + TTL_S * 1000000LL);

    /* The token resolves to the same principal, from the database and then the cache. */
    for (int i = 0; i < 2; i++) {
        struct am_principal q;
        memset(&q, 0, sizeof(q));
        assert_int_equal(auth_authenticate(au, t1, &q), 0);
        assert_int_equal(q.user_id, id);
        assert_string_equal(q.username, "youssef");
        assert_int_equal(q.role, AM_ROLE_PATROL);
        assert_true(q.token_expires_us == p.token_expires_us);
    }
    /* Another auth on the same store (another node) knows it too. */
    struct am_principal q;
    assert_int_equal(auth_authenticate(fast, t1, &q), 0);
    assert_int_equal(q.user_id, id);

    /* Each login has its own token. */
    login(au, "youssef", "youssef-pass-1", 0, t2, NULL);
    assert_string_not_equal(t1, t2);
    assert_int_equal(auth_authenticate(au, t2, &q), 0);
    assert_int_equal(auth_authenticate(au, t1, &q), 0);

    /* Tokens that are not ours. */
    char forged[AUTH_TOKEN_BUFSZ];
    am_strlcpy(forged, t1, sizeof(forged));
    forged[10] = forged[10] == 'A' ? 'B' : 'A';
    assert_int_equal(auth_authenticate(au, forged, &q), AM_EAUTH);
    assert_int_equal(auth_authenticate(au, t1 + 3, &q), AM_EAUTH);
    assert_int_equal(auth_authenticate(au, "am_", &q), AM_EAUTH);
    assert_int_equal(auth_authenticate(au, "", &q), AM_EAUTH);
    assert_int_equal(auth_authenticate(au, NULL, &q), AM_EAUTH);
    char longtok[200];
    memset(longtok, 'a', sizeof(longtok) - 1);
    longtok[sizeof(longtok) - 1] = '\0';
    memcpy(longtok, "am_", 3);
    assert_int_equal(auth_authenticate(au, longtok, &q), AM_EAUTH);

    assert_int_equal(events_of("auth.login", "youssef", NULL), 2);
}

static void test_wrong_password_and_unknown_user(void **state)
{
    (void)state;
    add_user(au, "karim", AM_ROLE_ANALYST, "karim-pass-1");
    char tok[AUTH_TOKEN_BUFSZ] = "untouched";
    struct am_principal p = {.user_id = 99};
    assert_int_equal(auth_login(au, "karim", secret("karim-pass-X"), tok, &p), AM_EAUTH);
    assert_string_equal(tok, "untouched");
    assert_true(p.user_id == 99);
    assert_int_equal(auth_login(au, "nobody", secret("whatever-pass"), tok, &p), AM_EAUTH);
    /* Refused before any hashing. */
    char longname[80];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(auth_login(au, longname, "whatever-pass", tok, &p), AM_EAUTH);
    assert_int_equal(auth_login(au, "karim", NULL, tok, &p), AM_EAUTH);
    assert_int_equal(auth_login(au, NULL, "karim-pass-1", tok, &p), AM_EAUTH);
    assert_string_equal(tok, "untouched");

    json_t *ev = NULL;
    assert_int_equal(events_of("auth.login_failed", "karim", &ev), 1);
    assert_int_equal(json_integer_value(json_object_get(ev, "consecutive_failures")), 1);
    json_decref(ev);
    /* An unknown user leaves no trace to enumerate. */
    assert_int_equal(events_of("auth.login_failed", "nobody", NULL), 0);
}

/* ------------------------------------------------------------- lockout */

static void test_lockout(void **state)
{
    (void)state;
    add_user(au, "leila", AM_ROLE_SUPERVISOR, "leila-pass-1");
    const char *wrong = secret("leila-wrong-1");
    /* Two failures, then a success: the count starts again. */
    char tok[AUTH_TOKEN_BUFSZ];
    struct am_principal p;
    login(au, "leila", wrong, AM_EAUTH, NULL, NULL);
    login(au, "leila", wrong, AM_EAUTH, NULL, NULL);
    login(au, "leila", "leila-pass-1", 0, tok, NULL);
    login(au, "leila", wrong, AM_EAUTH, NULL, NULL);
    login(au, "leila", wrong, AM_EAUTH, NULL, NULL);
    /* The third failure in a row locks. */
    login(au, "leila", wrong, AM_ELOCKED, NULL, NULL);
    /* Locked: even the right password is refused; a session from before goes on. */
    login(au, "leila", "leila-pass-1", AM_ELOCKED, NULL, NULL);
    assert_int_equal(auth_authenticate(au, tok, &p), 0);
    json_t *ev = NULL;
    assert_int_equal(events_of("auth.locked", "leila", &ev), 1);
    assert_int_equal(json_integer_value(json_object_get(ev, "consecutive_failures")), THRESHOLD);
    json_decref(ev);
    assert_int_equal(events_of("auth.login_failed", "leila", NULL), 4);

    /* A new password clears the lockout, replaces the old one and ends old sessions. */
    assert_int_equal(auth_user_passwd(au, "admin", "leila", secret("leila-pass-2")), 0);
    assert_int_equal(auth_authenticate(au, tok, &p), AM_EAUTH);
    login(au, "leila", "leila-pass-2", 0, NULL, &p);
    assert_int_equal(p.role, AM_ROLE_SUPERVISOR);
    assert_int_equal(events_of("user.password_changed", "leila", NULL), 1);
    assert_int_equal(auth_user_passwd(au, "admin", "leila", "short"), AM_EINVAL);
}

static void test_lockout_expires(void **state)
{
    (void)state;
    add_user(fast, "omar", AM_ROLE_TRAINER, "omar-pass-1");
    const char *wrong = secret("omar-wrong-1");
    login(fast, "omar", wrong, AM_EAUTH, NULL, NULL);
    login(fast, "omar", wrong, AM_ELOCKED, NULL, NULL);
    login(fast, "omar", "omar-pass-1", AM_ELOCKED, NULL, NULL);
    usleep(1200000); /* lockout_s = 1 */
    login(fast, "omar", "omar-pass-1", 0, NULL, NULL);
}

/* ------------------------------------------------------------- tokens */

static void test_token_expiry(void **state)
{
    (void)state;
    int64_t id = add_user(fast, "sara", AM_ROLE_EXAMINER, "sara-pass-1");
    char tok[AUTH_TOKEN_BUFSZ];
    struct am_principal p;
    login(fast, "sara", "sara-pass-1", 0, tok, &p);
    assert_int_equal(auth_authenticate(fast, tok, &p), 0); /* now in the cache */
    assert_int_equal(p.user_id, id);
    usleep(1200000); /* token_ttl_s = 1; the cache keeps entries longer than that */
    assert_int_equal(auth_authenticate(fast, tok, &p), AM_EAUTH);
    assert_int_equal(auth_authenticate(au, tok, &p), AM_EAUTH);
}

static void test_logout(void **state)
{
    (void)state;
    add_user(au, "nadia", AM_ROLE_DISPATCHER, "nadia-pass-1");
    char t1[AUTH_TOKEN_BUFSZ], t2[AUTH_TOKEN_BUFSZ];
    struct am_principal p;
    login(au, "nadia", "nadia-pass-1", 0, t1, NULL);
    login(au, "nadia", "nadia-pass-1", 0, t2, NULL);
    assert_int_equal(auth_authenticate(au, t1, &p), 0); /* cached */
    assert_int_equal(auth_logout(au, t1), 0);
    assert_int_equal(auth_authenticate(au, t1, &p), AM_EAUTH);
    /* Only that token: the other session goes on. */
    assert_int_equal(auth_authenticate(au, t2, &p), 0);
    assert_string_equal(p.username, "nadia");
    /* Logging out twice, or an unknown token, is not an error and logs nothing. */
    assert_int_equal(auth_logout(au, t1), 0);
    assert_int_equal(auth_logout(au, "am_unknown"), 0);
    assert_int_equal(events_of("auth.logout", "nadia", NULL), 1);
}

static void test_disable(void **state)
{
    (void)state;
    add_user(au, "hassan", AM_ROLE_PATROL, "hassan-pass-1");
    char tok[AUTH_TOKEN_BUFSZ];
    struct am_principal p;
    login(au, "hassan", "hassan-pass-1", 0, tok, NULL);
    assert_int_equal(auth_authenticate(au, tok, &p), 0); /* cached */
    assert_int_equal(auth_user_disable(au, "admin", "hassan"), 0);
    assert_int_equal(auth_authenticate(au, tok, &p), AM_EAUTH);
    /* Refused like a wrong password: the caller cannot tell. */
    login(au, "hassan", "hassan-pass-1", AM_EAUTH, NULL, NULL);
    assert_int_equal(auth_user_disable(au, "admin", "no.such.user"), AM_ENOTFOUND);
    assert_int_equal(events_of("user.disabled", "hassan", NULL), 1);
}

/* ------------------------------------------------------------- listing */

static json_t *find_user(json_t *list, const char *name)
{
    size_t i;
    json_t *u;
    json_array_foreach(list, i, u)
    {
        if (strcmp(str_of(json_object_get(u, "username")), name) == 0)
            return u;
    }
    return NULL;
}

static void test_user_list(void **state)
{
    (void)state;
    int64_t id = add_user(au, "zineb", AM_ROLE_SUPERVISOR, "zineb-pass-1");
    const char *wrong = secret("zineb-wrong-1");
    login(au, "zineb", wrong, AM_EAUTH, NULL, NULL);
    login(au, "zineb", wrong, AM_EAUTH, NULL, NULL);
    login(au, "zineb", wrong, AM_ELOCKED, NULL, NULL);

    json_t *list = NULL;
    int rc = auth_user_list(au, &list);
    if (rc)
        fail_msg("auth_user_list: %s", am_strerror(rc));
    assert_true(json_is_array(list));
    json_t *z = find_user(list, "zineb");
    assert_non_null(z);
    assert_int_equal(json_integer_value(json_object_get(z, "id")), id);
    assert_string_equal(json_string_value(json_object_get(z, "display_name")), "Test User");
    assert_string_equal(json_string_value(json_object_get(z, "role")), "supervisor");
    assert_true(json_is_false(json_object_get(z, "disabled")));
    int64_t t = 0;
    assert_int_equal(am_time_parse(json_string_value(json_object_get(z, "created")), &t), 0);
    assert_true(t > 0 && t <= am_now_us());
    /* Locked right now: when it ends is shown. */
    assert_int_equal(am_time_parse(json_string_value(json_object_get(z, "locked_until")), &t), 0);
    assert_true(t > am_now_us());
    /* Exactly the documented fields, nothing more. */
    static const char *const fields[] = {"id",       "username",     "display_name", "role",
                                         "disabled", "locked_until", "created",      NULL};
    char why[128];
    size_t i;
    json_t *u;
    json_array_foreach(list, i, u)
    {
        if (am_json_only_keys(u, fields, why, sizeof(why)))
            fail_msg("user list: %s", why);
    }
    /* Users are listed by name; a user without a lockout has locked_until null. */
    json_t *first = json_array_get(list, 0);
    for (i = 1; i < json_array_size(list); i++) {
        json_t *next = json_array_get(list, i);
        assert_true(strcmp(json_string_value(json_object_get(first, "username")),
                           json_string_value(json_object_get(next, "username"))) < 0);
        first = next;
    }
    json_t *ok = find_user(list, "amina");
    if (ok) {
        assert_true(json_is_null(json_object_get(ok, "locked_until")));
    }

    /* No password hash anywhere. */
    char *text = json_dumps(list, 0);
    assert_non_null(text);
    assert_null(strstr(text, "$argon2"));
    assert_null(strstr(text, "pw_hash"));
    assert_null(strstr(text, "password"));
    for (int k = 0; k < nsecrets; k++)
        assert_null(strstr(text, secrets[k]));
    free(text);
    json_decref(list);
}

/* ------------------------------------------------------------- events */

static bool contains_secret(const char *data)
{
    if (strstr(data, "$argon2") || strstr(data, "pw_hash"))
        return true;
    for (int k = 0; k < nsecrets; k++)
        if (strstr(data, secrets[k]))
            return true;
    for (int k = 0; k < ntokens; k++)
        if (strstr(data, tokens[k] + 3)) /* with or without the am_ prefix */
            return true;
    return false;
}

static int scan_secrets(struct am_event *ev, void *arg)
{
    int *bad = arg;
    if (contains_secret(ev->data) || contains_secret(ev->actor) || contains_secret(ev->type)) {
        print_error("event %lld %s leaks a secret: %s\n", (long long)ev->seq, ev->type, ev->data);
        (*bad)++;
    }
    return 0;
}

static void test_events_have_no_secrets(void **state)
{
    (void)state;
    add_user(fast, "driss", AM_ROLE_TRAINEE, "driss-pass-1");
    char tok[AUTH_TOKEN_BUFSZ];
    login(fast, "driss", "driss-pass-1", 0, tok, NULL);
    login(fast, "driss", secret("driss-wrong-1"), AM_EAUTH, NULL, NULL);
    login(fast, "driss", "driss-wrong-1", AM_ELOCKED, NULL, NULL);
    assert_int_equal(auth_logout(fast, tok), 0);

    /* This user's life, in the log. */
    json_t *ev = NULL;
    assert_int_equal(events_of("user.created", "driss", &ev), 1);
    assert_string_equal(json_string_value(json_object_get(ev, "role")), "trainee");
    assert_string_equal(json_string_value(json_object_get(ev, "display_name")), "Test User");
    json_decref(ev);
    assert_int_equal(events_of("auth.login", "driss", NULL), 1);
    assert_int_equal(events_of("auth.login_failed", "driss", NULL), 1);
    assert_int_equal(events_of("auth.locked", "driss", NULL), 1);
    assert_int_equal(events_of("auth.logout", "driss", NULL), 1);

    /* No event of this whole file carries a password, a hash or a token. */
    assert_true(nsecrets > 5);
    assert_true(ntokens > 3);
    int bad = 0;
    assert_int_equal(store_events_since(st, 0, 0, scan_secrets, &bad), 0);
    assert_int_equal(bad, 0);
    struct store_verify v;
    assert_int_equal(store_verify_chain(st, &v), 0);
    assert_true(v.verified > 10);
}

/* ------------------------------------------------------------- visibility */

static void test_event_visible(void **state)
{
    (void)state;
    static const char *const types[] = {"user.created",
                                        "user.disabled",
                                        "auth.login",
                                        "auth.locked",
                                        "logbook.entry",
                                        "cad.incident.opened",
                                        "cad.alert.unacknowledged",
                                        "unit.status",
                                        "userx.created",
                                        "user",
                                        "authority.x",
                                        ""};
    /* Who sees what, in the order of types[]. */
    static const struct {
        enum am_role role;
        const char *seen; /* one 'y'/'n' per type */
    } table[] = {
        {AM_ROLE_ADMIN, "yyyyyyyyyyyy"},      {AM_ROLE_SUPERVISOR, "nnyyyyyyyyyy"},
        {AM_ROLE_DISPATCHER, "nnnnyyynnnnn"}, {AM_ROLE_PATROL, "nnnnnynnnnnn"},
        {AM_ROLE_ANALYST, "nnnnnnnnnnnn"},    {AM_ROLE_EXAMINER, "nnnnnnnnnnnn"},
        {AM_ROLE_TRAINER, "nnnnnnnnnnnn"},    {AM_ROLE_TRAINEE, "nnnnnnnnnnnn"},
    };
    const size_t ntypes = sizeof(types) / sizeof(types[0]);
    for (size_t r = 0; r < sizeof(table) / sizeof(table[0]); r++) {
        assert_int_equal(strlen(table[r].seen), ntypes);
        struct am_principal p = {.user_id = 1, .role = table[r].role};
        for (size_t t = 0; t < ntypes; t++) {
            struct am_event *ev = am_event_new(1, 0, types[t], "x", "{}", 2);
            assert_non_null(ev);
            bool want = table[r].seen[t] == 'y';
            if (auth_event_visible(&p, ev) != want)
                fail_msg("%s %s '%s'", am_role_name(table[r].role),
                         want ? "should see" : "should not see", types[t]);
            am_event_unref(ev);
        }
    }
}

int main(void)
{
    am_log_set_level(AM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_user_add_duplicate),
        cmocka_unit_test(test_login_and_authenticate),
        cmocka_unit_test(test_wrong_password_and_unknown_user),
        cmocka_unit_test(test_lockout),
        cmocka_unit_test(test_lockout_expires),
        cmocka_unit_test(test_token_expiry),
        cmocka_unit_test(test_logout),
        cmocka_unit_test(test_disable),
        cmocka_unit_test(test_user_list),
        cmocka_unit_test(test_events_have_no_secrets),
        cmocka_unit_test(test_event_visible),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
