/* The durable work queue: items in LMDB with a state, run by worker threads per kind, settled by
 * their provider after a restart. Builds, deployments and pipeline work all run through it. */
#ifndef RT_QUEUE_H
#define RT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "persistence/store.h"
#include "providers/runtime/errors.h"

typedef struct rt_queue rt_queue;
typedef struct rt_task rt_task;

/* An item's state in STORE_DB_RT_QUEUE. Done is the absence of the record: the provider's own
 * record keeps the outcome, so finished items cost nothing. */
enum rt_state {
    RT_QUEUED = 1,  /* waiting for a worker (or for its run_at time) */
    RT_RUNNING = 2, /* a worker took it; after a restart it goes to the kind's settle */
};

#define RT_KIND_MAX 64 /* bytes of a kind, "codebuild.build"; no '/' */
#define RT_ID_MAX   256

/* An item as handed to run and settle: all pointers valid only during the call. */
struct rt_item {
    const char *kind;
    const char *id; /* unique within its kind (the provider's id: a build id "p:<uuid>") */
    const char *account;
    const char *region;
    const void *payload; /* the provider's bytes (often the key of its own record) */
    size_t payload_len;
    double enqueued_at; /* epoch seconds */
    double run_at;      /* not before this time (epoch seconds) */
    unsigned attempts;  /* how many times a worker has taken it, this one included */
};

/* What to enqueue. */
struct rt_item_spec {
    const char *kind;
    const char *id;
    const char *account;
    const char *region;
    const void *payload;
    size_t payload_len;
    double run_at; /* 0: now. A delayed item: an approval's expiry, a job's timeout */
};

/* What run returns. */
enum rt_task_result {
    RT_TASK_DONE = 0,    /* finished: the item is removed (if the provider has not done it) */
    RT_TASK_REQUEUE = 1, /* queued again, at the time given to rt_task_requeue_at (default now) */
    RT_TASK_LEAVE = 2,   /* left running (shutdown): settled at the next start */
};

/* Why a running item is asked to stop. */
enum rt_stop_reason {
    RT_STOP_NONE = 0,
    RT_STOP_CANCEL = 1,   /* rt_queue_cancel: StopBuild, StopDeployment, a stopped execution */
    RT_STOP_SHUTDOWN = 2, /* rt_queue_stop: the server is shutting down */
};

/* What settle decides for an item found running at start (its process died with the server). */
enum rt_settle_result {
    RT_SETTLE_DONE = 0,    /* the provider recorded the end ("interrupted by a restart of
                              codepipeline-local"); the item is removed */
    RT_SETTLE_REQUEUE = 1, /* resume: queued again and run now */
};

/* A kind of work and its provider's functions. ctx is the provider's. */
struct rt_kind {
    const char *kind;
    /* Runs the item on a worker thread of this kind, holding no transaction: it may open its own
     * (one write txn at a time per thread, as store.h says). It should end soon after
     * rt_task_stop_reason becomes non-zero, or register rt_task_on_stop to be woken (kill its
     * process group). Returns an rt_task_result. */
    int (*run)(void *ctx, const struct rt_item *item, rt_task *run);
    /* Called for each item left RT_RUNNING by a previous process, on the thread calling
     * rt_queue_register, before any worker of the kind starts. Must be idempotent: the provider may
     * already have recorded the end when the server died before the item was removed. Returns an
     * rt_settle_result. NULL: every such item is requeued. */
    int (*settle)(void *ctx, const struct rt_item *item);
    void *ctx;
    unsigned workers; /* threads of this kind, so the most items it runs at once (0: 1). CodeBuild
                         sets --max-builds here; builds beyond it wait RT_QUEUED */
};

/* Creates the queue over st (st outlives it). No thread starts until a kind is registered.
 * Returns the queue, or NULL when out of memory. Free with rt_queue_free. */
rt_queue *rt_queue_new(store *st);
/* Registers kind (copied; kind->kind at most RT_KIND_MAX - 1 bytes, registered once), settles
 * the kind's RT_RUNNING items from LMDB with kind->settle, loads its RT_QUEUED items and starts
 * its workers. Called by a provider's start. Returns 0, RT_EINVAL (bad or duplicate kind),
 * RT_ESTATE (the queue is stopping), RT_EIO or RT_EFULL. */
int rt_queue_register(rt_queue *q, const struct rt_kind *kind);

