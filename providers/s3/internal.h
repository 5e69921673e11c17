/* Declarations shared by the S3 provider's files: records, keys, XML, checksums, handlers. */
#ifndef S3_INTERNAL_H
#define S3_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "persistence/store.h"
#include "protocol/request.h"
#include "providers/s3/s3.h"

#define S3_XMLNS         "http://s3.amazonaws.com/doc/2006-03-01/"
#define S3_XML_DECL      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define S3_MAX_KEY_LEN   1024
#define S3_DBKEY_INLINE  400 /* longer object keys are stored as prefix + hash in LMDB keys */
#define S3_MIN_PART_SIZE (5u << 20) /* every part but the last */
#define S3_MAX_PARTS     10000
#define S3_OWNER_ID      "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"

/* ---- records (records.c) ---- */

/* One object version, delete marker, multipart upload or part, as stored in LMDB. Strings are
 * arena-owned after s3_obj_decode; user metadata and tags are "name\0value\0" runs. */
struct s3_obj {
    const char *key; /* the object key; may contain any byte but NUL */
    size_t key_len;
    const char *version_id; /* "null" or a generated id; the upload id for uploads */
    uint64_t seq;           /* version order (newest highest); the part number for parts */
    int delete_marker;
    uint64_t size;
    double mtime;
    const char *etag; /* without quotes: 32 hex, or 32 hex + "-N" */
    const char *blob; /* blob id, "" when none (delete markers) */
    const char *content_type, *content_encoding, *content_disposition, *content_language,
        *cache_control, *expires, *website_redirect;
    const char *meta; /* x-amz-meta-* pairs, names lower-case without the prefix */
    size_t meta_len;
    const char *tags; /* tag pairs */
    size_t tags_len;
    const char *checksum_algo; /* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" or NULL */
    const char *checksum;      /* base64 value, composite ones end in "-N" */
    const char *checksum_type; /* "FULL_OBJECT" or "COMPOSITE" or NULL */
    uint32_t parts;            /* parts of a multipart object, 0 otherwise */
    const char *part_sizes;    /* multipart objects: parts x 8 bytes, each part's size */
    const char *owner;         /* the account that wrote it (uploads) */
};

/* A bucket record. */
struct s3_bucket {
    const char *name;
    const char *account;
    const char *region;
    double created;
    int versioning; /* S3_VERSIONING_* */
    int has_tags;
    const char *tags;
    size_t tags_len;
    const char *configs; /* stored configuration documents: "sub-resource\0body\0" pairs */
    size_t configs_len;
};

enum { S3_VERSIONING_NONE = 0, S3_VERSIONING_ENABLED = 1, S3_VERSIONING_SUSPENDED = 2 };

/* Serialises o into sb (appending). */
void s3_obj_encode(struct proto_sb *sb, const struct s3_obj *o);
/* Decodes a record into o with strings copied into a. Returns 0 or -1 when malformed. */
int s3_obj_decode(proto_arena *a, const void *val, size_t len, struct s3_obj *o);
void s3_bucket_encode(struct proto_sb *sb, const struct s3_bucket *b);
int s3_bucket_decode(proto_arena *a, const void *val, size_t len, struct s3_bucket *b);

/* The LMDB key of an object: bucket NUL okey, where okey is the key itself up to
 * S3_DBKEY_INLINE bytes, else its first S3_DBKEY_INLINE bytes and 32 hex of its SHA-256.
 * Writes into buf (at least S3_DBKEY_MAX bytes) and returns the length. */
#define S3_DBKEY_MAX (64 + 1 + S3_DBKEY_INLINE + 32 + 1 + 8)
size_t s3_dbkey_object(char *buf, const char *bucket, const char *key, size_t key_len);
/* The key of one version: the object key, NUL, big-endian ~seq (newest first). */
size_t s3_dbkey_version(char *buf, const char *bucket, const char *key, size_t key_len,
                        uint64_t seq);
