/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * api.c - the records' routes. Reads (searches, records, hotlist checks and
 * lists, exports) need a reason, and are answered only once their entry in
 * the access log is durable; a bad request is refused before anything is
 * read or logged. Analysts write; dispatchers, patrols and supervisors
 * read; supervisors (and administrators) read the access log.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "avl/avl.h"
#include "cad/cad.h"
#include "http/http.h"
#include "records/plate.h"
#include "records/records_int.h"

static const unsigned READ_ROLES = AM_ROLE_BIT(AM_ROLE_SUPERVISOR) |
                                   AM_ROLE_BIT(AM_ROLE_DISPATCHER) | AM_ROLE_BIT(AM_ROLE_PATROL) |
                                   AM_ROLE_BIT(AM_ROLE_ANALYST);
static const unsigned EDIT_ROLES = AM_ROLE_BIT(AM_ROLE_ANALYST);
static const unsigned AUDIT_ROLES = AM_ROLE_BIT(AM_ROLE_ADMIN) | AM_ROLE_BIT(AM_ROLE_SUPERVISOR);

#define SEARCH_LIMIT_DEFAULT 10
#define NEAR_RADIUS_M        30000.0
#define NEAR_UNITS           5
#define EXPORT_HTTP_MAX      200000 /* records an export over HTTP may hold; the CLI has no bound */

/* ------------------------------------------------------------- reads, logged */

/* A read waiting for its access-log entry: the answer is ready, the log is not yet durable. */
struct read_call {
    struct store_cmd cmd; /* first: the completion gets the command back */
    struct records_reader_ctx who;
    char reason[REC_TEXT_MAX], ref[64];
    const char *action;
    json_t *query, *subjects, *result;
    json_t *alert; /* a hotlist hit's alert (records.hotlist.hit), or NULL */
};

static int apply_read(struct store_conn *c, struct store_cmd *cmd)
{
    struct read_call *rc_ = (struct read_call *)cmd;
    int64_t access_id = 0, alert_seq = 0;
    rc_->who.actor = cmd->actor;
    int rc =
        records_access_log(c, cmd, &rc_->who, rc_->action, rc_->query, rc_->subjects, &access_id);
    if (!rc && rc_->alert) {
        json_object_set_new(rc_->alert, "access_id", json_integer(access_id));
        rc = store_append(c, cmd, "records.hotlist.hit", rc_->alert, &alert_seq);
    }
    if (rc)
        return rc;
    json_object_set_new(rc_->result, "access_id", json_integer(access_id));
    if (alert_seq)
        json_object_set_new(rc_->result, "alert_seq", json_integer(alert_seq));
    cmd->answer = json_dumps(rc_->result, JSON_COMPACT);
    cmd->status = 200;
    return cmd->answer ? 0 : AM_ENOMEM;
}

static void read_call_free(struct store_cmd *cmd)
{
    struct read_call *x = (struct read_call *)cmd;
    json_decref(x->query);
    json_decref(x->subjects);
    json_decref(x->result);
    json_decref(x->alert);
    free(x);
}

/*
 * Starts a read: checks reason and ref (422 and NULL if bad: nothing is
 * read, nothing logged).
 */
static struct read_call *read_begin(struct http_req *req, struct http_resp *resp,
                                    const char *action, const char *reason, const char *ref)
{
    char why[160];
    if (records_reason_check(reason, ref, why, sizeof(why))) {
        http_problem(resp, req, 422, "reason-required", "A reason is required", "%s", why);
        return NULL;
    }
    struct read_call *x = calloc(1, sizeof(*x));
    if (!x) {
        http_problem_err(resp, req, AM_ENOMEM, NULL);
        return NULL;
    }
    am_strlcpy(x->reason, reason, sizeof(x->reason));
    am_strlcpy(x->ref, ref ? ref : "", sizeof(x->ref));
    x->who = (struct records_reader_ctx){NULL, am_role_name(req->who.role), x->reason, x->ref};
    x->action = action;
    x->subjects = json_array();
    x->result = json_object();
    if (!x->subjects || !x->result) {
        read_call_free(&x->cmd);
        http_problem_err(resp, req, AM_ENOMEM, NULL);
        return NULL;
    }
    return x;
}

/* Logs the read and answers once the log is durable. */
static void read_finish(struct http_req *req, struct http_resp *resp, struct records *r,
                        struct read_call *x)
{
    x->cmd.apply = apply_read;
    http_run_command(req, resp, r->st, &x->cmd, read_call_free);
}

static void read_fail(struct http_req *req, struct http_resp *resp, struct read_call *x, int rc)
{
    read_call_free(&x->cmd);
    http_problem_err(resp, req, rc, NULL);
}

static void add_subject(struct read_call *x, const char *kind, int64_t id)
{
    char s[48];
    snprintf(s, sizeof(s), "%s:%lld", kind, (long long)id);
    json_array_append_new(x->subjects, json_string(s));
}

/* ------------------------------------------------------------- input checks */

/* A name to search for: letters of the Latin, Arabic and Tifinagh scripts, spaces, - ' . only. */
static bool name_query_ok(const char *s, char *why, size_t whysz)
{
    size_t n = strlen(s), i = 0, letters = 0;
    if (n > NAME_INPUT_MAX) {
        snprintf(why, whysz, "name is at most %d bytes", NAME_INPUT_MAX);
        return false;
    }
    while (i < n) {
        uint32_t cp;
        size_t k = am_utf8_decode(s + i, n - i, &cp);
        if (!k) {
            snprintf(why, whysz, "name must be UTF-8 text");
            return false;
        }
        i += k;
        bool letter = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
                      (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) ||
                      (cp >= 0x621 && cp <= 0x64A) || (cp >= 0x66E && cp <= 0x6D3) ||
                      (cp >= 0x750 && cp <= 0x77F) || (cp >= 0xFB50 && cp <= 0xFDFF) ||
                      (cp >= 0xFE70 && cp <= 0xFEFC) || (cp >= 0x2D30 && cp <= 0x2D7F) ||
                      (cp >= 0x1E00 && cp <= 0x1EFF);
        bool mark = (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x64B && cp <= 0x65F) || cp == 0x670 ||
                    cp == 0x640;
        bool sep = cp == ' ' || cp == '-' || cp == '\'' || cp == '.' || cp == 0x2019;
        if (!letter && !mark && !sep) {
            snprintf(why, whysz,
                     "name may hold only letters (Arabic or Latin script), spaces, '-', '.' and "
                     "apostrophes");
            return false;
        }
        letters += letter;
    }
    if (letters < 2) {
        snprintf(why, whysz, "name needs at least two letters");
        return false;
    }
    return true;
}

