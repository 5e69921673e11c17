/* Listings: ListObjects (V1 and V2) over the current-object index and ListObjectVersions over
 * the version index, with prefix, delimiter roll-up, markers and continuation tokens. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocol/ids.h"
#include "providers/s3/internal.h"
#include "sigv4/encode.h"

int s3_list_classify(const char *key, size_t key_len, const char *prefix, size_t prefix_len,
                     const char *delim, size_t delim_len, size_t *cp_len)
{
    if (key_len < prefix_len || memcmp(key, prefix, prefix_len) != 0) return 0;
    if (!delim_len) return 1;
    const char *rest = key + prefix_len;
    size_t rl = key_len - prefix_len;
    const char *d = rl >= delim_len ? memmem(rest, rl, delim, delim_len) : NULL;
    if (!d) return 1;
    *cp_len = (size_t)(d - key) + delim_len;
    return 2;
}

/* Byte-wise order of S3 keys (shorter first on a common prefix), like LMDB's. */
static int key_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

struct item {
    const char *key;
    size_t key_len;
    int is_cp;
    int is_latest;
    struct s3_obj o;
};

struct listing {
    const char *bucket;
    const char *prefix, *delim;
    size_t prefix_len, delim_len;
    const char *after; /* list only keys (and prefixes) strictly after this */
    size_t after_len;
    const char *vid_marker; /* versions: resume inside key `after` after this version */
    int max;
    int versions;
    struct item *items;
    int n;
    int truncated;
};

/* Seeks the cursor to the first LMDB key of bucket at or after key. */
static int seek_key(store_cursor *c, const char *bucket, const char *key, size_t len, int bump)
{
    char k[S3_DBKEY_MAX];
    /* long keys are stored as their first S3_DBKEY_INLINE bytes + a hash: seek to that prefix */
    if (len > S3_DBKEY_INLINE) len = S3_DBKEY_INLINE;
    size_t kl = s3_dbkey_object(k, bucket, key, len);
    if (bump && len && len <= S3_DBKEY_INLINE) {
        /* just past every key that starts with key */
        size_t i = kl;
        while (i > 0 && (unsigned char)k[i - 1] == 0xff)
            i--;
        if (i > strlen(bucket) + 1) {
            k[i - 1] = (char)((unsigned char)k[i - 1] + 1);
            kl = i;
        }
    }
    return store_cursor_seek(c, k, kl);
}

/* The entries of a listing in S3's key order. LMDB orders keys up to S3_DBKEY_INLINE bytes by
 * their bytes, but stores longer ones as their first S3_DBKEY_INLINE bytes and a digest: keys
 * sharing those bytes sit together in digest order. Such a group is read whole and sorted before
 * it is handed out, so that listings and their markers see every key in order. */
struct entries {
    proto_arena *a;
    store_cursor *c;
    const char *bucket;
    const char *bprefix; /* bucket NUL */
    size_t bpl;
    int r;              /* the cursor's state: 0 while it is on an entry */
    struct s3_obj *grp; /* a sorted group of long keys being handed out (malloc'd) */
    size_t n, i, cap;
};

struct grp_entry {
    struct s3_obj o;
    size_t order; /* LMDB order, which keeps a key's versions newest first */
};

static int grp_cmp(const void *x, const void *y)
{
    const struct grp_entry *a = x, *b = y;
    int c = key_cmp(a->o.key, a->o.key_len, b->o.key, b->o.key_len);
    if (c) return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Reads the group of long keys sharing first's S3_DBKEY_INLINE bytes (first is already decoded
 * and the cursor still on it) and sorts it. Returns 0 or STORE_ERROR. */
