/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * auth.c - users, Argon2id passwords, hashed bearer tokens with a small
 * in-memory cache, lockout after repeated failures, and the table of which
 * roles see which events.
 */
#include <ctype.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"

#define CACHE_SLOTS  4096
#define CACHE_TTL_US (10LL * 1000000)
/* Argon2id takes 64 MiB per verification: bound how many run at once. */
#define MAX_PARALLEL_HASH 2

const struct store_migration auth_migrations[] = {
    {"auth", 1,
     "CREATE TABLE users ("
     "  id INTEGER PRIMARY KEY,"
     "  username TEXT NOT NULL UNIQUE,"
     "  display_name TEXT NOT NULL,"
     "  role TEXT NOT NULL,"
     "  pw_hash TEXT NOT NULL,"
     "  disabled INTEGER NOT NULL DEFAULT 0,"
     "  failed_logins INTEGER NOT NULL DEFAULT 0,"
     "  locked_until_us INTEGER NOT NULL DEFAULT 0,"
     "  created_us INTEGER NOT NULL,"
     "  updated_us INTEGER NOT NULL);"
     "CREATE TABLE tokens ("
     "  hash BLOB PRIMARY KEY,"
     "  user_id INTEGER NOT NULL REFERENCES users(id),"
     "  created_us INTEGER NOT NULL,"
     "  expires_us INTEGER NOT NULL,"
     "  revoked_us INTEGER) WITHOUT ROWID;"
     "CREATE INDEX tokens_user ON tokens(user_id);"},
};
const size_t auth_nmigrations = sizeof(auth_migrations) / sizeof(auth_migrations[0]);

struct cache_entry {
    uint8_t hash[AM_SHA256_LEN];
    struct am_principal p;
    int64_t cached_us;
    bool used;
};

struct auth {
    struct store *st;
    struct auth_opts o;
    sem_t hash_slots;
    /* Unknown users are checked against this, so that timing does not tell them apart.
     * Made at the first such login: an Argon2id hash at start would slow every start. */
    char dummy_hash[crypto_pwhash_STRBYTES];
    bool dummy_ready;
    pthread_mutex_t dummy_mu;
    pthread_rwlock_t cache_lock;
    struct cache_entry *cache;
};

/* ------------------------------------------------------------- validation */

int auth_check_username(const char *s, char *why, size_t whysz)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 3 || n > 32) {
        snprintf(why, whysz, "username must be 3 to 32 characters");
        return AM_EINVAL;
    }
    if (!(s[0] >= 'a' && s[0] <= 'z')) {
        snprintf(why, whysz, "username must start with a lower-case letter");
        return AM_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-')) {
            snprintf(why, whysz, "username may only contain a-z, 0-9, '.', '_' and '-'");
            return AM_EINVAL;
        }
    }
    return 0;
}

int auth_check_display_name(const char *s, char *why, size_t whysz)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 128 || !am_utf8_valid(s, n)) {
        snprintf(why, whysz, "display name must be 1 to 128 bytes of UTF-8");
        return AM_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20) {
            snprintf(why, whysz, "display name may not contain control characters");
            return AM_EINVAL;
        }
    }
    return 0;
}

int auth_check_password(const char *s, char *why, size_t whysz)
{
    size_t n = s ? strlen(s) : 0;
    if (n < AUTH_PASSWORD_MIN || n > AUTH_PASSWORD_MAX || !am_utf8_valid(s, n)) {
        snprintf(why, whysz, "password must be %d to %d bytes of UTF-8", AUTH_PASSWORD_MIN,
                 AUTH_PASSWORD_MAX);
        return AM_EINVAL;
    }
    return 0;
}

/* ------------------------------------------------------------- hashing */

static int hash_password(struct auth *a, const char *pw, char out[crypto_pwhash_STRBYTES])
{
    sem_wait(&a->hash_slots);
    int r = crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sem_post(&a->hash_slots);
    return r ? AM_ENOMEM : 0;
}

static bool verify_password(struct auth *a, const char *stored, const char *pw)
{
    sem_wait(&a->hash_slots);
    int r = crypto_pwhash_str_verify(stored, pw, strlen(pw));
    sem_post(&a->hash_slots);
    return r == 0;
}

