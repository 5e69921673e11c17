/* Log groups and streams: create, describe, delete, retention and tags. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/logs/internal.h"
#include "sigv4/encode.h"

#define GROUP_NOT_FOUND  "The specified log group does not exist."
#define STREAM_NOT_FOUND "The specified log stream does not exist."
#define MAX_TAGS         50

int lg_store_error(struct proto_req *req, int rc)
{
    if (rc == STORE_FULL)
        return proto_error(req, ERR_SERVICE_UNAVAILABLE,
                           "The data dir's LMDB map is full: restart with a larger map size.");
    return proto_error(req, ERR_INTERNAL_FAILURE, "The log store failed (%s).", store_strerror(rc));
}

const char *lg_in_str(struct proto_req *req, const char *name)
{
    struct json_object *v;
    return json_object_object_get_ex(req->input, name, &v) &&
                   json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

const char *lg_group_name(struct proto_req *req)
{
    const char *g = lg_in_str(req, "logGroupName");
    if (g) return g;
    const char *id = lg_in_str(req, "logGroupIdentifier");
    if (!id || strncmp(id, "arn:", 4) != 0) return id;
    const char *p = strstr(id, ":log-group:");
    if (!p) return id;
    p += 11;
    size_t n = strlen(p);
    if (n >= 2 && strcmp(p + n - 2, ":*") == 0) n -= 2;
    return proto_arena_strndup(req->arena, p, n);
}

/* A copy of a record without its internal ("_") members. */
static struct json_object *public_copy(struct json_object *rec)
{
    struct json_object *o = json_object_new_object();
    json_object_object_foreach(rec, k, v)
    {
        if (k[0] != '_') json_object_object_add(o, k, json_object_get(v));
    }
    return o;
}

static int has_nul(struct proto_req *req, const char *member)
{
    struct json_object *v;
    return json_object_object_get_ex(req->input, member, &v) &&
           json_object_is_type(v, json_type_string) &&
           strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v);
}

int lg_find_group(struct proto_req *req, store_txn *t, const char *group, struct json_object **rec)
{
    char key[LG_KEY_MAX];
    int kl = group ? lg_group_key(key, req->caller.account_id, req->caller.region, group) : -1;
    if (rec) *rec = NULL;
    if (kl < 0) return proto_error(req, ERR_RESOURCE_NOT_FOUND, GROUP_NOT_FOUND);
    struct json_object *o = NULL;
    int rc = lg_read_json(t, STORE_DB_LG_GROUPS, key, (size_t)kl, &o);
    if (rc == STORE_NOTFOUND) return proto_error(req, ERR_RESOURCE_NOT_FOUND, GROUP_NOT_FOUND);
    if (rc) return lg_store_error(req, rc);
    if (rec)
        *rec = o;
    else
        json_object_put(o);
    return 0;
}

int lg_find_stream(struct proto_req *req, store_txn *t, const char *group, const char *stream)
{
    char key[LG_KEY_MAX];
    const void *v;
    size_t vl;
    int kl = lg_stream_key(key, req->caller.account_id, req->caller.region, group, stream);
    int rc = kl < 0 ? STORE_NOTFOUND : store_get(t, STORE_DB_LG_STREAMS, key, (size_t)kl, &v, &vl);
    if (rc == STORE_NOTFOUND) return proto_error(req, ERR_RESOURCE_NOT_FOUND, STREAM_NOT_FOUND);
    return rc ? lg_store_error(req, rc) : 0;
}

/* Commits *t, which is gone afterwards: returns 0 or the store error. */
static int commit(struct proto_req *req, store_txn **t)
{
    int rc = store_txn_commit(*t);
    *t = NULL;
    return rc ? lg_store_error(req, rc) : 0;
}

int lg_begin_on_group(struct proto_req *req, int write, const char *group, store_txn **t, char *key,
                      int *kl, struct json_object **rec)
{
    int rc = store_txn_begin(req->store, write, t);
    if (rc) return lg_store_error(req, rc);
    if ((rc = lg_find_group(req, *t, group, rec))) return rc;
    if (key) *kl = lg_group_key(key, req->caller.account_id, req->caller.region, group);
    return 0;
}

