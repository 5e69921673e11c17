/* Change detection: a CodeCommit branch move, a new S3 object version or a push to the Git host
 * behind connections starts the pipelines whose source action watches it (for connections, V2
 * triggers' push filters, else the BranchName unless DetectChanges is false). PollForSourceChanges
 * true is polling on AWS; here the change is seen at once. PollForSourceChanges false behaves as if
 * the EventBridge rule the console creates were there (EventBridge itself is not simulated). */
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocol/ids.h"
#include "providers/codecommit/codecommit.h"
#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/codepipeline.h"
#include "providers/codepipeline/engine.h"
#include "providers/codepipeline/trigger_filters.h"
#include "providers/connections/connections.h"
#include "providers/s3/s3.h"
#include "providers/codepipeline/cp_json.h"

int cp_triggers_start(store *st, char *err, size_t errlen);
void cp_triggers_stop(void);
int cp_trigger_run(void *ctx, const struct rt_item *item, rt_task *task);

static store *tstore;
static int cc_handle, s3_handle, conn_handle;

/* The S3 (bucket, key) pairs that some pipeline's source watches, rebuilt from LMDB when
 * pipelines change, so that the artifact writes of every run do not each scan the pipelines. */
static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER;
static int watch_dirty = 1;
static char **watch;
static size_t nwatch;

void cp_engine_pipelines_changed(void)
{
    pthread_mutex_lock(&watch_mu);
    watch_dirty = 1;
    pthread_mutex_unlock(&watch_mu);
}

/* Member k of o as a string, "" when missing (never NULL). */

/* Calls fn for every source action of every pipeline under prefix (a key prefix of
 * STORE_DB_CP_PIPELINES). */
static void each_source(store_txn *t, const char *prefix,
                        void (*fn)(void *ctx, const char *key, double created,
                                   struct json_object *action),
                        void *ctx)
{
    store_cursor *c = NULL;
    if (store_cursor_open(t, STORE_DB_CP_PIPELINES, &c)) return;
    size_t pl = strlen(prefix);
    for (int r = store_cursor_seek(c, prefix, pl); r == 0; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl < pl || memcmp(k, prefix, pl)) break;
        struct cp_pipe_hdr h;
        const char *d;
        if (cp_pipe_rec_parse(val, vl, &h, &d)) continue;
        struct json_tokener *tok = json_tokener_new();
        struct json_object *decl = json_tokener_parse_ex(tok, d, (int)h.decl_len);
        json_tokener_free(tok);
        struct json_object *st0 = json_object_array_get_idx(jget(decl, "stages"), 0);
        struct json_object *acts = jget(st0, "actions");
        char key[512];
        snprintf(key, sizeof key, "%.*s", (int)kl, (const char *)k);
        for (size_t i = 0; acts && i < json_object_array_length(acts); i++)
            fn(ctx, key, h.created, json_object_array_get_idx(acts, i));
        json_object_put(decl);
    }
    store_cursor_close(c);
}

static void add_watch(void *ctx, const char *key, double created, struct json_object *a)
{
    (void)ctx;
    (void)created;
    struct json_object *tid = jget(a, "actionTypeId"), *cfg = jget(a, "configuration");
    if (strcmp(jgets_or_empty(tid, "provider") ?: "", "S3") ||
        strcmp(jgets_or_empty(tid, "category") ?: "", "Source"))
        return;
    char acct[64];
    snprintf(acct, sizeof acct, "%.*s", (int)strcspn(key, "/"), key);
    char *w = NULL;
    if (asprintf(&w, "%s\n%s\n%s", acct, jgets_or_empty(cfg, "S3Bucket") ?: "",
                 jgets_or_empty(cfg, "S3ObjectKey") ?: "") < 0)
        return;
    char **nw = realloc(watch, (nwatch + 1) * sizeof *watch);
    if (!nw) {
        free(w);
        return;
    }
    watch = nw;
    watch[nwatch++] = w;
}

static int watched(const char *account, const char *bucket, const char *key)
{
    pthread_mutex_lock(&watch_mu);
    if (watch_dirty) {
        for (size_t i = 0; i < nwatch; i++)
            free(watch[i]);
        nwatch = 0;
        store_txn *t = NULL;
        if (!store_txn_begin(tstore, 0, &t)) {
            each_source(t, "", add_watch, NULL);
            store_txn_abort(t);
            watch_dirty = 0;
        }
    }
    char want[2048];
    snprintf(want, sizeof want, "%s\n%s\n%s", account, bucket, key);
    int hit = 0;
    for (size_t i = 0; i < nwatch && !hit; i++)
        hit = !strcmp(watch[i], want);
    pthread_mutex_unlock(&watch_mu);
    return hit;
}

