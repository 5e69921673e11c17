/* Multipart uploads: create, upload part (and copy), complete with the "-N" ETag, abort, and the
 * part and upload listings. Parts are blobs; Complete concatenates them into the object's blob. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "protocol/ids.h"
#include "providers/s3/internal.h"
#include "sigv4/encode.h"

#define UPLOAD_ID_LEN 48

static int no_such_upload(struct proto_req *req, const char *upload_id)
{
    s3_err_extra(req, "UploadId", upload_id);
    return proto_error(req, ERR_S3_NO_SUCH_UPLOAD,
                       "The specified upload does not exist. The upload ID may be invalid, or the "
                       "upload may have been aborted or completed.");
}

/* Loads upload upload_id of tg's bucket and key. */
static int load_upload(struct proto_req *req, store_txn *t, const struct s3_target *tg,
                       const char *upload_id, struct s3_obj *u)
{
    char k[S3_DBKEY_MAX];
    if (!upload_id || !*upload_id || strlen(upload_id) > 128)
        return no_such_upload(req, upload_id ? upload_id : "");
    size_t kl = s3_dbkey_upload(k, tg->bucket, upload_id);
    const void *v;
    size_t vl;
    int rc = store_get(t, STORE_DB_S3_UPLOADS, k, kl, &v, &vl);
    if (rc == STORE_NOTFOUND) return no_such_upload(req, upload_id);
    if (rc) return s3_store_error(req, rc);
    if (s3_obj_decode(req->arena, v, vl, u)) return s3_store_error(req, STORE_ERROR);
    if (u->key_len != tg->key_len || memcmp(u->key, tg->key, tg->key_len) != 0)
        return no_such_upload(req, upload_id);
    return 0;
}

static int load_part(store_txn *t, proto_arena *a, const char *bucket, const char *upload_id,
                     uint32_t n, struct s3_obj *p)
{
    char k[S3_DBKEY_MAX];
    size_t kl = s3_dbkey_part(k, bucket, upload_id, n);
    const void *v;
    size_t vl;
    int rc = store_get(t, STORE_DB_S3_PARTS, k, kl, &v, &vl);
    if (rc) return rc;
    return s3_obj_decode(a, v, vl, p) ? STORE_ERROR : 0;
}

/* Deletes every part of an upload (records and blobs) and the upload record. */
static int drop_upload(store_txn *t, proto_arena *a, const char *bucket, const char *upload_id)
{
    char prefix[S3_DBKEY_MAX];
    size_t pl = s3_dbkey_upload(prefix, bucket, upload_id);
    int rc = store_del(t, STORE_DB_S3_UPLOADS, prefix, pl);
    if (rc && rc != STORE_NOTFOUND) return rc;
    prefix[pl++] = '\0';
    for (;;) {
        store_cursor *c = NULL;
        if (store_cursor_open(t, STORE_DB_S3_PARTS, &c)) return STORE_ERROR;
        char key[S3_DBKEY_MAX];
        size_t kl = 0;
        const char *blob = NULL;
        int r = store_cursor_seek(c, prefix, pl);
        if (r == 0) {
            const void *k, *v;
            size_t vl;
            struct s3_obj p;
            store_cursor_get(c, &k, &kl, &v, &vl);
            if (kl != pl + 4 || memcmp(k, prefix, pl) != 0)
                r = STORE_NOTFOUND;
            else {
                memcpy(key, k, kl);
                if (s3_obj_decode(a, v, vl, &p) == 0) blob = p.blob;
            }
        }
        store_cursor_close(c);
        if (r) return 0;
        if (store_del(t, STORE_DB_S3_PARTS, key, kl)) return STORE_ERROR;
        if (blob && *blob) store_blob_delete(t, blob);
    }
}

