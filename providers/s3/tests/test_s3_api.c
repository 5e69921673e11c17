/* Unit tests of the in-process S3 interface and the change listeners, on a real store. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "persistence/store.h"
#include "providers/s3/s3.h"

static store *st;
static char dir[64];

static void setup(void)
{
    char err[256];
    snprintf(dir, sizeof(dir), "/tmp/cpl-s3-api-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    struct store_options o = {.dir = dir, .no_sync = 1};
    cr_assert_eq(store_open(&o, &st, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
    store_close(st);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd)) {
    }
}

TestSuite(s3_api, .init = setup, .fini = teardown);

struct seen {
    int n;
    char name[64], key[64], etag[64];
    unsigned long long size;
};

static void on_event(void *ctx, const struct s3_event *ev)
{
    struct seen *s = ctx;
    s->n++;
    snprintf(s->name, sizeof(s->name), "%s", ev->name);
    snprintf(s->key, sizeof(s->key), "%s", ev->key);
    snprintf(s->etag, sizeof(s->etag), "%s", ev->etag);
    s->size = ev->size;
}

static int collect(void *ctx, const char *key, const struct s3_object_info *info)
{
    char *out = ctx;
    strcat(out, key);
    strcat(out, info->size ? "+" : "0");
    strcat(out, ";");
    return 0;
}

Test(s3_api, put_stat_get_list_and_listeners)
{
    static struct seen seen;
    int handle = s3_add_listener(on_event, &seen);
    cr_assert_gt(handle, 0);
    cr_assert_eq(s3_put_object_mem(st, "000000000000", "nobucket", "k", "x", 1, NULL, NULL),
                 S3_ENOBUCKET);
    cr_assert_eq(s3_create_bucket_local(st, "000000000000", "us-east-1", "artifacts"), S3_OK);
    cr_assert_eq(s3_create_bucket_local(st, "000000000000", "us-east-1", "artifacts"), S3_OK);
    cr_assert_eq(s3_create_bucket_local(st, "111111111111", "us-east-1", "artifacts"), S3_EACCESS);
    cr_assert_eq(s3_create_bucket_local(st, "000000000000", "us-east-1", "Bad_Name"), S3_EINVAL);

    struct s3_object_info info;
    cr_assert_eq(s3_put_object_mem(st, "000000000000", "artifacts", "src/app.zip", "hello", 5,
                                   "application/zip", &info),
                 S3_OK);
    cr_assert_str_eq(info.etag, "\"5d41402abc4b2a76b9719d911017c592\"");
    cr_assert_str_eq(info.version_id, "null");
    cr_assert_eq(seen.n, 1);
    cr_assert_str_eq(seen.name, "ObjectCreated:Put");
    cr_assert_str_eq(seen.key, "src/app.zip");
    cr_assert_str_eq(seen.etag, "5d41402abc4b2a76b9719d911017c592");
    cr_assert_eq(seen.size, 5);

    /* from a file descriptor */
    char path[300];
    snprintf(path, sizeof(path), "%s/input", dir);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 100000; i++)
        fputc('a' + i % 26, f);
    fclose(f);
    int fd = open(path, O_RDONLY);
    cr_assert_eq(s3_put_object_fd(st, "000000000000", "artifacts", "big", fd, NULL, &info), S3_OK);
    close(fd);
    cr_assert_eq(info.size, 100000);
    cr_assert_str_eq(info.content_type, "binary/octet-stream");

    cr_assert_eq(s3_stat_object(st, "000000000000", "artifacts", "src/app.zip", NULL, &info),
                 S3_OK);
    cr_assert_eq(info.size, 5);
    cr_assert_str_eq(info.content_type, "application/zip");
    cr_assert_eq(s3_stat_object(st, "000000000000", "artifacts", "nope", NULL, &info), S3_ENOKEY);
    cr_assert_eq(s3_stat_object(st, "111111111111", "artifacts", "src/app.zip", NULL, &info),
                 S3_EACCESS);

    int rfd = -1;
    cr_assert_eq(s3_get_object_fd(st, "000000000000", "artifacts", "big", NULL, &info, &rfd),
                 S3_OK);
    char buf[16];
    cr_assert_eq(pread(rfd, buf, 3, 26), 3);
    cr_assert_eq(memcmp(buf, "abc", 3), 0);
    close(rfd);

    char out[256] = "";
    cr_assert_eq(s3_list_objects_cb(st, "000000000000", "artifacts", NULL, collect, out), S3_OK);
    cr_assert_str_eq(out, "big+;src/app.zip+;");
    out[0] = 0;
    cr_assert_eq(s3_list_objects_cb(st, "000000000000", "artifacts", "src/", collect, out), S3_OK);
    cr_assert_str_eq(out, "src/app.zip+;");

    int versioned = -1;
    cr_assert_eq(s3_bucket_exists(st, "000000000000", "artifacts", &versioned), S3_OK);
    cr_assert_eq(versioned, 0);
    cr_assert_eq(s3_bucket_exists(st, "000000000000", "other", NULL), S3_ENOBUCKET);

    /* Removed, the listener hears nothing more. */
    int before = seen.n;
    cr_assert_eq(s3_remove_listener(handle), 0);
    cr_assert_eq(s3_remove_listener(handle), RT_ENOITEM);
    cr_assert_eq(s3_put_object_mem(st, "000000000000", "artifacts", "after", "x", 1, NULL, NULL),
                 S3_OK);
    cr_assert_eq(seen.n, before);
}

static int count_keys(void *ctx, const char *key, const struct s3_object_info *info)
{
    (void)info;
    (void)key;
    (*(int *)ctx)++;
    return 0;
}

/* Keys over 400 bytes sharing their first 400 are stored in digest order: a prefix past byte
 * 400 must still find every key that has it. */
Test(s3_api, lists_long_keys_under_a_long_prefix)
{
    char key[1024], prefix[401];
    memset(prefix, 'p', 400);
    prefix[400] = '\0';
    cr_assert_eq(s3_create_bucket_local(st, "000000000000", "us-east-1", "longkeys"), S3_OK);
    for (const char *s = "jihgfedcba"; *s; s++) {
        snprintf(key, sizeof key, "%s%c", prefix, *s);
        cr_assert_eq(s3_put_object_mem(st, "000000000000", "longkeys", key, "x", 1, NULL, NULL),
                     S3_OK);
        snprintf(key, sizeof key, "%s%c/more", prefix, *s);
        cr_assert_eq(s3_put_object_mem(st, "000000000000", "longkeys", key, "x", 1, NULL, NULL),
                     S3_OK);
    }
    int n = 0;
    cr_assert_eq(s3_list_objects_cb(st, "000000000000", "longkeys", prefix, count_keys, &n), S3_OK);
    cr_assert_eq(n, 20);
    for (const char *s = "abcdefghij"; *s; s++) {
        snprintf(key, sizeof key, "%s%c", prefix, *s);
        n = 0;
        cr_assert_eq(s3_list_objects_cb(st, "000000000000", "longkeys", key, count_keys, &n),
                     S3_OK);
        cr_assert_eq(n, 2, "prefix ...%c: %d keys", *s, n);
    }
}