static int read_group(struct entries *e, const struct s3_obj *first)
{
    struct grp_entry *g = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        struct s3_obj o;
        const void *k, *v;
        size_t kl, vl;
        if (n == 0) {
            o = *first;
        } else {
            if (e->r != 0) break;
            store_cursor_get(e->c, &k, &kl, &v, &vl);
            if (kl < e->bpl || memcmp(k, e->bprefix, e->bpl) != 0) break;
            if (s3_obj_decode(e->a, v, vl, &o)) {
                e->r = store_cursor_next(e->c);
                continue;
            }
            if (o.key_len <= S3_DBKEY_INLINE || memcmp(o.key, first->key, S3_DBKEY_INLINE) != 0)
                break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct grp_entry *ng = realloc(g, cap * sizeof(*g));
            if (!ng) {
                rc = STORE_ERROR;
                goto out;
            }
            g = ng;
        }
        g[n].o = o;
        g[n].order = n;
        n++;
        e->r = store_cursor_next(e->c);
    }
    qsort(g, n, sizeof(*g), grp_cmp);
    if (n > e->cap) {
        struct s3_obj *ns = realloc(e->grp, n * sizeof(*ns));
        if (!ns) {
            rc = STORE_ERROR;
            goto out;
        }
        e->grp = ns;
        e->cap = n;
    }
    for (size_t j = 0; j < n; j++)
        e->grp[j] = g[j].o;
    e->n = n;
    e->i = 0;
out:
    free(g);
    return rc;
}

/* The next entry: returns 1 with *o set, 0 at the end of the bucket, or STORE_ERROR. */
static int entries_next(struct entries *e, struct s3_obj *o)
{
    if (e->i < e->n) {
        *o = e->grp[e->i++];
        return 1;
    }
    while (e->r == 0) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(e->c, &k, &kl, &v, &vl);
        if (kl < e->bpl || memcmp(k, e->bprefix, e->bpl) != 0) {
            e->r = STORE_NOTFOUND;
            break;
        }
        if (s3_obj_decode(e->a, v, vl, o)) {
            e->r = store_cursor_next(e->c);
            continue;
        }
        if (o->key_len <= S3_DBKEY_INLINE) {
            e->r = store_cursor_next(e->c);
            return 1;
        }
        if (read_group(e, o)) return STORE_ERROR;
        *o = e->grp[e->i++];
        return 1;
    }
    return 0;
}

/* Moves past every key that rolls up into the common prefix key[0..cpl), the entry of key having
 * been handed out. */
static void entries_skip_prefix(struct entries *e, const char *key, size_t cpl)
{
    while (e->i < e->n && e->grp[e->i].key_len >= cpl && memcmp(e->grp[e->i].key, key, cpl) == 0)
        e->i++;
    /* a prefix within the stored bytes: later keys with it are found by seeking past it */
    if (e->i >= e->n && cpl && cpl <= S3_DBKEY_INLINE && e->r == 0)
        e->r = seek_key(e->c, e->bucket, key, cpl, 1);
}

