/* Artifacts: zips in the artifact bucket under AWS's key layout, and the zip and temp-directory
 * helpers the action providers share. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/ids.h"
#include "providers/codepipeline/engine.h"
#include "providers/s3/s3.h"

int cp_artifact_put_fd(struct cp_action_ctx *ac, const char *name, int fd,
                       struct cp_action_result *r)
{
    char rnd[8], key[64];
    proto_random_alnum(rnd, 7);
    snprintf(key, sizeof key, "%.20s/%.10s/%s", ac->pipeline, name, rnd);
    int rc = s3_put_object_fd(ac->st, ac->account, ac->bucket, key, fd, "application/zip", NULL);
    if (rc) {
        cp_action_fail(r, "Could not write artifact %s to bucket %s (%s)", name, ac->bucket,
                       rc == S3_ENOBUCKET ? "no such bucket" : "S3 error");
        return -1;
    }
    if (!r->outputs) r->outputs = json_object_new_array();
    struct json_object *a = json_object_new_object(), *loc = json_object_new_object();
    json_object_object_add(a, "name", json_object_new_string(name));
    json_object_object_add(loc, "bucket", json_object_new_string(ac->bucket));
    json_object_object_add(loc, "key", json_object_new_string(key));
    json_object_object_add(a, "s3location", loc);
    json_object_array_add(r->outputs, a);
    return 0;
}

int cp_artifact_open(struct cp_action_ctx *ac, const char *name, struct cp_action_result *r)
{
    for (size_t i = 0; ac->inputs && i < json_object_array_length(ac->inputs); i++) {
        struct json_object *a = json_object_array_get_idx(ac->inputs, i), *v, *loc;
        if (name &&
            (!json_object_object_get_ex(a, "name", &v) || strcmp(json_object_get_string(v), name)))
            continue;
        json_object_object_get_ex(a, "s3location", &loc);
        struct json_object *b = NULL, *k = NULL;
        json_object_object_get_ex(loc, "bucket", &b);
        json_object_object_get_ex(loc, "key", &k);
        int fd = -1;
        if (!b || !k ||
            s3_get_object_fd(ac->st, NULL, json_object_get_string(b), json_object_get_string(k),
                             NULL, NULL, &fd)) {
            cp_action_fail(r, "The input artifact %s could not be read from the artifact store",
                           name ? name : "");
            return -1;
        }
        return fd;
    }
    cp_action_fail(r, "The action has no input artifact %s", name ? name : "");
    return -1;
}

int cp_zip_extract_fd(int fd, const char *dir, char *err, size_t errlen)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    int rc = -1;
    if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
        snprintf(err, errlen, "the artifact is not a zip archive: %s", archive_error_string(a));
        goto out;
    }
    struct archive *w = archive_write_disk_new();
    archive_write_disk_set_options(w, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                          ARCHIVE_EXTRACT_SECURE_SYMLINKS);
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, archive_entry_pathname(e));
        archive_entry_set_pathname(e, path);
        if (archive_write_header(w, e) != ARCHIVE_OK) {
            snprintf(err, errlen, "cannot extract %s: %s", path, archive_error_string(w));
            archive_write_free(w);
            goto out;
        }
        const void *buf;
        size_t len;
        la_int64_t off;
        while (archive_read_data_block(a, &buf, &len, &off) == ARCHIVE_OK)
            archive_write_data_block(w, buf, len, off);
        archive_write_finish_entry(w);
    }
    archive_write_free(w);
    if (r != ARCHIVE_EOF) {
        snprintf(err, errlen, "the artifact is not a valid zip archive: %s",
                 archive_error_string(a));
        goto out;
    }
    rc = 0;
out:
    archive_read_free(a);
    return rc;
}

/* True when rel matches one of the globs of files ("**" any depth, "*" within a name). */
static int files_match(struct json_object *files, const char *rel)
{
    if (!files || !json_object_array_length(files)) return 1;
    for (size_t i = 0; i < json_object_array_length(files); i++) {
        const char *g = json_object_get_string(json_object_array_get_idx(files, i));
        if (!strcmp(g, "**/*") || !strcmp(g, "**") || (!strcmp(g, "*") && !strchr(rel, '/')))
            return 1;
        if (!strcmp(g, rel)) return 1;
        size_t gl = strlen(g);
        if (gl > 5 && !strcmp(g + gl - 5, "/**/*") && !strncmp(rel, g, gl - 4)) return 1;
    }
    return 0;
}

static int zip_add(struct archive *a, const char *root, const char *rel, struct json_object *files)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    struct stat sb;
    if (lstat(path, &sb)) return -1;
    if (S_ISDIR(sb.st_mode)) {
        struct dirent **list;
        int cnt = scandir(path, &list, NULL, alphasort);
        if (cnt < 0) return -1;
        int rc = 0;
        for (int i = 0; i < cnt; i++) {
            const char *d = list[i]->d_name;
            if (strcmp(d, ".") && strcmp(d, "..") && !rc) {
                char sub[4096];
                snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", d);
                rc = zip_add(a, root, sub, files);
            }
            free(list[i]);
        }
        free(list);
        return rc;
    }
    if (!S_ISREG(sb.st_mode) || !files_match(files, rel)) return 0;
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, rel);
    archive_entry_set_size(e, sb.st_size);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, sb.st_mode & 0777);
    archive_entry_set_mtime(e, sb.st_mtime, 0);
    int rc = archive_write_header(a, e) == ARCHIVE_OK ? 0 : -1;
    archive_entry_free(e);
    int fd = rc ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buf[65536];
    ssize_t k;
    while ((k = read(fd, buf, sizeof buf)) > 0)
        if (archive_write_data(a, buf, (size_t)k) < 0) {
            rc = -1;
            break;
        }
    close(fd);
    return rc;
}

int cp_zip_dir_fd(const char *dir, struct json_object *files, int fd, char *err, size_t errlen)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    int rc = -1;
    if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        snprintf(err, errlen, "cannot write a zip: %s", archive_error_string(a));
        goto out;
    }
    if (zip_add(a, dir, "", files)) {
        snprintf(err, errlen, "cannot zip %s", dir);
        goto out;
    }
    rc = archive_write_close(a) == ARCHIVE_OK ? 0 : -1;
    if (rc) snprintf(err, errlen, "cannot finish the zip: %s", archive_error_string(a));
out:
    archive_write_free(a);
    return rc;
}

int cp_tmpdir(char *buf, size_t buflen)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(buf, buflen, "%s/cpl-action-XXXXXX", base && *base ? base : "/tmp");
    if (n < 0 || (size_t)n >= buflen) return -1;
    return mkdtemp(buf) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void cp_rmtree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