/* The key of an upload: bucket NUL upload id. */
size_t s3_dbkey_upload(char *buf, const char *bucket, const char *upload_id);
/* The key of a part: bucket NUL upload id NUL big-endian part number. */
size_t s3_dbkey_part(char *buf, const char *bucket, const char *upload_id, uint32_t part);
/* Returns a fresh version sequence number, larger than every one handed out before. */
uint64_t s3_next_seq(void);
/* Writes a new version id (32 characters) into out. */
void s3_new_version_id(char out[33]);

/* Iterates "name\0value\0" pairs: returns 1 and sets name/value, or 0 at the end. */
int s3_pairs_next(const char *pairs, size_t len, size_t *pos, const char **name,
                  const char **value);
/* Counts pairs. */
int s3_pairs_count(const char *pairs, size_t len);

/* ---- store access (store.c) ---- */

/* Writes bucket record b. Returns 0 or a STORE_* error. */
int s3_bucket_save(store_txn *t, const struct s3_bucket *b);
/* Reads bucket name. Returns 0, STORE_NOTFOUND or STORE_ERROR. */
int s3_bucket_load(store_txn *t, proto_arena *a, const char *name, struct s3_bucket *b);
/* Reads the current (latest, non-delete-marker) version of key. 0, STORE_NOTFOUND, STORE_ERROR. */
int s3_current_load(store_txn *t, proto_arena *a, const char *bucket, const char *key,
                    size_t key_len, struct s3_obj *o);
/* Reads version vid of key; "null" finds the null version. 0, STORE_NOTFOUND, STORE_ERROR. */
int s3_version_load(store_txn *t, proto_arena *a, const char *bucket, const char *key,
                    size_t key_len, const char *vid, struct s3_obj *o);
/* Writes a new version o (its seq and version_id set by the caller) as the newest: removes a
 * previous version with the same id ("null" in unversioned buckets) with its blob, and updates the
 * current-object index. Returns 0 or a STORE_* error. */
int s3_version_put(store_txn *t, proto_arena *a, const char *bucket, const struct s3_obj *o);
/* Deletes version vid (its blob too) and refreshes the current index. 0, STORE_NOTFOUND, error. */
int s3_version_delete(store_txn *t, proto_arena *a, const char *bucket, const char *key,
                      size_t key_len, const char *vid, struct s3_obj *deleted);
/* Rewrites one stored version in place (tags changed); refreshes the current index. */
int s3_version_update(store_txn *t, proto_arena *a, const char *bucket, const struct s3_obj *o);
/* Returns 1 when the bucket holds any version or delete marker, 0 when empty, <0 on error. */
int s3_bucket_has_objects(store_txn *t, const char *bucket);

/* ---- XML (xml.c) ---- */

struct s3_xml_node {
    const char *name; /* local name, without a namespace prefix */
    const char *text; /* concatenated character data (decoded) */
    size_t text_len;
    struct s3_xml_node *child, *next;
};

#define S3_XML_MAX_DEPTH 16
#define S3_XML_MAX_NODES 200000
#define S3_XML_MAX_SIZE  (4u << 20) /* DeleteObjects' 1000 longest keys fit with room */
/* Parses a small XML document into a tree in a. Rejects bytes that are not UTF-8, DOCTYPE, entity
 * declarations, unknown entities, mismatched tags, trailing content, documents over S3_XML_MAX_SIZE
 * bytes, depth > S3_XML_MAX_DEPTH and more than S3_XML_MAX_NODES elements. Returns the root or
 * NULL. */
struct s3_xml_node *s3_xml_parse(proto_arena *a, const char *doc, size_t len);
/* Returns the first child of n named name, or NULL. */
struct s3_xml_node *s3_xml_child(const struct s3_xml_node *n, const char *name);
/* Returns the text of child name of n, or NULL. */
const char *s3_xml_child_text(const struct s3_xml_node *n, const char *name);

/* Appends <name>escaped value</name>. */
void s3_xml_elem(struct proto_sb *sb, const char *name, const char *value);
void s3_xml_elem_n(struct proto_sb *sb, const char *name, const char *value, size_t n);
/* Appends <name>value</name>, URL-encoding value first when url is set (encoding-type=url). */
void s3_xml_elem_key(struct proto_sb *sb, const char *name, const char *value, size_t n, int url);
/* Appends the S3 URL-encoding of s (unreserved characters and '/' kept). */
void s3_url_encode(struct proto_sb *sb, const char *s, size_t n);
/* Returns 1 when s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or code points
 * above U+10FFFF), else 0. */
