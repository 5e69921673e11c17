/* ListDeployActionExecutionTargets: the instances of a CodeDeploy action's deployment, read
 * through codedeploy.h, in the shape of AWS's DeployActionExecutionTarget. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "providers/codedeploy/codedeploy.h"
#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/engine.h"
#include "providers/codepipeline/cp_json.h"

#define KEY_MAX  512
#define LIST_MAX 100

/* Finds action execution aeid in the execution record under cursor value val. Returns a copy of
 * its entry (caller puts) or NULL. */
static struct json_object *find_in(const void *val, size_t vl, const char *aeid)
{
    /* Cheap test before parsing: the id appears in the record's bytes. */
    if (!memmem(val, vl, aeid, strlen(aeid))) return NULL;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *e = json_tokener_parse_ex(tok, val, (int)vl), *found = NULL;
    json_tokener_free(tok);
    struct json_object *st = jget(e, "_stages");
    for (size_t s = 0; !found && st && s < json_object_array_length(st); s++) {
        json_object_object_foreach(jget(json_object_array_get_idx(st, s), "actions"), an, en)
        {
            (void)an;
            const char *id = jgets(en, "actionExecutionId");
            if (id && !strcmp(id, aeid)) {
                found = json_object_get(en);
                break;
            }
        }
    }
    json_object_put(e);
    return found;
}

/* Scans the execution records whose keys start with prefix for aeid. Returns its entry (caller
 * puts), or NULL with *rc 0 when missing, or a store error code in *rc. */
static struct json_object *find_action(store_txn *t, const char *prefix, size_t pl,
                                       const char *aeid, int *rc)
{
    store_cursor *c = NULL;
    struct json_object *found = NULL;
    *rc = store_cursor_open(t, STORE_DB_CP_EXECUTIONS, &c);
    if (*rc) return NULL;
    for (int r = store_cursor_seek(c, prefix, pl); r == 0 && !found; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl < pl || memcmp(k, prefix, pl)) break;
        /* execution records only: "<account>/<region>/<pipeline>#X<seq>" (no '#' in names) */
        const char *hash = memchr(k, '#', kl);
        if (!hash || (size_t)(hash - (const char *)k) + 1 >= kl || hash[1] != 'X') continue;
        found = find_in(val, vl, aeid);
    }
    store_cursor_close(c);
    return found;
}

/* 1 when status passes the TARGET_STATUS filters (none: all pass). */
static int status_wanted(struct json_object *filters, const char *status)
{
    int any = 0;
    for (size_t i = 0; filters && i < json_object_array_length(filters); i++) {
        struct json_object *f = json_object_array_get_idx(filters, i), *vals = jget(f, "values");
        if (!jgets(f, "name") || strcmp(jgets(f, "name"), "TARGET_STATUS")) continue;
        for (size_t j = 0; vals && j < json_object_array_length(vals); j++) {
            any = 1;
            if (status &&
                !strcasecmp(json_object_get_string(json_object_array_get_idx(vals, j)), status))
                return 1;
        }
    }
    return !any;
}

static struct json_object *time_or_null(double t)
{
    return t > 0 ? json_object_new_double(t) : NULL;
}

/* One DeployActionExecutionTarget from a CodeDeploy target. */
static struct json_object *target_out(const struct cd_target *tg)
{
    struct json_object *o = json_object_new_object(), *evs = json_object_new_array();
    double start = 0, end = 0;
    int open = 0;
    for (size_t i = 0; i < tg->n_events; i++) {
        const struct cd_target_event *e = &tg->events[i];
        struct json_object *ev = json_object_new_object();
        json_object_object_add(ev, "name", json_object_new_string(e->name ? e->name : ""));
        json_object_object_add(ev, "status", json_object_new_string(e->status ? e->status : ""));
        if (e->start_time > 0) json_object_object_add(ev, "startTime", time_or_null(e->start_time));
        if (e->end_time > 0) json_object_object_add(ev, "endTime", time_or_null(e->end_time));
        if (e->message && *e->message) {
            struct json_object *ctx = json_object_new_object();
            json_object_object_add(ctx, "message", json_object_new_string(e->message));
            json_object_object_add(ev, "context", ctx);
        }
        json_object_array_add(evs, ev);
        if (e->start_time > 0 && (start == 0 || e->start_time < start)) start = e->start_time;
        if (e->end_time > end) end = e->end_time;
        if (e->status && (!strcmp(e->status, "Pending") || !strcmp(e->status, "InProgress")))
            open = 1;
    }
    const char *st = tg->status ? tg->status : "Unknown";
    int done = !strcmp(st, "Succeeded") || !strcmp(st, "Failed") || !strcmp(st, "Skipped");
    json_object_object_add(o, "targetId", json_object_new_string(tg->id ? tg->id : ""));
    json_object_object_add(o, "targetType", json_object_new_string(tg->type ? tg->type : "EC2"));
    json_object_object_add(o, "status", json_object_new_string(st));
    if (start > 0) json_object_object_add(o, "startTime", json_object_new_double(start));
    if (done && !open && (end > 0 || tg->last_updated_at > 0))
        json_object_object_add(o, "endTime",
                               json_object_new_double(end > 0 ? end : tg->last_updated_at));
    json_object_object_add(o, "events", evs);
    return o;
}

