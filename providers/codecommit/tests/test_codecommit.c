/* Unit tests of the codecommit provider's pure parts: paths, base64, helper passwords, zip export.
 */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "providers/codecommit/internal.h"

static int norm(const char *in, unsigned flags, char *out)
{
    return cc_path_normalize(in, strlen(in), flags, out, CC_MAX_PATH_LEN + 1);
}

Test(cc_paths, accepts_relative_paths_unchanged)
{
    char out[CC_MAX_PATH_LEN + 1];
    cr_assert_eq(norm("README.md", 0, out), 0);
    cr_assert_str_eq(out, "README.md");
    cr_assert_eq(norm("src/a/b.c", 0, out), 0);
    cr_assert_str_eq(out, "src/a/b.c");
    cr_assert_eq(norm("dir/.gitignore", 0, out), 0);
    cr_assert_str_eq(out, "dir/.gitignore");
}

Test(cc_paths, rejects_dot_dot_dot_and_git_components)
{
    char out[CC_MAX_PATH_LEN + 1];
    cr_assert_eq(norm("../etc/passwd", 0, out), -1);
    cr_assert_eq(norm("a/../b", 0, out), -1);
    cr_assert_eq(norm("a/..", 0, out), -1);
    cr_assert_eq(norm("./a", 0, out), -1);
    cr_assert_eq(norm(".git/config", 0, out), -1);
    cr_assert_eq(norm("a/.GIT/hooks", 0, out), -1);
    cr_assert_eq(norm("a//b", 0, out), -1);
    cr_assert_eq(norm("a\\b", 0, out), -1);
    cr_assert_eq(norm("a\nb", 0, out), -1);
}

Test(cc_paths, rejects_absolute_and_empty_paths_for_writes)
{
    char out[CC_MAX_PATH_LEN + 1];
    cr_assert_eq(norm("/abs", 0, out), -1);
    cr_assert_eq(norm("dir/", 0, out), -1);
    cr_assert_eq(norm("", 0, out), -1);
    cr_assert_eq(cc_path_normalize("a\0b", 3, 0, out, sizeof out), -1);
}

Test(cc_paths, reads_strip_one_leading_slash_and_allow_the_root)
{
    char out[CC_MAX_PATH_LEN + 1];
    cr_assert_eq(norm("/src/", CC_PATH_READ, out), 0);
    cr_assert_str_eq(out, "src");
    cr_assert_eq(norm("/", CC_PATH_READ, out), -1);
    cr_assert_eq(norm("/", CC_PATH_READ | CC_PATH_ALLOW_ROOT, out), 0);
    cr_assert_str_eq(out, "");
    cr_assert_eq(norm("", CC_PATH_READ | CC_PATH_ALLOW_ROOT, out), 0);
    cr_assert_eq(norm("//x", CC_PATH_READ, out), -1);
    cr_assert_eq(norm("/../x", CC_PATH_READ, out), -1);
}

Test(cc_paths, rejects_paths_longer_than_the_limit)
{
    char *big = malloc(CC_MAX_PATH_LEN + 2);
    char out[CC_MAX_PATH_LEN + 2];
    memset(big, 'a', CC_MAX_PATH_LEN + 1);
    big[CC_MAX_PATH_LEN + 1] = '\0';
    cr_assert_eq(cc_path_normalize(big, strlen(big), 0, out, sizeof out), -1);
    free(big);
}

Test(cc_modes, maps_aws_names_to_git_modes_and_back)
{
    cr_assert_eq(cc_mode_from_name("NORMAL"), 0100644);
    cr_assert_eq(cc_mode_from_name("EXECUTABLE"), 0100755);
    cr_assert_eq(cc_mode_from_name("SYMLINK"), 0120000);
    cr_assert_eq(cc_mode_from_name("OTHER"), 0);
    cr_assert_str_eq(cc_mode_name(0100755), "EXECUTABLE");
    cr_assert_null(cc_mode_name(0040000));
}

Test(cc_base64, decodes_padded_and_unpadded_and_rejects_garbage)
{
    size_t n;
    unsigned char *d = cc_b64_decode("aGVsbG8=", 8, &n);
    cr_assert_not_null(d);
    cr_assert_eq(n, 5);
    cr_assert_eq(memcmp(d, "hello", 5), 0);
    free(d);
    d = cc_b64_decode("aGVsbG8", 7, &n);
    cr_assert_not_null(d);
    cr_assert_eq(n, 5);
    free(d);
    cr_assert_null(cc_b64_decode("aGV*bG8=", 8, &n));
    cr_assert_null(cc_b64_decode("a", 1, &n));
}

