/* Webhooks: PutWebhook, ListWebhooks, DeleteWebhook, Register/DeregisterWebhookWithThirdParty. */
#include "providers/codepipeline/cp_internal.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX          512
#define LIST_DEFAULT_MAX 100

static const char *in_str(struct json_object *o, const char *k)
{
    struct json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static struct json_object *in_obj(struct json_object *o, const char *k)
{
    struct json_object *v;
    return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static struct json_object *parse_n(const void *s, size_t n)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = tok ? json_tokener_parse_ex(tok, s, (int)n) : NULL;
    json_tokener_free(tok);
    return o;
}

struct json_object *cp_webhook_load(store_txn *t, const char *acct, const char *region,
                                    const char *name)
{
    char key[KEY_MAX];
    int kl = store_key(key, sizeof key, acct, region, name);
    const void *val;
    size_t vlen;
    if (kl < 0 || store_get(t, STORE_DB_CP_WEBHOOKS, key, (size_t)kl, &val, &vlen)) return NULL;
    return parse_n(val, vlen);
}

int cp_webhook_exists(store_txn *t, const char *account, const char *region, const char *name)
{
    char key[KEY_MAX];
    int kl = store_key(key, sizeof key, account, region, name);
    const void *val;
    size_t vlen;
    return kl >= 0 && store_get(t, STORE_DB_CP_WEBHOOKS, key, (size_t)kl, &val, &vlen) == 0;
}

int cp_webhook_triggered(store_txn *t, const char *account, const char *region, const char *name,
                         double at)
{
    char key[KEY_MAX];
    int kl = store_key(key, sizeof key, account, region, name);
    struct json_object *rec = kl < 0 ? NULL : cp_webhook_load(t, account, region, name);
    if (!rec) return STORE_NOTFOUND;
    json_object_object_add(rec, "lastTriggered", json_object_new_double(at));
    size_t jl;
    char *json = cp_json_dup(rec, &jl);
    int rc = json ? store_put(t, STORE_DB_CP_WEBHOOKS, key, (size_t)kl, json, jl) : STORE_ERROR;
    free(json);
    json_object_put(rec);
    return rc;
}

/* Returns 1 when s is an IPv4 or IPv6 CIDR block ("10.0.0.0/8", "2001:db8::/32"). */
static int valid_cidr(const char *s)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || !slash[1] || strlen(s) > 64) return 0;
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    if (*end) return 0;
    int v6 = memchr(s, ':', (size_t)(slash - s)) != NULL;
    if (bits < 0 || bits > (v6 ? 128 : 32)) return 0;
    if (v6) {
        for (const char *p = s; p < slash; p++)
            if (!strchr("0123456789abcdefABCDEF:.", *p)) return 0;
        return 1;
    }
    int parts = 0;
    for (const char *p = s; p < slash;) {
        long octet = strtol(p, &end, 10);
        if (end == p || octet < 0 || octet > 255) return 0;
        parts++;
        p = end;
        if (p < slash) {
            if (*p != '.') return 0;
            p++;
        }
    }
    return parts == 4;
}

/* Checks the webhook definition's filters and authentication. */
static int check_definition(struct proto_req *req, struct json_object *def)
{
    struct json_object *filters = in_obj(def, "filters");
    for (size_t i = 0; filters && i < json_object_array_length(filters); i++) {
        const char *jp = in_str(json_object_array_get_idx(filters, i), "jsonPath");
        if (!jp || jp[0] != '$')
            return proto_error(req, ERR_INVALID_WEBHOOK_FILTER_PATTERN,
                               "The JsonPath %s is not valid. A JsonPath starts with $",
                               jp ? jp : "");
    }
    const char *auth = in_str(def, "authentication");
    struct json_object *cfg = in_obj(def, "authenticationConfiguration");
    if (auth && !strcmp(auth, "GITHUB_HMAC") && !in_str(cfg, "SecretToken"))
        return proto_error(req, ERR_INVALID_WEBHOOK_AUTH_PARAMS,
                           "SecretToken is required in authenticationConfiguration when "
                           "authentication is GITHUB_HMAC");
    if (auth && !strcmp(auth, "IP")) {
        const char *range = in_str(cfg, "AllowedIPRange");
        if (!range || !valid_cidr(range))
            return proto_error(req, ERR_INVALID_WEBHOOK_AUTH_PARAMS,
                               "AllowedIPRange must be a valid CIDR block when authentication is "
                               "IP");
    }
    return 0;
}

