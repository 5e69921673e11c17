/* Deployments: create, read, list, stop, and their targets and instances. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/codedeploy/appspec.h"
#include "providers/codedeploy/cd_internal.h"

static int fail(struct proto_req *req)
{
    return proto_error(req, ERR_INTERNAL_FAILURE, "could not access the store");
}

struct json_object *cd_public(struct json_object *rec)
{
    struct json_object *out = json_object_new_object();
    json_object_object_foreach(rec, k, v)
    {
        if (k[0] != '_') json_object_object_add(out, k, json_object_get(v));
    }
    return out;
}

int cd_deployment_load(store_txn *t, const char *account, const char *region, const char *id,
                       struct json_object **out)
{
    char key[CD_KEY_MAX];
    int kl = cd_key(key, account, region, CD_K_DEPLOY, id, NULL);
    return cd_rec_get(t, STORE_DB_CD_DEPLOYMENTS, key, kl, out);
}

int cd_deployment_save(store_txn *t, const char *account, const char *region,
                       struct json_object *rec)
{
    char key[CD_KEY_MAX];
    int kl = cd_key(key, account, region, CD_K_DEPLOY, cd_str(rec, "deploymentId"), NULL);
    return cd_rec_put(t, STORE_DB_CD_DEPLOYMENTS, key, kl, rec);
}

int cd_target_save(store_txn *t, const char *account, const char *region, const char *id,
                   struct json_object *target)
{
    char key[CD_KEY_MAX];
    int kl = cd_key(key, account, region, CD_K_TARGET, id, cd_str(target, "targetId"));
    return cd_rec_put(t, STORE_DB_CD_DEPLOYMENTS, key, kl, target);
}

int cd_active_key(char *key, const char *account, const char *region, const char *app,
                  const char *group)
{
    return cd_key(key, account, region, "active", app, group);
}

static struct json_object *new_target(const char *id, struct json_object *inst, double now)
{
    struct json_object *t = json_object_new_object(), *events = json_object_new_array();
    json_object_object_add(t, "deploymentId", json_object_new_string(id));
    json_object_object_add(t, "targetId", json_object_new_string(cd_str(inst, "id")));
    json_object_object_add(t, "targetArn", json_object_new_string(cd_str(inst, "arn")));
    json_object_object_add(t, "status", json_object_new_string("Pending"));
    json_object_object_add(t, "lastUpdatedAt", cd_time(now));
    for (int e = 0; e < CD_EV__COUNT; e++) {
        struct json_object *ev = json_object_new_object();
        json_object_object_add(ev, "lifecycleEventName",
                               json_object_new_string(cd_event_name((enum cd_event)e)));
        json_object_object_add(ev, "status", json_object_new_string("Pending"));
        json_object_array_add(events, ev);
    }
    json_object_object_add(t, "lifecycleEvents", events);
    json_object_object_add(t, "_type", json_object_new_string(cd_str(inst, "type")));
    return t;
}

/* A deployment id: "d-" and 9 characters of [A-Z0-9], as AWS's. */
static void new_id(char out[12])
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char r[10];
    proto_random_alnum(r, 9);
    out[0] = 'd';
    out[1] = '-';
    for (int i = 0; i < 9; i++)
        out[2 + i] = set[(unsigned char)r[i] % 36];
    out[11] = '\0';
}

