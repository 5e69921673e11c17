/* Object operations: put, copy, get, head, delete (one or many) and object tagging. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "protocol/ids.h"
#include "providers/s3/internal.h"

static int versioned(const struct s3_bucket *b)
{
    return b->versioning != S3_VERSIONING_NONE;
}

/* Loads the version named by ?versionId, or the current one, with AWS's errors. For a delete
 * marker named by id, answers 405; for a key whose newest version is a delete marker, 404 with
 * x-amz-delete-marker. */
static int load_object(struct proto_req *req, store_txn *t, const struct s3_target *tg,
                       const char *vid, struct s3_obj *o)
{
    int rc;
    if (vid) {
        if (!*vid)
            return proto_error(req, ERR_S3_INVALID_ARGUMENT,
                               "Version id cannot be the empty string");
        rc = s3_version_load(t, req->arena, tg->bucket, tg->key, tg->key_len, vid, o);
        if (rc == STORE_NOTFOUND) {
            s3_err_extra(req, "Key", tg->key);
            s3_err_extra(req, "VersionId", vid);
            return proto_error(req, ERR_S3_NO_SUCH_VERSION,
                               "The specified version does not exist.");
        }
        if (rc) return s3_store_error(req, rc);
        if (o->delete_marker) {
            char date[32];
            proto_http_date(date, (time_t)o->mtime);
            proto_req_add_header(req, "x-amz-delete-marker", "true");
            proto_req_add_header(req, "x-amz-version-id", o->version_id);
            proto_req_add_header(req, "Last-Modified", date);
            s3_err_extra(req, "Method", req->http.method);
            s3_err_extra(req, "ResourceType", "DeleteMarker");
            return proto_error(req, ERR_S3_METHOD_NOT_ALLOWED,
                               "The specified method is not allowed against this resource.");
        }
        return 0;
    }
    rc = s3_current_load(t, req->arena, tg->bucket, tg->key, tg->key_len, o);
    if (rc == STORE_NOTFOUND) {
        struct s3_obj newest;
        if (s3_version_load(t, req->arena, tg->bucket, tg->key, tg->key_len, NULL, &newest) == 0 &&
            newest.delete_marker) {
            proto_req_add_header(req, "x-amz-delete-marker", "true");
            proto_req_add_header(req, "x-amz-version-id", newest.version_id);
        }
        s3_err_extra(req, "Key", tg->key);
        return proto_error(req, ERR_S3_NO_SUCH_KEY, "The specified key does not exist.");
    }
    if (rc) return s3_store_error(req, rc);
    return 0;
}

/* Does an If-Match / If-None-Match list match etag? */
static int etag_matches(const char *list, const char *etag)
{
    size_t el = strlen(etag);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p) break;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && e[-1] == ' ')
            e--;
        if (e - s >= 2 && s[0] == 'W' && s[1] == '/') s += 2;
        if (e - s == 1 && *s == '*') return 1;
        if (e - s >= 2 && *s == '"' && e[-1] == '"') {
            s++;
            e--;
        }
        if ((size_t)(e - s) == el && memcmp(s, etag, el) == 0) return 1;
    }
    return 0;
}

/* Evaluates the GET/HEAD conditional headers. Returns 0 to proceed, 304 for Not Modified, or a
 * negative error (412). prefix is "" or "x-amz-copy-source-" for copies. */