static int parse_limit(const json_t *v, size_t *out)
{
    if (!v) {
        *out = SEARCH_LIMIT_DEFAULT;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > RIX_LIMIT_MAX)
        return AM_EINVAL;
    *out = (size_t)json_integer_value(v);
    return 0;
}

/* ------------------------------------------------------------- persons */

struct person_rows {
    json_t *items;
    double score;
    struct records *r;
    int64_t want; /* a single person's id */
    json_t *one;
};

/* A person as searches list it: the record with its active hotlist entries. */
static json_t *person_item(struct records *r, const struct records_person *p, double score)
{
    json_t *o = records_person_json(p);
    if (!o)
        return NULL;
    char idk[32], cink[32];
    snprintf(idk, sizeof(idk), "I:%lld", (long long)p->id);
    snprintf(cink, sizeof(cink), "C:%s", p->cin);
    const char *keys[2] = {idk, cink};
    const double one[2] = {1, 1};
    json_t *hot = NULL;
    if (!records_hot_match(r, keys, one, p->cin[0] ? 2 : 1, &hot))
        json_object_set_new(o, "hotlist", hot);
    if (score >= 0)
        json_object_set_new(o, "score", json_real(round(score * 1000) / 1000));
    return o;
}

static int person_row(struct store_row *row, void *arg)
{
    struct person_rows *x = arg;
    struct records_person *p = malloc(sizeof(*p));
    if (!p)
        return AM_ENOMEM;
    records_person_from_row(row, p);
    json_t *o = person_item(x->r, p, x->score);
    free(p);
    if (!o)
        return AM_ENOMEM;
    if (x->items)
        return json_array_append_new(x->items, o) ? AM_ENOMEM : 0;
    x->one = o;
    return 0;
}

#define PERSON_SELECT                                                                              \
    "SELECT id, cin, given_ar, family_ar, father_ar, given_lat, family_lat, father_lat, aliases,"  \
    " birth_date, birth_place, nationality, sex, addresses, phones, updated_us FROM persons"

struct person_search {
    struct records *r;
    struct rix_hit *hits;
    size_t nhits;
    char cin[REC_CIN_SZ];
    int cin_mode; /* 0 none, 2 prefix of the number, 3 prefix of its digits */
    size_t limit;
    json_t *items;
};

/* The end of a prefix range: the prefix with its last character raised by one. */
static void prefix_end(const char *p, char *out, size_t outsz)
{
    am_strlcpy(out, p, outsz);
    size_t n = strlen(out);
    if (n)
        out[n - 1]++;
}

static int person_search_read(struct store_conn *c, void *arg)
{
    struct person_search *s = arg;
    struct person_rows x = {s->items, 1.0, s->r, 0, NULL};
    int rc = 0;
    char end[REC_CIN_SZ];
    prefix_end(s->cin, end, sizeof(end));
    if (s->cin_mode == 2)
        rc = store_query(c, PERSON_SELECT " WHERE cin >= ? AND cin < ? ORDER BY cin LIMIT ?",
                         person_row, &x, "tti", s->cin, end, (int64_t)s->limit);
    else if (s->cin_mode == 3)
        rc = store_query(c,
                         PERSON_SELECT " WHERE cin_digits >= ? AND cin_digits < ?"
                                       " ORDER BY cin_digits LIMIT ?",
                         person_row, &x, "tti", s->cin, end, (int64_t)s->limit);
    for (size_t i = 0; !rc && i < s->nhits; i++) {
        x.score = s->hits[i].score;
        rc = store_query(c, PERSON_SELECT " WHERE id = ?", person_row, &x, "i", s->hits[i].id);
    }
    return rc;
}

