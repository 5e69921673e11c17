/* Unit tests of the durable work queue and the listener list. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "providers/runtime/listeners.h"
#include "providers/runtime/queue.h"

static char dir[64];
static store *st;

static void open_store(void)
{
    char err[256];
    struct store_options o;
    memset(&o, 0, sizeof o);
    o.dir = dir;
    o.map_size = 64 << 20;
    o.no_sync = 1;
    cr_assert_eq(store_open(&o, &st, err, sizeof err), 0, "%s", err);
}

static void setup(void)
{
    strcpy(dir, "/tmp/rt-queue-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    open_store();
}

static void teardown(void)
{
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)system(cmd);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Polls cond for up to 60 s (the machine is loaded, and ASan is slow). */
#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        double until_ = now() + 60;                                                                \
        while (!(cond) && now() < until_)                                                          \
            usleep(2000);                                                                          \
        cr_assert((cond), "timed out waiting for " #cond);                                         \
    } while (0)

/* The state of (kind, id) in LMDB: RT_QUEUED, RT_RUNNING, or 0 when the record is gone. */
static int state_of(const char *kind, const char *id)
{
    store_txn *t;
    enum rt_state s;
    cr_assert_eq(store_txn_begin(st, 0, &t), 0);
    int rc = rt_queue_state_in(t, kind, id, &s);
    store_txn_abort(t);
    if (rc == STORE_NOTFOUND) return 0;
    cr_assert_eq(rc, 0);
    return (int)s;
}

static struct rt_item_spec spec(const char *kind, const char *id, const char *payload)
{
    struct rt_item_spec s = {.kind = kind,
                             .id = id,
                             .account = "000000000000",
                             .region = "us-east-1",
                             .payload = payload,
                             .payload_len = payload ? strlen(payload) : 0};
    return s;
}

/* ---- what the test kinds record ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int runs, settles;
static char last_run_id[64], last_settle_id[64], last_settle_payload[64], last_settle_account[16];
static unsigned last_settle_attempts;
static int run_state_seen; /* the item's LMDB state seen from inside run */

static int run_record(void *ctx, const struct rt_item *it, rt_task *run)
{
    (void)ctx;
    (void)run;
    int s = state_of(it->kind, it->id);
    pthread_mutex_lock(&mu);
    snprintf(last_run_id, sizeof last_run_id, "%s", it->id);
    run_state_seen = s;
    runs++;
    pthread_mutex_unlock(&mu);
    return RT_TASK_DONE;
}

static int settle_record(void *ctx, const struct rt_item *it)
{
    pthread_mutex_lock(&mu);
    snprintf(last_settle_id, sizeof last_settle_id, "%s", it->id);
    snprintf(last_settle_payload, sizeof last_settle_payload, "%.*s", (int)it->payload_len,
             (const char *)it->payload);
    snprintf(last_settle_account, sizeof last_settle_account, "%s", it->account);
    last_settle_attempts = it->attempts;
    settles++;
    pthread_mutex_unlock(&mu);
    return ctx ? RT_SETTLE_REQUEUE : RT_SETTLE_DONE;
}

static int count(int *v)
{
    pthread_mutex_lock(&mu);
    int n = *v;
    pthread_mutex_unlock(&mu);
    return n;
}

/* ---- kill -9 ---- */

static int child_pipe[2];

/* In the child: tells the parent it runs, then blocks until killed. */
static int run_and_hang(void *ctx, const struct rt_item *it, rt_task *run)
{
    (void)ctx;
    (void)it;
    (void)run;
    char c = 'r';
    if (write(child_pipe[1], &c, 1) != 1) _exit(3);
    for (;;)
        pause();
    return RT_TASK_DONE;
}

/* Forks a child that opens the store, enqueues build-1 and, when start_it, runs it until the
 * parent kills it with SIGKILL once the run has begun; otherwise the child kills itself right
 * after the commit. The parent's store is closed meanwhile and reopened after. */