static void token_hash(const char *token, uint8_t out[AM_SHA256_LEN])
{
    am_sha256(token, strlen(token), out);
}

/* ------------------------------------------------------------- token cache */

static size_t slot_of(const uint8_t h[AM_SHA256_LEN])
{
    size_t s;
    memcpy(&s, h, sizeof(s));
    return s % CACHE_SLOTS;
}

static bool cache_get(struct auth *a, const uint8_t h[AM_SHA256_LEN], struct am_principal *p)
{
    bool hit = false;
    int64_t now = am_now_us();
    pthread_rwlock_rdlock(&a->cache_lock);
    struct cache_entry *e = &a->cache[slot_of(h)];
    if (e->used && memcmp(e->hash, h, AM_SHA256_LEN) == 0 && now - e->cached_us < CACHE_TTL_US &&
        e->p.token_expires_us > now) {
        *p = e->p;
        hit = true;
    }
    pthread_rwlock_unlock(&a->cache_lock);
    return hit;
}

static void cache_put(struct auth *a, const uint8_t h[AM_SHA256_LEN], const struct am_principal *p)
{
    pthread_rwlock_wrlock(&a->cache_lock);
    struct cache_entry *e = &a->cache[slot_of(h)];
    memcpy(e->hash, h, AM_SHA256_LEN);
    e->p = *p;
    e->cached_us = am_now_us();
    e->used = true;
    pthread_rwlock_unlock(&a->cache_lock);
}

static void cache_clear(struct auth *a)
{
    pthread_rwlock_wrlock(&a->cache_lock);
    memset(a->cache, 0, CACHE_SLOTS * sizeof(*a->cache));
    pthread_rwlock_unlock(&a->cache_lock);
}

/* ------------------------------------------------------------- life cycle */

int auth_new(struct auth **out, struct store *st, const struct auth_opts *o)
{
    if (sodium_init() < 0)
        return AM_EINTERNAL;
    struct auth *a = calloc(1, sizeof(*a));
    if (!a)
        return AM_ENOMEM;
    a->cache = calloc(CACHE_SLOTS, sizeof(*a->cache));
    if (!a->cache) {
        free(a);
        return AM_ENOMEM;
    }
    a->st = st;
    a->o = *o;
    sem_init(&a->hash_slots, 0, MAX_PARALLEL_HASH);
    pthread_rwlock_init(&a->cache_lock, NULL);
    pthread_mutex_init(&a->dummy_mu, NULL);
    *out = a;
    return 0;
}

void auth_free(struct auth *a)
{
    if (!a)
        return;
    sem_destroy(&a->hash_slots);
    pthread_mutex_destroy(&a->dummy_mu);
    pthread_rwlock_destroy(&a->cache_lock);
    free(a->cache);
    free(a);
}

/* ------------------------------------------------------------- users */

struct user_row {
    bool found;
    int64_t id;
    char role[16];
    char pw_hash[crypto_pwhash_STRBYTES];
    bool disabled;
    int64_t failed, locked_until;
};

static int user_row_cb(struct store_row *r, void *arg)
{
    struct user_row *u = arg;
    u->found = true;
    u->id = store_row_i64(r, 0);
    am_strlcpy(u->role, store_row_text(r, 1), sizeof(u->role));
    am_strlcpy(u->pw_hash, store_row_text(r, 2), sizeof(u->pw_hash));
    u->disabled = store_row_i64(r, 3) != 0;
    u->failed = store_row_i64(r, 4);
    u->locked_until = store_row_i64(r, 5);
    return 0;
}

static const char *const SQL_USER_BY_NAME =
    "SELECT id, role, pw_hash, disabled, failed_logins, locked_until_us FROM users "
    "WHERE username = ?";

struct user_cmd {
    struct auth *a;
    const char *username, *display, *password_hash;
    enum am_role role;
    int64_t id;
    bool login_ok; /* login: the password verified */
    uint8_t token_hash[AM_SHA256_LEN];
    int64_t now, expires;
    int outcome; /* login: AM_OK, AM_EAUTH or AM_ELOCKED, committed in any case */
};

