/* The engine's queue work: running action executions, recording their results, approvals and
 * their expiry, and the engine's lifecycle. */
#include "providers/codepipeline/engine.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ids.h"
#include "protocol/service.h"
#include "providers/codebuild/codebuild.h"
#include "providers/codedeploy/codedeploy.h"
#include "providers/codepipeline/conditions.h"
#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/cp_json.h"

#define KEY_MAX         512
#define APPROVAL_EXPIRY (7 * 24 * 3600.0)
#define INTERRUPTED     "The action was interrupted by a restart of codepipeline-local"

static struct {
    store *st;
    rt_queue *q;
    const struct proto_service_config *cfg;
    double approval_expiry; /* seconds; 0: APPROVAL_EXPIRY */
    double job_timeout;     /* seconds; 0: the action's own */
    double minute;          /* seconds in a minute of an approval's timeoutInMinutes */
} engine;

/* The endpoint children of actions use (AWS_ENDPOINT_URL): taken from requests, so that worker
 * threads never read the server's at-use settings, which the main thread writes after start. */
static pthread_mutex_t endpoint_mu = PTHREAD_MUTEX_INITIALIZER;
static char endpoint_seen[320];

void cp_engine_note_endpoint(const char *endpoint)
{
    if (!endpoint) return;
    pthread_mutex_lock(&endpoint_mu);
    if (strcmp(endpoint_seen, endpoint))
        snprintf(endpoint_seen, sizeof endpoint_seen, "%s", endpoint);
    pthread_mutex_unlock(&endpoint_mu);
}

void cp_engine_endpoint(char *buf, size_t buflen)
{
    pthread_mutex_lock(&endpoint_mu);
    snprintf(buf, buflen, "%s", endpoint_seen);
    pthread_mutex_unlock(&endpoint_mu);
    if (!*buf && engine.cfg) snprintf(buf, buflen, "%s", engine.cfg->endpoint_url);
}

rt_queue *cp_engine_queue(void)
{
    return engine.q;
}

void cp_action_result_free(struct cp_action_result *r)
{
    free(r->summary);
    free(r->error_code);
    free(r->error_message);
    free(r->external_id);
    free(r->external_url);
    json_object_put(r->outputs);
    json_object_put(r->variables);
    json_object_put(r->revision);
    json_object_put(r->state);
    memset(r, 0, sizeof *r);
}

int cp_action_fail(struct cp_action_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(r->error_message);
    r->error_message = strdup(buf);
    r->status = CP_ACT_FAILED;
    return CP_ACT_FAILED;
}

void cp_kicks_add(struct cp_kicks *k, const char *kind, const char *id)
{
    if (!k) return;
    if (k->n == sizeof k->k / sizeof k->k[0]) {
        k->overflow = 1;
        return;
    }
    k->k[k->n].kind = kind;
    k->k[k->n].cancel = 0;
    snprintf(k->k[k->n].id, sizeof k->k[k->n].id, "%s", id);
    k->n++;
}

void cp_kicks_cancel(struct cp_kicks *k, const char *kind, const char *id)
{
    size_t n = k ? k->n : 0;
    cp_kicks_add(k, kind, id);
    if (k && k->n > n) k->k[n].cancel = 1;
}

/* An action item's payload: "<account>\n<region>\n<pipeline>\n<seq>\n<stage index>\n<action>". */
struct ref {
    char buf[KEY_MAX];
    const char *account, *region, *pipeline, *action;
    unsigned seq;
    int stage;
};

static int ref_parse(struct ref *r, const void *payload, size_t len)
{
    char *f[6];
    if (cp_payload_fields(r->buf, sizeof r->buf, payload, len, f, 6)) return -1;
    r->account = f[0];
    r->region = f[1];
    r->pipeline = f[2];
    r->seq = (unsigned)strtoul(f[3], NULL, 10);
    r->stage = atoi(f[4]);
    r->action = f[5];
    return 0;
}

static struct json_object *exec_entry(struct json_object *e, int stage, const char *action)
{
    struct json_object *st = json_object_array_get_idx(jget(e, "_stages"), (size_t)stage);
    return jget(jget(st, "actions"), action);
}

static struct json_object *decl_action(struct json_object *decl, int stage, const char *action)
{
    struct json_object *st = json_object_array_get_idx(jget(decl, "stages"), (size_t)stage);
    struct json_object *acts = jget(st, "actions");
    for (size_t i = 0; acts && i < json_object_array_length(acts); i++) {
        struct json_object *a = json_object_array_get_idx(acts, i);
        if (jgets(a, "name") && !strcmp(jgets(a, "name"), action)) return a;
    }
    return NULL;
}

