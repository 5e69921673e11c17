/* Job workers: PollForJobs, AcknowledgeJob, GetJobDetails, PutJobSuccessResult,
 * PutJobFailureResult, their ThirdParty variants, PutActionRevision, and the jobs' timeouts. A job
 * is a record "J<job id>" in STORE_DB_CP_JOBS naming the action it runs. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/codepipeline/catalogue.h"
#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/engine.h"
#include "providers/sts/sts.h"
#include "sigv4/sigv4.h"
#include "providers/codepipeline/cp_json.h"

/* Member k as a string, "" when missing. */

static int job_key(char *key, size_t n, const char *id)
{
    int kl = snprintf(key, n, "J%s", id);
    return kl < 0 || (size_t)kl >= n ? -1 : kl;
}

static int job_store(store_txn *t, struct json_object *job)
{
    char key[80];
    int kl = job_key(key, sizeof key, jgets_or_empty(job, "id"));
    return kl < 0 ? STORE_ERROR : cp_json_store(t, STORE_DB_CP_JOBS, key, (size_t)kl, job);
}

int cp_job_create_in(store_txn *t, const char *account, const char *region, const char *pipeline,
                     unsigned seq, int stage, const char *action, const char *aeid,
                     struct json_object *type_id, struct json_object *data, double timeout,
                     char job_id[37])
{
    proto_uuid(job_id);
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "id", json_object_new_string(job_id));
    json_object_object_add(j, "account", json_object_new_string(account));
    json_object_object_add(j, "region", json_object_new_string(region));
    json_object_object_add(j, "pipeline", json_object_new_string(pipeline));
    json_object_object_add(j, "seq", json_object_new_int((int)seq));
    json_object_object_add(j, "stage", json_object_new_int(stage));
    json_object_object_add(j, "action", json_object_new_string(action));
    json_object_object_add(j, "actionExecutionId", json_object_new_string(aeid));
    json_object_object_add(j, "actionTypeId", json_object_get(type_id));
    json_object_object_add(j, "status", json_object_new_string("Queued"));
    json_object_object_add(j, "timeout", json_object_new_double(timeout));
    json_object_object_add(j, "data", json_object_get(data));
    int rc = job_store(t, j);
    json_object_put(j);
    if (rc) return rc;
    struct rt_item_spec spec = {CP_KIND_JOB_TIMEOUT,  job_id, account, region, job_id, 36,
                                proto_now() + timeout};
    rc = rt_queue_add_in(cp_engine_queue(), t, &spec);
    return rc < 0 ? rc : 0;
}

/* 1 when the action execution job runs is still in progress; 0 when it ended without the job
 * (abandoned, or its stage failed on an update), or its execution is gone. */
static int action_live(store_txn *t, struct json_object *job)
{
    struct json_object *e = cp_exec_load(
        t, jgets_or_empty(job, "account"), jgets_or_empty(job, "region"),
        jgets_or_empty(job, "pipeline"), (unsigned)json_object_get_int(jget(job, "seq")));
    struct json_object *st = json_object_array_get_idx(
        jget(e, "_stages"), (size_t)json_object_get_int(jget(job, "stage")));
    struct json_object *en = jget(jget(st, "actions"), jgets_or_empty(job, "action"));
    int live = en &&
               !strcmp(jgets_or_empty(en, "actionExecutionId"),
                       jgets_or_empty(job, "actionExecutionId")) &&
               !strcmp(jgets_or_empty(en, "status"), "InProgress");
    json_object_put(e);
    return live;
}

static int terminal(struct json_object *job)
{
    const char *s = jgets_or_empty(job, "status");
    return !strcmp(s, "Succeeded") || !strcmp(s, "Failed") || !strcmp(s, "TimedOut");
}

/* Ends job and records res for its action in t. */
static int job_end(store_txn *t, struct json_object *job, const char *status,
                   struct cp_action_result *res, struct cp_kicks *kicks)
{
    json_object_object_add(job, "status", json_object_new_string(status));
    int rc = job_store(t, job);
    if (!rc && res)
        rc = cp_action_record_in(
            t, jgets_or_empty(job, "account"), jgets_or_empty(job, "region"),
            jgets_or_empty(job, "pipeline"), (unsigned)json_object_get_int(jget(job, "seq")),
            json_object_get_int(jget(job, "stage")), jgets_or_empty(job, "action"),
            jgets_or_empty(job, "actionExecutionId"), res, kicks);
    if (!rc) {
        int r2 = rt_queue_remove_in(t, CP_KIND_JOB_TIMEOUT, jgets_or_empty(job, "id"));
        if (r2 && r2 != STORE_NOTFOUND) rc = r2;
    }
    return rc;
}