static void post_person_search(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct records *r = arg;
    const char *name = NULL, *cin = NULL, *born = NULL, *place = NULL, *reason = NULL, *ref = NULL;
    json_t *limit_v = NULL;
    if (http_unpack(req, resp, "{s?s s?s s?s s?s s?s s?s s?o}", "name", &name, "cin", &cin,
                    "birth_date", &born, "birth_place", &place, "reason", &reason, "ref", &ref,
                    "limit", &limit_v))
        return;
    char why[200];
    struct person_search s = {r, NULL, 0, "", 0, 0, NULL};
    if (parse_limit(limit_v, &s.limit)) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "limit must be an integer in [1, %d]", RIX_LIMIT_MAX);
        return;
    }
    if ((!name || !*name) && (!cin || !*cin)) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "give a name or a CIN (whole or its beginning) to search for");
        return;
    }
    if (name && *name && !name_query_ok(name, why, sizeof(why))) {
        http_problem(resp, req, 422, "validation", "Invalid name", "%s", why);
        return;
    }
    if (cin && *cin) {
        int digits = 0;
        /* A whole number is also the beginning of longer ones: "BE12" finds BE123456 too. */
        if (!cin_parse(cin, strlen(cin), s.cin, why, sizeof(why))) {
            s.cin_mode = 2;
        } else if (!cin_parse_partial(cin, strlen(cin), s.cin, &digits, why, sizeof(why))) {
            s.cin_mode = digits ? 3 : 2;
        } else {
            http_problem(resp, req, 422, "validation", "Invalid CIN", "%s", why);
            return;
        }
    }
    if (place && strlen(place) >= REC_NAME_MAX) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "birth_place is at most %d bytes", REC_NAME_MAX - 1);
        return;
    }
    struct read_call *x = read_begin(req, resp, "person.search", reason, ref);
    if (!x)
        return;
    struct rix_hit hits[RIX_LIMIT_MAX];
    int rc = 0;
    if (name && *name) {
        struct rix_query q = {
            .name = name, .birth_date = born, .birth_place = place, .limit = s.limit};
        rc = rix_search(r->ix, &q, 0.5, hits, &s.nhits);
        if (rc == AM_EINVAL || rc == AM_ETOOBIG) {
            read_call_free(&x->cmd);
            http_problem(resp, req, 422, "validation", "Invalid request",
                         rc == AM_ETOOBIG ? "the name has too many words"
                                          : "birth_date must be YYYY, YYYY-MM or YYYY-MM-DD, and "
                                            "the name must have letters");
            return;
        }
    }
    s.hits = hits;
    s.items = json_array();
    if (!rc)
        rc = s.items ? store_read(r->st, person_search_read, &s) : AM_ENOMEM;
    if (rc) {
        json_decref(s.items);
        read_fail(req, resp, x, rc);
        return;
    }
    /* A CIN and a name may find the same person: once, at its first place. */
    json_t *items = json_array();
    for (size_t i = 0; i < json_array_size(s.items) && json_array_size(items) < s.limit; i++) {
        json_t *p = json_array_get(s.items, i);
        json_int_t id = json_integer_value(json_object_get(p, "id"));
        bool dup = false;
        for (size_t j = 0; j < json_array_size(items) && !dup; j++)
            dup = json_integer_value(json_object_get(json_array_get(items, j), "id")) == id;
        if (!dup) {
            json_array_append(items, p);
            add_subject(x, "person", id);
        }
    }
    json_decref(s.items);
    x->query = json_pack("{ss* ss* ss* ss* sI}", "name", name, "cin", cin, "birth_date", born,
                         "birth_place", place, "limit", (json_int_t)s.limit);
    json_object_set_new(x->result, "items", items);
    read_finish(req, resp, r, x);
}

/* One person with its vehicles and hotlist entries. */
struct person_get {
    struct records *r;
    int64_t id;
    json_t *person, *vehicles;
};

static int vehicle_row(struct store_row *row, void *arg);

static int person_get_read(struct store_conn *c, void *arg)
{
    struct person_get *g = arg;
    struct person_rows x = {NULL, -1, g->r, g->id, NULL};
    int rc = store_query(c, PERSON_SELECT " WHERE id = ?", person_row, &x, "i", g->id);
    if (!rc && !x.one)
        rc = AM_ENOTFOUND;
    g->person = x.one;
    const char *cin = json_string_value(json_object_get(x.one, "cin"));
    struct person_rows v = {g->vehicles, -1, g->r, 0, NULL};
    if (!rc && cin)
        rc = store_query(c,
                         "SELECT id, plate, plate_key, plate_kind, country, vin, make, model,"
                         " colour, year, owner_cin, updated_us FROM vehicles WHERE owner_cin = ?"
                         " ORDER BY id LIMIT 50",
                         vehicle_row, &v, "t", cin);
    return rc;
}

static int path_id(struct http_req *req, struct http_resp *resp, int64_t *id)
{
    if (am_parse_i64(req->param[0], 1, INT64_MAX, id)) {
        http_problem(resp, req, 404, "not-found", "Not found", "no record with this id");
        return AM_EINVAL;
    }
    return 0;
}

static void get_person(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct records *r = arg;
    int64_t id;
    if (path_id(req, resp, &id))
        return;
    struct read_call *x =
        read_begin(req, resp, "person.read", http_arg(req, "reason"), http_arg(req, "ref"));
    if (!x)
        return;
    struct person_get g = {r, id, NULL, json_array()};
    int rc = g.vehicles ? store_read(r->st, person_get_read, &g) : AM_ENOMEM;
    if (rc) {
        json_decref(g.person);
        json_decref(g.vehicles);
        read_fail(req, resp, x, rc);
        return;
    }
    add_subject(x, "person", id);
    for (size_t i = 0; i < json_array_size(g.vehicles); i++)
        add_subject(x, "vehicle",
                    json_integer_value(json_object_get(json_array_get(g.vehicles, i), "id")));
    json_object_set_new(g.person, "vehicles", g.vehicles);
    json_decref(x->result);
    x->result = g.person;
    x->query = json_pack("{sI}", "id", (json_int_t)id);
    read_finish(req, resp, r, x);
}

/* ------------------------------------------------------------- vehicles */

static int vehicle_row(struct store_row *row, void *arg)
{
    struct person_rows *x = arg;
    struct records_vehicle v;
    records_vehicle_from_row(row, &v);
    json_t *o = records_vehicle_json(&v);
    if (!o)
        return AM_ENOMEM;
    char pk[40], vk[40];
    snprintf(pk, sizeof(pk), "P:%s", v.plate_key);
    snprintf(vk, sizeof(vk), "V:%s", v.vin);
    const char *keys[2] = {pk, vk};
    const double one[2] = {1, 1};
    json_t *hot = NULL;
    if (!records_hot_match(x->r, keys, one, v.vin[0] ? 2 : 1, &hot))
        json_object_set_new(o, "hotlist", hot);
    if (x->score >= 0)
        json_object_set_new(o, "score", json_real(round(x->score * 1000) / 1000));
    if (x->items)
        return json_array_append_new(x->items, o) ? AM_ENOMEM : 0;
    x->one = o;
    return 0;
}

#define VEHICLE_SELECT                                                                             \
    "SELECT id, plate, plate_key, plate_kind, country, vin, make, model, colour, year,"            \
    " owner_cin, updated_us FROM vehicles"

#define PLATE_VARIANTS_MAX 64

struct vehicle_search {
    struct records *r;
    struct plate_variant var[PLATE_VARIANTS_MAX];
    size_t nvar;
    char vin[REC_VIN_SZ], owner[REC_CIN_SZ];
    size_t limit;
    json_t *items;
};

