/* S3 REST dispatch: addressing (path-style and virtual-host), the (method, target, sub-resource)
 * table, and helpers shared by the handlers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "protocol/authfail.h"
#include "protocol/ids.h"
#include "protocol/model.h"
#include "providers/s3/internal.h"
#include "sigv4/encode.h"
#include "sigv4/sigv4.h"

/* ---- helpers shared by the handlers ---- */

void s3_err_extra(struct proto_req *req, const char *name, const char *value)
{
    s3_xml_elem(&req->err_extra, name, value);
}

void s3_owner_id(char out[65], const char *account)
{
    unsigned char md[32];
    unsigned int len = 0;
    if (!account || strcmp(account, "000000000000") == 0) {
        memcpy(out, S3_OWNER_ID, 65);
        return;
    }
    struct proto_sb sb = PROTO_SB_INIT;
    proto_sb_printf(&sb, "codepipeline-local canonical user %s", account);
    EVP_Digest(sb.buf, sb.len, md, &len, EVP_sha256(), NULL);
    proto_sb_free(&sb);
    sigv4_hex(md, 32, out);
}

int s3_store_error(struct proto_req *req, int rc)
{
    (void)rc;
    return proto_error(req, ERR_S3_INTERNAL_ERROR,
                       "We encountered an internal error. Please try again.");
}

int s3_commit(struct proto_req *req, store_txn **t)
{
    int rc = store_txn_commit(*t);
    *t = NULL;
    return rc ? s3_store_error(req, rc) : 0;
}

int s3_bucket_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 3 || n > 63) return 0;
    int all_digits_dots = 1;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return 0;
        if (c != '.' && !(c >= '0' && c <= '9')) all_digits_dots = 0;
        if (c == '.' && i > 0 && (name[i - 1] == '.' || name[i - 1] == '-')) return 0;
        if (c == '-' && i > 0 && name[i - 1] == '.') return 0;
    }
    if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'))) return 0;
    char last = name[n - 1];
    if (!((last >= 'a' && last <= 'z') || (last >= '0' && last <= '9'))) return 0;
    if (all_digits_dots) {
        int dots = 0;
        for (size_t i = 0; i < n; i++)
            dots += name[i] == '.';
        if (dots == 3) return 0; /* formatted as an IP address */
    }
    if (strncmp(name, "xn--", 4) == 0) return 0;
    if (n > 8 && strcmp(name + n - 8, "-s3alias") == 0) return 0;
    return 1;
}

int s3_key_valid(const char *key, size_t len)
{
    return len >= 1 && len <= S3_MAX_KEY_LEN && !memchr(key, '\0', len);
}

int s3_api_error(struct proto_req *req, int s3rc, const char *bucket)
{
    switch (s3rc) {
    case S3_ENOBUCKET:
        s3_err_extra(req, "BucketName", bucket);
        return proto_error(req, ERR_S3_NO_SUCH_BUCKET, "The specified bucket does not exist");
    case S3_EACCESS:
        return proto_error(req, ERR_S3_ACCESS_DENIED, "Access Denied");
    default:
        return s3_store_error(req, STORE_ERROR);
    }
}

int s3_bucket_check(struct proto_req *req, store_txn *t, const char *bucket, struct s3_bucket *b)
{
    int rc = s3_bucket_owned(t, req->arena, bucket, req->caller.account_id,
                             proto_req_header(req, "x-amz-expected-bucket-owner"), b);
    return rc ? s3_api_error(req, rc, bucket) : 0;
}

int s3_bucket_read(struct proto_req *req, const char *bucket, struct s3_bucket *b)
{
    store_txn *t = NULL;
    if (store_txn_begin(req->store, 0, &t)) return s3_store_error(req, STORE_ERROR);
    int rc = s3_bucket_check(req, t, bucket, b);
    store_txn_abort(t);
    return rc;
}