int cp_job_timeout_run(void *ctx, const struct rt_item *item, rt_task *task)
{
    (void)ctx;
    store *st = NULL;
    extern store *cp_engine_store(void);
    st = cp_engine_store();
    struct cp_kicks kicks = {0};
    store_txn *t = NULL;
    if (store_txn_begin(st, 1, &t)) {
        rt_task_requeue_at(task, proto_now() + 5);
        return RT_TASK_REQUEUE;
    }
    char key[80];
    int kl = job_key(key, sizeof key, item->id);
    struct json_object *job = kl < 0 ? NULL : cp_json_load(t, STORE_DB_CP_JOBS, key, (size_t)kl);
    int rc = 0;
    if (job && !terminal(job)) {
        struct cp_action_result res = {0};
        double to = json_object_get_double(jget(job, "timeout"));
        if (to < 120)
            cp_action_fail(&res, "The job %s was not completed by a job worker within %.0f seconds",
                           item->id, to);
        else
            cp_action_fail(&res, "The job %s was not completed by a job worker within %.0f minutes",
                           item->id, to / 60);
        res.error_code = strdup("JobFailed");
        rc = job_end(t, job, "TimedOut", &res, &kicks);
        cp_action_result_free(&res);
    } else {
        int r2 = rt_queue_remove_in(t, CP_KIND_JOB_TIMEOUT, item->id);
        if (r2 && r2 != STORE_NOTFOUND) rc = r2;
    }
    json_object_put(job);
    if (rc || store_txn_commit(t)) {
        if (rc) store_txn_abort(t);
        rt_task_requeue_at(task, proto_now() + 5);
        return RT_TASK_REQUEUE;
    }
    cp_kicks_run(&kicks);
    return RT_TASK_DONE;
}

/* ---- handlers ------------------------------------------------------------------------------- */

/* 1 when the job runs an action of owner ThirdParty: only the ThirdParty operations see it. */
static int is_third(struct json_object *job)
{
    return !strcmp(jgets_or_empty(jget(job, "actionTypeId"), "owner"), "ThirdParty");
}

/* How long a job's artifactCredentials last: the job's timeout, within the bounds of a role
 * session (15 minutes to 12 hours). A worker that outlives them calls GetJobDetails again, as on
 * AWS. */
static long creds_duration(struct json_object *job)
{
    double to = json_object_get_double(jget(job, "timeout"));
    return to < 900 ? 900 : to > 43200 ? 43200 : (long)to;
}

/* The job's data with artifactCredentials: temporary credentials of the job's account for the
 * action's role or else the pipeline's (session named after the job), issued in t when t is not
 * NULL. Should the store refuse them, the caller's own key pair, which this S3 also accepts. */
static struct json_object *data_out(struct proto_req *req, store_txn *t, struct json_object *job)
{
    struct json_object *d = NULL;
    json_object_deep_copy(jget(job, "data"), &d, NULL);
    if (!d) d = json_object_new_object();
    const char *role = jgets_or_empty(d, "_role");
    struct sts_temp_creds tc;
    int issued =
        !sts_issue_for_role(req->store, t, jgets_or_empty(job, "account"), *role ? role : NULL,
                            jgets_or_empty(job, "id"), creds_duration(job), &tc);
    json_object_object_del(d, "_role");
    if (is_third(job)) {
        /* As the model says: ThirdParty job data carries neither of these. */
        json_object_object_del(jget(d, "pipelineContext"), "pipelineArn");
        json_object_object_del(jget(d, "pipelineContext"), "pipelineExecutionId");
    }
    const char *akid = tc.access_key, *secret = tc.secret, *token = tc.token, *acct = NULL;
    if (!issued) {
        akid = req->caller.access_key ? req->caller.access_key : "";
        secret = "";
        token = "codepipeline-local-job";
        if (req->creds && req->caller.access_key)
            sigv4_creds_lookup(req->creds, req->caller.access_key, &secret, &acct);
    }
    struct json_object *c = json_object_new_object();
    json_object_object_add(c, "accessKeyId", json_object_new_string(akid));
    json_object_object_add(c, "secretAccessKey", json_object_new_string(secret ? secret : ""));
    json_object_object_add(c, "sessionToken", json_object_new_string(token));
    json_object_object_add(d, "artifactCredentials", c);
    return d;
}

