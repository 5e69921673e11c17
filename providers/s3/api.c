/* The in-process S3 interface for the other providers, and the change-notification listeners. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/ids.h"
#include "providers/runtime/listeners.h"
#include "providers/s3/internal.h"

static struct rt_listeners listeners = RT_LISTENERS_INIT;

int s3_add_listener(s3_listener_fn fn, void *ctx)
{
    return rt_listeners_add(&listeners, (rt_listener_any)fn, ctx);
}

int s3_remove_listener(int handle)
{
    return rt_listeners_remove(&listeners, handle);
}

static void call_listener(rt_listener_any fn, void *ctx, const void *ev)
{
    ((s3_listener_fn)fn)(ctx, ev);
}

void s3_notify(const char *event, const char *account, const char *bucket, const struct s3_obj *o)
{
    if (!rt_listeners_count(&listeners)) return;
    char *key = malloc(o->key_len + 1);
    if (!key) return;
    memcpy(key, o->key, o->key_len);
    key[o->key_len] = '\0';
    struct s3_event ev = {.name = event,
                          .account = account,
                          .bucket = bucket,
                          .key = key,
                          .version_id = o->version_id,
                          .etag = o->etag,
                          .size = o->size};
    rt_listeners_notify(&listeners, call_listener, &ev);
    free(key);
}

/* Loads bucket and checks its owner. */
static int api_bucket(store_txn *t, proto_arena *a, const char *account, const char *bucket,
                      struct s3_bucket *b)
{
    return s3_bucket_owned(t, a, bucket, account, NULL, b);
}

static void fill_info(struct s3_object_info *info, const struct s3_obj *o)
{
    if (!info) return;
    memset(info, 0, sizeof(*info));
    info->size = o->size;
    info->last_modified = o->mtime;
    snprintf(info->etag, sizeof(info->etag), "\"%s\"", o->etag);
    snprintf(info->version_id, sizeof(info->version_id), "%s", o->version_id);
    snprintf(info->content_type, sizeof(info->content_type), "%s",
             o->content_type ? o->content_type : "binary/octet-stream");
}

/* Commits blob w (consumed) as the new version of bucket/key. */
static int api_commit(store *st, proto_arena *a, const char *account, const char *bucket,
                      const char *key, store_blob_writer *w, const char *md5_hex,
                      const char *content_type, struct s3_object_info *info)
{
    struct s3_bucket b;
    struct s3_obj o;
    memset(&o, 0, sizeof(o));
    o.key = key;
    o.key_len = strlen(key);
    o.size = store_blob_size(w);
    o.etag = md5_hex;
    o.content_type = content_type;
    struct s3_commit_opts opt = {.account = account};
    int rc = s3_commit_version(st, a, bucket, &o, &w, &opt, &b);
    if (rc == S3_OK) {
        fill_info(info, &o);
        s3_notify("ObjectCreated:Put", b.account, bucket, &o);
    }
    return rc;
}

int s3_put_object_fd(struct store *st, const char *account, const char *bucket, const char *key,
                     int fd, const char *content_type, struct s3_object_info *info)
{
    if (!key || !s3_key_valid(key, strlen(key))) return S3_EINVAL;
    proto_arena *a = proto_arena_new();
    store_blob_writer *w = NULL;
    struct s3_hasher h;
    int rc = S3_EIO, hasher = 0;
    enum { BUF = 256 * 1024 };
    char *buf = malloc(BUF);
    if (!buf || s3_hasher_init(&h, 0, S3_CK_NONE)) goto out;
    hasher = 1;
    if (store_blob_create(st, &w)) goto out;
    for (;;) {
        ssize_t n = read(fd, buf, BUF);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) goto out;
        if (n == 0) break;
        s3_hasher_update(&h, buf, (size_t)n);
        if (store_blob_write(w, buf, (size_t)n)) goto out;
    }
    char md5[33];
    s3_hasher_final(&h, md5, NULL, NULL, NULL, NULL, NULL);
    rc = api_commit(st, a, account, bucket, key, w, md5, content_type, info);
    w = NULL;