void s3_object_headers(struct proto_req *req, const struct s3_obj *o, int versioned)
{
    char buf[64];
    proto_req_add_header(req, "ETag", proto_arena_printf(req->arena, "\"%s\"", o->etag));
    proto_http_date(buf, (time_t)o->mtime);
    proto_req_add_header(req, "Last-Modified", buf);
    proto_req_add_header(req, "Accept-Ranges", "bytes");
    req->content_type = o->content_type ? o->content_type : "binary/octet-stream";
    if (o->content_encoding) proto_req_add_header(req, "Content-Encoding", o->content_encoding);
    if (o->content_disposition)
        proto_req_add_header(req, "Content-Disposition", o->content_disposition);
    if (o->content_language) proto_req_add_header(req, "Content-Language", o->content_language);
    if (o->cache_control) proto_req_add_header(req, "Cache-Control", o->cache_control);
    if (o->expires) proto_req_add_header(req, "Expires", o->expires);
    if (o->website_redirect)
        proto_req_add_header(req, "x-amz-website-redirect-location", o->website_redirect);
    size_t pos = 0;
    const char *n, *v;
    while (s3_pairs_next(o->meta, o->meta_len, &pos, &n, &v))
        proto_req_add_header(req, proto_arena_printf(req->arena, "x-amz-meta-%s", n), v);
    if (versioned || strcmp(o->version_id, "null") != 0)
        proto_req_add_header(req, "x-amz-version-id", o->version_id);
    int tags = s3_pairs_count(o->tags, o->tags_len);
    if (tags) {
        snprintf(buf, sizeof(buf), "%d", tags);
        proto_req_add_header(req, "x-amz-tagging-count", buf);
    }
    proto_req_add_header(req, "x-amz-server-side-encryption", "AES256");
}

int s3_parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *end)
{
    if (!h) return 0;
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "bytes=", 6) != 0) return 0;
    h += 6;
    if (strchr(h, ',')) return 0; /* multiple ranges: S3 sends the whole object */
    char *e;
    if (*h == '-') {
        if (h[1] < '0' || h[1] > '9') return 0;
        unsigned long long n = strtoull(h + 1, &e, 10);
        if (*e) return 0;
        if (n == 0 || size == 0) return -1;
        *start = n >= size ? 0 : size - n;
        *end = size - 1;
        return 1;
    }
    if (*h < '0' || *h > '9') return 0;
    unsigned long long a = strtoull(h, &e, 10);
    if (*e != '-') return 0;
    const char *b = e + 1;
    unsigned long long z;
    if (*b == '\0') {
        z = UINT64_MAX;
    } else {
        if (*b < '0' || *b > '9') return 0;
        z = strtoull(b, &e, 10);
        if (*e) return 0;
        if (z < a) return 0;
    }
    if (a >= size) return -1;
    *start = a;
    *end = z >= size ? size - 1 : z;
    return 1;
}

int s3_parse_http_date(const char *s, time_t *t)
{
    static const char *fmts[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                 "%a %b %e %H:%M:%S %Y", "%Y-%m-%dT%H:%M:%S"};
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        const char *e = strptime(s, fmts[i], &tm);
        if (e && (*e == '\0' || i == 3)) {
            *t = timegm(&tm);
            return 0;
        }
    }
    return -1;
}