static int put_tags(store_txn *t, const char *key, size_t kl, struct json_object *tags)
{
    if (json_object_object_length(tags) == 0) {
        int rc = store_del(t, STORE_DB_LG_TAGS, key, kl);
        return rc == STORE_NOTFOUND ? 0 : rc;
    }
    return lg_write_json(t, STORE_DB_LG_TAGS, key, kl, tags);
}

static struct json_object *get_tags(store_txn *t, const char *key, size_t kl)
{
    struct json_object *o = NULL;
    if (lg_read_json(t, STORE_DB_LG_TAGS, key, kl, &o)) return json_object_new_object();
    return o;
}

static int check_tags(struct proto_req *req, struct json_object *cur, struct json_object *add)
{
    size_t total = json_object_object_length(cur);
    json_object_object_foreach(add, k, v)
    {
        (void)v;
        if (!strncmp(k, "aws:", 4))
            return proto_error(req, ERR_INVALID_PARAMETER,
                               "Tags starting with 'aws:' are reserved for system use.");
        if (!json_object_object_get_ex(cur, k, NULL)) total++;
    }
    if (total > MAX_TAGS)
        return proto_error(req, ERR_TOO_MANY_TAGS, "A resource can have no more than %d tags.",
                           MAX_TAGS);
    return 0;
}

int lg_op_create_log_group(struct proto_req *req)
{
    const char *group = lg_in_str(req, "logGroupName");
    struct json_object *tags = NULL, *none = json_object_new_object();
    json_object_object_get_ex(req->input, "tags", &tags);
    if (has_nul(req, "logGroupName")) {
        json_object_put(none);
        return proto_error(req, ERR_INVALID_PARAMETER, "Invalid log group name.");
    }
    char key[LG_KEY_MAX];
    int kl = lg_group_key(key, req->caller.account_id, req->caller.region, group);
    store_txn *t = NULL;
    int rc = tags ? check_tags(req, none, tags) : 0;
    if (!rc && (rc = store_txn_begin(req->store, 1, &t))) rc = lg_store_error(req, rc);
    if (rc) goto out;
    const void *v;
    size_t vl;
    if (store_get(t, STORE_DB_LG_GROUPS, key, (size_t)kl, &v, &vl) == 0) {
        rc =
            proto_error(req, ERR_RESOURCE_ALREADY_EXISTS, "The specified log group already exists");
        goto out;
    }
    if ((rc = lg_group_create(t, req->caller.account_id, req->caller.region, group,
                              lg_in_str(req, "logGroupClass"), lg_in_str(req, "kmsKeyId"),
                              lg_now_ms())) ||
        (tags && (rc = put_tags(t, key, (size_t)kl, tags)))) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    rc = commit(req, &t);
out:
    json_object_put(none);
    store_txn_abort(t);
    return rc;
}

int lg_op_create_log_stream(struct proto_req *req)
{
    const char *group = lg_in_str(req, "logGroupName"), *stream = lg_in_str(req, "logStreamName");
    if (has_nul(req, "logStreamName"))
        return proto_error(req, ERR_INVALID_PARAMETER, "Invalid log stream name.");
    store_txn *t = NULL;
    int rc = lg_begin_on_group(req, 1, group, &t, NULL, NULL, NULL);
    if (rc) goto out;
    rc =
        lg_stream_create(t, req->caller.account_id, req->caller.region, group, stream, lg_now_ms());
    if (rc == 1) {
        rc = proto_error(req, ERR_RESOURCE_ALREADY_EXISTS,
                         "The specified log stream already exists");
        goto out;
    }
    if (rc) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    rc = commit(req, &t);
out:
    store_txn_abort(t);
    return rc;
}

/* A logGroupNamePattern match: case-insensitive substring, as AWS matches it. */
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return 1;
    return n == 0;
}

static int in_limit(struct proto_req *req, int dflt)
{
    struct json_object *v;
    return json_object_object_get_ex(req->input, "limit", &v) ? json_object_get_int(v) : dflt;
}

