/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * records_int.h - private to src/records: the module's state, the in-memory
 * name index (index.c) and the access log (access.c).
 */
#ifndef AM_RECORDS_INT_H
#define AM_RECORDS_INT_H

#include <pthread.h>

#include "records/name.h"
#include "records/records.h"

struct avl;
struct cad;

/* ----------------------------------------------------------- name index */

/*
 * The persons' names in memory: a vocabulary of distinct token spellings,
 * each with the persons who carry it (ids in increasing order), reached
 * from a token's skeleton key and its one-deletion variants; per person its
 * tokens (with the field they came from), date and place of birth. One
 * read-write lock: searches share it, loads and changes take it alone.
 */
struct rix;

int rix_new(struct rix **out);
void rix_free(struct rix *ix);

/* What rix_put needs of a person: the names, and the birth data for filters. */
struct rix_person {
    int64_t id;
    const char *given[2], *family[2], *father[2]; /* Arabic, Latin */
    const char *aliases[REC_ALIASES_MAX];
    int naliases;
    const char *birth_date; /* YYYY[-MM[-DD]] or "" */
    const char *birth_place;
};

/*
 * Adds a person, or replaces the one with the same id. The caller holds the
 * write lock (rix_write_lock). AM_ENOMEM.
 */
int rix_put(struct rix *ix, const struct rix_person *p);
/* Forgets a person (write lock held). */
void rix_remove(struct rix *ix, int64_t id);
void rix_write_lock(struct rix *ix);
void rix_write_unlock(struct rix *ix);

struct rix_query {
    const char *name;        /* the name as typed, any script, any order */
    const char *birth_date;  /* YYYY, YYYY-MM or YYYY-MM-DD, or NULL */
    const char *birth_place; /* or NULL */
    size_t limit;            /* 1..RIX_LIMIT_MAX */
    /*
     * For tests: score every person instead of walking (the walk must give
     * the same best), and give the first scores, before name_match().
     */
    bool exhaustive, raw;
};
#define RIX_LIMIT_MAX 100

struct rix_hit {
    int64_t id;
    double score; /* 0..1 */
};

/*
 * The persons whose names best match, best first, at most q->limit, with a
 * score at least `min_score`. Returns 0 and sets *n; AM_EINVAL (no letters
 * in the name, a malformed date), AM_ETOOBIG (name too long or too many
 * words), AM_ENOMEM.
 */
int rix_search(struct rix *ix, const struct rix_query *q, double min_score, struct rix_hit *out,
               size_t *n);

struct rix_stats {
    uint64_t persons, vocabulary, postings;
};
void rix_stats_get(struct rix *ix, struct rix_stats *out);

/* ----------------------------------------------------------- the module */

struct records {
    struct store *st;
    struct avl *avl; /* positions of units (may be NULL) */
    struct cad *cad; /* units' status, who is signed on (may be NULL) */
    struct rix *ix;
    int64_t loaded_id; /* persons up to this id are in the index */
    pthread_mutex_t load_mu;
    /* The active hotlist in memory, for checks under a millisecond. */
    struct rhot *hot;
    /* The loader thread: what imports add, off the store's writer. */
    pthread_t loader;
    bool loader_started, stopping, want_persons, want_hotlist;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* Loads the persons not yet in the name index (records.c). */
int records_load(struct records *r);

/* A row of the persons, vehicles or hotlist table (the columns records.c selects). */
void records_person_from_row(struct store_row *r, struct records_person *p);
void records_vehicle_from_row(struct store_row *r, struct records_vehicle *v);
void records_hotlist_from_row(struct store_row *r, struct records_hotlist *h);

/* JSON of a record, as the API shows it and events carry it (new reference). */
json_t *records_person_json(const struct records_person *p);
json_t *records_vehicle_json(const struct records_vehicle *v);
json_t *records_hotlist_json(const struct records_hotlist *h);

/*
 * The active entries (valid today, not cancelled) under any of `keys`
 * ("P:" plate key, "C:" CIN, "V:" VIN, "I:" person id), each once with the
 * score of the best key that found it and the key as "matched"; new array.
 */
int records_hot_match(struct records *r, const char *const *keys, const double *scores,
                      size_t nkeys, json_t **out);

/* An analyst's write: create or update a record, add or cancel a hotlist entry. */
struct rec_write {
    struct records *r;
    enum records_kind kind;
    union records_any rec;
    int64_t id;             /* the record to update or the entry to cancel; 0 to create */
    const char *cancel_why; /* set: cancel hotlist entry `id` */
    json_t *result;         /* set by apply: the record as written */
};
/* store_apply_fn of a struct rec_write: the change, its event, the answer. */
int records_apply_write(struct store_conn *c, struct store_cmd *cmd);

/* ----------------------------------------------------------- access log */

/* Who reads, why, and what: filled by the API from the request. */
struct records_reader_ctx {
    const char *actor;
    const char *role;
    const char *reason; /* free text, required */
    const char *ref;    /* incident or case number, or "" */
};

/*
 * Checks a reason and reference as every read requires them: reason 3 to
 * 199 bytes of text, ref 0 to 63 bytes of [A-Za-z0-9/_.-]. AM_EINVAL with why.
 */
int records_reason_check(const char *reason, const char *ref, char *why, size_t whysz);

/*
 * Inside a store command: appends the records.read event and the access-log
 * row for a read of kind `action` ("person.search", "person.read",
 * "vehicle.search", "vehicle.read", "hotlist.check", "hotlist.list",
 * "export") with the query as given (JSON object, may be NULL) and the
 * subjects returned ("person:12", "vehicle:7", "hotlist:3"), and sets
 * *access_id.
 */
int records_access_log(struct store_conn *c, struct store_cmd *cmd,
                       const struct records_reader_ctx *who, const char *action,
                       const json_t *query, const json_t *subjects, int64_t *access_id);

#endif
