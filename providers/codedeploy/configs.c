/* Deployment configurations: the built-in CodeDeployDefault ones and the account's own. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/codedeploy/cd_internal.h"

struct builtin {
    const char *name, *id, *platform;
    const char *type; /* minimumHealthyHosts type, NULL for Lambda/ECS */
    int value;
};

/* AWS's built-ins. OneAtATime answers MOST_CONCURRENCY 1, as the API reference of
 * MinimumHealthyHosts says GetDeploymentConfig does. */
static const struct builtin builtins[] = {
    {"CodeDeployDefault.AllAtOnce", "a1b2c3d4-0001-4000-8000-000000000001", "Server", "HOST_COUNT",
     0},
    {"CodeDeployDefault.HalfAtATime", "a1b2c3d4-0001-4000-8000-000000000002", "Server",
     "FLEET_PERCENT", 50},
    {"CodeDeployDefault.OneAtATime", "a1b2c3d4-0001-4000-8000-000000000003", "Server",
     "MOST_CONCURRENCY", 1},
    {"CodeDeployDefault.LambdaAllAtOnce", "a1b2c3d4-0001-4000-8000-000000000004", "Lambda", NULL,
     0},
    {"CodeDeployDefault.ECSAllAtOnce", "a1b2c3d4-0001-4000-8000-000000000005", "ECS", NULL, 0},
};
#define N_BUILTINS (sizeof builtins / sizeof builtins[0])

static struct json_object *builtin_json(const struct builtin *b)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "deploymentConfigId", json_object_new_string(b->id));
    json_object_object_add(o, "deploymentConfigName", json_object_new_string(b->name));
    if (b->type) {
        struct json_object *m = json_object_new_object();
        json_object_object_add(m, "type", json_object_new_string(b->type));
        json_object_object_add(m, "value", json_object_new_int(b->value));
        json_object_object_add(o, "minimumHealthyHosts", m);
    } else {
        struct json_object *r = json_object_new_object();
        json_object_object_add(r, "type", json_object_new_string("AllAtOnce"));
        json_object_object_add(o, "trafficRoutingConfig", r);
    }
    json_object_object_add(o, "createTime", cd_time(1407878168.0));
    json_object_object_add(o, "computePlatform", json_object_new_string(b->platform));
    return o;
}

int cd_config_lookup(store_txn *t, const char *account, const char *region, const char *name,
                     struct json_object **out)
{
    char key[CD_KEY_MAX];
    for (size_t i = 0; i < N_BUILTINS; i++)
        if (strcmp(builtins[i].name, name) == 0) {
            *out = builtin_json(&builtins[i]);
            return 0;
        }
    int kl = cd_key(key, account, region, CD_K_CONFIG, name, NULL);
    return cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, kl, out);
}

static int need_config_name(struct proto_req *req, const char **out)
{
    return cd_need_name(req, "deploymentConfigName", ERR_CD_DEPLOYMENT_CONFIG_NAME_REQUIRED,
                        ERR_CD_INVALID_DEPLOYMENT_CONFIG_NAME, "Deployment config", out);
}

int cd_op_create_config(struct proto_req *req)
{
    const char *name, *platform = cd_str(req->input, "computePlatform");
    struct json_object *mhh = NULL, *routing = NULL, *zonal = NULL, *rec = NULL;
    store_txn *t = NULL;
    char key[CD_KEY_MAX], id[37];
    int rc = need_config_name(req, &name);
    if (rc) return rc;
    if (strncmp(name, "CodeDeployDefault.", 18) == 0)
        return proto_error(req, ERR_CD_INVALID_DEPLOYMENT_CONFIG_NAME,
                           "Deployment config names cannot start with CodeDeployDefault.");
    if (!platform) platform = "Server";
    json_object_object_get_ex(req->input, "minimumHealthyHosts", &mhh);
    json_object_object_get_ex(req->input, "trafficRoutingConfig", &routing);
    json_object_object_get_ex(req->input, "zonalConfig", &zonal);
    if (strcmp(platform, "Server") == 0) {
        const char *type = cd_str(mhh, "type");
        struct json_object *v = NULL;
        if (mhh) json_object_object_get_ex(mhh, "value", &v);
        int value = v ? json_object_get_int(v) : -1;
        if (!mhh || !type || !v)
            return proto_error(req, ERR_CD_INVALID_MINIMUM_HEALTHY_HOST_VALUE,
                               "Minimum healthy hosts is required for the Server platform");
        if (value < 0 || (strcmp(type, "FLEET_PERCENT") == 0 && value > 99))
            return proto_error(req, ERR_CD_INVALID_MINIMUM_HEALTHY_HOST_VALUE,
                               "The minimum healthy instance value %d is not valid for %s", value,
                               type);
    }
    proto_uuid(id);
    rec = json_object_new_object();
    json_object_object_add(rec, "deploymentConfigId", json_object_new_string(id));
    json_object_object_add(rec, "deploymentConfigName", json_object_new_string(name));
    if (mhh) json_object_object_add(rec, "minimumHealthyHosts", json_object_get(mhh));
    json_object_object_add(rec, "createTime", cd_time(proto_now()));
    json_object_object_add(rec, "computePlatform", json_object_new_string(platform));
    if (routing) json_object_object_add(rec, "trafficRoutingConfig", json_object_get(routing));
    if (zonal) json_object_object_add(rec, "zonalConfig", json_object_get(zonal));
    if (store_txn_begin(req->store, 1, &t)) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not access the store");
        goto out;
    }
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_CONFIG, name, NULL);
    size_t n;
    const char *s = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN, &n);
    int r = store_put_new(t, STORE_DB_CD_APPLICATIONS, key, (size_t)kl, s, n);
    if (r == 1) {
        rc = proto_error(req, ERR_CD_DEPLOYMENT_CONFIG_ALREADY_EXISTS,
                         "A deployment configuration with the name %s already exists", name);
        goto out;
    }
    r = r ? r : store_txn_commit(t);
    t = NULL;
    if (r) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not write the deployment config");
        goto out;
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "deploymentConfigId", json_object_new_string(id));
out:
    store_txn_abort(t);
    json_object_put(rec);
    return rc;
}

