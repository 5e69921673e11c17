/* Helpers shared by the codedeploy provider: record keys and JSON records, names, paging, ARNs,
 * tags. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codedeploy/cd_internal.h"

int cd_key(char *buf, const char *account, const char *region, const char *kind, const char *a,
           const char *b)
{
    char name[CD_KEY_MAX];
    int n = snprintf(name, sizeof name, "%s/%s%s%s", kind, a ? a : "", b ? CD_SEP : "", b ? b : "");
    if (n < 0 || (size_t)n >= sizeof name) return -1;
    return store_key(buf, CD_KEY_MAX, account, region, name);
}

int cd_rec_get(store_txn *t, enum store_db db, const char *key, int klen, struct json_object **out)
{
    const void *val;
    size_t vlen;
    *out = NULL;
    if (klen < 0) return STORE_NOTFOUND;
    int rc = store_get(t, db, key, (size_t)klen, &val, &vlen);
    if (rc) return rc;
    struct json_tokener *tok = json_tokener_new();
    if (!tok) return STORE_ERROR;
    *out = json_tokener_parse_ex(tok, val, (int)vlen);
    json_tokener_free(tok);
    return *out ? 0 : STORE_ERROR;
}

int cd_rec_put(store_txn *t, enum store_db db, const char *key, int klen, struct json_object *rec)
{
    size_t n;
    if (klen < 0) return STORE_ERROR;
    const char *s = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN, &n);
    return store_put(t, db, key, (size_t)klen, s, n);
}

int cd_rec_each(store_txn *t, enum store_db db, const char *prefix, int plen,
                int (*fn)(void *ctx, const char *key, size_t klen, struct json_object *rec),
                void *ctx)
{
    store_cursor *c = NULL;
    int rc = 0;
    if (plen < 0) return 0;
    if (store_cursor_open(t, db, &c) != 0) return STORE_ERROR;
    for (int r = store_cursor_seek(c, prefix, (size_t)plen); r == 0; r = store_cursor_next(c)) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (kl < (size_t)plen || memcmp(k, prefix, (size_t)plen) != 0) break;
        struct json_tokener *tok = json_tokener_new();
        struct json_object *rec = tok ? json_tokener_parse_ex(tok, v, (int)vl) : NULL;
        json_tokener_free(tok);
        if (!rec) {
            rc = STORE_ERROR;
            break;
        }
        rc = fn(ctx, k, kl, rec);
        json_object_put(rec);
        if (rc) break;
    }
    store_cursor_close(c);
    return rc;
}

const char *cd_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

int cd_bool(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v)) return 0;
    return json_object_get_boolean(v);
}

struct json_object *cd_time(double t)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.3f", t);
    return json_object_new_double_s(t, buf);
}

int cd_name_ok(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}

int cd_need_name(struct proto_req *req, const char *member, enum proto_err required_err,
                 enum proto_err invalid_err, const char *what, const char **out)
{
    const char *v = cd_str(req->input, member);
    *out = NULL;
    if (!v || !*v) return proto_error(req, required_err, "%s name is missing", what);
    if (strlen(v) > 100 || !cd_name_ok(v))
        return proto_error(req, invalid_err, "%s name is invalid: %s", what, v);
    *out = v;
    return 0;
}

char *cd_token(proto_arena *a, size_t offset)
{
    return proto_arena_printf(a, "cpl-%zu", offset);
}

long cd_token_parse(const char *token)
{
    if (!token) return 0;
    if (strncmp(token, "cpl-", 4) != 0 || !token[4]) return -1;
    char *end;
    long v = strtol(token + 4, &end, 10);
    return *end || v < 0 ? -1 : v;
}

int cd_app_load(struct proto_req *req, store_txn *t, const char *name, struct json_object **app)
{
    char key[CD_KEY_MAX];
    struct json_object *rec = NULL;
    int klen = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_APP, name, NULL);
    int rc = cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, klen, &rec);
    if (rc == STORE_NOTFOUND)
        return proto_error(req, ERR_CD_APPLICATION_DOES_NOT_EXIST,
                           "No application found for name: %s", name);
    if (rc) return proto_error(req, ERR_INTERNAL_FAILURE, "could not read the application");
    if (app)
        *app = rec;
    else
        json_object_put(rec);
    return 0;
}

char *cd_arn_app(proto_arena *a, const char *account, const char *region, const char *app)
{
    return proto_arena_printf(a, "arn:aws:codedeploy:%s:%s:application:%s", region, account, app);
}

char *cd_arn_group(proto_arena *a, const char *account, const char *region, const char *app,
                   const char *group)
{
    return proto_arena_printf(a, "arn:aws:codedeploy:%s:%s:deploymentgroup:%s/%s", region, account,
                              app, group);
}

char *cd_arn_config(proto_arena *a, const char *account, const char *region, const char *name)
{
    return proto_arena_printf(a, "arn:aws:codedeploy:%s:%s:deploymentconfig:%s", region, account,
                              name);
}

void cd_tags_delete(store_txn *t, const char *account, const char *region, const char *arn)
{
    char key[CD_KEY_MAX];
    int klen = cd_key(key, account, region, CD_K_TAGS, arn, NULL);
    if (klen > 0) store_del(t, STORE_DB_CD_APPLICATIONS, key, (size_t)klen);
}

int cd_tags_put(store_txn *t, const char *account, const char *region, const char *arn,
                struct json_object *tags)
{
    char key[CD_KEY_MAX];
    int klen = cd_key(key, account, region, CD_K_TAGS, arn, NULL);
    if (!tags || json_object_array_length(tags) == 0) {
        if (klen > 0) store_del(t, STORE_DB_CD_APPLICATIONS, key, (size_t)klen);
        return 0;
    }
    return cd_rec_put(t, STORE_DB_CD_APPLICATIONS, key, klen, tags);
}