int s3_create_multipart(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    struct s3_obj u;
    int rc;
    char id[UPLOAD_ID_LEN + 1];
    memset(&u, 0, sizeof(u));
    if ((rc = s3_obj_from_headers(req, &u))) return rc;
    const char *tagging = proto_req_header(req, "x-amz-tagging");
    if (tagging && (rc = s3_tags_from_query(req, tagging, &u.tags, &u.tags_len, 10))) return rc;
    const char *algo = proto_req_header(req, "x-amz-checksum-algorithm");
    enum s3_cksum ck = s3_cksum_from_name(algo);
    if (algo && ck == S3_CK_NONE)
        return proto_error(req, ERR_S3_INVALID_REQUEST,
                           "Checksum algorithm provided is unsupported. Please try again with any "
                           "of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
    const char *type = proto_req_header(req, "x-amz-checksum-type");
    if (type && strcasecmp(type, "FULL_OBJECT") != 0 && strcasecmp(type, "COMPOSITE") != 0)
        return proto_error(req, ERR_S3_INVALID_REQUEST,
                           "Value for x-amz-checksum-type header is invalid.");
    if (ck != S3_CK_NONE) {
        u.checksum_algo = s3_cksum_name(ck);
        if (type)
            u.checksum_type = strcasecmp(type, "FULL_OBJECT") == 0 ? "FULL_OBJECT" : "COMPOSITE";
        else
            u.checksum_type = ck == S3_CK_CRC64NVME ? "FULL_OBJECT" : "COMPOSITE";
        if (ck == S3_CK_CRC64NVME && strcmp(u.checksum_type, "COMPOSITE") == 0)
            return proto_error(req, ERR_S3_INVALID_REQUEST,
                               "The COMPOSITE checksum type cannot be used with the crc64nvme "
                               "checksum algorithm.");
        if (strcmp(u.checksum_type, "FULL_OBJECT") == 0 && s3_cksum_md(ck))
            return proto_error(req, ERR_S3_INVALID_REQUEST,
                               "The FULL_OBJECT checksum type cannot be used with the %s checksum "
                               "algorithm.",
                               u.checksum_algo);
    }
    u.key = tg->key;
    u.key_len = tg->key_len;
    proto_random_alnum(id, UPLOAD_ID_LEN);
    u.version_id = id;
    u.mtime = proto_now();
    u.owner = req->caller.account_id;
    if (store_txn_begin(req->store, 1, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b))) goto out;
    struct proto_sb sb = PROTO_SB_INIT;
    s3_obj_encode(&sb, &u);
    char k[S3_DBKEY_MAX];
    size_t kl = s3_dbkey_upload(k, tg->bucket, id);
    rc = store_put(t, STORE_DB_S3_UPLOADS, k, kl, sb.buf, sb.len);
    proto_sb_free(&sb);
    if (rc) {
        rc = s3_store_error(req, rc);
        goto out;
    }
    if ((rc = s3_commit(req, &t))) goto out;
    s3_xml_begin(req, "InitiateMultipartUploadResult");
    s3_xml_elem(&req->body, "Bucket", tg->bucket);
    s3_xml_elem_n(&req->body, "Key", tg->key, tg->key_len);
    s3_xml_elem(&req->body, "UploadId", id);
    s3_xml_end(req, "InitiateMultipartUploadResult");
    if (u.checksum_algo) {
        proto_req_add_header(req, "x-amz-checksum-algorithm", u.checksum_algo);
        proto_req_add_header(req, "x-amz-checksum-type", u.checksum_type);
    }
    proto_req_add_header(req, "x-amz-server-side-encryption", "AES256");
out:
    store_txn_abort(t);
    return rc;
}

/* Parses ?partNumber. */
static int part_number(struct proto_req *req, uint32_t *n)
{
    const char *v = proto_req_query(req, "partNumber");
    uint64_t x = 0;
    *n = 0; /* set on every path: gcc -O2 cannot tell proto_error() never returns 0 */
    if (s3_parse_uint(v, S3_MAX_PARTS, &x) || x < 1) {
        s3_err_extra(req, "ArgumentName", "partNumber");
        s3_err_extra(req, "ArgumentValue", v ? v : "");
        return proto_error(req, ERR_S3_INVALID_ARGUMENT,
                           "Part number must be an integer between 1 and 10000, inclusive");
    }
    *n = (uint32_t)x;
    return 0;
}

/* Before the body of UploadPart or UploadPartCopy: answers what the handler would answer before
 * storing anything (a bad part number, a missing bucket or upload), so a part sent to an upload
 * that does not exist is refused at once instead of being stored first. Only a snapshot:
 * commit_part re-checks the upload inside its write transaction, so an upload completed or aborted
 * while the body streams still loses the part. Returns 0 or the answered error. */
int s3_upload_part_precheck(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    struct s3_obj u;
    uint32_t n;
    int rc = part_number(req, &n);
    if (rc) return rc;
    if (store_txn_begin(req->store, 0, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b)) == 0)
        rc = load_upload(req, t, tg, proto_req_query(req, "uploadId"), &u);
    store_txn_abort(t);
    return rc;
}

/* Stores part n of an upload from blob *w (consumed). */
static int commit_part(struct proto_req *req, const struct s3_target *tg, const char *upload_id,
                       struct s3_obj *p, store_blob_writer **w)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    struct s3_obj u, old;
    char blob[STORE_BLOB_ID_LEN + 1];
    int rc;
    if (store_blob_sync(*w)) return s3_store_error(req, STORE_ERROR);
    if (store_txn_begin(req->store, 1, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b))) goto out;
    if ((rc = load_upload(req, t, tg, upload_id, &u))) goto out;
    rc = load_part(t, req->arena, tg->bucket, upload_id, (uint32_t)p->seq, &old);
    if (rc == 0 && old.blob[0]) store_blob_delete(t, old.blob);
    if (store_blob_commit(t, *w, blob)) {
        *w = NULL;
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    *w = NULL;
    p->blob = proto_arena_strdup(req->arena, blob);
    p->mtime = proto_now();
    struct proto_sb sb = PROTO_SB_INIT;
    s3_obj_encode(&sb, p);
    char k[S3_DBKEY_MAX];
    size_t kl = s3_dbkey_part(k, tg->bucket, upload_id, (uint32_t)p->seq);
    rc = store_put(t, STORE_DB_S3_PARTS, k, kl, sb.buf, sb.len);
    proto_sb_free(&sb);
    if (rc) {
        rc = s3_store_error(req, rc);
        goto out;
    }
    rc = s3_commit(req, &t);
out:
    store_txn_abort(t);
    return rc;
}

int s3_upload_part(struct proto_req *req, const struct s3_target *tg)
{
    struct s3_upload_result up;
    struct s3_obj p;
    uint32_t n;
    int rc = part_number(req, &n);
    if (rc) return rc;
    if ((rc = s3_upload_finish(req, &up))) return rc;
    const char *upload_id = proto_req_query(req, "uploadId");
    memset(&p, 0, sizeof(p));
    p.key = tg->key;
    p.key_len = tg->key_len;
    p.seq = n;
    p.size = up.size;
    p.etag = proto_arena_strdup(req->arena, up.md5_hex);
    if (up.ck != S3_CK_NONE) {
        p.checksum_algo = s3_cksum_name(up.ck);
        p.checksum = proto_arena_strdup(req->arena, up.ck_b64);
    }
    if ((rc = commit_part(req, tg, upload_id, &p, &up.blob))) goto out;
    proto_req_add_header(req, "ETag", proto_arena_printf(req->arena, "\"%s\"", p.etag));
    if (p.checksum) proto_req_add_header(req, s3_cksum_header(up.ck), p.checksum);
    proto_req_add_header(req, "x-amz-server-side-encryption", "AES256");
out:
    store_blob_discard(up.blob);
    return rc;
}