static int check_conditions(struct proto_req *req, const struct s3_obj *o, const char *prefix)
{
    char name[64];
    time_t when;
    time_t mtime = (time_t)o->mtime;
    snprintf(name, sizeof(name), "%sif-match", prefix);
    const char *im = proto_req_header(req, name);
    snprintf(name, sizeof(name), "%sif-unmodified-since", prefix);
    const char *ius = proto_req_header(req, name);
    snprintf(name, sizeof(name), "%sif-none-match", prefix);
    const char *inm = proto_req_header(req, name);
    snprintf(name, sizeof(name), "%sif-modified-since", prefix);
    const char *ims = proto_req_header(req, name);
    const char *failed = NULL;
    if (im) {
        if (!etag_matches(im, o->etag)) failed = "If-Match";
    } else if (ius && s3_parse_http_date(ius, &when) == 0 && mtime > when) {
        failed = "If-Unmodified-Since";
    }
    if (!failed) {
        int not_modified = 0;
        if (inm)
            not_modified = etag_matches(inm, o->etag);
        else if (ims && s3_parse_http_date(ims, &when) == 0 && mtime <= when)
            not_modified = 1;
        if (not_modified) {
            if (*prefix)
                failed =
                    inm ? "x-amz-copy-source-If-None-Match" : "x-amz-copy-source-If-Modified-Since";
            else
                return 304;
        }
    } else if (*prefix) {
        failed = proto_arena_printf(req->arena, "x-amz-copy-source-%s", failed);
    }
    if (failed) {
        s3_err_extra(req, "Condition", failed);
        return proto_error(req, ERR_S3_PRECONDITION_FAILED,
                           "At least one of the pre-conditions you specified did not hold");
    }
    return 0;
}

static void add_checksum_headers(struct proto_req *req, const struct s3_obj *o)
{
    enum s3_cksum ck = s3_cksum_from_name(o->checksum_algo);
    if (ck == S3_CK_NONE || !o->checksum) return;
    proto_req_add_header(req, s3_cksum_header(ck), o->checksum);
    if (o->checksum_type) proto_req_add_header(req, "x-amz-checksum-type", o->checksum_type);
}

int s3_check_put_conditions(struct proto_req *req, store_txn *t, const char *bucket,
                            const char *key, size_t key_len)
{
    const char *inm = proto_req_header(req, "if-none-match");
    const char *im = proto_req_header(req, "if-match");
    if (!inm && !im) return 0;
    struct s3_obj cur;
    int r = s3_current_load(t, req->arena, bucket, key, key_len, &cur);
    if (r && r != STORE_NOTFOUND) return s3_store_error(req, r);
    if (inm && r == 0 && strcmp(inm, "*") == 0) {
        s3_err_extra(req, "Condition", "If-None-Match");
        return proto_error(req, ERR_S3_PRECONDITION_FAILED,
                           "At least one of the pre-conditions you specified did not hold");
    }
    if (im && r == STORE_NOTFOUND) {
        s3_err_extra(req, "Key", key);
        return proto_error(req, ERR_S3_NO_SUCH_KEY, "The specified key does not exist.");
    }
    if (im && !etag_matches(im, cur.etag)) {
        s3_err_extra(req, "Condition", "If-Match");
        return proto_error(req, ERR_S3_PRECONDITION_FAILED,
                           "At least one of the pre-conditions you specified did not hold");
    }
    return 0;
}

struct put_cond {
    struct proto_req *req;
    const char *bucket;
    const struct s3_obj *o;
    int rc;
};

static int put_cond_hook(void *ctx, store_txn *t, const struct s3_bucket *b)
{
    struct put_cond *pc = ctx;
    (void)b;
    pc->rc = s3_check_put_conditions(pc->req, t, pc->bucket, pc->o->key, pc->o->key_len);
    return pc->rc;
}

/* Commits a new version of o->key from blob w (consumed) through s3_commit_version, checking
 * the If-Match / If-None-Match headers when put_conditions. Returns 0 or a negative proto_err.
 * *b receives the bucket. */
static int commit_object(struct proto_req *req, const char *bucket, struct s3_obj *o,
                         store_blob_writer **w, struct s3_bucket *b, int put_conditions)
{
    struct put_cond pc = {req, bucket, o, 0};
    struct s3_commit_opts opt = {.account = req->caller.account_id,
                                 .expected_owner =
                                     proto_req_header(req, "x-amz-expected-bucket-owner"),
                                 .hook = put_conditions ? put_cond_hook : NULL,
                                 .ctx = &pc};
    int rc = s3_commit_version(req->store, req->arena, bucket, o, w, &opt, b);
    if (rc == S3_EHOOK) return pc.rc;
    return rc ? s3_api_error(req, rc, bucket) : 0;
}