int s3_obj_from_headers(struct proto_req *req, struct s3_obj *o)
{
    size_t meta_size = 0;
    o->content_type = proto_req_header(req, "content-type");
    const char *ce = proto_req_header(req, "content-encoding");
    if (ce) {
        /* aws-chunked is transfer framing, not a property of the object */
        struct proto_sb sb = PROTO_SB_INIT;
        const char *p = ce;
        while (*p) {
            while (*p == ' ' || *p == ',')
                p++;
            const char *s = p;
            while (*p && *p != ',')
                p++;
            const char *e = p;
            while (e > s && e[-1] == ' ')
                e--;
            if (e > s && !((size_t)(e - s) == 11 && strncasecmp(s, "aws-chunked", 11) == 0)) {
                if (sb.len) proto_sb_putc(&sb, ',');
                proto_sb_append(&sb, s, (size_t)(e - s));
            }
        }
        o->content_encoding = sb.len ? proto_arena_strdup(req->arena, sb.buf) : NULL;
        proto_sb_free(&sb);
    }
    o->content_disposition = proto_req_header(req, "content-disposition");
    o->content_language = proto_req_header(req, "content-language");
    o->cache_control = proto_req_header(req, "cache-control");
    o->expires = proto_req_header(req, "expires");
    o->website_redirect = proto_req_header(req, "x-amz-website-redirect-location");
    struct proto_sb meta = PROTO_SB_INIT;
    for (size_t i = 0; i < req->http.n_headers; i++) {
        const struct sigv4_header *h = &req->http.headers[i];
        if (strncasecmp(h->name, "x-amz-meta-", 11) != 0 || !h->name[11]) continue;
        /* Raw header bytes that are not UTF-8 would come back in every HEAD and GET; clients
         * send RFC 2047 words for text that is not ASCII. */
        if (!s3_utf8_valid(h->value, strlen(h->value))) {
            proto_sb_free(&meta);
            s3_err_extra(req, "ArgumentName", h->name);
            return proto_error(req, ERR_S3_INVALID_ARGUMENT, "Metadata values must be valid UTF-8");
        }
        for (const char *c = h->name + 11; *c; c++)
            proto_sb_putc(&meta, (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c));
        proto_sb_putc(&meta, '\0');
        proto_sb_append(&meta, h->value, strlen(h->value) + 1);
        meta_size += strlen(h->name) - 11 + strlen(h->value);
    }
    if (meta_size > 2048) {
        char sz[32];
        proto_sb_free(&meta);
        snprintf(sz, sizeof(sz), "%zu", meta_size);
        s3_err_extra(req, "Size", sz);
        s3_err_extra(req, "MaxSizeAllowed", "2048");
        return proto_error(req, ERR_S3_METADATA_TOO_LARGE,
                           "Your metadata headers exceed the maximum allowed metadata size");
    }
    if (meta.len) {
        char *m = proto_arena_alloc(req->arena, meta.len);
        memcpy(m, meta.buf, meta.len);
        o->meta = m;
        o->meta_len = meta.len;
    }
    proto_sb_free(&meta);
    return 0;
}

/* Validates and appends one tag. */
static int add_tag(struct proto_req *req, struct proto_sb *sb, const char *k, size_t kl,
                   const char *v, size_t vl)
{
    if (kl == 0)
        return proto_error(req, ERR_S3_INVALID_TAG, "The TagKey you have provided is invalid");
    if (kl > 128)
        return proto_error(req, ERR_S3_INVALID_TAG,
                           "The TagKey you have provided is too long, max 128");
    if (vl > 256)
        return proto_error(req, ERR_S3_INVALID_TAG,
                           "The TagValue you have provided is too long, max 256");
    if (kl >= 4 && strncasecmp(k, "aws:", 4) == 0)
        return proto_error(req, ERR_S3_INVALID_TAG, "Your TagKey cannot be prefixed with aws:");
    size_t pos = 0;
    const char *n, *val;
    while (s3_pairs_next(sb->buf, sb->len, &pos, &n, &val))
        if (strlen(n) == kl && memcmp(n, k, kl) == 0)
            return proto_error(req, ERR_S3_INVALID_TAG,
                               "Cannot provide multiple Tags with the same key");
    proto_sb_append(sb, k, kl);
    proto_sb_putc(sb, '\0');
    proto_sb_append(sb, v, vl);
    proto_sb_putc(sb, '\0');
    return 0;
}

static int tags_done(struct proto_req *req, struct proto_sb *sb, int count, int max_tags,
                     const char **pairs, size_t *len)
{
    if (count > max_tags) {
        proto_sb_free(sb);
        if (max_tags == 10)
            return proto_error(req, ERR_S3_BAD_REQUEST, "Object tags cannot be greater than 10");
        return proto_error(req, ERR_S3_INVALID_TAG, "Bucket tag count cannot be greater than %d",
                           max_tags);
    }
    char *p = proto_arena_alloc(req->arena, sb->len ? sb->len : 1);
    if (sb->len) memcpy(p, sb->buf, sb->len);
    *pairs = p;
    *len = sb->len;
    proto_sb_free(sb);
    return 0;
}

