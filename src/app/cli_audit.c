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
    printf("demo: %d users added\n", added);
    for (size_t i = 0; i < sizeof(demo_users) / sizeof(demo_users[0]); i++)
        printf("  %-11s %-11s password: %s\n", demo_users[i].username, demo_users[i].role,
               demo_users[i].password);
    return 0;
}