/* Loads job id of the caller in t, of the ThirdParty kind when third. Returns it (caller puts)
 * or NULL. */
static struct json_object *job_load(struct proto_req *req, store_txn *t, const char *id, int third)
{
    char key[80];
    int kl = job_key(key, sizeof key, id);
    struct json_object *job = kl < 0 ? NULL : cp_json_load(t, STORE_DB_CP_JOBS, key, (size_t)kl);
    if (job &&
        (strcmp(jgets_or_empty(job, "account"), req->caller.account_id) ||
         strcmp(jgets_or_empty(job, "region"), req->caller.region) || is_third(job) != third)) {
        json_object_put(job);
        job = NULL;
    }
    return job;
}

static int no_job(struct proto_req *req, const char *id)
{
    return proto_error(req, ERR_JOB_NOT_FOUND, "Job with ID %s does not exist", id);
}

/* ThirdParty calls name the clientToken that PollForThirdPartyJobs handed out as clientId. */
static int bad_client_token(struct proto_req *req, struct json_object *job)
{
    const char *ct = jgets_or_empty(req->input, "clientToken");
    if (*ct && !strcmp(jgets_or_empty(job, "clientToken"), ct)) return 0;
    return proto_error(req, ERR_INVALID_CLIENT_TOKEN, "The client token %s is not valid for job %s",
                       ct, jgets_or_empty(job, "id"));
}

static int same_type(struct json_object *a, struct json_object *b)
{
    const char *k[] = {"category", "owner", "provider", "version", NULL};
    for (int i = 0; k[i]; i++)
        if (strcmp(jgets_or_empty(a, k[i]), jgets_or_empty(b, k[i]))) return 0;
    return 1;
}