int s3_tags_from_query(struct proto_req *req, const char *q, const char **pairs, size_t *len,
                       int max_tags)
{
    struct proto_sb sb = PROTO_SB_INIT;
    int count = 0, rc;
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', n);
        size_t kl = eq ? (size_t)(eq - q) : n;
        if (n) {
            size_t dkl, dvl;
            char *k = s3_url_decode(req->arena, q, kl, &dkl);
            char *v = s3_url_decode(req->arena, eq ? eq + 1 : "", eq ? n - kl - 1 : 0, &dvl);
            for (char *c = k; *c; c++)
                if (*c == '+') *c = ' ';
            for (char *c = v; *c; c++)
                if (*c == '+') *c = ' ';
            /* Decoded bytes that are not UTF-8 could never be listed back in XML. */
            if (!s3_utf8_valid(k, strlen(k)) || !s3_utf8_valid(v, strlen(v))) {
                proto_sb_free(&sb);
                return proto_error(req, ERR_S3_INVALID_TAG,
                                   s3_utf8_valid(k, strlen(k))
                                       ? "The TagValue you have provided is invalid"
                                       : "The TagKey you have provided is invalid");
            }
            if ((rc = add_tag(req, &sb, k, strlen(k), v, strlen(v)))) {
                proto_sb_free(&sb);
                return rc;
            }
            count++;
        }
        q = amp ? amp + 1 : NULL;
    }
    return tags_done(req, &sb, count, max_tags, pairs, len);
}

int s3_tags_from_xml(struct proto_req *req, const struct s3_xml_node *root, const char **pairs,
                     size_t *len, int max_tags)
{
    struct s3_xml_node *set = s3_xml_child(root, "TagSet");
    if (!root || strcmp(root->name, "Tagging") != 0 || !set)
        return proto_error(req, ERR_S3_MALFORMED_XML, S3_MALFORMED_XML);
    struct proto_sb sb = PROTO_SB_INIT;
    int count = 0, rc;
    for (struct s3_xml_node *t = set->child; t; t = t->next) {
        if (strcmp(t->name, "Tag") != 0) continue;
        struct s3_xml_node *k = s3_xml_child(t, "Key"), *v = s3_xml_child(t, "Value");
        if (!k || !v) {
            proto_sb_free(&sb);
            return proto_error(req, ERR_S3_MALFORMED_XML,
                               "The XML you provided was not well-formed or did not validate "
                               "against our published schema");
        }
        if ((rc = add_tag(req, &sb, k->text, k->text_len, v->text, v->text_len))) {
            proto_sb_free(&sb);
            return rc;
        }
        count++;
    }
    return tags_done(req, &sb, count, max_tags, pairs, len);
}

void s3_tags_xml(struct proto_sb *sb, const char *pairs, size_t len)
{
    size_t pos = 0;
    const char *n, *v;
    proto_sb_puts(sb, "<TagSet>");
    while (s3_pairs_next(pairs, len, &pos, &n, &v)) {
        proto_sb_puts(sb, "<Tag>");
        s3_xml_elem(sb, "Key", n);
        s3_xml_elem(sb, "Value", v);
        proto_sb_puts(sb, "</Tag>");
    }
    proto_sb_puts(sb, "</TagSet>");
}