/* True when the pipeline declaration has an action named action in its first stage. */
static int has_source_action(const char *decl, size_t len, const char *action)
{
    struct json_object *d = parse_n(decl, len), *stages, *first;
    int found = 0;
    if (d && (stages = in_obj(d, "stages")) && json_object_array_length(stages) &&
        (first = in_obj(json_object_array_get_idx(stages, 0), "actions"))) {
        for (size_t i = 0; i < json_object_array_length(first) && !found; i++) {
            const char *n = in_str(json_object_array_get_idx(first, i), "name");
            found = n && !strcmp(n, action);
        }
    }
    json_object_put(d);
    return found;
}

/* The ListWebhookItem of a stored record, with the resource's tags. */
static struct json_object *list_item(store_txn *t, struct json_object *rec)
{
    struct json_object *o = json_object_new_object();
    static const char *const ORDER[] = {
        "definition", "url", "errorMessage", "errorCode", "lastTriggered", "arn", NULL};
    for (const char *const *k = ORDER; *k; k++) {
        struct json_object *v = in_obj(rec, *k);
        if (v) json_object_object_add(o, *k, json_object_get(v));
    }
    const char *arn = in_str(rec, "arn");
    struct json_object *tags = arn ? cp_tags_get(t, arn) : NULL;
    if (tags && json_object_array_length(tags))
        json_object_object_add(o, "tags", tags);
    else
        json_object_put(tags);
    return o;
}

int cp_op_put_webhook(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    struct json_object *def = in_obj(req->input, "webhook"), *tags = in_obj(req->input, "tags");
    const char *name = in_str(def, "name"), *pipe = in_str(def, "targetPipeline");
    const char *action = in_str(def, "targetAction");
    struct json_object *old = NULL, *rec = NULL, *cur_tags = NULL;
    store_txn *t = NULL;
    char key[KEY_MAX];
    int rc;
    if (!name || !pipe || !action) return proto_error(req, ERR_VALIDATION, "webhook is incomplete");
    if ((rc = check_definition(req, def))) return rc;
    int kl = store_key(key, sizeof key, acct, region, name);
    if (kl < 0) return proto_error(req, ERR_VALIDATION, "webhook name is too long");
    if ((rc = store_txn_begin(req->store, 1, &t))) return cp_store_error(req, rc);
    struct cp_pipe_hdr h;
    const char *decl;
    rc = cp_pipeline_read(t, acct, region, pipe, &h, &decl);
    if (rc == STORE_NOTFOUND) {
        rc = proto_error(req, ERR_PIPELINE_NOT_FOUND,
                         "Account '%s' does not have a pipeline with name '%s'", acct, pipe);
        goto out;
    }
    if (rc) goto store_fail;
    if (!has_source_action(decl, h.decl_len, action)) {
        /* AWS's wording, as CloudFormation relayed it (boltops-tools/pipedream#7). */
        rc = proto_error(req, ERR_VALIDATION,
                         "Action with name %s was not found in the first stage of the pipeline",
                         action);
        goto out;
    }
    const char *arn = cp_webhook_arn(req->arena, region, acct, name);
    cur_tags = cp_tags_get(t, arn);
    if ((rc = cp_tags_check(req, tags, cur_tags))) goto out;
    old = cp_webhook_load(t, acct, region, name);
    rec = json_object_new_object();
    json_object_object_add(rec, "definition", json_object_get(def));
    struct json_object *url = in_obj(old, "url");
    /* The URL stays stable across updates of the same webhook. */
    json_object_object_add(
        rec, "url",
        url ? json_object_get(url)
            : json_object_new_string(proto_arena_printf(
                  req->arena, "http://%s/webhooks/%s/%s/%s",
                  req->public_host ? req->public_host : "localhost:4566", region, acct, name)));
    struct json_object *last = in_obj(old, "lastTriggered");
    if (last) json_object_object_add(rec, "lastTriggered", json_object_get(last));
    json_object_object_add(rec, "arn", json_object_new_string(arn));
    struct json_object *reg = in_obj(old, "registered");
    json_object_object_add(rec, "registered",
                           json_object_new_boolean(reg ? json_object_get_boolean(reg) : 0));
    size_t jl;
    char *json = cp_json_dup(rec, &jl);
    rc = store_put(t, STORE_DB_CP_WEBHOOKS, key, (size_t)kl, json, jl);
    free(json);
    if (rc) goto store_fail;
    if ((rc = cp_tags_put(t, arn, tags))) goto store_fail;
    struct json_object *item = list_item(t, rec);
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) {
        json_object_put(item);
        goto store_fail;
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "webhook", item);
    goto out;
