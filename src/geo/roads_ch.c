/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * roads_ch.c - contraction hierarchies over a road graph: exact
 * point-to-point travel times on national graphs in a fraction of a
 * millisecond, where a plain Dijkstra settles millions of nodes per query.
 *
 * The build contracts the nodes one by one, least important first. To
 * contract v is to remove it and, for each pair of remaining neighbours
 * u -> v -> w whose route through v may be the fastest, add a shortcut
 * u -> w of the same time that remembers v. A bounded Dijkstra from u that
 * avoids v (the witness search) proves most shortcuts useless; a search that
 * stops at its bounds only adds shortcuts that were not needed, so answers
 * stay exact. The order is by priority: the edge difference (shortcuts
 * added minus edges removed), the neighbours already contracted and the
 * node's level. It goes in rounds, to use every processor: the nodes that
 * come before all their neighbours are picked, their shortcuts found in
 * parallel (the lazy update: a node's priority is computed afresh from
 * them, and it waits for a later round if it no longer comes first), then
 * they are contracted, and their neighbours' priorities updated in
 * parallel. docs/routing.md gives the parameters and the measured costs.
 *
 * The hierarchy is two graphs in compressed rows, numbered by rank: "up"
 * holds for each node its edges to higher nodes, "down" its edges from
 * higher nodes. A query runs Dijkstra forward from s on "up" and backward
 * from t on "down", alternating, with stall-on-demand (a node reached more
 * cheaply through a higher neighbour is not expanded); the fastest meeting
 * node gives the time, and shortcuts unpack through their middle node.
 * Queries take a scratch workspace from a free list behind a mutex, so any
 * number of threads may query one hierarchy at once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "geo/geo.h"
#include "geo/roads_int.h"

/*
 * Bounds of the witness searches: nodes settled and edges from the source,
 * while estimating a node's priority (many searches, so cheap ones) and
 * while contracting it (fewer, so more thorough: each witness missed is a
 * shortcut too many). Tuned on the synthetic million-node graph of
 * bench/route.
 */
#define CH_SIM_SETTLED      80
#define CH_SIM_HOPS         6
#define CH_CONTRACT_SETTLED 1000
#define CH_CONTRACT_HOPS    16

/* The weights of a node's priority: edge difference, contracted neighbours, level. */
#define CH_K_EDGE_DIFF  4.0f
#define CH_K_CONTRACTED 1.0f
#define CH_K_LEVEL      1.0f

/* A node is picked in a round if it comes before every node this many edges away (1 or 2). */
#define CH_INDEPENDENCE 2

/* Threads of the build: at most this many, and one per this many nodes at least. */
#define CH_MAX_THREADS          8
#define CH_MIN_NODES_PER_THREAD 1000
/* Items of a phase a thread takes at a time. */
#define CH_CHUNK 32

/* An edge of the finished hierarchy: to a node of higher rank ("up") or from one ("down"). */
struct ch_arc {
    uint32_t to; /* rank of the other end */
    uint32_t w;  /* time, ms */
};

struct geo_ch {
    uint32_t n;
    uint32_t *rank; /* [n] node -> rank */
    uint32_t *node; /* [n] rank -> node */
    /* Edges of rank r to higher ranks: up[up_first[r] .. up_first[r+1]-1]; the same for the
     * edges from higher ranks in down. *_mid: the rank of a shortcut's middle or GEO_NONE. */
    uint32_t *up_first, *down_first; /* [n + 1] */
    struct ch_arc *up, *down;
    uint32_t *up_mid, *down_mid;
    uint32_t nup, ndown;

    pthread_mutex_t ws_mu;
    struct ch_qws *ws_free;
};

/* ------------------------------------------------------------- searches */

/* A node's state in one search, valid when stamp equals the search's generation. */
struct ch_slot {
    uint32_t stamp;
    uint32_t dist; /* ms */
    uint32_t pos;  /* index in the heap + 1; 0 once settled */
    uint32_t aux;  /* the predecessor (queries) or the edges from the source (witnesses) */
};

/* One Dijkstra: per-node slots reset lazily by a generation stamp, and a binary heap. */
struct ch_search {
    struct ch_slot *slot; /* [n] */
    uint32_t *heap;
    uint32_t heapn, heapcap;
    uint32_t gen;
    uint32_t n;
};

static int search_init(struct ch_search *s, uint32_t n)
{
    memset(s, 0, sizeof(*s));
    s->n = n;
    s->slot = calloc(n ? n : 1, sizeof(*s->slot));
    s->heapcap = 1024;
    s->heap = malloc(s->heapcap * sizeof(*s->heap));
    if (!s->slot || !s->heap) {
        free(s->slot);
        free(s->heap);
        memset(s, 0, sizeof(*s));
        return AM_ENOMEM;
    }
    return 0;
}

static void search_release(struct ch_search *s)
{
    free(s->slot);
    free(s->heap);
    memset(s, 0, sizeof(*s));
}

/* Starts a new search: every slot becomes stale. */
static void search_begin(struct ch_search *s)
{
    s->heapn = 0;
    if (++s->gen == 0) {
        memset(s->slot, 0, (size_t)s->n * sizeof(*s->slot));
        s->gen = 1;
    }
}

static bool search_seen(const struct ch_search *s, uint32_t x)
{
    return s->slot[x].stamp == s->gen;
}

static void heap_up(struct ch_search *s, uint32_t i)
{
    uint32_t x = s->heap[i];
    uint32_t key = s->slot[x].dist;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        uint32_t y = s->heap[p];
        if (s->slot[y].dist <= key)
            break;
        s->heap[i] = y;
        s->slot[y].pos = i + 1;
        i = p;
    }
    s->heap[i] = x;
    s->slot[x].pos = i + 1;
}

/* Takes the nearest node off the heap, which must not be empty; it is settled. */
static uint32_t heap_pop(struct ch_search *s)
{
    uint32_t top = s->heap[0];
    uint32_t x = s->heap[--s->heapn];
    s->slot[top].pos = 0;
    if (s->heapn == 0)
        return top;
    uint32_t key = s->slot[x].dist;
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= s->heapn)
            break;
        if (c + 1 < s->heapn && s->slot[s->heap[c + 1]].dist < s->slot[s->heap[c]].dist)
            c++;
        uint32_t y = s->heap[c];
        if (s->slot[y].dist >= key)
            break;
        s->heap[i] = y;
        s->slot[y].pos = i + 1;
        i = c;
    }
    s->heap[i] = x;
    s->slot[x].pos = i + 1;
    return top;
}

