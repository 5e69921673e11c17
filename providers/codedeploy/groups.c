/* Deployment groups, on-premises instances, and which simulated instances a group deploys to. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/codedeploy/cd_internal.h"

static int fail(struct proto_req *req)
{
    return proto_error(req, ERR_INTERNAL_FAILURE, "could not access the store");
}

static int nonempty(struct json_object *a)
{
    return a && json_object_is_type(a, json_type_array) && json_object_array_length(a) > 0;
}

/* ec2TagSet / onPremisesTagSet: {<list member>: [[filters], ...]} */
static int set_nonempty(struct json_object *set, const char *member)
{
    struct json_object *l = NULL;
    if (!set) return 0;
    json_object_object_get_ex(set, member, &l);
    return nonempty(l);
}

/* The group settings that Create and Update share: checked, then copied onto rec. */
static int apply_settings(struct proto_req *req, store_txn *t, struct json_object *rec,
                          int creating)
{
    struct json_object *in = req->input, *v;
    static const char *const copied[] = {
        "ec2TagFilters",
        "onPremisesInstanceTagFilters",
        "autoScalingGroups",
        "serviceRoleArn",
        "triggerConfigurations",
        "alarmConfiguration",
        "autoRollbackConfiguration",
        "deploymentStyle",
        "outdatedInstancesStrategy",
        "loadBalancerInfo",
        "ec2TagSet",
        "onPremisesTagSet",
        "ecsServices",
        "terminationHookEnabled",
        "blueGreenDeploymentConfiguration",
    };
    struct json_object *ec2f = NULL, *ec2s = NULL, *opf = NULL, *ops = NULL, *style = NULL,
                       *arc = NULL;
    json_object_object_get_ex(in, "ec2TagFilters", &ec2f);
    json_object_object_get_ex(in, "ec2TagSet", &ec2s);
    json_object_object_get_ex(in, "onPremisesInstanceTagFilters", &opf);
    json_object_object_get_ex(in, "onPremisesTagSet", &ops);
    json_object_object_get_ex(in, "deploymentStyle", &style);
    json_object_object_get_ex(in, "autoRollbackConfiguration", &arc);
    if (nonempty(ec2f) && set_nonempty(ec2s, "ec2TagSetList"))
        return proto_error(req, ERR_CD_INVALID_EC2_TAG_COMBINATION,
                           "Only one of the ec2TagFilters and ec2TagSet parameters may be set");
    if (nonempty(opf) && set_nonempty(ops, "onPremisesTagSetList"))
        return proto_error(req, ERR_CD_INVALID_ON_PREMISES_TAG_COMBINATION,
                           "Only one of the onPremisesInstanceTagFilters and onPremisesTagSet "
                           "parameters may be set");
    if (set_nonempty(ec2s, "ec2TagSetList") &&
        json_object_array_length(json_object_object_get(ec2s, "ec2TagSetList")) > 3)
        return proto_error(req, ERR_INVALID_TAGS, "A tag set can hold at most 3 tag groups");
    if (style && cd_str(style, "deploymentType") &&
        strcmp(cd_str(style, "deploymentType"), "BLUE_GREEN") == 0)
        return proto_error(req, ERR_CD_INVALID_DEPLOYMENT_STYLE,
                           "BLUE_GREEN deployments are not simulated by codepipeline-local: "
                           "use deploymentType IN_PLACE");
    if (style && cd_str(style, "deploymentOption") &&
        strcmp(cd_str(style, "deploymentOption"), "WITH_TRAFFIC_CONTROL") == 0)
        return proto_error(req, ERR_CD_INVALID_DEPLOYMENT_STYLE,
                           "WITH_TRAFFIC_CONTROL is not simulated by codepipeline-local: load "
                           "balancers are not simulated");
    if (arc && cd_bool(arc, "enabled") && !nonempty(json_object_object_get(arc, "events")))
        return proto_error(req, ERR_CD_INVALID_AUTO_ROLLBACK_CONFIG,
                           "Auto rollback events must be specified when auto rollback is "
                           "enabled");
    const char *cfg = cd_str(in, "deploymentConfigName");
    if (cfg) {
        struct json_object *c = NULL;
        int r = cd_config_lookup(t, CD_ACCT(req), CD_REGION(req), cfg, &c);
        json_object_put(c);
        if (r == STORE_NOTFOUND)
            return proto_error(req, ERR_CD_DEPLOYMENT_CONFIG_DOES_NOT_EXIST,
                               "No deployment configuration found for name: %s", cfg);
        if (r) return fail(req);
        json_object_object_add(rec, "deploymentConfigName", json_object_new_string(cfg));
    } else if (creating) {
        json_object_object_add(rec, "deploymentConfigName",
                               json_object_new_string("CodeDeployDefault.OneAtATime"));
    }
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++)
        if (json_object_object_get_ex(in, copied[i], &v))
            json_object_object_add(rec, copied[i], json_object_get(v));
    /* the input names Auto Scaling groups; reads answer AutoScalingGroup structures */
    if (json_object_object_get_ex(in, "autoScalingGroups", &v)) {
        struct json_object *asgs = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            struct json_object *g = json_object_new_object();
            json_object_object_add(g, "name", json_object_get(json_object_array_get_idx(v, i)));
            json_object_array_add(asgs, g);
        }
        json_object_object_add(rec, "autoScalingGroups", asgs);
    }
    if (creating) {
        /* what AWS answers for what was not given */
        static const char *const lists[] = {"ec2TagFilters", "onPremisesInstanceTagFilters",
                                            "autoScalingGroups", "triggerConfigurations"};
        for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
            if (!json_object_object_get_ex(rec, lists[i], NULL))
                json_object_object_add(rec, lists[i], json_object_new_array());
        if (!json_object_object_get_ex(rec, "deploymentStyle", NULL)) {
            struct json_object *s = json_object_new_object();
            json_object_object_add(s, "deploymentType", json_object_new_string("IN_PLACE"));
            json_object_object_add(s, "deploymentOption",
                                   json_object_new_string("WITHOUT_TRAFFIC_CONTROL"));
            json_object_object_add(rec, "deploymentStyle", s);
        }
        if (!json_object_object_get_ex(rec, "outdatedInstancesStrategy", NULL))
            json_object_object_add(rec, "outdatedInstancesStrategy",
                                   json_object_new_string("UPDATE"));
        if (!json_object_object_get_ex(rec, "terminationHookEnabled", NULL))
            json_object_object_add(rec, "terminationHookEnabled", json_object_new_boolean(0));
    }
    return 0;
}