out:
    store_blob_discard(w);
    if (hasher) s3_hasher_free(&h);
    free(buf);
    proto_arena_free(a);
    return rc;
}

int s3_put_object_mem(struct store *st, const char *account, const char *bucket, const char *key,
                      const void *data, size_t len, const char *content_type,
                      struct s3_object_info *info)
{
    if (!key || !s3_key_valid(key, strlen(key))) return S3_EINVAL;
    proto_arena *a = proto_arena_new();
    store_blob_writer *w = NULL;
    struct s3_hasher h;
    int rc = S3_EIO;
    if (s3_hasher_init(&h, 0, S3_CK_NONE)) goto out;
    s3_hasher_update(&h, data, len);
    char md5[33];
    s3_hasher_final(&h, md5, NULL, NULL, NULL, NULL, NULL);
    s3_hasher_free(&h);
    if (store_blob_create(st, &w) || (len && store_blob_write(w, data, len))) goto out;
    rc = api_commit(st, a, account, bucket, key, w, md5, content_type, info);
    w = NULL;
out:
    store_blob_discard(w);
    proto_arena_free(a);
    return rc;
}

/* Loads the addressed version; S3_ENOKEY for missing keys and delete markers. */
static int api_load(store_txn *t, proto_arena *a, const char *account, const char *bucket,
                    const char *key, const char *version_id, struct s3_obj *o)
{
    struct s3_bucket b;
    int rc = api_bucket(t, a, account, bucket, &b);
    if (rc) return rc;
    if (!key || !s3_key_valid(key, strlen(key))) return S3_EINVAL;
    if (version_id)
        rc = s3_version_load(t, a, bucket, key, strlen(key), version_id, o);
    else
        rc = s3_current_load(t, a, bucket, key, strlen(key), o);
    if (rc == STORE_NOTFOUND || (rc == 0 && o->delete_marker)) return S3_ENOKEY;
    return rc ? S3_EIO : S3_OK;
}

int s3_stat_object(struct store *st, const char *account, const char *bucket, const char *key,
                   const char *version_id, struct s3_object_info *info)
{
    proto_arena *a = proto_arena_new();
    store_txn *t = NULL;
    struct s3_obj o;
    int rc = S3_EIO;
    if (store_txn_begin(st, 0, &t)) goto out;
    rc = api_load(t, a, account, bucket, key, version_id, &o);
    if (rc == S3_OK) fill_info(info, &o);
out:
    store_txn_abort(t);
    proto_arena_free(a);
    return rc;
}

int s3_get_object_fd(struct store *st, const char *account, const char *bucket, const char *key,
                     const char *version_id, struct s3_object_info *info, int *fd_out)
{
    proto_arena *a = proto_arena_new();
    store_txn *t = NULL;
    struct s3_obj o;
    int rc = S3_EIO;
    *fd_out = -1;
    if (store_txn_begin(st, 0, &t)) goto out;
    rc = api_load(t, a, account, bucket, key, version_id, &o);
    if (rc == S3_OK) {
        *fd_out = store_blob_open(st, o.blob);
        if (*fd_out < 0)
            rc = S3_EIO;
        else
            fill_info(info, &o);
    }
out:
    store_txn_abort(t);
    proto_arena_free(a);
    return rc;
}