int lg_op_describe_log_groups(struct proto_req *req)
{
    const char *prefix = lg_in_str(req, "logGroupNamePrefix");
    const char *pattern = lg_in_str(req, "logGroupNamePattern");
    const char *cls = lg_in_str(req, "logGroupClass");
    const char *tok = lg_in_str(req, "nextToken"), *after = NULL;
    struct json_object *ids = NULL;
    json_object_object_get_ex(req->input, "logGroupIdentifiers", &ids);
    if (prefix && pattern)
        return proto_error(req, ERR_INVALID_PARAMETER,
                           "LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive "
                           "parameters.");
    if ((prefix || pattern) && ids)
        return proto_error(req, ERR_INVALID_PARAMETER,
                           "LogGroupIdentifiers is mutually exclusive with LogGroupNamePrefix "
                           "and LogGroupNamePattern.");
    if (tok && !(after = lg_hex_token_decode(req, tok)))
        return proto_error(req, ERR_INVALID_PARAMETER, "The specified nextToken is invalid.");
    int limit = in_limit(req, 50);
    char key[LG_KEY_MAX];
    int pl = lg_group_key(key, req->caller.account_id, req->caller.region, prefix ? prefix : "");
    size_t base = strlen(req->caller.account_id) + strlen(req->caller.region) + 2;
    store_txn *t = NULL;
    store_cursor *c = NULL;
    int rc = store_txn_begin(req->store, 0, &t);
    if (!rc) rc = store_cursor_open(t, STORE_DB_LG_GROUPS, &c);
    if (rc) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    struct json_object *arr = json_object_new_array();
    req->output = json_object_new_object();
    json_object_object_add(req->output, "logGroups", arr);
    const char *last = NULL;
    int more = 0;
    for (int r = store_cursor_seek(c, key, (size_t)pl); r == 0; r = store_cursor_next(c)) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (kl < (size_t)pl || memcmp(k, key, (size_t)pl) != 0) break;
        char *name = proto_arena_strndup(req->arena, (const char *)k + base, kl - base);
        if (after && strcmp(name, after) <= 0) continue;
        if (pattern && !contains_ci(name, pattern)) continue;
        if (ids) {
            int hit = 0;
            for (size_t i = 0; i < json_object_array_length(ids) && !hit; i++) {
                const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
                const char *p = id ? strstr(id, ":log-group:") : NULL;
                const char *nm = p ? p + 11 : id;
                size_t n = nm ? strlen(nm) : 0;
                if (n >= 2 && !strcmp(nm + n - 2, ":*")) n -= 2;
                hit = nm && n == strlen(name) && !strncmp(nm, name, n);
            }
            if (!hit) continue;
        }
        struct json_tokener *jt = json_tokener_new();
        struct json_object *rec = jt ? json_tokener_parse_ex(jt, v, (int)vl) : NULL;
        json_tokener_free(jt);
        if (!rec) continue;
        struct json_object *cv;
        if (cls && (!json_object_object_get_ex(rec, "logGroupClass", &cv) ||
                    strcmp(json_object_get_string(cv), cls))) {
            json_object_put(rec);
            continue;
        }
        if ((int)json_object_array_length(arr) == limit) {
            more = 1;
            json_object_put(rec);
            break;
        }
        json_object_array_add(arr, public_copy(rec));
        json_object_put(rec);
        last = name;
    }
    if (more && last)
        json_object_object_add(req->output, "nextToken",
                               json_object_new_string(lg_hex_token(req, last)));
    rc = 0;
out:
    store_cursor_close(c);
    store_txn_abort(t);
    return rc;
}

static int cmp_last_event(const void *a, const void *b)
{
    struct json_object *x = *(struct json_object *const *)a, *y = *(struct json_object *const *)b,
                       *v;
    int64_t tx =
        json_object_object_get_ex(x, "lastEventTimestamp", &v) ? json_object_get_int64(v) : -1;
    int64_t ty =
        json_object_object_get_ex(y, "lastEventTimestamp", &v) ? json_object_get_int64(v) : -1;
    if (tx != ty) return tx < ty ? -1 : 1;
    json_object_object_get_ex(x, "logStreamName", &v);
    const char *nx = json_object_get_string(v);
    json_object_object_get_ex(y, "logStreamName", &v);
    return strcmp(nx, json_object_get_string(v));
}

