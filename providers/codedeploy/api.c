/* The in-process CodeDeploy interface for the engine: the contract of codedeploy.h (the same
 * code as the HTTP operations, called with an in-process request), and the listeners. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "protocol/arena.h"
#include "providers/codedeploy/cd_internal.h"
#include "providers/codedeploy/internal.h"
#include "providers/runtime/listeners.h"

static struct rt_listeners deployment_listeners = RT_LISTENERS_INIT;

int cd_add_deployment_listener(cd_deployment_listener fn, void *ctx)
{
    return rt_listeners_add(&deployment_listeners, (rt_listener_any)fn, ctx);
}

int cd_remove_deployment_listener(int handle)
{
    return rt_listeners_remove(&deployment_listeners, handle);
}

static void call_deployment_listener(rt_listener_any fn, void *ctx, const void *ev)
{
    ((cd_deployment_listener)fn)(ctx, ev);
}

void cd_notify_deployment_done(const struct cd_deployment_done *ev)
{
    rt_listeners_notify(&deployment_listeners, call_deployment_listener, ev);
}

const char *cd_status_name(enum cd_status s)
{
    switch (s) {
    case CD_STATUS_CREATED:
        return "Created";
    case CD_STATUS_QUEUED:
        return "Queued";
    case CD_STATUS_IN_PROGRESS:
        return "InProgress";
    case CD_STATUS_SUCCEEDED:
        return "Succeeded";
    case CD_STATUS_FAILED:
        return "Failed";
    case CD_STATUS_STOPPED:
        return "Stopped";
    }
    return "Failed";
}

/* A request context for running the HTTP handlers' code in-process. */
static void fake_req(struct proto_req *r, store *st, const char *account, const char *region)
{
    memset(r, 0, sizeof *r);
    r->arena = proto_arena_new();
    r->store = st;
    r->caller.account_id = account;
    r->caller.region = region;
    r->input = json_object_new_object();
}

static void fake_free(struct proto_req *r)
{
    json_object_put(r->input);
    json_object_put(r->output);
    proto_arena_free(r->arena);
}

static const char *const bundle_names[] = {"zip", "tar", "tgz"};

int cd_create_deployment(store *st, const struct cd_start *start,
                         char deployment_id[CD_DEPLOYMENT_ID_MAX], char *err, size_t errlen)
{
    struct proto_req r;
    char id[16];
    int rc = 0;
    deployment_id[0] = '\0';
    if (err && errlen) err[0] = '\0';
    if (!st || !start || !start->account || !start->region || !start->application ||
        !start->deployment_group || !start->revision.bucket || !start->revision.key ||
        (unsigned)start->revision.bundle_type > CD_BUNDLE_TGZ) {
        if (err) snprintf(err, errlen, "a required argument is missing");
        return CD_EINVAL;
    }
    fake_req(&r, st, start->account, start->region);
    struct json_object *in = r.input, *rev = json_object_new_object(),
                       *s3 = json_object_new_object();
    json_object_object_add(in, "applicationName", json_object_new_string(start->application));
    json_object_object_add(in, "deploymentGroupName",
                           json_object_new_string(start->deployment_group));
    json_object_object_add(s3, "bucket", json_object_new_string(start->revision.bucket));
    json_object_object_add(s3, "key", json_object_new_string(start->revision.key));
    json_object_object_add(s3, "bundleType",
                           json_object_new_string(bundle_names[start->revision.bundle_type]));
    if (start->revision.version)
        json_object_object_add(s3, "version", json_object_new_string(start->revision.version));
    if (start->revision.etag)
        json_object_object_add(s3, "eTag", json_object_new_string(start->revision.etag));
    json_object_object_add(rev, "revisionType", json_object_new_string("S3"));
    json_object_object_add(rev, "s3Location", s3);
    json_object_object_add(in, "revision", rev);
    if (start->deployment_config)
        json_object_object_add(in, "deploymentConfigName",
                               json_object_new_string(start->deployment_config));
    if (start->description)
        json_object_object_add(in, "description", json_object_new_string(start->description));
    if (start->file_exists_behavior)
        json_object_object_add(in, "fileExistsBehavior",
                               json_object_new_string(start->file_exists_behavior));
    json_object_object_add(in, "ignoreApplicationStopFailures",
                           json_object_new_boolean(start->ignore_application_stop_failures));
    if (cd_create(&r, start->creator ? start->creator : "user", NULL, start->idempotency_key, id) !=
        0) {
        const char *code = proto_err_code(r.err);
        switch (r.err) {
        case ERR_CD_APPLICATION_DOES_NOT_EXIST:
            rc = CD_ENOAPP;
            break;
        case ERR_CD_DEPLOYMENT_GROUP_DOES_NOT_EXIST:
            rc = CD_ENOGROUP;
            break;
        case ERR_CD_DEPLOYMENT_LIMIT_EXCEEDED:
            rc = CD_ESTATE;
            break;
        case ERR_INTERNAL_FAILURE:
            rc = CD_EIO;
            break;
        default:
            rc = CD_EINVAL;
            break;
        }
        if (err)
            snprintf(err, errlen, "%s: %s", code ? code : "Error",
                     r.err_message ? r.err_message : "");
    } else {
        snprintf(deployment_id, CD_DEPLOYMENT_ID_MAX, "%s", id);
    }
    fake_free(&r);
    return rc;
}