static void child_enqueues_and_dies(int start_it)
{
    store_close(st);
    st = NULL;
    cr_assert_eq(pipe(child_pipe), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        open_store();
        rt_queue *q = rt_queue_new(st);
        struct rt_item_spec s = spec("codebuild.build", "p:build-1", "payload-1");
        if (rt_queue_add(q, &s) != 0) _exit(2);
        if (start_it) {
            struct rt_kind k = {.kind = "codebuild.build", .run = run_and_hang, .workers = 2};
            if (rt_queue_register(q, &k) != 0) _exit(2);
            for (;;)
                pause();
        }
        raise(SIGKILL);
        _exit(4);
    }
    if (start_it) {
        char c;
        cr_assert_eq(read(child_pipe[0], &c, 1), 1, "the child never ran the item");
        kill(pid, SIGKILL);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
    close(child_pipe[0]);
    close(child_pipe[1]);
    open_store();
}

Test(rt_queue, a_queued_item_survives_kill_9_and_runs_at_start, .init = setup, .fini = teardown)
{
    child_enqueues_and_dies(0);
    cr_assert_eq(state_of("codebuild.build", "p:build-1"), RT_QUEUED);
    rt_queue *q = rt_queue_new(st);
    struct rt_kind k = {.kind = "codebuild.build", .run = run_record, .settle = settle_record};
    cr_assert_eq(rt_queue_register(q, &k), 0);
    WAIT_FOR(count(&runs) == 1);
    cr_assert_eq(count(&settles), 0);
    cr_assert_str_eq(last_run_id, "p:build-1");
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    rt_queue_free(q);
    cr_assert_eq(state_of("codebuild.build", "p:build-1"), 0);
}

Test(rt_queue, an_item_running_at_kill_9_is_settled_at_start, .init = setup, .fini = teardown)
{
    child_enqueues_and_dies(1);
    cr_assert_eq(state_of("codebuild.build", "p:build-1"), RT_RUNNING);
    rt_queue *q = rt_queue_new(st);
    struct rt_kind k = {.kind = "codebuild.build", .run = run_record, .settle = settle_record};
    cr_assert_eq(rt_queue_register(q, &k), 0);
    /* Settled before register returns, and the provider's DONE removes the item. */
    cr_assert_eq(count(&settles), 1);
    cr_assert_str_eq(last_settle_id, "p:build-1");
    cr_assert_str_eq(last_settle_payload, "payload-1");
    cr_assert_str_eq(last_settle_account, "000000000000");
    cr_assert_eq(last_settle_attempts, 1);
    cr_assert_eq(state_of("codebuild.build", "p:build-1"), 0);
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    rt_queue_free(q);
    cr_assert_eq(count(&runs), 0);
}

Test(rt_queue, a_settle_that_resumes_runs_the_item_again, .init = setup, .fini = teardown)
{
    child_enqueues_and_dies(1);
    rt_queue *q = rt_queue_new(st);
    struct rt_kind k = {
        .kind = "codebuild.build", .run = run_record, .settle = settle_record, .ctx = &k};
    cr_assert_eq(rt_queue_register(q, &k), 0);
    cr_assert_eq(count(&settles), 1);
    WAIT_FOR(count(&runs) == 1);
    cr_assert_eq(run_state_seen, RT_RUNNING);
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    rt_queue_free(q);
    cr_assert_eq(state_of("codebuild.build", "p:build-1"), 0);
}

/* ---- concurrency ---- */

#define N_ITEMS 300
static int taken[N_ITEMS];

static int run_count(void *ctx, const struct rt_item *it, rt_task *run)
{
    (void)ctx;
    (void)run;
    int i = atoi(it->id + 5);
    pthread_mutex_lock(&mu);
    taken[i]++;
    runs++;
    pthread_mutex_unlock(&mu);
    return RT_TASK_DONE;
}

struct adder {
    rt_queue *q;
    int from, to;
};

static int add_failures;

/* Enqueues item-<from>..item-<to - 1> (asserts stay on the main thread: failures are counted). */
static void *add_range(void *arg)
{
    struct adder *a = arg;
    for (int i = a->from; i < a->to; i++) {
        char id[32];
        snprintf(id, sizeof id, "item-%d", i);
        struct rt_item_spec s = spec("engine.step", id, NULL);
        if (rt_queue_add(a->q, &s) != 0) __atomic_add_fetch(&add_failures, 1, __ATOMIC_RELAXED);
        rt_queue_kick(a->q, "engine.step", id); /* a second kick changes nothing */
    }
    return NULL;
}

Test(rt_queue, two_workers_never_take_the_same_item, .init = setup, .fini = teardown)
{
    rt_queue *q = rt_queue_new(st);
    /* Half the items wait in LMDB before the kind registers, half arrive while it runs. */
    struct adder first = {q, 0, N_ITEMS / 2};
    add_range(&first);
    struct rt_kind k = {.kind = "engine.step", .run = run_count, .workers = 8};
    cr_assert_eq(rt_queue_register(q, &k), 0);
    pthread_t th[3];
    struct adder rest[3];
    for (int i = 0; i < 3; i++) {
        rest[i] = (struct adder){q, N_ITEMS / 2 + i * (N_ITEMS / 6),
                                 N_ITEMS / 2 + (i + 1) * (N_ITEMS / 6)};
        pthread_create(&th[i], NULL, add_range, &rest[i]);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(add_failures, 0);
    WAIT_FOR(count(&runs) >= N_ITEMS);
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    rt_queue_free(q);
    cr_assert_eq(runs, N_ITEMS);
    for (int i = 0; i < N_ITEMS; i++)
        cr_assert_eq(taken[i], 1, "item %d ran %d times", i, taken[i]);
    /* A duplicate id is refused. */
    q = rt_queue_new(st);
    struct rt_item_spec s = spec("engine.step", "dup", NULL);
    cr_assert_eq(rt_queue_add(q, &s), 0);
    cr_assert_eq(rt_queue_add(q, &s), 1);
    rt_queue_free(q);
}

/* ---- stop and cancel ---- */

static int stops_seen[3];

/* Waits for a stop (60 s at most) and says so: a shutdown leaves the item for the next start. */
static int run_until_stopped(void *ctx, const struct rt_item *it, rt_task *run)
{
    (void)ctx;
    (void)it;
    pthread_mutex_lock(&mu);
    runs++;
    pthread_mutex_unlock(&mu);
    int why = rt_task_sleep(run, 60);
    pthread_mutex_lock(&mu);
    stops_seen[why]++;
    pthread_mutex_unlock(&mu);
    return why == RT_STOP_SHUTDOWN ? RT_TASK_LEAVE : RT_TASK_DONE;
}

Test(rt_queue, stop_drains_running_items_within_the_grace, .init = setup, .fini = teardown)
{
    rt_queue *q = rt_queue_new(st);
    struct rt_kind k = {.kind = "codedeploy.deployment", .run = run_until_stopped, .workers = 3};
    cr_assert_eq(rt_queue_register(q, &k), 0);
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "d-%d", i);
        struct rt_item_spec s = spec(k.kind, id, NULL);
        cr_assert_eq(rt_queue_add(q, &s), 0);
    }
    WAIT_FOR(count(&runs) == 3);
    double t0 = now();
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    cr_assert_lt(now() - t0, 20.0, "stop waited for the runs' own 60 s");
    rt_queue_free(q);
    cr_assert_eq(stops_seen[RT_STOP_SHUTDOWN], 3);
    /* The three left running wait for their settle; the two never taken are still queued. */
    int running = 0, queued = 0;
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "d-%d", i);
        int s = state_of(k.kind, id);
        running += s == RT_RUNNING;
        queued += s == RT_QUEUED;
    }
    cr_assert_eq(running, 3);
    cr_assert_eq(queued, 2);
}