int s3_put_object(struct proto_req *req, const struct s3_target *tg)
{
    struct s3_upload_result up;
    struct s3_obj o;
    struct s3_bucket b;
    int rc = s3_upload_finish(req, &up);
    if (rc) return rc;
    memset(&o, 0, sizeof(o));
    if ((rc = s3_obj_from_headers(req, &o))) goto out;
    const char *tagging = proto_req_header(req, "x-amz-tagging");
    if (tagging && (rc = s3_tags_from_query(req, tagging, &o.tags, &o.tags_len, 10))) goto out;
    o.key = tg->key;
    o.key_len = tg->key_len;
    o.size = up.size;
    o.etag = proto_arena_strdup(req->arena, up.md5_hex);
    if (up.ck != S3_CK_NONE) {
        o.checksum_algo = s3_cksum_name(up.ck);
        o.checksum = proto_arena_strdup(req->arena, up.ck_b64);
        o.checksum_type = "FULL_OBJECT";
    }
    if ((rc = commit_object(req, tg->bucket, &o, &up.blob, &b, 1))) goto out;
    proto_req_add_header(req, "ETag", proto_arena_printf(req->arena, "\"%s\"", o.etag));
    if (versioned(&b)) proto_req_add_header(req, "x-amz-version-id", o.version_id);
    add_checksum_headers(req, &o);
    proto_req_add_header(req, "x-amz-server-side-encryption", "AES256");
    s3_notify("ObjectCreated:Put", b.account, tg->bucket, &o);
out:
    store_blob_discard(up.blob);
    return rc;
}

int s3_parse_copy_source(struct proto_req *req, struct s3_target *src, const char **vid)
{
    const char *v = proto_req_header(req, "x-amz-copy-source");
    memset(src, 0, sizeof(*src));
    *vid = NULL;
    if (*v == '/') v++;
    const char *q = strstr(v, "?versionId=");
    size_t n = q ? (size_t)(q - v) : strlen(v);
    if (q) *vid = s3_url_decode(req->arena, q + 11, strlen(q + 11), NULL);
    size_t dl;
    char *d = s3_url_decode(req->arena, v, n, &dl);
    char *slash = memchr(d, '/', dl);
    if (!slash || slash == d || !slash[1])
        return proto_error(req, ERR_S3_INVALID_ARGUMENT, "Invalid copy source object key");
    *slash = '\0';
    src->bucket = d;
    src->key = slash + 1;
    src->key_len = dl - (size_t)(slash + 1 - d);
    /* NoSuchBucket and NoSuchKey echo the names: only UTF-8 can go into their XML */
    if (!s3_utf8_valid(d, (size_t)(slash - d)))
        return proto_error(req, ERR_S3_INVALID_ARGUMENT, "Invalid copy source bucket name");
    if (!s3_key_valid(src->key, src->key_len) || !s3_utf8_valid(src->key, src->key_len))
        return proto_error(req, ERR_S3_INVALID_ARGUMENT, "Invalid copy source object key");
    if (*vid && !s3_utf8_valid(*vid, strlen(*vid)))
        return proto_error(req, ERR_S3_INVALID_ARGUMENT, "Invalid version id specified");
    return 0;
}

/* Opens the source of a copy: loads it with the copy-source conditions and opens its blob. */
static int open_copy_source(struct proto_req *req, struct s3_target *src, struct s3_obj *so,
                            int *fd)
{
    const char *svid;
    int rc = s3_parse_copy_source(req, src, &svid);
    if (rc) return rc;
    store_txn *t = NULL;
    struct s3_bucket sb;
    if (store_txn_begin(req->store, 0, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, src->bucket, &sb))) goto out;
    if ((rc = load_object(req, t, src, svid, so))) goto out;
    if ((rc = check_conditions(req, so, "x-amz-copy-source-"))) goto out;
    *fd = store_blob_open(req->store, so->blob);
    if (*fd < 0) rc = s3_store_error(req, STORE_ERROR);
out:
    store_txn_abort(t);
    return rc;
}