/*
 * Reaches x at `dist` with `aux`: a first visit queues it, a shorter one moves it up; a settled
 * node is left alone. Returns 0, or AM_ENOMEM if the heap could not grow.
 */
static int search_reach(struct ch_search *s, uint32_t x, uint32_t dist, uint32_t aux)
{
    struct ch_slot *sl = &s->slot[x];
    if (sl->stamp != s->gen) {
        if (s->heapn == s->heapcap) {
            uint32_t cap = s->heapcap * 2 > s->n ? s->n : s->heapcap * 2;
            uint32_t *h = realloc(s->heap, (size_t)cap * sizeof(*h));
            if (!h)
                return AM_ENOMEM;
            s->heap = h;
            s->heapcap = cap;
        }
        sl->stamp = s->gen;
        sl->dist = dist;
        sl->aux = aux;
        s->heap[s->heapn] = x;
        heap_up(s, s->heapn++);
    } else if (sl->pos != 0 && dist < sl->dist) {
        sl->dist = dist;
        sl->aux = aux;
        heap_up(s, sl->pos - 1);
    }
    return 0;
}

/* Marks x as settled without queueing it: the witness searches' way to step around a node. */
static void search_block(struct ch_search *s, uint32_t x)
{
    s->slot[x].stamp = s->gen;
    s->slot[x].dist = UINT32_MAX;
    s->slot[x].pos = 0;
}

/* ------------------------------------------------------------- the graph being contracted */

/*
 * The edges among the nodes not yet contracted, one direction: each node's
 * arcs in one run of `arc` (and the shortcuts' middle nodes in `mid`, at the
 * same index), runs in node order so that a witness search reads memory
 * nearby. At most one arc per ordered pair of nodes: parallel edges keep
 * the faster. A run that outgrows its room moves to the end; the arena is
 * compacted when most of it is left behind.
 */
struct ch_adj {
    uint32_t first, n, cap;
};

struct ch_arena {
    struct ch_adj *adj; /* [n] */
    struct ch_arc *arc; /* to: the other end; w: time, ms */
    uint32_t *mid;      /* the node a shortcut bypasses, GEO_NONE for a road edge */
    uint32_t used, cap;
    uint64_t held; /* room held by the nodes' runs */
};

/* Room left in a run past its arcs when the arena is laid out: a few shortcuts to come. */
#define CH_RUN_SLACK 2

/* Lays out an empty run of deg[x] + CH_RUN_SLACK arcs for each node x. Returns 0 or AM_ENOMEM. */
static int arena_init(struct ch_arena *a, uint32_t n, const uint32_t *deg)
{
    uint64_t total = 0;
    memset(a, 0, sizeof(*a));
    a->adj = calloc(n ? n : 1, sizeof(*a->adj));
    if (!a->adj)
        return AM_ENOMEM;
    for (uint32_t x = 0; x < n; x++) {
        a->adj[x] = (struct ch_adj){.first = (uint32_t)total, .cap = deg[x] + CH_RUN_SLACK};
        total += deg[x] + CH_RUN_SLACK;
        if (total > UINT32_MAX / 2)
            return AM_ENOMEM;
    }
    a->used = (uint32_t)total;
    a->held = total;
    a->cap = (uint32_t)(total + total / 4 + 1024);
    a->arc = malloc((size_t)a->cap * sizeof(*a->arc));
    a->mid = malloc((size_t)a->cap * sizeof(*a->mid));
    return a->arc && a->mid ? 0 : AM_ENOMEM;
}

static void arena_release(struct ch_arena *a)
{
    free(a->adj);
    free(a->arc);
    free(a->mid);
    memset(a, 0, sizeof(*a));
}

/* Moves x's run to the end of the arena with room for `cap` arcs. Returns 0 or AM_ENOMEM. */
static int arena_move(struct ch_arena *a, uint32_t x, uint32_t cap)
{
    struct ch_adj *l = &a->adj[x];
    if ((uint64_t)a->used + cap > a->cap) {
        uint64_t ncap = (uint64_t)a->cap + a->cap / 2 + cap;
        if (ncap > UINT32_MAX)
            return AM_ENOMEM;
        struct ch_arc *arc = realloc(a->arc, ncap * sizeof(*arc));
        if (!arc)
            return AM_ENOMEM;
        a->arc = arc;
        uint32_t *mid = realloc(a->mid, ncap * sizeof(*mid));
        if (!mid)
            return AM_ENOMEM;
        a->mid = mid;
        a->cap = (uint32_t)ncap;
    }
    memcpy(a->arc + a->used, a->arc + l->first, (size_t)l->n * sizeof(*a->arc));
    memcpy(a->mid + a->used, a->mid + l->first, (size_t)l->n * sizeof(*a->mid));
    a->held += cap - l->cap;
    l->first = a->used;
    l->cap = cap;
    a->used += cap;
    return 0;
}

/* Adds the arc x -> to (or x <- to), or lowers the time of the one there. 0 or AM_ENOMEM. */
static int arena_put(struct ch_arena *a, uint32_t x, uint32_t to, uint32_t w, uint32_t mid)
{
    struct ch_adj *l = &a->adj[x];
    for (uint32_t i = l->first; i < l->first + l->n; i++)
        if (a->arc[i].to == to) {
            if (w < a->arc[i].w) {
                a->arc[i].w = w;
                a->mid[i] = mid;
            }
            return 0;
        }
    if (l->n == l->cap) {
        int rc = arena_move(a, x, l->cap < 2 ? 4 : l->cap * 2);
        if (rc)
            return rc;
    }
    a->arc[l->first + l->n] = (struct ch_arc){.to = to, .w = w};
    a->mid[l->first + l->n] = mid;
    l->n++;
    return 0;
}

static void arena_remove(struct ch_arena *a, uint32_t x, uint32_t to)
{
    struct ch_adj *l = &a->adj[x];
    for (uint32_t i = l->first; i < l->first + l->n; i++)
        if (a->arc[i].to == to) {
            uint32_t last = l->first + --l->n;
            a->arc[i] = a->arc[last];
            a->mid[i] = a->mid[last];
            return;
        }
}

/* Forgets x's run (x is contracted). */
static void arena_drop(struct ch_arena *a, uint32_t x)
{
    a->held -= a->adj[x].cap;
    a->adj[x] = (struct ch_adj){0};
}

/* Lays the runs out again in node order once most of the arena is left behind; if memory is
 * short, leaves it as it is. */