static void enqueue(struct json_object *ev)
{
    json_object_object_add(ev, "at", json_object_new_double(proto_now()));
    rt_queue *q = cp_engine_queue();
    char id[37];
    proto_uuid(id);
    const char *s = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN);
    struct rt_item_spec spec = {
        CP_KIND_TRIGGER, id, jgets_or_empty(ev, "account"), jgets_or_empty(ev, "region") ?: "", s,
        strlen(s),       0};
    if (q) rt_queue_add(q, &spec);
    json_object_put(ev);
}

static void on_head(void *ctx, const struct cc_head_event *ev)
{
    (void)ctx;
    if (!ev->new_id) return;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("CodeCommit"));
    json_object_object_add(o, "account", json_object_new_string(ev->account));
    json_object_object_add(o, "region", json_object_new_string(ev->region));
    json_object_object_add(o, "repo", json_object_new_string(ev->repository));
    json_object_object_add(o, "branch", json_object_new_string(ev->branch));
    json_object_object_add(o, "revision", json_object_new_string(ev->new_id));
    enqueue(o);
}

static void on_s3(void *ctx, const struct s3_event *ev)
{
    (void)ctx;
    if (strncmp(ev->name, "ObjectCreated:", 14) || !watched(ev->account, ev->bucket, ev->key))
        return;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("S3"));
    json_object_object_add(o, "account", json_object_new_string(ev->account));
    json_object_object_add(o, "bucket", json_object_new_string(ev->bucket));
    json_object_object_add(o, "key", json_object_new_string(ev->key));
    json_object_object_add(o, "revision", json_object_new_string(ev->version_id ?: "null"));
    enqueue(o);
}

static void on_push(void *ctx, const struct conn_push_event *ev)
{
    (void)ctx;
    if (!ev->new_id) return; /* a deletion starts nothing */
    struct json_object *o = json_object_new_object(), *paths = json_object_new_array();
    json_object_object_add(o, "type", json_object_new_string("Connection"));
    json_object_object_add(o, "account", json_object_new_string(ev->account));
    json_object_object_add(o, "repo", json_object_new_string(ev->full_repo));
    json_object_object_add(o, "tag", json_object_new_boolean(ev->is_tag));
    json_object_object_add(o, "name", json_object_new_string(ev->name));
    json_object_object_add(o, "revision", json_object_new_string(ev->new_id));
    for (size_t i = 0; i < ev->n_paths; i++)
        json_object_array_add(paths, json_object_new_string(ev->paths[i]));
    json_object_object_add(o, "paths", paths);
    enqueue(o);
}

/* The ConnectionArn of the first-stage action named name in decl, or "". */
static const char *action_connection(struct json_object *decl, const char *name)
{
    struct json_object *acts = jget(json_object_array_get_idx(jget(decl, "stages"), 0), "actions");
    for (size_t i = 0; acts && i < json_object_array_length(acts); i++) {
        struct json_object *a = json_object_array_get_idx(acts, i);
        if (!strcmp(jgets_or_empty(a, "name"), name))
            return jgets_or_empty(jget(a, "configuration"), "ConnectionArn");
    }
    return "";
}

/* Adds to hits {region, pipeline, action, detail} for every pipeline of the event's account that
 * the connection push ev starts (pipelines created after the push are left alone). */
static void match_push(store_txn *t, struct json_object *ev, struct json_object *hits)
{
    struct json_object *jp = jget(ev, "paths");
    size_t np = jp ? json_object_array_length(jp) : 0;
    const char **paths = calloc(np ? np : 1, sizeof *paths);
    if (!paths) return;
    for (size_t i = 0; i < np; i++)
        paths[i] = json_object_get_string(json_object_array_get_idx(jp, i));
    struct cp_git_push push = {json_object_get_boolean(jget(ev, "tag")), jgets_or_empty(ev, "name"),
                               paths, np};
    double at = json_object_get_double(jget(ev, "at"));
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/", jgets_or_empty(ev, "account"));
    size_t pl = strlen(prefix);
    store_cursor *c = NULL;
    if (store_cursor_open(t, STORE_DB_CP_PIPELINES, &c)) goto out;
    for (int r = store_cursor_seek(c, prefix, pl); r == 0; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl < pl || memcmp(k, prefix, pl)) break;
        struct cp_pipe_hdr h;
        const char *d;
        if (cp_pipe_rec_parse(val, vl, &h, &d) || at < h.created) continue;
        struct json_tokener *tok = json_tokener_new();
        struct json_object *decl = json_tokener_parse_ex(tok, d, (int)h.decl_len);
        json_tokener_free(tok);
        const char *action =
            decl ? cp_trigger_push_source(decl, jgets_or_empty(ev, "repo"), &push, NULL) : NULL;
        /* key: <account>/<region>/<pipeline> */
        const char *key = k, *s1 = memchr(key, '/', kl);
        const char *s2 = s1 ? memchr(s1 + 1, '/', kl - (size_t)(s1 + 1 - key)) : NULL;
        if (action && s2) {
            struct json_object *o = json_object_new_object();
            json_object_object_add(o, "region",
                                   json_object_new_string_len(s1 + 1, (int)(s2 - s1 - 1)));
            json_object_object_add(o, "pipeline",
                                   json_object_new_string_len(s2 + 1, (int)(key + kl - s2 - 1)));
            json_object_object_add(o, "action", json_object_new_string(action));
            json_object_object_add(o, "detail",
                                   json_object_new_string(action_connection(decl, action)));
            json_object_array_add(hits, o);
        }
        json_object_put(decl);
    }
    store_cursor_close(c);