int s3_copy_object(struct proto_req *req, const struct s3_target *tg)
{
    struct s3_target src;
    struct s3_obj so, o;
    struct s3_bucket b;
    struct s3_hasher h;
    int fd = -1, hasher = 0;
    store_blob_writer *w = NULL;
    int rc = open_copy_source(req, &src, &so, &fd);
    if (rc) goto out;
    const char *mdir = proto_req_header(req, "x-amz-metadata-directive");
    const char *tdir = proto_req_header(req, "x-amz-tagging-directive");
    int replace = mdir && strcasecmp(mdir, "REPLACE") == 0;
    if (mdir && !replace && strcasecmp(mdir, "COPY") != 0) {
        rc = proto_error(req, ERR_S3_INVALID_ARGUMENT, "Unknown metadata directive.");
        goto out;
    }
    enum s3_cksum ck = s3_cksum_from_name(proto_req_header(req, "x-amz-checksum-algorithm"));
    if (ck == S3_CK_NONE) ck = s3_cksum_from_name(so.checksum_algo);
    if (!replace && strcmp(src.bucket, tg->bucket) == 0 && src.key_len == tg->key_len &&
        memcmp(src.key, tg->key, tg->key_len) == 0 && !(tdir && strcasecmp(tdir, "REPLACE") == 0) &&
        !proto_req_header(req, "x-amz-storage-class") &&
        !proto_req_header(req, "x-amz-checksum-algorithm")) {
        rc = proto_error(req, ERR_S3_INVALID_REQUEST,
                         "This copy request is illegal because it is trying to copy an object to "
                         "itself without changing the object's metadata, storage class, website "
                         "redirect location or encryption attributes.");
        goto out;
    }
    memset(&o, 0, sizeof(o));
    if (replace) {
        if ((rc = s3_obj_from_headers(req, &o))) goto out;
    } else {
        o = so;
        o.checksum_algo = o.checksum = o.checksum_type = NULL;
        o.parts = 0;
        o.part_sizes = NULL;
    }
    o.tags = so.tags;
    o.tags_len = so.tags_len;
    if (tdir && strcasecmp(tdir, "REPLACE") == 0) {
        o.tags = NULL;
        o.tags_len = 0;
        const char *tagging = proto_req_header(req, "x-amz-tagging");
        if (tagging && (rc = s3_tags_from_query(req, tagging, &o.tags, &o.tags_len, 10))) goto out;
    }
    o.key = tg->key;
    o.key_len = tg->key_len;
    o.delete_marker = 0;
    if (s3_hasher_init(&h, 0, ck)) {
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    hasher = 1;
    if (s3_blob_copy(req->store, fd, 0, so.size, &h, &w)) {
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    char md5[33], ckb[S3_CK_B64_MAX];
    s3_hasher_final(&h, md5, NULL, NULL, ckb, NULL, NULL);
    o.size = so.size;
    o.etag = proto_arena_strdup(req->arena, md5);
    if (ck != S3_CK_NONE) {
        o.checksum_algo = s3_cksum_name(ck);
        o.checksum = proto_arena_strdup(req->arena, ckb);
        o.checksum_type = "FULL_OBJECT";
    }
    if ((rc = commit_object(req, tg->bucket, &o, &w, &b, 0))) goto out;
    char date[32];
    proto_iso8601(date, o.mtime);
    s3_xml_begin(req, "CopyObjectResult");
    s3_xml_elem(&req->body, "ETag", proto_arena_printf(req->arena, "\"%s\"", o.etag));
    s3_xml_elem(&req->body, "LastModified", date);
    if (o.checksum_algo) {
        s3_xml_elem(&req->body, "ChecksumType", o.checksum_type);
        s3_xml_elem(&req->body, s3_cksum_xml_name(ck), o.checksum);
    }
    s3_xml_end(req, "CopyObjectResult");
    if (versioned(&b)) proto_req_add_header(req, "x-amz-version-id", o.version_id);
    if (strcmp(so.version_id, "null") != 0)
        proto_req_add_header(req, "x-amz-copy-source-version-id", so.version_id);
    proto_req_add_header(req, "x-amz-server-side-encryption", "AES256");
    s3_notify("ObjectCreated:Copy", b.account, tg->bucket, &o);
out:
    if (hasher) s3_hasher_free(&h);
    store_blob_discard(w);
    if (fd >= 0) close(fd);
    return rc;
}

/* GET and HEAD. */
static int get_or_head(struct proto_req *req, const struct s3_target *tg, int head)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    struct s3_obj o;
    int rc;
    const char *vid = proto_req_query(req, "versionId");
    if (store_txn_begin(req->store, 0, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b))) goto out;
    if ((rc = load_object(req, t, tg, vid, &o))) goto out;
    rc = check_conditions(req, &o, "");
    if (rc == 304) {
        char date[32];
        proto_http_date(date, (time_t)o.mtime);
        proto_req_add_header(req, "ETag", proto_arena_printf(req->arena, "\"%s\"", o.etag));
        proto_req_add_header(req, "Last-Modified", date);
        req->status = 304;
        rc = 0;
        goto out;
    }
    if (rc) goto out;
    uint64_t start = 0, end = o.size ? o.size - 1 : 0;
    int ranged = 0, empty = o.size == 0;
    const char *pn = proto_req_query(req, "partNumber");
    if (pn) {
        /* one part of a multipart object; part 1 of a plain object is all of it */
        uint64_t n = 0;
        if (s3_parse_uint(pn, S3_MAX_PARTS, &n) || n < 1) {
            s3_err_extra(req, "ArgumentName", "partNumber");
            s3_err_extra(req, "ArgumentValue", pn);
            rc = proto_error(req, ERR_S3_INVALID_ARGUMENT,
                             "Part number must be an integer between 1 and 10000, inclusive");
            goto out;
        }
        if (proto_req_header(req, "range")) {
            rc = proto_error(req, ERR_S3_INVALID_REQUEST,
                             "Cannot specify both Range header and partNumber query parameter");
            goto out;
        }
        uint32_t count = o.part_sizes ? o.parts : 1;
        if ((uint32_t)n > count) {
            rc = proto_error(req, ERR_S3_INVALID_PART_NUMBER,
                             "The requested partnumber is not satisfiable");
            goto out;
        }
        if (o.part_sizes) {
            uint64_t off = 0, sz = 0;
            for (uint64_t i = 0; i < n; i++) {
                memcpy(&sz, o.part_sizes + 8 * i, 8);
                if (i < n - 1) off += sz;
            }
            start = off;
            end = sz ? off + sz - 1 : off;
            empty = sz == 0;
        }
        ranged = !empty;
    } else {
        ranged = s3_parse_range(proto_req_header(req, "range"), o.size, &start, &end);
    }
    if (ranged < 0) {
        char sz[32];
        snprintf(sz, sizeof(sz), "%llu", (unsigned long long)o.size);
        s3_err_extra(req, "RangeRequested", proto_req_header(req, "range"));
        s3_err_extra(req, "ActualObjectSize", sz);
        rc = proto_error(req, ERR_S3_INVALID_RANGE, "The requested range is not satisfiable");
        goto out;
    }
    int fd = store_blob_open(req->store, o.blob);
    if (fd < 0) {
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    req->resp_fd = fd;
    req->resp_fd_offset = start;
    req->resp_fd_len = empty ? 0 : end - start + 1;
    s3_object_headers(req, &o, versioned(&b));
    if (ranged) {
        req->status = 206;
        proto_req_add_header(req, "Content-Range",
                             proto_arena_printf(req->arena, "bytes %llu-%llu/%llu",
                                                (unsigned long long)start, (unsigned long long)end,
                                                (unsigned long long)o.size));
    } else {
        const char *mode = proto_req_header(req, "x-amz-checksum-mode");
        if (mode && strcasecmp(mode, "ENABLED") == 0) add_checksum_headers(req, &o);
    }
    if (pn && o.part_sizes) {
        char n[16];
        snprintf(n, sizeof(n), "%u", o.parts);
        proto_req_add_header(req, "x-amz-mp-parts-count", n);
    }
    static const struct {
        const char *param, *header;
    } overrides[] = {{"response-content-type", NULL},
                     {"response-content-language", "Content-Language"},
                     {"response-expires", "Expires"},
                     {"response-cache-control", "Cache-Control"},
                     {"response-content-disposition", "Content-Disposition"},
                     {"response-content-encoding", "Content-Encoding"}};
    for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++) {
        const char *v = proto_req_query(req, overrides[i].param);
        if (!v) continue;
        if (!overrides[i].header) {
            req->content_type = v;
            continue;
        }
        int replaced = 0;
        for (size_t j = 0; j < req->n_resp_headers; j++)
            if (strcasecmp(req->resp_headers[j].name, overrides[i].header) == 0) {
                req->resp_headers[j].value = v;
                replaced = 1;
            }
        if (!replaced) proto_req_add_header(req, overrides[i].header, v);
    }
    (void)head;
out:
    store_txn_abort(t);
    return rc;
}