int s3_utf8_valid(const char *s, size_t n);
/* Percent-decodes s ('+' stays a plus) into the arena; *out_len gets the length. */
char *s3_url_decode(proto_arena *a, const char *s, size_t n, size_t *out_len);
/* Starts an XML response body: the declaration and <root xmlns=...>. Sets the content type. */
void s3_xml_begin(struct proto_req *req, const char *root);
void s3_xml_end(struct proto_req *req, const char *root);

/* ---- checksums (checksum.c) ---- */

#define S3_CK_B64_MAX 100 /* base64 of the longest checksum (SHA-512) + NUL, rounded up */

enum s3_cksum {
    S3_CK_NONE,
    S3_CK_CRC32,
    S3_CK_CRC32C,
    S3_CK_CRC64NVME,
    S3_CK_SHA1,
    S3_CK_SHA256,
    S3_CK_SHA512,
    S3_CK_MD5,
    S3_CK__LAST = S3_CK_MD5
};

/* Returns the algorithm named name ("CRC32", case-insensitive), or S3_CK_NONE. */
enum s3_cksum s3_cksum_from_name(const char *name);
const char *s3_cksum_name(enum s3_cksum c);     /* "CRC32" */
const char *s3_cksum_header(enum s3_cksum c);   /* "x-amz-checksum-crc32" */
const char *s3_cksum_xml_name(enum s3_cksum c); /* "ChecksumCRC32" */
/* The digest of a hash-based checksum (SHA*, MD5), or NULL for the CRCs. */
const EVP_MD *s3_cksum_md(enum s3_cksum c);
/* The length in bytes of a checksum value. */
int s3_cksum_len(enum s3_cksum c);

uint32_t s3_crc32_update(uint32_t crc, const void *data, size_t len);
uint32_t s3_crc32c_update(uint32_t crc, const void *data, size_t len);
uint64_t s3_crc64nvme_update(uint64_t crc, const void *data, size_t len);

/* Running digest of an object: MD5 always, optionally SHA-256 of the raw payload and one
 * flexible checksum. */
struct s3_hasher {
    EVP_MD_CTX *md5;
    EVP_MD_CTX *sha256; /* NULL unless requested */
    enum s3_cksum ck;
    EVP_MD_CTX *ck_md; /* SHA1/SHA256 checksums */
    uint32_t crc32;
    uint64_t crc64;
};
/* Initialises h. Returns 0 or -1 on out of memory. */
int s3_hasher_init(struct s3_hasher *h, int want_sha256, enum s3_cksum ck);
void s3_hasher_update(struct s3_hasher *h, const void *data, size_t len);
/* Finishes: md5_hex (33), sha256_hex (65, "" when not computed), checksum base64 (""). */
void s3_hasher_final(struct s3_hasher *h, char md5_hex[33], unsigned char md5_raw[16],
                     char sha256_hex[65], char ck_b64[S3_CK_B64_MAX], unsigned char *ck_raw,
                     size_t *ck_len);
void s3_hasher_free(struct s3_hasher *h);
/* Decodes a header's base64 (whole padded quads, up to 128 characters) into out (cap bytes).
 * Returns the length or -1. Encoding is sigv4_base64 (sigv4/encode.h). */
int s3_base64_decode(const char *in, unsigned char *out, size_t cap);

/* ---- request helpers (service.c) ---- */

/* The bucket and key a request addresses. */
struct s3_target {
    const char *bucket; /* NULL for the service (ListBuckets) */
    const char *key;    /* NULL for bucket operations */
    size_t key_len;
};

/* Validates a bucket name per S3's rules for new buckets. Returns 1 when valid. */
int s3_bucket_name_valid(const char *name);
/* Sets the host name the server is reached by (--host; s3's start passes it), so that
 * "<bucket>.<host>" names a bucket (virtual-host addressing) as "<bucket>.localhost" always does.
 * IP addresses are ignored. Call before requests are served; host is copied. */