static void arena_compact(struct ch_arena *a, uint32_t n)
{
    if (a->used < 2 * a->held + 65536)
        return;
    uint64_t cap = a->held + a->held / 4 + 1024;
    struct ch_arc *arc = malloc(cap * sizeof(*arc));
    uint32_t *mid = malloc(cap * sizeof(*mid));
    if (!arc || !mid) {
        free(arc);
        free(mid);
        return;
    }
    uint32_t used = 0;
    for (uint32_t x = 0; x < n; x++) {
        struct ch_adj *l = &a->adj[x];
        if (l->cap == 0)
            continue;
        memcpy(arc + used, a->arc + l->first, (size_t)l->n * sizeof(*arc));
        memcpy(mid + used, a->mid + l->first, (size_t)l->n * sizeof(*mid));
        l->first = used;
        used += l->cap;
    }
    free(a->arc);
    free(a->mid);
    a->arc = arc;
    a->mid = mid;
    a->used = used;
    a->cap = (uint32_t)cap;
}

/* A shortcut found while contracting a node: u -> w of time w_ms. */
struct ch_sc {
    uint32_t u, w, w_ms;
};

struct ch_builder;

/* A thread of the build, with its own search and scratch. */
struct ch_worker {
    struct ch_builder *b;
    struct ch_search s;
    /* The targets of the current witness search: target[w] holds the search's generation
     * while w has no witness yet, via[w] its time through the node being contracted. */
    uint32_t *target, *via; /* [n] */
    uint32_t *targets;
    uint32_t ntargets, captargets;
    struct ch_sc *sc; /* shortcuts of the nodes this worker contracted in this round */
    size_t nsc, capsc;
    int rc;
    pthread_t tid;
};

/* A node picked in a round: where its shortcuts are, and whether it is contracted now. */
struct ch_pick {
    uint32_t v;
    uint32_t worker;
    size_t first, count;
    bool go;
};

enum ch_phase { CH_PHASE_PRIO, CH_PHASE_SELECT, CH_PHASE_CONTRACT };

struct ch_builder {
    uint32_t n;
    struct ch_arena out, in;
    uint32_t *level;         /* [n] 1 + the highest level of a contracted neighbour */
    uint32_t *contracted_nb; /* [n] neighbours already contracted */
    float *prio;             /* [n] the contraction order: lower first */
    uint8_t *picked;         /* [n] 1: picked in this round (witness searches avoid it); 2: done */
    uint8_t *selected;       /* [n] set by CH_PHASE_SELECT */
    uint32_t *remaining;     /* nodes not yet contracted */
    uint32_t nremaining;
    struct ch_pick *picks; /* [n] this round's independent set */
    uint32_t npicks;
    uint32_t *update; /* [n] nodes whose priority is due */
    uint32_t nupdate;
    uint32_t *queued; /* [n] the round in which a node was last put in `update` */
    uint32_t round;

    /* The finished hierarchy, appended one node at a time in contraction order. */
    struct ch_arc *up, *down;
    uint32_t *up_mid, *down_mid;
    uint32_t nup, ndown, capup, capdown;
    uint32_t *up_first, *down_first, *rank, *node;
    uint64_t shortcuts_made;

    /* The workers and the phase they run: items [0, nitems) of the phase's array, handed out
     * in chunks from `next`. */
    struct ch_worker *workers;
    uint32_t nworkers, nstarted;
    pthread_mutex_t mu;
    pthread_cond_t go_cv, done_cv;
    uint64_t job;     /* incremented for each phase */
    uint32_t running; /* workers still in the phase */
    bool quit;
    enum ch_phase phase;
    uint32_t nitems;
    atomic_uint next;
};

/* Starts a search of worker k: a new generation for the slots and for the target marks. */
static void worker_begin(struct ch_worker *k)
{
    search_begin(&k->s);
    if (k->s.gen == 1)
        memset(k->target, 0, (size_t)k->b->n * sizeof(*k->target));
}

/* The time past which the current witness search has nothing to find: the longest route through
 * the contracted node to a target that has no witness yet. */
static uint32_t witness_limit(const struct ch_worker *k)
{
    uint32_t limit = 0;
    for (uint32_t i = 0; i < k->ntargets; i++) {
        uint32_t w = k->targets[i];
        if (k->target[w] == k->s.gen && k->via[w] > limit)
            limit = k->via[w];
    }
    return limit;
}

/*
 * A witness search from u that avoids v and the nodes picked in this round, for the k->ntargets
 * targets set up by the caller: runs until every target has a witness (a path no slower than
 * through v) or is settled without one, the next node is past the limit, or `max_settled`
 * nodes are settled; a node `max_hops` edges from u is not expanded. Afterwards a target w has
 * a witness if search_seen(s, w) and s->slot[w].dist <= k->via[w]. Returns 0 or AM_ENOMEM.
 */
static int witness_search(struct ch_worker *k, uint32_t u, uint32_t v, uint32_t max_settled,
                          uint32_t max_hops)
{
    const struct ch_builder *b = k->b;
    const struct ch_arena *out = &b->out;
    struct ch_search *s = &k->s;
    uint32_t pending = k->ntargets;
    uint32_t settled = 0;
    uint32_t limit = witness_limit(k);
    int rc;

    search_block(s, v);
    rc = search_reach(s, u, 0, 0);
    while (!rc && s->heapn > 0 && settled < max_settled) {
        uint32_t x = s->heap[0];
        uint32_t d = s->slot[x].dist;
        if (d > limit)
            break;
        heap_pop(s);
        settled++;
        if (k->target[x] == s->gen) {
            /* Settled, and slower than through v: no witness. */
            k->target[x] = 0;
            if (--pending == 0)
                break;
            limit = witness_limit(k);
        }
        uint32_t hops = s->slot[x].aux;
        if (hops >= max_hops)
            continue;
        const struct ch_adj *l = &out->adj[x];
        const struct ch_arc *arc = out->arc + l->first;
        for (uint32_t i = 0; i < l->n && !rc; i++) {
            uint32_t y = arc[i].to;
            uint64_t nd = (uint64_t)d + arc[i].w;
            if (nd > limit || b->picked[y])
                continue;
            rc = search_reach(s, y, (uint32_t)nd, hops + 1);
            if (k->target[y] == s->gen && nd <= k->via[y]) {
                /* A witness: y need not be settled. */
                k->target[y] = 0;
                if (--pending == 0)
                    goto out;
                limit = witness_limit(k);
            }
        }
    }
out:
    return rc;
}