out:
    free(paths);
}

struct match {
    struct json_object *ev;
    struct json_object *hits; /* [{region, pipeline, action, poll}] */
};

static void match_one(void *ctx, const char *key, double created, struct json_object *a)
{
    struct match *m = ctx;
    /* A change made before the pipeline existed starts nothing (no rule or poll watched it). */
    struct json_object *at;
    if (json_object_object_get_ex(m->ev, "at", &at) && json_object_get_double(at) < created) return;
    struct json_object *tid = jget(a, "actionTypeId"), *cfg = jget(a, "configuration");
    const char *type = jgets_or_empty(m->ev, "type"), *prov = jgets_or_empty(tid, "provider") ?: "";
    if (strcmp(jgets_or_empty(tid, "owner") ?: "", "AWS") || strcmp(prov, type)) return;
    /* key: <account>/<region>/<pipeline> */
    const char *s1 = strchr(key, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s2) return;
    char region[64];
    snprintf(region, sizeof region, "%.*s", (int)(s2 - s1 - 1), s1 + 1);
    if (!strcmp(type, "CodeCommit")) {
        if (strcmp(region, jgets_or_empty(m->ev, "region")) ||
            strcmp(jgets_or_empty(cfg, "RepositoryName") ?: "", jgets_or_empty(m->ev, "repo")) ||
            strcmp(jgets_or_empty(cfg, "BranchName") ?: "", jgets_or_empty(m->ev, "branch")))
            return;
    } else if (strcmp(jgets_or_empty(cfg, "S3Bucket") ?: "", jgets_or_empty(m->ev, "bucket")) ||
               strcmp(jgets_or_empty(cfg, "S3ObjectKey") ?: "", jgets_or_empty(m->ev, "key"))) {
        return;
    }
    const char *poll = jgets_or_empty(cfg, "PollForSourceChanges");
    if (!*poll) poll = NULL;
    struct json_object *h = json_object_new_object();
    json_object_object_add(h, "region", json_object_new_string(region));
    json_object_object_add(h, "pipeline", json_object_new_string(s2 + 1));
    json_object_object_add(h, "action", json_object_new_string(jgets_or_empty(a, "name") ?: ""));
    json_object_object_add(h, "poll", json_object_new_boolean(!poll || strcasecmp(poll, "false")));
    json_object_array_add(m->hits, h);
}