int s3_get_object(struct proto_req *req, const struct s3_target *tg)
{
    return get_or_head(req, tg, 0);
}

int s3_head_object(struct proto_req *req, const struct s3_target *tg)
{
    return get_or_head(req, tg, 1);
}

/* The outcome of deleting one key. */
struct del_result {
    const char *version_id; /* the version removed or the marker created; NULL for none */
    int delete_marker;      /* a marker was created or removed */
    struct s3_obj removed;
    int notify_marker, notify_removed;
};

/* Deletes key (or one version of it) in t, as DeleteObject does. Returns 0 or a STORE error. */
static int delete_one(struct proto_req *req, store_txn *t, const struct s3_bucket *b,
                      const char *key, size_t key_len, const char *vid, struct del_result *res)
{
    memset(res, 0, sizeof(*res));
    int rc;
    if (vid) {
        rc = s3_version_delete(t, req->arena, b->name, key, key_len, vid, &res->removed);
        if (rc == STORE_NOTFOUND) return 0;
        if (rc) return rc;
        res->version_id = vid;
        res->delete_marker = res->removed.delete_marker;
        res->notify_removed = !res->removed.delete_marker;
        return 0;
    }
    if (b->versioning == S3_VERSIONING_NONE) {
        rc = s3_version_delete(t, req->arena, b->name, key, key_len, "null", &res->removed);
        if (rc == STORE_NOTFOUND) return 0;
        if (rc == 0) res->notify_removed = 1;
        return rc;
    }
    struct s3_obj m;
    memset(&m, 0, sizeof(m));
    char id[33];
    m.key = proto_arena_strndup(req->arena, key, key_len);
    m.key_len = key_len;
    if (b->versioning == S3_VERSIONING_ENABLED) {
        s3_new_version_id(id);
        m.version_id = proto_arena_strdup(req->arena, id);
    } else {
        m.version_id = "null";
    }
    m.delete_marker = 1;
    m.seq = s3_next_seq();
    m.mtime = proto_now();
    m.etag = "";
    m.blob = "";
    if ((rc = s3_version_put(t, req->arena, b->name, &m))) return rc;
    res->removed = m;
    res->version_id = m.version_id;
    res->delete_marker = 1;
    res->notify_marker = 1;
    return 0;
}

