/* On-premises instances: registration, tags, reads and lists. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/codedeploy/cd_internal.h"

static int fail(struct proto_req *req)
{
    return proto_error(req, ERR_INTERNAL_FAILURE, "could not access the store");
}

static int need_instance(struct proto_req *req, const char **out)
{
    return cd_need_name(req, "instanceName", ERR_CD_INSTANCE_NAME_REQUIRED,
                        ERR_CD_INVALID_INSTANCE_NAME, "Instance", out);
}

/* Loads instance name; *out new reference. Returns 0 or InstanceNotRegisteredException. */
static int load(struct proto_req *req, store_txn *t, const char *name, struct json_object **out)
{
    char key[CD_KEY_MAX];
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_ONPREM, name, NULL);
    int r = cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, kl, out);
    if (r == STORE_NOTFOUND)
        return proto_error(req, ERR_CD_INSTANCE_NOT_REGISTERED,
                           "The on-premises instance %s is not registered", name);
    return r ? fail(req) : 0;
}

static int save(struct proto_req *req, store_txn *t, struct json_object *rec)
{
    char key[CD_KEY_MAX];
    int kl =
        cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_ONPREM, cd_str(rec, "instanceName"), NULL);
    return cd_rec_put(t, STORE_DB_CD_APPLICATIONS, key, kl, rec) ? fail(req) : 0;
}

int cd_op_register_onprem(struct proto_req *req)
{
    const char *name, *user = cd_str(req->input, "iamUserArn"),
                      *session = cd_str(req->input, "iamSessionArn");
    struct json_object *rec = NULL;
    store_txn *t = NULL;
    int rc = need_instance(req, &name);
    if (rc) return rc;
    if (user && session)
        return proto_error(req, ERR_CD_MULTIPLE_IAM_ARNS_PROVIDED,
                           "Both an IAM user ARN and an IAM session ARN were given");
    if (!user && !session)
        return proto_error(req, ERR_CD_IAM_ARN_REQUIRED,
                           "An IAM user ARN or an IAM session ARN is required");
    if (store_txn_begin(req->store, 1, &t)) return fail(req);
    char key[CD_KEY_MAX];
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_ONPREM, name, NULL);
    if (cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, kl, &rec) == 0 &&
        !json_object_object_get_ex(rec, "deregisterTime", NULL)) {
        rc = proto_error(req, ERR_CD_INSTANCE_NAME_ALREADY_REGISTERED,
                         "The on-premises instance name %s is already registered", name);
        goto out;
    }
    json_object_put(rec);
    rec = json_object_new_object();
    json_object_object_add(rec, "instanceName", json_object_new_string(name));
    if (user) json_object_object_add(rec, "iamUserArn", json_object_new_string(user));
    if (session) json_object_object_add(rec, "iamSessionArn", json_object_new_string(session));
    json_object_object_add(rec, "instanceArn",
                           json_object_new_string(proto_arena_printf(
                               req->arena, "arn:aws:codedeploy:%s:%s:instance/%s", CD_REGION(req),
                               CD_ACCT(req), name)));
    json_object_object_add(rec, "registerTime", cd_time(proto_now()));
    json_object_object_add(rec, "tags", json_object_new_array());
    if ((rc = save(req, t, rec))) goto out;
    if (store_txn_commit(t)) rc = fail(req);
    t = NULL;
out:
    store_txn_abort(t);
    json_object_put(rec);
    return rc;
}

int cd_op_deregister_onprem(struct proto_req *req)
{
    const char *name;
    struct json_object *rec = NULL;
    store_txn *t = NULL;
    int rc = need_instance(req, &name);
    if (rc) return rc;
    if (store_txn_begin(req->store, 1, &t)) return fail(req);
    if ((rc = load(req, t, name, &rec))) goto out;
    if (!json_object_object_get_ex(rec, "deregisterTime", NULL))
        json_object_object_add(rec, "deregisterTime", cd_time(proto_now()));
    if ((rc = save(req, t, rec))) goto out;
    if (store_txn_commit(t)) rc = fail(req);
    t = NULL;
out:
    store_txn_abort(t);
    json_object_put(rec);
    return rc;
}

