/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * workload.c - the command mix of a command-room shift (see workload.h):
 * incident scripts, the shared pool of units, and the texts a dispatcher
 * types, drawn from small lists of Casablanca streets, callers and notes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

const char *const wl_kind_names[WL_NKINDS] = {"open", "assign",    "en_route", "on_scene",
                                              "note", "available", "close"};

static const char *const streets[] = {
    "Boulevard Mohammed V",
    "Avenue des FAR",
    "Boulevard Zerktouni",
    "Rue Tahar Sebti",
    "Boulevard d'Anfa",
    "Rue Allal Ben Abdellah",
    "Boulevard Rachidi",
    "Avenue Hassan II",
    "Rue Mustapha El Maani",
    "Boulevard de la Corniche",
    "Rue Ibn Batouta",
    "Boulevard Moulay Youssef",
    "Rue du Prince Moulay Abdallah",
    "Place des Nations Unies",
    "Boulevard Ghandi",
    "Rue Jean Jaures",
};

static const char *const callers[] = {
    "Fatima Zahra El Idrissi", "Mohammed Benjelloun", "Khadija Tazi",
    "Youssef Alami",           "Hassan Chraibi",      "Amina Berrada",
    "Said Ouazzani",           "Nadia Lahlou",        "Anonyme",
};

static const char *const narratives[] = {
    "Appel au 19 : deux individus se battent devant un cafe",
    "Appelant signale un vehicule gare depuis deux jours, vitres brisees",
    "Voisine entend des cris dans l'appartement du dessus",
    "Accrochage entre un taxi et un scooter, un blesse leger",
    "Sac abandonne pres de l'arret de tramway",
    "Vol a l'arrache, suspect en fuite vers la medina",
    "Alarme declenchee dans une agence bancaire",
    "Groupe de supporters bloque la circulation",
};

static const char *const notes[] = {
    "Equipage sur place, situation calme",
    "Appelant recontacte, confirme les faits",
    "Deux temoins entendus, identites relevees",
    "Suspect decrit : homme, 25 ans, veste noire, parti a pied",
    "Ambulance demandee par l'equipage",
    "Circulation deviee par la rue voisine",
    "Victime orientee vers le commissariat pour depot de plainte",
    "RAS apres ronde dans le secteur",
};

static const char *const dispositions[] = {"resolved",  "report_taken", "arrest",
                                           "no_action", "unfounded",    "referred"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

uint32_t wl_rand(uint64_t *state, uint32_t n)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (uint32_t)(((x * 0x2545F4914F6CDD1DULL) >> 32) % n);
}

void wl_callsign(int i, char out[16])
{
    snprintf(out, 16, "BENCH-%04d", (i + 1) % 10000);
}

int wl_init(struct wl_model *m, int nunits, int ndispatchers, const char **types, int ntypes,
            uint64_t seed)
{
    memset(m, 0, sizeof(*m));
    if (nunits < 1 || nunits > 9999 || ndispatchers < 1 || ntypes < 1)
        return -1;
    m->callsigns = calloc((size_t)nunits, sizeof(*m->callsigns));
    m->free_units = calloc((size_t)nunits, sizeof(*m->free_units));
    m->d = calloc((size_t)ndispatchers, sizeof(*m->d));
    if (!m->callsigns || !m->free_units || !m->d) {
        wl_release(m);
        return -1;
    }
    m->nunits = nunits;
    for (int i = 0; i < nunits; i++) {
        wl_callsign(i, m->callsigns[i]);
        m->free_units[i] = i;
    }
    m->nfree = nunits;
    m->types = types;
    m->ntypes = ntypes;
    m->ndispatchers = ndispatchers;
    for (int i = 0; i < ndispatchers; i++)
        m->d[i].rng = (seed + 1) * 0x9E3779B97F4A7C15ULL + (uint64_t)i * 0xBF58476D1CE4E5B9ULL + 1;
    return 0;
}

void wl_release(struct wl_model *m)
{
    free(m->callsigns);
    free(m->free_units);
    free(m->d);
    memset(m, 0, sizeof(*m));
}