static int poll_jobs(struct proto_req *req, int third)
{
    struct json_object *tid = jget(req->input, "actionTypeId"),
                       *qp = jget(req->input, "queryParam");
    struct json_object *mb = jget(req->input, "maxBatchSize");
    int max = mb ? json_object_get_int(mb) : 1;
    if (max < 1) max = 1;
    store_txn *t = NULL;
    store_cursor *c = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    struct json_object *type = NULL;
    if (third)
        type = !strcmp(jgets_or_empty(tid, "owner"), "ThirdParty") &&
                       cp_catalogue_find(jgets_or_empty(tid, "category"), "ThirdParty",
                                         jgets_or_empty(tid, "provider"),
                                         jgets_or_empty(tid, "version"))
                   ? json_object_new_object()
                   : NULL;
    else if (!strcmp(jgets_or_empty(tid, "owner"), "Custom"))
        type = cp_custom_action_get(
            t, req->caller.account_id, req->caller.region, jgets_or_empty(tid, "category"),
            jgets_or_empty(tid, "provider"), jgets_or_empty(tid, "version"));
    if (!type) {
        rc = proto_error(req, ERR_ACTION_TYPE_NOT_FOUND, "ActionType %s/%s/%s/%s not found",
                         jgets_or_empty(tid, "category"), jgets_or_empty(tid, "owner"),
                         jgets_or_empty(tid, "provider"), jgets_or_empty(tid, "version"));
        goto out;
    }
    json_object_put(type);
    struct json_object *found = json_object_new_array(), *dead = json_object_new_array();
    if ((rc = store_cursor_open(t, STORE_DB_CP_JOBS, &c))) {
        json_object_put(found);
        json_object_put(dead);
        rc = cp_store_error(req, rc);
        goto out;
    }
    for (int r = store_cursor_seek(c, "J", 1); r == 0 && (int)json_object_array_length(found) < max;
         r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (!kl || *(const char *)k != 'J') break;
        struct json_tokener *tok = json_tokener_new();
        struct json_object *job = json_tokener_parse_ex(tok, val, (int)vl);
        json_tokener_free(tok);
        int match = job && !strcmp(jgets_or_empty(job, "status"), "Queued") &&
                    !strcmp(jgets_or_empty(job, "account"), req->caller.account_id) &&
                    !strcmp(jgets_or_empty(job, "region"), req->caller.region) &&
                    same_type(jget(job, "actionTypeId"), tid);
        if (match && !third && qp) {
            struct json_object *cfg =
                jget(jget(jget(job, "data"), "actionConfiguration"), "configuration");
            json_object_object_foreach(qp, qk, qv)
            {
                if (strcmp(jgets_or_empty(cfg, qk), json_object_get_string(qv))) match = 0;
            }
        }
        if (match && action_live(t, job))
            json_object_array_add(found, job);
        else if (match)
            json_object_array_add(dead, job);
        else
            json_object_put(job);
    }
    store_cursor_close(c);
    c = NULL;
    /* Jobs of actions that ended without them (abandoned) are never handed out: they end Failed. */
    for (size_t i = 0; i < json_object_array_length(dead); i++) {
        struct json_object *job = json_object_array_get_idx(dead, i);
        json_object_object_add(job, "status", json_object_new_string("Failed"));
        if ((rc = job_store(t, job))) break;
        int r2 = rt_queue_remove_in(t, CP_KIND_JOB_TIMEOUT, jgets_or_empty(job, "id"));
        if (r2 && r2 != STORE_NOTFOUND) {
            rc = r2;
            break;
        }
    }
    json_object_put(dead);
    if (rc) {
        json_object_put(found);
        rc = cp_store_error(req, rc);
        goto out;
    }
    req->output = json_object_new_object();
    struct json_object *jobs = json_object_new_array();
    json_object_object_add(req->output, "jobs", jobs);
    for (size_t i = 0; i < json_object_array_length(found); i++) {
        struct json_object *job = json_object_array_get_idx(found, i);
        char nonce[33];
        proto_random_alnum(nonce, 32);
        json_object_object_add(job, "status", json_object_new_string("Dispatched"));
        json_object_object_add(job, "nonce", json_object_new_string(nonce));
        if (third) {
            char ct[33];
            proto_random_alnum(ct, 32);
            json_object_object_add(job, "clientToken", json_object_new_string(ct));
        }
        if ((rc = job_store(t, job))) break;
        struct json_object *o = json_object_new_object();
        if (third) {
            json_object_object_add(o, "clientId", json_object_get(jget(job, "clientToken")));
            json_object_object_add(o, "jobId", json_object_get(jget(job, "id")));
            json_object_array_add(jobs, o);
            continue;
        }
        json_object_object_add(o, "id", json_object_get(jget(job, "id")));
        json_object_object_add(o, "data", data_out(req, t, job));
        json_object_object_add(o, "nonce", json_object_new_string(nonce));
        json_object_object_add(o, "accountId", json_object_new_string(req->caller.account_id));
        json_object_array_add(jobs, o);
    }
    json_object_put(found);
    if (rc || (rc = store_txn_commit(t))) {
        t = NULL;
        rc = cp_store_error(req, rc);
        goto out;
    }
    t = NULL;
out:
    store_cursor_close(c);
    store_txn_abort(t);
    return rc;
}

int cp_op_poll_for_jobs(struct proto_req *req)
{
    return poll_jobs(req, 0);
}

int cp_op_poll_for_third_party_jobs(struct proto_req *req)
{
    return poll_jobs(req, 1);
}

static int acknowledge(struct proto_req *req, int third)
{
    const char *id = jgets_or_empty(req->input, "jobId"),
               *nonce = jgets_or_empty(req->input, "nonce");
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    struct json_object *job = job_load(req, t, id, third);
    if (!job) {
        rc = no_job(req, id);
        goto out;
    }
    if (third && (rc = bad_client_token(req, job))) goto out;
    if (strcmp(jgets_or_empty(job, "nonce"), nonce) || !*nonce) {
        rc = proto_error(req, ERR_INVALID_NONCE, "The nonce %s is not valid for job %s", nonce, id);
        goto out;
    }
    if (!strcmp(jgets_or_empty(job, "status"), "Dispatched")) {
        json_object_object_add(job, "status", json_object_new_string("InProgress"));
        if ((rc = job_store(t, job)) || (rc = store_txn_commit(t))) {
            t = NULL;
            rc = cp_store_error(req, rc);
            goto out;
        }
        t = NULL;
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "status", json_object_get(jget(job, "status")));
out:
    json_object_put(job);
    store_txn_abort(t);
    return rc;
}