int lg_op_describe_log_streams(struct proto_req *req)
{
    const char *group = lg_group_name(req), *prefix = lg_in_str(req, "logStreamNamePrefix");
    const char *order = lg_in_str(req, "orderBy"), *tok = lg_in_str(req, "nextToken");
    struct json_object *v;
    int desc =
        json_object_object_get_ex(req->input, "descending", &v) && json_object_get_boolean(v);
    int by_time = order && !strcmp(order, "LastEventTime");
    if (!group)
        return proto_error(req, ERR_INVALID_PARAMETER,
                           "Either logGroupName or logGroupIdentifier must be specified.");
    if (lg_in_str(req, "logGroupName") && lg_in_str(req, "logGroupIdentifier"))
        return proto_error(req, ERR_INVALID_PARAMETER,
                           "LogGroup name and LogGroup ARN are mutually exclusive parameters.");
    if (by_time && prefix)
        return proto_error(req, ERR_INVALID_PARAMETER,
                           "Cannot order by LastEventTime with a logStreamNamePrefix.");
    /* The token is the offset into this ordering of the group's matching streams. */
    size_t start = 0;
    if (tok) {
        const char *d = lg_hex_token_decode(req, tok);
        char *end = NULL;
        unsigned long long off = d ? strtoull(d, &end, 10) : 0;
        if (!d || !*d || *end)
            return proto_error(req, ERR_INVALID_PARAMETER, "The specified nextToken is invalid.");
        start = (size_t)off;
    }
    int limit = in_limit(req, 50);
    char key[LG_KEY_MAX];
    store_txn *t = NULL;
    store_cursor *c = NULL;
    struct json_object **all = NULL;
    size_t n = 0, cap = 0;
    int rc = lg_begin_on_group(req, 0, group, &t, NULL, NULL, NULL);
    if (rc) goto out;
    int pl =
        lg_stream_key(key, req->caller.account_id, req->caller.region, group, prefix ? prefix : "");
    size_t base = (size_t)pl - (prefix ? strlen(prefix) : 0);
    if ((rc = store_cursor_open(t, STORE_DB_LG_STREAMS, &c))) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    for (int r = store_cursor_seek(c, key, (size_t)pl); r == 0; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl < (size_t)pl || memcmp(k, key, (size_t)pl) != 0) break;
        (void)base;
        struct json_tokener *jt = json_tokener_new();
        struct json_object *rec = jt ? json_tokener_parse_ex(jt, val, (int)vl) : NULL;
        json_tokener_free(jt);
        if (!rec) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            struct json_object **na = realloc(all, cap * sizeof *all);
            if (!na) {
                json_object_put(rec);
                rc = proto_error(req, ERR_INTERNAL_FAILURE, "Out of memory.");
                goto out;
            }
            all = na;
        }
        all[n++] = rec;
    }
    if (by_time && n > 1) qsort(all, n, sizeof *all, cmp_last_event);
    struct json_object *arr = json_object_new_array();
    req->output = json_object_new_object();
    json_object_object_add(req->output, "logStreams", arr);
    size_t i;
    for (i = start; i < n && i < start + (size_t)limit; i++)
        json_object_array_add(arr, json_object_get(all[desc ? n - 1 - i : i]));
    if (i < n) {
        char num[24];
        snprintf(num, sizeof num, "%zu", i);
        json_object_object_add(req->output, "nextToken",
                               json_object_new_string(lg_hex_token(req, num)));
    }
    rc = 0;
out:
    for (size_t j = 0; j < n; j++)
        json_object_put(all[j]);
    free(all);
    store_cursor_close(c);
    store_txn_abort(t);
    return rc;
}

int lg_op_delete_log_group(struct proto_req *req)
{
    const char *group = lg_in_str(req, "logGroupName");
    char key[LG_KEY_MAX];
    store_txn *t = NULL;
    int kl = 0, rc = lg_begin_on_group(req, 1, group, &t, key, &kl, NULL);
    if (rc) goto out;
    key[kl] = '\0'; /* the prefix of the group's streams and events includes the NUL */
    if ((rc = store_del(t, STORE_DB_LG_GROUPS, key, (size_t)kl)) ||
        (rc = lg_delete_range(t, STORE_DB_LG_STREAMS, key, (size_t)kl + 1)) ||
        (rc = lg_delete_range(t, STORE_DB_LG_EVENTS, key, (size_t)kl + 1))) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    rc = store_del(t, STORE_DB_LG_TAGS, key, (size_t)kl);
    if (rc && rc != STORE_NOTFOUND) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    rc = commit(req, &t);
out:
    store_txn_abort(t);
    return rc;
}