/* The script of a new incident: units dispatched, en route, on scene, notes, cleared, closed. */
static void draw_script(struct wl_incident *inc, uint64_t *rng)
{
    uint32_t r = wl_rand(rng, 100);
    int n = r < 65 ? 1 : r < 92 ? 2 : 3;
    int k = 0;
    for (int i = 0; i < n; i++)
        inc->steps[k++] = (struct wl_step){WL_ASSIGN, i};
    for (int i = 0; i < n; i++)
        inc->steps[k++] = (struct wl_step){WL_EN_ROUTE, i};
    for (int i = 0; i < n; i++)
        inc->steps[k++] = (struct wl_step){WL_ON_SCENE, i};
    r = wl_rand(rng, 100);
    int nnotes = r < 20 ? 0 : r < 55 ? 1 : r < 85 ? 2 : 3;
    for (int i = 0; i < nnotes; i++)
        inc->steps[k++] = (struct wl_step){WL_NOTE, -1};
    for (int i = 0; i < n; i++)
        if (wl_rand(rng, 2))
            inc->steps[k++] = (struct wl_step){WL_AVAILABLE, i};
    inc->steps[k++] = (struct wl_step){WL_CLOSE, -1};
    inc->nsteps = k;
    inc->next = 0;
    for (int i = 0; i < WL_UNITS_PER_INCIDENT; i++)
        inc->units[i] = -1;
}

static void make_open(struct wl_model *m, struct wl_dispatcher *d, int slot, struct wl_cmd *out)
{
    struct wl_incident *inc = &d->inc[slot];
    memset(inc, 0, sizeof(*inc));
    inc->used = true;
    draw_script(inc, &d->rng);
    out->kind = WL_OPEN;
    out->slot = slot;
    out->type = m->types[wl_rand(&d->rng, (uint32_t)m->ntypes)];
    /* Central Casablanca: lat 33.553..33.594, lon -7.626..-7.555. */
    out->lat = 33.553 + wl_rand(&d->rng, 41001) / 1e6;
    out->lon = -7.626 + wl_rand(&d->rng, 71001) / 1e6;
    snprintf(out->address, sizeof(out->address), "%u, %s, Casablanca", 1 + wl_rand(&d->rng, 250),
             streets[wl_rand(&d->rng, NELEM(streets))]);
    out->caller_name = callers[wl_rand(&d->rng, NELEM(callers))];
    snprintf(out->caller_phone, sizeof(out->caller_phone), "+212 6%02u %02u %02u %02u",
             wl_rand(&d->rng, 100), wl_rand(&d->rng, 100), wl_rand(&d->rng, 100),
             wl_rand(&d->rng, 100));
    out->narrative = narratives[wl_rand(&d->rng, NELEM(narratives))];
}

static void make_note(struct wl_dispatcher *d, int slot, struct wl_cmd *out)
{
    out->kind = WL_NOTE;
    out->slot = slot;
    memcpy(out->number, d->inc[slot].number, sizeof(out->number));
    out->text = notes[wl_rand(&d->rng, NELEM(notes))];
}

/* Fills `out` with the next step of incident `slot`; false if it cannot run now. */
static bool next_step(struct wl_model *m, struct wl_dispatcher *d, int slot, struct wl_cmd *out)
{
    struct wl_incident *inc = &d->inc[slot];
    while (inc->next < inc->nsteps) {
        struct wl_step st = inc->steps[inc->next];
        out->kind = st.kind;
        out->slot = slot;
        memcpy(out->number, inc->number, sizeof(out->number));
        switch (st.kind) {
        case WL_ASSIGN: {
            if (!m->nfree)
                return false;
            int i = (int)wl_rand(&d->rng, (uint32_t)m->nfree);
            int u = m->free_units[i];
            m->free_units[i] = m->free_units[--m->nfree];
            inc->units[st.unit_slot] = u;
            out->unit = u;
            memcpy(out->callsign, m->callsigns[u], sizeof(out->callsign));
            return true;
        }
        case WL_EN_ROUTE:
        case WL_ON_SCENE:
        case WL_AVAILABLE: {
            int u = inc->units[st.unit_slot];
            if (u < 0) {
                inc->next++; /* the unit was lost or released: nothing to say about it */
                continue;
            }
            out->unit = u;
            memcpy(out->callsign, m->callsigns[u], sizeof(out->callsign));
            out->status = st.kind == WL_EN_ROUTE   ? "en_route"
                          : st.kind == WL_ON_SCENE ? "on_scene"
                                                   : "available";
            return true;
        }
        case WL_NOTE:
            make_note(d, slot, out);
            return true;
        case WL_CLOSE:
            out->disposition = dispositions[wl_rand(&d->rng, NELEM(dispositions))];
            return true;
        default:
            inc->next++;
            break;
        }
    }
    return false;
}