int s3_check_buffered_body(struct proto_req *req, int checksums)
{
    const char *body = req->http.body ? req->http.body : "";
    size_t len = req->http.body_len;
    enum s3_cksum ck = S3_CK_NONE;
    const char *want = NULL;
    for (int c = S3_CK_CRC32; checksums && c <= S3_CK__LAST; c++) {
        const char *v = proto_req_header(req, s3_cksum_header((enum s3_cksum)c));
        if (v) {
            ck = (enum s3_cksum)c;
            want = v;
        }
    }
    struct s3_hasher h;
    if (s3_hasher_init(&h, 0, ck)) return s3_store_error(req, STORE_ERROR);
    s3_hasher_update(&h, body, len);
    unsigned char md5[16];
    char b64[S3_CK_B64_MAX];
    s3_hasher_final(&h, NULL, md5, NULL, b64, NULL, NULL);
    s3_hasher_free(&h);
    const char *cmd5 = proto_req_header(req, "content-md5");
    if (cmd5) {
        unsigned char w[16];
        if (s3_base64_decode(cmd5, w, sizeof(w)) != 16)
            return proto_error(req, ERR_S3_INVALID_DIGEST,
                               "The Content-MD5 you specified was invalid.");
        if (memcmp(w, md5, 16) != 0)
            return proto_error(req, ERR_S3_BAD_DIGEST,
                               "The Content-MD5 you specified did not match what we received.");
    }
    if (want && strcmp(want, b64) != 0)
        return proto_error(req, ERR_S3_BAD_DIGEST,
                           "The %s you specified did not match the calculated checksum.",
                           s3_cksum_name(ck));
    return 0;
}

int s3_xml_body(struct proto_req *req, int checksums, const char *root_name,
                struct s3_xml_node **root)
{
    int rc = s3_check_buffered_body(req, checksums);
    if (rc) return rc;
    *root = s3_xml_parse(req->arena, req->http.body, req->http.body_len);
    if (!*root || strcmp((*root)->name, root_name) != 0)
        return proto_error(req, ERR_S3_MALFORMED_XML, S3_MALFORMED_XML);
    return 0;
}

int s3_blob_copy(store *st, int src_fd, uint64_t offset, uint64_t len, struct s3_hasher *h,
                 store_blob_writer **out)
{
    enum { BUF = 256 * 1024 };
    store_blob_writer *w = NULL;
    char *buf = malloc(BUF);
    int rc = -1;
    if (!buf || store_blob_create(st, &w)) goto out;
    while (len) {
        size_t want = len < BUF ? (size_t)len : BUF;
        ssize_t n = pread(src_fd, buf, want, (off_t)offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) goto out;
        if (h) s3_hasher_update(h, buf, (size_t)n);
        if (store_blob_write(w, buf, (size_t)n)) goto out;
        offset += (uint64_t)n;
        len -= (uint64_t)n;
    }
    *out = w;
    w = NULL;
    rc = 0;
out:
    store_blob_discard(w);
    free(buf);
    return rc;
}

/* ---- addressing ---- */

static char host_name[256]; /* set once at start, before requests */

void s3_set_host_name(const char *host)
{
    host_name[0] = '\0';
    if (!host || strlen(host) >= sizeof(host_name) || !*host) return;
    int ip = strchr(host, ':') != NULL; /* IPv6 */
    if (!ip) {
        ip = 1;
        for (const char *p = host; *p; p++)
            if (!((*p >= '0' && *p <= '9') || *p == '.')) ip = 0;
    }
    if (ip || strcasecmp(host, "localhost") == 0) return;
    snprintf(host_name, sizeof(host_name), "%s", host);
}

size_t s3_virtual_host_bucket(const char *host, size_t hl)
{
    if (hl > 10 && strncasecmp(host + hl - 10, ".localhost", 10) == 0) return hl - 10;
    size_t nl = strlen(host_name);
    if (nl && hl > nl + 1 && host[hl - nl - 1] == '.' &&
        strncasecmp(host + hl - nl, host_name, nl) == 0)
        return hl - nl - 1;
    return 0;
}

int s3_virtual_host_base(const char *host, size_t hl)
{
    size_t nl = strlen(host_name);
    if (hl == 9 && strncasecmp(host, "localhost", 9) == 0) return 1;
    return nl && hl == nl && strncasecmp(host, host_name, nl) == 0;
}