Test(cc_base64, encodes_what_it_decodes)
{
    struct json_object *js = cc_b64_json("\x00\xff\x10hello", 8);
    cr_assert_str_eq(json_object_get_string(js), "AP8QaGVsbG8=");
    json_object_put(js);
}

/* Computed with botocore's SigV4Auth exactly as `aws codecommit credential-helper` does. */
#define HELPER_PW     "20261126T120000Z1e2a499e28099ab32e979daa94895a1d1d3bfca6a8dbda3ccf9b3a7b587cebd9"
#define HELPER_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define HELPER_NOW    1795694400L /* 2026-11-26T12:00:00Z */

Test(cc_helper, accepts_the_credential_helper_password)
{
    cr_assert_eq(cc_verify_helper_password(HELPER_PW, HELPER_SECRET, "eu-west-1", "localhost:4566",
                                           "/v1/repos/app", HELPER_NOW, 900),
                 1);
}

Test(cc_helper, rejects_wrong_secret_region_path_host_or_age)
{
    cr_assert_eq(cc_verify_helper_password(HELPER_PW, "other", "eu-west-1", "localhost:4566",
                                           "/v1/repos/app", HELPER_NOW, 900),
                 0);
    cr_assert_eq(cc_verify_helper_password(HELPER_PW, HELPER_SECRET, "us-east-1", "localhost:4566",
                                           "/v1/repos/app", HELPER_NOW, 900),
                 0);
    cr_assert_eq(cc_verify_helper_password(HELPER_PW, HELPER_SECRET, "eu-west-1", "localhost:4566",
                                           "/v1/repos/other", HELPER_NOW, 900),
                 0);
    cr_assert_eq(cc_verify_helper_password(HELPER_PW, HELPER_SECRET, "eu-west-1", "127.0.0.1:4566",
                                           "/v1/repos/app", HELPER_NOW, 900),
                 0);
    cr_assert_eq(cc_verify_helper_password(HELPER_PW, HELPER_SECRET, "eu-west-1", "localhost:4566",
                                           "/v1/repos/app", HELPER_NOW + 901, 900),
                 0);
    cr_assert_eq(cc_verify_helper_password(HELPER_PW, HELPER_SECRET, "eu-west-1", "localhost:4566",
                                           "/v1/repos/app", HELPER_NOW - 301, 900),
                 0);
    cr_assert_eq(cc_verify_helper_password("20261126T120000Zshort", HELPER_SECRET, "eu-west-1",
                                           "localhost:4566", "/v1/repos/app", HELPER_NOW, 900),
                 0);
}

