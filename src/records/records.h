/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * records.h - the integrated security databases: persons, vehicles and the
 * hotlists (wanted persons, stolen vehicles, missing persons) that every
 * service queries, with every read accounted for.
 *
 * The records themselves are rows of the store; names are also held in an
 * in-memory index (index.c) built at start and kept current from the
 * module's events, so that a search across Arabic and Latin spellings
 * answers in milliseconds over millions of persons. Every read (search,
 * record, hotlist check, export) carries a reason and is written to the
 * access log (an event and a row) before its answer is sent.
 */
#ifndef AM_RECORDS_H
#define AM_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* ----------------------------------------------------------- the records */

#define REC_NAME_MAX     96  /* bytes of one name field (UTF-8), NUL included */
#define REC_TEXT_MAX     200 /* bytes of a free-text field (reason, address), NUL included */
#define REC_ALIASES_MAX  4
#define REC_ADDR_MAX     3
#define REC_PHONES_MAX   4
#define REC_CIN_SZ       16 /* a CIN: 1-2 letters then 1-8 digits, NUL included */
#define REC_PLATE_SZ     48 /* a plate as written, NUL included */
#define REC_PLATE_KEY_SZ 24 /* a plate's normalised key (plate.h), NUL included */
#define REC_VIN_SZ       18 /* ISO 3779: 17 characters, NUL included */
#define REC_PHONE_SZ     20 /* E.164: + and up to 15 digits, NUL included */
#define REC_DATE_SZ      11 /* YYYY-MM-DD, NUL included */

/*
 * A person. Names in Arabic script (_ar) and in Latin transliteration
 * (_lat); either may be empty but not both of the given and family names.
 * Empty strings are unknown values.
 */
struct records_person {
    int64_t id;           /* the store's id; 0 for a new record */
    char cin[REC_CIN_SZ]; /* national identity card, upper case ("BE123456"); "" if none */
    char given_ar[REC_NAME_MAX], family_ar[REC_NAME_MAX], father_ar[REC_NAME_MAX];
    char given_lat[REC_NAME_MAX], family_lat[REC_NAME_MAX], father_lat[REC_NAME_MAX];
    char aliases[REC_ALIASES_MAX][REC_NAME_MAX];
    int naliases;
    char birth_date[REC_DATE_SZ]; /* YYYY-MM-DD, YYYY-MM or YYYY; "" unknown */
    char birth_place[REC_NAME_MAX];
    char nationality[4]; /* ISO 3166-1 alpha-3 ("MAR") */
    char sex[2];         /* "M", "F" or "" */
    char addresses[REC_ADDR_MAX][REC_TEXT_MAX];
    int naddresses;
    char phones[REC_PHONES_MAX][REC_PHONE_SZ]; /* E.164 ("+212612345678") */
    int nphones;
};

/* What kind of plate a vehicle carries (plate.h has the formats). */
enum records_plate_kind {
    REC_PLATE_MA,         /* Moroccan: serial | Arabic letter | prefecture code */
    REC_PLATE_WW,         /* temporary, new vehicle not yet registered: WW 123456 */
    REC_PLATE_DIPLOMATIC, /* CD / CMD / CC series */
    REC_PLATE_FOREIGN,    /* another country's plate, with its ISO 3166 alpha-2 code */
};

struct records_vehicle {
    int64_t id;
    char plate[REC_PLATE_SZ];         /* as written by the source */
    char plate_key[REC_PLATE_KEY_SZ]; /* normalised (plate_parse); set by records_vehicle_check */
    enum records_plate_kind plate_kind;
    char country[3]; /* ISO 3166-1 alpha-2 of a foreign plate ("FR"); "MA" otherwise */
    char vin[REC_VIN_SZ];
    char make[48], model[48], colour[32];
    int year;                   /* of first registration; 0 unknown */
    char owner_cin[REC_CIN_SZ]; /* "" unknown */
};

/* Hotlist kinds and the action to take on a hit. */
#define REC_HOTLIST_KINDS   "wanted, stolen, missing"
#define REC_HOTLIST_ACTIONS "arrest, stop_check, report, seize, protect"

