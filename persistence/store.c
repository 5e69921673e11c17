/* The LMDB store: environment, data dir lock, schema check, transactions, cursors and blobs. */
#include "persistence/store.h"
#include "sigv4/encode.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_DEFAULT_MAP_SIZE ((size_t)8 << 30)
#define STORE_MAX_READERS      1024
#define STORE_READ_POOL        64
#define STORE_BLOB_BUF         (64 * 1024)
#define STORE_SCHEMA_KEY       "schema_version"

struct store {
    char *dir;   /* absolute path of the data dir */
    int dirfd;   /* the data dir */
    int lockfd;  /* <dir>/LOCK, flock'ed for the life of the store */
    int blobsfd; /* <dir>/blobs */
    int no_sync;
    MDB_env *env;
    MDB_dbi dbi[STORE_DB__COUNT];
    pthread_mutex_t mu; /* guards the read txn pool, the live readers and pending unlinks */
    MDB_txn *pool[STORE_READ_POOL];
    int npool;
    size_t *readers; /* snapshot ids (mdb_txn_id) of the live read txns */
    size_t nreaders, capreaders;
    struct store_pending *pending; /* deleted blobs that an older live snapshot may still read */
    size_t npending, cappending;
    unsigned char subdir_ok[256]; /* blobs/<xx> known to exist (set once, read atomically) */
};

struct store_pending {
    char id[STORE_BLOB_ID_LEN + 1];
    size_t txnid; /* the deleting commit: readers of older snapshots still see the blob */
};

struct store_idlist {
    char (*ids)[STORE_BLOB_ID_LEN + 1];
    size_t n, cap;
};

struct store_txn {
    store *s;
    MDB_txn *txn;
    int write;
    int failed;                  /* first error of a write, returned again by commit */
    struct store_idlist created; /* blobs renamed into place in this txn */
    struct store_idlist doomed;  /* blobs to unlink after a successful commit */
    store_cursor *cursors;       /* open cursors, closed when the txn ends */
};

struct store_cursor {
    store_txn *t; /* NULL once the txn has ended */
    MDB_cursor *mc;
    MDB_val k, v;
    int valid;
    store_cursor *next, *prev;
};

struct store_blob_writer {
    store *s;
    int fd;
    int synced;
    char tmpname[STORE_BLOB_ID_LEN + 8];
    uint64_t size;
    size_t buflen;
    unsigned char *buf;
};

static const char *const store_db_names[STORE_DB__COUNT] = {
#define STORE_DB_NAME(e, name) name,
    STORE_DBS(STORE_DB_NAME)
#undef STORE_DB_NAME
};

const char *store_strerror(int rc)
{
    switch (rc) {
    case 0:
        return "success";
    case STORE_NOTFOUND:
        return "not found";
    case STORE_FULL:
        return "the store is full (raise the map size)";
    case STORE_ERROR:
        return "store error";
    default:
        return "unknown store error";
    }
}

static int store_map_rc(int rc)
{
    if (rc == 0) return 0;
    if (rc == MDB_NOTFOUND) return STORE_NOTFOUND;
    if (rc == MDB_MAP_FULL) return STORE_FULL;
    return STORE_ERROR;
}

static void store_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int store_is_hex_id(const char *id, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    }
    return 1;
}

/* A committed blob id: exactly STORE_BLOB_ID_LEN lowercase hex characters. */
static int store_valid_id(const char *id)
{
    return id && strnlen(id, STORE_BLOB_ID_LEN + 1) == STORE_BLOB_ID_LEN &&
           store_is_hex_id(id, STORE_BLOB_ID_LEN);
}

/* "<xx>/<id>", relative to blobs/. */
static void store_blob_relpath(const char *id, char out[STORE_BLOB_ID_LEN + 4])
{
    out[0] = id[0];
    out[1] = id[1];
    out[2] = '/';
    memcpy(out + 3, id, STORE_BLOB_ID_LEN);
    out[STORE_BLOB_ID_LEN + 3] = '\0';
}

static int store_write_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int store_fsync_dirat(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;
    if (fd < 0) return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* mkdir -p for an absolute or relative path; returns 0 or -1 with errno. */
static int store_mkdirs(const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        buf[i] = saved;
    }
    return 0;
}