static void notify_delete(const struct s3_bucket *b, const struct del_result *r)
{
    if (r->notify_marker)
        s3_notify("ObjectRemoved:DeleteMarkerCreated", b->account, b->name, &r->removed);
    else if (r->notify_removed)
        s3_notify("ObjectRemoved:Delete", b->account, b->name, &r->removed);
}

int s3_delete_object(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    struct del_result res;
    int rc;
    const char *vid = proto_req_query(req, "versionId");
    if (vid && !*vid)
        return proto_error(req, ERR_S3_INVALID_ARGUMENT, "Version id cannot be the empty string");
    if (store_txn_begin(req->store, 1, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b))) goto out;
    const char *im = proto_req_header(req, "if-match");
    if (im) {
        /* conditional delete: the current object must exist and match */
        struct s3_obj cur;
        int r = vid ? s3_version_load(t, req->arena, tg->bucket, tg->key, tg->key_len, vid, &cur)
                    : s3_current_load(t, req->arena, tg->bucket, tg->key, tg->key_len, &cur);
        if (r == STORE_NOTFOUND || (r == 0 && cur.delete_marker)) {
            s3_err_extra(req, "Key", tg->key);
            rc = proto_error(req, ERR_S3_NO_SUCH_KEY, "The specified key does not exist.");
            goto out;
        }
        if (r) {
            rc = s3_store_error(req, r);
            goto out;
        }
        if (!etag_matches(im, cur.etag)) {
            s3_err_extra(req, "Condition", "If-Match");
            rc = proto_error(req, ERR_S3_PRECONDITION_FAILED,
                             "At least one of the pre-conditions you specified did not hold");
            goto out;
        }
    }
    if ((rc = delete_one(req, t, &b, tg->key, tg->key_len, vid, &res))) {
        rc = s3_store_error(req, rc);
        goto out;
    }
    if ((rc = s3_commit(req, &t))) goto out;
    if (res.version_id && (versioned(&b) || vid))
        proto_req_add_header(req, "x-amz-version-id", res.version_id);
    if (res.delete_marker) proto_req_add_header(req, "x-amz-delete-marker", "true");
    req->status = 204;
    notify_delete(&b, &res);