/*
 * Runs the witness searches of contracting v: for each pair u -> v -> w (u != w) that no
 * witness search shows a path of at most the same time without v, a shortcut is needed.
 * *added gets their number; if `keep` is true the shortcuts are also appended to k->sc.
 * The bounds are the contraction's if `keep`, the estimate's otherwise. Returns 0 or AM_ENOMEM.
 */
static int ch_shortcuts(struct ch_worker *k, uint32_t v, bool keep, uint32_t *added)
{
    const struct ch_builder *b = k->b;
    const struct ch_adj *lin = &b->in.adj[v], *lout = &b->out.adj[v];
    const struct ch_arc *in = b->in.arc + lin->first, *out = b->out.arc + lout->first;
    uint32_t max_settled = keep ? CH_CONTRACT_SETTLED : CH_SIM_SETTLED;
    uint32_t max_hops = keep ? CH_CONTRACT_HOPS : CH_SIM_HOPS;
    int rc = 0;

    *added = 0;
    if (lout->n > k->captargets) {
        uint32_t *t = realloc(k->targets, (size_t)lout->n * 2 * sizeof(*t));
        if (!t)
            return AM_ENOMEM;
        k->targets = t;
        k->captargets = lout->n * 2;
    }
    for (uint32_t i = 0; i < lin->n; i++) {
        uint32_t u = in[i].to;
        worker_begin(k);
        k->ntargets = 0;
        for (uint32_t j = 0; j < lout->n; j++) {
            uint32_t w = out[j].to;
            uint64_t via = (uint64_t)in[i].w + out[j].w;
            /* A route of UINT32_MAX ms or more cannot be told from "unreachable": no shortcut. */
            if (w == u || via >= UINT32_MAX)
                continue;
            k->target[w] = k->s.gen;
            k->via[w] = (uint32_t)via;
            k->targets[k->ntargets++] = w;
        }
        if (k->ntargets == 0)
            continue;
        rc = witness_search(k, u, v, max_settled, max_hops);
        if (rc)
            return rc;
        for (uint32_t j = 0; j < k->ntargets; j++) {
            uint32_t w = k->targets[j];
            if (search_seen(&k->s, w) && k->s.slot[w].dist <= k->via[w])
                continue;
            (*added)++;
            if (!keep)
                continue;
            if (k->nsc == k->capsc) {
                size_t cap = k->capsc ? k->capsc * 2 : 1024;
                struct ch_sc *nsc = realloc(k->sc, cap * sizeof(*nsc));
                if (!nsc)
                    return AM_ENOMEM;
                k->sc = nsc;
                k->capsc = cap;
            }
            k->sc[k->nsc++] = (struct ch_sc){.u = u, .w = w, .w_ms = k->via[w]};
        }
    }
    return 0;
}

/* The priority of v from the shortcuts its contraction adds: lower goes first. */
static float ch_priority_of(const struct ch_builder *b, uint32_t v, uint32_t added)
{
    int64_t removed = (int64_t)b->in.adj[v].n + b->out.adj[v].n;
    return CH_K_EDGE_DIFF * (float)((int64_t)added - removed) +
           CH_K_CONTRACTED * (float)b->contracted_nb[v] + CH_K_LEVEL * (float)b->level[v];
}

/* A well-mixed function of a node number, to break ties between equal priorities. */
static uint32_t ch_mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* True if x, at priority px, goes before y in the contraction order. */
static bool ch_before(const struct ch_builder *b, uint32_t x, float px, uint32_t y)
{
    float py = b->prio[y];
    if (px != py)
        return px < py;
    uint32_t hx = ch_mix(x), hy = ch_mix(y);
    return hx != hy ? hx < hy : x < y;
}

/* True if v, at priority p, goes before every node within `radius` edges (1 or 2). */
static bool ch_local_min(const struct ch_builder *b, uint32_t v, float p, int radius)
{
    for (int side = 0; side < 2; side++) {
        const struct ch_arena *a = side ? &b->in : &b->out;
        const struct ch_adj *l = &a->adj[v];
        for (uint32_t i = l->first; i < l->first + l->n; i++) {
            uint32_t x = a->arc[i].to;
            if (!ch_before(b, v, p, x))
                return false;
            if (radius < 2)
                continue;
            for (int side2 = 0; side2 < 2; side2++) {
                const struct ch_arena *a2 = side2 ? &b->in : &b->out;
                const struct ch_adj *l2 = &a2->adj[x];
                for (uint32_t j = l2->first; j < l2->first + l2->n; j++)
                    if (a2->arc[j].to != v && !ch_before(b, v, p, a2->arc[j].to))
                        return false;
            }
        }
    }
    return true;
}

/* ------------------------------------------------------------- the build's threads */

/* Item i of the current phase, run by worker k. */
static int ch_phase_item(struct ch_worker *k, uint32_t i)
{
    struct ch_builder *b = k->b;
    uint32_t added;
    int rc = 0;

    switch (b->phase) {
    case CH_PHASE_PRIO: {
        uint32_t v = b->update[i];
        rc = ch_shortcuts(k, v, false, &added);
        if (!rc)
            b->prio[v] = ch_priority_of(b, v, added);
        break;
    }
    case CH_PHASE_SELECT: {
        uint32_t v = b->remaining[i];
        b->selected[v] = ch_local_min(b, v, b->prio[v], CH_INDEPENDENCE);
        break;
    }
    case CH_PHASE_CONTRACT: {
        /* The lazy update: the shortcuts are found afresh, so is the priority; the node is
         * contracted only if it still goes before its neighbours. */
        struct ch_pick *p = &b->picks[i];
        p->worker = (uint32_t)(k - b->workers);
        p->first = k->nsc;
        rc = ch_shortcuts(k, p->v, true, &added);
        if (rc)
            break;
        float prio = ch_priority_of(b, p->v, added);
        p->go = ch_local_min(b, p->v, prio, 1);
        b->prio[p->v] = prio;
        if (!p->go)
            k->nsc = p->first;
        p->count = k->nsc - p->first;
        break;
    }
    }
    return rc;
}

/* Runs items of the current phase until there are none left. */
static void ch_phase_run(struct ch_worker *k)
{
    struct ch_builder *b = k->b;
    for (;;) {
        uint32_t i = atomic_fetch_add(&b->next, CH_CHUNK);
        if (i >= b->nitems)
            break;
        uint32_t end = b->nitems - i < CH_CHUNK ? b->nitems : i + CH_CHUNK;
        for (; i < end; i++) {
            int rc = ch_phase_item(k, i);
            if (rc && !k->rc)
                k->rc = rc;
        }
    }
}