static int run_listing(struct proto_req *req, store_txn *t, struct listing *l)
{
    struct entries e = {.a = req->arena, .bucket = l->bucket};
    char bprefix[80];
    size_t bpl = strlen(l->bucket);
    memcpy(bprefix, l->bucket, bpl);
    bprefix[bpl++] = '\0';
    e.bprefix = bprefix;
    e.bpl = bpl;
    l->items = proto_arena_alloc(req->arena, sizeof(struct item) * (size_t)(l->max + 1));
    l->n = 0;
    l->truncated = 0;
    if (l->max == 0) return 0; /* S3: an empty page that is not truncated */
    if (store_cursor_open(t, l->versions ? STORE_DB_S3_VERSIONS : STORE_DB_S3_OBJECTS, &e.c))
        return STORE_ERROR;
    const char *start = l->prefix;
    size_t start_len = l->prefix_len;
    if (l->after && key_cmp(l->after, l->after_len, l->prefix, l->prefix_len) > 0) {
        start = l->after;
        start_len = l->after_len;
    }
    e.r = seek_key(e.c, l->bucket, start, start_len, 0);
    const char *prev_key = NULL; /* versions: the key of the previous entry, for IsLatest */
    size_t prev_len = 0;
    int passed_vid = 0, rc = 0;
    const char *last_cp = NULL;
    size_t last_cp_len = 0;
    struct s3_obj o;
    int got;
    while ((got = entries_next(&e, &o)) == 1) {
        int latest = !prev_key || key_cmp(prev_key, prev_len, o.key, o.key_len) != 0;
        prev_key = o.key;
        prev_len = o.key_len;
        size_t cpl = 0;
        int cls = s3_list_classify(o.key, o.key_len, l->prefix, l->prefix_len, l->delim,
                                   l->delim_len, &cpl);
        if (cls == 0) {
            if (key_cmp(o.key, o.key_len, l->prefix, l->prefix_len) > 0 &&
                (o.key_len < l->prefix_len || memcmp(o.key, l->prefix, l->prefix_len) != 0))
                break; /* in key order, past every key with the prefix */
            continue;
        }
        if (cls == 2) {
            if ((l->after && key_cmp(o.key, cpl, l->after, l->after_len) <= 0) ||
                (last_cp && key_cmp(o.key, cpl, last_cp, last_cp_len) == 0)) {
                entries_skip_prefix(&e, o.key, cpl);
                prev_key = NULL;
                continue;
            }
            if (l->n == l->max) {
                l->truncated = 1;
                break;
            }
            struct item *it = &l->items[l->n++];
            memset(it, 0, sizeof(*it));
            it->key = o.key;
            it->key_len = cpl;
            it->is_cp = 1;
            last_cp = o.key;
            last_cp_len = cpl;
            entries_skip_prefix(&e, o.key, cpl);
            prev_key = NULL;
            continue;
        }
        if (l->after) {
            int cmp = key_cmp(o.key, o.key_len, l->after, l->after_len);
            if (cmp < 0) continue;
            if (cmp == 0) {
                /* versions resume after vid_marker inside the marker key; objects skip it */
                int skip = 1;
                if (l->versions && l->vid_marker && passed_vid) skip = 0;
                if (l->versions && l->vid_marker && strcmp(o.version_id, l->vid_marker) == 0)
                    passed_vid = 1;
                if (skip) continue;
            }
        }
        if (l->n == l->max) {
            l->truncated = 1;
            break;
        }
        struct item *it = &l->items[l->n++];
        it->key = o.key;
        it->key_len = o.key_len;
        it->is_cp = 0;
        it->is_latest = latest;
        it->o = o;
    }
    if (got < 0) rc = STORE_ERROR;
    store_cursor_close(e.c);
    free(e.grp);
    return rc;
}