int lg_op_delete_log_stream(struct proto_req *req)
{
    const char *group = lg_in_str(req, "logGroupName"), *stream = lg_in_str(req, "logStreamName");
    char key[LG_KEY_MAX];
    store_txn *t = NULL;
    int rc = lg_begin_on_group(req, 1, group, &t, NULL, NULL, NULL);
    if (rc) goto out;
    int kl = lg_stream_key(key, req->caller.account_id, req->caller.region, group, stream);
    rc = kl < 0 ? STORE_NOTFOUND : store_del(t, STORE_DB_LG_STREAMS, key, (size_t)kl);
    if (rc == STORE_NOTFOUND) {
        rc = proto_error(req, ERR_RESOURCE_NOT_FOUND, STREAM_NOT_FOUND);
        goto out;
    }
    if (rc || (rc = lg_delete_range(t, STORE_DB_LG_EVENTS, key, (size_t)kl + 1))) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    rc = commit(req, &t);
out:
    store_txn_abort(t);
    return rc;
}

static const int retention_days[] = {1,   3,   5,   7,   14,   30,   60,   90,   120,  150,  180,
                                     365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};

int lg_purge_group(store_txn *t, const char *gkey, size_t gl, int64_t cutoff)
{
    char prefix[LG_KEY_MAX];
    memcpy(prefix, gkey, gl);
    prefix[gl] = '\0';
    /* Collect stream names first: purging writes to another db, but keep cursors simple. */
    store_cursor *c = NULL;
    int rc = store_cursor_open(t, STORE_DB_LG_STREAMS, &c);
    if (rc) return rc;
    char **keys = NULL;
    size_t n = 0, cap = 0;
    for (int r = store_cursor_seek(c, prefix, gl + 1); r == 0; r = store_cursor_next(c)) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (kl < gl + 1 || memcmp(k, prefix, gl + 1) != 0 || kl + 1 >= LG_KEY_MAX) break;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nk = realloc(keys, cap * sizeof *keys);
            if (!nk) break;
            keys = nk;
        }
        keys[n] = malloc(kl + 1);
        if (!keys[n]) break;
        memcpy(keys[n], k, kl);
        keys[n][kl] = '\0';
        n++;
    }
    store_cursor_close(c);
    for (size_t i = 0; i < n; i++) {
        size_t kl = gl + 1 + strlen(keys[i] + gl + 1);
        if (!rc) rc = lg_purge_stream(t, keys[i], kl + 1, cutoff);
        free(keys[i]);
    }
    free(keys);
    return rc;
}

int lg_op_put_retention_policy(struct proto_req *req)
{
    const char *group = lg_in_str(req, "logGroupName");
    struct json_object *v, *rec = NULL;
    int days =
        json_object_object_get_ex(req->input, "retentionInDays", &v) ? json_object_get_int(v) : 0;
    int ok = 0;
    char list[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < sizeof retention_days / sizeof retention_days[0]; i++) {
        ok |= retention_days[i] == days;
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%d", i ? ", " : "",
                                 retention_days[i]);
    }
    if (!ok)
        return proto_error(req, ERR_INVALID_PARAMETER,
                           "1 validation error detected: Value '%d' at 'retentionInDays' failed "
                           "to satisfy constraint: Member must satisfy enum value set: [%s]",
                           days, list);
    store_txn *t = NULL;
    char key[LG_KEY_MAX];
    int kl = 0, rc = lg_begin_on_group(req, 1, group, &t, key, &kl, &rec);
    if (rc) goto out;
    json_object_object_add(rec, "retentionInDays", json_object_new_int(days));
    if ((rc = lg_write_json(t, STORE_DB_LG_GROUPS, key, (size_t)kl, rec)) ||
        (rc = lg_purge_group(t, key, (size_t)kl, lg_retention_cutoff(rec, lg_now_ms())))) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    rc = commit(req, &t);
out:
    json_object_put(rec);
    store_txn_abort(t);
    return rc;
}