/* Writes a new RT_QUEUED item in t, the provider's own write txn, so that the item and the
 * provider's record commit together (no item without its record, no record without its item).
 * After the commit, call rt_queue_kick. q may be a queue whose kind is not registered yet (the
 * item runs once it is). Returns 0, RT_EINVAL (bad spec), 1 when (kind, id) already exists,
 * or STORE_FULL / STORE_ERROR. */
int rt_queue_add_in(rt_queue *q, store_txn *t, const struct rt_item_spec *spec);
/* Hands the committed item (kind, id) to its workers. Any thread, no txn held (it reads one).
 * Idempotent. Returns 0, RT_ENOITEM (no queued item: aborted, cancelled or already taken),
 * or RT_EIO. */
int rt_queue_kick(rt_queue *q, const char *kind, const char *id);
/* Runs a waiting item (kind, id) now rather than at its later time, and makes a running one that
 * requeues itself run again at once: for an external event that a run polls for (a build's end).
 * Not durable (after a restart the item runs at its recorded time). Any thread. Returns 0, or
 * RT_ENOITEM when the item is neither waiting nor running here. */
int rt_queue_wake(rt_queue *q, const char *kind, const char *id);
/* rt_queue_add_in in its own txn, then rt_queue_kick, for items with no record of their own.
 * Returns as rt_queue_add_in, RT_EIO for a failed commit. */
int rt_queue_add(rt_queue *q, const struct rt_item_spec *spec);

/* Removes item (kind, id) in t, the provider's write txn (a queued build that StopBuild ends, a
 * finished run that records its outcome and its end at once). Returns 0, STORE_NOTFOUND or
 * STORE_ERROR. A worker that takes a removed item skips it. */
int rt_queue_remove_in(store_txn *t, const char *kind, const char *id);
/* Reads the state of item (kind, id) in t. Returns 0 with *state, or STORE_NOTFOUND (done or
 * never queued) or STORE_ERROR. */
int rt_queue_state_in(store_txn *t, const char *kind, const char *id, enum rt_state *state);

/* What rt_queue_cancel found. */
#define RT_CANCEL_QUEUED                                                                           \
    0                       /* waiting: no worker will take it now; the caller records the end     \
                               and removes it with rt_queue_remove_in in one txn */
#define RT_CANCEL_RUNNING 1 /* running: its stop callback was called; run records the end */
/* Asks item (kind, id) to stop. Any thread, no txn needed. Returns RT_CANCEL_QUEUED,
 * RT_CANCEL_RUNNING, or RT_ENOITEM when this process has it neither waiting nor running. */
int rt_queue_cancel(rt_queue *q, const char *kind, const char *id);

/* Stops the queue: workers take no more items (queued ones stay RT_QUEUED in LMDB), running
 * items get RT_STOP_SHUTDOWN and their stop callbacks, and this waits up to grace_seconds for
 * them to return. Items still running then stay RT_RUNNING, to be settled at the next start.
 * Returns how many runs had not returned (0: all threads joined). One thread calls it; it may
 * call it again to wait longer. */
int rt_queue_stop(rt_queue *q, double grace_seconds);
/* Frees q after a stop that returned 0 (or when no kind was registered). After a stop that
 * returned more, threads still use q: do not free it (nor close the store); the process exits.
 * NULL is a no-op. */
void rt_queue_free(rt_queue *q);

/* ---- For run functions, on their worker thread (rt_task_on_stop: any thread) ---- */

/* Returns the rt_stop_reason asked of this run (RT_STOP_NONE while it should carry on). */
int rt_task_stop_reason(rt_task *run);
/* Sets fn to be called once with ctx and the reason when this run is asked to stop, on the
 * asking thread (keep it short: kill a process group, signal a condition). Called at once,
 * on this thread, when a stop was asked already. fn NULL clears it; once that returns, fn is
 * not running and will not be called. fn must not call rt_queue functions for this item. */
void rt_task_on_stop(rt_task *run, void (*fn)(void *ctx, int reason), void *ctx);
/* Waits up to seconds, or until a stop is asked. Returns the rt_stop_reason (0: time out). */
int rt_task_sleep(rt_task *run, double seconds);
/* Sets when a run that returns RT_TASK_REQUEUE runs again (epoch seconds; 0: now). */
void rt_task_requeue_at(rt_task *run, double when);

#endif