int s3_list_objects_cb(struct store *st, const char *account, const char *bucket,
                       const char *prefix,
                       int (*fn)(void *ctx, const char *key, const struct s3_object_info *info),
                       void *ctx)
{
    proto_arena *a = proto_arena_new();
    store_txn *t = NULL;
    store_cursor *c = NULL;
    struct s3_bucket b;
    int rc = S3_EIO;
    if (!prefix) prefix = "";
    size_t pl = strlen(prefix);
    if (store_txn_begin(st, 0, &t)) goto out;
    if ((rc = api_bucket(t, a, account, bucket, &b))) goto out;
    if (store_cursor_open(t, STORE_DB_S3_OBJECTS, &c)) {
        rc = S3_EIO;
        goto out;
    }
    char start[S3_DBKEY_MAX];
    size_t sl = s3_dbkey_object(start, bucket, prefix, pl > S3_DBKEY_INLINE ? S3_DBKEY_INLINE : pl);
    size_t bl = strlen(bucket) + 1;
    for (int r = store_cursor_seek(c, start, sl); r == 0; r = store_cursor_next(c)) {
        const void *k, *v;
        size_t kl, vl;
        struct s3_obj o;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (kl < bl || memcmp(k, start, bl) != 0) break;
        if (s3_obj_decode(a, v, vl, &o)) continue;
        if (o.key_len < pl || memcmp(o.key, prefix, pl) != 0) {
            /* keys over S3_DBKEY_INLINE bytes sit in digest order among those sharing their
             * stored bytes: only a shorter key past the prefix ends the walk */
            if (o.key_len <= S3_DBKEY_INLINE &&
                memcmp(o.key, prefix, o.key_len < pl ? o.key_len : pl) > 0)
                break;
            continue;
        }
        struct s3_object_info info;
        fill_info(&info, &o);
        int x = fn(ctx, o.key, &info);
        if (x) {
            rc = x;
            goto out;
        }
    }
out:
    store_cursor_close(c);
    store_txn_abort(t);
    proto_arena_free(a);
    return rc;
}

int s3_bucket_exists(struct store *st, const char *account, const char *bucket,
                     int *versioning_enabled)
{
    proto_arena *a = proto_arena_new();
    store_txn *t = NULL;
    struct s3_bucket b;
    int rc = S3_EIO;
    if (store_txn_begin(st, 0, &t)) goto out;
    rc = api_bucket(t, a, account, bucket, &b);
    if (rc == S3_OK && versioning_enabled)
        *versioning_enabled = b.versioning == S3_VERSIONING_ENABLED;
out:
    store_txn_abort(t);
    proto_arena_free(a);
    return rc;
}

int s3_bucket_region(struct store *st, const char *account, const char *bucket, char *region,
                     size_t regionlen)
{
    proto_arena *a = proto_arena_new();
    store_txn *t = NULL;
    struct s3_bucket b;
    int rc = S3_EIO;
    if (!bucket || !region || !regionlen) {
        rc = S3_EINVAL;
        goto out;
    }
    if (store_txn_begin(st, 0, &t)) goto out;
    rc = api_bucket(t, a, account, bucket, &b);
    if (rc == S3_OK) snprintf(region, regionlen, "%s", b.region ? b.region : "us-east-1");
out:
    store_txn_abort(t);
    proto_arena_free(a);
    return rc;
}

int s3_create_bucket_local(struct store *st, const char *account, const char *region,
                           const char *bucket)
{
    if (!bucket || !account || !s3_bucket_name_valid(bucket)) return S3_EINVAL;
    proto_arena *a = proto_arena_new();
    store_txn *t = NULL;
    struct s3_bucket b;
    int rc = S3_EIO;
    if (store_txn_begin(st, 1, &t)) goto out;
    int r = s3_bucket_load(t, a, bucket, &b);
    if (r == 0) {
        rc = strcmp(b.account, account) == 0 ? S3_OK : S3_EACCESS;
        goto out;
    }
    if (r != STORE_NOTFOUND) goto out;
    struct s3_bucket nb = {.name = bucket,
                           .account = account,
                           .region = region ? region : "us-east-1",
                           .created = proto_now()};
    struct proto_sb sb = PROTO_SB_INIT;
    s3_bucket_encode(&sb, &nb);
    r = store_put(t, STORE_DB_S3_BUCKETS, bucket, strlen(bucket), sb.buf, sb.len);
    proto_sb_free(&sb);
    if (r) goto out;
    r = store_txn_commit(t);
    t = NULL;
    rc = r ? S3_EIO : S3_OK;
out:
    store_txn_abort(t);
    proto_arena_free(a);
    return rc;
}