static int apply_user_add(struct store_conn *c, struct store_cmd *cmd)
{
    struct user_cmd *u = cmd->arg;
    int64_t now = am_now_us();
    const char *role = am_role_name(u->role);
    int rc = store_exec(c,
                        "INSERT INTO users(username, display_name, role, pw_hash, created_us, "
                        "updated_us) VALUES (?, ?, ?, ?, ?, ?)",
                        "ttttii", u->username, u->display, role, u->password_hash, now, now);
    if (rc)
        return rc;
    u->id = store_last_id(c);
    json_t *ev = json_pack("{sI ss ss ss}", "user_id", (json_int_t)u->id, "username", u->username,
                           "display_name", u->display, "role", role);
    rc = ev ? store_append(c, cmd, "user.created", ev, NULL) : AM_ENOMEM;
    json_decref(ev);
    return rc;
}

int auth_user_add(struct auth *a, const char *actor, const char *username, const char *display,
                  enum am_role role, const char *password, int64_t *id_out)
{
    char why[128];
    if (auth_check_username(username, why, sizeof(why)) ||
        auth_check_display_name(display, why, sizeof(why)) ||
        auth_check_password(password, why, sizeof(why)) || !am_role_name(role))
        return AM_EINVAL;
    char hash[crypto_pwhash_STRBYTES];
    int rc = hash_password(a, password, hash);
    if (rc)
        return rc;
    struct user_cmd u = {
        .a = a, .username = username, .display = display, .role = role, .password_hash = hash};
    struct store_cmd cmd = {.apply = apply_user_add, .arg = &u, .actor = actor};
    rc = store_write(a->st, &cmd);
    free(cmd.answer);
    if (!rc && id_out)
        *id_out = u.id;
    return rc;
}

static int apply_user_disable(struct store_conn *c, struct store_cmd *cmd)
{
    struct user_cmd *u = cmd->arg;
    int64_t now = am_now_us();
    int rc = store_exec(c, "UPDATE users SET disabled = 1, updated_us = ? WHERE username = ?", "it",
                        now, u->username);
    if (!rc && store_changes(c) == 0)
        rc = AM_ENOTFOUND;
    if (!rc)
        rc = store_exec(c,
                        "UPDATE tokens SET revoked_us = ? WHERE revoked_us IS NULL AND user_id = "
                        "(SELECT id FROM users WHERE username = ?)",
                        "it", now, u->username);
    json_t *ev = rc ? NULL : json_pack("{ss}", "username", u->username);
    if (!rc)
        rc = ev ? store_append(c, cmd, "user.disabled", ev, NULL) : AM_ENOMEM;
    json_decref(ev);
    return rc;
}

int auth_user_disable(struct auth *a, const char *actor, const char *username)
{
    struct user_cmd u = {.a = a, .username = username};
    struct store_cmd cmd = {.apply = apply_user_disable, .arg = &u, .actor = actor};
    int rc = store_write(a->st, &cmd);
    free(cmd.answer);
    if (!rc)
        cache_clear(a);
    return rc;
}

static int apply_user_passwd(struct store_conn *c, struct store_cmd *cmd)
{
    struct user_cmd *u = cmd->arg;
    int64_t now = am_now_us();
    int rc = store_exec(c,
                        "UPDATE users SET pw_hash = ?, failed_logins = 0, locked_until_us = 0, "
                        "updated_us = ? WHERE username = ?",
                        "tit", u->password_hash, now, u->username);
    if (!rc && store_changes(c) == 0)
        rc = AM_ENOTFOUND;
    if (!rc)
        rc = store_exec(c,
                        "UPDATE tokens SET revoked_us = ? WHERE revoked_us IS NULL AND user_id = "
                        "(SELECT id FROM users WHERE username = ?)",
                        "it", now, u->username);
    json_t *ev = rc ? NULL : json_pack("{ss}", "username", u->username);
    if (!rc)
        rc = ev ? store_append(c, cmd, "user.password_changed", ev, NULL) : AM_ENOMEM;
    json_decref(ev);
    return rc;
}

int auth_user_passwd(struct auth *a, const char *actor, const char *username, const char *password)
{
    char why[128];
    if (auth_check_password(password, why, sizeof(why)))
        return AM_EINVAL;
    char hash[crypto_pwhash_STRBYTES];
    int rc = hash_password(a, password, hash);
    if (rc)
        return rc;
    struct user_cmd u = {.a = a, .username = username, .password_hash = hash};
    struct store_cmd cmd = {.apply = apply_user_passwd, .arg = &u, .actor = actor};
    rc = store_write(a->st, &cmd);
    free(cmd.answer);
    if (!rc)
        cache_clear(a);
    return rc;
}

