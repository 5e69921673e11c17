/* The LMDB store: one environment under the data dir, named databases, account/region-scoped
 * keys, transactions, and a crash-safe blob store for large bytes. */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct store store;
typedef struct store_txn store_txn;
typedef struct store_cursor store_cursor;
typedef struct store_blob_writer store_blob_writer;

/* The named databases; each provider adds rows for its records. */
#define STORE_DBS(X)                                                                               \
    X(STORE_DB_META, "meta")                                                                       \
    X(STORE_DB_BLOBS, "blobs")                                                                     \
    X(STORE_DB_CP_PIPELINES, "cp_pipelines")                                                       \
    X(STORE_DB_CP_PIPELINE_VERSIONS, "cp_pipeline_versions")                                       \
    X(STORE_DB_CP_ACTION_TYPES, "cp_action_types")                                                 \
    X(STORE_DB_CP_WEBHOOKS, "cp_webhooks")                                                         \
    X(STORE_DB_CP_TAGS, "cp_tags")                                                                 \
    X(STORE_DB_CP_EXECUTIONS, "cp_executions")                                                     \
    X(STORE_DB_CP_JOBS, "cp_jobs")                                                                 \
    X(STORE_DB_S3_BUCKETS, "s3_buckets")                                                           \
    X(STORE_DB_S3_OBJECTS, "s3_objects")                                                           \
    X(STORE_DB_S3_VERSIONS, "s3_versions")                                                         \
    X(STORE_DB_S3_UPLOADS, "s3_uploads")                                                           \
    X(STORE_DB_S3_PARTS, "s3_parts")                                                               \
    X(STORE_DB_CC_REPOS, "cc_repos")                                                               \
    X(STORE_DB_CC_REPO_IDS, "cc_repo_ids")                                                         \
    X(STORE_DB_CB_PROJECTS, "cb_projects")                                                         \
    X(STORE_DB_CB_BUILDS, "cb_builds")                                                             \
    X(STORE_DB_CB_REPORT_GROUPS, "cb_report_groups")                                               \
    X(STORE_DB_CB_REPORTS, "cb_reports")                                                           \
    X(STORE_DB_CD_APPLICATIONS, "cd_applications")                                                 \
    X(STORE_DB_CD_DEPLOYMENTS, "cd_deployments")                                                   \
    X(STORE_DB_RT_QUEUE, "rt_queue")                                                               \
    X(STORE_DB_LG_GROUPS, "lg_groups")                                                             \
    X(STORE_DB_LG_STREAMS, "lg_streams")                                                           \
    X(STORE_DB_LG_EVENTS, "lg_events")                                                             \
    X(STORE_DB_LG_TAGS, "lg_tags")                                                                 \
    X(STORE_DB_CONN_CONNECTIONS, "conn_connections")                                               \
    X(STORE_DB_STS_CREDS, "sts_creds")                                                             \
    X(STORE_DB_IAM, "iam")

enum store_db {
#define STORE_DB_ENUM(e, name) e,
    STORE_DBS(STORE_DB_ENUM)
#undef STORE_DB_ENUM
        STORE_DB__COUNT
};

/* Return codes besides 0. */
#define STORE_NOTFOUND (-1)
#define STORE_ERROR    (-2)
#define STORE_FULL     (-3) /* the map is full: raise --map-size */

/* The layout version this build reads and writes (the "schema_version" key of the meta db). */
#define STORE_SCHEMA_VERSION 1

/* Zero-initialised options are the safe defaults: durable commits, an 8 GiB map. */
struct store_options {
    const char *dir; /* the data dir; created if missing */
    size_t map_size; /* LMDB map size in bytes; 0 picks the default (8 GiB) */
    int no_sync;     /* 1: no fsync on commit or blob (survives kill -9, not power loss) */
};

/* A static description of a return code above ("not found", "the map is full", ...). */
const char *store_strerror(int rc);

/* Opens (creating if needed) the store under opts->dir: locks the dir against a second server,
 * checks the schema version, opens every named database and sweeps orphan blobs. Returns 0 and
 * *out, or -1 with a one-line reason in err. */
int store_open(const struct store_options *opts, store **out, char *err, size_t errlen);
/* Closes the environment and releases the lock. NULL is a no-op. */
void store_close(store *s);
/* Returns the data dir (owned by the store). */
const char *store_dir(const store *s);

/* Begins a transaction; write != 0 for a write transaction (one at a time, others wait).
 * Any thread may begin one. A write txn must be committed or aborted by the thread that began
 * it, and that thread must not begin a second write txn meanwhile (it would wait for itself);
 * a read txn may end on any thread. Returns 0 and *out, or STORE_ERROR. */
