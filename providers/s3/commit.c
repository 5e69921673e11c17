/* The one write path of an object version and the one bucket check, shared by the HTTP handlers
 * and the in-process API. */
#include <string.h>

#include "protocol/ids.h"
#include "providers/s3/internal.h"

int s3_bucket_owned(store_txn *t, proto_arena *a, const char *bucket, const char *account,
                    const char *expected_owner, struct s3_bucket *b)
{
    int rc = s3_bucket_load(t, a, bucket, b);
    if (rc == STORE_NOTFOUND) return S3_ENOBUCKET;
    if (rc) return S3_EIO;
    if (account && strcmp(b->account, account) != 0) return S3_EACCESS;
    if (expected_owner && strcmp(expected_owner, b->account) != 0) return S3_EACCESS;
    return S3_OK;
}

int s3_commit_version(store *st, proto_arena *a, const char *bucket, struct s3_obj *o,
                      store_blob_writer **w, const struct s3_commit_opts *opt, struct s3_bucket *b)
{
    store_txn *t = NULL;
    char vid[33], blob[STORE_BLOB_ID_LEN + 1];
    int rc;
    /* fsync before taking the write lock, so that writers do not queue behind each other's I/O */
    if (store_blob_sync(*w) || store_txn_begin(st, 1, &t)) {
        rc = S3_EIO;
        goto out;
    }
    rc = s3_bucket_owned(t, a, bucket, opt ? opt->account : NULL, opt ? opt->expected_owner : NULL,
                         b);
    if (rc) goto out;
    if (opt && opt->hook && opt->hook(opt->ctx, t, b)) {
        rc = S3_EHOOK;
        goto out;
    }
    if (b->versioning == S3_VERSIONING_ENABLED) {
        s3_new_version_id(vid);
        o->version_id = proto_arena_strdup(a, vid);
    } else {
        o->version_id = "null";
    }
    o->seq = s3_next_seq();
    o->mtime = proto_now();
    rc = store_blob_commit(t, *w, blob);
    *w = NULL;
    if (rc) {
        rc = S3_EIO;
        goto out;
    }
    o->blob = proto_arena_strdup(a, blob);
    if (s3_version_put(t, a, bucket, o)) {
        rc = S3_EIO;
        goto out;
    }
    rc = store_txn_commit(t) ? S3_EIO : S3_OK;
    t = NULL;
out:
    store_txn_abort(t);
    store_blob_discard(*w);
    *w = NULL;
    return rc;
}