int s3_upload_part_copy(struct proto_req *req, const struct s3_target *tg)
{
    struct s3_target src;
    struct s3_obj so, p, u;
    struct s3_bucket sbk;
    struct s3_hasher h;
    int hasher = 0, fd = -1, rc;
    uint32_t n;
    store_blob_writer *w = NULL;
    store_txn *t = NULL;
    const char *upload_id = proto_req_query(req, "uploadId");
    if ((rc = part_number(req, &n))) return rc;
    /* the upload's checksum algorithm decides what the part carries */
    if (store_txn_begin(req->store, 0, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &sbk)) ||
        (rc = load_upload(req, t, tg, upload_id, &u)))
        goto out;
    store_txn_abort(t);
    t = NULL;
    const char *svid = NULL;
    if ((rc = s3_parse_copy_source(req, &src, &svid))) goto out;
    if (store_txn_begin(req->store, 0, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, src.bucket, &sbk))) goto out;
    if (svid)
        rc = s3_version_load(t, req->arena, src.bucket, src.key, src.key_len, svid, &so);
    else
        rc = s3_current_load(t, req->arena, src.bucket, src.key, src.key_len, &so);
    if (rc || so.delete_marker) {
        s3_err_extra(req, "Key", src.key);
        rc = proto_error(req, ERR_S3_NO_SUCH_KEY, "The specified key does not exist.");
        goto out;
    }
    fd = store_blob_open(req->store, so.blob);
    store_txn_abort(t);
    t = NULL;
    if (fd < 0) {
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    uint64_t start = 0, end = so.size ? so.size - 1 : 0, len = so.size;
    const char *range = proto_req_header(req, "x-amz-copy-source-range");
    if (range) {
        uint64_t a = 0, z = 0;
        const char *dash = strncmp(range, "bytes=", 6) == 0 ? strchr(range + 6, '-') : NULL;
        char *first =
            dash ? proto_arena_strndup(req->arena, range + 6, (size_t)(dash - range - 6)) : NULL;
        if (!dash || s3_parse_uint(first, UINT64_MAX, &a) ||
            s3_parse_uint(dash + 1, UINT64_MAX, &z) || a > z || z >= so.size) {
            rc = proto_error(req, ERR_S3_INVALID_ARGUMENT,
                             "Range specified is not valid for source object of size: %llu",
                             (unsigned long long)so.size);
            goto out;
        }
        start = a;
        end = z;
        len = end - start + 1;
    }
    enum s3_cksum ck = s3_cksum_from_name(u.checksum_algo);
    if (s3_hasher_init(&h, 0, ck)) {
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    hasher = 1;
    if (s3_blob_copy(req->store, fd, start, len, &h, &w)) {
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    char md5[33], ckb[S3_CK_B64_MAX];
    s3_hasher_final(&h, md5, NULL, NULL, ckb, NULL, NULL);
    memset(&p, 0, sizeof(p));
    p.key = tg->key;
    p.key_len = tg->key_len;
    p.seq = n;
    p.size = len;
    p.etag = proto_arena_strdup(req->arena, md5);
    if (ck != S3_CK_NONE) {
        p.checksum_algo = s3_cksum_name(ck);
        p.checksum = proto_arena_strdup(req->arena, ckb);
    }
    if ((rc = commit_part(req, tg, upload_id, &p, &w))) goto out;
    char date[32];
    proto_iso8601(date, p.mtime);
    s3_xml_begin(req, "CopyPartResult");
    s3_xml_elem(&req->body, "ETag", proto_arena_printf(req->arena, "\"%s\"", p.etag));
    s3_xml_elem(&req->body, "LastModified", date);
    if (p.checksum) s3_xml_elem(&req->body, s3_cksum_xml_name(ck), p.checksum);
    s3_xml_end(req, "CopyPartResult");
    if (strcmp(so.version_id, "null") != 0)
        proto_req_add_header(req, "x-amz-copy-source-version-id", so.version_id);
out:
    store_txn_abort(t);
    if (hasher) s3_hasher_free(&h);
    store_blob_discard(w);
    if (fd >= 0) close(fd);
    return rc;
}

/* Strips quotes from an ETag given in CompleteMultipartUpload. */
static const char *unquote(proto_arena *a, const char *s)
{
    size_t n = strlen(s);
    while (n && (*s == ' ' || *s == '\n' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t'))
        n--;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') return proto_arena_strndup(a, s + 1, n - 2);
    return proto_arena_strndup(a, s, n);
}

struct cpart {
    uint32_t n;
    const char *etag;
    const char *checksum; /* the client's, may be NULL */
    struct s3_obj rec;
    int fd;
};

struct complete_ctx {
    struct proto_req *req;
    const struct s3_target *tg;
    const char *upload_id;
    int rc;
};

/* In the txn that commits the object: the upload must still be there, the If-None-Match /
 * If-Match conditions hold (a failed one keeps the upload), and the upload goes. */
static int complete_hook(void *ctx, store_txn *t, const struct s3_bucket *b)
{
    struct complete_ctx *cc = ctx;
    struct proto_req *req = cc->req;
    struct s3_obj again;
    (void)b;
    if ((cc->rc = load_upload(req, t, cc->tg, cc->upload_id, &again))) return cc->rc;
    cc->rc = s3_check_put_conditions(req, t, cc->tg->bucket, cc->tg->key, cc->tg->key_len);
    if (cc->rc) return cc->rc;
    if ((cc->rc = drop_upload(t, req->arena, cc->tg->bucket, cc->upload_id)))
        cc->rc = s3_store_error(req, cc->rc);
    return cc->rc;
}

int s3_complete_multipart(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    struct s3_obj u, o;
    struct s3_hasher h;
    int hasher = 0, rc, np = 0;
    struct cpart *parts = NULL;
    store_blob_writer *w = NULL;
    const char *upload_id = proto_req_query(req, "uploadId");

    struct s3_xml_node *root;
    if ((rc = s3_xml_body(req, 0, "CompleteMultipartUpload", &root))) return rc;
    for (struct s3_xml_node *c = root->child; c; c = c->next)
        if (strcmp(c->name, "Part") == 0) np++;
    if (np == 0 || np > S3_MAX_PARTS)
        return proto_error(req, ERR_S3_MALFORMED_XML, S3_MALFORMED_XML);
    parts = proto_arena_alloc(req->arena, sizeof(*parts) * (size_t)np);
    int i = 0;
    for (struct s3_xml_node *c = root->child; c; c = c->next) {
        if (strcmp(c->name, "Part") != 0) continue;
        const char *pn = s3_xml_child_text(c, "PartNumber");
        const char *et = s3_xml_child_text(c, "ETag");
        uint64_t x = 0;
        if (!pn || !*pn || !et) return proto_error(req, ERR_S3_MALFORMED_XML, S3_MALFORMED_XML);
        if (s3_parse_uint(pn, S3_MAX_PARTS, &x) || x < 1) {
            s3_err_extra(req, "ArgumentName", "partNumber");
            return proto_error(req, ERR_S3_INVALID_ARGUMENT,
                               "Part number must be an integer between 1 and 10000, inclusive");
        }
        parts[i].n = (uint32_t)x;
        parts[i].etag = unquote(req->arena, et);
        parts[i].fd = -1;
        for (int ck = S3_CK_CRC32; ck <= S3_CK__LAST; ck++) {
            const char *v = s3_xml_child_text(c, s3_cksum_xml_name((enum s3_cksum)ck));
            if (v) parts[i].checksum = v;
        }
        if (i > 0 && parts[i].n <= parts[i - 1].n) {
            s3_err_extra(req, "UploadId", upload_id ? upload_id : "");
            return proto_error(req, ERR_S3_INVALID_PART_ORDER,
                               "The list of parts was not in ascending order. Parts must be "
                               "ordered by part number.");
        }
        i++;
    }

    /* 1. check the parts and open them */
    if (store_txn_begin(req->store, 0, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b))) goto out;
    if ((rc = load_upload(req, t, tg, upload_id, &u))) goto out;
    enum s3_cksum ck = s3_cksum_from_name(u.checksum_algo);
    int full_object = u.checksum_type && strcmp(u.checksum_type, "FULL_OBJECT") == 0;
    uint64_t total = 0;
    for (i = 0; i < np; i++) {
        struct cpart *p = &parts[i];
        int r = load_part(t, req->arena, tg->bucket, upload_id, p->n, &p->rec);
        if (r && r != STORE_NOTFOUND) {
            rc = s3_store_error(req, r);
            goto out;
        }
        if (r == STORE_NOTFOUND || strcmp(p->rec.etag, p->etag) != 0 ||
            (p->checksum && p->rec.checksum && strcmp(p->checksum, p->rec.checksum) != 0)) {
            char num[16];
            snprintf(num, sizeof(num), "%u", p->n);
            s3_err_extra(req, "UploadId", upload_id);
            s3_err_extra(req, "PartNumber", num);
            s3_err_extra(req, "ETag", p->etag);
            rc = proto_error(req, ERR_S3_INVALID_PART,
                             "One or more of the specified parts could not be found.  The part may "
                             "not have been uploaded, or the specified entity tag may not match "
                             "the part's entity tag.");
            goto out;
        }
        if (i < np - 1 && p->rec.size < S3_MIN_PART_SIZE) {
            char num[16], sz[32];
            snprintf(num, sizeof(num), "%u", p->n);
            snprintf(sz, sizeof(sz), "%llu", (unsigned long long)p->rec.size);
            s3_err_extra(req, "ProposedSize", sz);
            s3_err_extra(req, "MinSizeAllowed", "5242880");
            s3_err_extra(req, "PartNumber", num);
            s3_err_extra(req, "ETag", p->etag);
            rc = proto_error(req, ERR_S3_ENTITY_TOO_SMALL,
                             "Your proposed upload is smaller than the minimum allowed size");
            goto out;
        }
        total += p->rec.size;
    }

    /* 2. concatenate outside any write txn, one part file open at a time; the read txn stays
     * open so that a concurrent abort cannot remove the part files under us. The ETag is the MD5
     * of the parts' MD5s. */
    EVP_MD_CTX *etag_md = EVP_MD_CTX_new();
    EVP_MD_CTX *comp_md = NULL;
    uint32_t comp_crc = 0;
    int composite_ok = ck != S3_CK_NONE && !full_object;
    if (s3_cksum_md(ck)) {
        comp_md = EVP_MD_CTX_new();
        EVP_DigestInit_ex(comp_md, s3_cksum_md(ck), NULL);
    }
    EVP_DigestInit_ex(etag_md, EVP_md5(), NULL);
    if (s3_hasher_init(&h, 0, full_object ? ck : S3_CK_NONE)) {
        EVP_MD_CTX_free(etag_md);
        EVP_MD_CTX_free(comp_md);
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    hasher = 1;
    if (store_blob_create(req->store, &w)) {
        EVP_MD_CTX_free(etag_md);
        EVP_MD_CTX_free(comp_md);
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    enum { BUF = 1 << 20 };
    char *buf = malloc(BUF);
    int io_err = !buf;
    for (i = 0; i < np && !io_err; i++) {
        struct cpart *p = &parts[i];
        unsigned char raw[16];
        for (int j = 0; j < 16; j++) {
            int hi = sigv4_hex_value(p->rec.etag[2 * j]);
            int lo = hi < 0 ? -1 : sigv4_hex_value(p->rec.etag[2 * j + 1]);
            if (lo < 0) {
                io_err = 1;
                break;
            }
            raw[j] = (unsigned char)(hi << 4 | lo);
        }
        EVP_DigestUpdate(etag_md, raw, 16);
        if (composite_ok) {
            unsigned char ckraw[64];
            int cl = p->rec.checksum && p->rec.checksum_algo &&
                             s3_cksum_from_name(p->rec.checksum_algo) == ck
                         ? s3_base64_decode(p->rec.checksum, ckraw, sizeof(ckraw))
                         : -1;
            if (cl <= 0)
                composite_ok = 0;
            else if (comp_md)
                EVP_DigestUpdate(comp_md, ckraw, (size_t)cl);
            else if (ck == S3_CK_CRC32)
                comp_crc = s3_crc32_update(comp_crc, ckraw, (size_t)cl);
            else
                comp_crc = s3_crc32c_update(comp_crc, ckraw, (size_t)cl);
        }
        uint64_t off = 0;
        if (!io_err && (p->fd = store_blob_open(req->store, p->rec.blob)) < 0) io_err = 1;
        while (off < p->rec.size && !io_err) {
            ssize_t r = pread(p->fd, buf, BUF, (off_t)off);
            if (r <= 0) {
                io_err = 1;
                break;
            }
            if (full_object) s3_hasher_update(&h, buf, (size_t)r);
            if (store_blob_write(w, buf, (size_t)r)) io_err = 1;
            off += (uint64_t)r;
        }
        if (p->fd >= 0) close(p->fd);
        p->fd = -1;
    }
    free(buf);
    store_txn_abort(t);
    t = NULL;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    EVP_DigestFinal_ex(etag_md, digest, &dl);
    EVP_MD_CTX_free(etag_md);
    char etag[64];
    sigv4_hex(digest, 16, etag);
    snprintf(etag + 32, sizeof(etag) - 32, "-%d", np);
    char ckv[S3_CK_B64_MAX + 16] = "";
    if (composite_ok) {
        unsigned char cr[EVP_MAX_MD_SIZE];
        size_t cl;
        if (comp_md) {
            unsigned int x;
            EVP_DigestFinal_ex(comp_md, cr, &x);
            cl = x;
        } else {
            cr[0] = (unsigned char)(comp_crc >> 24);
            cr[1] = (unsigned char)(comp_crc >> 16);
            cr[2] = (unsigned char)(comp_crc >> 8);
            cr[3] = (unsigned char)comp_crc;
            cl = 4;
        }
        int bl = (int)sigv4_base64(cr, cl, ckv);
        snprintf(ckv + bl, sizeof(ckv) - (size_t)bl, "-%d", np);
    } else if (full_object) {
        s3_hasher_final(&h, NULL, NULL, NULL, ckv, NULL, NULL);
    }
    EVP_MD_CTX_free(comp_md);
    if (io_err) {
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    /* the client's checksum of the whole object (x-amz-checksum-*), when it sent one */
    const char *want_ck = ck != S3_CK_NONE ? proto_req_header(req, s3_cksum_header(ck)) : NULL;
    if (want_ck && ckv[0]) {
        size_t wl = strcspn(want_ck, "-"), hl = strcspn(ckv, "-");
        if (wl != hl || memcmp(want_ck, ckv, wl) != 0) {
            rc = proto_error(req, ERR_S3_BAD_DIGEST,
                             "The %s you specified did not match the calculated checksum.",
                             s3_cksum_name(ck));
            goto out;
        }
    }
    const char *mp_size = proto_req_header(req, "x-amz-mp-object-size");
    uint64_t mp_total = 0;
    if (mp_size && (s3_parse_uint(mp_size, UINT64_MAX, &mp_total) || mp_total != total)) {
        rc = proto_error(req, ERR_S3_INVALID_REQUEST,
                         "The provided 'x-amz-mp-object-size' header value %s does not match what "
                         "was computed: %llu",
                         mp_size, (unsigned long long)total);
        goto out;
    }

    /* 3. commit the object and drop the upload in one txn */
    o = u;
    o.version_id = NULL;
    o.owner = NULL;
    o.size = total;
    o.etag = etag;
    o.parts = (uint32_t)np;
    char *sizes = proto_arena_alloc(req->arena, (size_t)np * 8);
    for (i = 0; i < np; i++)
        memcpy(sizes + 8 * i, &parts[i].rec.size, 8);
    o.part_sizes = sizes;
    o.checksum_algo = ckv[0] ? u.checksum_algo : NULL;
    o.checksum = ckv[0] ? ckv : NULL;
    o.checksum_type = ckv[0] ? (full_object ? "FULL_OBJECT" : "COMPOSITE") : NULL;
    struct complete_ctx cc = {req, tg, upload_id, 0};
    struct s3_commit_opts opt = {.account = req->caller.account_id,
                                 .expected_owner =
                                     proto_req_header(req, "x-amz-expected-bucket-owner"),
                                 .hook = complete_hook,
                                 .ctx = &cc};
    rc = s3_commit_version(req->store, req->arena, tg->bucket, &o, &w, &opt, &b);
    if (rc == S3_EHOOK) {
        rc = cc.rc;
        goto out;
    }
    if (rc) {
        rc = s3_api_error(req, rc, tg->bucket);
        goto out;
    }
    s3_xml_begin(req, "CompleteMultipartUploadResult");
    proto_sb_puts(&req->body, "<Location>");
    proto_sb_xml_escape(&req->body, "http://", 7);
    proto_sb_xml_escape(&req->body, req->public_host ? req->public_host : "localhost",
                        strlen(req->public_host ? req->public_host : "localhost"));
    proto_sb_putc(&req->body, '/');
    {
        /* A virtual-host request's host already names the bucket: path-style only adds it. */
        const char *host = req->public_host ? req->public_host : "localhost";
        const char *colon = strrchr(host, ':');
        size_t hl = colon && !strchr(host, ']') ? (size_t)(colon - host) : strlen(host);
        struct proto_sb tmp = PROTO_SB_INIT;
        if (!s3_virtual_host_bucket(host, hl)) {
            s3_url_encode(&tmp, tg->bucket, strlen(tg->bucket));
            proto_sb_putc(&tmp, '/');
        }
        /* S3 encodes the key's slashes too: .../multipart%2F01 */
        for (size_t ki = 0; ki < tg->key_len; ki++) {
            if (tg->key[ki] == '/')
                proto_sb_puts(&tmp, "%2F");
            else
                s3_url_encode(&tmp, tg->key + ki, 1);
        }
        proto_sb_xml_escape(&req->body, tmp.buf, tmp.len);
        proto_sb_free(&tmp);
    }
    proto_sb_puts(&req->body, "</Location>");
    s3_xml_elem(&req->body, "Bucket", tg->bucket);
    s3_xml_elem_n(&req->body, "Key", tg->key, tg->key_len);
    s3_xml_elem(&req->body, "ETag", proto_arena_printf(req->arena, "\"%s\"", etag));
    if (o.checksum) {
        s3_xml_elem(&req->body, s3_cksum_xml_name(ck), o.checksum);
        s3_xml_elem(&req->body, "ChecksumType", o.checksum_type);
    }
    s3_xml_end(req, "CompleteMultipartUploadResult");
    if (b.versioning != S3_VERSIONING_NONE)
        proto_req_add_header(req, "x-amz-version-id", o.version_id);
    proto_req_add_header(req, "x-amz-server-side-encryption", "AES256");
    s3_notify("ObjectCreated:CompleteMultipartUpload", b.account, tg->bucket, &o);
out:
    store_txn_abort(t);
    if (hasher) s3_hasher_free(&h);
    store_blob_discard(w);
    for (i = 0; parts && i < np; i++)
        if (parts[i].fd >= 0) close(parts[i].fd);
    return rc;
}

int s3_abort_multipart(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t = NULL;
    struct s3_bucket b;
    struct s3_obj u;
    const char *upload_id = proto_req_query(req, "uploadId");
    int rc;
    if (store_txn_begin(req->store, 1, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b))) goto out;
    if ((rc = load_upload(req, t, tg, upload_id, &u))) goto out;
    if ((rc = drop_upload(t, req->arena, tg->bucket, upload_id))) {
        rc = s3_store_error(req, rc);
        goto out;
    }
    if ((rc = s3_commit(req, &t))) goto out;
    req->status = 204;
out:
    store_txn_abort(t);
    return rc;
}

/* Initiator (the account that created the upload) and Owner (the bucket's). */
static void put_initiator(struct proto_sb *sb, const char *initiator, const char *owner)
{
    char id[65];
    s3_owner_id(id, initiator && *initiator ? initiator : owner);
    proto_sb_puts(sb, "<Initiator>");
    s3_xml_elem(sb, "ID", id);
    s3_xml_elem(sb, "DisplayName", "codepipeline-local");
    proto_sb_puts(sb, "</Initiator><Owner>");
    s3_owner_id(id, owner);
    s3_xml_elem(sb, "ID", id);
    s3_xml_elem(sb, "DisplayName", "codepipeline-local");
    proto_sb_puts(sb, "</Owner>");
}

int s3_list_parts(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t = NULL;
    store_cursor *c = NULL;
    struct s3_bucket b;
    struct s3_obj u;
    const char *upload_id = proto_req_query(req, "uploadId");
    int rc, max = 1000;
    uint64_t marker = 0, x;
    const char *ms = proto_req_query(req, "max-parts");
    const char *pm = proto_req_query(req, "part-number-marker");
    if (ms) {
        if (s3_parse_uint(ms, 2147483647u, &x)) {
            s3_err_extra(req, "ArgumentName", "max-parts");
            s3_err_extra(req, "ArgumentValue", ms);
            return proto_error(req, ERR_S3_INVALID_ARGUMENT,
                               "Provided max-parts not an integer or within integer range");
        }
        max = x > 1000 ? 1000 : (int)x;
    }
    if (pm && *pm && s3_parse_uint(pm, 2147483647u, &marker)) {
        s3_err_extra(req, "ArgumentName", "part-number-marker");
        s3_err_extra(req, "ArgumentValue", pm);
        return proto_error(req, ERR_S3_INVALID_ARGUMENT,
                           "Provided part-number-marker not an integer or within integer range");
    }
    if (store_txn_begin(req->store, 0, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b))) goto out;
    if ((rc = load_upload(req, t, tg, upload_id, &u))) goto out;
    char prefix[S3_DBKEY_MAX];
    size_t pl = s3_dbkey_upload(prefix, tg->bucket, upload_id);
    prefix[pl++] = '\0';
    char start[S3_DBKEY_MAX];
    size_t sl = s3_dbkey_part(start, tg->bucket, upload_id,
                              (uint32_t)(marker >= S3_MAX_PARTS ? S3_MAX_PARTS : marker + 1));
    struct proto_sb parts = PROTO_SB_INIT;
    int count = 0, truncated = 0;
    uint32_t last = 0;
    if (store_cursor_open(t, STORE_DB_S3_PARTS, &c)) {
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    for (int r = marker >= S3_MAX_PARTS ? STORE_NOTFOUND : store_cursor_seek(c, start, sl); r == 0;
         r = store_cursor_next(c)) {
        const void *k, *v;
        size_t kl, vl;
        struct s3_obj p;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (kl != pl + 4 || memcmp(k, prefix, pl) != 0) break;
        if (s3_obj_decode(req->arena, v, vl, &p)) continue;
        if (count == max) {
            truncated = max > 0; /* max-parts=0: an empty page that is not truncated */
            break;
        }
        char date[32];
        proto_iso8601(date, p.mtime);
        proto_sb_puts(&parts, "<Part>");
        proto_sb_printf(&parts, "<PartNumber>%llu</PartNumber>", (unsigned long long)p.seq);
        s3_xml_elem(&parts, "LastModified", date);
        proto_sb_printf(&parts, "<ETag>&quot;%s&quot;</ETag>", p.etag);
        proto_sb_printf(&parts, "<Size>%llu</Size>", (unsigned long long)p.size);
        if (p.checksum && p.checksum_algo)
            s3_xml_elem(&parts, s3_cksum_xml_name(s3_cksum_from_name(p.checksum_algo)), p.checksum);
        proto_sb_puts(&parts, "</Part>");
        last = (uint32_t)p.seq;
        count++;
    }
    s3_xml_begin(req, "ListPartsResult");
    s3_xml_elem(&req->body, "Bucket", tg->bucket);
    s3_xml_elem_n(&req->body, "Key", tg->key, tg->key_len);
    s3_xml_elem(&req->body, "UploadId", upload_id);
    proto_sb_printf(&req->body, "<PartNumberMarker>%llu</PartNumberMarker>",
                    (unsigned long long)marker);
    proto_sb_printf(&req->body, "<NextPartNumberMarker>%u</NextPartNumberMarker>", last);
    proto_sb_printf(&req->body, "<MaxParts>%d</MaxParts>", max);
    proto_sb_printf(&req->body, "<IsTruncated>%s</IsTruncated>", truncated ? "true" : "false");
    if (parts.len) proto_sb_append(&req->body, parts.buf, parts.len);
    put_initiator(&req->body, u.owner, b.account);
    proto_sb_puts(&req->body, "<StorageClass>STANDARD</StorageClass>");
    if (u.checksum_algo) {
        s3_xml_elem(&req->body, "ChecksumAlgorithm", u.checksum_algo);
        s3_xml_elem(&req->body, "ChecksumType", u.checksum_type);
    }
    s3_xml_end(req, "ListPartsResult");
    proto_sb_free(&parts);
out:
    store_cursor_close(c);
    store_txn_abort(t);
    return rc;
}

static int upload_cmp(const void *a, const void *b)
{
    const struct s3_obj *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    if (x->key_len != y->key_len) return x->key_len < y->key_len ? -1 : 1;
    return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

int s3_list_multipart_uploads(struct proto_req *req, const struct s3_target *tg)
{
    store_txn *t = NULL;
    store_cursor *c = NULL;
    struct s3_bucket b;
    int rc, max = 1000;
    const char *prefix = proto_req_query(req, "prefix");
    const char *delim = proto_req_query(req, "delimiter");
    const char *key_marker = proto_req_query(req, "key-marker");
    const char *id_marker = proto_req_query(req, "upload-id-marker");
    const char *enc = proto_req_query(req, "encoding-type");
    int url = enc && strcmp(enc, "url") == 0;
    const char *ms = proto_req_query(req, "max-uploads");
    uint64_t x;
    if (!prefix) prefix = "";
    if (delim && !*delim) delim = NULL;
    if (enc && !url) {
        s3_err_extra(req, "ArgumentName", "encoding-type");
        s3_err_extra(req, "ArgumentValue", enc);
        return proto_error(req, ERR_S3_INVALID_ARGUMENT,
                           "Invalid Encoding Method specified in Request");
    }
    if (ms) {
        if (s3_parse_uint(ms, 2147483647u, &x)) {
            s3_err_extra(req, "ArgumentName", "max-uploads");
            s3_err_extra(req, "ArgumentValue", ms);
            return proto_error(req, ERR_S3_INVALID_ARGUMENT,
                               "Provided max-uploads not an integer or within integer range");
        }
        max = x > 1000 ? 1000 : (int)x;
    }
    if (store_txn_begin(req->store, 0, &t)) return s3_store_error(req, STORE_ERROR);
    if ((rc = s3_bucket_check(req, t, tg->bucket, &b))) goto out;
    if (store_cursor_open(t, STORE_DB_S3_UPLOADS, &c)) {
        rc = s3_store_error(req, STORE_ERROR);
        goto out;
    }
    char bp[80];
    size_t bpl = strlen(tg->bucket);
    memcpy(bp, tg->bucket, bpl);
    bp[bpl++] = '\0';
    size_t n = 0, cap = 16;
    struct s3_obj *ups = malloc(cap * sizeof(*ups));
    for (int r = ups ? store_cursor_seek(c, bp, bpl) : STORE_ERROR; r == 0;
         r = store_cursor_next(c)) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (kl < bpl || memcmp(k, bp, bpl) != 0) break;
        struct s3_obj u;
        if (s3_obj_decode(req->arena, v, vl, &u)) continue;
        if (u.key_len < strlen(prefix) || memcmp(u.key, prefix, strlen(prefix)) != 0) continue;
        if (n == cap) {
            cap *= 2;
            struct s3_obj *nu = realloc(ups, cap * sizeof(*ups));
            if (!nu) break;
            ups = nu;
        }
        ups[n++] = u;
    }
    if (ups) qsort(ups, n, sizeof(*ups), upload_cmp);
    struct proto_sb items = PROTO_SB_INIT, cps = PROTO_SB_INIT;
    int count = 0, truncated = 0;
    const char *next_key = NULL, *next_id = NULL, *last_cp = NULL;
    size_t next_key_len = 0, last_cp_len = 0;
    int passed_id = !(key_marker && *key_marker && id_marker && *id_marker);
    for (size_t i = 0; i < n; i++) {
        struct s3_obj *u = &ups[i];
        if (key_marker && *key_marker) {
            int cmp = upload_cmp(u, &(struct s3_obj){.key = key_marker,
                                                     .key_len = strlen(key_marker),
                                                     .mtime = u->mtime});
            if (cmp < 0) continue;
            if (cmp == 0) {
                if (passed_id) continue;
                if (strcmp(u->version_id, id_marker) == 0) passed_id = 1;
                continue;
            }
        }
        size_t cpl = 0;
        int cls = s3_list_classify(u->key, u->key_len, prefix, strlen(prefix), delim ? delim : "",
                                   delim ? strlen(delim) : 0, &cpl);
        if (cls == 2) {
            if (last_cp && last_cp_len == cpl && memcmp(last_cp, u->key, cpl) == 0) continue;
            if (count == max) {
                truncated = max > 0;
                break;
            }
            proto_sb_puts(&cps, "<CommonPrefixes>");
            s3_xml_elem_key(&cps, "Prefix", u->key, cpl, url);
            proto_sb_puts(&cps, "</CommonPrefixes>");
            last_cp = u->key;
            last_cp_len = cpl;
            next_key = u->key;
            next_key_len = cpl;
            next_id = NULL;
            count++;
            continue;
        }
        if (count == max) {
            truncated = max > 0;
            break;
        }
        char date[32];
        proto_iso8601(date, u->mtime);
        proto_sb_puts(&items, "<Upload>");
        s3_xml_elem_key(&items, "Key", u->key, u->key_len, url);
        s3_xml_elem(&items, "UploadId", u->version_id);
        put_initiator(&items, u->owner, b.account);
        proto_sb_puts(&items, "<StorageClass>STANDARD</StorageClass>");
        s3_xml_elem(&items, "Initiated", date);
        if (u->checksum_algo) {
            s3_xml_elem(&items, "ChecksumAlgorithm", u->checksum_algo);
            s3_xml_elem(&items, "ChecksumType", u->checksum_type);
        }
        proto_sb_puts(&items, "</Upload>");
        next_key = u->key;
        next_key_len = u->key_len;
        next_id = u->version_id;
        count++;
    }
    s3_xml_begin(req, "ListMultipartUploadsResult");
    s3_xml_elem(&req->body, "Bucket", tg->bucket);
    s3_xml_elem_key(&req->body, "KeyMarker", key_marker ? key_marker : "",
                    key_marker ? strlen(key_marker) : 0, url);
    s3_xml_elem(&req->body, "UploadIdMarker", id_marker ? id_marker : "");
    if (truncated && next_key) {
        s3_xml_elem_key(&req->body, "NextKeyMarker", next_key, next_key_len, url);
        s3_xml_elem(&req->body, "NextUploadIdMarker", next_id ? next_id : "");
    }
    s3_xml_elem_key(&req->body, "Prefix", prefix, strlen(prefix), url);
    if (delim) s3_xml_elem_key(&req->body, "Delimiter", delim, strlen(delim), url);
    proto_sb_printf(&req->body, "<MaxUploads>%d</MaxUploads>", max);
    proto_sb_printf(&req->body, "<IsTruncated>%s</IsTruncated>", truncated ? "true" : "false");
    if (url) s3_xml_elem(&req->body, "EncodingType", "url");
    if (items.len) proto_sb_append(&req->body, items.buf, items.len);
    if (cps.len) proto_sb_append(&req->body, cps.buf, cps.len);
    s3_xml_end(req, "ListMultipartUploadsResult");
    proto_sb_free(&items);
    proto_sb_free(&cps);
    free(ups);
out:
    store_cursor_close(c);
    store_txn_abort(t);
    return rc;
}