int cd_op_get_onprem(struct proto_req *req)
{
    const char *name;
    struct json_object *rec = NULL;
    store_txn *t = NULL;
    int rc = need_instance(req, &name);
    if (rc) return rc;
    if (store_txn_begin(req->store, 0, &t)) return fail(req);
    rc = load(req, t, name, &rec);
    store_txn_abort(t);
    if (rc) return rc;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "instanceInfo", rec);
    return 0;
}

int cd_op_batch_get_onprem(struct proto_req *req)
{
    struct json_object *names = NULL, *list;
    store_txn *t = NULL;
    json_object_object_get_ex(req->input, "instanceNames", &names);
    size_t n = names ? json_object_array_length(names) : 0;
    if (n == 0)
        return proto_error(req, ERR_CD_INSTANCE_NAME_REQUIRED, "Instance names are missing");
    if (n > CD_MAX_BATCH)
        return proto_error(req, ERR_CD_BATCH_LIMIT_EXCEEDED,
                           "The maximum number of instance names that can be specified is 100");
    if (store_txn_begin(req->store, 0, &t)) return fail(req);
    list = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        char key[CD_KEY_MAX];
        struct json_object *rec = NULL;
        const char *name = json_object_get_string(json_object_array_get_idx(names, i));
        int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_ONPREM, name ? name : "", NULL);
        if (cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, kl, &rec) == 0)
            json_object_array_add(list, rec);
    }
    store_txn_abort(t);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "instanceInfos", list);
    return 0;
}

struct list_ctx {
    struct json_object *names, *filters;
    const char *status;
};

static int list_one(void *ctx, const char *key, size_t klen, struct json_object *rec)
{
    (void)key;
    (void)klen;
    struct list_ctx *c = ctx;
    int dereg = json_object_object_get_ex(rec, "deregisterTime", NULL);
    if (c->status && strcmp(c->status, "Registered") == 0 && dereg) return 0;
    if (c->status && strcmp(c->status, "Deregistered") == 0 && !dereg) return 0;
    if (c->filters && json_object_array_length(c->filters) > 0) {
        struct json_object *tags = NULL;
        json_object_object_get_ex(rec, "tags", &tags);
        /* ListOnPremisesInstances takes TagFilter ({Key, Value, Type}) as group filters do;
         * an instance must match every filter given */
        for (size_t i = 0; i < json_object_array_length(c->filters); i++) {
            struct json_object *one = json_object_new_array();
            json_object_array_add(one, json_object_get(json_object_array_get_idx(c->filters, i)));
            int ok = cd_tags_match(one, NULL, NULL, tags);
            json_object_put(one);
            if (!ok) return 0;
        }
    }
    json_object_array_add(c->names, json_object_new_string(cd_str(rec, "instanceName")));
    return 0;
}

int cd_op_list_onprem(struct proto_req *req)
{
    store_txn *t = NULL;
    char prefix[CD_KEY_MAX];
    struct list_ctx c = {json_object_new_array(), NULL, cd_str(req->input, "registrationStatus")};
    long off = cd_token_parse(cd_str(req->input, "nextToken"));
    json_object_object_get_ex(req->input, "tagFilters", &c.filters);
    if (off < 0) {
        json_object_put(c.names);
        return proto_error(req, ERR_INVALID_NEXT_TOKEN, "The next token is invalid");
    }
    int plen = cd_key(prefix, CD_ACCT(req), CD_REGION(req), CD_K_ONPREM, "", NULL);
    int r = store_txn_begin(req->store, 0, &t);
    if (!r) r = cd_rec_each(t, STORE_DB_CD_APPLICATIONS, prefix, plen, list_one, &c);
    store_txn_abort(t);
    if (r) {
        json_object_put(c.names);
        return fail(req);
    }
    struct json_object *page = json_object_new_array();
    size_t n = json_object_array_length(c.names), i;
    for (i = (size_t)off; i < n && i < (size_t)off + 100; i++)
        json_object_array_add(page, json_object_get(json_object_array_get_idx(c.names, i)));
    json_object_put(c.names);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "instanceNames", page);
    if (i < n)
        json_object_object_add(req->output, "nextToken",
                               json_object_new_string(cd_token(req->arena, i)));
    return 0;
}