static int need_app(struct proto_req *req, const char **out)
{
    return cd_need_name(req, "applicationName", ERR_CD_APPLICATION_NAME_REQUIRED,
                        ERR_CD_INVALID_APPLICATION_NAME, "Application", out);
}

int cd_group_load(struct proto_req *req, store_txn *t, const char *app, const char *group,
                  struct json_object **out)
{
    char key[CD_KEY_MAX];
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_GROUP, app, group);
    int r = cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, kl, out);
    if (r == STORE_NOTFOUND)
        return proto_error(req, ERR_CD_DEPLOYMENT_GROUP_DOES_NOT_EXIST,
                           "No Deployment Group found for name: %s", group);
    return r ? fail(req) : 0;
}

int cd_op_create_group(struct proto_req *req)
{
    const char *app, *name;
    struct json_object *appr = NULL, *rec = NULL, *tags = NULL;
    store_txn *t = NULL;
    char key[CD_KEY_MAX], id[37];
    int rc = need_app(req, &app);
    if (!rc)
        rc = cd_need_name(req, "deploymentGroupName", ERR_CD_DEPLOYMENT_GROUP_NAME_REQUIRED,
                          ERR_CD_INVALID_DEPLOYMENT_GROUP_NAME, "Deployment group", &name);
    if (rc) return rc;
    if (!cd_str(req->input, "serviceRoleArn"))
        return proto_error(req, ERR_CD_ROLE_REQUIRED, "Role ARN is required");
    if (store_txn_begin(req->store, 1, &t)) return fail(req);
    if ((rc = cd_app_load(req, t, app, &appr))) goto out;
    proto_uuid(id);
    rec = json_object_new_object();
    json_object_object_add(rec, "applicationName", json_object_new_string(app));
    json_object_object_add(rec, "deploymentGroupId", json_object_new_string(id));
    json_object_object_add(rec, "deploymentGroupName", json_object_new_string(name));
    if ((rc = apply_settings(req, t, rec, 1))) goto out;
    json_object_object_add(rec, "computePlatform",
                           json_object_new_string(cd_str(appr, "computePlatform")
                                                      ? cd_str(appr, "computePlatform")
                                                      : "Server"));
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_GROUP, app, name);
    size_t n;
    const char *s = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN, &n);
    int r = store_put_new(t, STORE_DB_CD_APPLICATIONS, key, (size_t)kl, s, n);
    if (r == 1) {
        rc = proto_error(req, ERR_CD_DEPLOYMENT_GROUP_ALREADY_EXISTS,
                         "Deployment Group already exists with name %s", name);
        goto out;
    }
    json_object_object_get_ex(req->input, "tags", &tags);
    if (r || (tags && cd_tags_put(t, CD_ACCT(req), CD_REGION(req),
                                  cd_arn_group(req->arena, CD_ACCT(req), CD_REGION(req), app, name),
                                  tags))) {
        rc = fail(req);
        goto out;
    }
    r = store_txn_commit(t);
    t = NULL;
    if (r) {
        rc = fail(req);
        goto out;
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "deploymentGroupId", json_object_new_string(id));
out:
    store_txn_abort(t);
    json_object_put(appr);
    json_object_put(rec);
    return rc;
}