static int vehicle_search_read(struct store_conn *c, void *arg)
{
    struct vehicle_search *s = arg;
    struct person_rows x = {s->items, 1.0, s->r, 0, NULL};
    int rc = 0;
    for (size_t i = 0; !rc && i < s->nvar && json_array_size(s->items) < s->limit; i++) {
        x.score = s->var[i].score;
        rc = store_query(c, VEHICLE_SELECT " WHERE plate_key = ?", vehicle_row, &x, "t",
                         s->var[i].key);
    }
    x.score = 1.0;
    if (!rc && s->vin[0])
        rc = store_query(c, VEHICLE_SELECT " WHERE vin = ?", vehicle_row, &x, "t", s->vin);
    if (!rc && s->owner[0])
        rc = store_query(c, VEHICLE_SELECT " WHERE owner_cin = ? ORDER BY id LIMIT ?", vehicle_row,
                         &x, "ti", s->owner, (int64_t)s->limit);
    return rc;
}

static int vin_norm(const char *in, char out[REC_VIN_SZ])
{
    size_t n = strlen(in);
    if (n != 17)
        return AM_EINVAL;
    for (size_t i = 0; i < n; i++) {
        char ch = in[i] >= 'a' && in[i] <= 'z' ? (char)(in[i] - 32) : in[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) || ch == 'I' || ch == 'O' ||
            ch == 'Q')
            return AM_EINVAL;
        out[i] = ch;
    }
    out[n] = '\0';
    return 0;
}

static void post_vehicle_search(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct records *r = arg;
    const char *plate = NULL, *country = NULL, *vin = NULL, *owner = NULL, *reason = NULL,
               *ref = NULL;
    json_t *limit_v = NULL;
    if (http_unpack(req, resp, "{s?s s?s s?s s?s s?s s?s s?o}", "plate", &plate, "country",
                    &country, "vin", &vin, "owner_cin", &owner, "reason", &reason, "ref", &ref,
                    "limit", &limit_v))
        return;
    struct vehicle_search *s = calloc(1, sizeof(*s));
    if (!s) {
        http_problem_err(resp, req, AM_ENOMEM, NULL);
        return;
    }
    s->r = r;
    char why[200] = "";
    int bad = parse_limit(limit_v, &s->limit);
    if (bad)
        snprintf(why, sizeof(why), "limit must be an integer in [1, %d]", RIX_LIMIT_MAX);
    if (!bad && !(plate && *plate) && !(vin && *vin) && !(owner && *owner)) {
        bad = 1;
        snprintf(why, sizeof(why), "give a plate, a VIN or an owner's CIN to search for");
    }
    if (!bad && plate && *plate) {
        struct plate p;
        int rc = plate_parse(plate, strlen(plate), country, &p, why, sizeof(why));
        if (rc == AM_ETOOBIG)
            snprintf(why, sizeof(why), "plate is at most %d bytes", PLATE_INPUT_MAX);
        /* A plate that does not parse may still be a misread one: its readings decide. */
        if (rc != AM_ETOOBIG)
            plate_variants(plate, strlen(plate), country, s->var, PLATE_VARIANTS_MAX, &s->nvar);
        if (rc == AM_ETOOBIG || !s->nvar)
            bad = 1;
    }
    if (!bad && vin && *vin && vin_norm(vin, s->vin)) {
        bad = 1;
        snprintf(why, sizeof(why), "vin must be 17 letters and digits (no I, O or Q)");
    }
    if (!bad && owner && *owner && cin_parse(owner, strlen(owner), s->owner, why, sizeof(why)))
        bad = 1;
    if (bad) {
        free(s);
        http_problem(resp, req, 422, "validation", "Invalid request", "%s", why);
        return;
    }
    struct read_call *x = read_begin(req, resp, "vehicle.search", reason, ref);
    if (!x) {
        free(s);
        return;
    }
    s->items = json_array();
    int rc = s->items ? store_read(r->st, vehicle_search_read, s) : AM_ENOMEM;
    if (rc) {
        json_decref(s->items);
        free(s);
        read_fail(req, resp, x, rc);
        return;
    }
    for (size_t i = 0; i < json_array_size(s->items); i++)
        add_subject(x, "vehicle",
                    json_integer_value(json_object_get(json_array_get(s->items, i), "id")));
    x->query = json_pack("{ss* ss* ss* ss* sI}", "plate", plate, "country", country, "vin", vin,
                         "owner_cin", owner, "limit", (json_int_t)s->limit);
    json_object_set_new(x->result, "items", s->items);
    free(s);
    read_finish(req, resp, r, x);
}

struct vehicle_get {
    struct records *r;
    int64_t id;
    json_t *vehicle, *owner;
};

static int vehicle_get_read(struct store_conn *c, void *arg)
{
    struct vehicle_get *g = arg;
    struct person_rows x = {NULL, -1, g->r, 0, NULL};
    int rc = store_query(c, VEHICLE_SELECT " WHERE id = ?", vehicle_row, &x, "i", g->id);
    if (!rc && !x.one)
        rc = AM_ENOTFOUND;
    g->vehicle = x.one;
    const char *cin = json_string_value(json_object_get(x.one, "owner_cin"));
    struct person_rows o = {NULL, -1, g->r, 0, NULL};
    if (!rc && cin)
        rc = store_query(c, PERSON_SELECT " WHERE cin = ?", person_row, &o, "t", cin);
    g->owner = o.one;
    return rc;
}

static void get_vehicle(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct records *r = arg;
    int64_t id;
    if (path_id(req, resp, &id))
        return;
    struct read_call *x =
        read_begin(req, resp, "vehicle.read", http_arg(req, "reason"), http_arg(req, "ref"));
    if (!x)
        return;
    struct vehicle_get g = {r, id, NULL, NULL};
    int rc = store_read(r->st, vehicle_get_read, &g);
    if (rc) {
        json_decref(g.vehicle);
        json_decref(g.owner);
        read_fail(req, resp, x, rc);
        return;
    }
    add_subject(x, "vehicle", id);
    if (g.owner)
        add_subject(x, "person", json_integer_value(json_object_get(g.owner, "id")));
    json_object_set_new(g.vehicle, "owner", g.owner ? g.owner : json_null());
    json_decref(x->result);
    x->result = g.vehicle;
    x->query = json_pack("{sI}", "id", (json_int_t)id);
    read_finish(req, resp, r, x);
}