static void *ch_worker_main(void *arg)
{
    struct ch_worker *k = arg;
    struct ch_builder *b = k->b;
    uint64_t seen = 0;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (b->job == seen && !b->quit)
            pthread_cond_wait(&b->go_cv, &b->mu);
        if (b->quit)
            break;
        seen = b->job;
        pthread_mutex_unlock(&b->mu);
        ch_phase_run(k);
        pthread_mutex_lock(&b->mu);
        if (--b->running == 0)
            pthread_cond_signal(&b->done_cv);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* Runs a phase over `nitems` items on every worker, this thread being worker 0. */
static int ch_phase(struct ch_builder *b, enum ch_phase phase, uint32_t nitems)
{
    int rc = 0;
    b->phase = phase;
    b->nitems = nitems;
    atomic_store(&b->next, 0);
    /* Small phases (the last rounds, near the top of the hierarchy) are not worth a wake-up. */
    bool alone = b->nstarted == 0 || nitems < 2 * CH_CHUNK;
    if (!alone) {
        pthread_mutex_lock(&b->mu);
        b->running = b->nstarted;
        b->job++;
        pthread_cond_broadcast(&b->go_cv);
        pthread_mutex_unlock(&b->mu);
    }
    ch_phase_run(&b->workers[0]);
    if (!alone) {
        pthread_mutex_lock(&b->mu);
        while (b->running > 0)
            pthread_cond_wait(&b->done_cv, &b->mu);
        pthread_mutex_unlock(&b->mu);
    }
    for (uint32_t i = 0; i < b->nworkers; i++)
        if (b->workers[i].rc && !rc)
            rc = b->workers[i].rc;
    return rc;
}

/* Starts the workers: one per processor up to CH_MAX_THREADS, worker 0 being this thread. */
static int ch_workers_start(struct ch_builder *b)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t want = ncpu < 1 ? 1 : ncpu > CH_MAX_THREADS ? CH_MAX_THREADS : (uint32_t)ncpu;
    if (b->n < CH_MIN_NODES_PER_THREAD * 2)
        want = 1;
    b->workers = calloc(want, sizeof(*b->workers));
    if (!b->workers)
        return AM_ENOMEM;
    for (uint32_t i = 0; i < want; i++) {
        struct ch_worker *k = &b->workers[i];
        k->b = b;
        k->target = calloc(b->n ? b->n : 1, sizeof(*k->target));
        k->via = calloc(b->n ? b->n : 1, sizeof(*k->via));
        if (!k->target || !k->via || search_init(&k->s, b->n)) {
            free(k->target);
            free(k->via);
            k->target = k->via = NULL;
            break;
        }
        b->nworkers++;
    }
    if (b->nworkers == 0)
        return AM_ENOMEM;
    /* A worker that cannot start leaves its share to the others. */
    for (uint32_t i = 1; i < b->nworkers; i++) {
        if (pthread_create(&b->workers[i].tid, NULL, ch_worker_main, &b->workers[i]) != 0)
            break;
        b->nstarted++;
    }
    return 0;
}

static void ch_workers_stop(struct ch_builder *b)
{
    if (!b->workers)
        return;
    pthread_mutex_lock(&b->mu);
    b->quit = true;
    pthread_cond_broadcast(&b->go_cv);
    pthread_mutex_unlock(&b->mu);
    for (uint32_t i = 1; i <= b->nstarted; i++)
        pthread_join(b->workers[i].tid, NULL);
    for (uint32_t i = 0; i < b->nworkers; i++) {
        search_release(&b->workers[i].s);
        free(b->workers[i].target);
        free(b->workers[i].via);
        free(b->workers[i].targets);
        free(b->workers[i].sc);
    }
    free(b->workers);
    b->workers = NULL;
}

/* ------------------------------------------------------------- the build */

/* Makes room for `more` arcs past *count in an array pair that holds *cap. 0 or AM_ENOMEM. */
static int ch_grow(struct ch_arc **arc, uint32_t **mid, uint32_t count, uint32_t more,
                   uint32_t *cap)
{
    if ((uint64_t)count + more <= *cap)
        return 0;
    uint64_t ncap = *cap;
    while (count + (uint64_t)more > ncap)
        ncap = ncap * 3 / 2 + 1024;
    if (ncap > UINT32_MAX)
        return AM_ENOMEM;
    struct ch_arc *na = realloc(*arc, ncap * sizeof(*na));
    if (!na)
        return AM_ENOMEM;
    *arc = na;
    uint32_t *nm = realloc(*mid, ncap * sizeof(*nm));
    if (!nm)
        return AM_ENOMEM;
    *mid = nm;
    *cap = (uint32_t)ncap;
    return 0;
}

/* Appends v's remaining edges to the hierarchy at rank r. Returns 0 or AM_ENOMEM. */
static int ch_emit(struct ch_builder *b, uint32_t v, uint32_t r)
{
    const struct ch_adj *lout = &b->out.adj[v], *lin = &b->in.adj[v];
    int rc;

    b->rank[v] = r;
    b->node[r] = v;
    b->up_first[r] = b->nup;
    b->down_first[r] = b->ndown;
    rc = ch_grow(&b->up, &b->up_mid, b->nup, lout->n, &b->capup);
    if (!rc)
        rc = ch_grow(&b->down, &b->down_mid, b->ndown, lin->n, &b->capdown);
    if (rc)
        return rc;
    for (uint32_t i = lout->first; i < lout->first + lout->n; i++) {
        b->up[b->nup] = b->out.arc[i];
        b->up_mid[b->nup++] = b->out.mid[i];
        b->shortcuts_made += b->out.mid[i] != GEO_NONE;
    }
    for (uint32_t i = lin->first; i < lin->first + lin->n; i++) {
        b->down[b->ndown] = b->in.arc[i];
        b->down_mid[b->ndown++] = b->in.mid[i];
        b->shortcuts_made += b->in.mid[i] != GEO_NONE;
    }
    return 0;
}

/*
 * Contracts the picked node v as rank r: its edges go to the hierarchy, its shortcuts into the
 * graph, and it leaves its neighbours' lists; the neighbours are queued for a new priority.
 * Returns 0 or AM_ENOMEM.
 */