static volatile int stubborn_release;

static int run_ignoring_stop(void *ctx, const struct rt_item *it, rt_task *run)
{
    (void)ctx;
    (void)it;
    (void)run;
    pthread_mutex_lock(&mu);
    runs++;
    pthread_mutex_unlock(&mu);
    while (!__atomic_load_n(&stubborn_release, __ATOMIC_ACQUIRE))
        usleep(1000);
    return RT_TASK_DONE;
}

Test(rt_queue, stop_gives_up_after_the_grace_and_leaves_the_item_running, .init = setup,
     .fini = teardown)
{
    rt_queue *q = rt_queue_new(st);
    struct rt_kind k = {.kind = "codebuild.build", .run = run_ignoring_stop};
    cr_assert_eq(rt_queue_register(q, &k), 0);
    struct rt_item_spec s = spec(k.kind, "p:stubborn", NULL);
    cr_assert_eq(rt_queue_add(q, &s), 0);
    WAIT_FOR(count(&runs) == 1);
    double t0 = now();
    cr_assert_eq(rt_queue_stop(q, 0.2), 1);
    cr_assert_geq(now() - t0, 0.2);
    cr_assert_eq(state_of(k.kind, "p:stubborn"), RT_RUNNING);
    /* Released, it ends, and a second stop joins the workers. */
    __atomic_store_n(&stubborn_release, 1, __ATOMIC_RELEASE);
    cr_assert_eq(rt_queue_stop(q, 60), 0);
    rt_queue_free(q);
}