static int list_row(struct store_row *r, void *arg)
{
    json_t *arr = arg;
    char ts[AM_TIME_BUFSZ], lk[AM_TIME_BUFSZ];
    int64_t locked = store_row_i64(r, 5);
    json_t *u =
        json_pack("{sI ss ss ss sb ss? ss}", "id", (json_int_t)store_row_i64(r, 0), "username",
                  store_row_text(r, 1), "display_name", store_row_text(r, 2), "role",
                  store_row_text(r, 3), "disabled", store_row_i64(r, 4) != 0, "locked_until",
                  locked > am_now_us() ? am_time_fmt(locked, lk, sizeof(lk)) : NULL, "created",
                  am_time_fmt(store_row_i64(r, 6), ts, sizeof(ts)));
    if (!u)
        return AM_ENOMEM;
    return json_array_append_new(arr, u) ? AM_ENOMEM : 0;
}

static int list_read(struct store_conn *c, void *arg)
{
    return store_query(c,
                       "SELECT id, username, display_name, role, disabled, locked_until_us, "
                       "created_us FROM users ORDER BY username",
                       list_row, arg, NULL);
}

int auth_user_list(struct auth *a, json_t **out)
{
    json_t *arr = json_array();
    if (!arr)
        return AM_ENOMEM;
    int rc = store_read(a->st, list_read, arr);
    if (rc) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

/* ------------------------------------------------------------- login */

struct find_user {
    const char *username;
    struct user_row *u;
};

static int find_user_read(struct store_conn *c, void *arg)
{
    struct find_user *f = arg;
    return store_query(c, SQL_USER_BY_NAME, user_row_cb, f->u, "t", f->username);
}

/*
 * Records the outcome of a login attempt. It re-reads the user inside the
 * write transaction: two concurrent failures must both count, and a lockout
 * that began meanwhile must hold.
 */
static int apply_login(struct store_conn *c, struct store_cmd *cmd)
{
    struct user_cmd *lc = cmd->arg;
    struct auth *a = lc->a;
    struct user_row u = {0};
    int rc = store_query(c, SQL_USER_BY_NAME, user_row_cb, &u, "t", lc->username);
    if (rc)
        return rc;
    if (!u.found || u.disabled) {
        lc->outcome = AM_EAUTH;
        return 0;
    }
    lc->id = u.id;
    if (u.locked_until > lc->now) {
        lc->outcome = AM_ELOCKED;
        return 0;
    }
    json_t *ev = NULL;
    if (lc->login_ok) {
        rc = store_exec(c, "UPDATE users SET failed_logins = 0 WHERE id = ?", "i", u.id);
        if (!rc)
            rc = store_exec(c,
                            "INSERT INTO tokens(hash, user_id, created_us, expires_us) "
                            "VALUES (?, ?, ?, ?)",
                            "b"
                            "iii",
                            (const void *)lc->token_hash, (size_t)AM_SHA256_LEN, u.id, lc->now,
                            lc->expires);
        ev = json_pack("{sI ss}", "user_id", (json_int_t)u.id, "username", lc->username);
        if (!rc)
            rc = ev ? store_append(c, cmd, "auth.login", ev, NULL) : AM_ENOMEM;
        lc->outcome = AM_OK;
        if (am_role_parse(u.role, &lc->role))
            rc = AM_ECORRUPT;
    } else {
        int64_t failed = u.failed + 1;
        bool lock = failed >= a->o.lockout_threshold;
        int64_t until = lock ? lc->now + a->o.lockout_s * 1000000 : 0;
        rc = store_exec(c, "UPDATE users SET failed_logins = ?, locked_until_us = ? WHERE id = ?",
                        "iii", lock ? (int64_t)0 : failed, until, u.id);
        ev = json_pack("{sI ss sI}", "user_id", (json_int_t)u.id, "username", lc->username,
                       "consecutive_failures", (json_int_t)failed);
        if (!rc)
            rc = ev ? store_append(c, cmd, lock ? "auth.locked" : "auth.login_failed", ev, NULL)
                    : AM_ENOMEM;
        lc->outcome = lock ? AM_ELOCKED : AM_EAUTH;
    }
    json_decref(ev);
    return rc;
}

int auth_login(struct auth *a, const char *username, const char *password,
               char token_out[AUTH_TOKEN_BUFSZ], struct am_principal *p)
{
    if (!username || !password || strlen(username) > 64 || strlen(password) > AUTH_PASSWORD_MAX)
        return AM_EAUTH;
    struct user_row u = {0};
    struct find_user f = {username, &u};
    int rc = store_read(a->st, find_user_read, &f);
    if (rc)
        return rc;
    int64_t now = am_now_us();
    if (!u.found || u.disabled) {
        pthread_mutex_lock(&a->dummy_mu);
        if (!a->dummy_ready) {
            char pw[AM_ID_BUFSZ];
            am_id_new(pw);
            a->dummy_ready = hash_password(a, pw, a->dummy_hash) == 0;
        }
        pthread_mutex_unlock(&a->dummy_mu);
        if (a->dummy_ready)
            verify_password(a, a->dummy_hash, password);
        return AM_EAUTH;
    }
    if (u.locked_until > now)
        return AM_ELOCKED;
    struct user_cmd lc = {
        .a = a, .username = username, .now = now, .expires = now + a->o.token_ttl_s * 1000000};
    lc.login_ok = verify_password(a, u.pw_hash, password);
    char token[AUTH_TOKEN_BUFSZ];
    if (lc.login_ok) {
        uint8_t raw[32];
        am_random(raw, sizeof(raw));
        memcpy(token, "am_", 3);
        sodium_bin2base64(token + 3, sizeof(token) - 3, raw, sizeof(raw),
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        sodium_memzero(raw, sizeof(raw));
        token_hash(token, lc.token_hash);
    }
    struct store_cmd cmd = {.apply = apply_login, .arg = &lc, .actor = username};
    rc = store_write(a->st, &cmd);
    free(cmd.answer);
    if (rc)
        return rc;
    if (lc.outcome)
        return lc.outcome;
    am_strlcpy(token_out, token, AUTH_TOKEN_BUFSZ);
    sodium_memzero(token, sizeof(token));
    p->user_id = lc.id;
    am_strlcpy(p->username, username, sizeof(p->username));
    p->role = lc.role;
    p->token_expires_us = lc.expires;
    return 0;
}

struct token_cmd {
    uint8_t hash[AM_SHA256_LEN];
    int64_t user_id;
    char username[64];
};

static int logout_who(struct store_row *r, void *arg)
{
    struct token_cmd *t = arg;
    t->user_id = store_row_i64(r, 0);
    am_strlcpy(t->username, store_row_text(r, 1), sizeof(t->username));
    return 0;
}

static int apply_logout(struct store_conn *c, struct store_cmd *cmd)
{
    struct token_cmd *t = cmd->arg;
    int rc = store_query(c,
                         "SELECT u.id, u.username FROM tokens t JOIN users u ON u.id = t.user_id "
                         "WHERE t.hash = ? AND t.revoked_us IS NULL",
                         logout_who, t, "b", (const void *)t->hash, (size_t)AM_SHA256_LEN);
    if (rc || !t->user_id)
        return rc;
    rc = store_exec(c, "UPDATE tokens SET revoked_us = ? WHERE hash = ?",
                    "i"
                    "b",
                    am_now_us(), (const void *)t->hash, (size_t)AM_SHA256_LEN);
    json_t *ev = json_pack("{sI ss}", "user_id", (json_int_t)t->user_id, "username", t->username);
    if (!rc)
        rc = ev ? store_append(c, cmd, "auth.logout", ev, NULL) : AM_ENOMEM;
    json_decref(ev);
    return rc;
}

int auth_logout(struct auth *a, const char *token)
{
    struct token_cmd t = {0};
    token_hash(token, t.hash);
    struct store_cmd cmd = {.apply = apply_logout, .arg = &t, .actor = "auth"};
    int rc = store_write(a->st, &cmd);
    free(cmd.answer);
    cache_clear(a);
    return rc;
}

struct authn {
    const uint8_t *hash;
    struct am_principal *p;
    bool found;
    int64_t now;
};

static int authn_row(struct store_row *r, void *arg)
{
    struct authn *x = arg;
    int64_t expires = store_row_i64(r, 3);
    if (!store_row_null(r, 4) || store_row_i64(r, 5) || expires <= x->now)
        return 0;
    if (am_role_parse(store_row_text(r, 2), &x->p->role))
        return 0;
    x->p->user_id = store_row_i64(r, 0);
    am_strlcpy(x->p->username, store_row_text(r, 1), sizeof(x->p->username));
    x->p->token_expires_us = expires;
    x->found = true;
    return 0;
}

static int authn_read(struct store_conn *c, void *arg)
{
    struct authn *x = arg;
    return store_query(c,
                       "SELECT u.id, u.username, u.role, t.expires_us, t.revoked_us, u.disabled "
                       "FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?",
                       authn_row, x, "b", (const void *)x->hash, (size_t)AM_SHA256_LEN);
}

int auth_authenticate(struct auth *a, const char *token, struct am_principal *p)
{
    if (!token || strncmp(token, "am_", 3) || strlen(token) > AUTH_TOKEN_BUFSZ)
        return AM_EAUTH;
    uint8_t h[AM_SHA256_LEN];
    token_hash(token, h);
    if (cache_get(a, h, p))
        return 0;
    struct authn x = {h, p, false, am_now_us()};
    int rc = store_read(a->st, authn_read, &x);
    if (rc)
        return rc;
    if (!x.found)
        return AM_EAUTH;
    cache_put(a, h, p);
    return 0;
}

/* ------------------------------------------------------------- visibility */

/*
 * Which roles receive which events on the stream, by type prefix. Default
 * deny: an event type not listed reaches administrators and supervisors
 * only. New modules add their prefixes here.
 */
static const struct {
    const char *prefix;
    unsigned roles;
} visibility[] = {
    {"user.", AM_ROLE_BIT(AM_ROLE_ADMIN)},
    {"auth.", AM_ROLE_BIT(AM_ROLE_ADMIN) | AM_ROLE_BIT(AM_ROLE_SUPERVISOR)},
    {"logbook.", AM_ROLE_BIT(AM_ROLE_ADMIN) | AM_ROLE_BIT(AM_ROLE_SUPERVISOR) |
                     AM_ROLE_BIT(AM_ROLE_DISPATCHER)},
    /* Alerts are for the room; the rest of dispatch also reaches the patrols. */
    {"cad.alert.", AM_ROLE_BIT(AM_ROLE_ADMIN) | AM_ROLE_BIT(AM_ROLE_SUPERVISOR) |
                       AM_ROLE_BIT(AM_ROLE_DISPATCHER)},
    {"cad.", AM_ROLE_BIT(AM_ROLE_ADMIN) | AM_ROLE_BIT(AM_ROLE_SUPERVISOR) |
                 AM_ROLE_BIT(AM_ROLE_DISPATCHER) | AM_ROLE_BIT(AM_ROLE_PATROL)},
    /* A hotlist hit is an alert for the room; reads of records reach supervisors only. */
    {"records.hotlist.hit", AM_ROLE_BIT(AM_ROLE_ADMIN) | AM_ROLE_BIT(AM_ROLE_SUPERVISOR) |
                                AM_ROLE_BIT(AM_ROLE_DISPATCHER)},
    {"records.read", AM_ROLE_BIT(AM_ROLE_SUPERVISOR)},
    /* Which device reports for which unit: the room's business. */
    {"avl.", AM_ROLE_BIT(AM_ROLE_ADMIN) | AM_ROLE_BIT(AM_ROLE_SUPERVISOR) |
                 AM_ROLE_BIT(AM_ROLE_DISPATCHER)},
};

bool auth_event_visible(const struct am_principal *p, const struct am_event *ev)
{
    for (size_t i = 0; i < sizeof(visibility) / sizeof(visibility[0]); i++) {
        size_t n = strlen(visibility[i].prefix);
        if (strncmp(ev->type, visibility[i].prefix, n) == 0)
            return (visibility[i].roles & AM_ROLE_BIT(p->role)) != 0;
    }
    return p->role == AM_ROLE_ADMIN || p->role == AM_ROLE_SUPERVISOR;
}
