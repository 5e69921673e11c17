/* Unit tests of the safe extractor: zip, tar and tgz land with their modes; entries that escape
 * the destination (absolute, "..", links out, paths through links) write nothing at all. */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "providers/runtime/extract.h"

struct spec {
    const char *path;
    char kind;        /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link */
    const char *data; /* file content, or link target */
    unsigned mode;
};

enum fmt { ZIP, TAR, TGZ };

static char tmp[256];

static void mk_tmp(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/cpl-extract-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}

static void rm_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    cr_assert_eq(system(cmd), 0);
}

/* Writes the archive of specs to <tmp>/a and returns its path (static). */
static const char *build(enum fmt f, const struct spec *s, size_t n)
{
    static char path[300];
    snprintf(path, sizeof path, "%s/a", tmp);
    struct archive *w = archive_write_new();
    if (f == ZIP)
        archive_write_set_format_zip(w);
    else
        archive_write_set_format_pax_restricted(w);
    if (f == TGZ) archive_write_add_filter_gzip(w);
    cr_assert_eq(archive_write_open_filename(w, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, s[i].path);
        archive_entry_set_perm(e, s[i].mode ? s[i].mode : 0644);
        size_t len = s[i].kind == 'f' ? strlen(s[i].data) : 0;
        switch (s[i].kind) {
        case 'f':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, (la_int64_t)len);
            break;
        case 'd':
            archive_entry_set_filetype(e, AE_IFDIR);
            break;
        case 'l':
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, s[i].data);
            break;
        case 'h':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, s[i].data);
            break;
        }
        cr_assert_eq(archive_write_header(w, e), ARCHIVE_OK, "%s", archive_error_string(w));
        if (len) cr_assert_eq(archive_write_data(w, s[i].data, len), (la_ssize_t)len);
        archive_entry_free(e);
    }
    cr_assert_eq(archive_write_close(w), ARCHIVE_OK);
    archive_write_free(w);
    return path;
}

static const char *out_dir(void)
{
    static char d[300];
    snprintf(d, sizeof d, "%s/out", tmp);
    mkdir(d, 0755);
    return d;
}

static int count_entries(const char *dir)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(find '%s' -mindepth 1 | wc -l) -eq 0", dir);
    return system(cmd) == 0 ? 0 : 1;
}

static void read_file(const char *dir, const char *rel, char *buf, size_t cap)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s missing", p);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

TestSuite(rt_extract, .init = mk_tmp, .fini = rm_tmp);

static void extracts_format(enum fmt f)
{
    const struct spec s[] = {
        {"appspec.yml", 'f', "version: 0.0\n", 0644},
        {"scripts/", 'd', NULL, 0755},
        {"scripts/start.sh", 'f', "#!/bin/sh\necho hi\n", 0755},
        {"./web/index.html", 'f', "<p>hi</p>", 0600},
        {"web/link", 'l', "index.html", 0777},
        {"web/hard", 'h', "web/index.html", 0},
    };
    char err[256], buf[128];
    const char *d = out_dir();
    /* zip has no hard links */
    int rc = rt_extract_file(build(f, s, f == ZIP ? 5 : 6), d, NULL, err, sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
    read_file(d, "appspec.yml", buf, sizeof buf);
    cr_assert_str_eq(buf, "version: 0.0\n");
    read_file(d, "web/link", buf, sizeof buf);
    cr_assert_str_eq(buf, "<p>hi</p>");
    if (f != ZIP) {
        read_file(d, "web/hard", buf, sizeof buf);
        cr_assert_str_eq(buf, "<p>hi</p>");
    }
    struct stat st;
    char p[600];
    snprintf(p, sizeof p, "%s/scripts/start.sh", d);
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0755);
    snprintf(p, sizeof p, "%s/web/index.html", d);
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
}

Test(rt_extract, extracts_a_zip_with_modes_and_links)
{
    extracts_format(ZIP);
}
Test(rt_extract, extracts_a_tar_with_modes_and_links)
{
    extracts_format(TAR);
}
Test(rt_extract, extracts_a_tgz_with_modes_and_links)
{
    extracts_format(TGZ);
}

