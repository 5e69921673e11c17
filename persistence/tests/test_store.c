/* Tests of the LMDB store: records, cursors, txns, data dir lock and schema, blobs and crashes. */
#include "persistence/store.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tdir[128];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void make_tdir(void)
{
    snprintf(tdir, sizeof(tdir), "/tmp/cpl-store-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tdir));
}

static void remove_tdir(void)
{
    if (tdir[0]) nftw(tdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(store, .init = make_tdir, .fini = remove_tdir);

static store *open_opts(const char *dir, int no_sync, size_t map_size)
{
    struct store_options o = {.dir = dir, .map_size = map_size, .no_sync = no_sync};
    char err[512] = "";
    store *s = NULL;
    int rc = store_open(&o, &s, err, sizeof(err));
    cr_assert_eq(rc, 0, "store_open failed: %s", err);
    cr_assert_not_null(s);
    return s;
}

static store *open_store(void)
{
    return open_opts(tdir, 1, 0);
}

static int try_open(const char *dir, char *err, size_t errlen)
{
    struct store_options o = {.dir = dir, .no_sync = 1};
    store *s = NULL;
    int rc = store_open(&o, &s, err, errlen);
    if (rc == 0) store_close(s);
    return rc;
}

static void put_str(store *s, enum store_db db, const char *k, const char *v)
{
    store_txn *t;
    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    cr_assert_eq(store_put(t, db, k, strlen(k), v, strlen(v)), 0);
    cr_assert_eq(store_txn_commit(t), 0);
}

/* Returns the value of k as a malloc'ed string, or NULL when absent. */
static char *get_str(store *s, enum store_db db, const char *k)
{
    store_txn *t;
    const void *v;
    size_t vl;
    char *out = NULL;
    cr_assert_eq(store_txn_begin(s, 0, &t), 0);
    int rc = store_get(t, db, k, strlen(k), &v, &vl);
    cr_assert(rc == 0 || rc == STORE_NOTFOUND);
    if (rc == 0) out = strndup(v, vl);
    store_txn_abort(t);
    return out;
}

static int count_files(const char *sub)
{
    char path[PATH_MAX];
    DIR *d;
    struct dirent *e;
    int n = 0;
    snprintf(path, sizeof(path), "%s/%s", tdir, sub);
    d = opendir(path);
    if (!d) return 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* Blob files in blobs/<xx>/ directories. */
static int count_blob_files(void)
{
    char path[PATH_MAX];
    DIR *d;
    struct dirent *e;
    int n = 0;
    snprintf(path, sizeof(path), "%s/blobs", tdir);
    d = opendir(path);
    cr_assert_not_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strlen(e->d_name) != 2 || e->d_name[0] == '.') continue;
        char sub[300];
        snprintf(sub, sizeof(sub), "blobs/%s", e->d_name);
        n += count_files(sub);
    }
    closedir(d);
    return n;
}

static int count_entries(store *s, enum store_db db)
{
    store_txn *t;
    store_cursor *c;
    int n = 0;
    cr_assert_eq(store_txn_begin(s, 0, &t), 0);
    cr_assert_eq(store_cursor_open(t, db, &c), 0);
    for (int rc = store_cursor_seek(c, NULL, 0); rc == 0; rc = store_cursor_next(c))
        n++;
    store_cursor_close(c);
    store_txn_abort(t);
    return n;
}

static void blob_fill(unsigned char *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)((i * 31 + seed * 7) ^ (i >> 8));
}

static void write_blob(store_txn *t, store *s, const void *data, size_t len, char id[33])
{
    store_blob_writer *w;
    cr_assert_eq(store_blob_create(s, &w), 0);
    cr_assert_eq(store_blob_write(w, data, len), 0);
    cr_assert_eq(store_blob_commit(t, w, id), 0);
}

/* Reads the whole blob; asserts it equals want. */
static void assert_blob(store *s, const char *id, const unsigned char *want, size_t len)
{
    unsigned char *got = malloc(len + 1);
    size_t off = 0;
    ssize_t n;
    int fd = store_blob_open(s, id);
    cr_assert_geq(fd, 0, "blob %s not readable", id);
    while ((n = read(fd, got + off, len + 1 - off)) > 0)
        off += (size_t)n;
    close(fd);
    cr_assert_eq(off, len, "blob %s has %zu bytes, want %zu", id, off, len);
    cr_assert_eq(memcmp(got, want, len), 0, "blob %s content differs", id);
    cr_assert_eq(store_blob_stat(s, id), (int64_t)len);
    free(got);
}

Test(store, put_get_put_new_del)
{
    store *s = open_store();
    store_txn *t;
    const void *v;
    size_t vl;

    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    cr_assert_eq(store_put(t, STORE_DB_CP_PIPELINES, "k1", 2, "v1", 2), 0);
    cr_assert_eq(store_get(t, STORE_DB_CP_PIPELINES, "k1", 2, &v, &vl), 0);
    cr_assert_eq(vl, 2);
    cr_assert_eq(memcmp(v, "v1", 2), 0);
    cr_assert_eq(store_put(t, STORE_DB_CP_PIPELINES, "k1", 2, "v2x", 3), 0, "put overwrites");
    cr_assert_eq(store_put_new(t, STORE_DB_CP_PIPELINES, "k1", 2, "zz", 2), 1);
    cr_assert_eq(store_put_new(t, STORE_DB_CP_PIPELINES, "k2", 2, "n2", 2), 0);
    cr_assert_eq(store_get(t, STORE_DB_CP_TAGS, "k1", 2, &v, &vl), STORE_NOTFOUND,
                 "databases are separate");
    cr_assert_eq(store_txn_commit(t), 0);

    char *got = get_str(s, STORE_DB_CP_PIPELINES, "k1");
    cr_assert_str_eq(got, "v2x", "put_new must not overwrite");
    free(got);
    got = get_str(s, STORE_DB_CP_PIPELINES, "k2");
    cr_assert_str_eq(got, "n2");
    free(got);

    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    cr_assert_eq(store_del(t, STORE_DB_CP_PIPELINES, "k1", 2), 0);
    cr_assert_eq(store_del(t, STORE_DB_CP_PIPELINES, "k1", 2), STORE_NOTFOUND);
    cr_assert_eq(store_get(t, STORE_DB_CP_PIPELINES, "k1", 2, &v, &vl), STORE_NOTFOUND);
    cr_assert_eq(store_txn_commit(t), 0);
    cr_assert_null(get_str(s, STORE_DB_CP_PIPELINES, "k1"));

    /* Writes in a read txn are refused; an over-long key is an error, not a crash. */
    char big[600];
    memset(big, 'k', sizeof(big));
    cr_assert_eq(store_txn_begin(s, 0, &t), 0);
    cr_assert_eq(store_put(t, STORE_DB_CP_PIPELINES, "k3", 2, "v", 1), STORE_ERROR);
    cr_assert_eq(store_get(t, STORE_DB_CP_PIPELINES, big, sizeof(big), &v, &vl), STORE_NOTFOUND);
    store_txn_abort(t);
    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    cr_assert_eq(store_put(t, STORE_DB_CP_PIPELINES, big, sizeof(big), "v", 1), STORE_ERROR);
    cr_assert_eq(store_put(t, STORE_DB_CP_PIPELINES, "k4", 2, "v", 1), 0,
                 "an over-long key leaves the txn usable");
    cr_assert_eq(store_txn_commit(t), 0);
    store_close(s);
}

Test(store, key_is_account_region_name)
{
    char buf[64];
    cr_assert_eq(store_key(buf, sizeof(buf), "123456789012", "us-east-1", "pipe"), 27);
    cr_assert_str_eq(buf, "123456789012/us-east-1/pipe");
    cr_assert_eq(store_key(buf, 10, "123456789012", "us-east-1", "pipe"), -1);
    cr_assert_eq(store_key(buf, 28, "123456789012", "us-east-1", "pipe"), 27, "exact fit");
}

Test(store, cursor_seeks_and_walks_one_account_region)
{
    store *s = open_store();
    store_txn *t;
    store_cursor *c;
    const char *keys[] = {"111/us-east-1/b", "111/us-east-1/a", "111/us-east-1/c",
                          "111/us-west-2/a", "110/us-east-1/z", "222/us-east-1/a"};
    char prefix[64];
    int plen = store_key(prefix, sizeof(prefix), "111", "us-east-1", "");

    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        cr_assert_eq(store_put(t, STORE_DB_CP_PIPELINES, keys[i], strlen(keys[i]), keys[i], 3), 0);
    cr_assert_eq(store_txn_commit(t), 0);

    cr_assert_eq(store_txn_begin(s, 0, &t), 0);
    cr_assert_eq(store_cursor_open(t, STORE_DB_CP_PIPELINES, &c), 0);
    const char *want[] = {"111/us-east-1/a", "111/us-east-1/b", "111/us-east-1/c"};
    int n = 0;
    for (int rc = store_cursor_seek(c, prefix, (size_t)plen); rc == 0; rc = store_cursor_next(c)) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (kl < (size_t)plen || memcmp(k, prefix, (size_t)plen) != 0) break;
        cr_assert_lt(n, 3);
        cr_assert_eq(kl, strlen(want[n]));
        cr_assert_eq(memcmp(k, want[n], kl), 0, "key %d out of order", n);
        cr_assert_eq(vl, 3);
        n++;
    }
    cr_assert_eq(n, 3);

    cr_assert_eq(store_cursor_seek(c, NULL, 0), 0);
    const void *k;
    size_t kl;
    store_cursor_get(c, &k, &kl, NULL, NULL);
    cr_assert_eq(memcmp(k, "110/us-east-1/z", kl), 0, "NULL seeks to the first key");
    cr_assert_eq(store_cursor_seek(c, "333", 3), STORE_NOTFOUND, "nothing at or after 333");
    cr_assert_eq(store_cursor_next(c), STORE_NOTFOUND);
    store_cursor_close(c);
    store_txn_abort(t);

    /* A cursor may outlive its write txn: closing it afterwards is safe. */
    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    cr_assert_eq(store_cursor_open(t, STORE_DB_CP_PIPELINES, &c), 0);
    cr_assert_eq(store_cursor_seek(c, NULL, 0), 0);
    cr_assert_eq(store_txn_commit(t), 0);
    cr_assert_eq(store_cursor_next(c), STORE_NOTFOUND, "an ended txn's cursor is dead");
    store_cursor_close(c);
    store_close(s);
}