static void on_stop_flag(void *ctx, int reason)
{
    *(int *)ctx = reason;
}

static int stop_cb_reason;

static int run_with_stop_callback(void *ctx, const struct rt_item *it, rt_task *run)
{
    (void)ctx;
    (void)it;
    rt_task_on_stop(run, on_stop_flag, &stop_cb_reason);
    return run_until_stopped(ctx, it, run);
}

Test(rt_queue, cancel_stops_a_running_item_and_unqueues_a_waiting_one, .init = setup,
     .fini = teardown)
{
    rt_queue *q = rt_queue_new(st);
    struct rt_kind k = {.kind = "codebuild.build", .run = run_with_stop_callback};
    cr_assert_eq(rt_queue_register(q, &k), 0);
    struct rt_item_spec s = spec(k.kind, "p:running", NULL);
    cr_assert_eq(rt_queue_add(q, &s), 0);
    /* One worker: this one waits behind the first. */
    struct rt_item_spec w = spec(k.kind, "p:waiting", NULL);
    cr_assert_eq(rt_queue_add(q, &w), 0);
    WAIT_FOR(count(&runs) == 1);

    cr_assert_eq(rt_queue_cancel(q, k.kind, "p:waiting"), RT_CANCEL_QUEUED);
    /* The provider records the end and removes the item in one txn. */
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(rt_queue_remove_in(t, k.kind, "p:waiting"), 0);
    cr_assert_eq(store_txn_commit(t), 0);

    cr_assert_eq(rt_queue_cancel(q, k.kind, "p:running"), RT_CANCEL_RUNNING);
    WAIT_FOR(state_of(k.kind, "p:running") == 0);
    cr_assert_eq(stop_cb_reason, RT_STOP_CANCEL);
    cr_assert_eq(count(&stops_seen[RT_STOP_CANCEL]), 1);
    /* The worker lets go of the task just after the record is gone: a cancel then finds nothing. */
    WAIT_FOR(rt_queue_cancel(q, k.kind, "p:running") == RT_ENOITEM);
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    rt_queue_free(q);
    cr_assert_eq(runs, 1, "the cancelled waiting item ran");
}

/* ---- persisted states and delays ---- */

static double ran_at;

static int run_twice(void *ctx, const struct rt_item *it, rt_task *run)
{
    (void)ctx;
    pthread_mutex_lock(&mu);
    runs++;
    ran_at = now();
    pthread_mutex_unlock(&mu);
    run_state_seen = state_of(it->kind, it->id);
    if (it->attempts == 1) {
        rt_task_requeue_at(run, now() + 3600);
        return RT_TASK_REQUEUE;
    }
    return RT_TASK_DONE;
}

Test(rt_queue, state_changes_are_persisted_and_delayed_items_wait, .init = setup, .fini = teardown)
{
    rt_queue *q = rt_queue_new(st);
    struct rt_item_spec s = spec("codepipeline.approval", "exec-1/approve", "token");
    double at = now() + 0.5;
    s.run_at = at;
    /* Enqueued in the provider's own txn: aborted, nothing is left. */
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(rt_queue_add_in(q, t, &s), 0);
    store_txn_abort(t);
    cr_assert_eq(state_of(s.kind, s.id), 0);
    cr_assert_eq(rt_queue_kick(q, s.kind, s.id), RT_ENOITEM);

    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(rt_queue_add_in(q, t, &s), 0);
    cr_assert_eq(store_txn_commit(t), 0);
    cr_assert_eq(state_of(s.kind, s.id), RT_QUEUED);
    struct rt_kind k = {.kind = s.kind, .run = run_twice, .workers = 2};
    cr_assert_eq(rt_queue_register(q, &k), 0);
    cr_assert_eq(rt_queue_kick(q, s.kind, s.id), 0);
    WAIT_FOR(count(&runs) == 1);
    cr_assert_geq(ran_at, at, "a delayed item ran early");
    cr_assert_eq(run_state_seen, RT_RUNNING);
    /* Requeued an hour ahead: queued in LMDB, not run again. */
    WAIT_FOR(state_of(s.kind, s.id) == RT_QUEUED);
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    rt_queue_free(q);
    cr_assert_eq(count(&runs), 1);

    /* After a restart it still waits for its time. */
    q = rt_queue_new(st);
    cr_assert_eq(rt_queue_register(q, &k), 0);
    usleep(200 * 1000);
    cr_assert_eq(count(&runs), 1);
    cr_assert_eq(rt_queue_cancel(q, s.kind, s.id), RT_CANCEL_QUEUED);
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    rt_queue_free(q);
    cr_assert_eq(state_of(s.kind, s.id), RT_QUEUED);
}

