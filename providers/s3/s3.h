/* The S3 provider's interface to the server and to the other providers. */
#ifndef S3_S3_H
#define S3_S3_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/service.h"
#include "providers/runtime/errors.h"

struct store;

/* The S3 service: REST-XML, dispatched by method, path shape and sub-resource. */
extern const struct proto_service s3_service;

/* ---- In-process interface (engine, CodeBuild, CodeDeploy) ----
 * Every function takes the caller's account: a bucket owned by another account is S3_EACCESS
 * (account NULL skips that check, for internal callers acting for the bucket's owner). They open
 * their own transactions and must not be called inside one, nor from a change listener that
 * would re-enter on the same thread while it holds one (listeners run after the commit, so
 * calling these functions from a listener is fine). */

#define S3_OK        0
#define S3_ENOBUCKET (S3_E_BASE - 1) /* no such bucket */
#define S3_ENOKEY    (S3_E_BASE - 2) /* no such key (or its latest version is a delete marker) */
#define S3_EACCESS   (S3_E_BASE - 3) /* the bucket belongs to another account */
#define S3_EINVAL    (S3_E_BASE - 4) /* bad argument (invalid key) */
#define S3_EIO       (S3_E_BASE - 5) /* store or disk failure */

/* What a stat or get returns about an object. */
struct s3_object_info {
    uint64_t size;
    double last_modified; /* epoch seconds */
    char etag[48];        /* quoted, as in the ETag header: "\"<md5 hex>\"" or "\"<hex>-N\"" */
    char version_id[40];  /* "null" in unversioned buckets */
    char content_type[128];
};

/* Writes the object bucket/key with the bytes of fd from its current offset to EOF, as a
 * PutObject would (a new version in versioned buckets), and runs the change listeners.
 * content_type may be NULL (binary/octet-stream). info (may be NULL) receives the new object's
 * description. Returns S3_OK or an S3_E* code. fd stays owned by the caller. */
int s3_put_object_fd(struct store *st, const char *account, const char *bucket, const char *key,
                     int fd, const char *content_type, struct s3_object_info *info);
/* Same with the bytes in memory. */
int s3_put_object_mem(struct store *st, const char *account, const char *bucket, const char *key,
                      const void *data, size_t len, const char *content_type,
                      struct s3_object_info *info);
/* Describes bucket/key (version_id NULL: the current version). Returns S3_OK or S3_E*. */
int s3_stat_object(struct store *st, const char *account, const char *bucket, const char *key,
                   const char *version_id, struct s3_object_info *info);
/* Opens bucket/key for reading: *fd_out is a read-only fd of exactly info->size bytes from
 * offset 0 (the caller closes it). Returns S3_OK or S3_E*. */
int s3_get_object_fd(struct store *st, const char *account, const char *bucket, const char *key,
                     const char *version_id, struct s3_object_info *info, int *fd_out);
/* Calls fn for each current object whose key starts with prefix (NULL: all), in key order, until
 * fn returns non-zero. key is NUL-terminated and valid only during the call. Returns S3_OK, the
 * first non-zero value fn returned, or S3_E*. */
int s3_list_objects_cb(struct store *st, const char *account, const char *bucket,
                       const char *prefix,
                       int (*fn)(void *ctx, const char *key, const struct s3_object_info *info),
                       void *ctx);
/* Returns S3_OK when bucket exists and belongs to account (versioning_enabled, may be NULL, set to
 * 1 when its versioning is Enabled), or S3_E*. */
int s3_bucket_exists(struct store *st, const char *account, const char *bucket,
                     int *versioning_enabled);
/* Returns S3_OK when bucket exists and belongs to account, with its region ("us-east-1") copied
 * into region (regionlen bytes, NUL-terminated, truncated when longer), or S3_E*. */
int s3_bucket_region(struct store *st, const char *account, const char *bucket, char *region,
                     size_t regionlen);
/* Creates bucket for account (required) in region (idempotent for its owner). Returns S3_OK,
 * S3_EACCESS when another account owns it, S3_EINVAL for a bad name, or S3_EIO. */
int s3_create_bucket_local(struct store *st, const char *account, const char *region,
                           const char *bucket);

/* ---- Change notification ---- */

/* An object change, valid only during the listener call. */
struct s3_event {
    const char *name;    /* "ObjectCreated:Put", "ObjectCreated:Copy",
                            "ObjectCreated:CompleteMultipartUpload", "ObjectRemoved:Delete",
                            "ObjectRemoved:DeleteMarkerCreated" */
    const char *account; /* the bucket owner */
    const char *bucket;
    const char *key; /* NUL-terminated */
    const char *version_id;
    const char *etag; /* unquoted */
    uint64_t size;
};

typedef void (*s3_listener_fn)(void *ctx, const struct s3_event *ev);
/* Registers fn to be called after every committed object write or delete, on the thread that did
 * it (keep it short: queue work for another thread), typically from a provider's start. Returns a
 * handle (> 0) for s3_remove_listener, or RT_EFULL (RT_LISTENERS_MAX listeners). */
int s3_add_listener(s3_listener_fn fn, void *ctx);
/* Unregisters the listener of handle (see rt_listeners_remove for a call in flight). Returns 0
 * or RT_ENOITEM. */
int s3_remove_listener(int handle);

#endif