out:
    store_txn_abort(t);
    return rc;
}

int s3_delete_objects(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    struct s3_xml_node *root;
    int rc = s3_xml_body(req, 1, "Delete", &root);
    if (rc) return rc;
    const char *quiet_s = s3_xml_child_text(root, "Quiet");
    int quiet = quiet_s && strcasecmp(quiet_s, "true") == 0;
    int n = 0;
    for (struct s3_xml_node *c = root->child; c; c = c->next) {
        if (strcmp(c->name, "Object") != 0) continue;
        if (!s3_xml_child(c, "Key"))
            return proto_error(req, ERR_S3_MALFORMED_XML, S3_MALFORMED_XML);
        n++;
    }
    if (n == 0 || n > 1000) return proto_error(req, ERR_S3_MALFORMED_XML, S3_MALFORMED_XML);
    struct del_result *results = proto_arena_alloc(req->arena, sizeof(*results) * (size_t)n);
    if (store_txn_begin(req->store, 1, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b))) goto out;
    s3_xml_begin(req, "DeleteResult");
    int i = 0;
    for (struct s3_xml_node *c = root->child; c; c = c->next) {
        if (strcmp(c->name, "Object") != 0) continue;
        struct s3_xml_node *k = s3_xml_child(c, "Key");
        const char *vid = s3_xml_child_text(c, "VersionId");
        struct del_result *r = &results[i++];
        memset(r, 0, sizeof(*r));
        if (!s3_key_valid(k->text, k->text_len) || !s3_utf8_valid(k->text, k->text_len) ||
            (vid && !*vid)) {
            proto_sb_puts(&req->body, "<Error>");
            s3_xml_elem_n(&req->body, "Key", k->text, k->text_len);
            if (vid) s3_xml_elem(&req->body, "VersionId", vid);
            s3_xml_elem(&req->body, "Code",
                        k->text_len > S3_MAX_KEY_LEN ? "KeyTooLongError" : "InvalidArgument");
            s3_xml_elem(&req->body, "Message",
                        k->text_len > S3_MAX_KEY_LEN ? "Your key is too long" : "Invalid argument");
            proto_sb_puts(&req->body, "</Error>");
            continue;
        }
        if ((rc = delete_one(req, t, &b, k->text, k->text_len, vid, r))) {
            rc = s3_store_error(req, rc);
            proto_sb_reset(&req->body);
            goto out;
        }
        if (quiet) continue;
        proto_sb_puts(&req->body, "<Deleted>");
        s3_xml_elem_n(&req->body, "Key", k->text, k->text_len);
        if (vid) s3_xml_elem(&req->body, "VersionId", vid);
        if (r->delete_marker) {
            s3_xml_elem(&req->body, "DeleteMarker", "true");
            if (r->version_id) s3_xml_elem(&req->body, "DeleteMarkerVersionId", r->version_id);
        }
        proto_sb_puts(&req->body, "</Deleted>");
    }
    s3_xml_end(req, "DeleteResult");
    if ((rc = s3_commit(req, &t))) {
        proto_sb_reset(&req->body);
        goto out;
    }
    for (int j = 0; j < i; j++)
        notify_delete(&b, &results[j]);
out:
    store_txn_abort(t);
    return rc;
}