struct records_hotlist {
    int64_t id;
    char kind[12];                    /* wanted | stolen | missing */
    char cin[REC_CIN_SZ];             /* wanted/missing: the person's CIN (or person_id) */
    int64_t person_id;                /* wanted/missing: the person's record, 0 if given by CIN */
    char plate[REC_PLATE_SZ];         /* stolen: the plate as written */
    char plate_key[REC_PLATE_KEY_SZ]; /* stolen: normalised; set by records_hotlist_check */
    char vin[REC_VIN_SZ];             /* stolen: VIN, if known */
    char reason[REC_TEXT_MAX];        /* why the entry exists (warrant, complaint no.) */
    char service[REC_NAME_MAX];       /* the issuing service */
    char valid_from[REC_DATE_SZ];     /* YYYY-MM-DD; "" = from now */
    char valid_until[REC_DATE_SZ];    /* YYYY-MM-DD; "" = until cancelled */
    char action[12];                  /* arrest | stop_check | report | seize | protect */
    char instructions[REC_TEXT_MAX];  /* what to do, in words; may be "" */
};

/*
 * Validation of one record, as an import or the API does before writing:
 * required fields present, every field well formed (CIN, plate, dates,
 * nationality, phones, VIN, lengths, valid UTF-8 without control
 * characters), and normalisation in place (CIN upper case, plate_key set,
 * phones in E.164). Returns 0, or AM_EINVAL naming the field in `field`
 * (at least 24 bytes) and the reason in `why`. (check.c)
 */
int records_person_check(struct records_person *p, char *field, char *why, size_t whysz);
int records_vehicle_check(struct records_vehicle *v, char *field, char *why, size_t whysz);
int records_hotlist_check(struct records_hotlist *h, char *field, char *why, size_t whysz);

/* What a bulk file holds, and how it is written (format.h reads and writes them). */
enum records_kind { RECORDS_PERSONS, RECORDS_VEHICLES, RECORDS_HOTLIST };
enum records_format { RECORDS_CSV, RECORDS_JSONL };

/* ----------------------------------------------------------- the service */

#include "records/format.h"

struct records;
struct avl;
struct cad;
struct http_server;

extern const struct store_migration records_migrations[];
extern const size_t records_nmigrations;

/*
 * The service over `st`; `avl` (units' positions) and `cad` (units' status,
 * who is signed on) may be NULL: a hotlist hit then carries no nearby units.
 * Loads the hotlist; the name index is loaded by records_start().
 */
int records_new(struct records **out, struct store *st, struct avl *avl, struct cad *cad);
/*
 * Loads every person into the name index (a few seconds per million) and
 * starts the thread that adds what imports write later.
 */
int records_start(struct records *r);
void records_free(struct records *r);
/* Bus subscriber (fits bus_fn): keeps the name index and the hotlist current. */
void records_on_events(void *r, struct am_event *const *evs, size_t n);
/* Registers the routes: persons, vehicles, hotlist, access log, import and export. */
int records_routes(struct http_server *srv, struct records *r);

/* What an import found and did. */
struct records_import_result {
    int64_t records;  /* good records read */
    int64_t bad;      /* records with an issue */
    json_t *issues;   /* [{line, field, why}], the first RECORDS_ISSUES_MAX (new reference) */
    int64_t imported; /* rows written (0 unless every record was good) */
    char sha256[65];  /* of the input, hex */
};
#define RECORDS_ISSUES_MAX 1000

/*
 * Imports `buf` (CSV or JSON lines of `kind`) as `actor`: every record is
 * read and checked first; if any has an issue, nothing is written and the
 * report says which (line, field, why). Otherwise all rows are written in
 * one transaction with one records.imported event, or none is (a CIN, plate
 * or VIN that exists already is reported as an issue and stops the import).
 * `dry_run` checks only. Returns 0 (see res->bad), AM_EINVAL for issues,
 * AM_EIO, AM_ENOMEM. res->issues is set in every case but AM_ENOMEM.
 */
int records_import(struct store *st, const char *actor, enum records_kind kind,
                   enum records_format format, const char *buf, size_t len, bool dry_run,
                   struct records_import_result *res);

/*
 * Logs a read done outside the API (the CLI's export) as the API logs its
 * own: `reason` is required (AM_EINVAL otherwise); `subjects` may be NULL.
 * Returns once the entry is durable.
 */
int records_log_read(struct store *st, const char *actor, const char *role, const char *reason,
                     const char *ref, const char *action, const json_t *query,
                     const json_t *subjects);

/*
 * Writes every record of `kind` (hotlist: the entries not cancelled) to
 * `out` in `format`, calling flush(arg, out) whenever out holds more than
 * 1 MiB and at the end (flush empties it). Runs on a reader. Does not log:
 * the caller logs the export as a read.
 */
int records_export(struct store *st, enum records_kind kind, enum records_format format,
                   struct am_buf *out, int (*flush)(void *arg, struct am_buf *out), void *arg,
                   int64_t *count);

#endif
