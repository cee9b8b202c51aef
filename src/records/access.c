/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * access.c - the access log of the records: every read (a search, a record
 * opened, a hotlist check, a list, an export) is an event in the
 * hash-chained log (records.read: who, role, why, the reference, what was
 * asked and which records came back) and a row supervisors query by
 * reader, by subject and by time. The read's answer is sent only once its
 * log entry is durable: nothing is read unlogged.
 */
#include <stdlib.h>
#include <string.h>

#include "records/records_int.h"

#define REASON_MIN 3
#define REF_MAX    63

int records_reason_check(const char *reason, const char *ref, char *why, size_t whysz)
{
    size_t n = reason ? strlen(reason) : 0;
    size_t letters = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)reason[i];
        if (ch < 0x20 || ch == 0x7f)
            return am_why(why, whysz, AM_EINVAL, "reason may not contain control characters");
        letters += ch != ' ';
    }
    if (!reason || letters < REASON_MIN || n >= REC_TEXT_MAX)
        return am_why(why, whysz, AM_EINVAL,
                      "a reason is required for every read: %d to %d bytes of text", REASON_MIN,
                      REC_TEXT_MAX - 1);
    if (!am_utf8_valid(reason, n))
        return am_why(why, whysz, AM_EINVAL, "reason must be UTF-8 text");
    n = ref ? strlen(ref) : 0;
    if (n > REF_MAX)
        return am_why(why, whysz, AM_EINVAL, "ref (incident or case number) is at most %d bytes",
                      REF_MAX);
    for (size_t i = 0; i < n; i++) {
        char ch = ref[i];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '/' || ch == '_' || ch == '.' || ch == '-';
        if (!ok)
            return am_why(why, whysz, AM_EINVAL,
                          "ref (incident or case number) may hold letters, digits and / _ . -");
    }
    return 0;
}

int records_access_log(struct store_conn *c, struct store_cmd *cmd,
                       const struct records_reader_ctx *who, const char *action,
                       const json_t *query, const json_t *subjects, int64_t *access_id)
{
    size_t nsub = json_array_size(subjects);
    json_t *ev = json_pack("{ss ss ss ss sO* so sI}", "role", who->role, "action", action, "reason",
                           who->reason, "ref", who->ref ? who->ref : "", "query", query, "subjects",
                           subjects ? json_incref((json_t *)subjects) : json_array(), "results",
                           (json_int_t)nsub);
    if (!ev)
        return AM_ENOMEM;
    int64_t seq;
    int rc = store_append(c, cmd, "records.read", ev, &seq);
    json_decref(ev);
    char *qtext = query ? json_dumps(query, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!rc)
        rc = store_exec(c,
                        "INSERT INTO record_access(seq, ts_us, actor, role, action, reason, ref,"
                        " query, results) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        "iitttttti", seq, cmd->last_ts, cmd->actor, who->role, action, who->reason,
                        who->ref ? who->ref : "", qtext ? qtext : "{}", (int64_t)nsub);
    free(qtext);
    int64_t id = rc ? 0 : store_last_id(c);
    for (size_t i = 0; !rc && i < nsub; i++) {
        const char *s = json_string_value(json_array_get(subjects, i));
        if (s)
            rc = store_exec(c,
                            "INSERT OR IGNORE INTO record_access_subjects(subject, access_id)"
                            " VALUES (?, ?)",
                            "ti", s, id);
    }
    if (!rc && access_id)
        *access_id = id;
    return rc;
}

struct log_call {
    const struct records_reader_ctx *who;
    const char *action;
    const json_t *query, *subjects;
};

static int apply_log(struct store_conn *c, struct store_cmd *cmd)
{
    struct log_call *l = cmd->arg;
    return records_access_log(c, cmd, l->who, l->action, l->query, l->subjects, NULL);
}

int records_log_read(struct store *st, const char *actor, const char *role, const char *reason,
                     const char *ref, const char *action, const json_t *query,
                     const json_t *subjects)
{
    char why[160];
    if (records_reason_check(reason, ref, why, sizeof(why)))
        return AM_EINVAL;
    struct records_reader_ctx who = {actor, role, reason, ref ? ref : ""};
    struct log_call l = {&who, action, query, subjects};
    struct store_cmd cmd = {.apply = apply_log, .arg = &l, .actor = actor};
    int rc = store_write(st, &cmd);
    free(cmd.answer);
    return rc;
}
