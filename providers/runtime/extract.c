/* Safe archive extraction: a checking pass over every entry, then libarchive's disk writer with
 * its own guards on top (no "..", no absolute paths, nothing written through a symlink). */
#include "providers/runtime/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int rt_path_normalize(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    if (!in || !*in || in[0] == '/' || cap == 0) return -1;
    const char *p = in;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return -1;
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)p[i] < 0x20) return -1;
            if (o + (o ? 1 : 0) + n + 1 > cap) return -1;
            if (o) out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
        if (*p == '/') p++;
    }
    out[o] = '\0';
    return (int)o;
}

/* The entries of the checking pass. */
struct ex_entry {
    char *path;   /* normalised */
    char *target; /* symlink target as stored, or the normalised hard-link target */
    mode_t type;
};

struct ex_list {
    struct ex_entry *v;
    size_t n, cap;
};

static void list_free(struct ex_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].target);
    }
    free(l->v);
}

static int is_symlink_entry(const struct ex_list *l, const char *path, size_t len)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].type == AE_IFLNK && strlen(l->v[i].path) == len &&
            memcmp(l->v[i].path, path, len) == 0)
            return 1;
    return 0;
}

/* Returns 1 when some proper prefix directory of path is a symlink of the archive. */
static int under_symlink(const struct ex_list *l, const char *path)
{
    for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/'))
        if (is_symlink_entry(l, path, (size_t)(s - path))) return 1;
    return 0;
}

/* Returns 1 when the symlink at path with target stays inside the root: relative, never above
 * the root, and never going on through another symlink of the archive (whose ".." would be
 * resolved from where that link points, not where it sits). */
static int link_target_safe(const struct ex_list *l, const char *path, const char *target)
{
    char cur[4096];
    size_t o = 0;
    if (!*target || target[0] == '/') return 0;
    const char *slash = strrchr(path, '/');
    if (slash) {
        o = (size_t)(slash - path);
        if (o >= sizeof cur) return 0;
        memcpy(cur, path, o);
    }
    const char *p = target;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (o == 0) return 0;
            while (o > 0 && cur[o - 1] != '/')
                o--;
            if (o > 0) o--;
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (o + 1 + n >= sizeof cur) return 0;
            if (o) cur[o++] = '/';
            memcpy(cur + o, p, n);
            o += n;
            const char *rest = p + n;
            while (*rest == '/')
                rest++;
            if (*rest && is_symlink_entry(l, cur, o)) return 0;
        }
        p += n;
        if (*p == '/') p++;
    }
    return 1;
}

static struct archive *open_reader(const char *path)
{
    struct archive *a = archive_read_new();
    if (!a) return NULL;
    archive_read_support_format_zip(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK) {
        archive_read_free(a);
        return NULL;
    }
    return a;
}

/* The checking pass: reads every entry (and its data, so a truncated archive fails here). */
static int check_all(const char *path, const struct rt_extract_limits *lim, struct ex_list *l,
                     char *err, size_t errlen)
{
    struct archive_entry *e;
    unsigned long long bytes = 0;
    char norm[4096];
    int r, rc = 0;
    struct archive *a = open_reader(path);
    if (!a) {
        snprintf(err, errlen, "the archive cannot be read as zip or tar");
        return RT_EX_EFORMAT;
    }
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        mode_t type = archive_entry_filetype(e);
        if (!name || !*name) {
            snprintf(err, errlen, "an archive entry has no name");
            rc = RT_EX_EFORMAT;
            goto out;
        }
        int n = rt_path_normalize(name, norm, sizeof norm);
        if (n < 0) {
            snprintf(err, errlen, "the archive entry '%s' points outside the destination", name);
            rc = RT_EX_EUNSAFE;
            goto out;
        }
        const char *hl = archive_entry_hardlink(e);
        if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && !hl) {
            snprintf(err, errlen, "the archive entry '%s' is not a file, directory or link", name);
            rc = RT_EX_EUNSAFE;
            goto out;
        }
        if (n == 0) continue; /* "./": the root itself */
        if (lim && lim->max_entries && l->n >= lim->max_entries) {
            snprintf(err, errlen, "the archive has more than %lu entries", lim->max_entries);
            rc = RT_EX_ELIMIT;
            goto out;
        }
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 64;
            struct ex_entry *v = realloc(l->v, cap * sizeof *v);
            if (!v) goto nomem;
            l->v = v;
            l->cap = cap;
        }
        struct ex_entry *x = &l->v[l->n];
        memset(x, 0, sizeof *x);
        x->type = hl ? AE_IFREG : type;
        x->path = strdup(norm);
        if (!x->path) goto nomem;
        l->n++;
        if (hl) {
            char t[4096];
            if (rt_path_normalize(hl, t, sizeof t) <= 0) {
                snprintf(err, errlen, "the archive entry '%s' links outside the destination", name);
                rc = RT_EX_EUNSAFE;
                goto out;
            }
            x->target = strdup(t);
            if (!x->target) goto nomem;
        } else if (type == AE_IFLNK) {
            const char *t = archive_entry_symlink(e);
            x->target = strdup(t ? t : "");
            if (!x->target) goto nomem;
        }
        if (type == AE_IFREG && !hl) {
            bytes += (unsigned long long)archive_entry_size(e);
            if (lim && lim->max_bytes && bytes > lim->max_bytes) {
                snprintf(err, errlen, "the archive holds more than %llu bytes", lim->max_bytes);
                rc = RT_EX_ELIMIT;
                goto out;
            }
        }
        if (archive_read_data_skip(a) != ARCHIVE_OK) {
            snprintf(err, errlen, "the archive entry '%s' cannot be read: %s", name,
                     archive_error_string(a) ? archive_error_string(a) : "truncated");
            rc = RT_EX_EFORMAT;
            goto out;
        }
    }
    if (r != ARCHIVE_EOF) {
        snprintf(err, errlen, "the archive cannot be read: %s",
                 archive_error_string(a) ? archive_error_string(a) : "not zip or tar");
        rc = RT_EX_EFORMAT;
        goto out;
    }
    for (size_t i = 0; i < l->n; i++) {
        const struct ex_entry *x = &l->v[i];
        if (under_symlink(l, x->path) ||
            (x->type == AE_IFLNK && !link_target_safe(l, x->path, x->target)) ||
            (x->target && x->type != AE_IFLNK && under_symlink(l, x->target)) ||
            (x->target && x->type != AE_IFLNK &&
             is_symlink_entry(l, x->target, strlen(x->target)))) {
            snprintf(err, errlen, "the archive entry '%s' points outside the destination", x->path);
            rc = RT_EX_EUNSAFE;
            goto out;
        }
    }
    goto out;