int cp_op_acknowledge_job(struct proto_req *req)
{
    return acknowledge(req, 0);
}

int cp_op_acknowledge_third_party_job(struct proto_req *req)
{
    return acknowledge(req, 1);
}

static int job_details(struct proto_req *req, int third)
{
    const char *id = jgets_or_empty(req->input, "jobId");
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 0, &t);
    if (rc) return cp_store_error(req, rc);
    struct json_object *job = job_load(req, t, id, third);
    store_txn_abort(t);
    if (!job) return no_job(req, id);
    if (third && (rc = bad_client_token(req, job))) {
        json_object_put(job);
        return rc;
    }
    struct json_object *d = json_object_new_object();
    json_object_object_add(d, "id", json_object_get(jget(job, "id")));
    json_object_object_add(d, "data", data_out(req, NULL, job));
    if (third)
        json_object_object_add(d, "nonce", json_object_get(jget(job, "nonce")));
    else
        json_object_object_add(d, "accountId", json_object_new_string(req->caller.account_id));
    req->output = json_object_new_object();
    json_object_object_add(req->output, "jobDetails", d);
    json_object_put(job);
    return 0;
}

int cp_op_get_job_details(struct proto_req *req)
{
    return job_details(req, 0);
}

int cp_op_get_third_party_job_details(struct proto_req *req)
{
    return job_details(req, 1);
}

/* Loads a job that a result may still be put for, or sets the error. */
static int open_job(struct proto_req *req, store_txn *t, const char *id, int third,
                    struct json_object **out)
{
    struct json_object *job = job_load(req, t, id, third);
    if (!job) return no_job(req, id);
    if (third) {
        int rc = bad_client_token(req, job);
        if (rc) {
            json_object_put(job);
            return rc;
        }
    }
    if (terminal(job) || !strcmp(jgets_or_empty(job, "status"), "Queued")) {
        int rc = proto_error(req, ERR_INVALID_JOB_STATE, "Job %s is in state %s", id,
                             jgets_or_empty(job, "status"));
        json_object_put(job);
        return rc;
    }
    if (!action_live(t, job)) {
        int rc = proto_error(req, ERR_INVALID_JOB_STATE,
                             "Job %s is no longer valid: its action execution %s has ended", id,
                             jgets_or_empty(job, "actionExecutionId"));
        json_object_put(job);
        return rc;
    }
    *out = job;
    return 0;
}