/* Creates dirfd/name as a directory if missing; fails if it exists as something else. */
static int store_ensure_dirat(int dirfd, const char *name)
{
    struct stat st;
    if (mkdirat(dirfd, name, 0755) == 0) return 0;
    if (errno != EEXIST) return -1;
    if (fstatat(dirfd, name, &st, 0) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static int store_random_id(char out[STORE_BLOB_ID_LEN + 1])
{
    unsigned char raw[STORE_BLOB_ID_LEN / 2];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        got += (size_t)n;
    }
    sigv4_hex(raw, sizeof(raw), out);
    return 0;
}

static int store_idlist_add(struct store_idlist *l, const char *id)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        void *p = realloc(l->ids, cap * sizeof(*l->ids));
        if (!p) return -1;
        l->ids = p;
        l->cap = cap;
    }
    memcpy(l->ids[l->n], id, STORE_BLOB_ID_LEN + 1);
    l->n++;
    return 0;
}

static void store_idlist_free(struct store_idlist *l);

/* Unlinks every blob named in l (missing files are fine). */
static void store_idlist_unlink(store *s, struct store_idlist *l)
{
    char rel[STORE_BLOB_ID_LEN + 4];
    for (size_t i = 0; i < l->n; i++) {
        store_blob_relpath(l->ids[i], rel);
        unlinkat(s->blobsfd, rel, 0);
    }
}

/* The oldest live read snapshot, or SIZE_MAX when there is none. Caller holds s->mu. */
static size_t store_oldest_reader(const store *s)
{
    size_t min = SIZE_MAX;
    for (size_t i = 0; i < s->nreaders; i++)
        if (s->readers[i] < min) min = s->readers[i];
    return min;
}

/* Moves the pending unlinks no live snapshot can see into out. Caller holds s->mu. */
static void store_take_unlinkable(store *s, struct store_idlist *out)
{
    size_t oldest = store_oldest_reader(s), kept = 0;
    for (size_t i = 0; i < s->npending; i++) {
        if (s->pending[i].txnid <= oldest && store_idlist_add(out, s->pending[i].id) == 0) continue;
        s->pending[kept++] = s->pending[i];
    }
    s->npending = kept;
}

/* Unlinks the blobs deleted by the commit txnid now, or once every older snapshot has ended
 * (a reader that found the record must still be able to open the file). */
static void store_unlink_after(store *s, struct store_idlist *doomed, size_t txnid)
{
    struct store_idlist now = {0};
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < doomed->n; i++) {
        if (s->npending == s->cappending) {
            size_t cap = s->cappending ? s->cappending * 2 : 16;
            void *p = realloc(s->pending, cap * sizeof(*s->pending));
            if (!p) break; /* the file stays as an orphan, swept at the next open */
            s->pending = p;
            s->cappending = cap;
        }
        memcpy(s->pending[s->npending].id, doomed->ids[i], STORE_BLOB_ID_LEN + 1);
        s->pending[s->npending++].txnid = txnid;
    }
    store_take_unlinkable(s, &now);
    pthread_mutex_unlock(&s->mu);
    store_idlist_unlink(s, &now);
    store_idlist_free(&now);
}

static void store_idlist_free(struct store_idlist *l)
{
    free(l->ids);
    l->ids = NULL;
    l->n = l->cap = 0;
}

/* Reads the pid written into the lock file by its holder, or 0. */
static long store_lock_holder(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    long pid;
    char *end;
    if (n <= 0) return 0;
    buf[n] = '\0';
    pid = strtol(buf, &end, 10);
    return pid > 0 ? pid : 0;
}

