/* The connection operations, shared by CodeStar Connections and its rename CodeConnections. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persistence/store.h"
#include "protocol/ids.h"
#include "providers/connections/connections.h"
#include "providers/connections/internal.h"

#define LIST_MAX 100 /* MaxResults' maximum, and the page size when it is absent or 0 */

static const char *in_str(struct json_object *o, const char *k)
{
    struct json_object *v;
    return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static struct json_object *in_obj(struct json_object *o, const char *k)
{
    struct json_object *v;
    return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static int store_fail(struct proto_req *req, int rc)
{
    return proto_error(req, ERR_INTERNAL_FAILURE, "The store failed: %s", store_strerror(rc));
}

int conn_arn_parse(const char *arn, char region[64], char account[13], char uuid[64])
{
    static const char *const prefixes[] = {"arn:aws:codestar-connections:",
                                           "arn:aws:codeconnections:"};
    const char *p = NULL;
    for (size_t i = 0; !p && i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (arn && strncmp(arn, prefixes[i], strlen(prefixes[i])) == 0)
            p = arn + strlen(prefixes[i]);
    if (!p) return -1;
    size_t rl = strcspn(p, ":");
    if (rl == 0 || rl >= 64 || p[rl] != ':') return -1;
    memcpy(region, p, rl);
    region[rl] = '\0';
    p += rl + 1;
    size_t al = strcspn(p, ":");
    if (al != 12 || p[al] != ':') return -1;
    for (size_t i = 0; i < al; i++)
        if (p[i] < '0' || p[i] > '9') return -1;
    memcpy(account, p, al);
    account[al] = '\0';
    p += al + 1;
    if (strncmp(p, "connection/", 11) != 0) return -1;
    p += 11;
    size_t ul = strlen(p);
    if (ul == 0 || ul >= 64) return -1;
    for (size_t i = 0; i < ul; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') || p[i] == '-'))
            return -1;
    memcpy(uuid, p, ul + 1);
    return 0;
}

/* The ARN prefix of the service answering req: a connection created through CodeConnections
 * gets its ARN, one created through CodeStar Connections the older one; AWS keeps a connection's
 * ARN for life and accepts both forms in both APIs. */
static const char *arn_service(const struct proto_req *req)
{
    return req->service && strcmp(req->service->name, "codeconnections") == 0
               ? "codeconnections"
               : "codestar-connections";
}

static int not_found(struct proto_req *req, const char *arn)
{
    return proto_error(req, ERR_RESOURCE_NOT_FOUND, "Connection %s does not exist", arn ? arn : "");
}

/* Loads the record of the connection arn names in the caller's account and region into *rec
 * (new reference) and its key into key. Returns 0, or a negative proto_err set on req. */
static int load(struct proto_req *req, store_txn *t, const char *arn, char key[CONN_KEY_MAX],
                int *klen, struct json_object **rec)
{
    char region[64], account[13], uuid[64];
    const void *val;
    size_t vlen;
    *rec = NULL;
    if (conn_arn_parse(arn, region, account, uuid) != 0 ||
        strcmp(account, req->caller.account_id) != 0 || strcmp(region, req->caller.region) != 0)
        return not_found(req, arn);
    *klen = store_key(key, CONN_KEY_MAX, account, region, uuid);
    if (*klen < 0) return not_found(req, arn);
    int rc = store_get(t, STORE_DB_CONN_CONNECTIONS, key, (size_t)*klen, &val, &vlen);
    if (rc == STORE_NOTFOUND) return not_found(req, arn);
    if (rc) return store_fail(req, rc);
    *rec = json_tokener_parse(proto_arena_strndup(req->arena, val, vlen));
    if (!*rec) return store_fail(req, STORE_ERROR);
    return 0;
}

int conn_connection_exists(store *s, const char *account, const char *connection_arn)
{
    char region[64], acct[13], uuid[64], key[CONN_KEY_MAX];
    const void *val;
    size_t vlen;
    store_txn *t = NULL;
    if (!connection_arn || conn_arn_parse(connection_arn, region, acct, uuid) != 0 ||
        strcmp(acct, account) != 0)
        return CONN_ENOREPO;
    int klen = store_key(key, sizeof key, acct, region, uuid);
    if (klen < 0) return CONN_ENOREPO;
    if (store_txn_begin(s, 0, &t)) return CONN_EIO;
    int rc = store_get(t, STORE_DB_CONN_CONNECTIONS, key, (size_t)klen, &val, &vlen);
    store_txn_abort(t);
    return rc == STORE_NOTFOUND ? CONN_ENOREPO : rc ? CONN_EIO : 0;
}

static int save(struct proto_req *req, store_txn *t, const char *key, int klen,
                struct json_object *rec)
{
    size_t n;
    const char *s = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN, &n);
    int rc = store_put(t, STORE_DB_CONN_CONNECTIONS, key, (size_t)klen, s, n);
    return rc ? store_fail(req, rc) : 0;
}

int conn_op_create_connection(struct proto_req *req)
{
    const char *name = in_str(req->input, "ConnectionName");
    const char *provider = in_str(req->input, "ProviderType");
    const char *host = in_str(req->input, "HostArn");
    struct json_object *tags = in_obj(req->input, "Tags");
    const char *acct = req->caller.account_id, *region = req->caller.region;
    store_txn *t = NULL;
    struct json_object *rec = NULL, *conn;
    char uuid[37], key[CONN_KEY_MAX];
    int rc;
    /* No hosts exist here (CreateHost is not emulated), so a host is never found. */
    if (host && *host)
        return proto_error(req, ERR_RESOURCE_NOT_FOUND, "Host %s does not exist", host);
    if (!provider)
        return proto_error(req, ERR_VALIDATION,
                           "ProviderType or HostArn must be specified to create a connection");
    proto_uuid(uuid);
    int klen = store_key(key, sizeof key, acct, region, uuid);
    const char *arn = proto_arena_printf(req->arena, "arn:aws:%s:%s:%s:connection/%s",
                                         arn_service(req), region, acct, uuid);
    rec = json_object_new_object();
    conn = json_object_new_object();
    json_object_object_add(conn, "ConnectionName", json_object_new_string(name ? name : ""));
    json_object_object_add(conn, "ConnectionArn", json_object_new_string(arn));
    json_object_object_add(conn, "ProviderType", json_object_new_string(provider));
    json_object_object_add(conn, "OwnerAccountId", json_object_new_string(acct));
    /* Nothing to authorise against a local Git host: available at once. */
    json_object_object_add(conn, "ConnectionStatus", json_object_new_string("AVAILABLE"));
    json_object_object_add(rec, "Connection", conn);
    json_object_object_add(rec, "Tags", tags ? json_object_get(tags) : json_object_new_array());
    if ((rc = store_txn_begin(req->store, 1, &t))) {
        rc = store_fail(req, rc);
        goto out;
    }
    if (klen < 0 || (rc = save(req, t, key, klen, rec))) {
        if (!rc) rc = store_fail(req, STORE_ERROR);
        goto out;
    }
    if ((rc = store_txn_commit(t))) {
        t = NULL;
        rc = store_fail(req, rc);
        goto out;
    }
    t = NULL;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "ConnectionArn", json_object_new_string(arn));
    if (tags && json_object_array_length(tags))
        json_object_object_add(req->output, "Tags", json_object_get(tags));
out:
    store_txn_abort(t);
    json_object_put(rec);
    return rc;
}

int conn_op_get_connection(struct proto_req *req)
{
    const char *arn = in_str(req->input, "ConnectionArn");
    store_txn *t = NULL;
    struct json_object *rec = NULL;
    char key[CONN_KEY_MAX];
    int klen, rc = store_txn_begin(req->store, 0, &t);
    if (rc) return store_fail(req, rc);
    if ((rc = load(req, t, arn, key, &klen, &rec))) goto out;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "Connection", json_object_get(in_obj(rec, "Connection")));
out:
    store_txn_abort(t);
    json_object_put(rec);
    return rc;
}

int conn_op_delete_connection(struct proto_req *req)
{
    const char *arn = in_str(req->input, "ConnectionArn");
    store_txn *t = NULL;
    struct json_object *rec = NULL;
    char key[CONN_KEY_MAX];
    int klen, rc = store_txn_begin(req->store, 1, &t);
    if (rc) return store_fail(req, rc);
    if ((rc = load(req, t, arn, key, &klen, &rec))) goto out;
    if ((rc = store_del(t, STORE_DB_CONN_CONNECTIONS, key, (size_t)klen)) ||
        (rc = store_txn_commit(t))) {
        t = NULL;
        rc = store_fail(req, rc);
        goto out;
    }
    t = NULL;
out:
    store_txn_abort(t);
    json_object_put(rec);
    return rc;
}

int conn_op_list_connections(struct proto_req *req)
{
    const char *provider = in_str(req->input, "ProviderTypeFilter");
    const char *host = in_str(req->input, "HostArnFilter");
    const char *token = in_str(req->input, "NextToken");
    struct json_object *v;
    long max = LIST_MAX;
    if (json_object_object_get_ex(req->input, "MaxResults", &v) && json_object_get_int64(v) > 0)
        max = (long)json_object_get_int64(v);
    char prefix[CONN_KEY_MAX];
    int pl = store_key(prefix, sizeof prefix, req->caller.account_id, req->caller.region, "");
    store_txn *t = NULL;
    store_cursor *c = NULL;
    struct json_object *list = json_object_new_array();
    int rc = store_txn_begin(req->store, 0, &t);
    if (rc || (rc = store_cursor_open(t, STORE_DB_CONN_CONNECTIONS, &c))) {
        rc = store_fail(req, rc);
        goto out;
    }
    /* The token is the uuid of the first connection of the next page (keys sort by uuid). */
    char start[CONN_KEY_MAX];
    int sl = token
                 ? store_key(start, sizeof start, req->caller.account_id, req->caller.region, token)
                 : pl;
    if (sl < 0) {
        rc = proto_error(req, ERR_VALIDATION, "The next token is not valid");
        goto out;
    }
    const char *next = NULL;
    for (int r = store_cursor_seek(c, token ? start : prefix, (size_t)sl); r == 0;
         r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl < (size_t)pl || memcmp(k, prefix, (size_t)pl) != 0) break;
        struct json_object *rec = json_tokener_parse(proto_arena_strndup(req->arena, val, vl));
        struct json_object *conn = in_obj(rec, "Connection");
        const char *p = in_str(conn, "ProviderType"), *h = in_str(conn, "HostArn");
        int keep = conn && (!provider || (p && !strcmp(p, provider))) &&
                   (!host || !*host || (h && !strcmp(h, host)));
        if (keep && (long)json_object_array_length(list) == max) {
            next = proto_arena_strndup(req->arena, (const char *)k + pl, kl - (size_t)pl);
            json_object_put(rec);
            break;
        }
        if (keep) json_object_array_add(list, json_object_get(conn));
        json_object_put(rec);
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "Connections", json_object_get(list));
    if (next) json_object_object_add(req->output, "NextToken", json_object_new_string(next));
out:
    store_cursor_close(c);
    store_txn_abort(t);
    json_object_put(list);
    return rc;
}