int s3_get_object_tagging(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    struct s3_obj o;
    int rc;
    if (store_txn_begin(req->store, 0, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b))) goto out;
    if ((rc = load_object(req, t, tg, proto_req_query(req, "versionId"), &o))) goto out;
    if (versioned(&b)) proto_req_add_header(req, "x-amz-version-id", o.version_id);
    s3_xml_begin(req, "Tagging");
    s3_tags_xml(&req->body, o.tags, o.tags_len);
    s3_xml_end(req, "Tagging");
out:
    store_txn_abort(t);
    return rc;
}

/* Replaces the tags of the addressed version. */
static int set_object_tags(struct proto_req *req, const struct s3_target *tg, const char *pairs,
                           size_t len)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    struct s3_obj o;
    int rc;
    if (store_txn_begin(req->store, 1, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b))) goto out;
    if ((rc = load_object(req, t, tg, proto_req_query(req, "versionId"), &o))) goto out;
    o.tags = pairs;
    o.tags_len = len;
    if ((rc = s3_version_update(t, req->arena, tg->bucket, &o))) {
        rc = s3_store_error(req, rc);
        goto out;
    }
    if ((rc = s3_commit(req, &t))) goto out;
    if (versioned(&b)) proto_req_add_header(req, "x-amz-version-id", o.version_id);
out:
    store_txn_abort(t);
    return rc;
}

int s3_put_object_tagging(struct proto_req *req, const struct s3_target *tg)
{
    struct s3_xml_node *root;
    int rc = s3_xml_body(req, 1, "Tagging", &root);
    if (rc) return rc;
    const char *pairs;
    size_t len;
    if ((rc = s3_tags_from_xml(req, root, &pairs, &len, 10))) return rc;
    return set_object_tags(req, tg, pairs, len);
}

int s3_delete_object_tagging(struct proto_req *req, const struct s3_target *tg)
{
    int rc = set_object_tags(req, tg, NULL, 0);
    if (!rc) req->status = 204;
    return rc;
}

/* Does the comma-separated x-amz-object-attributes list name attr? */
static int wants_attr(const char *list, const char *attr)
{
    size_t n = strlen(attr);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if ((size_t)(e - p) == n && strncasecmp(p, attr, n) == 0) return 1;
        p = e;
    }
    return 0;
}

int s3_get_object_attributes(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    struct s3_obj o;
    int rc;
    const char *attrs = proto_req_header(req, "x-amz-object-attributes");
    if (!attrs || !*attrs)
        return proto_error(req, ERR_S3_INVALID_ARGUMENT, "Invalid attribute name specified.");
    if (store_txn_begin(req->store, 0, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b))) goto out;
    if ((rc = load_object(req, t, tg, proto_req_query(req, "versionId"), &o))) goto out;
    char date[32];
    proto_http_date(date, (time_t)o.mtime);
    proto_req_add_header(req, "Last-Modified", date);
    if (versioned(&b)) proto_req_add_header(req, "x-amz-version-id", o.version_id);
    struct proto_sb *sb = &req->body;
    s3_xml_begin(req, "GetObjectAttributesResponse");
    if (wants_attr(attrs, "ETag")) s3_xml_elem(sb, "ETag", o.etag);
    enum s3_cksum ck = s3_cksum_from_name(o.checksum_algo);
    if (wants_attr(attrs, "Checksum") && ck != S3_CK_NONE && o.checksum) {
        proto_sb_puts(sb, "<Checksum>");
        s3_xml_elem(sb, s3_cksum_xml_name(ck), o.checksum);
        if (o.checksum_type) s3_xml_elem(sb, "ChecksumType", o.checksum_type);
        proto_sb_puts(sb, "</Checksum>");
    }
    if (wants_attr(attrs, "ObjectParts") && o.parts)
        proto_sb_printf(sb, "<ObjectParts><PartsCount>%u</PartsCount></ObjectParts>", o.parts);
    if (wants_attr(attrs, "StorageClass")) s3_xml_elem(sb, "StorageClass", "STANDARD");
    if (wants_attr(attrs, "ObjectSize"))
        proto_sb_printf(sb, "<ObjectSize>%llu</ObjectSize>", (unsigned long long)o.size);
    s3_xml_end(req, "GetObjectAttributesResponse");
out:
    store_txn_abort(t);
    return rc;
}