/* Opens every named db in one write txn, checking or writing the schema version. */
static int store_open_dbs(store *s, const char *shown, char *err, size_t errlen)
{
    MDB_txn *txn = NULL;
    char key[] = STORE_SCHEMA_KEY; /* MDB_val holds a non-const pointer */
    MDB_val k = {sizeof key - 1, key}, v;
    char want[16];
    int rc, ret = -1;

    rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc) {
        store_seterr(err, errlen, "data dir %s: cannot begin a transaction: %s", shown,
                     mdb_strerror(rc));
        goto out;
    }
    rc = mdb_dbi_open(txn, store_db_names[STORE_DB_META], 0, &s->dbi[STORE_DB_META]);
    if (rc == MDB_NOTFOUND) {
        /* No meta db: a fresh environment, unless something else lives in it. */
        MDB_dbi main_dbi;
        MDB_stat st;
        if (mdb_dbi_open(txn, NULL, 0, &main_dbi) != 0 || mdb_stat(txn, main_dbi, &st) != 0 ||
            st.ms_entries != 0) {
            store_seterr(err, errlen,
                         "data dir %s holds a database without a schema version; it was not "
                         "written by codepipeline-local",
                         shown);
            goto out;
        }
    } else if (rc) {
        store_seterr(err, errlen, "data dir %s: cannot open the meta database: %s", shown,
                     mdb_strerror(rc));
        goto out;
    } else {
        char got[32];
        rc = mdb_get(txn, s->dbi[STORE_DB_META], &k, &v);
        if (rc) {
            store_seterr(err, errlen, "data dir %s has no schema version", shown);
            goto out;
        }
        snprintf(got, sizeof(got), "%.*s", (int)(v.mv_size < 20 ? v.mv_size : 20),
                 (const char *)v.mv_data);
        for (char *p = got; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) *p = '?';
        snprintf(want, sizeof(want), "%d", STORE_SCHEMA_VERSION);
        if (strcmp(got, want) != 0) {
            store_seterr(err, errlen,
                         "data dir %s was written by schema version %s; this build reads "
                         "version %d",
                         shown, got, STORE_SCHEMA_VERSION);
            goto out;
        }
    }
    for (int i = 0; i < STORE_DB__COUNT; i++) {
        rc = mdb_dbi_open(txn, store_db_names[i], MDB_CREATE, &s->dbi[i]);
        if (rc) {
            store_seterr(err, errlen, "data dir %s: cannot open database %s: %s", shown,
                         store_db_names[i], mdb_strerror(rc));
            goto out;
        }
    }
    snprintf(want, sizeof(want), "%d", STORE_SCHEMA_VERSION);
    rc = mdb_get(txn, s->dbi[STORE_DB_META], &k, &v);
    if (rc == MDB_NOTFOUND) {
        v.mv_data = want;
        v.mv_size = strlen(want);
        rc = mdb_put(txn, s->dbi[STORE_DB_META], &k, &v, 0);
    }
    if (rc) {
        store_seterr(err, errlen, "data dir %s: cannot write the schema version: %s", shown,
                     mdb_strerror(rc));
        goto out;
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc) {
        store_seterr(err, errlen, "data dir %s: cannot initialise the database: %s", shown,
                     mdb_strerror(rc));
        goto out;
    }
    ret = 0;
out:
    if (txn) mdb_txn_abort(txn);
    return ret;
}

/* Removes every file in blobs/tmp and every blob file whose id the blobs db does not reference. */
static int store_sweep(store *s)
{
    MDB_txn *txn = NULL;
    DIR *top = NULL;
    struct dirent *de;
    int ret = -1, fd;

    fd = openat(s->blobsfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        DIR *tmp = fdopendir(fd);
        if (!tmp) {
            close(fd);
            goto out;
        }
        while ((de = readdir(tmp)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
            unlinkat(dirfd(tmp), de->d_name, 0);
        }
        closedir(tmp);
    }

    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0) goto out;
    fd = openat(s->blobsfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || !(top = fdopendir(fd))) {
        if (fd >= 0) close(fd);
        goto out;
    }
    while ((de = readdir(top)) != NULL) {
        DIR *sub;
        struct dirent *e;
        if (strlen(de->d_name) != 2 || !store_is_hex_id(de->d_name, 2)) continue;
        fd = openat(s->blobsfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) continue;
        if (!(sub = fdopendir(fd))) {
            close(fd);
            continue;
        }
        while ((e = readdir(sub)) != NULL) {
            MDB_val k, v;
            if (!store_valid_id(e->d_name) || memcmp(e->d_name, de->d_name, 2) != 0) continue;
            k.mv_data = e->d_name;
            k.mv_size = STORE_BLOB_ID_LEN;
            if (mdb_get(txn, s->dbi[STORE_DB_BLOBS], &k, &v) == MDB_NOTFOUND)
                unlinkat(dirfd(sub), e->d_name, 0);
        }
        closedir(sub);
    }
    ret = 0;
out:
    if (top) closedir(top);
    if (txn) mdb_txn_abort(txn);
    return ret;
}