int cd_create(struct proto_req *req, const char *creator, const char *rollback_of, const char *idem,
              char id[16])
{
    const char *app, *group = cd_str(req->input, "deploymentGroupName");
    struct json_object *appr = NULL, *grp = NULL, *rev = NULL, *cfg = NULL, *rec = NULL,
                       *insts = NULL, *arc = NULL, *v;
    store_txn *t = NULL;
    char key[CD_KEY_MAX];
    int rc = cd_need_name(req, "applicationName", ERR_CD_APPLICATION_NAME_REQUIRED,
                          ERR_CD_INVALID_APPLICATION_NAME, "Application", &app);
    if (rc) return rc;
    if (!group || !*group)
        return proto_error(req, ERR_CD_DEPLOYMENT_GROUP_NAME_REQUIRED,
                           "Deployment Group name is missing");
    json_object_object_get_ex(req->input, "revision", &rev);
    if (store_txn_begin(req->store, 1, &t)) return fail(req);
    char ikey[CD_KEY_MAX];
    int ikl = idem ? cd_key(ikey, CD_ACCT(req), CD_REGION(req), CD_K_IDEM, idem, NULL) : -1;
    if (idem && ikl < 0) {
        rc = proto_error(req, ERR_VALIDATION, "The idempotency key is too long");
        goto out;
    }
    if (ikl >= 0) {
        const void *iv;
        size_t ivl;
        int g = store_get(t, STORE_DB_CD_DEPLOYMENTS, ikey, (size_t)ikl, &iv, &ivl);
        if (g == 0 && ivl < 16) {
            /* Created before under this key: hand that one back, never a second. */
            memcpy(id, iv, ivl);
            id[ivl] = '\0';
            goto out;
        }
        if (g != STORE_NOTFOUND) {
            rc = fail(req);
            goto out;
        }
    }
    if ((rc = cd_app_load(req, t, app, &appr))) goto out;
    if ((rc = cd_group_load(req, t, app, group, &grp))) goto out;
    if (!rev) {
        rc = proto_error(req, ERR_CD_REVISION_REQUIRED, "Revision is missing");
        goto out;
    }
    const char *platform = cd_str(grp, "computePlatform");
    if (!platform) platform = "Server";
    if (strcmp(platform, "Server") == 0) {
        const char *type = cd_str(rev, "revisionType");
        struct json_object *s3 = NULL;
        json_object_object_get_ex(rev, "s3Location", &s3);
        const char *bt = cd_str(s3, "bundleType");
        if (type && strcmp(type, "S3") != 0) {
            rc =
                proto_error(req, ERR_CD_INVALID_REVISION,
                            "Only S3 revisions are simulated by codepipeline-local (not %s)", type);
            goto out;
        }
        if (bt && strcmp(bt, "zip") && strcmp(bt, "tar") && strcmp(bt, "tgz")) {
            rc = proto_error(req, ERR_CD_INVALID_REVISION,
                             "The bundle type %s is not valid for the Server compute platform: "
                             "use zip, tar or tgz",
                             bt);
            goto out;
        }
    }
    if ((rc = cd_revision_note(req, t, app, rev, NULL, group))) goto out;
    const char *cfg_name = cd_str(req->input, "deploymentConfigName");
    if (!cfg_name) cfg_name = cd_str(grp, "deploymentConfigName");
    if (!cfg_name) cfg_name = "CodeDeployDefault.OneAtATime";
    int r = cd_config_lookup(t, CD_ACCT(req), CD_REGION(req), cfg_name, &cfg);
    if (r == STORE_NOTFOUND) {
        rc = proto_error(req, ERR_CD_DEPLOYMENT_CONFIG_DOES_NOT_EXIST,
                         "No deployment configuration found for name: %s", cfg_name);
        goto out;
    }
    if (r) {
        rc = fail(req);
        goto out;
    }
    /* one deployment at a time per group, as AWS */
    int akl = cd_active_key(key, CD_ACCT(req), CD_REGION(req), app, group);
    const void *av;
    size_t avl;
    if (store_get(t, STORE_DB_CD_DEPLOYMENTS, key, (size_t)akl, &av, &avl) == 0) {
        rc = proto_error(req, ERR_CD_DEPLOYMENT_LIMIT_EXCEEDED,
                         "The Deployment Group '%s' already has an active Deployment '%.*s'", group,
                         (int)avl, (const char *)av);
        goto out;
    }
    if (cd_group_instances(t, CD_ACCT(req), CD_REGION(req), grp, &insts)) {
        rc = fail(req);
        goto out;
    }
    new_id(id);
    double now = proto_now();
    rec = json_object_new_object();
    json_object_object_add(rec, "applicationName", json_object_new_string(app));
    json_object_object_add(rec, "deploymentGroupName", json_object_new_string(group));
    json_object_object_add(rec, "deploymentConfigName", json_object_new_string(cfg_name));
    json_object_object_add(rec, "deploymentId", json_object_new_string(id));
    struct json_object *last = NULL;
    if (json_object_object_get_ex(grp, "targetRevision", &last))
        json_object_object_add(rec, "previousRevision", json_object_get(last));
    json_object_object_add(rec, "revision", json_object_get(rev));
    json_object_object_add(rec, "status", json_object_new_string("Created"));
    json_object_object_add(rec, "createTime", cd_time(now));
    struct json_object *ov = json_object_new_object();
    json_object_object_add(ov, "Pending",
                           json_object_new_int((int)json_object_array_length(insts)));
    json_object_object_add(ov, "InProgress", json_object_new_int(0));
    json_object_object_add(ov, "Succeeded", json_object_new_int(0));
    json_object_object_add(ov, "Failed", json_object_new_int(0));
    json_object_object_add(ov, "Skipped", json_object_new_int(0));
    json_object_object_add(ov, "Ready", json_object_new_int(0));
    json_object_object_add(rec, "deploymentOverview", ov);
    if (cd_str(req->input, "description"))
        json_object_object_add(rec, "description",
                               json_object_new_string(cd_str(req->input, "description")));
    json_object_object_add(rec, "creator", json_object_new_string(creator));
    json_object_object_add(
        rec, "ignoreApplicationStopFailures",
        json_object_new_boolean(cd_bool(req->input, "ignoreApplicationStopFailures")));
    if (!json_object_object_get_ex(req->input, "autoRollbackConfiguration", &arc))
        json_object_object_get_ex(grp, "autoRollbackConfiguration", &arc);
    if (arc) json_object_object_add(rec, "autoRollbackConfiguration", json_object_get(arc));
    json_object_object_add(rec, "updateOutdatedInstancesOnly", json_object_new_boolean(0));
    if (json_object_object_get_ex(grp, "deploymentStyle", &v))
        json_object_object_add(rec, "deploymentStyle", json_object_get(v));
    json_object_object_add(rec, "instanceTerminationWaitTimeStarted", json_object_new_boolean(0));
    const char *feb = cd_str(req->input, "fileExistsBehavior");
    json_object_object_add(rec, "fileExistsBehavior",
                           json_object_new_string(feb ? feb : "DISALLOW"));
    json_object_object_add(rec, "deploymentStatusMessages", json_object_new_array());
    json_object_object_add(rec, "computePlatform", json_object_new_string(platform));
    if (rollback_of) {
        struct json_object *ri = json_object_new_object();
        json_object_object_add(ri, "rollbackTriggeringDeploymentId",
                               json_object_new_string(rollback_of));
        json_object_object_add(
            ri, "rollbackMessage",
            json_object_new_string(proto_arena_printf(
                req->arena, "Rollback of deployment %s to the last successful revision",
                rollback_of)));
        json_object_object_add(rec, "rollbackInfo", ri);
    }
    json_object_object_add(rec, "_groupId",
                           json_object_new_string(cd_str(grp, "deploymentGroupId")));
    json_object_object_add(rec, "_config", json_object_get(cfg));
    json_object_object_add(rec, "_instances", json_object_get(insts));
    if (idem) json_object_object_add(rec, "_idempotencyKey", json_object_new_string(idem));
    if (cd_deployment_save(t, CD_ACCT(req), CD_REGION(req), rec) ||
        store_put(t, STORE_DB_CD_DEPLOYMENTS, key, (size_t)akl, id, strlen(id)) ||
        (ikl >= 0 && store_put(t, STORE_DB_CD_DEPLOYMENTS, ikey, (size_t)ikl, id, strlen(id)))) {
        rc = fail(req);
        goto out;
    }
    for (size_t i = 0; i < json_object_array_length(insts); i++) {
        struct json_object *tg = new_target(id, json_object_array_get_idx(insts, i), now);
        int w = cd_target_save(t, CD_ACCT(req), CD_REGION(req), id, tg);
        json_object_put(tg);
        if (w) {
            rc = fail(req);
            goto out;
        }
    }
    /* the queue item commits with the record: no deployment without its work, none twice */
    if (cd_agent_enqueue_in(t, CD_ACCT(req), CD_REGION(req), id) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not queue the deployment");
        goto out;
    }
    r = store_txn_commit(t);
    t = NULL;
    if (r) {
        rc = fail(req);
        goto out;
    }
    cd_agent_kick(id);
out:
    store_txn_abort(t);
    json_object_put(appr);
    json_object_put(grp);
    json_object_put(cfg);
    json_object_put(rec);
    json_object_put(insts);
    return rc;
}

