/* Tags on pipelines, custom action types and webhooks: TagResource, UntagResource,
 * ListTagsForResource, and the helpers the create operations use. */
#include "providers/codepipeline/cp_internal.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TAGS 50

static const char *tag_key(struct json_object *tag)
{
    struct json_object *v;
    return json_object_object_get_ex(tag, "key", &v) ? json_object_get_string(v) : NULL;
}

/* Returns the index of key in the tag array, or -1. */
static long find_tag(struct json_object *arr, const char *key)
{
    size_t n = arr ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *k = tag_key(json_object_array_get_idx(arr, i));
        if (k && !strcmp(k, key)) return (long)i;
    }
    return -1;
}

int cp_tags_check(struct proto_req *req, struct json_object *tags, struct json_object *existing)
{
    size_t n = tags ? json_object_array_length(tags) : 0;
    size_t total = existing ? json_object_array_length(existing) : 0;
    if (n > MAX_TAGS) /* before the pairwise checks below, which are quadratic */
        return proto_error(req, ERR_TOO_MANY_TAGS,
                           "The request has %zu tags, more than the limit of %d", n, MAX_TAGS);
    for (size_t i = 0; i < n; i++) {
        const char *k = tag_key(json_object_array_get_idx(tags, i));
        if (!k) continue;
        if (!strncmp(k, "aws:", 4))
            return proto_error(req, ERR_INVALID_TAGS,
                               "Tag keys cannot start with the reserved prefix aws: (%s)", k);
        for (size_t j = 0; j < i; j++) {
            const char *o = tag_key(json_object_array_get_idx(tags, j));
            if (o && !strcmp(o, k))
                return proto_error(req, ERR_INVALID_TAGS, "Duplicate tag key %s in the request", k);
        }
        if (find_tag(existing, k) < 0) total++;
    }
    if (total > MAX_TAGS)
        return proto_error(req, ERR_TOO_MANY_TAGS,
                           "The resource would have %zu tags, more than the limit of %d", total,
                           MAX_TAGS);
    return 0;
}

struct json_object *cp_tags_get(store_txn *t, const char *arn)
{
    const void *val;
    size_t vlen;
    if (store_get(t, STORE_DB_CP_TAGS, arn, strlen(arn), &val, &vlen) == 0) {
        struct json_tokener *tok = json_tokener_new();
        struct json_object *o = tok ? json_tokener_parse_ex(tok, val, (int)vlen) : NULL;
        json_tokener_free(tok);
        if (o && json_object_is_type(o, json_type_array)) return o;
        json_object_put(o);
    }
    return json_object_new_array();
}

/* Writes arr as the tags of arn (deleting the record when empty). */
static int write_tags(store_txn *t, const char *arn, struct json_object *arr)
{
    if (json_object_array_length(arr) == 0) {
        int rc = store_del(t, STORE_DB_CP_TAGS, arn, strlen(arn));
        return rc == STORE_NOTFOUND ? 0 : rc;
    }
    size_t n;
    char *s = cp_json_dup(arr, &n);
    int rc = store_put(t, STORE_DB_CP_TAGS, arn, strlen(arn), s, n);
    free(s);
    return rc;
}

int cp_tags_put(store_txn *t, const char *arn, struct json_object *tags)
{
    if (!tags || json_object_array_length(tags) == 0) return 0;
    struct json_object *cur = cp_tags_get(t, arn);
    for (size_t i = 0; i < json_object_array_length(tags); i++) {
        struct json_object *tag = json_object_array_get_idx(tags, i), *v;
        const char *k = tag_key(tag);
        if (!k) continue;
        struct json_object *nt = json_object_new_object();
        json_object_object_add(nt, "key", json_object_new_string(k));
        json_object_object_add(nt, "value",
                               json_object_new_string(json_object_object_get_ex(tag, "value", &v)
                                                          ? json_object_get_string(v)
                                                          : ""));
        long idx = find_tag(cur, k);
        if (idx >= 0)
            json_object_array_put_idx(cur, (size_t)idx, nt);
        else
            json_object_array_add(cur, nt);
    }
    int rc = write_tags(t, arn, cur);
    json_object_put(cur);
    return rc;
}

int cp_tags_delete_all(store_txn *t, const char *arn)
{
    int rc = store_del(t, STORE_DB_CP_TAGS, arn, strlen(arn));
    return rc == STORE_NOTFOUND ? 0 : rc;
}

/* Resolves a resource ARN of the caller: 0 when the resource exists, or the proto_error
 * (InvalidArnException for a malformed ARN, ResourceNotFoundException otherwise). */