int cp_op_list_deploy_action_execution_targets(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = jgets(req->input, "pipelineName");
    const char *aeid = jgets(req->input, "actionExecutionId");
    struct json_object *filters = jget(req->input, "filters"), *mr = jget(req->input, "maxResults");
    struct json_object *en = NULL;
    struct cd_target *tgs = NULL;
    size_t n = 0;
    int max = mr ? json_object_get_int(mr) : LIST_MAX, rc;
    if (max < 1 || max > LIST_MAX) max = LIST_MAX;
    long off = 0;
    const char *tok = jgets(req->input, "nextToken");
    if (tok) {
        const char *s = cp_token_decode(req->arena, tok);
        char *end = NULL;
        off = s && *s ? strtol(s, &end, 10) : -1;
        if (off < 0 || !end || *end)
            return proto_error(req, ERR_INVALID_NEXT_TOKEN, "Invalid nextToken");
    }
    if (!aeid || !*aeid)
        return proto_error(req, ERR_VALIDATION, "actionExecutionId must not be empty");
    store_txn *t = NULL;
    if ((rc = store_txn_begin(req->store, 0, &t))) return cp_store_error(req, rc);
    char prefix[KEY_MAX];
    int pl;
    if (name) {
        struct cp_pipe_hdr h;
        const char *decl;
        if ((rc = cp_pipeline_read(t, acct, region, name, &h, &decl))) {
            store_txn_abort(t);
            if (rc != STORE_NOTFOUND) return cp_store_error(req, rc);
            return proto_error(req, ERR_PIPELINE_NOT_FOUND,
                               "Account '%s' does not have a pipeline with name '%s'", acct, name);
        }
        pl = cp_exec_key(prefix, sizeof prefix, acct, region, name, "X");
    } else {
        /* No pipeline named: every execution of the account and region. */
        pl = cp_exec_key(prefix, sizeof prefix, acct, region, "", "");
        if (pl > 0) pl--; /* drop the "#" that ends the empty pipeline name */
    }
    en = pl < 0 ? NULL : find_action(t, prefix, (size_t)pl, aeid, &rc);
    store_txn_abort(t);
    if (rc) return cp_store_error(req, rc);
    if (!en) {
        rc = proto_error(req, ERR_ACTION_EXECUTION_NOT_FOUND,
                         "Action execution with id: '%s' does not exist%s%s%s", aeid,
                         name ? " for pipeline with name: '" : "", name ? name : "",
                         name ? "'" : "");
        goto out;
    }
    struct json_object *tid = jget(jget(en, "input"), "actionTypeId");
    if (!jgets(tid, "provider") || strcmp(jgets(tid, "provider"), "CodeDeploy") ||
        !jgets(tid, "category") || strcmp(jgets(tid, "category"), "Deploy")) {
        rc = proto_error(req, ERR_VALIDATION,
                         "Action execution '%s' is not a deploy action execution with targets "
                         "(provider %s)",
                         aeid, jgets(tid, "provider") ? jgets(tid, "provider") : "unknown");
        goto out;
    }
    req->output = json_object_new_object();
    struct json_object *out = json_object_new_array();
    json_object_object_add(req->output, "targets", out);
    /* The deployment id: kept in the provider state, shown as the externalExecutionId. */
    const char *did = jgets(jget(en, "_p"), "deploymentId");
    if (!did) did = jgets(jget(jget(en, "output"), "executionResult"), "externalExecutionId");
    if (!did) goto out; /* not created yet: no targets */
    const char *ar = jgets(jget(en, "input"), "region");
    rc = cd_list_deployment_targets(req->store, acct, ar ? ar : region, did, &tgs, &n);
    if (rc == CD_ENODEPLOYMENT) {
        rc = 0;
        goto out;
    }
    if (rc) {
        rc = cp_store_error(req, STORE_ERROR);
        goto out;
    }
    long seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (!status_wanted(filters, tgs[i].status)) continue;
        if (seen++ < off) continue;
        if ((int)json_object_array_length(out) == max) {
            char buf[24];
            int bl = snprintf(buf, sizeof buf, "%ld", off + max);
            json_object_object_add(
                req->output, "nextToken",
                json_object_new_string(cp_token_encode(req->arena, buf, (size_t)bl)));
            break;
        }
        json_object_array_add(out, target_out(&tgs[i]));
    }
out:
    cd_targets_free(tgs, n);
    json_object_put(en);
    return rc;
}