/* ------------------------------------------------------------- hotlist check */

/* The available units nearest to a point, from the grid of positions and the units' status. */
static json_t *nearest_available(struct records *r, double lat, double lon)
{
    json_t *out = json_array(), *near = NULL, *units = NULL;
    if (!out || !r->avl || !r->cad || avl_units_near(r->avl, lat, lon, NEAR_RADIUS_M, 50, &near) ||
        cad_unit_list(r->cad, &units)) {
        json_decref(near);
        return out;
    }
    for (size_t i = 0; i < json_array_size(near) && json_array_size(out) < NEAR_UNITS; i++) {
        json_t *n = json_array_get(near, i);
        const char *cs = json_string_value(json_object_get(n, "unit"));
        for (size_t j = 0; cs && j < json_array_size(units); j++) {
            json_t *u = json_array_get(units, j);
            const char *ucs = json_string_value(json_object_get(u, "callsign"));
            const char *st = json_string_value(json_object_get(u, "status"));
            if (ucs && st && strcmp(ucs, cs) == 0 && strcmp(st, "available") == 0)
                json_array_append_new(out, json_pack("{ss sO sO sO}", "unit", cs, "distance_m",
                                                     json_object_get(n, "distance_m"), "lat",
                                                     json_object_get(n, "lat"), "lon",
                                                     json_object_get(n, "lon")));
        }
    }
    json_decref(near);
    json_decref(units);
    return out;
}

static bool source_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == ':' || ch == '-'))
            return false;
    }
    return true;
}

static void post_hotlist_check(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct records *r = arg;
    const char *plate = NULL, *country = NULL, *cin = NULL, *vin = NULL, *reason = NULL,
               *ref = NULL, *source = NULL;
    json_int_t person_id = 0;
    json_t *lat_v = NULL, *lon_v = NULL;
    if (http_unpack(req, resp, "{s?s s?s s?s s?I s?s s?s s?s s?s s?o s?o}", "plate", &plate,
                    "country", &country, "cin", &cin, "person_id", &person_id, "vin", &vin,
                    "reason", &reason, "ref", &ref, "source", &source, "lat", &lat_v, "lon",
                    &lon_v))
        return;
    char why[200] = "";
    struct plate_variant var[PLATE_VARIANTS_MAX];
    size_t nvar = 0;
    char cinb[REC_CIN_SZ] = "", vinb[REC_VIN_SZ] = "";
    int given = (plate && *plate) + (cin && *cin) + (person_id != 0) + (vin && *vin);
    int bad = 0;
    if (given != 1) {
        bad = 1;
        snprintf(why, sizeof(why), "give exactly one of plate, cin, person_id, vin");
    } else if (plate && *plate) {
        struct plate p;
        int rc = plate_parse(plate, strlen(plate), country, &p, why, sizeof(why));
        if (rc != AM_ETOOBIG)
            plate_variants(plate, strlen(plate), country, var, PLATE_VARIANTS_MAX, &nvar);
        if (rc == AM_ETOOBIG)
            snprintf(why, sizeof(why), "plate is at most %d bytes", PLATE_INPUT_MAX);
        bad = rc == AM_ETOOBIG || !nvar;
    } else if (cin && *cin) {
        bad = cin_parse(cin, strlen(cin), cinb, why, sizeof(why)) != 0;
    } else if (vin && *vin) {
        bad = vin_norm(vin, vinb) != 0;
        if (bad)
            snprintf(why, sizeof(why), "vin must be 17 letters and digits (no I, O or Q)");
    } else if (person_id < 1) {
        bad = 1;
        snprintf(why, sizeof(why), "person_id must be a record id (>= 1)");
    }
    double lat = NAN, lon = NAN;
    if (!bad && (lat_v || lon_v)) {
        lat = json_number_value(lat_v);
        lon = json_number_value(lon_v);
        if (!json_is_number(lat_v) || !json_is_number(lon_v) || lat < -90 || lat > 90 ||
            lon < -180 || lon > 180) {
            bad = 1;
            snprintf(why, sizeof(why), "lat and lon go together, in degrees");
        }
    }
    if (!bad && source && !source_ok(source)) {
        bad = 1;
        snprintf(why, sizeof(why), "source is 1 to 63 letters, digits and . _ : -");
    }
    if (bad) {
        http_problem(resp, req, 422, "validation", "Invalid request", "%s", why);
        return;
    }
    struct read_call *x = read_begin(req, resp, "hotlist.check", reason, ref);
    if (!x)
        return;
    char keys[PLATE_VARIANTS_MAX][40];
    const char *kp[PLATE_VARIANTS_MAX];
    double scores[PLATE_VARIANTS_MAX];
    size_t nk = 0;
    for (size_t i = 0; i < nvar; i++) {
        snprintf(keys[nk], sizeof(keys[nk]), "P:%.*s", (int)sizeof(var[i].key) - 1, var[i].key);
        scores[nk++] = var[i].score;
    }
    if (cinb[0]) {
        snprintf(keys[nk], sizeof(keys[nk]), "C:%s", cinb);
        scores[nk++] = 1;
    }
    if (vinb[0]) {
        snprintf(keys[nk], sizeof(keys[nk]), "V:%s", vinb);
        scores[nk++] = 1;
    }
    if (person_id) {
        snprintf(keys[nk], sizeof(keys[nk]), "I:%lld", (long long)person_id);
        scores[nk++] = 1;
    }
    for (size_t i = 0; i < nk; i++)
        kp[i] = keys[i];
    json_t *hits = NULL;
    int rc = records_hot_match(r, kp, scores, nk, &hits);
    if (rc) {
        read_fail(req, resp, x, rc);
        return;
    }
    for (size_t i = 0; i < json_array_size(hits); i++)
        add_subject(x, "hotlist",
                    json_integer_value(json_object_get(json_array_get(hits, i), "id")));
    x->query = json_pack("{ss* ss* ss* sI* ss* ss*}", "plate", plate, "country", country, "cin",
                         cin, "person_id", person_id, "vin", vin, "source", source);
    if (!person_id)
        json_object_del(x->query, "person_id");
    json_object_set_new(x->result, "hit", json_boolean(json_array_size(hits) > 0));
    if (json_array_size(hits)) {
        /* Who asked, and where: the position given, else the patrol's unit's last one. */
        json_t *unit = NULL;
        const char *callsign = NULL;
        if (req->who.role == AM_ROLE_PATROL && r->cad &&
            !cad_unit_of_user(r->cad, req->who.username, &unit)) {
            callsign = json_string_value(json_object_get(unit, "callsign"));
            json_t *pos = json_object_get(unit, "position");
            if (isnan(lat) && json_is_object(pos)) {
                lat = json_number_value(json_object_get(pos, "lat"));
                lon = json_number_value(json_object_get(pos, "lon"));
            }
        }
        json_t *near = isnan(lat) ? json_array() : nearest_available(r, lat, lon);
        x->alert =
            json_pack("{sO ss ss* ss* so* so* so}", "hits", hits, "asker", req->who.username,
                      "unit", callsign, "source", source, "lat", isnan(lat) ? NULL : json_real(lat),
                      "lon", isnan(lon) ? NULL : json_real(lon), "nearest", near);
        json_decref(unit);
    }
    json_object_set_new(x->result, "hits", hits);
    read_finish(req, resp, r, x);
}