store_fail:
    rc = cp_store_error(req, rc);
out:
    json_object_put(old);
    json_object_put(rec);
    json_object_put(cur_tags);
    store_txn_abort(t);
    return rc;
}

int cp_op_list_webhooks(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    struct json_object *v;
    int max = LIST_DEFAULT_MAX;
    const char *start = "";
    if (json_object_object_get_ex(req->input, "MaxResults", &v)) max = json_object_get_int(v);
    if (max < 1 || max > 1000) max = LIST_DEFAULT_MAX;
    const char *tok = in_str(req->input, "NextToken");
    if (tok && !(start = cp_token_decode(req->arena, tok)))
        return proto_error(req, ERR_INVALID_NEXT_TOKEN, "Invalid NextToken");
    char prefix[KEY_MAX], key[KEY_MAX];
    int pl = store_key(prefix, sizeof prefix, acct, region, "");
    int kl = store_key(key, sizeof key, acct, region, start);
    if (pl < 0 || kl < 0) return proto_error(req, ERR_INVALID_NEXT_TOKEN, "Invalid NextToken");
    store_txn *t = NULL;
    store_cursor *c = NULL;
    int rc = store_txn_begin(req->store, 0, &t);
    if (!rc) rc = store_cursor_open(t, STORE_DB_CP_WEBHOOKS, &c);
    if (rc) {
        store_txn_abort(t);
        return cp_store_error(req, rc);
    }
    struct json_object *list = json_object_new_array();
    req->output = json_object_new_object();
    json_object_object_add(req->output, "webhooks", list);
    int n = 0;
    for (int r = store_cursor_seek(c, key, (size_t)kl); r == 0; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t klen, vlen;
        store_cursor_get(c, &k, &klen, &val, &vlen);
        if (klen <= (size_t)pl || memcmp(k, prefix, (size_t)pl)) break;
        if (n == max) {
            json_object_object_add(req->output, "NextToken",
                                   json_object_new_string(cp_token_encode(
                                       req->arena, (const char *)k + pl, klen - (size_t)pl)));
            break;
        }
        struct json_object *rec = parse_n(val, vlen);
        if (!rec) continue;
        json_object_array_add(list, list_item(t, rec));
        json_object_put(rec);
        n++;
    }
    store_cursor_close(c);
    store_txn_abort(t);
    return 0;
}

int cp_op_delete_webhook(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req->input, "name");
    char key[KEY_MAX];
    int kl = name ? store_key(key, sizeof key, acct, region, name) : -1;
    if (kl < 0) return 0;
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    rc = store_del(t, STORE_DB_CP_WEBHOOKS, key, (size_t)kl);
    if (rc == STORE_NOTFOUND) { /* idempotent */
        store_txn_abort(t);
        return 0;
    }
    if (!rc) rc = cp_tags_delete_all(t, cp_webhook_arn(req->arena, region, acct, name));
    if (!rc) {
        rc = store_txn_commit(t);
        t = NULL;
    }
    store_txn_abort(t);
    return rc ? cp_store_error(req, rc) : 0;
}

/* Sets the webhook's registered flag. */
static int set_registered(struct proto_req *req, int on)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = in_str(req->input, "webhookName");
    struct json_object *rec = NULL;
    char key[KEY_MAX];
    store_txn *t = NULL;
    int kl = name ? store_key(key, sizeof key, acct, region, name) : -1;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    if (kl < 0 || !(rec = cp_webhook_load(t, acct, region, name))) {
        rc = proto_error(req, ERR_WEBHOOK_NOT_FOUND, "The specified webhook %s was not found",
                         name ? name : "");
        goto out;
    }
    json_object_object_add(rec, "registered", json_object_new_boolean(on));
    size_t jl;
    char *json = cp_json_dup(rec, &jl);
    rc = store_put(t, STORE_DB_CP_WEBHOOKS, key, (size_t)kl, json, jl);
    free(json);
    if (!rc) {
        rc = store_txn_commit(t);
        t = NULL;
    }
    if (rc) rc = cp_store_error(req, rc);
out:
    json_object_put(rec);
    store_txn_abort(t);
    return rc;
}

int cp_op_register_webhook(struct proto_req *req)
{
    return set_registered(req, 1);
}

int cp_op_deregister_webhook(struct proto_req *req)
{
    return set_registered(req, 0);
}