/* Runs fn on the record of the connection ResourceArn names, storing it again when write. */
static int with_resource(struct proto_req *req, int write,
                         int (*fn)(struct proto_req *req, struct json_object *rec))
{
    const char *arn = in_str(req->input, "ResourceArn");
    store_txn *t = NULL;
    struct json_object *rec = NULL;
    char key[CONN_KEY_MAX];
    int klen, rc = store_txn_begin(req->store, write, &t);
    if (rc) return store_fail(req, rc);
    if ((rc = load(req, t, arn, key, &klen, &rec)) || (rc = fn(req, rec))) goto out;
    if (write) {
        if ((rc = save(req, t, key, klen, rec))) goto out;
        rc = store_txn_commit(t);
        t = NULL;
        if (rc) rc = store_fail(req, rc);
    }
out:
    store_txn_abort(t);
    json_object_put(rec);
    return rc;
}

static int list_tags(struct proto_req *req, struct json_object *rec)
{
    req->output = json_object_new_object();
    struct json_object *tags = in_obj(rec, "Tags");
    json_object_object_add(req->output, "Tags",
                           tags ? json_object_get(tags) : json_object_new_array());
    return 0;
}

/* Returns the index of the tag with key in tags, or -1. */
static long tag_index(struct json_object *tags, const char *key)
{
    for (size_t i = 0; key && i < json_object_array_length(tags); i++) {
        const char *k = in_str(json_object_array_get_idx(tags, i), "Key");
        if (k && !strcmp(k, key)) return (long)i;
    }
    return -1;
}