int cd_stop_deployment(store *st, const char *account, const char *region,
                       const char *deployment_id, int auto_rollback)
{
    struct proto_req r;
    int rc = 0;
    if (!st || !account || !region || !deployment_id) return CD_EINVAL;
    fake_req(&r, st, account, region);
    json_object_object_add(r.input, "deploymentId", json_object_new_string(deployment_id));
    json_object_object_add(r.input, "autoRollbackEnabled", json_object_new_boolean(auto_rollback));
    if (cd_op_stop_deployment(&r) != 0)
        rc = r.err == ERR_CD_DEPLOYMENT_DOES_NOT_EXIST      ? CD_ENODEPLOYMENT
             : r.err == ERR_CD_DEPLOYMENT_ALREADY_COMPLETED ? CD_ESTATE
             : r.err == ERR_CD_INVALID_DEPLOYMENT_ID        ? CD_ENODEPLOYMENT
                                                            : CD_EIO;
    fake_free(&r);
    return rc;
}

static char *dup_str(struct json_object *o, const char *key)
{
    const char *v = cd_str(o, key);
    return v ? strdup(v) : NULL;
}

static double get_time(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

static unsigned get_count(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) ? (unsigned)json_object_get_int(v) : 0;
}

int cd_get_deployment(store *st, const char *account, const char *region, const char *deployment_id,
                      struct cd_deployment *out)
{
    store_txn *t = NULL;
    struct json_object *rec = NULL, *v;
    memset(out, 0, sizeof *out);
    if (!st || !account || !region || !deployment_id) return CD_EINVAL;
    if (store_txn_begin(st, 0, &t)) return CD_EIO;
    int r = cd_deployment_load(t, account, region, deployment_id, &rec);
    store_txn_abort(t);
    if (r == STORE_NOTFOUND) return CD_ENODEPLOYMENT;
    if (r) return CD_EIO;
    static const char *const names[] = {"Created",   "Queued", "InProgress",
                                        "Succeeded", "Failed", "Stopped"};
    const char *status = cd_str(rec, "status");
    out->status = CD_STATUS_FAILED;
    for (int i = 0; i < 6; i++)
        if (status && !strcmp(status, names[i])) out->status = (enum cd_status)i;
    out->id = dup_str(rec, "deploymentId");
    out->application = dup_str(rec, "applicationName");
    out->deployment_group = dup_str(rec, "deploymentGroupName");
    if (json_object_object_get_ex(rec, "errorInformation", &v)) {
        out->error_code = dup_str(v, "code");
        out->error_message = dup_str(v, "message");
    }
    out->create_time = get_time(rec, "createTime");
    out->start_time = get_time(rec, "startTime");
    out->complete_time = get_time(rec, "completeTime");
    if (json_object_object_get_ex(rec, "deploymentOverview", &v)) {
        out->pending = get_count(v, "Pending");
        out->in_progress = get_count(v, "InProgress");
        out->succeeded = get_count(v, "Succeeded");
        out->failed = get_count(v, "Failed");
        out->skipped = get_count(v, "Skipped");
    }
    if (json_object_object_get_ex(rec, "rollbackInfo", &v))
        out->rollback_deployment_id = dup_str(v, "rollbackDeploymentId");
    json_object_put(rec);
    return 0;
}