int store_open(const struct store_options *opts, store **out, char *err, size_t errlen)
{
    store *s = NULL;
    const char *shown;
    char path[PATH_MAX];
    struct stat st;
    int rc, ret = -1;

    *out = NULL;
    if (!opts || !opts->dir || !*opts->dir) {
        store_seterr(err, errlen, "no data dir given");
        return -1;
    }
    shown = opts->dir;
    s = calloc(1, sizeof(*s));
    if (!s) {
        store_seterr(err, errlen, "out of memory");
        return -1;
    }
    s->dirfd = s->lockfd = s->blobsfd = -1;
    s->no_sync = opts->no_sync;
    pthread_mutex_init(&s->mu, NULL);

    if (stat(shown, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            store_seterr(err, errlen, "data dir %s is not a directory", shown);
            goto out;
        }
    } else if (store_mkdirs(shown) != 0) {
        store_seterr(err, errlen, "data dir %s cannot be created: %s", shown, strerror(errno));
        goto out;
    }
    s->dirfd = open(shown, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        store_seterr(err, errlen, "data dir %s cannot be opened: %s", shown, strerror(errno));
        goto out;
    }
    if (!realpath(shown, path) || !(s->dir = strdup(path))) {
        store_seterr(err, errlen, "data dir %s: cannot resolve its path: %s", shown,
                     strerror(errno));
        goto out;
    }

    /* The lock first: nothing below may run while another process uses the dir. */
    s->lockfd = openat(s->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (s->lockfd < 0) {
        store_seterr(err, errlen, "data dir %s is not writable: %s", shown, strerror(errno));
        goto out;
    }
    if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            long pid = store_lock_holder(s->lockfd);
            if (pid)
                store_seterr(err, errlen,
                             "data dir %s is in use by another codepipeline-local process "
                             "(pid %ld)",
                             shown, pid);
            else
                store_seterr(err, errlen,
                             "data dir %s is in use by another codepipeline-local process", shown);
        } else {
            store_seterr(err, errlen, "data dir %s cannot be locked: %s", shown, strerror(errno));
        }
        goto out;
    }
    {
        char pid[32];
        int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
        if (ftruncate(s->lockfd, 0) != 0 || pwrite(s->lockfd, pid, (size_t)n, 0) != n) {
            store_seterr(err, errlen, "data dir %s is not writable: %s", shown, strerror(errno));
            goto out;
        }
    }

    if (store_ensure_dirat(s->dirfd, "db") != 0 || store_ensure_dirat(s->dirfd, "blobs") != 0) {
        store_seterr(err, errlen, "data dir %s is not usable: %s", shown, strerror(errno));
        goto out;
    }
    s->blobsfd = openat(s->dirfd, "blobs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->blobsfd < 0 || store_ensure_dirat(s->blobsfd, "tmp") != 0) {
        store_seterr(err, errlen, "data dir %s is not usable: %s", shown, strerror(errno));
        goto out;
    }

    snprintf(path, sizeof(path), "%s/db", s->dir);
    if ((rc = mdb_env_create(&s->env)) != 0 ||
        (rc = mdb_env_set_mapsize(s->env,
                                  opts->map_size ? opts->map_size : STORE_DEFAULT_MAP_SIZE)) != 0 ||
        (rc = mdb_env_set_maxdbs(s->env, STORE_DB__COUNT + 1)) != 0 ||
        (rc = mdb_env_set_maxreaders(s->env, STORE_MAX_READERS)) != 0) {
        store_seterr(err, errlen, "data dir %s: cannot set up the database: %s", shown,
                     mdb_strerror(rc));
        goto out;
    }
    rc = mdb_env_open(s->env, path, MDB_NOTLS | (s->no_sync ? MDB_NOSYNC : 0), 0644);
    if (rc) {
        store_seterr(err, errlen, "data dir %s: cannot open the database: %s", shown,
                     mdb_strerror(rc));
        goto out;
    }
    {
        int dead; /* reader slots of crashed processes (we hold the dir, so all of them) */
        mdb_reader_check(s->env, &dead);
    }
    if (store_open_dbs(s, shown, err, errlen) != 0) goto out;
    if (store_sweep(s) != 0) {
        store_seterr(err, errlen, "data dir %s: cannot sweep the blob store: %s", shown,
                     strerror(errno));
        goto out;
    }
    *out = s;
    s = NULL;
    ret = 0;
out:
    store_close(s);
    return ret;
}

