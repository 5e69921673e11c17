/* Object versions in LMDB: every version (and delete marker) in s3_versions, newest first per key,
 * and the current version of each key copied into s3_objects for reads and listings. */
#include <string.h>

#include "providers/s3/internal.h"

int s3_bucket_load(store_txn *t, proto_arena *a, const char *name, struct s3_bucket *b)
{
    const void *v;
    size_t vl;
    size_t n = strlen(name);
    if (n == 0 || n > 255) return STORE_NOTFOUND;
    int rc = store_get(t, STORE_DB_S3_BUCKETS, name, n, &v, &vl);
    if (rc) return rc;
    return s3_bucket_decode(a, v, vl, b) ? STORE_ERROR : 0;
}

int s3_current_load(store_txn *t, proto_arena *a, const char *bucket, const char *key,
                    size_t key_len, struct s3_obj *o)
{
    char k[S3_DBKEY_MAX];
    size_t kl = s3_dbkey_object(k, bucket, key, key_len);
    const void *v;
    size_t vl;
    int rc = store_get(t, STORE_DB_S3_OBJECTS, k, kl, &v, &vl);
    if (rc) return rc;
    if (s3_obj_decode(a, v, vl, o)) return STORE_ERROR;
    if (o->key_len != key_len || memcmp(o->key, key, key_len) != 0) return STORE_NOTFOUND;
    return 0;
}

/* Finds the version of key whose id is vid (NULL: the newest). On 0, dbkey/dklen hold its LMDB key
 * (dbkey has S3_DBKEY_MAX bytes) and o the record. */
static int find_version(store_txn *t, proto_arena *a, const char *bucket, const char *key,
                        size_t key_len, const char *vid, struct s3_obj *o, char *dbkey,
                        size_t *dklen)
{
    char prefix[S3_DBKEY_MAX];
    size_t pl = s3_dbkey_object(prefix, bucket, key, key_len);
    prefix[pl++] = '\0';
    store_cursor *c = NULL;
    int rc = store_cursor_open(t, STORE_DB_S3_VERSIONS, &c);
    if (rc) return STORE_ERROR;
    rc = store_cursor_seek(c, prefix, pl);
    while (rc == 0) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (kl != pl + 8 || memcmp(k, prefix, pl) != 0) {
            rc = STORE_NOTFOUND;
            break;
        }
        if (s3_obj_decode(a, v, vl, o)) {
            rc = STORE_ERROR;
            break;
        }
        if (o->key_len == key_len && memcmp(o->key, key, key_len) == 0 &&
            (!vid || strcmp(o->version_id, vid) == 0)) {
            memcpy(dbkey, k, kl);
            *dklen = kl;
            break;
        }
        rc = store_cursor_next(c);
    }
    store_cursor_close(c);
    return rc;
}

int s3_version_load(store_txn *t, proto_arena *a, const char *bucket, const char *key,
                    size_t key_len, const char *vid, struct s3_obj *o)
{
    char dk[S3_DBKEY_MAX];
    size_t dkl;
    return find_version(t, a, bucket, key, key_len, vid, o, dk, &dkl);
}

/* Makes s3_objects reflect the newest version of key. */
static int refresh_current(store_txn *t, proto_arena *a, const char *bucket, const char *key,
                           size_t key_len)
{
    char dk[S3_DBKEY_MAX], ok[S3_DBKEY_MAX];
    size_t dkl;
    struct s3_obj o;
    size_t okl = s3_dbkey_object(ok, bucket, key, key_len);
    int rc = find_version(t, a, bucket, key, key_len, NULL, &o, dk, &dkl);
    if (rc == STORE_NOTFOUND || (rc == 0 && o.delete_marker)) {
        rc = store_del(t, STORE_DB_S3_OBJECTS, ok, okl);
        return rc == STORE_NOTFOUND ? 0 : rc;
    }
    if (rc) return rc;
    const void *v;
    size_t vl;
    rc = store_get(t, STORE_DB_S3_VERSIONS, dk, dkl, &v, &vl);
    if (rc) return rc;
    /* copy first: the value points into the map, which the put may move */
    char *copy = proto_arena_alloc(a, vl ? vl : 1);
    memcpy(copy, v, vl);
    return store_put(t, STORE_DB_S3_OBJECTS, ok, okl, copy, vl);
}