void wl_next(struct wl_model *m, int di, struct wl_cmd *out)
{
    struct wl_dispatcher *d = &m->d[di];
    memset(out, 0, sizeof(*out));
    out->dispatcher = di;
    out->unit = -1;
    int open_slot = -1;
    for (int s = 0; s < WL_ACTIVE && open_slot < 0; s++)
        if (!d->inc[s].used)
            open_slot = s;
    if (open_slot >= 0) {
        make_open(m, d, open_slot, out);
        goto out;
    }
    int start = (int)wl_rand(&d->rng, WL_ACTIVE);
    for (int k = 0; k < WL_ACTIVE; k++) {
        int s = (start + k) % WL_ACTIVE;
        if (d->inc[s].opened && next_step(m, d, s, out))
            goto out;
    }
    /* Every incident waits for a unit and the pool is empty: the room takes notes. */
    make_note(d, start, out);
out:
    m->counts[out->kind]++;
}

static void give_back(struct wl_model *m, int u)
{
    if (u >= 0 && m->nfree < m->nunits)
        m->free_units[m->nfree++] = u;
}

static int unit_slot_of(const struct wl_incident *inc, int u)
{
    for (int i = 0; i < WL_UNITS_PER_INCIDENT; i++)
        if (inc->units[i] == u)
            return i;
    return -1;
}

void wl_done(struct wl_model *m, const struct wl_cmd *cmd, enum wl_outcome outcome,
             const char *number)
{
    struct wl_incident *inc = &m->d[cmd->dispatcher].inc[cmd->slot];
    if (cmd->kind == WL_OPEN) {
        if (outcome == WL_OK && number && strlen(number) < sizeof(inc->number)) {
            snprintf(inc->number, sizeof(inc->number), "%s", number);
            inc->opened = true;
        } else {
            inc->used = false;
        }
        return;
    }
    int us = cmd->unit >= 0 ? unit_slot_of(inc, cmd->unit) : -1;
    if (outcome == WL_OK) {
        if (cmd->kind != WL_NOTE || inc->steps[inc->next].kind == WL_NOTE)
            inc->next++;
        if (cmd->kind == WL_AVAILABLE && us >= 0) {
            give_back(m, cmd->unit);
            inc->units[us] = -1;
        }
        if (cmd->kind == WL_CLOSE) {
            for (int i = 0; i < WL_UNITS_PER_INCIDENT; i++)
                give_back(m, inc->units[i]);
            inc->used = false;
        }
        return;
    }
    /*
     * The server and the model disagree, or the answer was lost: the unit
     * the command was about may be in any state, so it leaves the pool, and
     * the incident is closed (or, if closing failed, forgotten with its units).
     */
    if (us >= 0 && (cmd->kind == WL_ASSIGN || cmd->kind == WL_AVAILABLE)) {
        inc->units[us] = -1;
        m->units_lost++;
    }
    if (cmd->kind == WL_CLOSE) {
        for (int i = 0; i < WL_UNITS_PER_INCIDENT; i++)
            if (inc->units[i] >= 0)
                m->units_lost++;
        inc->used = false;
        return;
    }
    inc->steps[inc->next] = (struct wl_step){WL_CLOSE, -1};
    inc->nsteps = inc->next + 1;
}