static int resolve_arn(struct proto_req *req, store_txn *t, const char *arn)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    static const char PREFIX[] = "arn:aws:codepipeline:";
    if (strncmp(arn, PREFIX, sizeof PREFIX - 1))
        return proto_error(req, ERR_INVALID_ARN, "The ARN %s is not a valid CodePipeline ARN", arn);
    const char *p = arn + sizeof PREFIX - 1;
    const char *c1 = strchr(p, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || c2[1] == 0)
        return proto_error(req, ERR_INVALID_ARN, "The ARN %s is not a valid CodePipeline ARN", arn);
    const char *rest = c2 + 1;
    if ((size_t)(c1 - p) != strlen(region) || strncmp(p, region, (size_t)(c1 - p)) ||
        (size_t)(c2 - c1 - 1) != strlen(acct) || strncmp(c1 + 1, acct, (size_t)(c2 - c1 - 1)))
        goto notfound;
    if (!strncmp(rest, "webhook:", 8)) {
        if (cp_webhook_exists(t, acct, region, rest + 8)) return 0;
        goto notfound;
    }
    if (!strncmp(rest, "actiontype:", 11)) {
        char buf[256];
        const char *id = rest + 11;
        if (strncmp(id, "Custom/", 7) || strlen(id) >= sizeof buf) goto notfound;
        strcpy(buf, id + 7);
        char *s1 = strchr(buf, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        if (!s1 || !s2) goto notfound;
        *s1 = *s2 = 0;
        struct json_object *at = cp_custom_action_get(t, acct, region, buf, s1 + 1, s2 + 1);
        if (!at) goto notfound;
        json_object_put(at);
        return 0;
    }
    if (strchr(rest, ':') || strchr(rest, '/')) goto notfound;
    struct cp_pipe_hdr h;
    const char *decl;
    int rc = cp_pipeline_read(t, acct, region, rest, &h, &decl);
    if (rc == 0) return 0;
    if (rc != STORE_NOTFOUND) return cp_store_error(req, rc);
notfound:
    return proto_error(req, ERR_RESOURCE_NOT_FOUND, "The resource with ARN %s was not found", arn);
}

int cp_op_tag_resource(struct proto_req *req)
{
    struct json_object *v, *tags = NULL, *cur = NULL;
    const char *arn =
        json_object_object_get_ex(req->input, "resourceArn", &v) ? json_object_get_string(v) : "";
    json_object_object_get_ex(req->input, "tags", &tags);
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    if ((rc = resolve_arn(req, t, arn))) goto out;
    cur = cp_tags_get(t, arn);
    if ((rc = cp_tags_check(req, tags, cur))) goto out;
    if ((rc = cp_tags_put(t, arn, tags))) {
        rc = cp_store_error(req, rc);
        goto out;
    }
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) rc = cp_store_error(req, rc);
out:
    json_object_put(cur);
    store_txn_abort(t);
    return rc;
}

int cp_op_untag_resource(struct proto_req *req)
{
    struct json_object *v, *keys = NULL, *cur = NULL;
    const char *arn =
        json_object_object_get_ex(req->input, "resourceArn", &v) ? json_object_get_string(v) : "";
    json_object_object_get_ex(req->input, "tagKeys", &keys);
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    if ((rc = resolve_arn(req, t, arn))) goto out;
    for (size_t i = 0; keys && i < json_object_array_length(keys); i++) {
        const char *k = json_object_get_string(json_object_array_get_idx(keys, i));
        if (k && !strncmp(k, "aws:", 4)) {
            rc = proto_error(req, ERR_INVALID_TAGS,
                             "Tag keys cannot start with the reserved prefix aws: (%s)", k);
            goto out;
        }
    }
    cur = cp_tags_get(t, arn);
    struct json_object *kept = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(cur); i++) {
        struct json_object *tag = json_object_array_get_idx(cur, i);
        const char *k = tag_key(tag);
        int drop = 0;
        for (size_t j = 0; k && keys && j < json_object_array_length(keys) && !drop; j++)
            drop = !strcmp(k, json_object_get_string(json_object_array_get_idx(keys, j)));
        if (!drop) json_object_array_add(kept, json_object_get(tag));
    }
    rc = write_tags(t, arn, kept);
    json_object_put(kept);
    if (rc) {
        rc = cp_store_error(req, rc);
        goto out;
    }
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) rc = cp_store_error(req, rc);
out:
    json_object_put(cur);
    store_txn_abort(t);
    return rc;
}

int cp_op_list_tags_for_resource(struct proto_req *req)
{
    struct json_object *v, *cur = NULL;
    const char *arn =
        json_object_object_get_ex(req->input, "resourceArn", &v) ? json_object_get_string(v) : "";
    int max = MAX_TAGS;
    size_t start = 0;
    if (json_object_object_get_ex(req->input, "maxResults", &v)) max = json_object_get_int(v);
    if (max < 1) max = MAX_TAGS;
    if (json_object_object_get_ex(req->input, "nextToken", &v)) {
        const char *tok = cp_token_decode(req->arena, json_object_get_string(v));
        char *end = NULL;
        unsigned long n = tok ? strtoul(tok, &end, 10) : 0;
        if (!tok || !*tok || *end || n > MAX_TAGS)
            return proto_error(req, ERR_INVALID_NEXT_TOKEN, "Invalid nextToken");
        start = n;
    }
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 0, &t);
    if (rc) return cp_store_error(req, rc);
    if ((rc = resolve_arn(req, t, arn))) goto out;
    cur = cp_tags_get(t, arn);
    struct json_object *page = json_object_new_array();
    size_t n = json_object_array_length(cur), i;
    for (i = start; i < n && i < start + (size_t)max; i++)
        json_object_array_add(page, json_object_get(json_object_array_get_idx(cur, i)));
    req->output = json_object_new_object();
    json_object_object_add(req->output, "tags", page);
    if (i < n) {
        char num[24];
        int l = snprintf(num, sizeof num, "%zu", i);
        json_object_object_add(req->output, "nextToken",
                               json_object_new_string(cp_token_encode(req->arena, num, (size_t)l)));
    }
out:
    json_object_put(cur);
    store_txn_abort(t);
    return rc;
}