static int exec_put(store_txn *t, const struct ref *r, struct json_object *e)
{
    char key[KEY_MAX], suf[16];
    snprintf(suf, sizeof suf, "X%010u", r->seq);
    int kl = cp_exec_key(key, sizeof key, r->account, r->region, r->pipeline, suf);
    if (kl < 0) return STORE_ERROR;
    return cp_json_store(t, STORE_DB_CP_EXECUTIONS, key, (size_t)kl, e);
}

static void set_error(struct json_object *en, const char *code, const char *msg)
{
    struct json_object *ed = json_object_new_object();
    jsets(ed, "code", code ? code : "JobFailed");
    jsets(ed, "message", msg ? msg : "The action failed");
    json_object_object_add(jget(jget(en, "output"), "executionResult"), "errorDetails", ed);
    jsets(en, "_summary", msg ? msg : "The action failed");
}

/* Records a source action's revision on the execution. */
static void record_revision(struct json_object *e, struct json_object *en, struct json_object *rev,
                            struct json_object *outputs)
{
    struct json_object *ar = jget(e, "artifactRevisions"), *sr = jget(e, "sourceRevisions");
    for (size_t i = 0; outputs && i < json_object_array_length(outputs); i++) {
        struct json_object *a = json_object_new_object();
        jsets(a, "name", jgets(json_object_array_get_idx(outputs, i), "name"));
        json_object_object_foreach(rev, k, v)
        {
            json_object_object_add(a, k, json_object_get(v));
        }
        json_object_array_add(ar, a);
    }
    struct json_object *s = json_object_new_object();
    jsets(s, "actionName", jgets(en, "actionName"));
    const char *keys[] = {"revisionId", "revisionSummary", "revisionUrl", NULL};
    for (int i = 0; keys[i]; i++)
        if (jget(rev, keys[i]))
            json_object_object_add(s, keys[i], json_object_get(jget(rev, keys[i])));
    json_object_array_add(sr, s);
    json_object_object_add(en, "_revision", json_object_get(rev));
}