int cd_op_create_deployment(struct proto_req *req)
{
    char id[16];
    int rc = cd_create(req, "user", NULL, NULL, id);
    if (rc) return rc;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "deploymentId", json_object_new_string(id));
    return 0;
}

static int need_id(struct proto_req *req, const char **id)
{
    *id = cd_str(req->input, "deploymentId");
    if (!*id || !**id)
        return proto_error(req, ERR_CD_DEPLOYMENT_ID_REQUIRED, "Deployment id is missing");
    if (strlen(*id) > 64 || !cd_name_ok(*id))
        return proto_error(req, ERR_CD_INVALID_DEPLOYMENT_ID, "Deployment id is invalid: %s", *id);
    return 0;
}

static int load_or_fail(struct proto_req *req, store_txn *t, const char *id,
                        struct json_object **rec)
{
    int r = cd_deployment_load(t, CD_ACCT(req), CD_REGION(req), id, rec);
    if (r == STORE_NOTFOUND)
        return proto_error(req, ERR_CD_DEPLOYMENT_DOES_NOT_EXIST,
                           "The deployment %s could not be found.", id);
    return r ? fail(req) : 0;
}

int cd_op_get_deployment(struct proto_req *req)
{
    const char *id;
    struct json_object *rec = NULL;
    store_txn *t = NULL;
    int rc = need_id(req, &id);
    if (rc) return rc;
    if (store_txn_begin(req->store, 0, &t)) return fail(req);
    rc = load_or_fail(req, t, id, &rec);
    store_txn_abort(t);
    if (rc) return rc;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "deploymentInfo", cd_public(rec));
    json_object_put(rec);
    return 0;
}