static int put_success(struct proto_req *req, int third)
{
    const char *id = jgets_or_empty(req->input, "jobId");
    struct json_object *ed = jget(req->input, "executionDetails");
    struct json_object *cont = jget(req->input, "continuationToken");
    struct json_object *rev = jget(req->input, "currentRevision");
    struct json_object *vars = jget(req->input, "outputVariables");
    struct cp_kicks kicks = {0};
    struct json_object *job = NULL;
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    if ((rc = open_job(req, t, id, third, &job))) goto out;
    struct cp_action_result res = {0};
    if (jget(ed, "externalExecutionId"))
        res.external_id = strdup(jgets_or_empty(ed, "externalExecutionId"));
    if (jget(ed, "summary")) res.summary = strdup(jgets_or_empty(ed, "summary"));
    if (jget(ed, "percentComplete"))
        res.percent = json_object_get_int(jget(ed, "percentComplete")) + 1;
    if (cont) {
        /* The action carries on: this job ends and a new one with the token is queued. */
        json_object_object_add(job, "status", json_object_new_string("Succeeded"));
        if ((rc = job_store(t, job))) goto fail;
        struct json_object *data = jget(job, "data");
        json_object_object_add(data, "continuationToken", json_object_get(cont));
        char nid[37];
        rc = cp_job_create_in(
            t, jgets_or_empty(job, "account"), jgets_or_empty(job, "region"),
            jgets_or_empty(job, "pipeline"), (unsigned)json_object_get_int(jget(job, "seq")),
            json_object_get_int(jget(job, "stage")), jgets_or_empty(job, "action"),
            jgets_or_empty(job, "actionExecutionId"), jget(job, "actionTypeId"), data,
            json_object_get_double(jget(job, "timeout")), nid);
        if (!rc) cp_kicks_add(&kicks, CP_KIND_JOB_TIMEOUT, nid);
        int r2 = rt_queue_remove_in(t, CP_KIND_JOB_TIMEOUT, id);
        if (!rc && r2 && r2 != STORE_NOTFOUND) rc = r2;
        res.status = CP_ACT_WAIT;
        if (!rc)
            rc = cp_action_record_in(
                t, jgets_or_empty(job, "account"), jgets_or_empty(job, "region"),
                jgets_or_empty(job, "pipeline"), (unsigned)json_object_get_int(jget(job, "seq")),
                json_object_get_int(jget(job, "stage")), jgets_or_empty(job, "action"),
                jgets_or_empty(job, "actionExecutionId"), &res, &kicks);
    } else {
        res.status = CP_ACT_SUCCEEDED;
        struct json_object *outs = json_object_new_array(),
                           *decl_outs = jget(jget(job, "data"), "outputArtifacts");
        for (size_t i = 0; decl_outs && i < json_object_array_length(decl_outs); i++) {
            struct json_object *a = json_object_array_get_idx(decl_outs, i);
            struct json_object *s3 = jget(jget(a, "location"), "s3Location");
            struct json_object *o = json_object_new_object(), *loc = json_object_new_object();
            json_object_object_add(o, "name", json_object_get(jget(a, "name")));
            json_object_object_add(loc, "bucket", json_object_get(jget(s3, "bucketName")));
            json_object_object_add(loc, "key", json_object_get(jget(s3, "objectKey")));
            json_object_object_add(o, "s3location", loc);
            json_object_array_add(outs, o);
        }
        res.outputs = outs;
        if (vars) res.variables = json_object_get(vars);
        if (rev) {
            res.revision = json_object_new_object();
            json_object_object_add(res.revision, "revisionId",
                                   json_object_get(jget(rev, "revision")));
            if (jget(rev, "changeIdentifier"))
                json_object_object_add(res.revision, "revisionChangeIdentifier",
                                       json_object_get(jget(rev, "changeIdentifier")));
            if (jget(rev, "revisionSummary"))
                json_object_object_add(res.revision, "revisionSummary",
                                       json_object_get(jget(rev, "revisionSummary")));
            if (jget(rev, "created"))
                json_object_object_add(res.revision, "created",
                                       json_object_get(jget(rev, "created")));
        }
        rc = job_end(t, job, "Succeeded", &res, &kicks);
    }
fail:
    cp_action_result_free(&res);
    if (rc) {
        rc = cp_store_error(req, rc);
        goto out;
    }
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) {
        rc = cp_store_error(req, rc);
        goto out;
    }
    cp_kicks_run(&kicks);
out:
    json_object_put(job);
    store_txn_abort(t);
    return rc;
}

int cp_op_put_job_success_result(struct proto_req *req)
{
    return put_success(req, 0);
}

int cp_op_put_third_party_job_success_result(struct proto_req *req)
{
    return put_success(req, 1);
}

static int put_failure(struct proto_req *req, int third)
{
    const char *id = jgets_or_empty(req->input, "jobId");
    struct json_object *fd = jget(req->input, "failureDetails");
    struct cp_kicks kicks = {0};
    struct json_object *job = NULL;
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    if ((rc = open_job(req, t, id, third, &job))) goto out;
    struct cp_action_result res = {0};
    cp_action_fail(&res, "%s", jgets_or_empty(fd, "message"));
    res.error_code = strdup(*jgets_or_empty(fd, "type") ? jgets_or_empty(fd, "type") : "JobFailed");
    if (jget(fd, "externalExecutionId"))
        res.external_id = strdup(jgets_or_empty(fd, "externalExecutionId"));
    rc = job_end(t, job, "Failed", &res, &kicks);
    cp_action_result_free(&res);
    if (rc || (rc = store_txn_commit(t))) {
        t = NULL;
        rc = cp_store_error(req, rc);
        goto out;
    }
    t = NULL;
    cp_kicks_run(&kicks);
out:
    json_object_put(job);
    store_txn_abort(t);
    return rc;
}