int store_txn_begin(store *s, int write, store_txn **out);
/* Commits (a read txn just ends); returns 0 or STORE_ERROR / STORE_FULL (the txn is freed
 * either way; after a failed put or blob commit it returns that failure and writes nothing).
 * Blob files deleted in this txn are removed after a successful commit, as soon as no read txn
 * begun before it is still open (such a reader may have found the record and open the file). */
int store_txn_commit(store_txn *t);
/* Aborts and frees; NULL is a no-op. Blob files committed into this txn are removed (they were
 * referenced nowhere else); after a crash the open-time sweep removes them. */
void store_txn_abort(store_txn *t);

/* Reads key; on 0, *val and *vlen point into the map, valid until the txn ends: copy what must
 * live longer. Returns 0, STORE_NOTFOUND or STORE_ERROR. */
int store_get(store_txn *t, enum store_db db, const void *key, size_t klen, const void **val,
              size_t *vlen);
/* Writes key (overwriting). Returns 0, STORE_FULL or STORE_ERROR. */
int store_put(store_txn *t, enum store_db db, const void *key, size_t klen, const void *val,
              size_t vlen);
/* Writes key only if absent. Returns 0, 1 when the key exists, STORE_FULL or STORE_ERROR. */
int store_put_new(store_txn *t, enum store_db db, const void *key, size_t klen, const void *val,
                  size_t vlen);
/* Deletes key. Returns 0, STORE_NOTFOUND or STORE_ERROR. */
int store_del(store_txn *t, enum store_db db, const void *key, size_t klen);

/* Builds "<account>/<region>/<name>" into buf (NUL-terminated). Returns its length, or -1 when it
 * does not fit. Every per-account record key starts this way. */
int store_key(char *buf, size_t buflen, const char *account, const char *region, const char *name);

/* Cursor over db in key order. Close every cursor with store_cursor_close, before or after its
 * txn ends (the txn's end invalidates it). Returns 0 and *out, or STORE_ERROR. */
int store_cursor_open(store_txn *t, enum store_db db, store_cursor **out);
/* Positions at the first key >= key (key NULL: the first key). Returns 0 or STORE_NOTFOUND. */
int store_cursor_seek(store_cursor *c, const void *key, size_t klen);
/* Moves to the next key. Returns 0 or STORE_NOTFOUND. */
int store_cursor_next(store_cursor *c);
/* Moves to the previous key; after a seek that returned STORE_NOTFOUND (or before any seek),
 * to the last key. Returns 0 or STORE_NOTFOUND (no key before; the cursor is then unpositioned,
 * and a further prev starts again from the last key). */
int store_cursor_prev(store_cursor *c);
/* The current entry; pointers valid until the cursor moves or the txn ends. */
void store_cursor_get(store_cursor *c, const void **key, size_t *klen, const void **val,
                      size_t *vlen);
/* Frees the cursor; NULL is a no-op. */
void store_cursor_close(store_cursor *c);

/* Blob store: bytes written to a temp file, fsynced, renamed into place and referenced from LMDB
 * in the same txn that makes them visible; unreferenced files are swept at open. */
#define STORE_BLOB_ID_LEN 32 /* hex characters of a blob id */
/* Starts a blob in a temp file. Returns 0 and *out, or STORE_ERROR. */
int store_blob_create(store *s, store_blob_writer **out);
/* Appends bytes. Returns 0 or STORE_ERROR (disk full, I/O error). */
int store_blob_write(store_blob_writer *w, const void *data, size_t len);
/* Bytes written so far. */
uint64_t store_blob_size(const store_blob_writer *w);
/* Flushes and fsyncs the bytes now, so that store_blob_commit, called later under a write txn,
 * has less to do. Optional. Returns 0 or STORE_ERROR. */
int store_blob_sync(store_blob_writer *w);
/* fsyncs, renames into place and records the blob in t (a write txn); writes its id
 * (STORE_BLOB_ID_LEN hex + NUL) to id. The writer is freed either way. Returns 0, STORE_FULL or
 * STORE_ERROR. With no_sync the fsyncs are skipped. */
int store_blob_commit(store_txn *t, store_blob_writer *w, char id[STORE_BLOB_ID_LEN + 1]);
/* Discards an uncommitted blob and frees the writer. NULL is a no-op. */
void store_blob_discard(store_blob_writer *w);
/* Opens a committed blob read-only. Returns an fd (caller closes) or -1. */
int store_blob_open(store *s, const char *id);
/* Size of a committed blob, or -1. */
int64_t store_blob_stat(store *s, const char *id);
/* Unreferences the blob in t; the file goes after the commit (see store_txn_commit). Returns 0,
 * STORE_NOTFOUND (unknown or malformed id) or STORE_ERROR / STORE_FULL. */
int store_blob_delete(store_txn *t, const char *id);
/* Writes the blob's absolute path into buf (for handing a file to a child process). Returns its
 * length, or -1 for a malformed id or a short buffer. */
int store_blob_path(store *s, const char *id, char *buf, size_t buflen);

#endif