static int tag(struct proto_req *req, struct json_object *rec)
{
    struct json_object *tags = in_obj(rec, "Tags"), *add = in_obj(req->input, "Tags");
    if (!tags) {
        tags = json_object_new_array();
        json_object_object_add(rec, "Tags", tags);
    }
    for (size_t i = 0; add && i < json_object_array_length(add); i++) {
        struct json_object *t = json_object_array_get_idx(add, i);
        long at = tag_index(tags, in_str(t, "Key"));
        if (at >= 0)
            json_object_array_put_idx(tags, (size_t)at, json_object_get(t));
        else
            json_object_array_add(tags, json_object_get(t));
    }
    /* The model's TagList maximum, for the merged set. */
    if (json_object_array_length(tags) > 200)
        return proto_error(req, ERR_LIMIT_EXCEEDED,
                           "A connection can have at most 200 tags; this request would give it %zu",
                           json_object_array_length(tags));
    return 0;
}

static int untag(struct proto_req *req, struct json_object *rec)
{
    struct json_object *tags = in_obj(rec, "Tags"), *keys = in_obj(req->input, "TagKeys");
    for (size_t i = 0; tags && keys && i < json_object_array_length(keys); i++) {
        long at = tag_index(tags, json_object_get_string(json_object_array_get_idx(keys, i)));
        if (at >= 0) json_object_array_del_idx(tags, (size_t)at, 1);
    }
    return 0;
}

int conn_op_list_tags_for_resource(struct proto_req *req)
{
    return with_resource(req, 0, list_tags);
}

int conn_op_tag_resource(struct proto_req *req)
{
    return with_resource(req, 1, tag);
}

int conn_op_untag_resource(struct proto_req *req)
{
    return with_resource(req, 1, untag);
}