int cd_op_batch_get_deployments(struct proto_req *req)
{
    struct json_object *ids = NULL, *list;
    store_txn *t = NULL;
    json_object_object_get_ex(req->input, "deploymentIds", &ids);
    size_t n = ids ? json_object_array_length(ids) : 0;
    if (n == 0)
        return proto_error(req, ERR_CD_DEPLOYMENT_ID_REQUIRED, "Deployment ids are missing");
    if (n > 25)
        return proto_error(req, ERR_CD_BATCH_LIMIT_EXCEEDED,
                           "The maximum number of deployment ids that can be specified is 25");
    if (store_txn_begin(req->store, 0, &t)) return fail(req);
    list = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct json_object *rec = NULL;
        const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
        if (id && cd_deployment_load(t, CD_ACCT(req), CD_REGION(req), id, &rec) == 0) {
            json_object_array_add(list, cd_public(rec));
            json_object_put(rec);
        }
    }
    store_txn_abort(t);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "deploymentsInfo", list);
    return 0;
}

struct list_ctx {
    struct json_object *list, *statuses;
    const char *app, *group, *external;
    double start, end;
};

static int collect_deployment(void *ctx, const char *key, size_t klen, struct json_object *rec)
{
    (void)key;
    (void)klen;
    struct list_ctx *c = ctx;
    struct json_object *ct;
    if (c->app && strcmp(c->app, cd_str(rec, "applicationName"))) return 0;
    if (c->group && strcmp(c->group, cd_str(rec, "deploymentGroupName"))) return 0;
    if (c->external &&
        (!cd_str(rec, "externalId") || strcmp(c->external, cd_str(rec, "externalId"))))
        return 0;
    if (c->statuses && json_object_array_length(c->statuses) > 0) {
        int hit = 0;
        for (size_t i = 0; i < json_object_array_length(c->statuses); i++)
            hit |= strcmp(json_object_get_string(json_object_array_get_idx(c->statuses, i)),
                          cd_str(rec, "status")) == 0;
        if (!hit) return 0;
    }
    json_object_object_get_ex(rec, "createTime", &ct);
    double when = json_object_get_double(ct);
    if (c->start > 0 && when < c->start) return 0;
    if (c->end > 0 && when > c->end) return 0;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(cd_str(rec, "deploymentId")));
    json_object_object_add(o, "t", json_object_new_double(when));
    json_object_array_add(c->list, o);
    return 0;
}

static int newest_first(const void *a, const void *b)
{
    struct json_object *x = *(struct json_object *const *)a, *y = *(struct json_object *const *)b;
    double tx = json_object_get_double(json_object_object_get(x, "t")),
           ty = json_object_get_double(json_object_object_get(y, "t"));
    if (tx != ty) return tx > ty ? -1 : 1;
    return strcmp(cd_str(x, "id"), cd_str(y, "id"));
}