/* Records what a provider's run returned, in t. Returns 0 or a store error code. */
static int apply_result(store_txn *t, const struct ref *r, const char *aeid,
                        struct cp_action_result *res, struct cp_kicks *kicks)
{
    struct json_object *e = cp_exec_load(t, r->account, r->region, r->pipeline, r->seq);
    int rc = 0;
    if (!e) return 0;
    struct json_object *en = exec_entry(e, r->stage, r->action);
    if (!en || strcmp(jgets(en, "actionExecutionId"), aeid) ||
        strcmp(jgets(en, "status"), "InProgress"))
        goto out; /* stopped or replaced meanwhile */
    double now = proto_now();
    json_object_object_add(en, "lastUpdateTime", json_object_new_double(now));
    json_object_object_add(en, "_lastStatusChange", json_object_new_double(now));
    struct json_object *er = jget(jget(en, "output"), "executionResult");
    if (res->external_id) jsets(er, "externalExecutionId", res->external_id);
    if (res->external_url) jsets(er, "externalExecutionUrl", res->external_url);
    if (res->summary) {
        jsets(er, "externalExecutionSummary", res->summary);
        jsets(en, "_summary", res->summary);
    }
    if (res->state) json_object_object_add(en, "_p", json_object_get(res->state));
    if (res->percent > 0)
        json_object_object_add(en, "_percent", json_object_new_int(res->percent - 1));
    switch (res->status) {
    case CP_ACT_SUCCEEDED: {
        jsets(en, "status", "Succeeded");
        struct json_object *out = jget(en, "output");
        if (res->outputs) {
            json_object_object_add(out, "outputArtifacts", json_object_get(res->outputs));
            struct json_object *art = jget(e, "_art");
            for (size_t i = 0; i < json_object_array_length(res->outputs); i++) {
                struct json_object *a = json_object_array_get_idx(res->outputs, i);
                json_object_object_add(art, jgets(a, "name"),
                                       json_object_get(jget(a, "s3location")));
            }
        }
        if (res->variables) {
            json_object_object_add(out, "outputVariables", json_object_get(res->variables));
            const char *ns = jgets(jget(en, "input"), "namespace");
            if (ns) json_object_object_add(jget(e, "_vars"), ns, json_object_get(res->variables));
        }
        if (res->revision) record_revision(e, en, res->revision, res->outputs);
        break;
    }
    case CP_ACT_FAILED:
        jsets(en, "status", "Failed");
        set_error(en, res->error_code, res->error_message);
        break;
    case CP_ACT_APPROVAL: {
        char token[37], key[64];
        proto_uuid(token);
        jsets(en, "_token", token);
        /* AWS shows the token as the approval's externalExecutionId (the PARALLEL-mode token). */
        jsets(jget(jget(en, "output"), "executionResult"), "externalExecutionId", token);
        struct json_object *rec = json_object_new_object();
        jsets(rec, "account", r->account);
        jsets(rec, "region", r->region);
        jsets(rec, "pipeline", r->pipeline);
        json_object_object_add(rec, "seq", json_object_new_int((int)r->seq));
        json_object_object_add(rec, "stage", json_object_new_int(r->stage));
        jsets(rec, "stageName", jgets(en, "stageName"));
        jsets(rec, "action", r->action);
        jsets(rec, "actionExecutionId", aeid);
        /* The action's timeoutInMinutes, or 7 days (which the test knob replaces). */
        struct json_object *minutes = jget(res->state, "_minutes");
        double expiry = engine.approval_expiry > 0 ? engine.approval_expiry : APPROVAL_EXPIRY;
        if (minutes) {
            expiry = json_object_get_int(minutes) * engine.minute;
            json_object_object_add(rec, "minutes", json_object_get(minutes));
        }
        int kl = snprintf(key, sizeof key, "T%s", token);
        rc = cp_json_store(t, STORE_DB_CP_JOBS, key, (size_t)kl, rec);
        json_object_put(rec);
        if (rc) goto out;
        struct rt_item_spec spec = {CP_KIND_EXPIRY, token, r->account,  r->region,
                                    r->buf,         0,     now + expiry};
        /* the payload is the action's reference, rebuilt from the record */
        char payload[KEY_MAX];
        int pl = snprintf(payload, sizeof payload, "%s\n%s\n%s\n%u\n%d\n%s", r->account, r->region,
                          r->pipeline, r->seq, r->stage, r->action);
        spec.payload = payload;
        spec.payload_len = (size_t)pl;
        rc = rt_queue_add_in(engine.q, t, &spec);
        if (rc < 0) goto out;
        rc = 0;
        cp_kicks_add(kicks, CP_KIND_EXPIRY, token);
        break;
    }
    case CP_ACT_JOB: {
        char job[37];
        struct json_object *tid = jget(jget(en, "input"), "actionTypeId"), *to;
        double timeout = json_object_object_get_ex(res->state, "_timeout", &to)
                             ? json_object_get_double(to)
                             : 24 * 3600.0;
        json_object_object_del(res->state, "_timeout");
        if (engine.job_timeout > 0) timeout = engine.job_timeout;
        rc = cp_job_create_in(t, r->account, r->region, r->pipeline, r->seq, r->stage, r->action,
                              aeid, tid, res->state, timeout, job);
        if (rc) goto out;
        cp_kicks_add(kicks, CP_KIND_JOB_TIMEOUT, job);
        jsets(en, "_job", job);
        json_object_object_del(en, "_p");
        break;
    }
    case CP_ACT_WAIT:
        break;
    }
    json_object_object_add(e, "lastUpdateTime", json_object_new_double(now));
    if ((rc = exec_put(t, r, e))) goto out;
    rc = cp_advance_in(t, r->account, r->region, r->pipeline, kicks);
out:
    json_object_put(e);
    return rc;
}

int cp_action_record_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                        unsigned seq, int stage, const char *action, const char *aeid,
                        struct cp_action_result *res, struct cp_kicks *kicks)
{
    struct ref r = {0};
    r.account = account;
    r.region = region;
    r.pipeline = pipeline;
    r.seq = seq;
    r.stage = stage;
    r.action = action;
    return apply_result(t, &r, aeid, res, kicks);
}

/* Records res for action item (ref, aeid) in a transaction of its own. */
static int record(const struct ref *r, const char *aeid, struct cp_action_result *res)
{
    struct cp_kicks kicks = {0};
    store_txn *t = NULL;
    int rc = store_txn_begin(engine.st, 1, &t);
    if (rc) return rc;
    rc = apply_result(t, r, aeid, res, &kicks);
    if (rc) {
        store_txn_abort(t);
        return rc;
    }
    rc = store_txn_commit(t);
    if (!rc) cp_kicks_run(&kicks);
    return rc;
}