/* A temp bare repository with one commit: a normal file, an executable, a symlink in a folder. */
static git_repository *make_repo(char *dir, git_commit **commit)
{
    git_repository *repo = NULL;
    git_index *idx = NULL;
    git_oid tree_id, commit_id, blob;
    git_tree *tree = NULL;
    git_signature *sig = NULL;
    strcpy(dir, "/tmp/cc-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cc_git_init();
    cr_assert_eq(git_repository_init(&repo, dir, 1), 0);
    cr_assert_eq(git_index_new(&idx), 0);
    struct {
        const char *path, *content;
        unsigned mode;
    } files[] = {{"README.md", "hello\n", 0100644},
                 {"bin/run.sh", "#!/bin/sh\necho hi\n", 0100755},
                 {"bin/link", "run.sh", 0120000}};
    for (size_t i = 0; i < 3; i++) {
        git_index_entry e;
        memset(&e, 0, sizeof e);
        cr_assert_eq(
            git_blob_create_from_buffer(&blob, repo, files[i].content, strlen(files[i].content)),
            0);
        e.path = files[i].path;
        e.mode = files[i].mode;
        e.id = blob;
        cr_assert_eq(git_index_add(idx, &e), 0);
    }
    cr_assert_eq(git_index_write_tree_to(&tree_id, idx, repo), 0);
    cr_assert_eq(git_tree_lookup(&tree, repo, &tree_id), 0);
    cr_assert_eq(git_signature_new(&sig, "t", "t@example.com", 1700000000, 0), 0);
    cr_assert_eq(git_commit_create(&commit_id, repo, NULL, sig, sig, NULL, "m", tree, 0, NULL), 0);
    cr_assert_eq(git_commit_lookup(commit, repo, &commit_id), 0);
    git_signature_free(sig);
    git_tree_free(tree);
    git_index_free(idx);
    return repo;
}

static int collect(void *ctx, const void *data, size_t len)
{
    proto_sb_append(ctx, data, len);
    return 0;
}

Test(cc_zip, exports_the_tree_with_modes_and_symlinks)
{
    char dir[64], err[256] = "";
    git_commit *commit = NULL;
    git_repository *repo = make_repo(dir, &commit);
    struct proto_sb zip = PROTO_SB_INIT;
    cr_assert_eq(cc_zip_tree(repo, commit, collect, &zip, err, sizeof err), 0, "%s", err);

    struct archive *a = archive_read_new();
    struct archive_entry *e;
    archive_read_support_format_zip(a);
    cr_assert_eq(archive_read_open_memory(a, zip.buf, zip.len), ARCHIVE_OK);
    int seen = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *p = archive_entry_pathname(e);
        if (strcmp(p, "README.md") == 0) {
            cr_assert_eq(archive_entry_filetype(e), AE_IFREG);
            cr_assert_eq(archive_entry_perm(e) & 0777, 0644);
            char buf[16] = "";
            archive_read_data(a, buf, sizeof buf - 1);
            cr_assert_str_eq(buf, "hello\n");
            seen |= 1;
        } else if (strcmp(p, "bin/run.sh") == 0) {
            cr_assert_eq(archive_entry_perm(e) & 0777, 0755);
            seen |= 2;
        } else if (strcmp(p, "bin/link") == 0) {
            cr_assert_eq(archive_entry_filetype(e), AE_IFLNK);
            cr_assert_str_eq(archive_entry_symlink(e), "run.sh");
            seen |= 4;
        } else {
            cr_assert_fail("unexpected entry %s", p);
        }
    }
    cr_assert_eq(seen, 7);
    archive_read_free(a);
    proto_sb_free(&zip);
    git_commit_free(commit);
    git_repository_free(repo);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(cc_commits, resolves_full_and_short_ids_and_rejects_unknown_specifiers)
{
    char dir[64];
    git_commit *commit = NULL, *found = NULL;
    struct cc_repo r;
    memset(&r, 0, sizeof r);
    r.git = make_repo(dir, &commit);
    char hex[41];
    git_oid_tostr(hex, sizeof hex, git_commit_id(commit));
    cr_assert_eq(cc_resolve_commit(&r, hex, &found), 0);
    cr_assert(git_oid_equal(git_commit_id(found), git_commit_id(commit)));
    git_commit_free(found);
    hex[10] = '\0';
    cr_assert_eq(cc_resolve_commit(&r, hex, &found), 0);
    git_commit_free(found);
    cr_assert_eq(cc_resolve_commit(&r, "no-such-branch", &found), -1);
    cr_assert_eq(cc_resolve_commit(&r, "HEAD@{1}", &found), -1);
    cr_assert_eq(cc_resolve_commit(&r, "", &found), -1);
    git_commit_free(commit);
    git_repository_free(r.git);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(cc_branches, validates_branch_names_like_git)
{
    cr_assert(cc_branch_name_valid("main"));
    cr_assert(cc_branch_name_valid("feature/x-1"));
    cr_assert_not(cc_branch_name_valid(""));
    cr_assert_not(cc_branch_name_valid("a..b"));
    cr_assert_not(cc_branch_name_valid("a b"));
    cr_assert_not(cc_branch_name_valid("x.lock"));
    cr_assert_not(cc_branch_name_valid("-/"));
}

Test(cc_paths, rejects_a_component_longer_than_a_file_name_can_be)
{
    char in[2 + 256 + 1], out[CC_MAX_PATH_LEN + 1];
    memcpy(in, "d/", 2);
    memset(in + 2, 'a', 255);
    in[2 + 255] = '\0';
    cr_assert_eq(norm(in, 0, out), 0);
    in[2 + 255] = 'a';
    in[2 + 256] = '\0';
    cr_assert_eq(norm(in, 0, out), -1);
    cr_assert_eq(norm(in, CC_PATH_READ, out), -1);
}

Test(cc_branches, refuses_what_git_check_ref_format_and_git_branch_refuse)
{
    static const char *const bad[] = {
        "x\x7fy", "x\x01y", "x\ty", "HEAD", "-x",  "@",    "a@{b", "a/",   "/a", "a//b",     "a~b",
        "a^b",    "a:b",    "a?b",  "a*b",  "a[b", "a\\b", ".a",   "a/.b", "a.", "a/b.lock",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(cc_branch_name_valid(bad[i]), "accepted %s", bad[i]);
    cr_assert_not(cc_branch_name_valid(cc_bad_string)); /* an embedded NUL */
    cr_assert(cc_branch_name_valid("release/2024.1"));
    cr_assert(cc_branch_name_valid("x@y"));
    cr_assert(cc_branch_name_valid("caf\xc3\xa9"));
}