int cd_op_get_group(struct proto_req *req)
{
    const char *app, *name;
    struct json_object *rec = NULL;
    store_txn *t = NULL;
    int rc = need_app(req, &app);
    if (!rc)
        rc = cd_need_name(req, "deploymentGroupName", ERR_CD_DEPLOYMENT_GROUP_NAME_REQUIRED,
                          ERR_CD_INVALID_DEPLOYMENT_GROUP_NAME, "Deployment group", &name);
    if (rc) return rc;
    if (store_txn_begin(req->store, 0, &t)) return fail(req);
    if (!(rc = cd_app_load(req, t, app, NULL))) rc = cd_group_load(req, t, app, name, &rec);
    store_txn_abort(t);
    if (rc) return rc;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "deploymentGroupInfo", rec);
    return 0;
}

int cd_op_batch_get_groups(struct proto_req *req)
{
    const char *app;
    struct json_object *names = NULL, *list, *missing;
    store_txn *t = NULL;
    int rc = need_app(req, &app);
    if (rc) return rc;
    json_object_object_get_ex(req->input, "deploymentGroupNames", &names);
    size_t n = names ? json_object_array_length(names) : 0;
    if (n == 0)
        return proto_error(req, ERR_CD_DEPLOYMENT_GROUP_NAME_REQUIRED,
                           "Deployment group names are missing");
    if (n > CD_MAX_BATCH)
        return proto_error(req, ERR_CD_BATCH_LIMIT_EXCEEDED,
                           "The maximum number of deployment groups that can be specified is "
                           "100");
    if (store_txn_begin(req->store, 0, &t)) return fail(req);
    if ((rc = cd_app_load(req, t, app, NULL))) {
        store_txn_abort(t);
        return rc;
    }
    list = json_object_new_array();
    missing = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        const char *g = json_object_get_string(json_object_array_get_idx(names, i));
        char key[CD_KEY_MAX];
        struct json_object *rec = NULL;
        int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_GROUP, app, g ? g : "");
        if (cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, kl, &rec) == 0)
            json_object_array_add(list, rec);
        else
            json_object_array_add(missing, json_object_new_string(g ? g : ""));
    }
    store_txn_abort(t);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "deploymentGroupsInfo", list);
    if (json_object_array_length(missing) > 0) {
        struct proto_sb sb = {0};
        proto_sb_printf(&sb, "Deployment groups not found:");
        for (size_t i = 0; i < json_object_array_length(missing); i++)
            proto_sb_printf(&sb, " %s",
                            json_object_get_string(json_object_array_get_idx(missing, i)));
        json_object_object_add(req->output, "errorMessage",
                               json_object_new_string(proto_sb_str(&sb)));
        proto_sb_free(&sb);
    }
    json_object_put(missing);
    return 0;
}