/* ------------------------------------------------------------- hotlist list */

struct hot_list {
    const char *kind;
    int64_t after, limit;
    json_t *items;
};

static int hot_list_row(struct store_row *row, void *arg)
{
    struct hot_list *l = arg;
    struct records_hotlist h;
    records_hotlist_from_row(row, &h);
    json_t *o = records_hotlist_json(&h);
    if (!o)
        return AM_ENOMEM;
    char ts[AM_TIME_BUFSZ];
    json_object_set_new(o, "created",
                        json_string(am_time_fmt(store_row_i64(row, 13), ts, sizeof(ts))));
    json_object_set_new(o, "created_by", json_string(store_row_text(row, 14)));
    return json_array_append_new(l->items, o) ? AM_ENOMEM : 0;
}

static int hot_list_read(struct store_conn *c, void *arg)
{
    struct hot_list *l = arg;
    return store_query(c,
                       "SELECT id, kind, person_id, cin, plate, plate_key, vin, reason, service,"
                       " valid_from, valid_until, action, instructions, created_us, created_by"
                       " FROM hotlist WHERE cancelled_us IS NULL AND id > ?"
                       " AND (? = '' OR kind = ?) ORDER BY id LIMIT ?",
                       hot_list_row, l, "itti", l->after, l->kind, l->kind, l->limit);
}

static void get_hotlist(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct records *r = arg;
    struct hot_list l = {http_arg(req, "kind"), 0, 100, NULL};
    const char *after = http_arg(req, "after"), *limit = http_arg(req, "limit");
    if ((after && am_parse_i64(after, 0, INT64_MAX, &l.after)) ||
        (limit && am_parse_i64(limit, 1, 1000, &l.limit)) ||
        (l.kind && strcmp(l.kind, "wanted") && strcmp(l.kind, "stolen") &&
         strcmp(l.kind, "missing"))) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "kind is one of " REC_HOTLIST_KINDS
                     "; after an entry id >= 0; limit an integer in [1, 1000]");
        return;
    }
    if (!l.kind)
        l.kind = "";
    struct read_call *x =
        read_begin(req, resp, "hotlist.list", http_arg(req, "reason"), http_arg(req, "ref"));
    if (!x)
        return;
    l.items = json_array();
    int rc = l.items ? store_read(r->st, hot_list_read, &l) : AM_ENOMEM;
    if (rc) {
        json_decref(l.items);
        read_fail(req, resp, x, rc);
        return;
    }
    for (size_t i = 0; i < json_array_size(l.items); i++)
        add_subject(x, "hotlist",
                    json_integer_value(json_object_get(json_array_get(l.items, i), "id")));
    x->query = json_pack("{ss sI sI}", "kind", l.kind, "after", (json_int_t)l.after, "limit",
                         (json_int_t)l.limit);
    json_object_set_new(x->result, "items", l.items);
    read_finish(req, resp, r, x);
}

/* ------------------------------------------------------------- writes */

static void write_free(struct store_cmd *cmd)
{
    struct rec_write *w = cmd->arg;
    json_decref(w->result);
    free(w);
    free(cmd);
}

/* Reads one record of `kind` from the request's JSON, checked; 422 naming the field if bad. */
static struct rec_write *write_begin(struct http_req *req, struct http_resp *resp,
                                     struct records *r, enum records_kind kind)
{
    char *line = json_dumps(req->json, JSON_COMPACT);
    struct rec_write *w = calloc(1, sizeof(*w));
    if (!line || !w) {
        free(line);
        free(w);
        http_problem_err(resp, req, AM_ENOMEM, NULL);
        return NULL;
    }
    struct records_reader rd;
    struct records_issue issue = {0};
    records_reader_init(&rd, kind, RECORDS_JSONL, line, strlen(line));
    int got = records_reader_next(&rd, &w->rec, &issue);
    free(line);
    if (got != 1) {
        free(w);
        if (got == 0)
            snprintf(issue.why, sizeof(issue.why), "the record is empty");
        http_problem(resp, req, 422, "validation", "Invalid record", "%s%s%s", issue.field,
                     issue.field[0] ? ": " : "", issue.why);
        return NULL;
    }
    w->r = r;
    w->kind = kind;
    return w;
}

static void write_run(struct http_req *req, struct http_resp *resp, struct records *r,
                      struct rec_write *w)
{
    struct store_cmd *cmd = calloc(1, sizeof(*cmd));
    if (!cmd) {
        free(w);
        http_problem_err(resp, req, AM_ENOMEM, NULL);
        return;
    }
    cmd->apply = records_apply_write;
    cmd->arg = w;
    http_run_command(req, resp, r->st, cmd, write_free);
}

