/* The durable work queue: LMDB records keyed "<kind>/<id>", an in-memory list of waiting items per
 * kind rebuilt from them, and worker threads that move each item QUEUED -> RUNNING -> removed, one
 * write transaction per change. The records are the truth: the lists only say what to try. */
#include "providers/runtime/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RT_MAX_KINDS 16
#define KEY_MAX      (RT_KIND_MAX + RT_ID_MAX + 1)
#define REC_VERSION  1

/* The fixed head of a record; account, region and payload bytes follow. Read with memcpy (LMDB
 * values are not aligned). */
struct rec_head {
    uint32_t version;
    uint32_t state;
    uint64_t seq;
    double enqueued_at;
    double run_at;
    uint32_t attempts;
    uint32_t account_len;
    uint32_t region_len;
    uint32_t payload_len;
};

/* A waiting item of a lane. */
struct pending {
    char *id;
    double run_at;
    uint64_t seq;
};

struct rt_task {
    struct lane *lane;
    char id[RT_ID_MAX];
    pthread_mutex_t mu; /* guards the fields below; taken after q->mu when both are */
    pthread_cond_t cv;
    int stop_reason;
    void (*on_stop)(void *ctx, int reason);
    void *on_stop_ctx;
    double requeue_at;
    int woken;            /* rt_queue_wake came while it ran: a requeue runs at once (q->mu) */
    struct rt_task *next; /* in lane->running, under q->mu */
};

/* One kind: its functions, its waiting items in (run_at, seq) order, its runs and threads. */
struct lane {
    rt_queue *q;
    struct rt_kind k;
    char kind[RT_KIND_MAX];
    struct pending *pend;
    size_t n_pend, cap_pend;
    struct rt_task *running;
    pthread_t *threads;
    unsigned n_threads;
};

struct rt_queue {
    store *st;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* new work or stop, for the workers */
    pthread_cond_t cv_done; /* a worker thread ended, for rt_queue_stop */
    struct lane *lanes[RT_MAX_KINDS];
    int n_lanes;
    int stopping;
    int joined;
    unsigned live_threads;
    uint64_t seq; /* tie-break of equal run_at: enqueue order */
};