Test(rt_queue, bad_kinds_and_ids_are_refused, .init = setup, .fini = teardown)
{
    rt_queue *q = rt_queue_new(st);
    struct rt_item_spec s = spec("a/b", "x", NULL);
    cr_assert_eq(rt_queue_add(q, &s), RT_EINVAL);
    s = spec("k", "", NULL);
    cr_assert_eq(rt_queue_add(q, &s), RT_EINVAL);
    struct rt_kind k = {.kind = "k", .run = run_record};
    cr_assert_eq(rt_queue_register(q, &k), 0);
    cr_assert_eq(rt_queue_register(q, &k), RT_EINVAL);
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    cr_assert_eq(rt_queue_register(q, &(struct rt_kind){.kind = "j", .run = run_record}),
                 RT_ESTATE);
    rt_queue_free(q);
}

/* ---- listeners ---- */

struct ev_count {
    int n;
};

static void listener_a(void *ctx, const int *ev)
{
    ((struct ev_count *)ctx)->n += *ev;
}

static void call_int(rt_listener_any fn, void *ctx, const void *ev)
{
    ((void (*)(void *, const int *))fn)(ctx, ev);
}

Test(rt_listeners, handles_remove_exactly_their_listener_and_the_table_has_a_limit)
{
    static struct rt_listeners ls = RT_LISTENERS_INIT;
    struct ev_count a = {0}, b = {0};
    int ha = rt_listeners_add(&ls, (rt_listener_any)listener_a, &a);
    int hb = rt_listeners_add(&ls, (rt_listener_any)listener_a, &b);
    cr_assert_gt(ha, 0);
    cr_assert_gt(hb, 0);
    cr_assert_neq(ha, hb);
    int one = 1;
    rt_listeners_notify(&ls, call_int, &one);
    cr_assert_eq(a.n, 1);
    cr_assert_eq(b.n, 1);
    cr_assert_eq(rt_listeners_remove(&ls, ha), 0);
    cr_assert_eq(rt_listeners_remove(&ls, ha), RT_ENOITEM);
    rt_listeners_notify(&ls, call_int, &one);
    cr_assert_eq(a.n, 1);
    cr_assert_eq(b.n, 2);
    for (int i = 1; i < RT_LISTENERS_MAX; i++)
        cr_assert_gt(rt_listeners_add(&ls, (rt_listener_any)listener_a, &a), 0);
    cr_assert_eq(rt_listeners_add(&ls, (rt_listener_any)listener_a, &a), RT_EFULL);
    cr_assert_eq(rt_listeners_count(&ls), RT_LISTENERS_MAX);
}

static int requeue_soon(void *ctx, const struct rt_item *it, rt_task *run)
{
    (void)ctx;
    pthread_mutex_lock(&mu);
    runs++;
    pthread_mutex_unlock(&mu);
    if (it->attempts < 3) {
        rt_task_requeue_at(run, now() + 0.05);
        return RT_TASK_REQUEUE;
    }
    return RT_TASK_DONE;
}

/* A run that polls something outside (a build, a deployment) requeues itself: it must run again
 * in this process, not only after a restart. */
