/* S3 records in LMDB: the binary encoding of objects and buckets, and the keys they live under. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "protocol/ids.h"
#include "providers/s3/internal.h"
#include "sigv4/encode.h"

/* Field tags of the TLV encoding: [u8 tag][u32 little-endian length][bytes]. */
enum {
    F_KEY = 1,
    F_VID,
    F_SEQ,
    F_DM,
    F_SIZE,
    F_MTIME,
    F_ETAG,
    F_BLOB,
    F_CTYPE,
    F_CENC,
    F_CDISP,
    F_CLANG,
    F_CCTL,
    F_EXPIRES,
    F_REDIRECT,
    F_META,
    F_TAGS,
    F_CKALGO,
    F_CK,
    F_CKTYPE,
    F_PARTS,
    F_OWNER,
    F_PARTSIZES,
    F_NAME = 40,
    F_ACCOUNT,
    F_REGION,
    F_CREATED,
    F_VERSIONING,
    F_HASTAGS,
    F_CONFIGS,
};

static void put_field(struct proto_sb *sb, int tag, const void *data, size_t len)
{
    unsigned char h[5] = {(unsigned char)tag, (unsigned char)len, (unsigned char)(len >> 8),
                          (unsigned char)(len >> 16), (unsigned char)(len >> 24)};
    proto_sb_append(sb, h, 5);
    if (len) proto_sb_append(sb, data, len);
}

static void put_str(struct proto_sb *sb, int tag, const char *s)
{
    if (s) put_field(sb, tag, s, strlen(s));
}

static void put_u64(struct proto_sb *sb, int tag, uint64_t v)
{
    put_field(sb, tag, &v, sizeof(v));
}

static void put_double(struct proto_sb *sb, int tag, double v)
{
    put_field(sb, tag, &v, sizeof(v));
}

void s3_obj_encode(struct proto_sb *sb, const struct s3_obj *o)
{
    put_field(sb, F_KEY, o->key, o->key_len);
    put_str(sb, F_VID, o->version_id);
    put_u64(sb, F_SEQ, o->seq);
    put_u64(sb, F_DM, (uint64_t)o->delete_marker);
    put_u64(sb, F_SIZE, o->size);
    put_double(sb, F_MTIME, o->mtime);
    put_str(sb, F_ETAG, o->etag);
    put_str(sb, F_BLOB, o->blob);
    put_str(sb, F_CTYPE, o->content_type);
    put_str(sb, F_CENC, o->content_encoding);
    put_str(sb, F_CDISP, o->content_disposition);
    put_str(sb, F_CLANG, o->content_language);
    put_str(sb, F_CCTL, o->cache_control);
    put_str(sb, F_EXPIRES, o->expires);
    put_str(sb, F_REDIRECT, o->website_redirect);
    if (o->meta_len) put_field(sb, F_META, o->meta, o->meta_len);
    if (o->tags_len) put_field(sb, F_TAGS, o->tags, o->tags_len);
    put_str(sb, F_CKALGO, o->checksum_algo);
    put_str(sb, F_CK, o->checksum);
    put_str(sb, F_CKTYPE, o->checksum_type);
    put_u64(sb, F_PARTS, o->parts);
    if (o->parts && o->part_sizes) put_field(sb, F_PARTSIZES, o->part_sizes, (size_t)o->parts * 8);
    put_str(sb, F_OWNER, o->owner);
}

/* Iterates fields; returns 1 with tag/data/len, 0 at the end, -1 when malformed. */
static int next_field(const unsigned char *p, size_t len, size_t *pos, int *tag,
                      const unsigned char **data, size_t *flen)
{
    if (*pos == len) return 0;
    if (len - *pos < 5) return -1;
    const unsigned char *h = p + *pos;
    size_t n = (size_t)h[1] | (size_t)h[2] << 8 | (size_t)h[3] << 16 | (size_t)h[4] << 24;
    if (n > len - *pos - 5) return -1;
    *tag = h[0];
    *data = h + 5;
    *flen = n;
    *pos += 5 + n;
    return 1;
}