int cp_op_put_job_failure_result(struct proto_req *req)
{
    return put_failure(req, 0);
}

int cp_op_put_third_party_job_failure_result(struct proto_req *req)
{
    return put_failure(req, 1);
}

int cp_op_put_action_revision(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = jgets_or_empty(req->input, "pipelineName"),
               *stage = jgets_or_empty(req->input, "stageName");
    const char *action = jgets_or_empty(req->input, "actionName");
    struct json_object *ar = jget(req->input, "actionRevision");
    store_txn *t = NULL;
    struct cp_kicks kicks = {0};
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    struct json_object *decl = cp_decl_load(t, acct, region, name, 0), *sd = NULL, *ad = NULL;
    if (!decl) {
        rc = proto_error(req, ERR_PIPELINE_NOT_FOUND,
                         "Account '%s' does not have a pipeline with name '%s'", acct, name);
        goto out;
    }
    struct json_object *ds = jget(decl, "stages");
    for (size_t i = 0; ds && i < json_object_array_length(ds); i++)
        if (!strcmp(jgets_or_empty(json_object_array_get_idx(ds, i), "name"), stage))
            sd = json_object_array_get_idx(ds, i);
    if (!sd) {
        rc = proto_error(req, ERR_STAGE_NOT_FOUND, "Stage %s not found in the pipeline %s", stage,
                         name);
        goto out;
    }
    struct json_object *da = jget(sd, "actions");
    for (size_t i = 0; da && i < json_object_array_length(da); i++)
        if (!strcmp(jgets_or_empty(json_object_array_get_idx(da, i), "name"), action))
            ad = json_object_array_get_idx(da, i);
    if (!ad) {
        rc = proto_error(req, ERR_ACTION_NOT_FOUND,
                         "Action %s not found in the stage %s of the pipeline %s", action, stage,
                         name);
        goto out;
    }
    /* The same revision as the last run of the action starts nothing. */
    char key[512], lk[256];
    int kl = cp_exec_key(key, sizeof key, acct, region, name, "S");
    struct json_object *state =
        kl < 0 ? NULL : cp_json_load(t, STORE_DB_CP_EXECUTIONS, key, (size_t)kl);
    snprintf(lk, sizeof lk, "%s/%s", stage, action);
    struct json_object *seqv = jget(jget(state, "actionLatest"), lk);
    int same = 0;
    if (seqv) {
        struct json_object *e =
            cp_exec_load(t, acct, region, name, (unsigned)json_object_get_int(seqv));
        struct json_object *st0 = json_object_array_get_idx(jget(e, "_stages"), 0);
        struct json_object *en = jget(jget(st0, "actions"), action);
        same = !strcmp(jgets_or_empty(jget(en, "_revision"), "revisionId"),
                       jgets_or_empty(ar, "revisionId"));
        json_object_put(e);
    }
    json_object_put(state);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "newRevision", json_object_new_boolean(!same));
    if (same) goto out;
    struct json_object *ovr = json_object_new_array(), *o = json_object_new_object();
    json_object_object_add(o, "actionName", json_object_new_string(action));
    json_object_object_add(o, "revisionType", json_object_new_string("ACTION_REVISION"));
    json_object_object_add(o, "revisionValue", json_object_get(jget(ar, "revisionId")));
    json_object_array_add(ovr, o);
    struct cp_start s = {"PutActionRevision",
                         proto_arena_printf(req->arena, "arn:aws:iam::%s:root", acct),
                         NULL,
                         ovr,
                         NULL,
                         cp_request_endpoint(req)};
    char id[37];
    rc = cp_exec_start_in(t, acct, region, name, &s, id, &kicks);
    json_object_put(ovr);
    if (rc < 0 || (rc = store_txn_commit(t))) {
        t = NULL;
        rc = cp_store_error(req, rc);
        goto out;
    }
    t = NULL;
    cp_kicks_run(&kicks);
    json_object_object_add(req->output, "pipelineExecutionId", json_object_new_string(id));
out:
    json_object_put(decl);
    store_txn_abort(t);
    return rc;
}