/* Finds the bucket and key of req. Returns 0 or a negative proto_err. */
static int resolve_target(struct proto_req *req, struct s3_target *tg)
{
    memset(tg, 0, sizeof(*tg));
    const char *path = req->http.path && *req->http.path ? req->http.path : "/";
    if (*path != '/') return proto_error(req, ERR_S3_INVALID_REQUEST, "Invalid URI");
    /* Query parameters are echoed by listings and errors (prefix, markers, versionId, uploadId):
     * bytes that are not UTF-8 get InvalidURI, as in keys. Percent-decoding is per byte, so the
     * whole decoded query is UTF-8 exactly when every decoded name and value is. */
    const char *q = req->http.query;
    if (q && *q) {
        size_t ql;
        const char *dq = s3_url_decode(req->arena, q, strlen(q), &ql);
        if (!s3_utf8_valid(dq, ql))
            return proto_error(req, ERR_S3_INVALID_URI, "Couldn't parse the specified URI.");
    }
    const char *host = req->http.host ? req->http.host : "";
    size_t hl = strlen(host);
    const char *colon = hl && host[0] != '[' ? strrchr(host, ':') : NULL;
    if (colon) hl = (size_t)(colon - host);
    const char *key_part;
    size_t vl = s3_virtual_host_bucket(host, hl);
    if (vl) {
        char *b = proto_arena_strndup(req->arena, host, vl);
        for (char *c = b; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
        tg->bucket = b;
        key_part = path + 1;
    } else {
        const char *p = path + 1;
        if (!*p) return 0; /* the service */
        const char *slash = strchr(p, '/');
        size_t bl = slash ? (size_t)(slash - p) : strlen(p);
        size_t dbl;
        tg->bucket = s3_url_decode(req->arena, p, bl, &dbl);
        if (!s3_utf8_valid(tg->bucket, dbl) || strlen(tg->bucket) != dbl)
            return proto_error(req, ERR_S3_INVALID_URI, "Couldn't parse the specified URI.");
        key_part = slash ? slash + 1 : "";
    }
    if (*key_part) {
        tg->key = s3_url_decode(req->arena, key_part, strlen(key_part), &tg->key_len);
        if (tg->key_len > S3_MAX_KEY_LEN) {
            char sz[32];
            snprintf(sz, sizeof(sz), "%zu", tg->key_len);
            s3_err_extra(req, "Size", sz);
            s3_err_extra(req, "MaxSizeAllowed", "1024");
            return proto_error(req, ERR_S3_KEY_TOO_LONG, "Your key is too long");
        }
        if (!s3_key_valid(tg->key, tg->key_len))
            return proto_error(req, ERR_S3_INVALID_ARGUMENT, "Object key is not valid");
        /* S3 keys are UTF-8; S3 answers other bytes with InvalidURI */
        if (!s3_utf8_valid(tg->key, tg->key_len))
            return proto_error(req, ERR_S3_INVALID_URI, "Couldn't parse the specified URI.");
    }
    return 0;
}

/* ---- the dispatch table ---- */

typedef int (*s3_handler)(struct proto_req *req, const struct s3_target *tg);

enum { LV_SERVICE, LV_BUCKET, LV_OBJECT };

struct s3_route {
    const char *method;
    int level;
    const char *sub; /* a query parameter that must be present; "" for none of the known ones */
    s3_handler fn;
};

static int list_buckets_route(struct proto_req *req, const struct s3_target *tg)
{
    (void)tg;
    return s3_list_buckets(req);
}

static int put_object_route(struct proto_req *req, const struct s3_target *tg)
{
    if (proto_req_header(req, "x-amz-copy-source")) return s3_copy_object(req, tg);
    return s3_put_object(req, tg);
}

static int upload_part_route(struct proto_req *req, const struct s3_target *tg)
{
    if (proto_req_header(req, "x-amz-copy-source")) return s3_upload_part_copy(req, tg);
    return s3_upload_part(req, tg);
}

static const struct s3_route routes[] = {
    {"GET", LV_SERVICE, "", list_buckets_route},
    {"PUT", LV_BUCKET, "versioning", s3_put_bucket_versioning},
    {"PUT", LV_BUCKET, "tagging", s3_put_bucket_tagging},
    {"PUT", LV_BUCKET, "", s3_create_bucket},
    {"GET", LV_BUCKET, "location", s3_get_bucket_location},
    {"GET", LV_BUCKET, "versioning", s3_get_bucket_versioning},
    {"GET", LV_BUCKET, "tagging", s3_get_bucket_tagging},
    {"GET", LV_BUCKET, "versions", s3_list_object_versions},
    {"GET", LV_BUCKET, "uploads", s3_list_multipart_uploads},
    {"GET", LV_BUCKET, "list-type", s3_list_objects_v2},
    {"GET", LV_BUCKET, "", s3_list_objects},
    {"HEAD", LV_BUCKET, "", s3_head_bucket},
    {"DELETE", LV_BUCKET, "tagging", s3_delete_bucket_tagging},
    {"DELETE", LV_BUCKET, "", s3_delete_bucket},
    {"POST", LV_BUCKET, "delete", s3_delete_objects},
    {"PUT", LV_OBJECT, "tagging", s3_put_object_tagging},
    {"PUT", LV_OBJECT, "uploadId", upload_part_route},
    {"PUT", LV_OBJECT, "", put_object_route},
    {"GET", LV_OBJECT, "tagging", s3_get_object_tagging},
    {"GET", LV_OBJECT, "uploadId", s3_list_parts},
    {"GET", LV_OBJECT, "attributes", s3_get_object_attributes},
    {"GET", LV_OBJECT, "", s3_get_object},
    {"HEAD", LV_OBJECT, "", s3_head_object},
    {"DELETE", LV_OBJECT, "tagging", s3_delete_object_tagging},
    {"DELETE", LV_OBJECT, "uploadId", s3_abort_multipart},
    {"DELETE", LV_OBJECT, "", s3_delete_object},
    {"POST", LV_OBJECT, "uploads", s3_create_multipart},
    {"POST", LV_OBJECT, "uploadId", s3_complete_multipart},
};

/* Sub-resources this emulator does not implement: answered with NotImplemented rather than
 * falling through to the plain object or bucket operation. */
static const char *const unsupported_subs[] = {"acl",
                                               "policy",
                                               "cors",
                                               "lifecycle",
                                               "encryption",
                                               "website",
                                               "logging",
                                               "notification",
                                               "replication",
                                               "ownershipControls",
                                               "publicAccessBlock",
                                               "object-lock",
                                               "accelerate",
                                               "requestPayment",
                                               "analytics",
                                               "inventory",
                                               "metrics",
                                               "intelligent-tiering",
                                               "retention",
                                               "legal-hold",
                                               "torrent",
                                               "restore",
                                               "select",
                                               "attributes",
                                               "policyStatus",
                                               "renameObject",
                                               "metadataTable",
                                               "metadataConfiguration",
                                               "session",
                                               "abac"};

static const struct s3_route config_routes[] = {
    {"GET", -1, "", s3_get_config},
    {"PUT", -1, "", s3_put_config},
    {"DELETE", -1, "", s3_delete_config},
};

static const struct s3_route *find_route(struct proto_req *req, int level)
{
    if (level != LV_SERVICE && s3_is_config_sub(req, level == LV_OBJECT)) {
        for (size_t i = 0; i < sizeof(config_routes) / sizeof(config_routes[0]); i++)
            if (strcmp(req->http.method, config_routes[i].method) == 0) return &config_routes[i];
        return NULL;
    }
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct s3_route *r = &routes[i];
        if (r->level != level || strcmp(r->method, req->http.method) != 0) continue;
        if (*r->sub && !proto_req_query(req, r->sub)) continue;
        if (!*r->sub)
            for (size_t j = 0; j < sizeof(unsupported_subs) / sizeof(unsupported_subs[0]); j++)
                if (proto_req_query(req, unsupported_subs[j])) return NULL;
        return r;
    }
    return NULL;
}

