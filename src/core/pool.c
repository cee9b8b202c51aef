/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * pool.c - a fixed pool of worker threads with a bounded FIFO queue. The
 * network loop hands blocking work (SQL, password hashing) to it and never
 * waits for it.
 */
#include <pthread.h>
#include <stdlib.h>

#include "core.h"

struct job {
    am_job_fn fn;
    void *arg;
};

struct am_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *ring;
    size_t cap, head, count;
    bool stopping;
    int nthreads;
    pthread_t *threads;
};

static void *worker_main(void *arg)
{
    struct am_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->count == 0 && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->count == 0 && p->stopping) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        struct job j = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        pthread_mutex_unlock(&p->mu);
        j.fn(j.arg);
    }
}

int am_pool_new(struct am_pool **out, int nthreads, size_t max_queue)
{
    if (nthreads < 1 || max_queue < 1)
        return AM_EINVAL;
    struct am_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return AM_ENOMEM;
    p->ring = calloc(max_queue, sizeof(*p->ring));
    p->threads = calloc((size_t)nthreads, sizeof(*p->threads));
    if (!p->ring || !p->threads) {
        free(p->ring);
        free(p->threads);
        free(p);
        return AM_ENOMEM;
    }
    p->cap = max_queue;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p)) {
            p->nthreads = i;
            am_pool_free(p);
            return AM_ENOMEM;
        }
    }
    p->nthreads = nthreads;
    *out = p;
    return 0;
}

int am_pool_submit(struct am_pool *p, am_job_fn fn, void *arg)
{
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        rc = AM_ECLOSED;
    } else if (p->count == p->cap) {
        rc = AM_EBUSY;
    } else {
        p->ring[(p->head + p->count) % p->cap] = (struct job){fn, arg};
        p->count++;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

size_t am_pool_queued(struct am_pool *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->count;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void am_pool_free(struct am_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->ring);
    free(p->threads);
    free(p);
}