/* A create (POST, no id in the path) or a replace (PUT /{id}) of one record of `kind`. */
static void write_record(struct http_req *req, struct http_resp *resp, struct records *r,
                         enum records_kind kind)
{
    int64_t id = 0;
    if (req->method == HTTP_PUT && path_id(req, resp, &id))
        return;
    struct rec_write *w = write_begin(req, resp, r, kind);
    if (!w)
        return;
    w->id = id;
    write_run(req, resp, r, w);
}

static void write_person(struct http_req *req, struct http_resp *resp, void *arg)
{
    write_record(req, resp, arg, RECORDS_PERSONS);
}

static void write_vehicle(struct http_req *req, struct http_resp *resp, void *arg)
{
    write_record(req, resp, arg, RECORDS_VEHICLES);
}

static void post_hotlist(struct http_req *req, struct http_resp *resp, void *arg)
{
    write_record(req, resp, arg, RECORDS_HOTLIST);
}

static void post_hotlist_cancel(struct http_req *req, struct http_resp *resp, void *arg)
{
    int64_t id;
    if (path_id(req, resp, &id))
        return;
    const char *reason = NULL;
    if (http_unpack(req, resp, "{s:s}", "reason", &reason))
        return;
    char why[160];
    if (records_reason_check(reason, NULL, why, sizeof(why))) {
        http_problem(resp, req, 422, "validation", "Invalid request", "%s", why);
        return;
    }
    struct rec_write *w = calloc(1, sizeof(*w));
    if (!w) {
        http_problem_err(resp, req, AM_ENOMEM, NULL);
        return;
    }
    w->r = arg;
    w->kind = RECORDS_HOTLIST;
    w->id = id;
    w->cancel_why = reason; /* in req->json, valid until the answer is written */
    write_run(req, resp, arg, w);
}

/* ------------------------------------------------------------- access log */

struct access_q {
    const char *actor, *subject;
    int64_t from, to, limit;
    json_t *items;
};

static int subject_row(struct store_row *row, void *arg)
{
    return json_array_append_new(arg, json_string(store_row_text(row, 0))) ? AM_ENOMEM : 0;
}

static int access_row(struct store_row *row, void *arg)
{
    struct access_q *q = arg;
    char ts[AM_TIME_BUFSZ];
    json_t *query = json_loads(store_row_text(row, 8), 0, NULL);
    json_t *o = json_pack(
        "{sI sI ss ss ss ss ss ss so sI}", "id", (json_int_t)store_row_i64(row, 0), "seq",
        (json_int_t)store_row_i64(row, 1), "ts", am_time_fmt(store_row_i64(row, 2), ts, sizeof(ts)),
        "actor", store_row_text(row, 3), "role", store_row_text(row, 4), "action",
        store_row_text(row, 5), "reason", store_row_text(row, 6), "ref", store_row_text(row, 7),
        "query", query ? query : json_object(), "results", (json_int_t)store_row_i64(row, 9));
    return o && !json_array_append_new(q->items, o) ? 0 : AM_ENOMEM;
}

static int access_read(struct store_conn *c, void *arg)
{
    struct access_q *q = arg;
    int rc;
    if (q->subject)
        rc = store_query(c,
                         "SELECT a.id, a.seq, a.ts_us, a.actor, a.role, a.action, a.reason, a.ref,"
                         " a.query, a.results FROM record_access_subjects s"
                         " JOIN record_access a ON a.id = s.access_id"
                         " WHERE s.subject = ? AND (? = '' OR a.actor = ?)"
                         " AND a.ts_us >= ? AND a.ts_us < ? ORDER BY a.id DESC LIMIT ?",
                         access_row, q, "tttiii", q->subject, q->actor, q->actor, q->from, q->to,
                         q->limit);
    else
        rc = store_query(c,
                         "SELECT id, seq, ts_us, actor, role, action, reason, ref, query, results"
                         " FROM record_access WHERE (? = '' OR actor = ?)"
                         " AND ts_us >= ? AND ts_us < ? ORDER BY id DESC LIMIT ?",
                         access_row, q, "ttiii", q->actor, q->actor, q->from, q->to, q->limit);
    for (size_t i = 0; !rc && i < json_array_size(q->items); i++) {
        json_t *o = json_array_get(q->items, i);
        json_t *subs = json_array();
        if (!subs)
            return AM_ENOMEM;
        json_object_set_new(o, "subjects", subs);
        rc = store_query(c,
                         "SELECT subject FROM record_access_subjects WHERE access_id = ?"
                         " ORDER BY subject",
                         subject_row, subs, "i", json_integer_value(json_object_get(o, "id")));
    }
    return rc;
}

static void get_access(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct records *r = arg;
    struct access_q q = {http_arg(req, "actor"), http_arg(req, "subject"), 0, INT64_MAX, 100, NULL};
    const char *from = http_arg(req, "from"), *to = http_arg(req, "to"),
               *limit = http_arg(req, "limit");
    if ((from && am_time_parse(from, &q.from)) || (to && am_time_parse(to, &q.to)) ||
        (limit && am_parse_i64(limit, 1, 1000, &q.limit)) ||
        (q.subject && (strlen(q.subject) > 40 || !strchr(q.subject, ':'))) ||
        (q.actor && strlen(q.actor) > 63)) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "from and to are RFC 3339 times; limit an integer in [1, 1000]; subject is "
                     "person:ID, vehicle:ID or hotlist:ID");
        return;
    }
    if (!q.actor)
        q.actor = "";
    q.items = json_array();
    int rc = q.items ? store_read(r->st, access_read, &q) : AM_ENOMEM;
    if (rc) {
        json_decref(q.items);
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    http_json(resp, 200, json_pack("{so}", "items", q.items));
}

/* ------------------------------------------------------------- import and export */

