/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * auth.h - users, roles, passwords, bearer tokens, lockout, and which events
 * each role may see.
 *
 * Passwords are stored as Argon2id strings (libsodium). Tokens are 256-bit
 * random strings shown once at login and stored only as their SHA-256. A
 * user who fails to log in `lockout_threshold` times in a row is locked for
 * `lockout_s` seconds. Every change is a store command that appends an event
 * (user.created, user.disabled, user.password_changed, auth.login,
 * auth.login_failed, auth.locked, auth.logout); no event carries a secret.
 */
#ifndef AM_AUTH_H
#define AM_AUTH_H

#include "core/core.h"
#include "store/store.h"

struct auth;

struct auth_opts {
    int64_t token_ttl_s;
    int lockout_threshold;
    int64_t lockout_s;
};

/* "am_" + 43 base64url characters + NUL. */
#define AUTH_TOKEN_BUFSZ  48
#define AUTH_PASSWORD_MIN 8
#define AUTH_PASSWORD_MAX 256

extern const struct store_migration auth_migrations[];
extern const size_t auth_nmigrations;

/* `st` must outlive the auth. */
int auth_new(struct auth **out, struct store *st, const struct auth_opts *o);
void auth_free(struct auth *a);

/*
 * Validation of user fields, for the API and the CLI. Each returns 0 or
 * AM_EINVAL with a reason in `why`.
 * Usernames: 3-32 of [a-z0-9._-], starting with a letter.
 * Display names: 1-128 bytes of UTF-8 without control characters.
 * Passwords: AUTH_PASSWORD_MIN..AUTH_PASSWORD_MAX bytes of UTF-8.
 */
int auth_check_username(const char *s, char *why, size_t whysz);
int auth_check_display_name(const char *s, char *why, size_t whysz);
int auth_check_password(const char *s, char *why, size_t whysz);

/*
 * Creates a user. `actor` names who did it (for the event log).
 * AM_ECONFLICT if the username is taken; AM_EINVAL if a field is invalid.
 */
int auth_user_add(struct auth *a, const char *actor, const char *username, const char *display,
                  enum am_role role, const char *password, int64_t *id_out);
/* Disables a user and revokes its tokens. AM_ENOTFOUND if no such user. */
int auth_user_disable(struct auth *a, const char *actor, const char *username);
/* Sets a new password, clears a lockout, revokes tokens. AM_ENOTFOUND if no such user. */
int auth_user_passwd(struct auth *a, const char *actor, const char *username, const char *password);
/*
 * The users as a JSON array of {id, username, display_name, role, disabled,
 * locked_until, created}; never the password hash. New reference in *out.
 */
int auth_user_list(struct auth *a, json_t **out);

/*
 * Checks a username and password. On success writes a new token into
 * `token_out` and fills `p`. Returns AM_EAUTH for unknown user, wrong
 * password or disabled account (indistinguishable to the caller), AM_ELOCKED
 * while locked out. Slow on purpose (Argon2id): call from a worker thread.
 */
int auth_login(struct auth *a, const char *username, const char *password,
               char token_out[AUTH_TOKEN_BUFSZ], struct am_principal *p);
/* Revokes a token. 0 even if it was already revoked or unknown. */
int auth_logout(struct auth *a, const char *token);
/*
 * Resolves a bearer token to its principal. AM_EAUTH if unknown, expired,
 * revoked or the user is disabled. Cached for a few seconds; logout and
 * disable take effect at once on this node.
 */
int auth_authenticate(struct auth *a, const char *token, struct am_principal *p);

/* Whether a principal of this role may receive this event on the stream. */
bool auth_event_visible(const struct am_principal *p, const struct am_event *ev);

#endif