struct page_ctx {
    struct json_object *list;
    size_t skip, count, total;
};

static int collect_group(void *ctx, const char *key, size_t klen, struct json_object *rec)
{
    (void)key;
    (void)klen;
    struct page_ctx *c = ctx;
    if (c->total++ < c->skip) return 0;
    if (c->count == 100) return 1;
    c->count++;
    json_object_array_add(c->list, json_object_new_string(cd_str(rec, "deploymentGroupName")));
    return 0;
}

int cd_op_list_groups(struct proto_req *req)
{
    const char *app;
    store_txn *t = NULL;
    char prefix[CD_KEY_MAX];
    int rc = need_app(req, &app);
    if (rc) return rc;
    long off = cd_token_parse(cd_str(req->input, "nextToken"));
    if (off < 0) return proto_error(req, ERR_INVALID_NEXT_TOKEN, "The next token is invalid");
    if (store_txn_begin(req->store, 0, &t)) return fail(req);
    if ((rc = cd_app_load(req, t, app, NULL))) {
        store_txn_abort(t);
        return rc;
    }
    struct page_ctx c = {json_object_new_array(), (size_t)off, 0, 0};
    int plen = cd_key(prefix, CD_ACCT(req), CD_REGION(req), CD_K_GROUP, app, "");
    int r = cd_rec_each(t, STORE_DB_CD_APPLICATIONS, prefix, plen, collect_group, &c);
    store_txn_abort(t);
    if (r < 0) {
        json_object_put(c.list);
        return fail(req);
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "applicationName", json_object_new_string(app));
    json_object_object_add(req->output, "deploymentGroups", c.list);
    if (r == 1)
        json_object_object_add(req->output, "nextToken",
                               json_object_new_string(cd_token(req->arena, c.skip + c.count)));
    return 0;
}

int cd_op_update_group(struct proto_req *req)
{
    const char *app, *name, *new_name = cd_str(req->input, "newDeploymentGroupName");
    struct json_object *rec = NULL, *tags = NULL;
    store_txn *t = NULL;
    char key[CD_KEY_MAX], nkey[CD_KEY_MAX];
    int rc = need_app(req, &app);
    if (!rc)
        rc = cd_need_name(req, "currentDeploymentGroupName", ERR_CD_DEPLOYMENT_GROUP_NAME_REQUIRED,
                          ERR_CD_INVALID_DEPLOYMENT_GROUP_NAME, "Deployment group", &name);
    if (rc) return rc;
    if (new_name && (!*new_name || strcmp(new_name, name) == 0)) new_name = NULL;
    if (new_name && (!cd_name_ok(new_name) || strlen(new_name) > 100))
        return proto_error(req, ERR_CD_INVALID_DEPLOYMENT_GROUP_NAME,
                           "Deployment group name is invalid: %s", new_name);
    if (store_txn_begin(req->store, 1, &t)) return fail(req);
    if ((rc = cd_app_load(req, t, app, NULL))) goto out;
    if ((rc = cd_group_load(req, t, app, name, &rec))) goto out;
    if ((rc = apply_settings(req, t, rec, 0))) goto out;
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_GROUP, app, name);
    int nl = kl;
    if (new_name) {
        const void *v;
        size_t vl;
        nl = cd_key(nkey, CD_ACCT(req), CD_REGION(req), CD_K_GROUP, app, new_name);
        if (store_get(t, STORE_DB_CD_APPLICATIONS, nkey, (size_t)nl, &v, &vl) == 0) {
            rc = proto_error(req, ERR_CD_DEPLOYMENT_GROUP_ALREADY_EXISTS,
                             "Deployment Group already exists with name %s", new_name);
            goto out;
        }
        json_object_object_add(rec, "deploymentGroupName", json_object_new_string(new_name));
        store_del(t, STORE_DB_CD_APPLICATIONS, key, (size_t)kl);
        const char *acct = CD_ACCT(req), *region = CD_REGION(req);
        char *old_arn = cd_arn_group(req->arena, acct, region, app, name);
        char tk[CD_KEY_MAX];
        int tl = cd_key(tk, acct, region, CD_K_TAGS, old_arn, NULL);
        if (cd_rec_get(t, STORE_DB_CD_APPLICATIONS, tk, tl, &tags) == 0) {
            cd_tags_put(t, acct, region, cd_arn_group(req->arena, acct, region, app, new_name),
                        tags);
            cd_tags_delete(t, acct, region, old_arn);
        }
    }
    if (cd_rec_put(t, STORE_DB_CD_APPLICATIONS, new_name ? nkey : key, nl, rec) ||
        store_txn_commit(t)) {
        t = NULL;
        rc = fail(req);
        goto out;
    }
    t = NULL;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "hooksNotCleanedUp", json_object_new_array());
