/* Exporting a commit's tree as a zip archive (CODE_ZIP), file modes and symlinks kept. */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <string.h>

#include "providers/codecommit/internal.h"

struct zip_walk {
    git_repository *repo;
    struct archive *ar;
    struct archive_entry *entry;
    time_t mtime;
    char *err;
    size_t errlen;
    int failed;
};

static int zip_entry(const char *root, const git_tree_entry *e, void *payload)
{
    struct zip_walk *w = payload;
    unsigned mode = git_tree_entry_filemode(e);
    git_blob *blob = NULL;
    char path[CC_MAX_PATH_LEN * 2];
    if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE &&
        mode != GIT_FILEMODE_LINK)
        return 0; /* trees are walked into; submodules have no content here */
    snprintf(path, sizeof path, "%s%s", root, git_tree_entry_name(e));
    if (git_blob_lookup(&blob, w->repo, git_tree_entry_id(e)) != 0) {
        snprintf(w->err, w->errlen, "missing blob for %s", path);
        w->failed = 1;
        return -1;
    }
    const void *data = git_blob_rawcontent(blob);
    size_t size = (size_t)git_blob_rawsize(blob);
    archive_entry_clear(w->entry);
    archive_entry_set_pathname(w->entry, path);
    archive_entry_set_mtime(w->entry, w->mtime, 0);
    int rc = 0;
    if (mode == GIT_FILEMODE_LINK) {
        char target[PATH_MAX];
        snprintf(target, sizeof target, "%.*s",
                 (int)(size < sizeof target ? size : sizeof target - 1), (const char *)data);
        archive_entry_set_filetype(w->entry, AE_IFLNK);
        archive_entry_set_perm(w->entry, 0777);
        archive_entry_set_symlink(w->entry, target);
        archive_entry_set_size(w->entry, 0);
        if (archive_write_header(w->ar, w->entry) != ARCHIVE_OK) rc = -1;
    } else {
        archive_entry_set_filetype(w->entry, AE_IFREG);
        archive_entry_set_perm(w->entry, mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);
        archive_entry_set_size(w->entry, (la_int64_t)size);
        if (archive_write_header(w->ar, w->entry) != ARCHIVE_OK ||
            (size && archive_write_data(w->ar, data, size) != (la_ssize_t)size))
            rc = -1;
    }
    if (rc) {
        snprintf(w->err, w->errlen, "zip: %s", archive_error_string(w->ar));
        w->failed = 1;
    }
    git_blob_free(blob);
    return rc;
}

struct zip_sink {
    int (*write)(void *ctx, const void *data, size_t len);
    void *ctx;
};

static la_ssize_t zip_write_cb(struct archive *a, void *client, const void *buf, size_t len)
{
    struct zip_sink *sink = client;
    (void)a;
    return sink->write(sink->ctx, buf, len) == 0 ? (la_ssize_t)len : -1;
}

int cc_zip_tree(git_repository *repo, const git_commit *commit,
                int (*write)(void *ctx, const void *data, size_t len), void *ctx, char *err,
                size_t errlen)
{
    struct zip_sink sink = {write, ctx};
    git_tree *tree = NULL;
    struct zip_walk w;
    int rc = -1;
    memset(&w, 0, sizeof w);
    w.repo = repo;
    w.err = err;
    w.errlen = errlen;
    w.mtime = (time_t)git_commit_time(commit);
    w.ar = archive_write_new();
    w.entry = archive_entry_new();
    if (!w.ar || !w.entry) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (archive_write_set_format_zip(w.ar) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(w.ar, 1) != ARCHIVE_OK ||
        archive_write_open(w.ar, &sink, NULL, zip_write_cb, NULL) != ARCHIVE_OK) {
        snprintf(err, errlen, "zip: %s", archive_error_string(w.ar));
        goto out;
    }
    if (git_commit_tree(&tree, commit) != 0) {
        snprintf(err, errlen, "cannot read the commit's tree");
        goto out;
    }
    if (git_tree_walk(tree, GIT_TREEWALK_PRE, zip_entry, &w) != 0 || w.failed) {
        if (!w.failed) snprintf(err, errlen, "cannot walk the tree");
        goto out;
    }
    if (archive_write_close(w.ar) != ARCHIVE_OK) {
        snprintf(err, errlen, "zip: %s", archive_error_string(w.ar));
        goto out;
    }
    rc = 0;
out:
    git_tree_free(tree);
    if (w.entry) archive_entry_free(w.entry);
    if (w.ar) archive_write_free(w.ar);
    return rc;
}