static uint64_t get_u64(const unsigned char *d, size_t n)
{
    uint64_t v = 0;
    if (n == sizeof(v)) memcpy(&v, d, n);
    return v;
}

static double get_double(const unsigned char *d, size_t n)
{
    double v = 0;
    if (n == sizeof(v)) memcpy(&v, d, n);
    return v;
}

int s3_obj_decode(proto_arena *a, const void *val, size_t len, struct s3_obj *o)
{
    size_t part_sizes_len = 0;
    memset(o, 0, sizeof(*o));
    o->blob = "";
    o->etag = "";
    o->version_id = "null";
    size_t pos = 0;
    int tag, r;
    const unsigned char *d;
    size_t n;
    while ((r = next_field(val, len, &pos, &tag, &d, &n)) == 1) {
        char *s = proto_arena_strndup(a, (const char *)d, n);
        switch (tag) {
        case F_KEY:
            o->key = s, o->key_len = n;
            break;
        case F_VID:
            o->version_id = s;
            break;
        case F_SEQ:
            o->seq = get_u64(d, n);
            break;
        case F_DM:
            o->delete_marker = (int)get_u64(d, n);
            break;
        case F_SIZE:
            o->size = get_u64(d, n);
            break;
        case F_MTIME:
            o->mtime = get_double(d, n);
            break;
        case F_ETAG:
            o->etag = s;
            break;
        case F_BLOB:
            o->blob = s;
            break;
        case F_CTYPE:
            o->content_type = s;
            break;
        case F_CENC:
            o->content_encoding = s;
            break;
        case F_CDISP:
            o->content_disposition = s;
            break;
        case F_CLANG:
            o->content_language = s;
            break;
        case F_CCTL:
            o->cache_control = s;
            break;
        case F_EXPIRES:
            o->expires = s;
            break;
        case F_REDIRECT:
            o->website_redirect = s;
            break;
        case F_META:
            o->meta = s, o->meta_len = n;
            break;
        case F_TAGS:
            o->tags = s, o->tags_len = n;
            break;
        case F_CKALGO:
            o->checksum_algo = s;
            break;
        case F_CK:
            o->checksum = s;
            break;
        case F_CKTYPE:
            o->checksum_type = s;
            break;
        case F_PARTS:
            o->parts = (uint32_t)get_u64(d, n);
            break;
        case F_OWNER:
            o->owner = s;
            break;
        case F_PARTSIZES:
            o->part_sizes = s;
            part_sizes_len = n;
            break;
        default:
            break; /* fields of later versions */
        }
    }
    if (r < 0 || !o->key) return -1;
    if (o->part_sizes && part_sizes_len != (size_t)o->parts * 8) o->part_sizes = NULL;
    return 0;
}

void s3_bucket_encode(struct proto_sb *sb, const struct s3_bucket *b)
{
    put_str(sb, F_NAME, b->name);
    put_str(sb, F_ACCOUNT, b->account);
    put_str(sb, F_REGION, b->region);
    put_double(sb, F_CREATED, b->created);
    put_u64(sb, F_VERSIONING, (uint64_t)b->versioning);
    put_u64(sb, F_HASTAGS, (uint64_t)b->has_tags);
    if (b->tags_len) put_field(sb, F_TAGS, b->tags, b->tags_len);
    if (b->configs_len) put_field(sb, F_CONFIGS, b->configs, b->configs_len);
}

