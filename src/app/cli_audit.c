/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cli_audit.c - `amane audit verify`: proves the event log was not edited,
 * and `amane demo seed`: the demo's users and first logbook entries.
 */
#include <stdio.h>
#include <string.h>

#include "app/cli.h"
#include "cad/cad.h"

int cli_audit(struct app *a, int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "verify") != 0)
        return cli_fail("usage: amane audit verify") + 1;
    struct store_verify v;
    int rc = store_verify_chain(a->store, &v);
    char head[2 * AM_SHA256_LEN + 1];
    am_hex(v.head, AM_SHA256_LEN, head);
    if (rc == AM_ECORRUPT) {
        fprintf(stderr, "amane: audit: event %lld does not verify: %s\n", (long long)v.bad_seq,
                v.why);
        fprintf(stderr, "amane: audit: %lld events before it verified\n", (long long)v.verified);
        return 1;
    }
    if (rc)
        return cli_fail("audit: cannot read the event log: %s", am_strerror(rc));
    printf("%lld events verified; head %s\n", (long long)v.verified, head);
    return 0;
}

/* The demo's accounts: one per role, with French/Arabic display names. */
static const struct {
    const char *username, *name, *role, *password;
} demo_users[] = {
    {"admin", "Administrateur · المسؤول", "admin", "amane-admin-2025"},
    {"supervisor", "Superviseur Karim Alaoui · كريم العلوي", "supervisor", "amane-demo-2025"},
    {"dispatcher", "Opératrice Salma Bennani · سلمى بناني", "dispatcher", "amane-demo-2025"},
    {"patrol", "Patrouille Youssef Idrissi · يوسف الإدريسي", "patrol", "amane-demo-2025"},
    {"analyst", "Analyste Nadia Tazi · نادية التازي", "analyst", "amane-demo-2025"},
    {"examiner", "Expert Omar Fassi · عمر الفاسي", "examiner", "amane-demo-2025"},
    {"trainer", "Formateur Rachid Amrani · رشيد العمراني", "trainer", "amane-demo-2025"},
    {"trainee", "Stagiaire Imane Berrada · إيمان برادة", "trainee", "amane-demo-2025"},
};

int cli_demo(struct app *a, int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "seed") != 0)
        return cli_fail("usage: amane demo seed") + 1;
    int added = 0;
    for (size_t i = 0; i < sizeof(demo_users) / sizeof(demo_users[0]); i++) {
        enum am_role role;
        if (am_role_parse(demo_users[i].role, &role))
            return cli_fail("demo: bad role");
        int rc = auth_user_add(a->auth, cli_actor(), demo_users[i].username, demo_users[i].name,
                               role, demo_users[i].password, NULL);
        if (rc == AM_ECONFLICT)
            continue;
        if (rc)
            return cli_fail("demo: cannot add '%s': %s", demo_users[i].username, am_strerror(rc));
        added++;
    }
    if (added) {
        char why[128];
        static const char *const entries[][2] = {
            {"shift", "Prise de service, salle de commandement de Casablanca · بداية المناوبة"},
            {"info", "Match au Complexe Mohammed V à 20h00 : dispositif renforcé · مباراة في "
                     "المركب الرياضي محمد الخامس"},
        };
        for (size_t i = 0; i < 2; i++)
            if (cad_logbook_add(a->store, "supervisor", entries[i][0], entries[i][1], NULL, why,
                                sizeof(why)))
                return cli_fail("demo: cannot write the logbook: %s", why);
    }
    /* The units of a Casablanca command room. */
    static const struct {
        const char *callsign, *kind, *sector, *caps;
        double lat, lon; /* on a road of the shipped Casablanca graph */
    } units[] = {
        {"CAS-P-01", "car_patrol", "CAS-S01", "first_aid", 33.57267, -7.59409},
        {"CAS-P-02", "car_patrol", "CAS-S02", "first_aid", 33.56659, -7.59570},
        {"CAS-P-03", "car_patrol", "CAS-S03", "", 33.58038, -7.61323},
        {"CAS-P-04", "car_patrol", "CAS-S04", "", 33.56215, -7.60966},
        {"CAS-P-05", "car_patrol", "CAS-S05", "first_aid", 33.57781, -7.56748},
        {"CAS-P-06", "car_patrol", "CAS-S06", "", 33.56537, -7.58629},
        {"CAS-M-01", "motorcycle", "CAS-S01", "traffic", 33.57123, -7.60236},
        {"CAS-M-02", "motorcycle", "CAS-S03", "traffic", 33.58663, -7.61557},
        {"CAS-T-01", "traffic", "CAS-S02", "traffic,speed_control", 33.56768, -7.59044},
        {"CAS-K9-01", "k9", "CAS-S01", "k9,explosives_detection", 33.58776, -7.61760},
        {"CAS-SS-01", "sports_security", "CAS-S05", "crowd_control,stadium", 33.57402, -7.61518},
        {"CAS-PJ-01", "judicial_police", "CAS-S02", "investigation", 33.56404, -7.56926},
        {"CAS-PS-01", "scientific_police", "CAS-S02", "forensics", 33.57042, -7.60919},
        {"CAS-GI-01", "intervention", "CAS-S04", "public_order,crowd_control", 33.56178, -7.60068},
    };
    int units_added = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        json_t *req = json_pack("{ss ss ss}", "callsign", units[i].callsign, "kind", units[i].kind,
                                "home_sector", units[i].sector);
        json_t *caps = json_array();
        for (const char *p = units[i].caps; *p;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            json_array_append_new(caps, json_stringn(p, n));
            p += n + (comma ? 1 : 0);
        }
        json_object_set_new(req, "capabilities", caps);
        char why[300];
        int rc =
            cad_run(a->cad, CAD_UNIT_ADD, cli_actor(), NULL, req, NULL, NULL, why, sizeof(why));
        json_decref(req);
        if (rc && rc != AM_ECONFLICT)
            return cli_fail("demo: cannot add unit %s: %s", units[i].callsign, why);
        units_added += rc == 0;
        /* A position now, so that recommendations work at once (stale after roads.stale_after). */
        json_t *pos = json_pack("{sf sf}", "lat", units[i].lat, "lon", units[i].lon);
        rc = cad_run(a->cad, CAD_UNIT_POSITION, cli_actor(), units[i].callsign, pos, NULL, NULL,
                     why, sizeof(why));
        json_decref(pos);
        if (rc)
            return cli_fail("demo: cannot place unit %s: %s", units[i].callsign, why);
    }
    printf("demo: %d users and %d units added\n", added, units_added);
    for (size_t i = 0; i < sizeof(demo_users) / sizeof(demo_users[0]); i++)
        printf("  %-11s %-11s password: %s\n", demo_users[i].username, demo_users[i].role,
               demo_users[i].password);
    return 0;
}