int cd_op_get_config(struct proto_req *req)
{
    const char *name;
    struct json_object *cfg = NULL;
    store_txn *t = NULL;
    int rc = need_config_name(req, &name);
    if (rc) return rc;
    if (store_txn_begin(req->store, 0, &t))
        return proto_error(req, ERR_INTERNAL_FAILURE, "could not access the store");
    int r = cd_config_lookup(t, CD_ACCT(req), CD_REGION(req), name, &cfg);
    store_txn_abort(t);
    if (r == STORE_NOTFOUND)
        return proto_error(req, ERR_CD_DEPLOYMENT_CONFIG_DOES_NOT_EXIST,
                           "Deployment config %s does not exist", name);
    if (r) return proto_error(req, ERR_INTERNAL_FAILURE, "could not read the deployment config");
    req->output = json_object_new_object();
    json_object_object_add(req->output, "deploymentConfigInfo", cfg);
    return 0;
}

static int add_config_name(void *ctx, const char *key, size_t klen, struct json_object *rec)
{
    (void)key;
    (void)klen;
    json_object_array_add(ctx, json_object_new_string(cd_str(rec, "deploymentConfigName")));
    return 0;
}

int cd_op_list_configs(struct proto_req *req)
{
    store_txn *t = NULL;
    char prefix[CD_KEY_MAX];
    long off = cd_token_parse(cd_str(req->input, "nextToken"));
    if (off < 0) return proto_error(req, ERR_INVALID_NEXT_TOKEN, "The next token is invalid");
    struct json_object *all = json_object_new_array(), *page = json_object_new_array();
    for (size_t i = 0; i < N_BUILTINS; i++)
        json_object_array_add(all, json_object_new_string(builtins[i].name));
    int plen = cd_key(prefix, CD_ACCT(req), CD_REGION(req), CD_K_CONFIG, "", NULL);
    int r = store_txn_begin(req->store, 0, &t);
    if (!r) r = cd_rec_each(t, STORE_DB_CD_APPLICATIONS, prefix, plen, add_config_name, all);
    store_txn_abort(t);
    if (r) {
        json_object_put(all);
        json_object_put(page);
        return proto_error(req, ERR_INTERNAL_FAILURE, "could not list the deployment configs");
    }
    size_t n = json_object_array_length(all), i;
    for (i = (size_t)off; i < n && i < (size_t)off + 100; i++)
        json_object_array_add(page, json_object_get(json_object_array_get_idx(all, i)));
    json_object_put(all);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "deploymentConfigsList", page);
    if (i < n)
        json_object_object_add(req->output, "nextToken",
                               json_object_new_string(cd_token(req->arena, i)));
    return 0;
}

struct in_use {
    const char *name;
    int used;
};

static int group_uses(void *ctx, const char *key, size_t klen, struct json_object *rec)
{
    (void)key;
    (void)klen;
    struct in_use *u = ctx;
    const char *c = cd_str(rec, "deploymentConfigName");
    if (c && strcmp(c, u->name) == 0) u->used = 1;
    return u->used;
}

int cd_op_delete_config(struct proto_req *req)
{
    const char *name;
    store_txn *t = NULL;
    char key[CD_KEY_MAX], prefix[CD_KEY_MAX];
    int rc = need_config_name(req, &name);
    if (rc) return rc;
    if (strncmp(name, "CodeDeployDefault.", 18) == 0)
        return proto_error(req, ERR_CD_INVALID_OPERATION,
                           "The deployment configuration %s is a default configuration and "
                           "cannot be deleted",
                           name);
    if (store_txn_begin(req->store, 1, &t))
        return proto_error(req, ERR_INTERNAL_FAILURE, "could not access the store");
    struct in_use u = {name, 0};
    int plen = cd_key(prefix, CD_ACCT(req), CD_REGION(req), CD_K_GROUP, "", NULL);
    cd_rec_each(t, STORE_DB_CD_APPLICATIONS, prefix, plen, group_uses, &u);
    if (u.used) {
        store_txn_abort(t);
        return proto_error(req, ERR_CD_DEPLOYMENT_CONFIG_IN_USE,
                           "The deployment configuration %s is in use by a deployment group", name);
    }
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_CONFIG, name, NULL);
    store_del(t, STORE_DB_CD_APPLICATIONS, key, (size_t)kl);
    cd_tags_delete(t, CD_ACCT(req), CD_REGION(req),
                   cd_arn_config(req->arena, CD_ACCT(req), CD_REGION(req), name));
    if (store_txn_commit(t))
        return proto_error(req, ERR_INTERNAL_FAILURE, "could not delete the deployment config");
    return 0;
}