static int action_run(void *ctx, const struct rt_item *item, rt_task *task)
{
    (void)ctx;
    struct ref r;
    if (ref_parse(&r, item->payload, item->payload_len)) return RT_TASK_DONE;
    store_txn *t = NULL;
    if (store_txn_begin(engine.st, 0, &t)) return RT_TASK_REQUEUE;
    struct json_object *e = cp_exec_load(t, r.account, r.region, r.pipeline, r.seq);
    struct json_object *decl =
        e ? cp_decl_load(t, r.account, r.region, r.pipeline,
                         (unsigned)json_object_get_int(jget(e, "pipelineVersion")))
          : NULL;
    store_txn_abort(t);
    struct json_object *en = e ? exec_entry(e, r.stage, r.action) : NULL;
    struct json_object *ad = decl ? decl_action(decl, r.stage, r.action) : NULL;
    int ret = RT_TASK_DONE;
    struct cp_action_result res = {0};
    if (!en || !ad || strcmp(jgets(en, "actionExecutionId"), item->id) ||
        strcmp(jgets(en, "status"), "InProgress"))
        goto out;
    /* Already handed to an approver or a job worker (a restart between the record and the end
     * of this item): nothing more to run. */
    if (jget(en, "_token") || jget(en, "_job")) goto out;
    char endpoint[320];
    if (jgets(e, "_endpoint"))
        snprintf(endpoint, sizeof endpoint, "%s", jgets(e, "_endpoint"));
    else
        cp_engine_endpoint(endpoint, sizeof endpoint);
    struct json_object *in = jget(en, "input"), *tid = jget(in, "actionTypeId");
    struct json_object *ovr = jget(jget(e, "_ovr"), r.action);
    struct cp_action_ctx ac = {
        .st = engine.st,
        .task = task,
        .account = r.account,
        .region = jgets(in, "region") ? jgets(in, "region") : r.region,
        .pipeline = r.pipeline,
        .execution_id = jgets(e, "pipelineExecutionId"),
        .stage = jgets(en, "stageName"),
        .action = r.action,
        .action_execution_id = item->id,
        .provider = jgets(tid, "provider"),
        .category = jgets(tid, "category"),
        .owner = jgets(tid, "owner"),
        .decl = ad,
        .config = jget(in, "resolvedConfiguration"),
        .inputs = jget(in, "inputArtifacts"),
        .outputs = jget(ad, "outputArtifacts"),
        .entry = en,
        .override = ovr,
        .bucket = jgets(en, "_bucket"),
        .endpoint_url = endpoint,
        .started = json_object_get_double(jget(en, "startTime")),
    };
    if (!ac.bucket || !*ac.bucket) {
        cp_action_fail(&res, "The pipeline has no artifact store in region %s", ac.region);
    } else {
        cp_action_run_fn fn =
            cp_action_provider(ac.owner ? ac.owner : "", ac.category ? ac.category : "",
                               ac.provider ? ac.provider : "");
        res.status = (enum cp_action_status)fn(&ac, &res);
    }
    if (rt_task_stop_reason(task) == RT_STOP_SHUTDOWN) {
        ret = RT_TASK_LEAVE; /* settled at the next start */
        goto out;
    }
    if (record(&r, item->id, &res)) {
        ret = RT_TASK_REQUEUE;
        rt_task_requeue_at(task, proto_now() + 1);
        goto out;
    }

    if (res.status == CP_ACT_WAIT) {
        ret = RT_TASK_REQUEUE;
        rt_task_requeue_at(task, res.requeue_at);
    }
out:
    cp_action_result_free(&res);
    json_object_put(decl);
    json_object_put(e);
    return ret;
}

void cp_abandoned_kill(const char *account, const char *region, const struct cp_abandoned *ab)
{
    for (size_t i = 0; engine.st && i < ab->n; i++) {
        /* A running Commands action's stop callback kills its process group; a queued item
         * finds its action Abandoned and ends. */
        if (engine.q)
            rt_queue_cancel(engine.q, strcmp(ab->a[i].kind, "rule") ? CP_KIND_ACTION : CP_KIND_RULE,
                            ab->a[i].aeid);
        if (!strcmp(ab->a[i].kind, "build"))
            cb_stop_build(engine.st, account, region, ab->a[i].external);
        else if (!strcmp(ab->a[i].kind, "deployment"))
            cd_stop_deployment(engine.st, account, region, ab->a[i].external, 0);
    }
}

/* An action found running at start: one whose work was a child process of the dead server fails
 * (as AWS fails an action whose job died); the others carry on where their record says. */