void s3_set_host_name(const char *host);
/* Returns the length of the bucket prefix when host (its first hl bytes, without the port) is
 * "<bucket>.localhost" or "<bucket>.<host name set by s3_set_host_name>", else 0. */
size_t s3_virtual_host_bucket(const char *host, size_t hl);
/* Returns 1 when host (its first hl bytes, without the port) is "localhost" or the host name set by
 * s3_set_host_name, so "<bucket>.<host>" reaches a bucket; 0 otherwise (an IP address, say). */
int s3_virtual_host_base(const char *host, size_t hl);
/* Returns 1 when key is acceptable (1..1024 bytes, no NUL). */
int s3_key_valid(const char *key, size_t len);

/* Loads bucket within t and checks the caller may use it: NoSuchBucket or AccessDenied errors are
 * set on req. Returns 0 or a negative proto_err; b's strings are arena copies. */
int s3_bucket_check(struct proto_req *req, store_txn *t, const char *bucket, struct s3_bucket *b);
/* s3_bucket_check in a read txn of its own, for handlers that need nothing else from the store. */
int s3_bucket_read(struct proto_req *req, const char *bucket, struct s3_bucket *b);
/* Maps an S3_E* code from the cores below to its AWS error on req (NoSuchBucket with the bucket
 * name, AccessDenied, InternalError). Returns the negative proto_err. */
int s3_api_error(struct proto_req *req, int s3rc, const char *bucket);

/* ---- the write core (commit.c), without a request: HTTP handlers and s3.h's API share it ---- */

/* Loads bucket within t and checks its owner: account (NULL skips) and expected_owner (the
 * x-amz-expected-bucket-owner header, NULL skips). Returns S3_OK, S3_ENOBUCKET, S3_EACCESS or
 * S3_EIO; b's strings are copies in a. */
int s3_bucket_owned(store_txn *t, proto_arena *a, const char *bucket, const char *account,
                    const char *expected_owner, struct s3_bucket *b);

/* Returned by s3_commit_version when the hook refused: the hook kept its own error. Outside the
 * S3_E* range of s3.h, which the in-process API returns. */
#define S3_EHOOK (-100)

struct s3_commit_opts {
    const char *account;        /* the caller's; NULL skips the owner check */
    const char *expected_owner; /* may be NULL */
    /* Called in the write txn after the bucket check, before the version is written
     * (conditional-write checks, dropping a multipart upload). Non-zero refuses the commit. */
    int (*hook)(void *ctx, store_txn *t, const struct s3_bucket *b);
    void *ctx;
};

/* Commits blob *w (always consumed: *w is NULL on return) as the newest version of o->key in
 * bucket, with o's fields, in one write txn. Sets o's version_id, seq, mtime and blob (copies in
 * a); b receives the bucket. opt may be NULL. Runs no listener: the caller notifies. Returns
 * S3_OK, S3_ENOBUCKET, S3_EACCESS, S3_EIO or S3_EHOOK. */
int s3_commit_version(store *st, proto_arena *a, const char *bucket, struct s3_obj *o,
                      store_blob_writer **w, const struct s3_commit_opts *opt, struct s3_bucket *b);
/* Writes the canonical user id (64 hex) of account into out: S3_OWNER_ID for 000000000000, a
 * stable digest of the account id for the others, so accounts have distinct owners. */
void s3_owner_id(char out[65], const char *account);
/* Sets the generic internal error for a store failure and returns it. */
int s3_store_error(struct proto_req *req, int rc);
/* Commits *t, which is gone afterwards (NULL): returns 0 or, when the commit fails, the error
 * s3_store_error sets. */
int s3_commit(struct proto_req *req, store_txn **t);
/* Appends <name>value</name> to req->err_extra. */
void s3_err_extra(struct proto_req *req, const char *name, const char *value);
/* Adds response headers describing o (ETag, Last-Modified, Content-Type, metadata...). */
void s3_object_headers(struct proto_req *req, const struct s3_obj *o, int versioned);
/* Parses a Range header against size. Returns 1 with [*start, *end] inclusive, 0 when absent or
 * ignorable, -1 when unsatisfiable. */