static int ch_apply(struct ch_builder *b, const struct ch_pick *p, uint32_t r)
{
    struct ch_worker *k0 = &b->workers[0];
    const struct ch_sc *sc = p->count ? b->workers[p->worker].sc + p->first : NULL;
    uint32_t v = p->v;
    int rc;

    rc = ch_emit(b, v, r);
    if (rc)
        return rc;
    for (size_t i = 0; i < p->count; i++) {
        rc = arena_put(&b->out, sc[i].u, sc[i].w, sc[i].w_ms, v);
        if (!rc)
            rc = arena_put(&b->in, sc[i].w, sc[i].u, sc[i].w_ms, v);
        if (rc)
            return rc;
    }
    /* A neighbour both ways is named by both lists: a mark in worker 0's target array counts
     * it once. */
    worker_begin(k0);
    for (int side = 0; side < 2; side++) {
        struct ch_arena *a = side ? &b->in : &b->out;
        const struct ch_adj *l = &a->adj[v];
        for (uint32_t i = l->first; i < l->first + l->n; i++) {
            uint32_t x = a->arc[i].to;
            arena_remove(side ? &b->out : &b->in, x, v);
            if (k0->target[x] == k0->s.gen)
                continue;
            k0->target[x] = k0->s.gen;
            b->contracted_nb[x]++;
            if (b->level[x] < b->level[v] + 1)
                b->level[x] = b->level[v] + 1;
            if (b->queued[x] == b->round)
                continue;
            b->queued[x] = b->round;
            b->update[b->nupdate++] = x;
        }
    }
    arena_drop(&b->out, v);
    arena_drop(&b->in, v);
    return 0;
}

/*
 * Contracts every node, in rounds: the nodes that go before all their neighbours (within
 * CH_INDEPENDENCE edges) are picked and their shortcuts found in parallel; those that still
 * come first are contracted one after the other, then their neighbours' priorities computed
 * anew in parallel. No two picked nodes are neighbours, and the witness searches step around
 * all of them, so every witness found stays in the graph: the shortcuts found in parallel are
 * those a contraction one by one would add, or more. Returns 0 or AM_ENOMEM.
 */
static int ch_contract_all(struct ch_builder *b)
{
    uint32_t r = 0;
    int rc;

    for (uint32_t v = 0; v < b->n; v++)
        b->update[v] = v;
    rc = ch_phase(b, CH_PHASE_PRIO, b->n);
    if (rc)
        return rc;
    for (uint32_t v = 0; v < b->n; v++)
        b->remaining[v] = v;
    b->nremaining = b->n;

    while (b->nremaining > 0) {
        rc = ch_phase(b, CH_PHASE_SELECT, b->nremaining);
        if (rc)
            return rc;
        b->npicks = 0;
        for (uint32_t i = 0; i < b->nremaining; i++) {
            uint32_t v = b->remaining[i];
            if (!b->selected[v])
                continue;
            b->selected[v] = 0;
            b->picked[v] = 1;
            b->picks[b->npicks++] = (struct ch_pick){.v = v};
        }
        for (uint32_t i = 0; i < b->nworkers; i++)
            b->workers[i].nsc = 0;
        rc = ch_phase(b, CH_PHASE_CONTRACT, b->npicks);
        if (rc)
            return rc;

        b->nupdate = 0;
        b->round++;
        for (uint32_t i = 0; i < b->npicks; i++)
            b->picked[b->picks[i].v] = 0;
        for (uint32_t i = 0; i < b->npicks; i++) {
            if (!b->picks[i].go)
                continue;
            rc = ch_apply(b, &b->picks[i], r++);
            if (rc)
                return rc;
            b->picked[b->picks[i].v] = 2;
        }
        uint32_t kept = 0;
        for (uint32_t i = 0; i < b->nremaining; i++) {
            uint32_t v = b->remaining[i];
            if (b->picked[v] != 2)
                b->remaining[kept++] = v;
        }
        b->nremaining = kept;
        arena_compact(&b->out, b->n);
        arena_compact(&b->in, b->n);

        rc = ch_phase(b, CH_PHASE_PRIO, b->nupdate);
        if (rc)
            return rc;
    }
    return 0;
}

static void ch_builder_release(struct ch_builder *b)
{
    ch_workers_stop(b);
    arena_release(&b->out);
    arena_release(&b->in);
    free(b->level);
    free(b->contracted_nb);
    free(b->prio);
    free(b->picked);
    free(b->selected);
    free(b->remaining);
    free(b->picks);
    free(b->update);
    free(b->queued);
    free(b->up);
    free(b->down);
    free(b->up_mid);
    free(b->down_mid);
    free(b->up_first);
    free(b->down_first);
    free(b->rank);
    free(b->node);
    pthread_cond_destroy(&b->go_cv);
    pthread_cond_destroy(&b->done_cv);
    pthread_mutex_destroy(&b->mu);
}

/* Loads the road edges into the builder's arenas, parallel ones merged. 0 or AM_ENOMEM. */
static int ch_load(struct ch_builder *b, const struct geo_roads *g)
{
    uint32_t n = b->n;
    uint32_t *deg = calloc(n ? n : 1, sizeof(*deg));
    int rc;

    if (!deg)
        return AM_ENOMEM;
    for (uint32_t v = 0; v < n; v++)
        deg[v] = g->first_out[v + 1] - g->first_out[v];
    rc = arena_init(&b->out, n, deg);
    if (rc)
        goto out;
    for (uint32_t v = 0; v < n; v++)
        deg[v] = g->first_in[v + 1] - g->first_in[v];
    rc = arena_init(&b->in, n, deg);
    if (rc)
        goto out;
    for (uint32_t v = 0; v < n && !rc; v++)
        for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1] && !rc; e++) {
            uint32_t h = g->head[e];
            if (h == v)
                continue;
            rc = arena_put(&b->out, v, h, g->time_ms[e], GEO_NONE);
            if (!rc)
                rc = arena_put(&b->in, h, v, g->time_ms[e], GEO_NONE);
        }
out:
    free(deg);
    return rc;
}