void store_close(store *s)
{
    if (!s) return;
    for (int i = 0; i < s->npool; i++)
        mdb_txn_abort(s->pool[i]);
    for (size_t i = 0; i < s->npending; i++) {
        char rel[STORE_BLOB_ID_LEN + 4];
        store_blob_relpath(s->pending[i].id, rel);
        unlinkat(s->blobsfd, rel, 0);
    }
    free(s->pending);
    free(s->readers);
    if (s->env) mdb_env_close(s->env);
    if (s->blobsfd >= 0) close(s->blobsfd);
    if (s->lockfd >= 0) close(s->lockfd); /* releases the flock */
    if (s->dirfd >= 0) close(s->dirfd);
    pthread_mutex_destroy(&s->mu);
    free(s->dir);
    free(s);
}

const char *store_dir(const store *s)
{
    return s->dir;
}

int store_txn_begin(store *s, int write, store_txn **out)
{
    store_txn *t = calloc(1, sizeof(*t));
    MDB_txn *txn = NULL;
    int rc;

    *out = NULL;
    if (!t) return STORE_ERROR;
    if (!write) {
        /* Taking the snapshot and registering it is one step under mu, so that a commit that
         * deletes a blob either sees this reader or happened before its snapshot. */
        pthread_mutex_lock(&s->mu);
        if (s->nreaders == s->capreaders) {
            size_t cap = s->capreaders ? s->capreaders * 2 : 16;
            void *p = realloc(s->readers, cap * sizeof(*s->readers));
            if (p) {
                s->readers = p;
                s->capreaders = cap;
            }
        }
        if (s->nreaders < s->capreaders) {
            if (s->npool > 0) txn = s->pool[--s->npool];
            if (txn && mdb_txn_renew(txn) != 0) {
                mdb_txn_abort(txn);
                txn = NULL;
            }
            if (!txn && mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0) txn = NULL;
            if (txn) s->readers[s->nreaders++] = mdb_txn_id(txn);
        }
        pthread_mutex_unlock(&s->mu);
        if (!txn) {
            free(t);
            return STORE_ERROR;
        }
    } else {
        rc = mdb_txn_begin(s->env, NULL, 0, &txn);
        if (rc) {
            free(t);
            return STORE_ERROR;
        }
    }
    t->s = s;
    t->txn = txn;
    t->write = write != 0;
    *out = t;
    return 0;
}

/* Detaches and closes every cursor of t (the store_cursor structs live on until closed). */
static void store_txn_drop_cursors(store_txn *t)
{
    store_cursor *c = t->cursors, *next;
    for (; c; c = next) {
        next = c->next;
        mdb_cursor_close(c->mc);
        c->mc = NULL;
        c->t = NULL;
        c->valid = 0;
        c->next = c->prev = NULL;
    }
    t->cursors = NULL;
}

/* Ends a read txn: back to the pool when there is room; then unlinks the deleted blobs that
 * only this snapshot could still see. */
static void store_txn_release_read(store *s, MDB_txn *txn)
{
    struct store_idlist now = {0};
    size_t id = mdb_txn_id(txn);
    mdb_txn_reset(txn);
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nreaders; i++) {
        if (s->readers[i] == id) {
            s->readers[i] = s->readers[--s->nreaders];
            break;
        }
    }
    if (s->npool < STORE_READ_POOL) {
        s->pool[s->npool++] = txn;
        txn = NULL;
    }
    if (s->npending) store_take_unlinkable(s, &now);
    pthread_mutex_unlock(&s->mu);
    if (txn) mdb_txn_abort(txn);
    store_idlist_unlink(s, &now);
    store_idlist_free(&now);
}

static void store_txn_free(store_txn *t)
{
    store_idlist_free(&t->created);
    store_idlist_free(&t->doomed);
    free(t);
}

int store_txn_commit(store_txn *t)
{
    int rc;
    if (!t) return STORE_ERROR;
    store_txn_drop_cursors(t);
    if (!t->write) {
        store_txn_release_read(t->s, t->txn);
        store_txn_free(t);
        return 0;
    }
    size_t txnid = mdb_txn_id(t->txn);
    if (t->failed) {
        rc = t->failed;
        mdb_txn_abort(t->txn);
    } else {
        rc = store_map_rc(mdb_txn_commit(t->txn));
        if (rc == STORE_NOTFOUND) rc = STORE_ERROR;
    }
    if (rc == 0) {
        if (t->doomed.n) store_unlink_after(t->s, &t->doomed, txnid);
    } else {
        store_idlist_unlink(t->s, &t->created);
    }
    store_txn_free(t);
    return rc;
}