static void post_import(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct records *r = arg;
    enum records_kind kind;
    enum records_format format;
    const char *k = http_arg(req, "kind"), *f = http_arg(req, "format"),
               *dry = http_arg(req, "dry_run");
    if (!k || records_kind_parse(k, &kind) || !f || records_format_parse(f, &format) ||
        (dry && strcmp(dry, "true") && strcmp(dry, "false"))) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "kind is persons, vehicles or hotlist; format csv or jsonl; dry_run true or "
                     "false");
        return;
    }
    struct records_import_result res;
    int rc = records_import(r->st, req->who.username, kind, format, req->body ? req->body : "",
                            req->body ? req->body_len : 0, dry && strcmp(dry, "true") == 0, &res);
    if (rc == AM_EINVAL) {
        json_t *p = json_pack(
            "{ss ss si ss sI sI so}", "type", HTTP_PROBLEM_BASE "import-invalid", "title",
            "The import has bad records: nothing was imported", "status", 422, "detail",
            "each issue names its line, field and reason; fix them and send "
            "the whole input again",
            "records", (json_int_t)res.records, "bad", (json_int_t)res.bad, "issues", res.issues);
        char *body = p ? json_dumps(p, JSON_COMPACT) : NULL;
        json_decref(p);
        if (!body) {
            http_problem_err(resp, req, AM_ENOMEM, NULL);
            return;
        }
        http_text(resp, 422, "application/problem+json", body);
        return;
    }
    if (rc) {
        json_decref(res.issues);
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    json_decref(res.issues);
    http_json(resp, 200,
              json_pack("{sI sI ss sb}", "records", (json_int_t)res.records, "imported",
                        (json_int_t)res.imported, "sha256", res.sha256, "dry_run",
                        dry && strcmp(dry, "true") == 0));
}

struct export_http {
    struct am_buf all;
    int64_t n;
};

static int export_flush(void *arg, struct am_buf *out)
{
    struct export_http *e = arg;
    int rc = am_buf_append(&e->all, out->data ? out->data : "", out->len);
    out->len = 0;
    return rc;
}

static void get_export(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct records *r = arg;
    enum records_kind kind;
    enum records_format format;
    const char *k = http_arg(req, "kind"), *f = http_arg(req, "format");
    if (!k || records_kind_parse(k, &kind) || !f || records_format_parse(f, &format)) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "kind is persons, vehicles or hotlist; format csv or jsonl");
        return;
    }
    struct read_call *x =
        read_begin(req, resp, "export", http_arg(req, "reason"), http_arg(req, "ref"));
    if (!x)
        return;
    struct export_http e;
    am_buf_init(&e.all, (size_t)EXPORT_HTTP_MAX * 2048);
    struct am_buf out;
    am_buf_init(&out, 0);
    int64_t count = 0;
    int rc = records_export(r->st, kind, format, &out, export_flush, &e, &count);
    am_buf_release(&out);
    if (rc) {
        am_buf_release(&e.all);
        read_fail(req, resp, x, rc == AM_ETOOBIG ? AM_ETOOBIG : rc);
        return;
    }
    /* The export is logged as one read of every record it holds, before it is sent. */
    x->query = json_pack("{ss ss sI}", "kind", k, "format", f, "records", (json_int_t)count);
    x->cmd.apply = apply_read;
    x->cmd.actor = req->who.username;
    rc = store_write(r->st, &x->cmd);
    free(x->cmd.answer);
    x->cmd.answer = NULL;
    read_call_free(&x->cmd);
    if (rc) {
        am_buf_release(&e.all);
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    if (!e.all.data && am_buf_append(&e.all, "", 0)) {
        http_problem_err(resp, req, AM_ENOMEM, NULL);
        return;
    }
    http_text(resp, 200, format == RECORDS_CSV ? "text/csv; charset=utf-8" : "application/x-ndjson",
              am_buf_steal(&e.all));
}

/* ------------------------------------------------------------- routes */

int records_routes(struct http_server *srv, struct records *r)
{
    static const struct {
        enum http_method m;
        const char *path;
        const unsigned *roles;
        unsigned flags;
        http_handler fn;
    } routes[] = {
        {HTTP_POST, "/api/v1/persons/search", &READ_ROLES, HTTP_JSON_BODY, post_person_search},
        {HTTP_GET, "/api/v1/persons/{id}", &READ_ROLES, 0, get_person},
        {HTTP_POST, "/api/v1/persons", &EDIT_ROLES, HTTP_JSON_BODY, write_person},
        {HTTP_PUT, "/api/v1/persons/{id}", &EDIT_ROLES, HTTP_JSON_BODY, write_person},
        {HTTP_POST, "/api/v1/vehicles/search", &READ_ROLES, HTTP_JSON_BODY, post_vehicle_search},
        {HTTP_GET, "/api/v1/vehicles/{id}", &READ_ROLES, 0, get_vehicle},
        {HTTP_POST, "/api/v1/vehicles", &EDIT_ROLES, HTTP_JSON_BODY, write_vehicle},
        {HTTP_PUT, "/api/v1/vehicles/{id}", &EDIT_ROLES, HTTP_JSON_BODY, write_vehicle},
        {HTTP_POST, "/api/v1/hotlist/check", &READ_ROLES, HTTP_JSON_BODY, post_hotlist_check},
        {HTTP_GET, "/api/v1/hotlist", &READ_ROLES, 0, get_hotlist},
        {HTTP_POST, "/api/v1/hotlist", &EDIT_ROLES, HTTP_JSON_BODY, post_hotlist},
        {HTTP_POST, "/api/v1/hotlist/{id}/cancel", &EDIT_ROLES, HTTP_JSON_BODY,
         post_hotlist_cancel},
        {HTTP_GET, "/api/v1/records/access", &AUDIT_ROLES, 0, get_access},
        {HTTP_POST, "/api/v1/records/import", &EDIT_ROLES, 0, post_import},
        {HTTP_GET, "/api/v1/records/export", &EDIT_ROLES, 0, get_export},
    };
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof(routes) / sizeof(routes[0]); i++)
        rc = http_route(srv, routes[i].m, routes[i].path, *routes[i].roles, routes[i].flags,
                        routes[i].fn, r);
    return rc;
}