int cd_op_list_deployments(struct proto_req *req)
{
    store_txn *t = NULL;
    char prefix[CD_KEY_MAX];
    struct json_object *range = NULL, *v;
    struct list_ctx c = {0};
    int rc = 0;
    long off = cd_token_parse(cd_str(req->input, "nextToken"));
    if (off < 0) return proto_error(req, ERR_INVALID_NEXT_TOKEN, "The next token is invalid");
    c.app = cd_str(req->input, "applicationName");
    c.group = cd_str(req->input, "deploymentGroupName");
    c.external = cd_str(req->input, "externalId");
    json_object_object_get_ex(req->input, "includeOnlyStatuses", &c.statuses);
    if (json_object_object_get_ex(req->input, "createTimeRange", &range)) {
        if (json_object_object_get_ex(range, "start", &v)) c.start = json_object_get_double(v);
        if (json_object_object_get_ex(range, "end", &v)) c.end = json_object_get_double(v);
    }
    if (c.group && !c.app)
        return proto_error(req, ERR_CD_APPLICATION_NAME_REQUIRED,
                           "An application name is required with a deployment group name");
    if (c.app && !c.group)
        return proto_error(req, ERR_CD_DEPLOYMENT_GROUP_NAME_REQUIRED,
                           "A deployment group name is required with an application name");
    if (store_txn_begin(req->store, 0, &t)) return fail(req);
    if (c.app) {
        struct json_object *g = NULL;
        if ((rc = cd_app_load(req, t, c.app, NULL)) ||
            (rc = cd_group_load(req, t, c.app, c.group, &g))) {
            store_txn_abort(t);
            return rc;
        }
        json_object_put(g);
    }
    c.list = json_object_new_array();
    int plen = cd_key(prefix, CD_ACCT(req), CD_REGION(req), CD_K_DEPLOY, "", NULL);
    int r = cd_rec_each(t, STORE_DB_CD_DEPLOYMENTS, prefix, plen, collect_deployment, &c);
    store_txn_abort(t);
    if (r < 0) {
        json_object_put(c.list);
        return fail(req);
    }
    json_object_array_sort(c.list, newest_first);
    struct json_object *page = json_object_new_array();
    size_t n = json_object_array_length(c.list), i;
    for (i = (size_t)off; i < n && i < (size_t)off + 100; i++)
        json_object_array_add(
            page, json_object_new_string(cd_str(json_object_array_get_idx(c.list, i), "id")));
    json_object_put(c.list);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "deployments", page);
    if (i < n)
        json_object_object_add(req->output, "nextToken",
                               json_object_new_string(cd_token(req->arena, i)));
    return 0;
}

int cd_op_stop_deployment(struct proto_req *req)
{
    const char *id;
    struct json_object *rec = NULL;
    store_txn *t = NULL;
    int rc = need_id(req, &id);
    if (rc) return rc;
    if (store_txn_begin(req->store, 1, &t)) return fail(req);
    if ((rc = load_or_fail(req, t, id, &rec))) goto out;
    const char *st = cd_str(rec, "status");
    if (!strcmp(st, "Succeeded") || !strcmp(st, "Failed") || !strcmp(st, "Stopped")) {
        rc = proto_error(req, ERR_CD_DEPLOYMENT_ALREADY_COMPLETED,
                         "The deployment %s has already completed.", id);
        goto out;
    }
    json_object_object_add(rec, "_stopRequested", json_object_new_boolean(1));
    json_object_object_add(rec, "_stopRollback",
                           json_object_new_boolean(cd_bool(req->input, "autoRollbackEnabled")));
    if (cd_deployment_save(t, CD_ACCT(req), CD_REGION(req), rec) || store_txn_commit(t)) {
        t = NULL;
        rc = fail(req);
        goto out;
    }
    t = NULL;
    if (!cd_agent_stop(req->store, CD_ACCT(req), CD_REGION(req), id))
        /* no worker has it (a restart came between): settle it here */
        cd_agent_settle(req->store, CD_ACCT(req), CD_REGION(req), id,
                        "The deployment was stopped by the user.");
    req->output = json_object_new_object();
    json_object_object_add(req->output, "status", json_object_new_string("Pending"));
    json_object_object_add(
        req->output, "statusMessage",
        json_object_new_string("Stopping Pending. Stopping to schedule commands in the deployment "
                               "instances"));
out:
    store_txn_abort(t);
    json_object_put(rec);
    return rc;
}

/* ---- Targets and instances ---- */