Test(store, abort_discards_writes)
{
    store *s = open_store();
    store_txn *t;
    put_str(s, STORE_DB_S3_BUCKETS, "keep", "1");
    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    cr_assert_eq(store_put(t, STORE_DB_S3_BUCKETS, "gone", 4, "x", 1), 0);
    cr_assert_eq(store_del(t, STORE_DB_S3_BUCKETS, "keep", 4), 0);
    store_txn_abort(t);
    cr_assert_null(get_str(s, STORE_DB_S3_BUCKETS, "gone"));
    char *v = get_str(s, STORE_DB_S3_BUCKETS, "keep");
    cr_assert_str_eq(v, "1");
    free(v);
    store_close(s);
}

Test(store, data_survive_close_and_reopen)
{
    store *s = open_opts(tdir, 0, 0);
    put_str(s, STORE_DB_CC_REPOS, "123/us-east-1/repo", "{\"a\":1}");
    cr_assert_str_eq(store_dir(s), tdir);
    store_close(s);
    s = open_opts(tdir, 0, 0);
    char *v = get_str(s, STORE_DB_CC_REPOS, "123/us-east-1/repo");
    cr_assert_str_eq(v, "{\"a\":1}");
    free(v);
    v = get_str(s, STORE_DB_META, "schema_version");
    cr_assert_str_eq(v, "1");
    free(v);
    store_close(s);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    cr_assert_not_null(f, "cannot read %s", path);
    do {
        if (n == cap) buf = realloc(buf, cap = cap ? cap * 2 : 65536);
        r = fread(buf + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *len = n;
    return buf;
}

Test(store, other_schema_version_refused_and_untouched)
{
    store *s = open_store();
    char err[512], want[600], path[PATH_MAX + 32];
    put_str(s, STORE_DB_CP_PIPELINES, "p", "data");
    put_str(s, STORE_DB_META, "schema_version", "2");
    store_close(s);

    snprintf(path, sizeof(path), "%s/blobs/tmp/stray", tdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/db/data.mdb", tdir);
    size_t before_len, after_len;
    char *before = slurp(path, &before_len);

    cr_assert_eq(try_open(tdir, err, sizeof(err)), -1);
    snprintf(want, sizeof(want),
             "data dir %s was written by schema version 2; this build reads version 1", tdir);
    cr_assert_str_eq(err, want);

    char *after = slurp(path, &after_len);
    cr_assert_eq(before_len, after_len);
    cr_assert_eq(memcmp(before, after, before_len), 0, "the database was modified");
    cr_assert_eq(count_files("blobs/tmp"), 1, "the sweep must not run");
    free(before);
    free(after);
}

Test(store, second_open_of_a_dir_refused)
{
    int up[2], down[2];
    char c, err[512], want[600];
    cr_assert_eq(pipe(up), 0);
    cr_assert_eq(pipe(down), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct store_options o = {.dir = tdir, .no_sync = 1};
        store *s;
        char e[256];
        if (store_open(&o, &s, e, sizeof(e)) != 0) _exit(2);
        if (write(up[1], "k", 1) != 1) _exit(3);
        if (read(down[0], &c, 1) != 1) _exit(4);
        store_close(s);
        _exit(0);
    }
    cr_assert_eq(read(up[0], &c, 1), 1, "the child could not open the store");

    cr_assert_eq(try_open(tdir, err, sizeof(err)), -1);
    snprintf(want, sizeof(want),
             "data dir %s is in use by another codepipeline-local process (pid %ld)", tdir,
             (long)pid);
    cr_assert_str_eq(err, want);

    cr_assert_eq(write(down[1], "k", 1), 1);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert_eq(try_open(tdir, err, sizeof(err)), 0, "the lock goes with its holder: %s", err);

    /* The same process cannot open a dir twice either. */
    store *s = open_store();
    cr_assert_eq(try_open(tdir, err, sizeof(err)), -1);
    store_close(s);
}

Test(store, unusable_data_dir_refused)
{
    char path[256], sub[384], err[1024], want[1024];
    snprintf(path, sizeof(path), "%s/afile", tdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);

    cr_assert_eq(try_open(path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "data dir %s is not a directory", path);
    cr_assert_str_eq(err, want);

    snprintf(sub, sizeof(sub), "%s/sub", path);
    cr_assert_eq(try_open(sub, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "data dir %s cannot be created: Not a directory", sub);
    cr_assert_str_eq(err, want);

    /* A data dir whose db is a file. */
    snprintf(sub, sizeof(sub), "%s/d2", tdir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    snprintf(path, sizeof(path), "%s/d2/db", tdir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_eq(try_open(sub, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "data dir %s is not usable: Not a directory", sub);
    cr_assert_str_eq(err, want);

    struct store_options o = {0};
    store *s;
    cr_assert_eq(store_open(&o, &s, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "no data dir given");

    /* Missing parents are created. */
    snprintf(sub, sizeof(sub), "%s/a/b/c", tdir);
    cr_assert_eq(try_open(sub, err, sizeof(err)), 0, "%s", err);
}

Test(store, blob_commit_then_read_back)
{
    store *s = open_opts(tdir, 0, 0);
    size_t len = 300 * 1000 + 7;
    unsigned char *data = malloc(len);
    store_blob_writer *w;
    store_txn *t;
    char id[33], path[PATH_MAX + 64];
    blob_fill(data, len, 1);

    cr_assert_eq(store_blob_create(s, &w), 0);
    /* Small, medium and large writes exercise the buffer and the direct path. */
    size_t off = 0, steps[] = {1, 100, 4096, 70000, 65535, 65536, 1};
    for (size_t i = 0; off < len; i = (i + 1) % 7) {
        size_t n = steps[i] < len - off ? steps[i] : len - off;
        cr_assert_eq(store_blob_write(w, data + off, n), 0);
        off += n;
        cr_assert_eq(store_blob_size(w), off);
    }
    cr_assert_eq(count_files("blobs/tmp"), 1);
    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    cr_assert_eq(store_blob_commit(t, w, id), 0);
    cr_assert_eq(strlen(id), 32);
    cr_assert_eq(store_txn_commit(t), 0);
    cr_assert_eq(count_files("blobs/tmp"), 0);
    assert_blob(s, id, data, len);

    cr_assert_gt(store_blob_path(s, id, path, sizeof(path)), 0);
    cr_assert_eq(path[0], '/');
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq((size_t)st.st_size, len);
    cr_assert_eq(store_blob_path(s, id, path, 10), -1);
    cr_assert_eq(store_blob_open(s, "../../etc/passwd"), -1, "ids are validated");
    cr_assert_eq(store_blob_stat(s, "0123456789abcdef0123456789abcdeg"), -1);

    /* An empty blob is a blob. */
    cr_assert_eq(store_blob_create(s, &w), 0);
    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    cr_assert_eq(store_blob_commit(t, w, id), 0);
    cr_assert_eq(store_txn_commit(t), 0);
    cr_assert_eq(store_blob_stat(s, id), 0);

    store_close(s);
    s = open_store();
    cr_assert_eq(count_blob_files(), 2, "committed blobs survive the sweep");
    store_close(s);
    free(data);
}

Test(store, blob_discard_leaves_nothing)
{
    store *s = open_store();
    store_blob_writer *w;
    cr_assert_eq(store_blob_create(s, &w), 0);
    cr_assert_eq(store_blob_write(w, "hello", 5), 0);
    cr_assert_eq(count_files("blobs/tmp"), 1);
    store_blob_discard(w);
    store_blob_discard(NULL);
    cr_assert_eq(count_files("blobs/tmp"), 0);
    cr_assert_eq(count_blob_files(), 0);
    cr_assert_eq(count_entries(s, STORE_DB_BLOBS), 0);
    store_close(s);
}

Test(store, blob_delete_unlinks_only_after_commit)
{
    store *s = open_store();
    store_txn *t;
    char id[33];
    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    write_blob(t, s, "abc", 3, id);
    cr_assert_eq(store_txn_commit(t), 0);

    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    cr_assert_eq(store_blob_delete(t, id), 0);
    cr_assert_eq(store_blob_stat(s, id), 3, "still there before the commit");
    store_txn_abort(t);
    cr_assert_eq(store_blob_stat(s, id), 3, "an aborted delete keeps the file");
    cr_assert_eq(count_entries(s, STORE_DB_BLOBS), 1);

    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    cr_assert_eq(store_blob_delete(t, id), 0);
    cr_assert_eq(store_blob_delete(t, id), STORE_NOTFOUND);
    cr_assert_eq(store_blob_stat(s, id), 3);
    cr_assert_eq(store_txn_commit(t), 0);
    cr_assert_eq(store_blob_stat(s, id), -1, "gone after the commit");
    cr_assert_eq(store_blob_open(s, id), -1);
    cr_assert_eq(count_entries(s, STORE_DB_BLOBS), 0);

    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    cr_assert_eq(store_blob_delete(t, id), STORE_NOTFOUND);
    store_txn_abort(t);
    store_close(s);
}

Test(store, deleted_blob_stays_readable_for_older_snapshots)
{
    store *s = open_store();
    store_txn *t, *old, *newer;
    const void *v;
    size_t vl;
    char id[33];
    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    write_blob(t, s, "abc", 3, id);
    cr_assert_eq(store_put(t, STORE_DB_S3_OBJECTS, "o", 1, id, 32), 0);
    cr_assert_eq(store_txn_commit(t), 0);

    cr_assert_eq(store_txn_begin(s, 0, &old), 0);
    cr_assert_eq(store_get(old, STORE_DB_S3_OBJECTS, "o", 1, &v, &vl), 0);

    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    cr_assert_eq(store_del(t, STORE_DB_S3_OBJECTS, "o", 1), 0);
    cr_assert_eq(store_blob_delete(t, id), 0);
    cr_assert_eq(store_txn_commit(t), 0);

    cr_assert_eq(store_blob_stat(s, id), 3, "a reader that found the record can open the blob");
    cr_assert_eq(store_txn_begin(s, 0, &newer), 0);
    cr_assert_eq(store_get(newer, STORE_DB_S3_OBJECTS, "o", 1, &v, &vl), STORE_NOTFOUND);
    store_txn_abort(newer);
    cr_assert_eq(store_blob_stat(s, id), 3, "a newer reader does not release it");
    store_txn_abort(old);
    cr_assert_eq(store_blob_stat(s, id), -1, "the last older reader releases it");
    store_close(s);
}

struct swap_arg {
    store *s;
    int stop;
    int failures;
};

static void *swap_reader(void *p)
{
    struct swap_arg *a = p;
    while (!__atomic_load_n(&a->stop, __ATOMIC_RELAXED)) {
        store_txn *t;
        const void *v;
        size_t vl;
        char id[33];
        if (store_txn_begin(a->s, 0, &t) != 0) {
            __atomic_fetch_add(&a->failures, 1, __ATOMIC_RELAXED);
            break;
        }
        if (store_get(t, STORE_DB_S3_OBJECTS, "o", 1, &v, &vl) == 0 && vl == 32) {
            memcpy(id, v, 32);
            id[32] = '\0';
            int fd = store_blob_open(a->s, id);
            if (fd < 0)
                __atomic_fetch_add(&a->failures, 1, __ATOMIC_RELAXED);
            else
                close(fd);
        }
        store_txn_abort(t);
    }
    return NULL;
}

Test(store, readers_never_miss_the_blob_of_a_record_being_replaced)
{
    store *s = open_store();
    struct swap_arg a = {.s = s};
    pthread_t th[2];
    char id[33] = "", newid[33];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, swap_reader, &a), 0);
    for (int i = 0; i < 300; i++) {
        store_txn *t;
        cr_assert_eq(store_txn_begin(s, 1, &t), 0);
        write_blob(t, s, "data", 4, newid);
        cr_assert_eq(store_put(t, STORE_DB_S3_OBJECTS, "o", 1, newid, 32), 0);
        if (id[0]) cr_assert_eq(store_blob_delete(t, id), 0);
        cr_assert_eq(store_txn_commit(t), 0);
        memcpy(id, newid, sizeof(id));
    }
    __atomic_store_n(&a.stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(a.failures, 0, "a reader found a record whose blob was already gone");
    cr_assert_eq(count_blob_files(), 1, "replaced blobs are all unlinked once readers end");
    store_close(s);
}

Test(store, blob_of_aborted_txn_removed)
{
    store *s = open_store();
    store_txn *t;
    char id[33];
    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    write_blob(t, s, "abc", 3, id);
    cr_assert_eq(store_blob_stat(s, id), 3);
    store_txn_abort(t);
    cr_assert_eq(store_blob_stat(s, id), -1);
    cr_assert_eq(count_blob_files(), 0);
    store_close(s);
}

Test(store, orphan_of_a_crash_before_commit_is_swept)
{
    int fds[2];
    char id[33] = "";
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct store_options o = {.dir = tdir};
        store *s;
        store_txn *t;
        store_blob_writer *w;
        char e[256], cid[33];
        if (store_open(&o, &s, e, sizeof(e)) != 0 || store_txn_begin(s, 1, &t) != 0 ||
            store_blob_create(s, &w) != 0 || store_blob_write(w, "orphan", 6) != 0 ||
            store_blob_commit(t, w, cid) != 0)
            _exit(2);
        if (write(fds[1], cid, 32) != 32) _exit(3);
        _exit(0); /* dies between the rename and the LMDB commit */
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert_eq(read(fds[0], id, 32), 32);

    char path[PATH_MAX + 64];
    struct stat st;
    snprintf(path, sizeof(path), "%s/blobs/%.2s/%s", tdir, id, id);
    cr_assert_eq(stat(path, &st), 0, "the orphan exists before the sweep");
    cr_assert_eq(count_blob_files(), 1);

    store *s = open_store();
    cr_assert_eq(stat(path, &st), -1, "the orphan was swept");
    cr_assert_eq(store_blob_stat(s, id), -1);
    cr_assert_eq(count_blob_files(), 0);
    store_close(s);
}

Test(store, temp_files_swept_at_open)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* A writer that never finishes: its process dies with a temp file. */
        struct store_options o = {.dir = tdir, .no_sync = 1};
        store *cs;
        store_blob_writer *w;
        char e[256];
        if (store_open(&o, &cs, e, sizeof(e)) != 0 || store_blob_create(cs, &w) != 0 ||
            store_blob_write(w, "partial", 7) != 0 || store_blob_sync(w) != 0)
            _exit(2);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cr_assert_eq(count_files("blobs/tmp"), 1);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/blobs/tmp/other", tdir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    /* Files that are not blob ids are left alone in blob dirs. */
    snprintf(path, sizeof(path), "%s/blobs/ab", tdir);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/blobs/ab/README", tdir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_eq(count_files("blobs/tmp"), 2);

    store *s = open_store();
    cr_assert_eq(count_files("blobs/tmp"), 0);
    cr_assert_eq(count_files("blobs/ab"), 1);
    store_close(s);
}

/* The child commits record i with a blob of i-derived bytes, reporting each commit on fd. */
#define CRASH_BLOB_LEN 3000
static void crash_child(int fd, int no_sync, int stop_after)
{
    struct store_options o = {.dir = tdir, .no_sync = no_sync};
    store *s;
    char e[256];
    unsigned char data[CRASH_BLOB_LEN];
    if (store_open(&o, &s, e, sizeof(e)) != 0) _exit(2);
    for (int i = 0;; i++) {
        store_txn *t;
        store_blob_writer *w;
        char id[33], key[64], val[64];
        blob_fill(data, sizeof(data), (unsigned)i);
        if (store_blob_create(s, &w) != 0 || store_blob_write(w, data, sizeof(data)) != 0) _exit(3);
        if (store_txn_begin(s, 1, &t) != 0 || store_blob_commit(t, w, id) != 0) _exit(4);
        int kl = snprintf(key, sizeof(key), "111/us-east-1/obj-%06d", i);
        int vl = snprintf(val, sizeof(val), "%s", id);
        if (store_put(t, STORE_DB_S3_OBJECTS, key, (size_t)kl, val, (size_t)vl) != 0) _exit(5);
        if (i == stop_after) {
            /* Mid-stream: a blob in place but not committed, and a half-written temp. */
            if (store_blob_create(s, &w) != 0 || store_blob_write(w, data, 100) != 0 ||
                store_blob_sync(w) != 0)
                _exit(6);
            if (write(fd, "S", 1) != 1) _exit(7);
            for (;;)
                pause();
        }
        if (store_txn_commit(t) != 0) _exit(8);
        if (write(fd, "C", 1) != 1) _exit(9);
    }
}

static void crash_run(int no_sync, int deterministic)
{
    int fds[2], committed = 0;
    char c;
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(fds[1], no_sync, deterministic ? 40 : -1);
    }
    close(fds[1]);
    while (read(fds[0], &c, 1) == 1) {
        if (c == 'S') break;
        cr_assert_eq(c, 'C');
        if (++committed == 40 && !deterministic) break; /* kill it while it writes on */
    }
    kill(pid, SIGKILL);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status), "the child failed early (status %d)", status);
    cr_assert_eq(committed, 40);
    close(fds[0]);

    if (deterministic) {
        cr_assert_eq(count_files("blobs/tmp"), 1);
        cr_assert_eq(count_blob_files(), 41, "40 committed and one renamed but uncommitted");
    }

    store *s = open_opts(tdir, no_sync, 0);
    int records = count_entries(s, STORE_DB_S3_OBJECTS);
    cr_assert_geq(records, committed, "a committed record was lost");
    if (deterministic) cr_assert_eq(records, 40);
    cr_assert_eq(count_entries(s, STORE_DB_BLOBS), records);
    cr_assert_eq(count_blob_files(), records, "uncommitted blobs are swept");
    cr_assert_eq(count_files("blobs/tmp"), 0);

    unsigned char data[CRASH_BLOB_LEN];
    store_txn *t;
    cr_assert_eq(store_txn_begin(s, 0, &t), 0);
    for (int i = 0; i < records; i++) {
        char key[64], id[33];
        const void *v;
        size_t vl;
        int kl = snprintf(key, sizeof(key), "111/us-east-1/obj-%06d", i);
        cr_assert_eq(store_get(t, STORE_DB_S3_OBJECTS, key, (size_t)kl, &v, &vl), 0,
                     "record %d missing", i);
        cr_assert_eq(vl, 32);
        memcpy(id, v, 32);
        id[32] = '\0';
        blob_fill(data, sizeof(data), (unsigned)i);
        assert_blob(s, id, data, sizeof(data));
    }
    store_txn_abort(t);
    store_close(s);
}

Test(store, crash_mid_stream_loses_nothing_committed_durable)
{
    crash_run(0, 1);
}

Test(store, crash_mid_stream_loses_nothing_committed_no_sync)
{
    crash_run(1, 1);
}

Test(store, sigkill_at_a_random_point_loses_nothing_committed)
{
    crash_run(0, 0);
}

Test(store, full_map_reports_store_full)
{
    store *s = open_opts(tdir, 1, 256 * 1024);
    store_txn *t;
    char val[4000];
    int full = 0, last_ok = -1;
    memset(val, 'v', sizeof(val));
    for (int i = 0; i < 1000 && !full; i++) {
        char key[32];
        int kl = snprintf(key, sizeof(key), "k%05d", i);
        cr_assert_eq(store_txn_begin(s, 1, &t), 0);
        int rc = store_put(t, STORE_DB_CB_BUILDS, key, (size_t)kl, val, sizeof(val));
        cr_assert(rc == 0 || rc == STORE_FULL, "put returned %d", rc);
        int crc = store_txn_commit(t);
        if (rc == STORE_FULL) {
            cr_assert_eq(crc, STORE_FULL, "commit repeats the failure");
            full = 1;
        } else if (crc == STORE_FULL) {
            full = 1;
        } else {
            cr_assert_eq(crc, 0);
            last_ok = i;
        }
    }
    cr_assert(full, "never reported STORE_FULL");
    cr_assert_gt(last_ok, 0);
    cr_assert_str_eq(store_strerror(STORE_FULL), "the store is full (raise the map size)");
    /* Earlier commits are intact and the store still reads. */
    cr_assert_eq(count_entries(s, STORE_DB_CB_BUILDS), last_ok + 1);
    store_close(s);

    /* A bigger map lets the same data dir grow. */
    s = open_opts(tdir, 1, 4 << 20);
    cr_assert_eq(store_txn_begin(s, 1, &t), 0);
    cr_assert_eq(store_put(t, STORE_DB_CB_BUILDS, "more", 4, val, sizeof(val)), 0);
    cr_assert_eq(store_txn_commit(t), 0);
    store_close(s);
}

struct counter_arg {
    store *s;
    int n;
};

static void *counter_thread(void *p)
{
    struct counter_arg *a = p;
    for (int i = 0; i < a->n; i++) {
        store_txn *t, *r;
        const void *v;
        size_t vl;
        unsigned long n = 0;
        if (store_txn_begin(a->s, 0, &r) != 0) return (void *)1;
        store_get(r, STORE_DB_META, "counter", 7, &v, &vl);
        store_txn_abort(r);
        if (store_txn_begin(a->s, 1, &t) != 0) return (void *)1;
        if (store_get(t, STORE_DB_META, "counter", 7, &v, &vl) == 0) memcpy(&n, v, sizeof(n));
        n++;
        if (store_put(t, STORE_DB_META, "counter", 7, &n, sizeof(n)) != 0) return (void *)1;
        if (store_txn_commit(t) != 0) return (void *)1;
    }
    return NULL;
}

Test(store, write_txns_from_many_threads_serialize)
{
    store *s = open_store();
    pthread_t th[4];
    struct counter_arg a = {s, 300};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, counter_thread, &a), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        cr_assert_null(r);
    }
    store_txn *t;
    const void *v;
    size_t vl;
    unsigned long n;
    cr_assert_eq(store_txn_begin(s, 0, &t), 0);
    cr_assert_eq(store_get(t, STORE_DB_META, "counter", 7, &v, &vl), 0);
    memcpy(&n, v, sizeof(n));
    cr_assert_eq(n, 1200);
    store_txn_abort(t);
    store_close(s);
}

Test(store, read_txn_sees_a_snapshot)
{
    store *s = open_store();
    store_txn *r;
    const void *v;
    size_t vl;
    put_str(s, STORE_DB_CD_APPLICATIONS, "app", "old");
    cr_assert_eq(store_txn_begin(s, 0, &r), 0);
    put_str(s, STORE_DB_CD_APPLICATIONS, "app", "new");
    cr_assert_eq(store_get(r, STORE_DB_CD_APPLICATIONS, "app", 3, &v, &vl), 0);
    cr_assert_eq(memcmp(v, "old", 3), 0);
    cr_assert_eq(store_txn_commit(r), 0, "committing a read txn just ends it");
    /* A pooled read txn is renewed: it sees the latest data. */
    char *got = get_str(s, STORE_DB_CD_APPLICATIONS, "app");
    cr_assert_str_eq(got, "new");
    free(got);
    store_close(s);
}