int s3_version_put(store_txn *t, proto_arena *a, const char *bucket, const struct s3_obj *o)
{
    int rc;
    if (strcmp(o->version_id, "null") == 0) {
        char dk[S3_DBKEY_MAX];
        size_t dkl;
        struct s3_obj old;
        rc = find_version(t, a, bucket, o->key, o->key_len, "null", &old, dk, &dkl);
        if (rc == 0) {
            rc = store_del(t, STORE_DB_S3_VERSIONS, dk, dkl);
            if (rc == 0 && old.blob[0]) {
                rc = store_blob_delete(t, old.blob);
                if (rc == STORE_NOTFOUND) rc = 0;
            }
        } else if (rc == STORE_NOTFOUND) {
            rc = 0;
        }
        if (rc) return rc;
    }
    struct proto_sb sb = PROTO_SB_INIT;
    s3_obj_encode(&sb, o);
    char vk[S3_DBKEY_MAX], ok[S3_DBKEY_MAX];
    size_t vkl = s3_dbkey_version(vk, bucket, o->key, o->key_len, o->seq);
    rc = store_put(t, STORE_DB_S3_VERSIONS, vk, vkl, sb.buf, sb.len);
    if (rc == 0) {
        size_t okl = s3_dbkey_object(ok, bucket, o->key, o->key_len);
        if (o->delete_marker) {
            rc = store_del(t, STORE_DB_S3_OBJECTS, ok, okl);
            if (rc == STORE_NOTFOUND) rc = 0;
        } else {
            rc = store_put(t, STORE_DB_S3_OBJECTS, ok, okl, sb.buf, sb.len);
        }
    }
    proto_sb_free(&sb);
    return rc;
}

int s3_version_delete(store_txn *t, proto_arena *a, const char *bucket, const char *key,
                      size_t key_len, const char *vid, struct s3_obj *deleted)
{
    char dk[S3_DBKEY_MAX];
    size_t dkl;
    struct s3_obj tmp;
    struct s3_obj *o = deleted ? deleted : &tmp;
    int rc = find_version(t, a, bucket, key, key_len, vid, o, dk, &dkl);
    if (rc) return rc;
    rc = store_del(t, STORE_DB_S3_VERSIONS, dk, dkl);
    if (rc == 0 && o->blob[0]) {
        rc = store_blob_delete(t, o->blob);
        if (rc == STORE_NOTFOUND) rc = 0;
    }
    if (rc) return rc;
    return refresh_current(t, a, bucket, key, key_len);
}

int s3_version_update(store_txn *t, proto_arena *a, const char *bucket, const struct s3_obj *o)
{
    struct proto_sb sb = PROTO_SB_INIT;
    s3_obj_encode(&sb, o);
    char vk[S3_DBKEY_MAX];
    size_t vkl = s3_dbkey_version(vk, bucket, o->key, o->key_len, o->seq);
    int rc = store_put(t, STORE_DB_S3_VERSIONS, vk, vkl, sb.buf, sb.len);
    proto_sb_free(&sb);
    if (rc) return rc;
    return refresh_current(t, a, bucket, o->key, o->key_len);
}

int s3_bucket_has_objects(store_txn *t, const char *bucket)
{
    char prefix[80];
    size_t pl = strlen(bucket);
    if (pl > 63) return 0;
    memcpy(prefix, bucket, pl);
    prefix[pl++] = '\0';
    store_cursor *c = NULL;
    if (store_cursor_open(t, STORE_DB_S3_VERSIONS, &c)) return STORE_ERROR;
    int has = 0;
    if (store_cursor_seek(c, prefix, pl) == 0) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        has = kl >= pl && memcmp(k, prefix, pl) == 0;
    }
    store_cursor_close(c);
    return has;
}
