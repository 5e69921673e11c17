/* Bucket operations: list, create, head, delete, location, versioning and tagging. */
#include <stdlib.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/s3/internal.h"

int s3_bucket_save(store_txn *t, const struct s3_bucket *b)
{
    struct proto_sb sb = PROTO_SB_INIT;
    s3_bucket_encode(&sb, b);
    int rc = store_put(t, STORE_DB_S3_BUCKETS, b->name, strlen(b->name), sb.buf, sb.len);
    proto_sb_free(&sb);
    return rc;
}

int s3_list_buckets(struct proto_req *req)
{
    store_txn *t = NULL;
    store_cursor *c = NULL;
    int rc = 0;
    const char *prefix = proto_req_query(req, "prefix");
    size_t pl = prefix ? strlen(prefix) : 0;
    const char *token = proto_req_query(req, "continuation-token");
    const char *mb = proto_req_query(req, "max-buckets");
    long max = 10000;
    if (mb) {
        uint64_t v = 0;
        if (s3_parse_uint(mb, 10000, &v) || v < 1) {
            s3_err_extra(req, "ArgumentName", "max-buckets");
            return proto_error(req, ERR_S3_INVALID_ARGUMENT,
                               "Argument max-buckets must be an integer between 1 and 10000.");
        }
        max = (long)v;
    }
    long n = 0;
    const char *next = NULL, *last = NULL;
    if (store_txn_begin(req->store, 0, &t) || store_cursor_open(t, STORE_DB_S3_BUCKETS, &c)) {
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    s3_xml_begin(req, "ListAllMyBucketsResult");
    proto_sb_puts(&req->body, "<Owner>");
    char owner_id[65];
    s3_owner_id(owner_id, req->caller.account_id);
    s3_xml_elem(&req->body, "ID", owner_id);
    s3_xml_elem(&req->body, "DisplayName", "codepipeline-local");
    proto_sb_puts(&req->body, "</Owner><Buckets>");
    for (int r = store_cursor_seek(c, NULL, 0); r == 0; r = store_cursor_next(c)) {
        const void *k, *v;
        size_t kl, vl;
        struct s3_bucket b;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (s3_bucket_decode(req->arena, v, vl, &b)) continue;
        if (req->caller.account_id && strcmp(b.account, req->caller.account_id) != 0) continue;
        if (pl && strncmp(b.name, prefix, pl) != 0) continue;
        if (token && *token && strcmp(b.name, token) <= 0) continue;
        if (n == max) {
            next = b.name;
            break;
        }
        n++;
        last = b.name;
        char date[32];
        proto_iso8601(date, b.created);
        proto_sb_puts(&req->body, "<Bucket>");
        s3_xml_elem(&req->body, "Name", b.name);
        s3_xml_elem(&req->body, "CreationDate", date);
        s3_xml_elem(&req->body, "BucketRegion", b.region);
        proto_sb_puts(&req->body, "</Bucket>");
    }
    proto_sb_puts(&req->body, "</Buckets>");
    /* the token names the last bucket returned; the next page starts after it */
    if (next && last) s3_xml_elem(&req->body, "ContinuationToken", last);
    if (prefix) s3_xml_elem(&req->body, "Prefix", prefix);
    s3_xml_end(req, "ListAllMyBucketsResult");
out:
    store_cursor_close(c);
    store_txn_abort(t);
    return rc;
}

/* The Location header of CreateBucket. AWS answers "/<bucket>" in us-east-1 and
 * "http://<bucket>.s3.amazonaws.com/" elsewhere. Pointing a client at amazonaws.com would send
 * whoever follows the URL to real AWS, so the absolute form names this server instead, by the
 * host the client reached us by: "http://<bucket>.<host>/" when that virtual host reaches the
 * bucket here (localhost or the configured --host name), or else (an IP address, or a name we do
 * not serve buckets under) the path-style "http://<host>/<bucket>/", which always reaches it. A
 * request already addressed to "<bucket>.<host>" gets "http://<bucket>.<host>/" as is. */
static const char *bucket_location(struct proto_req *req, const char *bucket, const char *region)
{
    if (strcmp(region, "us-east-1") == 0) return proto_arena_printf(req->arena, "/%s", bucket);
    const char *host = req->public_host && *req->public_host ? req->public_host : "localhost";
    size_t hl = strlen(host);
    const char *colon = host[0] != '[' ? strrchr(host, ':') : NULL;
    if (colon) hl = (size_t)(colon - host);
    if (s3_virtual_host_bucket(host, hl)) return proto_arena_printf(req->arena, "http://%s/", host);
    if (s3_virtual_host_base(host, hl))
        return proto_arena_printf(req->arena, "http://%s.%s/", bucket, host);
    return proto_arena_printf(req->arena, "http://%s/%s/", host, bucket);
}

/* Picks the region of a new bucket from its LocationConstraint and the endpoint's region. */
static int pick_region(struct proto_req *req, const char *name, const char **region)
{
    const char *caller =
        req->caller.region && *req->caller.region ? req->caller.region : "us-east-1";
    const char *lc = NULL;
    if (req->http.body_len) {
        struct s3_xml_node *root = s3_xml_parse(req->arena, req->http.body, req->http.body_len);
        if (!root || strcmp(root->name, "CreateBucketConfiguration") != 0)
            return proto_error(req, ERR_S3_MALFORMED_XML, S3_MALFORMED_XML);
        lc = s3_xml_child_text(root, "LocationConstraint");
        if (lc && !*lc) lc = NULL;
    }
    if (lc && strcmp(lc, "EU") == 0) lc = "eu-west-1";
    if (lc) {
        int ok = strlen(lc) < 32 && strlen(lc) > 3;
        for (const char *p = lc; *p && ok; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-';
        if (!ok || strcmp(lc, "us-east-1") == 0) {
            s3_err_extra(req, "LocationConstraint", lc);
            return proto_error(req, ERR_S3_INVALID_LOCATION_CONSTRAINT,
                               "The specified location-constraint is not valid");
        }
        if (strcmp(caller, "us-east-1") != 0 && strcmp(lc, caller) != 0)
            return proto_error(req, ERR_S3_ILLEGAL_LOCATION_CONSTRAINT,
                               "The %s location constraint is incompatible for the region "
                               "specific endpoint this request was sent to.",
                               lc);
        *region = lc;
    } else {
        if (strcmp(caller, "us-east-1") != 0)
            return proto_error(req, ERR_S3_ILLEGAL_LOCATION_CONSTRAINT,
                               "The unspecified location constraint is incompatible for the "
                               "region specific endpoint this request was sent to.");
        *region = "us-east-1";
    }
    (void)name;
    return 0;
}

int s3_create_bucket(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t = NULL;
    int rc;
    const char *region = NULL;
    if (!s3_bucket_name_valid(tg->bucket)) {
        s3_err_extra(req, "BucketName", tg->bucket);
        return proto_error(req, ERR_S3_INVALID_BUCKET_NAME, "The specified bucket is not valid.");
    }
    if ((rc = pick_region(req, tg->bucket, &region))) return rc;
    if (store_txn_begin(req->store, 1, &t)) return s3_store_error(req, STORE_ERROR);
    struct s3_bucket old;
    rc = s3_bucket_load(t, req->arena, tg->bucket, &old);
    if (rc == 0) {
        s3_err_extra(req, "BucketName", tg->bucket);
        if (req->caller.account_id && strcmp(old.account, req->caller.account_id) != 0)
            rc = proto_error(req, ERR_S3_BUCKET_ALREADY_EXISTS,
                             "The requested bucket name is not available. The bucket namespace "
                             "is shared by all users of the system. Please select a different "
                             "name and try again.");
        else
            rc = proto_error(req, ERR_S3_BUCKET_ALREADY_OWNED,
                             "Your previous request to create the named bucket succeeded and you "
                             "already own it.");
        goto out;
    }
    if (rc != STORE_NOTFOUND) {
        rc = s3_store_error(req, rc);
        goto out;
    }
    struct s3_bucket b = {.name = tg->bucket,
                          .account =
                              req->caller.account_id ? req->caller.account_id : "000000000000",
                          .region = region,
                          .created = proto_now()};
    if ((rc = s3_bucket_save(t, &b))) {
        rc = s3_store_error(req, rc);
        goto out;
    }
    if ((rc = s3_commit(req, &t))) goto out;
    proto_req_add_header(req, "Location", bucket_location(req, tg->bucket, region));
    proto_req_add_header(req, "x-amz-bucket-region", region);
out:
    store_txn_abort(t);
    return rc;
}

int s3_head_bucket(struct proto_req *req, const struct s3_target *tg)
{
    struct s3_bucket b;
    int rc = s3_bucket_read(req, tg->bucket, &b);
    if (rc) return rc;
    proto_req_add_header(req, "x-amz-bucket-region", b.region);
    proto_req_add_header(req, "x-amz-access-point-alias", "false");
    return 0;
}

/* Deletes every multipart upload (and its parts) of bucket in t. */
static int drop_uploads(store_txn *t, proto_arena *a, const char *bucket)
{
    enum store_db dbs[2] = {STORE_DB_S3_PARTS, STORE_DB_S3_UPLOADS};
    char prefix[80];
    size_t pl = strlen(bucket);
    memcpy(prefix, bucket, pl);
    prefix[pl++] = '\0';
    for (int i = 0; i < 2; i++) {
        for (;;) {
            store_cursor *c = NULL;
            if (store_cursor_open(t, dbs[i], &c)) return STORE_ERROR;
            int r = store_cursor_seek(c, prefix, pl);
            char key[S3_DBKEY_MAX + 200];
            size_t kl = 0;
            const char *blob = NULL;
            if (r == 0) {
                const void *k, *v;
                size_t vl;
                store_cursor_get(c, &k, &kl, &v, &vl);
                if (kl < pl || memcmp(k, prefix, pl) != 0 || kl > sizeof(key))
                    r = STORE_NOTFOUND;
                else {
                    memcpy(key, k, kl);
                    struct s3_obj o;
                    if (dbs[i] == STORE_DB_S3_PARTS && s3_obj_decode(a, v, vl, &o) == 0)
                        blob = o.blob;
                }
            }
            store_cursor_close(c);
            if (r) break;
            if (store_del(t, dbs[i], key, kl)) return STORE_ERROR;
            if (blob && *blob) store_blob_delete(t, blob);
        }
    }
    return 0;
}

int s3_delete_bucket(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    int rc;
    if (store_txn_begin(req->store, 1, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b))) goto out;
    rc = s3_bucket_has_objects(t, tg->bucket);
    if (rc < 0) {
        rc = s3_store_error(req, rc);
        goto out;
    }
    if (rc > 0) {
        s3_err_extra(req, "BucketName", tg->bucket);
        rc = proto_error(req, ERR_S3_BUCKET_NOT_EMPTY,
                         "The bucket you tried to delete is not empty");
        goto out;
    }
    if ((rc = drop_uploads(t, req->arena, tg->bucket)) ||
        (rc = store_del(t, STORE_DB_S3_BUCKETS, tg->bucket, strlen(tg->bucket)))) {
        rc = s3_store_error(req, rc);
        goto out;
    }
    if ((rc = s3_commit(req, &t))) goto out;
    req->status = 204;
out:
    store_txn_abort(t);
    return rc;
}

int s3_get_bucket_location(struct proto_req *req, const struct s3_target *tg)
{
    struct s3_bucket b;
    int rc = s3_bucket_read(req, tg->bucket, &b);
    if (rc) return rc;
    req->content_type = "application/xml";
    proto_sb_puts(&req->body, S3_XML_DECL);
    proto_sb_printf(&req->body, "<LocationConstraint xmlns=\"%s\">", S3_XMLNS);
    if (strcmp(b.region, "us-east-1") != 0)
        proto_sb_xml_escape(&req->body, b.region, strlen(b.region));
    proto_sb_puts(&req->body, "</LocationConstraint>");
    return 0;
}

int s3_get_bucket_versioning(struct proto_req *req, const struct s3_target *tg)
{
    struct s3_bucket b;
    int rc = s3_bucket_read(req, tg->bucket, &b);
    if (rc) return rc;
    s3_xml_begin(req, "VersioningConfiguration");
    if (b.versioning == S3_VERSIONING_ENABLED) s3_xml_elem(&req->body, "Status", "Enabled");
    if (b.versioning == S3_VERSIONING_SUSPENDED) s3_xml_elem(&req->body, "Status", "Suspended");
    s3_xml_end(req, "VersioningConfiguration");
    return 0;
}

/* Loads the bucket for a change in a write txn; *t is set on success. */
static int begin_bucket_change(struct proto_req *req, const char *bucket, store_txn **t,
                               struct s3_bucket *b)
{
    if (store_txn_begin(req->store, 1, t)) return s3_store_error(req, STORE_ERROR);
    int rc = s3_bucket_check(req, *t, bucket, b);
    if (rc) {
        store_txn_abort(*t);
        *t = NULL;
    }
    return rc;
}

static int commit_bucket_change(struct proto_req *req, store_txn *t, const struct s3_bucket *b)
{
    int rc = s3_bucket_save(t, b);
    if (rc) {
        store_txn_abort(t);
        return s3_store_error(req, rc);
    }
    return s3_commit(req, &t);
}

int s3_put_bucket_versioning(struct proto_req *req, const struct s3_target *tg)
{
    struct s3_xml_node *root;
    int rc = s3_xml_body(req, 1, "VersioningConfiguration", &root);
    if (rc) return rc;
    const char *status = s3_xml_child_text(root, "Status");
    int v;
    if (!status)
        v = -1;
    else if (strcmp(status, "Enabled") == 0)
        v = S3_VERSIONING_ENABLED;
    else if (strcmp(status, "Suspended") == 0)
        v = S3_VERSIONING_SUSPENDED;
    else
        return proto_error(req, ERR_S3_MALFORMED_XML, S3_MALFORMED_XML);
    store_txn *t;
    struct s3_bucket b;
    if ((rc = begin_bucket_change(req, tg->bucket, &t, &b))) return rc;
    if (v >= 0) b.versioning = v;
    return commit_bucket_change(req, t, &b);
}

int s3_put_bucket_tagging(struct proto_req *req, const struct s3_target *tg)
{
    struct s3_xml_node *root;
    int rc = s3_xml_body(req, 1, "Tagging", &root);
    if (rc) return rc;
    const char *pairs;
    size_t len;
    if ((rc = s3_tags_from_xml(req, root, &pairs, &len, 50))) return rc;
    store_txn *t;
    struct s3_bucket b;
    if ((rc = begin_bucket_change(req, tg->bucket, &t, &b))) return rc;
    b.has_tags = 1;
    b.tags = pairs;
    b.tags_len = len;
    rc = commit_bucket_change(req, t, &b);
    if (!rc) req->status = 204;
    return rc;
}

int s3_get_bucket_tagging(struct proto_req *req, const struct s3_target *tg)
{
    struct s3_bucket b;
    int rc = s3_bucket_read(req, tg->bucket, &b);
    if (rc) return rc;
    if (!b.has_tags) {
        s3_err_extra(req, "BucketName", tg->bucket);
        return proto_error(req, ERR_S3_NO_SUCH_TAG_SET, "The TagSet does not exist");
    }
    s3_xml_begin(req, "Tagging");
    s3_tags_xml(&req->body, b.tags, b.tags_len);
    s3_xml_end(req, "Tagging");
    return 0;
}

int s3_delete_bucket_tagging(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t;
    struct s3_bucket b;
    int rc = begin_bucket_change(req, tg->bucket, &t, &b);
    if (rc) return rc;
    b.has_tags = 0;
    b.tags = NULL;
    b.tags_len = 0;
    rc = commit_bucket_change(req, t, &b);
    if (!rc) req->status = 204;
    return rc;
}