static int load_target(struct proto_req *req, store_txn *t, const char *id, const char *target,
                       struct json_object **out)
{
    char key[CD_KEY_MAX];
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_TARGET, id, target);
    return cd_rec_get(t, STORE_DB_CD_DEPLOYMENTS, key, kl, out);
}

/* Finds the target of an instance id or ARN. */
static int load_instance(struct proto_req *req, store_txn *t, const char *id, const char *inst,
                         struct json_object **out)
{
    const char *slash = strrchr(inst, '/');
    if (strncmp(inst, "arn:", 4) == 0 && slash) inst = slash + 1;
    return load_target(req, t, id, inst, out);
}

struct targets_ctx {
    struct json_object *list, *statuses;
};

static int collect_target(void *ctx, const char *key, size_t klen, struct json_object *rec)
{
    (void)key;
    (void)klen;
    struct targets_ctx *c = ctx;
    if (c->statuses && json_object_array_length(c->statuses) > 0) {
        int hit = 0;
        for (size_t i = 0; i < json_object_array_length(c->statuses); i++)
            hit |= strcmp(json_object_get_string(json_object_array_get_idx(c->statuses, i)),
                          cd_str(rec, "status")) == 0;
        if (!hit) return 0;
    }
    json_object_array_add(c->list, json_object_new_string(cd_str(rec, "targetId")));
    return 0;
}

/* Lists target ids of the deployment in the input, filtered by statuses; member: the output
 * list's name. */
static int list_targets(struct proto_req *req, struct json_object *statuses, const char *member)
{
    const char *id;
    struct json_object *rec = NULL;
    store_txn *t = NULL;
    char prefix[CD_KEY_MAX];
    int rc = need_id(req, &id);
    if (rc) return rc;
    long off = cd_token_parse(cd_str(req->input, "nextToken"));
    if (off < 0) return proto_error(req, ERR_INVALID_NEXT_TOKEN, "The next token is invalid");
    if (store_txn_begin(req->store, 0, &t)) return fail(req);
    if ((rc = load_or_fail(req, t, id, &rec))) {
        store_txn_abort(t);
        return rc;
    }
    json_object_put(rec);
    struct targets_ctx c = {json_object_new_array(), statuses};
    int plen = cd_key(prefix, CD_ACCT(req), CD_REGION(req), CD_K_TARGET, id, "");
    int r = cd_rec_each(t, STORE_DB_CD_DEPLOYMENTS, prefix, plen, collect_target, &c);
    store_txn_abort(t);
    if (r < 0) {
        json_object_put(c.list);
        return fail(req);
    }
    struct json_object *page = json_object_new_array();
    size_t n = json_object_array_length(c.list), i;
    for (i = (size_t)off; i < n && i < (size_t)off + 100; i++)
        json_object_array_add(page, json_object_get(json_object_array_get_idx(c.list, i)));
    json_object_put(c.list);
    req->output = json_object_new_object();
    json_object_object_add(req->output, member, page);
    if (i < n)
        json_object_object_add(req->output, "nextToken",
                               json_object_new_string(cd_token(req->arena, i)));
    return 0;
}

int cd_op_list_deployment_targets(struct proto_req *req)
{
    struct json_object *filters = NULL, *statuses = NULL;
    if (json_object_object_get_ex(req->input, "targetFilters", &filters))
        json_object_object_get_ex(filters, "TargetStatus", &statuses);
    return list_targets(req, statuses, "targetIds");
}

int cd_op_list_deployment_instances(struct proto_req *req)
{
    struct json_object *statuses = NULL;
    json_object_object_get_ex(req->input, "instanceStatusFilter", &statuses);
    return list_targets(req, statuses, "instancesList");
}

static struct json_object *as_deployment_target(struct json_object *target)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "deploymentTargetType", json_object_new_string("InstanceTarget"));
    json_object_object_add(o, "instanceTarget", cd_public(target));
    return o;
}

static struct json_object *as_instance_summary(struct json_object *target)
{
    struct json_object *o = json_object_new_object(), *v;
    json_object_object_add(o, "deploymentId",
                           json_object_new_string(cd_str(target, "deploymentId")));
    json_object_object_add(o, "instanceId", json_object_new_string(cd_str(target, "targetArn")));
    json_object_object_add(o, "status", json_object_new_string(cd_str(target, "status")));
    if (json_object_object_get_ex(target, "lastUpdatedAt", &v))
        json_object_object_add(o, "lastUpdatedAt", json_object_get(v));
    if (json_object_object_get_ex(target, "lifecycleEvents", &v))
        json_object_object_add(o, "lifecycleEvents", json_object_get(v));
    return o;
}