out:
    store_txn_abort(t);
    json_object_put(rec);
    json_object_put(tags);
    return rc;
}

int cd_op_delete_group(struct proto_req *req)
{
    const char *app, *name;
    store_txn *t = NULL;
    char key[CD_KEY_MAX];
    int rc = need_app(req, &app);
    if (!rc)
        rc = cd_need_name(req, "deploymentGroupName", ERR_CD_DEPLOYMENT_GROUP_NAME_REQUIRED,
                          ERR_CD_INVALID_DEPLOYMENT_GROUP_NAME, "Deployment group", &name);
    if (rc) return rc;
    if (store_txn_begin(req->store, 1, &t)) return fail(req);
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_GROUP, app, name);
    store_del(t, STORE_DB_CD_APPLICATIONS, key, (size_t)kl);
    cd_tags_delete(t, CD_ACCT(req), CD_REGION(req),
                   cd_arn_group(req->arena, CD_ACCT(req), CD_REGION(req), app, name));
    if (store_txn_commit(t)) return fail(req);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "hooksNotCleanedUp", json_object_new_array());
    return 0;
}

/* ---- Which instances a group deploys to ---- */

/* Returns 1 when tags (a [{Key, Value}] array) match filter {Key, Value, Type}. */
static int filter_matches(struct json_object *filter, struct json_object *tags)
{
    const char *fk = cd_str(filter, "Key"), *fv = cd_str(filter, "Value"),
               *type = cd_str(filter, "Type");
    if (!type) type = fk && fv ? "KEY_AND_VALUE" : fk ? "KEY_ONLY" : "VALUE_ONLY";
    size_t n = tags ? json_object_array_length(tags) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *tag = json_object_array_get_idx(tags, i);
        const char *k = cd_str(tag, "Key"), *v = cd_str(tag, "Value");
        if (!v) v = "";
        int kok = fk && k && strcmp(fk, k) == 0, vok = fv && strcmp(fv, v) == 0;
        if (strcmp(type, "KEY_ONLY") == 0     ? kok
            : strcmp(type, "VALUE_ONLY") == 0 ? vok
                                              : kok && vok)
            return 1;
    }
    return 0;
}

/* Returns 1 when tags match any filter of the array filters. */
static int any_matches(struct json_object *filters, struct json_object *tags)
{
    for (size_t i = 0; i < json_object_array_length(filters); i++)
        if (filter_matches(json_object_array_get_idx(filters, i), tags)) return 1;
    return 0;
}

int cd_tags_match(struct json_object *filters, struct json_object *set, const char *set_member,
                  struct json_object *tags)
{
    if (nonempty(filters)) return any_matches(filters, tags);
    struct json_object *groups = NULL;
    if (set) json_object_object_get_ex(set, set_member, &groups);
    if (!nonempty(groups)) return 0;
    for (size_t i = 0; i < json_object_array_length(groups); i++)
        if (!any_matches(json_object_array_get_idx(groups, i), tags)) return 0;
    return 1;
}