static double now_epoch(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timespec abs_time(double epoch)
{
    struct timespec ts;
    ts.tv_sec = (time_t)epoch;
    ts.tv_nsec = (long)((epoch - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    if (ts.tv_nsec < 0) ts.tv_nsec = 0;
    return ts;
}

/* Builds "<kind>/<id>"; returns its length, or -1 when kind or id is unusable. */
static int make_key(char key[KEY_MAX], const char *kind, const char *id)
{
    if (!kind || !id || !*kind || !*id || strchr(kind, '/')) return -1;
    size_t kl = strlen(kind), il = strlen(id);
    if (kl >= RT_KIND_MAX || il >= RT_ID_MAX) return -1;
    memcpy(key, kind, kl);
    key[kl] = '/';
    memcpy(key + kl + 1, id, il);
    return (int)(kl + 1 + il);
}

/* A decoded record: head plus a private copy of the bytes, valid until freed. */
struct rec {
    struct rec_head h;
    char *buf; /* account\0region\0payload */
    char *account, *region;
    void *payload;
};

/* Decodes val into r (copying). Returns 0, or STORE_ERROR for a malformed record. */
static int rec_decode(const void *val, size_t vlen, struct rec *r)
{
    memset(r, 0, sizeof *r);
    if (vlen < sizeof r->h) return STORE_ERROR;
    memcpy(&r->h, val, sizeof r->h);
    size_t rest = (size_t)r->h.account_len + r->h.region_len + r->h.payload_len;
    if (r->h.version != REC_VERSION || vlen != sizeof r->h + rest) return STORE_ERROR;
    r->buf = malloc(rest + 3);
    if (!r->buf) return STORE_ERROR;
    const char *p = (const char *)val + sizeof r->h;
    r->account = r->buf;
    memcpy(r->account, p, r->h.account_len);
    r->account[r->h.account_len] = '\0';
    r->region = r->account + r->h.account_len + 1;
    memcpy(r->region, p + r->h.account_len, r->h.region_len);
    r->region[r->h.region_len] = '\0';
    r->payload = r->region + r->h.region_len + 1;
    memcpy(r->payload, p + r->h.account_len + r->h.region_len, r->h.payload_len);
    return 0;
}

/* Encodes r into a malloc'd value; returns it with *vlen, or NULL. */
static void *rec_encode(const struct rec_head *h, const char *account, const char *region,
                        const void *payload, size_t *vlen)
{
    size_t n = sizeof *h + (size_t)h->account_len + h->region_len + h->payload_len;
    char *v = malloc(n);
    if (!v) return NULL;
    memcpy(v, h, sizeof *h);
    char *p = v + sizeof *h;
    memcpy(p, account, h->account_len);
    memcpy(p + h->account_len, region, h->region_len);
    if (h->payload_len) memcpy(p + h->account_len + h->region_len, payload, h->payload_len);
    *vlen = n;
    return v;
}

static void rec_free(struct rec *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* Rewrites the record of key with state and run_at (when >= 0) and attempts + bump, in its own
 * txn, only when its state is from. Returns 0, STORE_NOTFOUND (gone or in another state; r
 * untouched), or STORE_ERROR. On 0, r (may be NULL) receives the record as written. */
static int rec_transition(store *st, const char *key, size_t klen, uint32_t from, uint32_t to,
                          double run_at, unsigned bump, struct rec *r)
{
    store_txn *t = NULL;
    struct rec cur = {0};
    void *v = NULL;
    const void *val;
    size_t vlen;
    int rc = store_txn_begin(st, 1, &t);
    if (rc) goto out;
    rc = store_get(t, STORE_DB_RT_QUEUE, key, klen, &val, &vlen);
    if (rc) goto out;
    rc = rec_decode(val, vlen, &cur);
    if (rc) goto out;
    if (cur.h.state != from) {
        rc = STORE_NOTFOUND;
        goto out;
    }
    cur.h.state = to;
    cur.h.attempts += bump;
    if (run_at >= 0) cur.h.run_at = run_at;
    v = rec_encode(&cur.h, cur.account, cur.region, cur.payload, &vlen);
    rc = v ? store_put(t, STORE_DB_RT_QUEUE, key, klen, v, vlen) : STORE_ERROR;
    if (rc) goto out;
    rc = store_txn_commit(t);
    t = NULL;
    if (rc == 0 && r) {
        *r = cur;
        cur.buf = NULL;
    }
out:
    store_txn_abort(t);
    free(v);
    rec_free(&cur);
    return rc;
}

/* Deletes the record of key in its own txn; a missing record is fine. Returns 0 or STORE_ERROR. */
static int rec_delete(store *st, const char *key, size_t klen)
{
    store_txn *t = NULL;
    int rc = store_txn_begin(st, 1, &t);
    if (rc) return rc;
    rc = store_del(t, STORE_DB_RT_QUEUE, key, klen);
    if (rc == STORE_NOTFOUND) {
        store_txn_abort(t);
        return 0;
    }
    if (rc) {
        store_txn_abort(t);
        return rc;
    }
    return store_txn_commit(t);
}

static void item_from_rec(struct rt_item *it, const struct lane *l, const char *id,
                          const struct rec *r)
{
    it->kind = l->kind;
    it->id = id;
    it->account = r->account;
    it->region = r->region;
    it->payload = r->payload;
    it->payload_len = r->h.payload_len;
    it->enqueued_at = r->h.enqueued_at;
    it->run_at = r->h.run_at;
    it->attempts = r->h.attempts;
}

/* ---- lanes (under q->mu) ---- */

static struct lane *lane_find(rt_queue *q, const char *kind)
{
    for (int i = 0; i < q->n_lanes; i++)
        if (strcmp(q->lanes[i]->kind, kind) == 0) return q->lanes[i];
    return NULL;
}

/* True when id waits in l or runs there. */
static int lane_has(const struct lane *l, const char *id)
{
    for (size_t i = 0; i < l->n_pend; i++)
        if (strcmp(l->pend[i].id, id) == 0) return 1;
    for (const struct rt_task *r = l->running; r; r = r->next)
        if (strcmp(r->id, id) == 0) return 1;
    return 0;
}

/* Inserts id in (run_at, seq) order unless the lane has it already. Returns 0 or RT_EIO
 * (memory). */
static int lane_push(struct lane *l, const char *id, double run_at, uint64_t seq)
{
    if (lane_has(l, id)) return 0;
    if (l->n_pend == l->cap_pend) {
        size_t cap = l->cap_pend ? l->cap_pend * 2 : 16;
        struct pending *p = realloc(l->pend, cap * sizeof *p);
        if (!p) return RT_EIO;
        l->pend = p;
        l->cap_pend = cap;
    }
    char *copy = strdup(id);
    if (!copy) return RT_EIO;
    size_t i = l->n_pend;
    while (i > 0 && (l->pend[i - 1].run_at > run_at ||
                     (l->pend[i - 1].run_at == run_at && l->pend[i - 1].seq > seq)))
        i--;
    memmove(&l->pend[i + 1], &l->pend[i], (l->n_pend - i) * sizeof *l->pend);
    l->pend[i] = (struct pending){copy, run_at, seq};
    l->n_pend++;
    pthread_cond_broadcast(&l->q->cv);
    return 0;
}

static void lane_pop_at(struct lane *l, size_t i)
{
    free(l->pend[i].id);
    memmove(&l->pend[i], &l->pend[i + 1], (l->n_pend - i - 1) * sizeof *l->pend);
    l->n_pend--;
}

static void run_stop(struct rt_task *r, int reason)
{
    pthread_mutex_lock(&r->mu);
    if (!r->stop_reason) {
        r->stop_reason = reason;
        if (r->on_stop) r->on_stop(r->on_stop_ctx, reason);
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

/* ---- workers ---- */

/* Takes, runs and records one item that the lane's list named. */
static void work_one(struct lane *l, struct rt_task *run)
{
    rt_queue *q = l->q;
    char key[KEY_MAX];
    int klen = make_key(key, l->kind, run->id);
    struct rec r = {0};
    if (klen < 0) return;
    /* The write txn is where two workers would meet: only one sees RT_QUEUED. */
    if (rec_transition(q->st, key, (size_t)klen, RT_QUEUED, RT_RUNNING, -1, 1, &r) != 0) return;
    struct rt_item it;
    item_from_rec(&it, l, run->id, &r);
    int res = l->k.run(l->k.ctx, &it, run);
    rt_task_on_stop(run, NULL, NULL);
    if (res == RT_TASK_REQUEUE) {
        double at = run->requeue_at > 0 ? run->requeue_at : now_epoch();
        if (rec_transition(q->st, key, (size_t)klen, RT_RUNNING, RT_QUEUED, at, 0, NULL) == 0) {
            pthread_mutex_lock(&q->mu);
            /* Let go of this run before the item is back on the list: another worker may take it
             * and requeue it before this one returns, and would find this run still there. */
            for (struct rt_task **p = &l->running; *p; p = &(*p)->next) {
                if (*p == run) {
                    *p = run->next;
                    break;
                }
            }
            if (run->woken)
                at = now_epoch(); /* LMDB keeps the later time: only a restart reads it */
            /* While stopping it stays RT_QUEUED in LMDB for the next start. */
            if (!q->stopping) lane_push(l, run->id, at, r.h.seq);
            pthread_mutex_unlock(&q->mu);
        }
    } else if (res != RT_TASK_LEAVE) {
        if (rec_delete(q->st, key, (size_t)klen) != 0)
            fprintf(stderr, "runtime: cannot remove finished item %s\n", key);
    }
    rec_free(&r);
}

static void *worker_main(void *arg)
{
    struct lane *l = arg;
    rt_queue *q = l->q;
    pthread_mutex_lock(&q->mu);
    while (!q->stopping) {
        if (!l->n_pend) {
            pthread_cond_wait(&q->cv, &q->mu);
            continue;
        }
        double at = l->pend[0].run_at;
        if (at > now_epoch()) {
            struct timespec ts = abs_time(at);
            pthread_cond_timedwait(&q->cv, &q->mu, &ts);
            continue;
        }
        struct rt_task *run = calloc(1, sizeof *run);
        if (!run) {
            struct timespec ts = abs_time(now_epoch() + 0.1);
            pthread_cond_timedwait(&q->cv, &q->mu, &ts);
            continue;
        }
        run->lane = l;
        snprintf(run->id, sizeof run->id, "%s", l->pend[0].id);
        pthread_mutex_init(&run->mu, NULL);
        pthread_cond_init(&run->cv, NULL);
        lane_pop_at(l, 0);
        run->next = l->running;
        l->running = run;
        pthread_mutex_unlock(&q->mu);

        work_one(l, run);

        pthread_mutex_lock(&q->mu);
        for (struct rt_task **p = &l->running; *p; p = &(*p)->next) {
            if (*p == run) {
                *p = run->next;
                break;
            }
        }
        pthread_mutex_destroy(&run->mu);
        pthread_cond_destroy(&run->cv);
        free(run);
    }
    q->live_threads--;
    pthread_cond_broadcast(&q->cv_done);
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* ---- the interface ---- */

rt_queue *rt_queue_new(store *st)
{
    rt_queue *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->st = st;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    pthread_cond_init(&q->cv_done, NULL);
    /* Microseconds since the epoch: later enqueues sort after earlier ones across restarts. */
    q->seq = (uint64_t)(now_epoch() * 1e6);
    return q;
}

/* One record found by the start-up scan. */
struct found {
    char id[RT_ID_MAX];
    struct rec r;
};

/* Reads every record of l's kind. Returns 0 with a malloc'd array in *out, or RT_EIO. */
static int scan_kind(rt_queue *q, struct lane *l, struct found **out, size_t *n_out)
{
    char prefix[RT_KIND_MAX + 1];
    size_t plen = (size_t)snprintf(prefix, sizeof prefix, "%s/", l->kind);
    store_txn *t = NULL;
    store_cursor *c = NULL;
    struct found *f = NULL;
    size_t n = 0, cap = 0;
    int rc = RT_EIO;
    if (store_txn_begin(q->st, 0, &t) || store_cursor_open(t, STORE_DB_RT_QUEUE, &c)) goto out;
    for (int more = store_cursor_seek(c, prefix, plen) == 0; more;
         more = store_cursor_next(c) == 0) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (kl < plen || memcmp(k, prefix, plen) != 0) break;
        if (kl - plen >= RT_ID_MAX) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct found *nf = realloc(f, cap * sizeof *nf);
            if (!nf) goto out;
            f = nf;
        }
        memcpy(f[n].id, (const char *)k + plen, kl - plen);
        f[n].id[kl - plen] = '\0';
        if (rec_decode(v, vl, &f[n].r) != 0) {
            fprintf(stderr, "runtime: skipping malformed queue item %s%s\n", prefix, f[n].id);
            continue;
        }
        n++;
    }
    rc = 0;
out:
    store_cursor_close(c);
    store_txn_abort(t);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            rec_free(&f[i].r);
        free(f);
        f = NULL;
        n = 0;
    }
    *out = f;
    *n_out = n;
    return rc;
}

int rt_queue_register(rt_queue *q, const struct rt_kind *kind)
{
    if (!kind || !kind->kind || !*kind->kind || strlen(kind->kind) >= RT_KIND_MAX ||
        strchr(kind->kind, '/') || !kind->run)
        return RT_EINVAL;
    struct lane *l = calloc(1, sizeof *l);
    if (!l) return RT_EIO;
    l->q = q;
    l->k = *kind;
    snprintf(l->kind, sizeof l->kind, "%s", kind->kind);
    l->k.kind = l->kind;
    l->n_threads = kind->workers ? kind->workers : 1;
    l->threads = calloc(l->n_threads, sizeof *l->threads);
    if (!l->threads) {
        free(l);
        return RT_EIO;
    }
    pthread_mutex_lock(&q->mu);
    int rc = q->stopping                  ? RT_ESTATE
             : lane_find(q, l->kind)      ? RT_EINVAL
             : q->n_lanes == RT_MAX_KINDS ? RT_EFULL
                                          : 0;
    if (!rc) q->lanes[q->n_lanes++] = l;
    pthread_mutex_unlock(&q->mu);
    if (rc) {
        free(l->threads);
        free(l);
        return rc;
    }

    /* Settle and load what a previous process left; kicks that race with this are deduplicated
     * by lane_push, and the RT_QUEUED check of work_one keeps any item from running twice. */
    struct found *f;
    size_t n;
    rc = scan_kind(q, l, &f, &n);
    for (size_t i = 0; i < n; i++) {
        char key[KEY_MAX];
        int klen = make_key(key, l->kind, f[i].id);
        struct rec *r = &f[i].r;
        if (!rc && klen > 0 && r->h.state == RT_RUNNING) {
            struct rt_item it;
            item_from_rec(&it, l, f[i].id, r);
            int s = l->k.settle ? l->k.settle(l->k.ctx, &it) : RT_SETTLE_REQUEUE;
            if (s == RT_SETTLE_REQUEUE) {
                r->h.run_at = now_epoch();
                if (rec_transition(q->st, key, (size_t)klen, RT_RUNNING, RT_QUEUED, r->h.run_at, 0,
                                   NULL) == 0)
                    r->h.state = RT_QUEUED;
            } else if (rec_delete(q->st, key, (size_t)klen) != 0) {
                rc = RT_EIO;
            }
        }
        if (!rc && r->h.state == RT_QUEUED) {
            pthread_mutex_lock(&q->mu);
            rc = lane_push(l, f[i].id, r->h.run_at, r->h.seq);
            pthread_mutex_unlock(&q->mu);
        }
        rec_free(r);
    }
    free(f);
    if (rc) return rc; /* the lane stays, without threads: its items wait for the next start */

    pthread_mutex_lock(&q->mu);
    for (unsigned i = 0; i < l->n_threads; i++) {
        if (pthread_create(&l->threads[i], NULL, worker_main, l) != 0) {
            l->n_threads = i;
            rc = RT_EIO;
            break;
        }
        q->live_threads++;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int rt_queue_add_in(rt_queue *q, store_txn *t, const struct rt_item_spec *spec)
{
    char key[KEY_MAX];
    int klen = make_key(key, spec->kind, spec->id);
    if (klen < 0 || !spec->account || !spec->region || (spec->payload_len && !spec->payload) ||
        spec->payload_len > UINT32_MAX / 2)
        return RT_EINVAL;
    double now = now_epoch();
    struct rec_head h = {.version = REC_VERSION,
                         .state = RT_QUEUED,
                         .seq = __atomic_add_fetch(&q->seq, 1, __ATOMIC_RELAXED),
                         .enqueued_at = now,
                         .run_at = spec->run_at > 0 ? spec->run_at : now,
                         .account_len = (uint32_t)strlen(spec->account),
                         .region_len = (uint32_t)strlen(spec->region),
                         .payload_len = (uint32_t)spec->payload_len};
    size_t vlen;
    void *v = rec_encode(&h, spec->account, spec->region, spec->payload, &vlen);
    if (!v) return STORE_ERROR;
    int rc = store_put_new(t, STORE_DB_RT_QUEUE, key, (size_t)klen, v, vlen);
    free(v);
    return rc;
}

int rt_queue_kick(rt_queue *q, const char *kind, const char *id)
{
    char key[KEY_MAX];
    int klen = make_key(key, kind, id);
    if (klen < 0) return RT_ENOITEM;
    store_txn *t = NULL;
    const void *val;
    size_t vlen;
    struct rec r = {0};
    if (store_txn_begin(q->st, 0, &t)) return RT_EIO;
    int rc = store_get(t, STORE_DB_RT_QUEUE, key, (size_t)klen, &val, &vlen);
    if (rc == 0) rc = rec_decode(val, vlen, &r);
    store_txn_abort(t);
    if (rc) return rc == STORE_NOTFOUND ? RT_ENOITEM : RT_EIO;
    if (r.h.state != RT_QUEUED) {
        rc = RT_ENOITEM;
    } else {
        pthread_mutex_lock(&q->mu);
        struct lane *l = lane_find(q, kind);
        /* An unregistered kind's item is loaded when it registers; a stopping queue leaves it. */
        if (l && !q->stopping) rc = lane_push(l, id, r.h.run_at, r.h.seq);
        pthread_mutex_unlock(&q->mu);
    }
    rec_free(&r);
    return rc;
}

int rt_queue_wake(rt_queue *q, const char *kind, const char *id)
{
    int rc = RT_ENOITEM;
    pthread_mutex_lock(&q->mu);
    struct lane *l = lane_find(q, kind);
    for (size_t i = 0; l && i < l->n_pend && rc; i++) {
        if (strcmp(l->pend[i].id, id) != 0) continue;
        rc = 0;
        double now = now_epoch();
        if (l->pend[i].run_at <= now) break;
        uint64_t seq = l->pend[i].seq;
        lane_pop_at(l, i);
        if (!q->stopping) rc = lane_push(l, id, now, seq);
    }
    for (struct rt_task *r = l ? l->running : NULL; r && rc; r = r->next) {
        if (strcmp(r->id, id) != 0) continue;
        r->woken = 1;
        rc = 0;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int rt_queue_add(rt_queue *q, const struct rt_item_spec *spec)
{
    store_txn *t = NULL;
    if (store_txn_begin(q->st, 1, &t)) return RT_EIO;
    int rc = rt_queue_add_in(q, t, spec);
    if (rc) {
        store_txn_abort(t);
        return rc;
    }
    if (store_txn_commit(t)) return RT_EIO;
    rc = rt_queue_kick(q, spec->kind, spec->id);
    return rc == RT_ENOITEM ? 0 : rc; /* a worker may already have taken it */
}

int rt_queue_remove_in(store_txn *t, const char *kind, const char *id)
{
    char key[KEY_MAX];
    int klen = make_key(key, kind, id);
    if (klen < 0) return STORE_NOTFOUND;
    return store_del(t, STORE_DB_RT_QUEUE, key, (size_t)klen);
}

int rt_queue_state_in(store_txn *t, const char *kind, const char *id, enum rt_state *state)
{
    char key[KEY_MAX];
    int klen = make_key(key, kind, id);
    if (klen < 0) return STORE_NOTFOUND;
    const void *val;
    size_t vlen;
    struct rec_head h;
    int rc = store_get(t, STORE_DB_RT_QUEUE, key, (size_t)klen, &val, &vlen);
    if (rc) return rc;
    if (vlen < sizeof h) return STORE_ERROR;
    memcpy(&h, val, sizeof h);
    *state = (enum rt_state)h.state;
    return 0;
}

int rt_queue_cancel(rt_queue *q, const char *kind, const char *id)
{
    int rc = RT_ENOITEM;
    pthread_mutex_lock(&q->mu);
    struct lane *l = kind && id ? lane_find(q, kind) : NULL;
    if (l) {
        for (size_t i = 0; i < l->n_pend; i++) {
            if (strcmp(l->pend[i].id, id) == 0) {
                lane_pop_at(l, i);
                rc = RT_CANCEL_QUEUED;
                break;
            }
        }
        for (struct rt_task *r = l->running; r && rc == RT_ENOITEM; r = r->next) {
            if (strcmp(r->id, id) == 0) {
                run_stop(r, RT_STOP_CANCEL);
                rc = RT_CANCEL_RUNNING;
            }
        }
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int rt_queue_stop(rt_queue *q, double grace_seconds)
{
    double deadline = now_epoch() + grace_seconds;
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    for (int i = 0; i < q->n_lanes; i++)
        for (struct rt_task *r = q->lanes[i]->running; r; r = r->next)
            run_stop(r, RT_STOP_SHUTDOWN);
    pthread_cond_broadcast(&q->cv);
    while (q->live_threads > 0) {
        struct timespec ts = abs_time(deadline);
        if (pthread_cond_timedwait(&q->cv_done, &q->mu, &ts) == ETIMEDOUT) break;
    }
    int left = 0;
    for (int i = 0; i < q->n_lanes; i++)
        for (struct rt_task *r = q->lanes[i]->running; r; r = r->next)
            left++;
    if (q->live_threads > 0 && !left) left = 1;
    pthread_mutex_unlock(&q->mu);
    if (left || q->joined) return left;
    q->joined = 1;
    for (int i = 0; i < q->n_lanes; i++)
        for (unsigned j = 0; j < q->lanes[i]->n_threads; j++)
            pthread_join(q->lanes[i]->threads[j], NULL);
    return 0;
}

void rt_queue_free(rt_queue *q)
{
    if (!q) return;
    for (int i = 0; i < q->n_lanes; i++) {
        struct lane *l = q->lanes[i];
        for (size_t j = 0; j < l->n_pend; j++)
            free(l->pend[j].id);
        free(l->pend);
        free(l->threads);
        free(l);
    }
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    pthread_cond_destroy(&q->cv_done);
    free(q);
}

int rt_task_stop_reason(rt_task *run)
{
    pthread_mutex_lock(&run->mu);
    int r = run->stop_reason;
    pthread_mutex_unlock(&run->mu);
    return r;
}

void rt_task_on_stop(rt_task *run, void (*fn)(void *ctx, int reason), void *ctx)
{
    pthread_mutex_lock(&run->mu);
    run->on_stop = fn;
    run->on_stop_ctx = ctx;
    if (fn && run->stop_reason) fn(ctx, run->stop_reason);
    pthread_mutex_unlock(&run->mu);
}

int rt_task_sleep(rt_task *run, double seconds)
{
    struct timespec ts = abs_time(now_epoch() + seconds);
    pthread_mutex_lock(&run->mu);
    while (!run->stop_reason)
        if (pthread_cond_timedwait(&run->cv, &run->mu, &ts) == ETIMEDOUT) break;
    int r = run->stop_reason;
    pthread_mutex_unlock(&run->mu);
    return r;
}

void rt_task_requeue_at(rt_task *run, double when)
{
    run->requeue_at = when;
}