/* Adds (add != 0) or removes the input's tags on every named instance. */
static int change_tags(struct proto_req *req, int add)
{
    struct json_object *tags = NULL, *names = NULL;
    store_txn *t = NULL;
    int rc = 0;
    json_object_object_get_ex(req->input, "tags", &tags);
    json_object_object_get_ex(req->input, "instanceNames", &names);
    if (!tags || json_object_array_length(tags) == 0)
        return proto_error(req, ERR_CD_TAG_REQUIRED, "Tags are missing");
    if (!names || json_object_array_length(names) == 0)
        return proto_error(req, ERR_CD_INSTANCE_NAME_REQUIRED, "Instance names are missing");
    if (json_object_array_length(tags) > 10)
        return proto_error(req, ERR_CD_TAG_LIMIT_EXCEEDED, "An instance can have at most 10 tags");
    if (store_txn_begin(req->store, 1, &t)) return fail(req);
    for (size_t i = 0; i < json_object_array_length(names) && !rc; i++) {
        struct json_object *rec = NULL, *old = NULL, *now = json_object_new_array();
        const char *name = json_object_get_string(json_object_array_get_idx(names, i));
        if ((rc = load(req, t, name ? name : "", &rec))) {
            json_object_put(now);
            break;
        }
        json_object_object_get_ex(rec, "tags", &old);
        for (size_t j = 0; old && j < json_object_array_length(old); j++) {
            struct json_object *o = json_object_array_get_idx(old, j);
            int hit = 0;
            for (size_t k = 0; k < json_object_array_length(tags); k++) {
                struct json_object *g = json_object_array_get_idx(tags, k);
                const char *gk = cd_str(g, "Key"), *gv = cd_str(g, "Value");
                if (!gk || strcmp(gk, cd_str(o, "Key")) != 0) continue;
                /* removal names a tag by key and value (a value given must match) */
                if (add || !gv || strcmp(gv, cd_str(o, "Value") ? cd_str(o, "Value") : "") == 0)
                    hit = 1;
            }
            if (!hit) json_object_array_add(now, json_object_get(o));
        }
        if (add)
            for (size_t k = 0; k < json_object_array_length(tags); k++) {
                struct json_object *g = json_object_array_get_idx(tags, k),
                                   *tag = json_object_new_object();
                json_object_object_add(
                    tag, "Key", json_object_new_string(cd_str(g, "Key") ? cd_str(g, "Key") : ""));
                json_object_object_add(
                    tag, "Value",
                    json_object_new_string(cd_str(g, "Value") ? cd_str(g, "Value") : ""));
                json_object_array_add(now, tag);
            }
        if (add && json_object_array_length(now) > 10)
            rc =
                proto_error(req, ERR_CD_TAG_LIMIT_EXCEEDED, "An instance can have at most 10 tags");
        json_object_object_add(rec, "tags", now);
        if (!rc) rc = save(req, t, rec);
        json_object_put(rec);
    }
    if (!rc && store_txn_commit(t))
        rc = fail(req);
    else if (rc)
        store_txn_abort(t);
    return rc;
}

int cd_op_add_tags_onprem(struct proto_req *req)
{
    return change_tags(req, 1);
}

int cd_op_remove_tags_onprem(struct proto_req *req)
{
    return change_tags(req, 0);
}