void store_txn_abort(store_txn *t)
{
    if (!t) return;
    store_txn_drop_cursors(t);
    if (t->write) {
        mdb_txn_abort(t->txn);
        store_idlist_unlink(t->s, &t->created);
    } else {
        store_txn_release_read(t->s, t->txn);
    }
    store_txn_free(t);
}

static int store_db_ok(enum store_db db)
{
    return (int)db >= 0 && db < STORE_DB__COUNT;
}

/* Records the first failing write so that commit reports it. */
static int store_txn_fail(store_txn *t, int rc)
{
    if (rc != 0 && rc != STORE_NOTFOUND && !t->failed) t->failed = rc;
    return rc;
}

int store_get(store_txn *t, enum store_db db, const void *key, size_t klen, const void **val,
              size_t *vlen)
{
    MDB_val k = {klen, (void *)key}, v;
    int rc;
    if (!t || !store_db_ok(db)) return STORE_ERROR;
    if (klen == 0) return STORE_NOTFOUND;
    rc = mdb_get(t->txn, t->s->dbi[db], &k, &v);
    if (rc == MDB_BAD_VALSIZE) return STORE_NOTFOUND; /* a key too long to have been stored */
    rc = store_map_rc(rc);
    if (rc == 0) {
        *val = v.mv_data;
        *vlen = v.mv_size;
    }
    return rc;
}

static int store_put_flags(store_txn *t, enum store_db db, const void *key, size_t klen,
                           const void *val, size_t vlen, unsigned flags)
{
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    int rc;
    if (!t || !t->write || !store_db_ok(db)) return STORE_ERROR;
    if (t->failed) return t->failed;
    rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, flags);
    if (rc == MDB_KEYEXIST) return 1;
    if (rc == MDB_BAD_VALSIZE) return STORE_ERROR; /* empty or over-long key: txn still fine */
    rc = store_map_rc(rc);
    if (rc == STORE_NOTFOUND) rc = STORE_ERROR;
    return store_txn_fail(t, rc);
}

int store_put(store_txn *t, enum store_db db, const void *key, size_t klen, const void *val,
              size_t vlen)
{
    return store_put_flags(t, db, key, klen, val, vlen, 0);
}

int store_put_new(store_txn *t, enum store_db db, const void *key, size_t klen, const void *val,
                  size_t vlen)
{
    return store_put_flags(t, db, key, klen, val, vlen, MDB_NOOVERWRITE);
}

int store_del(store_txn *t, enum store_db db, const void *key, size_t klen)
{
    MDB_val k = {klen, (void *)key};
    int rc;
    if (!t || !t->write || !store_db_ok(db)) return STORE_ERROR;
    if (t->failed) return t->failed;
    rc = mdb_del(t->txn, t->s->dbi[db], &k, NULL);
    if (rc == MDB_BAD_VALSIZE) return STORE_NOTFOUND;
    return store_txn_fail(t, store_map_rc(rc));
}

int store_key(char *buf, size_t buflen, const char *account, const char *region, const char *name)
{
    int n = snprintf(buf, buflen, "%s/%s/%s", account, region, name);
    if (n < 0 || (size_t)n >= buflen) {
        if (buflen) buf[0] = '\0';
        return -1;
    }
    return n;
}

int store_cursor_open(store_txn *t, enum store_db db, store_cursor **out)
{
    store_cursor *c;
    *out = NULL;
    if (!t || !store_db_ok(db)) return STORE_ERROR;
    c = calloc(1, sizeof(*c));
    if (!c) return STORE_ERROR;
    if (mdb_cursor_open(t->txn, t->s->dbi[db], &c->mc) != 0) {
        free(c);
        return STORE_ERROR;
    }
    c->t = t;
    c->next = t->cursors;
    if (t->cursors) t->cursors->prev = c;
    t->cursors = c;
    *out = c;
    return 0;
}

int store_cursor_seek(store_cursor *c, const void *key, size_t klen)
{
    int rc;
    if (!c || !c->mc) return STORE_NOTFOUND;
    if (key && klen) {
        c->k.mv_data = (void *)key;
        c->k.mv_size = klen;
        rc = mdb_cursor_get(c->mc, &c->k, &c->v, MDB_SET_RANGE);
    } else {
        rc = mdb_cursor_get(c->mc, &c->k, &c->v, MDB_FIRST);
    }
    c->valid = rc == 0;
    return rc == 0 ? 0 : STORE_NOTFOUND;
}