int s3_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t n = 0;
    if (!s || !*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        uint64_t d = (uint64_t)(*s - '0');
        if (d > max || n > (max - d) / 10) return -1;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

char *s3_token_encode(proto_arena *a, const char *key, size_t len)
{
    unsigned char *raw = proto_arena_alloc(a, len + 1);
    raw[0] = 'k';
    memcpy(raw + 1, key, len);
    char *b64 = proto_arena_alloc(a, (len + 1) * 4 / 3 + 8);
    sigv4_base64(raw, len + 1, b64);
    return b64;
}

int s3_token_decode(proto_arena *a, const char *token, const char **key, size_t *len)
{
    size_t tl = token ? strlen(token) : 0;
    if (tl == 0 || tl % 4 != 0 || tl > 2000) return -1;
    unsigned char *dec = proto_arena_alloc(a, tl + 1);
    int64_t n = sigv4_base64_decode(token, tl, dec, tl);
    if (n < 2 || dec[0] != 'k' || (size_t)n - 1 > S3_MAX_KEY_LEN) return -1;
    dec[n] = '\0';
    *key = (const char *)dec + 1;
    *len = (size_t)n - 1;
    return 0;
}

/* Parses max-keys style parameters: absent is 1000, larger values list 1000. Returns 0 or an
 * error. */
static int parse_max(struct proto_req *req, const char *name, int *out)
{
    const char *v = proto_req_query(req, name);
    uint64_t n;
    *out = 1000;
    if (!v) return 0;
    if (s3_parse_uint(v, 2147483647u, &n)) {
        s3_err_extra(req, "ArgumentName", name);
        s3_err_extra(req, "ArgumentValue", v);
        return proto_error(req, ERR_S3_INVALID_ARGUMENT,
                           "Provided %s not an integer or within integer range", name);
    }
    *out = n > 1000 ? 1000 : (int)n;
    return 0;
}

/* Reads prefix, delimiter and encoding-type. */
static int common_params(struct proto_req *req, struct listing *l, int *url)
{
    l->prefix = proto_req_query(req, "prefix");
    if (!l->prefix) l->prefix = "";
    l->prefix_len = strlen(l->prefix);
    l->delim = proto_req_query(req, "delimiter");
    if (l->delim && !*l->delim) l->delim = NULL;
    l->delim_len = l->delim ? strlen(l->delim) : 0;
    const char *enc = proto_req_query(req, "encoding-type");
    *url = 0;
    if (enc) {
        if (strcmp(enc, "url") != 0) {
            s3_err_extra(req, "ArgumentName", "encoding-type");
            s3_err_extra(req, "ArgumentValue", enc);
            return proto_error(req, ERR_S3_INVALID_ARGUMENT,
                               "Invalid Encoding Method specified in Request");
        }
        *url = 1;
    }
    return 0;
}

static void put_owner(struct proto_sb *sb, const char *owner_id)
{
    proto_sb_puts(sb, "<Owner>");
    s3_xml_elem(sb, "ID", owner_id);
    s3_xml_elem(sb, "DisplayName", "codepipeline-local");
    proto_sb_puts(sb, "</Owner>");
}

/* One <Contents>; owner_id NULL leaves the owner out. */
static void put_contents(struct proto_sb *sb, const struct item *it, int url, const char *owner_id)
{
    char date[32];
    proto_iso8601(date, it->o.mtime);
    proto_sb_puts(sb, "<Contents>");
    s3_xml_elem_key(sb, "Key", it->key, it->key_len, url);
    s3_xml_elem(sb, "LastModified", date);
    proto_sb_printf(sb, "<ETag>&quot;%s&quot;</ETag>", it->o.etag);
    if (it->o.checksum_algo) {
        s3_xml_elem(sb, "ChecksumAlgorithm", it->o.checksum_algo);
        if (it->o.checksum_type) s3_xml_elem(sb, "ChecksumType", it->o.checksum_type);
    }
    proto_sb_printf(sb, "<Size>%llu</Size>", (unsigned long long)it->o.size);
    if (owner_id) put_owner(sb, owner_id);
    proto_sb_puts(sb, "<StorageClass>STANDARD</StorageClass></Contents>");
}

static void put_prefixes(struct proto_sb *sb, const struct listing *l, int url)
{
    for (int i = 0; i < l->n; i++) {
        if (!l->items[i].is_cp) continue;
        proto_sb_puts(sb, "<CommonPrefixes>");
        s3_xml_elem_key(sb, "Prefix", l->items[i].key, l->items[i].key_len, url);
        proto_sb_puts(sb, "</CommonPrefixes>");
    }
}

/* Opens a read txn in *t (the caller aborts it), checks the bucket (owner_id gets its owner's
 * canonical id), runs the listing l and opens the answer's root element with its Name and
 * Prefix. Returns 0 or the error: the three List operations differ only after this. */
static int start_listing(struct proto_req *req, const struct s3_target *tg, struct listing *l,
                         int url, const char *root, store_txn **t, char owner_id[65])
{
    struct s3_bucket b;
    if (store_txn_begin(req->store, 0, t)) return s3_store_error(req, STORE_ERROR);
    int rc = s3_bucket_check(req, *t, tg->bucket, &b);
    if (rc) return rc;
    s3_owner_id(owner_id, b.account);
    if (run_listing(req, *t, l)) return s3_store_error(req, STORE_ERROR);
    s3_xml_begin(req, root);
    s3_xml_elem(&req->body, "Name", tg->bucket);
    s3_xml_elem_key(&req->body, "Prefix", l->prefix, l->prefix_len, url);
    return 0;
}

int s3_list_objects_v2(struct proto_req *req, const struct s3_target *tg)
{
    struct listing l = {.bucket = tg->bucket};
    store_txn *t = NULL;
    char owner_id[65];
    int url, rc;
    if ((rc = common_params(req, &l, &url)) || (rc = parse_max(req, "max-keys", &l.max))) return rc;
    const char *token = proto_req_query(req, "continuation-token");
    const char *start_after = proto_req_query(req, "start-after");
    const char *fetch_owner = proto_req_query(req, "fetch-owner");
    int owner = fetch_owner && strcmp(fetch_owner, "true") == 0;
    if (token) {
        if (s3_token_decode(req->arena, token, &l.after, &l.after_len)) {
            s3_err_extra(req, "ArgumentName", "continuation-token");
            return proto_error(req, ERR_S3_INVALID_ARGUMENT,
                               "The continuation token provided is incorrect");
        }
    } else if (start_after && *start_after) {
        l.after = start_after;
        l.after_len = strlen(start_after);
    }
    if ((rc = start_listing(req, tg, &l, url, "ListBucketResult", &t, owner_id))) goto out;
    struct proto_sb *sb = &req->body;
    if (l.delim) s3_xml_elem_key(sb, "Delimiter", l.delim, l.delim_len, url);
    proto_sb_printf(sb, "<MaxKeys>%d</MaxKeys><KeyCount>%d</KeyCount>", l.max, l.n);
    proto_sb_printf(sb, "<IsTruncated>%s</IsTruncated>", l.truncated ? "true" : "false");
    if (url) s3_xml_elem(sb, "EncodingType", "url");
    if (token) s3_xml_elem(sb, "ContinuationToken", token);
    if (start_after) s3_xml_elem_key(sb, "StartAfter", start_after, strlen(start_after), url);
    if (l.truncated && l.n) {
        const struct item *last = &l.items[l.n - 1];
        s3_xml_elem(sb, "NextContinuationToken",
                    s3_token_encode(req->arena, last->key, last->key_len));
    }
    for (int i = 0; i < l.n; i++)
        if (!l.items[i].is_cp) put_contents(sb, &l.items[i], url, owner ? owner_id : NULL);
    put_prefixes(sb, &l, url);
    s3_xml_end(req, "ListBucketResult");
out:
    store_txn_abort(t);
    return rc;
}

int s3_list_objects(struct proto_req *req, const struct s3_target *tg)
{
    struct listing l = {.bucket = tg->bucket};
    store_txn *t = NULL;
    char owner_id[65];
    int url, rc;
    if ((rc = common_params(req, &l, &url)) || (rc = parse_max(req, "max-keys", &l.max))) return rc;
    const char *marker = proto_req_query(req, "marker");
    if (marker && *marker) {
        l.after = marker;
        l.after_len = strlen(marker);
    }
    if ((rc = start_listing(req, tg, &l, url, "ListBucketResult", &t, owner_id))) goto out;
    struct proto_sb *sb = &req->body;
    s3_xml_elem_key(sb, "Marker", marker ? marker : "", marker ? strlen(marker) : 0, url);
    proto_sb_printf(sb, "<MaxKeys>%d</MaxKeys>", l.max);
    if (l.delim) s3_xml_elem_key(sb, "Delimiter", l.delim, l.delim_len, url);
    proto_sb_printf(sb, "<IsTruncated>%s</IsTruncated>", l.truncated ? "true" : "false");
    if (url) s3_xml_elem(sb, "EncodingType", "url");
    /* S3 sends NextMarker only with a delimiter; clients resume after the last Key otherwise */
    if (l.truncated && l.n && l.delim)
        s3_xml_elem_key(sb, "NextMarker", l.items[l.n - 1].key, l.items[l.n - 1].key_len, url);
    for (int i = 0; i < l.n; i++)
        if (!l.items[i].is_cp) put_contents(sb, &l.items[i], url, owner_id);
    put_prefixes(sb, &l, url);
    s3_xml_end(req, "ListBucketResult");
out:
    store_txn_abort(t);
    return rc;
}

int s3_list_object_versions(struct proto_req *req, const struct s3_target *tg)
{
    struct listing l = {.bucket = tg->bucket, .versions = 1};
    store_txn *t = NULL;
    char owner_id[65];
    int url, rc;
    if ((rc = common_params(req, &l, &url)) || (rc = parse_max(req, "max-keys", &l.max))) return rc;
    const char *key_marker = proto_req_query(req, "key-marker");
    const char *vid_marker = proto_req_query(req, "version-id-marker");
    if (key_marker && *key_marker) {
        l.after = key_marker;
        l.after_len = strlen(key_marker);
        if (vid_marker && *vid_marker) l.vid_marker = vid_marker;
    } else if (vid_marker && *vid_marker) {
        s3_err_extra(req, "ArgumentName", "version-id-marker");
        return proto_error(req, ERR_S3_INVALID_ARGUMENT,
                           "A version-id marker cannot be specified without a key marker.");
    }
    if ((rc = start_listing(req, tg, &l, url, "ListVersionsResult", &t, owner_id))) goto out;
    struct proto_sb *sb = &req->body;
    s3_xml_elem_key(sb, "KeyMarker", key_marker ? key_marker : "",
                    key_marker ? strlen(key_marker) : 0, url);
    s3_xml_elem(sb, "VersionIdMarker", vid_marker ? vid_marker : "");
    proto_sb_printf(sb, "<MaxKeys>%d</MaxKeys>", l.max);
    if (l.delim) s3_xml_elem_key(sb, "Delimiter", l.delim, l.delim_len, url);
    proto_sb_printf(sb, "<IsTruncated>%s</IsTruncated>", l.truncated ? "true" : "false");
    if (url) s3_xml_elem(sb, "EncodingType", "url");
    if (l.truncated && l.n) {
        const struct item *last = &l.items[l.n - 1];
        s3_xml_elem_key(sb, "NextKeyMarker", last->key, last->key_len, url);
        if (!last->is_cp) s3_xml_elem(sb, "NextVersionIdMarker", last->o.version_id);
    }
    for (int i = 0; i < l.n; i++) {
        const struct item *it = &l.items[i];
        if (it->is_cp) continue;
        char date[32];
        proto_iso8601(date, it->o.mtime);
        proto_sb_puts(sb, it->o.delete_marker ? "<DeleteMarker>" : "<Version>");
        s3_xml_elem_key(sb, "Key", it->key, it->key_len, url);
        s3_xml_elem(sb, "VersionId", it->o.version_id);
        s3_xml_elem(sb, "IsLatest", it->is_latest ? "true" : "false");
        s3_xml_elem(sb, "LastModified", date);
        if (!it->o.delete_marker) {
            proto_sb_printf(sb, "<ETag>&quot;%s&quot;</ETag>", it->o.etag);
            if (it->o.checksum_algo) {
                s3_xml_elem(sb, "ChecksumAlgorithm", it->o.checksum_algo);
                if (it->o.checksum_type) s3_xml_elem(sb, "ChecksumType", it->o.checksum_type);
            }
            proto_sb_printf(sb, "<Size>%llu</Size>", (unsigned long long)it->o.size);
            proto_sb_puts(sb, "<StorageClass>STANDARD</StorageClass>");
        }
        put_owner(sb, owner_id);
        proto_sb_puts(sb, it->o.delete_marker ? "</DeleteMarker>" : "</Version>");
    }
    put_prefixes(sb, &l, url);
    s3_xml_end(req, "ListVersionsResult");
out:
    store_txn_abort(t);
    return rc;
}