int s3_parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *end);
/* Parses an HTTP date (RFC 1123, RFC 850 or asctime). Returns 0 and *t, or -1. */
int s3_parse_http_date(const char *s, time_t *t);
/* Reads the user metadata and content headers of a PUT/POST into o. Returns 0, or
 * MetadataTooLarge when the x-amz-meta-* names and values exceed 2 KB. */
int s3_obj_from_headers(struct proto_req *req, struct s3_obj *o);
/* Parses an x-amz-tagging query-string or a Tagging XML tree into pairs; returns 0 or an error. */
int s3_tags_from_query(struct proto_req *req, const char *q, const char **pairs, size_t *len,
                       int max_tags);
int s3_tags_from_xml(struct proto_req *req, const struct s3_xml_node *root, const char **pairs,
                     size_t *len, int max_tags);
/* Appends <Tagging><TagSet>...</TagSet></Tagging> contents for pairs. */
void s3_tags_xml(struct proto_sb *sb, const char *pairs, size_t len);
/* Verifies Content-MD5 and (when checksums is set) an x-amz-checksum-* header of a buffered
 * body. Returns 0 or error. */
int s3_check_buffered_body(struct proto_req *req, int checksums);
/* The message of S3's MalformedXML. */
#define S3_MALFORMED_XML                                                                           \
    "The XML you provided was not well-formed or did not validate against our published schema"
/* Checks a buffered XML body as s3_check_buffered_body does and parses it: returns 0 with *root
 * (arena-owned), or the error: MalformedXML when it does not parse or its root element is not
 * root_name. */
int s3_xml_body(struct proto_req *req, int checksums, const char *root_name,
                struct s3_xml_node **root);

/* Evaluates the If-None-Match ("*") and If-Match headers of a write (PutObject,
 * CompleteMultipartUpload) against the current version of key in t, which must be the write txn
 * that then commits, so that two racing conditional writes cannot both succeed. Returns 0, or
 * PreconditionFailed (412) or NoSuchKey (If-Match on a missing key) set on req. */
int s3_check_put_conditions(struct proto_req *req, store_txn *t, const char *bucket,
                            const char *key, size_t key_len);

/* Parses x-amz-copy-source ("[/]bucket/key[?versionId=id]", URL-encoded) into src and *vid
 * (arena-owned; *vid NULL when absent). Returns 0, or InvalidArgument when the bucket, key or
 * version id is not UTF-8 or the key is empty, too long or holds a NUL. */
int s3_parse_copy_source(struct proto_req *req, struct s3_target *src, const char **vid);

/* Copies len bytes at offset of blob src into a new blob writer, hashing into h (may be NULL).
 * Returns 0 or -1. The writer is created here and returned in *out. */
int s3_blob_copy(store *st, int src_fd, uint64_t offset, uint64_t len, struct s3_hasher *h,
                 store_blob_writer **out);

/* Runs the registered change listeners. */
void s3_notify(const char *event, const char *account, const char *bucket, const struct s3_obj *o);

/* ---- streaming uploads (upload.c) ---- */

/* The body sink of PutObject and UploadPart. */
extern const struct proto_body_sink s3_upload_sink;
/* Prepares the sink for req (called from rest_begin). Returns 0 or a negative proto_err. */
int s3_upload_begin(struct proto_req *req);
/* What a finished upload produced. */
struct s3_upload_result {
    store_blob_writer *blob; /* still uncommitted; the caller commits or discards */
    uint64_t size;
    char md5_hex[33];
    enum s3_cksum ck;
    char ck_b64[S3_CK_B64_MAX];
};
/* Finishes the sunk body: verifies x-amz-content-sha256, Content-MD5, trailers and checksums.
 * Returns 0 with *res filled (the caller owns res->blob), or a negative proto_err (the blob is
 * discarded). */
int s3_upload_finish(struct proto_req *req, struct s3_upload_result *res);
/* Discards whatever the sink still holds (safe to call twice). */
void s3_upload_cleanup(struct proto_req *req);

/* ---- handlers ----
 * Each answers one S3 operation on the request's target: it fills req's status, headers and body
 * (or file range) and returns 0, or returns a negative proto_err set with proto_error(). */