static void refused(const struct spec *s, size_t n, enum fmt f)
{
    char err[256] = "";
    const char *d = out_dir();
    int rc = rt_extract_file(build(f, s, n), d, NULL, err, sizeof err);
    cr_assert_eq(rc, RT_EX_EUNSAFE, "rc %d: %s", rc, err);
    cr_assert_neq(err[0], '\0');
    cr_assert_eq(count_entries(d), 0, "something was written for an unsafe archive");
}

Test(rt_extract, refuses_dot_dot_and_writes_nothing)
{
    const struct spec s[] = {{"ok.txt", 'f', "x", 0}, {"a/../../evil", 'f', "x", 0}};
    refused(s, 2, TAR);
    refused(s, 2, ZIP);
}

Test(rt_extract, refuses_absolute_paths)
{
    const struct spec s[] = {{"ok.txt", 'f', "x", 0}, {"/tmp/evil", 'f', "x", 0}};
    refused(s, 2, TAR);
}

Test(rt_extract, refuses_symlinks_pointing_out)
{
    const struct spec a[] = {{"l", 'l', "../outside", 0}};
    refused(a, 1, TAR);
    const struct spec b[] = {{"l", 'l', "/etc/passwd", 0}};
    refused(b, 1, TGZ);
    const struct spec c[] = {{"d/l", 'l', "../../x", 0}};
    refused(c, 1, ZIP);
}

Test(rt_extract, refuses_paths_through_a_symlink)
{
    const struct spec a[] = {{"l", 'l', "sub", 0}, {"l/x", 'f', "x", 0}};
    refused(a, 2, TAR);
    /* a link that is inside by itself, but whose ".." runs from where another link points */
    const struct spec b[] = {{"x/y/l2", 'l', "../..", 0}, {"m", 'l', "x/y/l2/..", 0}};
    refused(b, 2, TAR);
}

Test(rt_extract, refuses_hard_links_out)
{
    const struct spec a[] = {{"h", 'h', "../../etc/passwd", 0}};
    refused(a, 1, TAR);
}

Test(rt_extract, a_link_inside_is_kept_as_a_link)
{
    const struct spec s[] = {{"d/f", 'f', "x", 0}, {"d/l", 'l', "../d/f", 0}};
    char err[256], p[600], t[64];
    const char *d = out_dir();
    cr_assert_eq(rt_extract_file(build(TAR, s, 2), d, NULL, err, sizeof err), 0, "%s", err);
    snprintf(p, sizeof p, "%s/d/l", d);
    ssize_t n = readlink(p, t, sizeof t - 1);
    cr_assert_gt(n, 0);
    t[n] = '\0';
    cr_assert_str_eq(t, "../d/f");
}

Test(rt_extract, garbage_is_a_format_error)
{
    char p[300], err[256];
    snprintf(p, sizeof p, "%s/junk", tmp);
    FILE *f = fopen(p, "w");
    fputs("this is not an archive at all, just some words\n", f);
    fclose(f);
    cr_assert_eq(rt_extract_file(p, out_dir(), NULL, err, sizeof err), RT_EX_EFORMAT);
}

Test(rt_extract, limits_refuse_before_writing)
{
    const struct spec s[] = {{"a", 'f', "0123456789", 0}, {"b", 'f', "0123456789", 0}};
    struct rt_extract_limits lim = {.max_bytes = 15};
    char err[256];
    const char *d = out_dir();
    cr_assert_eq(rt_extract_file(build(ZIP, s, 2), d, &lim, err, sizeof err), RT_EX_ELIMIT);
    cr_assert_eq(count_entries(d), 0);
}

Test(rt_extract, normalize_rejects_escapes)
{
    char o[64];
    cr_assert_eq(rt_path_normalize("./a//b/./c/", o, sizeof o), 5);
    cr_assert_str_eq(o, "a/b/c");
    cr_assert_eq(rt_path_normalize(".", o, sizeof o), 0);
    cr_assert_eq(rt_path_normalize("a/../b", o, sizeof o), -1);
    cr_assert_eq(rt_path_normalize("/a", o, sizeof o), -1);
    cr_assert_eq(rt_path_normalize("", o, sizeof o), -1);
    cr_assert_eq(rt_path_normalize("a\nb", o, sizeof o), -1);
}