nomem:
    snprintf(err, errlen, "out of memory");
    rc = RT_EX_EIO;
out:
    archive_read_free(a);
    return rc;
}

/* The writing pass: every entry under dir, as checked. */
static int write_all(const char *path, const char *dir, char *err, size_t errlen)
{
    /* Paths are written as <dir>/<entry> (no chdir in a threaded server), so libarchive's
     * absolute-path guard cannot be used: the checking pass refused absolute entries already. */
    struct archive_entry *e;
    char norm[4096], full[8192];
    int r, rc = 0;
    struct archive *a = open_reader(path);
    struct archive *w = archive_write_disk_new();
    if (!a || !w) {
        snprintf(err, errlen, "the archive cannot be read as zip or tar");
        rc = a ? RT_EX_EIO : RT_EX_EFORMAT;
        goto out;
    }
    archive_write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                          ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                          ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_UNLINK);
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        int n = rt_path_normalize(archive_entry_pathname(e), norm, sizeof norm);
        if (n <= 0) continue;
        snprintf(full, sizeof full, "%s/%s", dir, norm);
        archive_entry_set_pathname(e, full);
        const char *hl = archive_entry_hardlink(e);
        if (hl) {
            char t[4096], tf[8192];
            if (rt_path_normalize(hl, t, sizeof t) <= 0) continue;
            snprintf(tf, sizeof tf, "%s/%s", dir, t);
            archive_entry_set_hardlink(e, tf);
        }
        mode_t type = archive_entry_filetype(e);
        mode_t perm = archive_entry_perm(e) & 0777;
        /* zips made on Windows carry no unix mode: give them the usual defaults */
        if (perm == 0) perm = type == AE_IFDIR ? 0755 : 0644;
        if (type == AE_IFDIR) perm |= 0700; /* we must be able to write into it */
        archive_entry_set_perm(e, perm);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        if (archive_write_header(w, e) != ARCHIVE_OK) {
            snprintf(err, errlen, "the archive entry '%s' cannot be written: %s", norm,
                     archive_error_string(w) ? archive_error_string(w) : "error");
            rc = RT_EX_EIO;
            goto out;
        }
        if (type == AE_IFREG && !hl) {
            const void *buf;
            size_t len;
            la_int64_t off;
            while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
                if (archive_write_data_block(w, buf, len, off) != ARCHIVE_OK) {
                    snprintf(err, errlen, "the file '%s' cannot be written: %s", norm,
                             archive_error_string(w) ? archive_error_string(w) : "error");
                    rc = RT_EX_EIO;
                    goto out;
                }
            }
            if (r != ARCHIVE_EOF) {
                snprintf(err, errlen, "the archive entry '%s' cannot be read", norm);
                rc = RT_EX_EFORMAT;
                goto out;
            }
        }
        if (archive_write_finish_entry(w) != ARCHIVE_OK) {
            snprintf(err, errlen, "the file '%s' cannot be written: %s", norm,
                     archive_error_string(w) ? archive_error_string(w) : "error");
            rc = RT_EX_EIO;
            goto out;
        }
    }
    if (r != ARCHIVE_EOF) {
        snprintf(err, errlen, "the archive cannot be read");
        rc = RT_EX_EFORMAT;
    }
out:
    if (w) {
        if (archive_write_close(w) != ARCHIVE_OK && rc == 0) {
            snprintf(err, errlen, "the extracted files cannot be finished");
            rc = RT_EX_EIO;
        }
        archive_write_free(w);
    }
    if (a) archive_read_free(a);
    return rc;
}

int rt_extract_file(const char *path, const char *dir, const struct rt_extract_limits *limits,
                    char *err, size_t errlen)
{
    struct ex_list l = {0};
    struct stat st;
    char real[PATH_MAX];
    /* libarchive's symlink guard looks at every component of the full path: resolve the links
     * of dir itself (a data dir reached through a link) before it does */
    if (!path || !dir || !realpath(dir, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "the destination is not a directory");
        return RT_EX_EINVAL;
    }
    int rc = check_all(path, limits, &l, err, errlen);
    list_free(&l);
    if (rc) return rc;
    return write_all(path, real, err, errlen);
}