static int route_request(struct proto_req *req, struct s3_target *tg, const struct s3_route **out)
{
    int rc = resolve_target(req, tg);
    if (rc) return rc;
    int level = !tg->bucket ? LV_SERVICE : !tg->key ? LV_BUCKET : LV_OBJECT;
    *out = find_route(req, level);
    if (*out) return 0;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (routes[i].level == level && strcmp(routes[i].method, req->http.method) == 0)
            return proto_error(req, ERR_S3_NOT_IMPLEMENTED,
                               "A header you provided implies functionality that is not "
                               "implemented");
    s3_err_extra(req, "Method", req->http.method);
    s3_err_extra(req, "ResourceType",
                 level == LV_OBJECT   ? "OBJECT"
                 : level == LV_BUCKET ? "BUCKET"
                                      : "SERVICE");
    return proto_error(req, ERR_S3_METHOD_NOT_ALLOWED,
                       "The specified method is not allowed against this resource.");
}

/* A bucket answers only requests signed for its own region, with the region in the error (SDKs
 * read it to re-sign). GetBucketLocation and CreateBucket are asked before the region is known;
 * SigV2 names no region. Returns 0 or a negative proto_err. */
static int check_bucket_region(struct proto_req *req, const struct s3_target *tg,
                               const struct s3_route *r)
{
    const struct sigv4_auth *auth = req->auth;
    if (!tg->bucket || !auth || auth->sigv2 || !auth->region[0]) return 0;
    if (r->fn == s3_get_bucket_location || r->fn == s3_create_bucket) return 0;
    char region[64];
    if (s3_bucket_region(req->store, req->caller.account_id, tg->bucket, region, sizeof(region)) !=
            S3_OK ||
        strcmp(region, auth->region) == 0)
        return 0; /* a missing bucket is the handler's answer */
    struct sigv4_input in = {.is_s3 = 1};
    struct sigv4_failure fail;
    sigv4_wrong_region(&in, auth, region, &fail);
    proto_req_add_header(req, "x-amz-bucket-region", region);
    int rc = proto_auth_error(req, &fail);
    sigv4_failure_free(&fail);
    return rc;
}