int s3_bucket_decode(proto_arena *a, const void *val, size_t len, struct s3_bucket *b)
{
    memset(b, 0, sizeof(*b));
    size_t pos = 0;
    int tag, r;
    const unsigned char *d;
    size_t n;
    while ((r = next_field(val, len, &pos, &tag, &d, &n)) == 1) {
        char *s = proto_arena_strndup(a, (const char *)d, n);
        switch (tag) {
        case F_NAME:
            b->name = s;
            break;
        case F_ACCOUNT:
            b->account = s;
            break;
        case F_REGION:
            b->region = s;
            break;
        case F_CREATED:
            b->created = get_double(d, n);
            break;
        case F_VERSIONING:
            b->versioning = (int)get_u64(d, n);
            break;
        case F_HASTAGS:
            b->has_tags = (int)get_u64(d, n);
            break;
        case F_TAGS:
            b->tags = s, b->tags_len = n;
            break;
        case F_CONFIGS:
            b->configs = s, b->configs_len = n;
            break;
        default:
            break;
        }
    }
    if (r < 0 || !b->name || !b->account) return -1;
    if (!b->region) b->region = "us-east-1";
    return 0;
}

/* Appends the okey form of key at buf+off; returns the new offset. */
static size_t put_okey(char *buf, size_t off, const char *key, size_t key_len)
{
    if (key_len <= S3_DBKEY_INLINE) {
        memcpy(buf + off, key, key_len);
        return off + key_len;
    }
    unsigned char h[32];
    SHA256((const unsigned char *)key, key_len, h);
    memcpy(buf + off, key, S3_DBKEY_INLINE);
    off += S3_DBKEY_INLINE;
    sigv4_hex(h, 16, buf + off); /* the NUL after it is overwritten or ignored */
    return off + 32;
}

static size_t put_bucket(char *buf, const char *bucket)
{
    size_t n = strlen(bucket);
    if (n > 63) n = 63;
    memcpy(buf, bucket, n);
    buf[n] = '\0';
    return n + 1;
}

size_t s3_dbkey_object(char *buf, const char *bucket, const char *key, size_t key_len)
{
    return put_okey(buf, put_bucket(buf, bucket), key, key_len);
}

size_t s3_dbkey_version(char *buf, const char *bucket, const char *key, size_t key_len,
                        uint64_t seq)
{
    size_t off = s3_dbkey_object(buf, bucket, key, key_len);
    buf[off++] = '\0';
    uint64_t inv = ~seq;
    for (int i = 0; i < 8; i++)
        buf[off++] = (char)(inv >> (56 - 8 * i));
    return off;
}

size_t s3_dbkey_upload(char *buf, const char *bucket, const char *upload_id)
{
    size_t off = put_bucket(buf, bucket);
    size_t n = strnlen(upload_id, 128);
    memcpy(buf + off, upload_id, n);
    return off + n;
}

size_t s3_dbkey_part(char *buf, const char *bucket, const char *upload_id, uint32_t part)
{
    size_t off = s3_dbkey_upload(buf, bucket, upload_id);
    buf[off++] = '\0';
    for (int i = 0; i < 4; i++)
        buf[off++] = (char)(part >> (24 - 8 * i));
    return off;
}

static _Atomic uint64_t last_seq;

uint64_t s3_next_seq(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    uint64_t prev = atomic_load(&last_seq);
    for (;;) {
        uint64_t next = now > prev ? now : prev + 1;
        if (atomic_compare_exchange_weak(&last_seq, &prev, next)) return next;
    }
}

void s3_new_version_id(char out[33])
{
    proto_random_alnum(out, 32);
}

int s3_pairs_next(const char *pairs, size_t len, size_t *pos, const char **name, const char **value)
{
    if (!pairs || *pos >= len) return 0;
    const char *n = pairs + *pos;
    const char *z = memchr(n, '\0', len - *pos);
    if (!z) return 0;
    const char *v = z + 1;
    if ((size_t)(v - pairs) >= len) return 0;
    const char *z2 = memchr(v, '\0', len - (size_t)(v - pairs));
    if (!z2) return 0;
    *name = n;
    *value = v;
    *pos = (size_t)(z2 + 1 - pairs);
    return 1;
}

int s3_pairs_count(const char *pairs, size_t len)
{
    size_t pos = 0;
    const char *n, *v;
    int c = 0;
    while (s3_pairs_next(pairs, len, &pos, &n, &v))
        c++;
    return c;
}