int store_cursor_prev(store_cursor *c)
{
    int rc;
    if (!c || !c->mc) return STORE_NOTFOUND;
    /* After a seek that found no key >= the one asked, the previous key is the last one. */
    rc = mdb_cursor_get(c->mc, &c->k, &c->v, c->valid ? MDB_PREV : MDB_LAST);
    c->valid = rc == 0;
    return rc == 0 ? 0 : STORE_NOTFOUND;
}

int store_cursor_next(store_cursor *c)
{
    int rc;
    if (!c || !c->mc || !c->valid) return STORE_NOTFOUND;
    rc = mdb_cursor_get(c->mc, &c->k, &c->v, MDB_NEXT);
    c->valid = rc == 0;
    return rc == 0 ? 0 : STORE_NOTFOUND;
}

void store_cursor_get(store_cursor *c, const void **key, size_t *klen, const void **val,
                      size_t *vlen)
{
    int ok = c && c->valid;
    if (key) *key = ok ? c->k.mv_data : NULL;
    if (klen) *klen = ok ? c->k.mv_size : 0;
    if (val) *val = ok ? c->v.mv_data : NULL;
    if (vlen) *vlen = ok ? c->v.mv_size : 0;
}

void store_cursor_close(store_cursor *c)
{
    if (!c) return;
    if (c->t) {
        if (c->prev)
            c->prev->next = c->next;
        else
            c->t->cursors = c->next;
        if (c->next) c->next->prev = c->prev;
        mdb_cursor_close(c->mc);
    }
    free(c);
}

int store_blob_create(store *s, store_blob_writer **out)
{
    store_blob_writer *w = calloc(1, sizeof(*w));
    char rnd[STORE_BLOB_ID_LEN + 1];
    *out = NULL;
    if (!w) return STORE_ERROR;
    w->s = s;
    w->buf = malloc(STORE_BLOB_BUF);
    if (!w->buf || store_random_id(rnd) != 0) goto fail;
    snprintf(w->tmpname, sizeof(w->tmpname), "tmp/%s", rnd);
    w->fd = openat(s->blobsfd, w->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0) goto fail;
    *out = w;
    return 0;
fail:
    free(w->buf);
    free(w);
    return STORE_ERROR;
}

static int store_blob_flush(store_blob_writer *w)
{
    if (w->buflen == 0) return 0;
    if (store_write_all(w->fd, w->buf, w->buflen) != 0) return STORE_ERROR;
    w->buflen = 0;
    return 0;
}

int store_blob_write(store_blob_writer *w, const void *data, size_t len)
{
    if (!w || w->fd < 0) return STORE_ERROR;
    if (len == 0) return 0;
    w->synced = 0;
    if (w->buflen + len <= STORE_BLOB_BUF) {
        memcpy(w->buf + w->buflen, data, len);
        w->buflen += len;
    } else {
        if (store_blob_flush(w) != 0) return STORE_ERROR;
        if (len >= STORE_BLOB_BUF) {
            if (store_write_all(w->fd, data, len) != 0) return STORE_ERROR;
        } else {
            memcpy(w->buf, data, len);
            w->buflen = len;
        }
    }
    w->size += len;
    return 0;
}

uint64_t store_blob_size(const store_blob_writer *w)
{
    return w ? w->size : 0;
}

int store_blob_sync(store_blob_writer *w)
{
    if (!w || w->fd < 0) return STORE_ERROR;
    if (w->synced) return 0;
    if (store_blob_flush(w) != 0) return STORE_ERROR;
    if (!w->s->no_sync && fdatasync(w->fd) != 0) return STORE_ERROR;
    w->synced = 1;
    return 0;
}