int lg_op_delete_retention_policy(struct proto_req *req)
{
    const char *group = lg_in_str(req, "logGroupName");
    struct json_object *rec = NULL;
    store_txn *t = NULL;
    char key[LG_KEY_MAX];
    int kl = 0, rc = lg_begin_on_group(req, 1, group, &t, key, &kl, &rec);
    if (rc) goto out;
    json_object_object_del(rec, "retentionInDays");
    if ((rc = lg_write_json(t, STORE_DB_LG_GROUPS, key, (size_t)kl, rec))) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    rc = commit(req, &t);
out:
    json_object_put(rec);
    store_txn_abort(t);
    return rc;
}

/* Tags of a group, by name. add: a map to merge; del: a list of keys to remove; neither: list. */
static int tags_op(struct proto_req *req, const char *group, struct json_object *add,
                   struct json_object *del, int write)
{
    struct json_object *cur = NULL;
    store_txn *t = NULL;
    char key[LG_KEY_MAX];
    int kl = 0, rc = lg_begin_on_group(req, write, group, &t, key, &kl, NULL);
    if (rc) goto out;
    cur = get_tags(t, key, (size_t)kl);
    if (!write) {
        req->output = json_object_new_object();
        json_object_object_add(req->output, "tags", json_object_get(cur));
        goto out;
    }
    if (add) {
        if ((rc = check_tags(req, cur, add))) goto out;
        json_object_object_foreach(add, k, v) json_object_object_add(cur, k, json_object_get(v));
    }
    for (size_t i = 0; del && i < json_object_array_length(del); i++) {
        const char *k = json_object_get_string(json_object_array_get_idx(del, i));
        if (k) json_object_object_del(cur, k);
    }
    if ((rc = put_tags(t, key, (size_t)kl, cur))) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    rc = commit(req, &t);
out:
    json_object_put(cur);
    store_txn_abort(t);
    return rc;
}

static struct json_object *in_obj(struct proto_req *req, const char *name)
{
    struct json_object *v;
    return json_object_object_get_ex(req->input, name, &v) ? v : NULL;
}

int lg_op_tag_log_group(struct proto_req *req)
{
    return tags_op(req, lg_in_str(req, "logGroupName"), in_obj(req, "tags"), NULL, 1);
}

int lg_op_untag_log_group(struct proto_req *req)
{
    struct json_object *del = in_obj(req, "tags");
    return tags_op(req, lg_in_str(req, "logGroupName"), NULL, del, 1);
}

int lg_op_list_tags_log_group(struct proto_req *req)
{
    return tags_op(req, lg_in_str(req, "logGroupName"), NULL, NULL, 0);
}

/* The group named by a tagging ARN of the caller's account and region ("...:log-group:NAME",
 * with or without the trailing ":*"), or NULL after setting the error. */
static const char *arn_group(struct proto_req *req)
{
    const char *arn = lg_in_str(req, "resourceArn");
    char pre[128];
    snprintf(pre, sizeof pre, "arn:aws:logs:%s:%s:log-group:", req->caller.region,
             req->caller.account_id);
    if (!arn || strncmp(arn, "arn:", 4) != 0) {
        proto_error(req, ERR_INVALID_PARAMETER, "Invalid ARN: %s", arn ? arn : "");
        return NULL;
    }
    if (strncmp(arn, pre, strlen(pre)) != 0) {
        proto_error(req, ERR_RESOURCE_NOT_FOUND, GROUP_NOT_FOUND);
        return NULL;
    }
    const char *name = arn + strlen(pre);
    size_t n = strlen(name);
    if (n >= 2 && !strcmp(name + n - 2, ":*")) n -= 2;
    return proto_arena_strndup(req->arena, name, n);
}

int lg_op_tag_resource(struct proto_req *req)
{
    const char *g = arn_group(req);
    return g ? tags_op(req, g, in_obj(req, "tags"), NULL, 1) : -(int)req->err;
}

int lg_op_untag_resource(struct proto_req *req)
{
    const char *g = arn_group(req);
    struct json_object *del = in_obj(req, "tagKeys");
    return g ? tags_op(req, g, NULL, del, 1) : -(int)req->err;
}

int lg_op_list_tags_for_resource(struct proto_req *req)
{
    const char *g = arn_group(req);
    return g ? tags_op(req, g, NULL, NULL, 0) : -(int)req->err;
}