static int action_settle(void *ctx, const struct rt_item *item)
{
    (void)ctx;
    struct ref r;
    if (ref_parse(&r, item->payload, item->payload_len)) return RT_SETTLE_DONE;
    store_txn *t = NULL;
    if (store_txn_begin(engine.st, 0, &t)) return RT_SETTLE_REQUEUE;
    struct json_object *e = cp_exec_load(t, r.account, r.region, r.pipeline, r.seq);
    store_txn_abort(t);
    struct json_object *en = e ? exec_entry(e, r.stage, r.action) : NULL;
    const char *prov = jgets(jget(jget(en, "input"), "actionTypeId"), "provider");
    int ret = RT_SETTLE_REQUEUE;
    if (prov && !strcmp(prov, "Commands")) {
        struct cp_action_result res = {0};
        cp_action_fail(&res, INTERRUPTED);
        record(&r, item->id, &res);
        cp_action_result_free(&res);
        ret = RT_SETTLE_DONE;
    }
    json_object_put(e);
    return ret;
}

/* ---- approvals ------------------------------------------------------------------------------ */

static int token_key(char *key, size_t n, const char *token)
{
    int kl = snprintf(key, n, "T%s", token);
    return kl < 0 || (size_t)kl >= n ? -1 : kl;
}

/* Ends the approval of token rec in t: status Succeeded or Failed with summary. */
static int approval_end(store_txn *t, struct json_object *rec, const char *token, int ok,
                        const char *summary, const char *by, struct cp_kicks *kicks)
{
    struct ref r = {0};
    snprintf(r.buf, sizeof r.buf, "%s", "");
    r.account = jgets(rec, "account");
    r.region = jgets(rec, "region");
    r.pipeline = jgets(rec, "pipeline");
    r.action = jgets(rec, "action");
    r.seq = (unsigned)json_object_get_int(jget(rec, "seq"));
    r.stage = json_object_get_int(jget(rec, "stage"));
    struct cp_action_result res = {0};
    res.status = ok ? CP_ACT_SUCCEEDED : CP_ACT_FAILED;
    if (summary) res.summary = strdup(summary);
    if (!ok) {
        res.error_code = strdup("JobFailed");
        res.error_message = strdup(summary ? summary : "Rejected");
    }
    (void)by;
    json_object_object_add(rec, "done", json_object_new_boolean(1));
    char key[64];
    int kl = token_key(key, sizeof key, token);
    int rc = kl < 0 ? STORE_ERROR : cp_json_store(t, STORE_DB_CP_JOBS, key, (size_t)kl, rec);
    if (!rc) rc = apply_result(t, &r, jgets(rec, "actionExecutionId"), &res, kicks);
    cp_action_result_free(&res);
    return rc;
}

int cp_approval_answer_in(store_txn *t, const char *account, const char *region,
                          const char *pipeline, const char *stage, const char *action,
                          const char *token, const char *status, const char *summary,
                          const char *by, double *approved_at, struct cp_kicks *kicks)
{
    char key[64];
    int kl = token_key(key, sizeof key, token);
    struct json_object *rec = kl < 0 ? NULL : cp_json_load(t, STORE_DB_CP_JOBS, key, (size_t)kl);
    int rc = CP_ENOTOKEN;
    if (!rec || strcmp(jgets(rec, "account"), account) || strcmp(jgets(rec, "region"), region) ||
        strcmp(jgets(rec, "pipeline"), pipeline) || strcmp(jgets(rec, "stageName"), stage) ||
        strcmp(jgets(rec, "action"), action))
        goto out;
    rc = CP_EDONE;
    if (jget(rec, "done")) goto out;
    /* The action ended without an answer (abandoned, or its stage failed on an update): the
     * token no longer names an open approval request. */
    struct json_object *e =
        cp_exec_load(t, account, region, pipeline, (unsigned)json_object_get_int(jget(rec, "seq")));
    struct json_object *en = exec_entry(e, json_object_get_int(jget(rec, "stage")), action);
    int live = en && jgets(en, "actionExecutionId") && jgets(rec, "actionExecutionId") &&
               !strcmp(jgets(en, "actionExecutionId"), jgets(rec, "actionExecutionId")) &&
               jgets(en, "status") && !strcmp(jgets(en, "status"), "InProgress");
    json_object_put(e);
    rc = CP_ENOTOKEN;
    if (!live) goto out;
    int ok = !strcmp(status, "Approved");
    rc = approval_end(t, rec, token, ok, summary, by, kicks);
    if (rc) goto out;
    int r2 = rt_queue_remove_in(t, CP_KIND_EXPIRY, token);
    if (r2 && r2 != STORE_NOTFOUND) rc = r2;
    *approved_at = proto_now();
out:
    json_object_put(rec);
    return rc;
}