/* A stable EC2-looking id for instance index of a group. */
static void ec2_id(const char *group_id, int index, char out[20])
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = group_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ (uint64_t)index) * 1099511628211ULL;
    h ^= h >> 29;
    /* 17 hex digits: the top one from a second mix */
    uint64_t g = (h * 0x9E3779B97F4A7C15ULL) >> 60;
    snprintf(out, 20, "i-%01x%016llx", (unsigned)g, (unsigned long long)h);
}

struct onprem_ctx {
    struct json_object *group, *out;
    const char *account, *region;
};

static int match_onprem(void *ctx, const char *key, size_t klen, struct json_object *rec)
{
    (void)key;
    (void)klen;
    struct onprem_ctx *c = ctx;
    struct json_object *tags = NULL, *filters = NULL, *set = NULL;
    if (json_object_object_get_ex(rec, "deregisterTime", NULL)) return 0;
    json_object_object_get_ex(rec, "tags", &tags);
    json_object_object_get_ex(c->group, "onPremisesInstanceTagFilters", &filters);
    json_object_object_get_ex(c->group, "onPremisesTagSet", &set);
    if (!cd_tags_match(filters, set, "onPremisesTagSetList", tags)) return 0;
    struct json_object *i = json_object_new_object();
    json_object_object_add(i, "id", json_object_new_string(cd_str(rec, "instanceName")));
    json_object_object_add(i, "arn", json_object_new_string(cd_str(rec, "instanceArn")));
    json_object_object_add(i, "type", json_object_new_string("OnPremises"));
    json_object_array_add(c->out, i);
    return 0;
}

int cd_group_instances(store_txn *t, const char *account, const char *region,
                       struct json_object *group, struct json_object **out)
{
    struct json_object *list = json_object_new_array(), *f = NULL, *s = NULL;
    json_object_object_get_ex(group, "ec2TagFilters", &f);
    json_object_object_get_ex(group, "ec2TagSet", &s);
    if (nonempty(f) || set_nonempty(s, "ec2TagSetList")) {
        /* simulated EC2 instances: as many as the group's codepipeline-local:instances tag */
        int count = 1;
        char key[CD_KEY_MAX], arn[512];
        struct json_object *tags = NULL;
        snprintf(arn, sizeof arn, "arn:aws:codedeploy:%s:%s:deploymentgroup:%s/%s", region, account,
                 cd_str(group, "applicationName"), cd_str(group, "deploymentGroupName"));
        int kl = cd_key(key, account, region, CD_K_TAGS, arn, NULL);
        if (cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, kl, &tags) == 0) {
            for (size_t i = 0; i < json_object_array_length(tags); i++) {
                struct json_object *tag = json_object_array_get_idx(tags, i);
                if (strcmp(cd_str(tag, "Key"), "codepipeline-local:instances") == 0 &&
                    cd_str(tag, "Value"))
                    count = atoi(cd_str(tag, "Value"));
            }
            json_object_put(tags);
        }
        if (count < 0) count = 0;
        if (count > 100) count = 100;
        for (int i = 0; i < count; i++) {
            char id[20];
            ec2_id(cd_str(group, "deploymentGroupId"), i, id);
            struct json_object *o = json_object_new_object();
            json_object_object_add(o, "id", json_object_new_string(id));
            snprintf(arn, sizeof arn, "arn:aws:ec2:%s:%s:instance/%s", region, account, id);
            json_object_object_add(o, "arn", json_object_new_string(arn));
            json_object_object_add(o, "type", json_object_new_string("EC2"));
            json_object_array_add(list, o);
        }
    }
    char prefix[CD_KEY_MAX];
    int plen = cd_key(prefix, account, region, CD_K_ONPREM, "", NULL);
    struct onprem_ctx c = {group, list, account, region};
    if (cd_rec_each(t, STORE_DB_CD_APPLICATIONS, prefix, plen, match_onprem, &c) < 0) {
        json_object_put(list);
        return STORE_ERROR;
    }
    *out = list;
    return 0;
}
