/* A small benchmark of the store: reads of 2 KB values and small write commits, sync and not. */
#include "persistence/store.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NKEYS 10000

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int bench_writes(const char *dir, int no_sync, int n)
{
    struct store_options o = {.dir = dir, .no_sync = no_sync};
    char err[256], key[64], val[100];
    store *s;
    double t0;
    if (store_open(&o, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    memset(val, 'w', sizeof(val));
    t0 = now_us();
    for (int i = 0; i < n; i++) {
        store_txn *t;
        int kl = store_key(key, sizeof(key), "123456789012", "us-east-1", "w");
        kl += snprintf(key + kl, sizeof(key) - (size_t)kl, "%d", i);
        if (store_txn_begin(s, 1, &t) != 0 ||
            store_put(t, STORE_DB_CP_JOBS, key, (size_t)kl, val, sizeof(val)) != 0 ||
            store_txn_commit(t) != 0)
            return -1;
    }
    printf("write txn commit (100 B put), %s: %.1f us\n", no_sync ? "no_sync" : "sync   ",
           (now_us() - t0) / n);

    static char blob[64 * 1024];
    memset(blob, 'b', sizeof(blob));
    t0 = now_us();
    for (int i = 0; i < n / 5; i++) {
        store_txn *t;
        store_blob_writer *w;
        char id[STORE_BLOB_ID_LEN + 1];
        if (store_blob_create(s, &w) != 0 || store_blob_write(w, blob, sizeof(blob)) != 0 ||
            store_blob_sync(w) != 0 || store_txn_begin(s, 1, &t) != 0 ||
            store_blob_commit(t, w, id) != 0 ||
            store_put(t, STORE_DB_S3_OBJECTS, id, STORE_BLOB_ID_LEN, id, 4) != 0 ||
            store_txn_commit(t) != 0)
            return -1;
    }
    printf("64 KiB blob write + commit with its record, %s: %.1f us\n",
           no_sync ? "no_sync" : "sync   ", (now_us() - t0) / (n / 5));
    store_close(s);
    return 0;
}

static int bench_reads(const char *dir)
{
    struct store_options o = {.dir = dir, .no_sync = 1};
    char err[256], key[64], val[2048];
    store *s;
    store_txn *t;
    double t0;
    int n = 200000;
    if (store_open(&o, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    memset(val, 'r', sizeof(val));
    if (store_txn_begin(s, 1, &t) != 0) return -1;
    for (int i = 0; i < NKEYS; i++) {
        int kl = snprintf(key, sizeof(key), "123456789012/us-east-1/pipeline-%05d", i);
        if (store_put(t, STORE_DB_CP_PIPELINES, key, (size_t)kl, val, sizeof(val)) != 0) return -1;
    }
    if (store_txn_commit(t) != 0) return -1;

    unsigned long sum = 0;
    srand(1);
    t0 = now_us();
    for (int i = 0; i < n; i++) {
        const void *v;
        size_t vl;
        int kl = snprintf(key, sizeof(key), "123456789012/us-east-1/pipeline-%05d", rand() % NKEYS);
        if (store_txn_begin(s, 0, &t) != 0 ||
            store_get(t, STORE_DB_CP_PIPELINES, key, (size_t)kl, &v, &vl) != 0)
            return -1;
        sum += ((const unsigned char *)v)[vl - 1];
        store_txn_abort(t);
    }
    printf("read txn begin + get 2 KB + end: %.3f us\n", (now_us() - t0) / n);

    if (store_txn_begin(s, 0, &t) != 0) return -1;
    t0 = now_us();
    for (int i = 0; i < n; i++) {
        const void *v;
        size_t vl;
        int kl = snprintf(key, sizeof(key), "123456789012/us-east-1/pipeline-%05d", rand() % NKEYS);
        if (store_get(t, STORE_DB_CP_PIPELINES, key, (size_t)kl, &v, &vl) != 0) return -1;
        sum += ((const unsigned char *)v)[vl - 1];
    }
    printf("get 2 KB in an open read txn: %.3f us\n", (now_us() - t0) / n);
    store_txn_abort(t);
    store_close(s);
    return sum ? 0 : -1;
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/cpl-store-bench-XXXXXX";
    const char *base = argc > 1 ? argv[1] : NULL;
    char d1[512], d2[512], d3[512];
    int rc = 1, made = 0;
    if (!base) {
        if (!(base = mkdtemp(dir))) return 1;
        made = 1;
    }
    snprintf(d1, sizeof(d1), "%s/reads", base);
    snprintf(d2, sizeof(d2), "%s/sync", base);
    snprintf(d3, sizeof(d3), "%s/nosync", base);
    if (bench_reads(d1) == 0 && bench_writes(d2, 0, 500) == 0 && bench_writes(d3, 1, 5000) == 0)
        rc = 0;
    /* Only what this program created goes. */
    nftw(d1, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    nftw(d2, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    nftw(d3, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (made) rmdir(base);
    return rc;
}