Test(rt_queue, a_requeued_item_runs_again_at_its_time, .init = setup, .fini = teardown)
{
    rt_queue *q = rt_queue_new(st);
    struct rt_kind k = {.kind = "codepipeline.poll", .run = requeue_soon, .workers = 1};
    cr_assert_eq(rt_queue_register(q, &k), 0);
    struct rt_item_spec s = spec(k.kind, "action-1", "x");
    cr_assert_eq(rt_queue_add(q, &s), 0);
    WAIT_FOR(count(&runs) == 3);
    WAIT_FOR(state_of(s.kind, s.id) == 0);
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    rt_queue_free(q);
    cr_assert_eq(count(&runs), 3);
}

static int requeue_at_once(void *ctx, const struct rt_item *it, rt_task *run)
{
    (void)ctx;
    pthread_mutex_lock(&mu);
    runs++;
    pthread_mutex_unlock(&mu);
    if (it->attempts < 100) {
        rt_task_requeue_at(run, now());
        return RT_TASK_REQUEUE;
    }
    return RT_TASK_DONE;
}

/* An item requeued at once may be taken by another worker before the first has let go of its
 * run: that second run's own requeue must not be lost (it was, leaving the item queued in LMDB
 * but in no list, so an action stayed InProgress until a restart). */
Test(rt_queue, an_item_requeued_by_two_workers_in_turn_is_never_lost, .init = setup,
     .fini = teardown)
{
    rt_queue *q = rt_queue_new(st);
    struct rt_kind k = {.kind = "codepipeline.poll", .run = requeue_at_once, .workers = 4};
    cr_assert_eq(rt_queue_register(q, &k), 0);
    enum { ITEMS = 16 };
    char ids[ITEMS][16];
    for (int i = 0; i < ITEMS; i++) {
        snprintf(ids[i], sizeof ids[i], "action-%d", i);
        struct rt_item_spec s = spec(k.kind, ids[i], "x");
        cr_assert_eq(rt_queue_add(q, &s), 0);
    }
    WAIT_FOR(count(&runs) == ITEMS * 100);
    for (int i = 0; i < ITEMS; i++)
        WAIT_FOR(state_of(k.kind, ids[i]) == 0);
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    rt_queue_free(q);
}

static volatile int hold_first_run; /* the first run waits while this is set */
static volatile int first_run_started;

static int requeue_far(void *ctx, const struct rt_item *it, rt_task *run)
{
    (void)ctx;
    pthread_mutex_lock(&mu);
    runs++;
    pthread_mutex_unlock(&mu);
    if (it->attempts == 1) {
        first_run_started = 1;
        while (hold_first_run)
            usleep(1000);
    }
    if (it->attempts < 3) {
        rt_task_requeue_at(run, now() + 3600);
        return RT_TASK_REQUEUE;
    }
    return RT_TASK_DONE;
}

/* A run that polls for an outside event waits long; the event's wake runs it at once, whether
 * the item was waiting (second run) or running when the wake came (first run). */
Test(rt_queue, a_wake_runs_a_waiting_item_now_and_a_running_one_again_at_once, .init = setup,
     .fini = teardown)
{
    rt_queue *q = rt_queue_new(st);
    struct rt_kind k = {.kind = "codepipeline.action", .run = requeue_far, .workers = 1};
    cr_assert_eq(rt_queue_register(q, &k), 0);
    cr_assert_eq(rt_queue_wake(q, k.kind, "action-1"), RT_ENOITEM);
    hold_first_run = 1;
    struct rt_item_spec s = spec(k.kind, "action-1", "x");
    cr_assert_eq(rt_queue_add(q, &s), 0);
    WAIT_FOR(first_run_started);
    cr_assert_eq(rt_queue_wake(q, k.kind, "action-1"), 0); /* while it runs */
    hold_first_run = 0;
    WAIT_FOR(count(&runs) == 2);                   /* the requeue an hour ahead ran at once */
    WAIT_FOR(state_of(s.kind, s.id) == RT_QUEUED); /* waiting an hour again */
    WAIT_FOR(rt_queue_wake(q, k.kind, "action-1") == 0);
    WAIT_FOR(count(&runs) == 3);
    WAIT_FOR(state_of(s.kind, s.id) == 0);
    cr_assert_eq(rt_queue_wake(q, k.kind, "action-1"), RT_ENOITEM);
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    rt_queue_free(q);
}