/* Before the body: streams PutObject and UploadPart bodies into a blob. */
static int s3_begin(struct proto_req *req)
{
    struct s3_target tg;
    const struct s3_route *r = NULL;
    int rc = route_request(req, &tg, &r);
    if (rc) return rc; /* answered before the body */
    if ((rc = check_bucket_region(req, &tg, r))) return rc;
    if (r->fn == upload_part_route) {
        /* UploadPart and UploadPartCopy: a missing upload is answered before the body */
        if ((rc = s3_upload_part_precheck(req, &tg))) return rc;
        if (proto_req_header(req, "x-amz-copy-source")) return 0;
        return s3_upload_begin(req);
    }
    if (r->fn != put_object_route) return 0;
    if (proto_req_header(req, "x-amz-copy-source")) return 0;
    struct s3_bucket b;
    if ((rc = s3_bucket_read(req, tg.bucket, &b))) return rc;
    return s3_upload_begin(req);
}

static int s3_dispatch(struct proto_req *req)
{
    struct s3_target tg;
    const struct s3_route *r = NULL;
    proto_sb_reset(&req->err_extra);
    int rc = route_request(req, &tg, &r);
    if (rc == 0) rc = r->fn(req, &tg);
    s3_upload_cleanup(req);
    return rc;
}

static int s3_start(struct store *st, const struct proto_service_config *cfg, char *err,
                    size_t errlen)
{
    (void)st;
    (void)err;
    (void)errlen;
    s3_set_host_name(cfg->host); /* <bucket>.<host> is virtual-host addressing too */
    return 0;
}

const struct proto_service s3_service = {
    .name = "s3",
    .target_prefix = NULL,
    .protocol = PROTO_REST_XML,
    .model = &proto_model_s3,
    .clock_skew_seconds = 900,
    .rest_dispatch = s3_dispatch,
    .rest_begin = s3_begin,
    .start = s3_start,
};