/* Reads targets of the input's deployment: ids_member names the list; each found one goes
 * through wrap into out_member. missing_err: the error for an unknown one (0: left out). */
static int batch_targets(struct proto_req *req, const char *ids_member, const char *out_member,
                         struct json_object *(*wrap)(struct json_object *), int missing_err,
                         enum proto_err required_err)
{
    const char *id;
    struct json_object *ids = NULL, *rec = NULL, *list;
    store_txn *t = NULL;
    int rc = need_id(req, &id);
    if (rc) return rc;
    json_object_object_get_ex(req->input, ids_member, &ids);
    size_t n = ids ? json_object_array_length(ids) : 0;
    if (n == 0) return proto_error(req, required_err, "Target ids are missing");
    if (n > CD_MAX_BATCH)
        return proto_error(req, ERR_CD_BATCH_LIMIT_EXCEEDED,
                           "The maximum number of targets that can be specified is 100");
    if (store_txn_begin(req->store, 0, &t)) return fail(req);
    if ((rc = load_or_fail(req, t, id, &rec))) {
        store_txn_abort(t);
        return rc;
    }
    json_object_put(rec);
    list = json_object_new_array();
    for (size_t i = 0; i < n && !rc; i++) {
        const char *tid = json_object_get_string(json_object_array_get_idx(ids, i));
        struct json_object *tg = NULL;
        if (tid && load_instance(req, t, id, tid, &tg) == 0) {
            json_object_array_add(list, wrap(tg));
            json_object_put(tg);
        } else if (missing_err) {
            rc = proto_error(req, (enum proto_err)missing_err,
                             "The target %s does not exist in deployment %s", tid ? tid : "", id);
        }
    }
    store_txn_abort(t);
    if (rc) {
        json_object_put(list);
        return rc;
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, out_member, list);
    return 0;
}

int cd_op_batch_get_deployment_targets(struct proto_req *req)
{
    return batch_targets(req, "targetIds", "deploymentTargets", as_deployment_target,
                         ERR_CD_DEPLOYMENT_TARGET_DOES_NOT_EXIST,
                         ERR_CD_DEPLOYMENT_TARGET_ID_REQUIRED);
}

int cd_op_batch_get_deployment_instances(struct proto_req *req)
{
    int rc = batch_targets(req, "instanceIds", "instancesSummary", as_instance_summary, 0,
                           ERR_CD_INSTANCE_ID_REQUIRED);
    if (!rc) json_object_object_add(req->output, "errorMessage", json_object_new_string(""));
    return rc;
}

/* One target: target_member names the input's id, err its absence. */
static int get_one(struct proto_req *req, const char *member, enum proto_err required,
                   enum proto_err missing, struct json_object **out)
{
    const char *id, *tid = cd_str(req->input, member);
    struct json_object *rec = NULL;
    store_txn *t = NULL;
    int rc = need_id(req, &id);
    if (rc) return rc;
    if (!tid || !*tid) return proto_error(req, required, "The %s is missing", member);
    if (store_txn_begin(req->store, 0, &t)) return fail(req);
    if (!(rc = load_or_fail(req, t, id, &rec)) && load_instance(req, t, id, tid, out) != 0)
        rc = proto_error(req, missing, "The instance %s is not part of deployment %s", tid, id);
    store_txn_abort(t);
    json_object_put(rec);
    return rc;
}

int cd_op_get_deployment_target(struct proto_req *req)
{
    struct json_object *tg = NULL;
    int rc = get_one(req, "targetId", ERR_CD_DEPLOYMENT_TARGET_ID_REQUIRED,
                     ERR_CD_DEPLOYMENT_TARGET_DOES_NOT_EXIST, &tg);
    if (rc) return rc;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "deploymentTarget", as_deployment_target(tg));
    json_object_put(tg);
    return 0;
}

int cd_op_get_deployment_instance(struct proto_req *req)
{
    struct json_object *tg = NULL;
    int rc = get_one(req, "instanceId", ERR_CD_INSTANCE_ID_REQUIRED, ERR_CD_INSTANCE_DOES_NOT_EXIST,
                     &tg);
    if (rc) return rc;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "instanceSummary", as_instance_summary(tg));
    json_object_put(tg);
    return 0;
}