static int expiry_run(void *ctx, const struct rt_item *item, rt_task *task)
{
    (void)ctx;
    (void)task;
    struct cp_kicks kicks = {0};
    store_txn *t = NULL;
    if (store_txn_begin(engine.st, 1, &t)) return RT_TASK_REQUEUE;
    char key[64];
    int kl = token_key(key, sizeof key, item->id);
    struct json_object *rec = kl < 0 ? NULL : cp_json_load(t, STORE_DB_CP_JOBS, key, (size_t)kl);
    int rc = 0;
    if (rec && !jget(rec, "done")) {
        char why[96] = "The approval request expired: no answer within 7 days";
        if (jget(rec, "minutes"))
            snprintf(why, sizeof why, "The approval request expired: no answer within %d minutes",
                     json_object_get_int(jget(rec, "minutes")));
        rc = approval_end(t, rec, item->id, 0, why, NULL, &kicks);
    }
    if (!rc) rc = rt_queue_remove_in(t, CP_KIND_EXPIRY, item->id) == STORE_ERROR ? STORE_ERROR : 0;
    json_object_put(rec);
    if (rc || store_txn_commit(t)) {
        if (rc) store_txn_abort(t);
        rt_task_requeue_at(task, proto_now() + 5);
        return RT_TASK_REQUEUE;
    }
    cp_kicks_run(&kicks);
    return RT_TASK_DONE;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

int cp_triggers_start(store *st, char *err, size_t errlen);
void cp_triggers_stop(void);
int cp_trigger_run(void *ctx, const struct rt_item *item, rt_task *task);

/* Test knobs (README, "Test knobs"): CPL_APPROVAL_TIMEOUT_SECONDS and CPL_JOB_TIMEOUT_SECONDS in
 * the environment at start replace the 7-day approval expiry and every job-worker job's timeout,
 * and CPL_PIPELINE_SECONDS_PER_MINUTE shortens the minutes of an approval's timeoutInMinutes, so
 * that tests can wait them out. Returns the positive number of seconds, or 0 when unset. */
static double env_seconds(const char *name)
{
    const char *v = getenv(name);
    char *end = NULL;
    double d = v && *v ? strtod(v, &end) : 0;
    return end && !*end && d > 0 ? d : 0;
}

void cp_engine_attach(store *st, rt_queue *q)
{
    engine.st = st;
    engine.q = q;
}

int cp_engine_start(store *st, const struct proto_service_config *cfg, char *err, size_t errlen)
{
    engine.st = st;
    engine.cfg = cfg;
    engine.q = cfg->queue;
    engine.approval_expiry = env_seconds("CPL_APPROVAL_TIMEOUT_SECONDS");
    engine.minute = env_seconds("CPL_PIPELINE_SECONDS_PER_MINUTE");
    if (engine.minute <= 0) engine.minute = 60;
    engine.job_timeout = env_seconds("CPL_JOB_TIMEOUT_SECONDS");
    if (!engine.q) return 0; /* a server without a queue (tests): definitions only */
    struct rt_kind kinds[] = {
        {CP_KIND_EXPIRY, expiry_run, NULL, NULL, 1},
        {CP_KIND_TRIGGER, cp_trigger_run, NULL, NULL, 1},
        {CP_KIND_JOB_TIMEOUT, cp_job_timeout_run, NULL, NULL, 1},
        {CP_KIND_ACTION, action_run, action_settle, NULL, 16},
        {CP_KIND_RULE, cp_rule_run, cp_rule_settle, NULL, 4},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        int rc = rt_queue_register(engine.q, &kinds[i]);
        if (rc) {
            snprintf(err, errlen, "codepipeline: cannot register %s (%d)", kinds[i].kind, rc);
            return -1;
        }
    }
    if (cp_wakeups_start(engine.q)) {
        snprintf(err, errlen, "codepipeline: cannot register the build and deployment listeners");
        return -1;
    }
    return cp_triggers_start(st, err, errlen);
}

void cp_engine_stop(double deadline)
{
    (void)deadline;
    cp_wakeups_stop();
    cp_triggers_stop();
}

store *cp_engine_store(void)
{
    return engine.st;
}