int s3_list_buckets(struct proto_req *req);
int s3_create_bucket(struct proto_req *req, const struct s3_target *tg);
int s3_head_bucket(struct proto_req *req, const struct s3_target *tg);
int s3_delete_bucket(struct proto_req *req, const struct s3_target *tg);
int s3_get_bucket_location(struct proto_req *req, const struct s3_target *tg);
int s3_get_bucket_versioning(struct proto_req *req, const struct s3_target *tg);
int s3_put_bucket_versioning(struct proto_req *req, const struct s3_target *tg);
int s3_get_bucket_tagging(struct proto_req *req, const struct s3_target *tg);
int s3_put_bucket_tagging(struct proto_req *req, const struct s3_target *tg);
int s3_delete_bucket_tagging(struct proto_req *req, const struct s3_target *tg);

int s3_put_object(struct proto_req *req, const struct s3_target *tg);
int s3_copy_object(struct proto_req *req, const struct s3_target *tg);
int s3_get_object(struct proto_req *req, const struct s3_target *tg);
int s3_head_object(struct proto_req *req, const struct s3_target *tg);
int s3_delete_object(struct proto_req *req, const struct s3_target *tg);
int s3_delete_objects(struct proto_req *req, const struct s3_target *tg);
int s3_get_object_tagging(struct proto_req *req, const struct s3_target *tg);
int s3_get_object_attributes(struct proto_req *req, const struct s3_target *tg);
int s3_put_object_tagging(struct proto_req *req, const struct s3_target *tg);
int s3_delete_object_tagging(struct proto_req *req, const struct s3_target *tg);

/* config.c: stored configuration sub-resources (policy, CORS, ...) and ACLs */
int s3_get_config(struct proto_req *req, const struct s3_target *tg);
int s3_put_config(struct proto_req *req, const struct s3_target *tg);
int s3_delete_config(struct proto_req *req, const struct s3_target *tg);
/* Returns 1 when req names a configuration sub-resource config.c answers. */
int s3_is_config_sub(struct proto_req *req, int object);

int s3_list_objects(struct proto_req *req, const struct s3_target *tg);
int s3_list_objects_v2(struct proto_req *req, const struct s3_target *tg);
int s3_list_object_versions(struct proto_req *req, const struct s3_target *tg);

int s3_create_multipart(struct proto_req *req, const struct s3_target *tg);
int s3_upload_part(struct proto_req *req, const struct s3_target *tg);
int s3_upload_part_copy(struct proto_req *req, const struct s3_target *tg);
/* Before the body: 0, or the part-number, NoSuchBucket or NoSuchUpload error answered. */
int s3_upload_part_precheck(struct proto_req *req, const struct s3_target *tg);
int s3_complete_multipart(struct proto_req *req, const struct s3_target *tg);
int s3_abort_multipart(struct proto_req *req, const struct s3_target *tg);
int s3_list_parts(struct proto_req *req, const struct s3_target *tg);
int s3_list_multipart_uploads(struct proto_req *req, const struct s3_target *tg);

/* ---- listing logic (list.c), pure ---- */

/* Parses s as a plain decimal integer (digits only, no sign or spaces) no larger than max.
 * Returns 0 with *out set, or -1 when s is empty, not a number, or above max (without
 * overflowing on any length of digits). */
int s3_parse_uint(const char *s, uint64_t max, uint64_t *out);
/* Encodes the ListObjectsV2 continuation token after key (base64 of 'k' + key), arena-owned. */
char *s3_token_encode(proto_arena *a, const char *key, size_t len);
/* Decodes a ListObjectsV2 continuation token (base64 of 'k' + the last key listed) into a.
 * Returns 0 with *key (arena-owned, NUL-terminated) and *len set, or -1 when malformed. */
int s3_token_decode(proto_arena *a, const char *token, const char **key, size_t *len);

/* Classifies key against prefix and delimiter: returns 0 when key does not start with prefix,
 * 1 when it is listed as itself, 2 when it rolls up into a common prefix whose length is set in
 * *cp_len (prefix + up to and including the first delimiter after it). */
int s3_list_classify(const char *key, size_t key_len, const char *prefix, size_t prefix_len,
                     const char *delim, size_t delim_len, size_t *cp_len);

#endif