int store_blob_commit(store_txn *t, store_blob_writer *w, char id[STORE_BLOB_ID_LEN + 1])
{
    store *s;
    char newid[STORE_BLOB_ID_LEN + 1], rel[STORE_BLOB_ID_LEN + 4], sub[3];
    unsigned char sizebuf[8];
    MDB_val k, v;
    int rc = STORE_ERROR, renamed = 0, made;
    unsigned slot;

    if (!w) return STORE_ERROR;
    s = w->s;
    if (!t || !t->write || t->s != s || t->failed) {
        if (t && t->failed) rc = t->failed;
        goto out;
    }
    if (store_blob_sync(w) != 0) goto out;
    if (close(w->fd) != 0) {
        w->fd = -1;
        goto out;
    }
    w->fd = -1;
    if (store_random_id(newid) != 0) goto out;
    memcpy(sub, newid, 2);
    sub[2] = '\0';
    slot = (unsigned)strtoul(sub, NULL, 16);
    if (!__atomic_load_n(&s->subdir_ok[slot], __ATOMIC_ACQUIRE)) {
        made = mkdirat(s->blobsfd, sub, 0755) == 0;
        if (!made && errno != EEXIST) goto out;
        if (made && !s->no_sync && fsync(s->blobsfd) != 0) goto out;
        __atomic_store_n(&s->subdir_ok[slot], 1, __ATOMIC_RELEASE);
    }
    store_blob_relpath(newid, rel);
    if (renameat(s->blobsfd, w->tmpname, s->blobsfd, rel) != 0) goto out;
    renamed = 1;
    if (!s->no_sync && store_fsync_dirat(s->blobsfd, sub) != 0) goto out;

    for (int i = 0; i < 8; i++)
        sizebuf[i] = (unsigned char)(w->size >> (8 * i));
    k.mv_data = newid;
    k.mv_size = STORE_BLOB_ID_LEN;
    v.mv_data = sizebuf;
    v.mv_size = sizeof(sizebuf);
    rc = store_map_rc(mdb_put(t->txn, s->dbi[STORE_DB_BLOBS], &k, &v, MDB_NOOVERWRITE));
    if (rc != 0) {
        if (rc == STORE_NOTFOUND) rc = STORE_ERROR;
        if (rc == STORE_FULL) store_txn_fail(t, rc);
        goto out;
    }
    if (store_idlist_add(&t->created, newid) != 0) {
        /* Without the record, an abort could not remove the file: undo the put. */
        mdb_del(t->txn, s->dbi[STORE_DB_BLOBS], &k, NULL);
        rc = STORE_ERROR;
        goto out;
    }
    memcpy(id, newid, STORE_BLOB_ID_LEN + 1);
    rc = 0;
out:
    if (rc != 0) {
        if (renamed)
            unlinkat(s->blobsfd, rel, 0);
        else
            unlinkat(s->blobsfd, w->tmpname, 0);
    }
    if (w->fd >= 0) close(w->fd);
    free(w->buf);
    free(w);
    return rc;
}

void store_blob_discard(store_blob_writer *w)
{
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    unlinkat(w->s->blobsfd, w->tmpname, 0);
    free(w->buf);
    free(w);
}

int store_blob_open(store *s, const char *id)
{
    char rel[STORE_BLOB_ID_LEN + 4];
    if (!s || !store_valid_id(id)) return -1;
    store_blob_relpath(id, rel);
    return openat(s->blobsfd, rel, O_RDONLY | O_CLOEXEC);
}

int64_t store_blob_stat(store *s, const char *id)
{
    char rel[STORE_BLOB_ID_LEN + 4];
    struct stat st;
    if (!s || !store_valid_id(id)) return -1;
    store_blob_relpath(id, rel);
    if (fstatat(s->blobsfd, rel, &st, 0) != 0 || !S_ISREG(st.st_mode)) return -1;
    return (int64_t)st.st_size;
}

int store_blob_delete(store_txn *t, const char *id)
{
    MDB_val k;
    int rc;
    if (!t || !t->write || !store_valid_id(id)) return STORE_NOTFOUND;
    if (t->failed) return t->failed;
    k.mv_data = (void *)id;
    k.mv_size = STORE_BLOB_ID_LEN;
    rc = store_map_rc(mdb_del(t->txn, t->s->dbi[STORE_DB_BLOBS], &k, NULL));
    if (rc != 0) return rc == STORE_NOTFOUND ? rc : store_txn_fail(t, rc);
    if (store_idlist_add(&t->doomed, id) != 0) return store_txn_fail(t, STORE_ERROR);
    return 0;
}

int store_blob_path(store *s, const char *id, char *buf, size_t buflen)
{
    int n;
    if (!s || !store_valid_id(id)) return -1;
    n = snprintf(buf, buflen, "%s/blobs/%.2s/%s", s->dir, id, id);
    if (n < 0 || (size_t)n >= buflen) return -1;
    return n;
}