int cp_trigger_run(void *ctx, const struct rt_item *item, rt_task *task)
{
    (void)ctx;
    (void)task;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *ev = json_tokener_parse_ex(tok, item->payload, (int)item->payload_len);
    json_tokener_free(tok);
    if (!ev) return RT_TASK_DONE;
    struct match m = {ev, json_object_new_array()};
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/", jgets_or_empty(ev, "account") ?: "");
    store_txn *t = NULL;
    struct cp_kicks kicks = {0};
    int ret = RT_TASK_DONE;
    if (store_txn_begin(tstore, 0, &t)) goto out;
    int conn = !strcmp(jgets_or_empty(ev, "type"), "Connection");
    if (conn)
        match_push(t, ev, m.hits);
    else
        each_source(t, prefix, match_one, &m);
    store_txn_abort(t);
    t = NULL;
    if (!json_object_array_length(m.hits)) goto out;
    if (store_txn_begin(tstore, 1, &t)) {
        ret = RT_TASK_REQUEUE;
        goto out;
    }
    int cc = !strcmp(jgets_or_empty(ev, "type"), "CodeCommit");
    for (size_t i = 0; i < json_object_array_length(m.hits); i++) {
        struct json_object *h = json_object_array_get_idx(m.hits, i);
        int poll = json_object_get_boolean(jget(h, "poll"));
        const char *region = jgets_or_empty(h, "region");
        char detail[600];
        if (conn)
            snprintf(detail, sizeof detail, "%s", jgets_or_empty(h, "detail"));
        else if (poll)
            snprintf(detail, sizeof detail, "%s", jgets_or_empty(h, "action"));
        else if (cc)
            snprintf(detail, sizeof detail, "arn:aws:events:%s:%s:rule/codepipeline-%s-%s-rule",
                     region, jgets_or_empty(ev, "account"), jgets_or_empty(ev, "repo"),
                     jgets_or_empty(ev, "branch"));
        else
            snprintf(detail, sizeof detail, "arn:aws:events:%s:%s:rule/codepipeline-%s-rule",
                     region, jgets_or_empty(ev, "account"), jgets_or_empty(h, "pipeline"));
        struct json_object *ovr = json_object_new_array(), *o = json_object_new_object();
        json_object_object_add(o, "actionName", json_object_get(jget(h, "action")));
        json_object_object_add(
            o, "revisionType",
            json_object_new_string(cc || conn ? "COMMIT_ID" : "S3_OBJECT_VERSION_ID"));
        json_object_object_add(o, "revisionValue", json_object_get(jget(ev, "revision")));
        json_object_array_add(ovr, o);
        /* A connection push arrives as CodeStar Connections' webhook: WebhookV2 on AWS. */
        struct cp_start s = {conn   ? "WebhookV2"
                             : poll ? "PollForSourceChanges"
                                    : "CloudWatchEvent",
                             detail,
                             NULL,
                             ovr,
                             NULL,
                             NULL};
        char id[37];
        int rc = cp_exec_start_in(t, jgets_or_empty(ev, "account"), region,
                                  jgets_or_empty(h, "pipeline"), &s, id, &kicks);
        json_object_put(ovr);
        if (rc < 0 && rc != CP_ENOPIPELINE) {
            store_txn_abort(t);
            t = NULL;
            ret = RT_TASK_REQUEUE;
            goto out;
        }
    }
    if (store_txn_commit(t))
        ret = RT_TASK_REQUEUE;
    else
        cp_kicks_run(&kicks);
    t = NULL;
out:
    store_txn_abort(t);
    json_object_put(m.hits);
    json_object_put(ev);
    return ret;
}

/* The webhook starter: a call that passed its webhook's checks starts the target pipeline
 * (trigger Webhook, detail the webhook's ARN) and stamps the webhook's lastTriggered, in one
 * transaction. */
static int webhook_start(store *st, const char *account, const char *region, const char *pipeline,
                         const char *webhook_arn, char id[37])
{
    const char *name = strstr(webhook_arn, ":webhook:");
    store_txn *t = NULL;
    struct cp_kicks kicks = {0};
    struct cp_start s = {"Webhook", webhook_arn, NULL, NULL, NULL, NULL};
    int rc = store_txn_begin(st, 1, &t);
    if (rc) return rc;
    rc = cp_exec_start_in(t, account, region, pipeline, &s, id, &kicks);
    if (rc >= 0 && name) {
        int w = cp_webhook_triggered(t, account, region, name + 9, proto_now());
        if (w && w != STORE_NOTFOUND) rc = w;
    }
    if (rc < 0) {
        store_txn_abort(t);
        return rc;
    }
    if ((rc = store_txn_commit(t))) return rc; /* the commit freed t */
    cp_kicks_run(&kicks);
    return 0;
}

int cp_triggers_start(store *st, char *err, size_t errlen)
{
    tstore = st;
    cc_handle = cc_add_head_listener(on_head, NULL);
    s3_handle = s3_add_listener(on_s3, NULL);
    conn_handle = conn_add_push_listener(on_push, NULL);
    if (cc_handle < 0 || s3_handle < 0 || conn_handle < 0) {
        snprintf(err, errlen, "codepipeline: cannot register the change listeners");
        return -1;
    }
    cp_webhook_set_starter(webhook_start);
    return 0;
}

void cp_triggers_stop(void)
{
    cp_webhook_set_starter(NULL);
    if (cc_handle > 0) cc_remove_head_listener(cc_handle);
    if (s3_handle > 0) s3_remove_listener(s3_handle);
    if (conn_handle > 0) conn_remove_push_listener(conn_handle);
    cc_handle = s3_handle = conn_handle = 0;
    pthread_mutex_lock(&watch_mu);
    for (size_t i = 0; i < nwatch; i++)
        free(watch[i]);
    free(watch);
    watch = NULL;
    nwatch = 0;
    watch_dirty = 1;
    pthread_mutex_unlock(&watch_mu);
}