void cd_deployment_free(struct cd_deployment *d)
{
    free(d->id);
    free(d->application);
    free(d->deployment_group);
    free(d->error_code);
    free(d->error_message);
    free(d->rollback_deployment_id);
    memset(d, 0, sizeof *d);
}

/* ---- Targets ---- */

struct list_ctx {
    struct cd_target *v;
    size_t n, cap;
};

static int collect(void *ctx, const char *key, size_t klen, struct json_object *rec)
{
    (void)key;
    (void)klen;
    struct list_ctx *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct cd_target *v = realloc(c->v, cap * sizeof *v);
        if (!v) return STORE_ERROR;
        c->v = v;
        c->cap = cap;
    }
    struct cd_target *tg = &c->v[c->n++];
    memset(tg, 0, sizeof *tg);
    tg->id = dup_str(rec, "targetId");
    tg->arn = dup_str(rec, "targetArn");
    tg->type = dup_str(rec, "_type");
    tg->status = dup_str(rec, "status");
    tg->last_updated_at = get_time(rec, "lastUpdatedAt");
    struct json_object *evs = NULL, *diag;
    json_object_object_get_ex(rec, "lifecycleEvents", &evs);
    size_t ne = evs ? json_object_array_length(evs) : 0;
    tg->events = ne ? calloc(ne, sizeof *tg->events) : NULL;
    if (ne && !tg->events) return STORE_ERROR;
    tg->n_events = ne;
    for (size_t i = 0; i < ne; i++) {
        struct json_object *ev = json_object_array_get_idx(evs, i);
        struct cd_target_event *e = &tg->events[i];
        e->name = dup_str(ev, "lifecycleEventName");
        e->status = dup_str(ev, "status");
        e->start_time = get_time(ev, "startTime");
        e->end_time = get_time(ev, "endTime");
        if (json_object_object_get_ex(ev, "diagnostics", &diag))
            e->message = dup_str(diag, "message");
    }
    return 0;
}

int cd_list_deployment_targets(store *st, const char *account, const char *region,
                               const char *deployment_id, struct cd_target **out, size_t *n)
{
    store_txn *t = NULL;
    struct json_object *rec = NULL;
    struct list_ctx c = {0};
    char prefix[CD_KEY_MAX];
    int rc = 0;
    *out = NULL;
    *n = 0;
    if (!st || !account || !region || !deployment_id || !cd_name_ok(deployment_id))
        return CD_EINVAL;
    if (store_txn_begin(st, 0, &t)) return CD_EIO;
    int r = cd_deployment_load(t, account, region, deployment_id, &rec);
    if (r) {
        rc = r == STORE_NOTFOUND ? CD_ENODEPLOYMENT : CD_EIO;
        goto out;
    }
    int plen = cd_key(prefix, account, region, CD_K_TARGET, deployment_id, "");
    if (plen < 0 || cd_rec_each(t, STORE_DB_CD_DEPLOYMENTS, prefix, plen, collect, &c) != 0) {
        rc = CD_EIO;
        goto out;
    }
    *out = c.v;
    *n = c.n;
    c.v = NULL;
    c.n = 0;
out:
    store_txn_abort(t);
    json_object_put(rec);
    cd_targets_free(c.v, c.n);
    return rc;
}

void cd_targets_free(struct cd_target *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++) {
        free(t[i].id);
        free(t[i].arn);
        free(t[i].type);
        free(t[i].status);
        for (size_t e = 0; e < t[i].n_events; e++) {
            free(t[i].events[e].name);
            free(t[i].events[e].status);
            free(t[i].events[e].message);
        }
        free(t[i].events);
    }
    free(t);
}