int geo_ch_build(const struct geo_roads *g, struct geo_ch **out, struct geo_ch_stats *stats)
{
    int rc = 0;
    int64_t t0 = am_mono_us();
    struct ch_builder b;
    struct geo_ch *ch = NULL;
    uint32_t n;
    size_t n1;

    if (!out)
        return AM_EINVAL;
    *out = NULL;
    if (!g)
        return AM_EINVAL;
    memset(&b, 0, sizeof(b));
    if (pthread_mutex_init(&b.mu, NULL) != 0)
        return AM_ENOMEM;
    if (pthread_cond_init(&b.go_cv, NULL) != 0) {
        pthread_mutex_destroy(&b.mu);
        return AM_ENOMEM;
    }
    if (pthread_cond_init(&b.done_cv, NULL) != 0) {
        pthread_cond_destroy(&b.go_cv);
        pthread_mutex_destroy(&b.mu);
        return AM_ENOMEM;
    }
    n = g->n;
    n1 = n ? n : 1;
    b.n = n;
    b.level = calloc(n1, sizeof(*b.level));
    b.contracted_nb = calloc(n1, sizeof(*b.contracted_nb));
    b.prio = calloc(n1, sizeof(*b.prio));
    b.picked = calloc(n1, sizeof(*b.picked));
    b.selected = calloc(n1, sizeof(*b.selected));
    b.remaining = calloc(n1, sizeof(*b.remaining));
    b.picks = calloc(n1, sizeof(*b.picks));
    b.update = calloc(n1, sizeof(*b.update));
    b.queued = calloc(n1, sizeof(*b.queued));
    b.up_first = calloc((size_t)n + 1, sizeof(*b.up_first));
    b.down_first = calloc((size_t)n + 1, sizeof(*b.down_first));
    b.rank = calloc(n1, sizeof(*b.rank));
    b.node = calloc(n1, sizeof(*b.node));
    if (!b.level || !b.contracted_nb || !b.prio || !b.picked || !b.selected || !b.remaining ||
        !b.picks || !b.update || !b.queued || !b.up_first || !b.down_first || !b.rank || !b.node) {
        rc = AM_ENOMEM;
        goto out;
    }
    rc = ch_load(&b, g);
    if (rc)
        goto out;
    rc = ch_workers_start(&b);
    if (rc)
        goto out;
    rc = ch_contract_all(&b);
    if (rc)
        goto out;
    b.up_first[n] = b.nup;
    b.down_first[n] = b.ndown;

    /* Node numbers become ranks. */
    for (uint32_t i = 0; i < b.nup; i++) {
        b.up[i].to = b.rank[b.up[i].to];
        if (b.up_mid[i] != GEO_NONE)
            b.up_mid[i] = b.rank[b.up_mid[i]];
    }
    for (uint32_t i = 0; i < b.ndown; i++) {
        b.down[i].to = b.rank[b.down[i].to];
        if (b.down_mid[i] != GEO_NONE)
            b.down_mid[i] = b.rank[b.down_mid[i]];
    }

    ch = calloc(1, sizeof(*ch));
    if (!ch || pthread_mutex_init(&ch->ws_mu, NULL) != 0) {
        free(ch);
        ch = NULL;
        rc = AM_ENOMEM;
        goto out;
    }
    ch->n = n;
    ch->nup = b.nup;
    ch->ndown = b.ndown;
    /* Hand the arrays over, trimmed to size (a failed shrink keeps the larger block). */
#define CH_TAKE(field, count)                                                                      \
    do {                                                                                           \
        void *p_ = realloc(b.field, ((size_t)(count) ? (size_t)(count) : 1) * sizeof(*b.field));   \
        ch->field = p_ ? p_ : b.field;                                                             \
        b.field = NULL;                                                                            \
    } while (0)
    CH_TAKE(up, b.nup);
    CH_TAKE(up_mid, b.nup);
    CH_TAKE(down, b.ndown);
    CH_TAKE(down_mid, b.ndown);
#undef CH_TAKE
    ch->up_first = b.up_first;
    ch->down_first = b.down_first;
    ch->rank = b.rank;
    ch->node = b.node;
    b.up_first = b.down_first = b.rank = b.node = NULL;

    if (stats) {
        stats->build_s = (double)(am_mono_us() - t0) / 1e6;
        stats->shortcuts = b.shortcuts_made;
        stats->memory_bytes =
            sizeof(*ch) + (size_t)n * 2 * sizeof(uint32_t) +
            ((size_t)n + 1) * 2 * sizeof(uint32_t) +
            ((size_t)b.nup + b.ndown) * (sizeof(struct ch_arc) + sizeof(uint32_t));
    }
    *out = ch;
out:
    ch_builder_release(&b);
    return rc;
}

/* ------------------------------------------------------------- queries */

/* The scratch of one query: a forward and a backward search over ranks. */
struct ch_qws {
    struct ch_qws *next;
    struct ch_search fwd, bwd;
};

static void qws_free(struct ch_qws *w)
{
    if (!w)
        return;
    search_release(&w->fwd);
    search_release(&w->bwd);
    free(w);
}

static struct ch_qws *qws_get(const struct geo_ch *cch)
{
    struct geo_ch *ch = (struct geo_ch *)cch; /* the pool is the only mutable part */
    struct ch_qws *w;
    pthread_mutex_lock(&ch->ws_mu);
    w = ch->ws_free;
    if (w)
        ch->ws_free = w->next;
    pthread_mutex_unlock(&ch->ws_mu);
    if (w)
        return w;
    w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    if (search_init(&w->fwd, ch->n) || search_init(&w->bwd, ch->n)) {
        qws_free(w);
        return NULL;
    }
    return w;
}

static void qws_put(const struct geo_ch *cch, struct ch_qws *w)
{
    struct geo_ch *ch = (struct geo_ch *)cch;
    pthread_mutex_lock(&ch->ws_mu);
    w->next = ch->ws_free;
    ch->ws_free = w;
    pthread_mutex_unlock(&ch->ws_mu);
}

void geo_ch_free(struct geo_ch *ch)
{
    if (!ch)
        return;
    while (ch->ws_free) {
        struct ch_qws *w = ch->ws_free;
        ch->ws_free = w->next;
        qws_free(w);
    }
    pthread_mutex_destroy(&ch->ws_mu);
    free(ch->rank);
    free(ch->node);
    free(ch->up_first);
    free(ch->down_first);
    free(ch->up);
    free(ch->down);
    free(ch->up_mid);
    free(ch->down_mid);
    free(ch);
}

/*
 * Settles the nearest node of one side of a query (`dir` 0 forward on "up", 1 backward on
 * "down"), offers it as a meeting point with the other side, and expands it unless it is
 * stalled. Returns 0 or AM_ENOMEM.
 */
static int ch_settle(const struct geo_ch *ch, struct ch_search *self, const struct ch_search *other,
                     int dir, uint64_t *best, uint32_t *meet)
{
    const uint32_t *first = dir ? ch->down_first : ch->up_first;
    const struct ch_arc *arcs = dir ? ch->down : ch->up;
    const uint32_t *rfirst = dir ? ch->up_first : ch->down_first;
    const struct ch_arc *rarcs = dir ? ch->up : ch->down;
    uint32_t x = heap_pop(self);
    uint32_t d = self->slot[x].dist;

    if (search_seen(other, x)) {
        uint64_t total = (uint64_t)d + other->slot[x].dist;
        if (total < *best) {
            *best = total;
            *meet = x;
        }
    }
    /* Stall-on-demand: a higher node that reaches x faster means d is not x's true distance,
     * so nothing found from x can be on a fastest route. */
    for (uint32_t i = rfirst[x]; i < rfirst[x + 1]; i++) {
        uint32_t y = rarcs[i].to;
        if (search_seen(self, y) && (uint64_t)self->slot[y].dist + rarcs[i].w < d)
            return 0;
    }
    for (uint32_t i = first[x]; i < first[x + 1]; i++) {
        uint64_t nd = (uint64_t)d + arcs[i].w;
        if (nd >= UINT32_MAX)
            continue;
        int rc = search_reach(self, arcs[i].to, (uint32_t)nd, x);
        if (rc)
            return rc;
    }
    return 0;
}

/* The middle rank of the hierarchy edge a -> b (ranks), GEO_NONE for a road edge. */
static uint32_t ch_edge_mid(const struct geo_ch *ch, uint32_t a, uint32_t b)
{
    if (a < b) {
        for (uint32_t i = ch->up_first[a]; i < ch->up_first[a + 1]; i++)
            if (ch->up[i].to == b)
                return ch->up_mid[i];
    } else {
        for (uint32_t i = ch->down_first[b]; i < ch->down_first[b + 1]; i++)
            if (ch->down[i].to == a)
                return ch->down_mid[i];
    }
    AM_BUG("hierarchy edge not found while unpacking");
}

/* A growable array of uint32_t. */
struct ch_vec {
    uint32_t *v;
    size_t n, cap;
};

static int vec_push(struct ch_vec *v, uint32_t x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        uint32_t *nv = realloc(v->v, cap * sizeof(*nv));
        if (!nv)
            return AM_ENOMEM;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return 0;
}

/*
 * The road nodes from s to t of the route that meets at `meet` (ranks), shortcuts unpacked, into
 * *path and *npath. Returns 0 or AM_ENOMEM.
 */
static int ch_unpack(const struct geo_ch *ch, const struct ch_qws *w, uint32_t meet,
                     uint32_t **path, size_t *npath)
{
    int rc = 0;
    struct ch_vec up = {0}, stack = {0}, nodes = {0};

    /* The hierarchy route: s .. meet (forward predecessors, read backwards) then meet .. t. */
    for (uint32_t x = meet; x != GEO_NONE; x = w->fwd.slot[x].aux) {
        rc = vec_push(&up, x);
        if (rc)
            goto out;
    }
    for (size_t i = 0, j = up.n - 1; i < j; i++, j--) {
        uint32_t tmp = up.v[i];
        up.v[i] = up.v[j];
        up.v[j] = tmp;
    }
    for (uint32_t x = w->bwd.slot[meet].aux; x != GEO_NONE; x = w->bwd.slot[x].aux) {
        rc = vec_push(&up, x);
        if (rc)
            goto out;
    }

    rc = vec_push(&nodes, ch->node[up.v[0]]);
    if (rc)
        goto out;
    for (size_t i = 0; i + 1 < up.n; i++) {
        /* Depth first on (a, b) pairs: a shortcut a -> m -> b becomes (a, m) then (m, b). */
        stack.n = 0;
        rc = vec_push(&stack, up.v[i]);
        if (!rc)
            rc = vec_push(&stack, up.v[i + 1]);
        while (!rc && stack.n > 0) {
            uint32_t b = stack.v[--stack.n];
            uint32_t a = stack.v[--stack.n];
            uint32_t m = ch_edge_mid(ch, a, b);
            if (m == GEO_NONE) {
                rc = vec_push(&nodes, ch->node[b]);
                continue;
            }
            rc = vec_push(&stack, m);
            if (!rc)
                rc = vec_push(&stack, b);
            if (!rc)
                rc = vec_push(&stack, a);
            if (!rc)
                rc = vec_push(&stack, m);
        }
        if (rc)
            goto out;
    }
    *path = nodes.v;
    *npath = nodes.n;
    nodes.v = NULL;
out:
    free(up.v);
    free(stack.v);
    free(nodes.v);
    return rc;
}

int geo_ch_query(const struct geo_ch *ch, uint32_t s, uint32_t t, uint32_t *time_ms,
                 uint32_t **path, size_t *npath)
{
    int rc = 0;
    struct ch_qws *w = NULL;
    uint64_t best = UINT64_MAX;
    uint32_t meet = GEO_NONE;
    int turn = 0;

    if (path)
        *path = NULL;
    if (npath)
        *npath = 0;
    if (!ch || !time_ms || (path && !npath) || s >= ch->n || t >= ch->n)
        return AM_EINVAL;
    *time_ms = UINT32_MAX;
    w = qws_get(ch);
    if (!w)
        return AM_ENOMEM;

    search_begin(&w->fwd);
    search_begin(&w->bwd);
    rc = search_reach(&w->fwd, ch->rank[s], 0, GEO_NONE);
    if (!rc)
        rc = search_reach(&w->bwd, ch->rank[t], 0, GEO_NONE);
    if (rc)
        goto out;
    for (;;) {
        /* A side stops once its nearest node is no nearer than the best route found. */
        bool fwd_on = w->fwd.heapn > 0 && w->fwd.slot[w->fwd.heap[0]].dist < best;
        bool bwd_on = w->bwd.heapn > 0 && w->bwd.slot[w->bwd.heap[0]].dist < best;
        if (!fwd_on && !bwd_on)
            break;
        int dir = fwd_on && (!bwd_on || turn == 0) ? 0 : 1;
        turn ^= 1;
        if (dir == 0)
            rc = ch_settle(ch, &w->fwd, &w->bwd, 0, &best, &meet);
        else
            rc = ch_settle(ch, &w->bwd, &w->fwd, 1, &best, &meet);
        if (rc)
            goto out;
    }
    if (meet == GEO_NONE || best >= UINT32_MAX)
        goto out;
    *time_ms = (uint32_t)best;
    if (path) {
        rc = ch_unpack(ch, w, meet, path, npath);
        if (rc)
            *time_ms = UINT32_MAX;
    }
out:
    qws_put(ch, w);
    return rc;
}
