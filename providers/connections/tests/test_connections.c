/* Unit tests of the connections provider: repository ids, connection ARNs, the engine interface
 * (heads, tags, variables, CODE_ZIP) and the push listener's ref reports. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/connections/connections.h"
#include "providers/connections/internal.h"

#define ACCT "000000000000"

static char dir[64];
static store *st;
static char repo_dir[512], work[128];

/* Runs a shell command line in the work tree; fails the test when it fails. */
static void sh(const char *fmt, const char *arg)
{
    char cmd[2048], line[1024];
    snprintf(line, sizeof line, fmt, arg);
    snprintf(cmd, sizeof cmd,
             "cd %s && export GIT_CONFIG_NOSYSTEM=1 HOME=%s GIT_AUTHOR_NAME='Ada L' "
             "GIT_AUTHOR_EMAIL=ada@example.com GIT_COMMITTER_NAME=C GIT_COMMITTER_EMAIL=c@x "
             "GIT_AUTHOR_DATE='2026-01-02T03:04:05Z' && %s >/dev/null 2>&1",
             work, dir, line);
    cr_assert_eq(system(cmd), 0, "%s", line);
}

static void setup(void)
{
    char err[256];
    strcpy(dir, "/tmp/conn-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    struct store_options o;
    memset(&o, 0, sizeof o);
    o.dir = dir;
    o.map_size = 64 << 20;
    cr_assert_eq(store_open(&o, &st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(conn_repo_dir(st, ACCT, "acme/app", repo_dir, sizeof repo_dir), 0);
    snprintf(work, sizeof work, "%s/work", dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && git init -q --bare %s", work, repo_dir);
    cr_assert_eq(system(cmd), 0);
    sh("%s", "git init -q -b main . && mkdir -p src docs && echo a > src/a.c && echo d > docs/d.md"
             " && git add -A && git commit -qm 'first commit'");
}

static void teardown(void)
{
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)system(cmd);
}

TestSuite(conn, .init = setup, .fini = teardown);

Test(conn, repository_ids_are_owner_slash_repo_without_dot_names)
{
    cr_assert(conn_repo_id_valid("acme/app"));
    cr_assert(conn_repo_id_valid("a-b_c.d/x.y-z_1"));
    cr_assert(!conn_repo_id_valid("acme"));
    cr_assert(!conn_repo_id_valid("acme/app/x"));
    cr_assert(!conn_repo_id_valid("../app"));
    cr_assert(!conn_repo_id_valid("acme/.."));
    cr_assert(!conn_repo_id_valid("acme/.hidden"));
    cr_assert(!conn_repo_id_valid("acme/app.git"), "the URL form, not a name");
    cr_assert(!conn_repo_id_valid("/app"));
    cr_assert(!conn_repo_id_valid("acme/"));
    cr_assert(!conn_repo_id_valid("ac me/app"));
    cr_assert(!conn_repo_id_valid(NULL));
    char buf[16];
    cr_assert_eq(conn_repo_dir(st, ACCT, "acme/app", buf, sizeof buf), CONN_EINVAL, "too short");
}

Test(conn, both_arn_forms_name_a_connection)
{
    char region[64], account[13], uuid[64];
    cr_assert_eq(conn_arn_parse("arn:aws:codeconnections:eu-west-1:123456789012:connection/"
                                "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab",
                                region, account, uuid),
                 0);
    cr_assert_str_eq(region, "eu-west-1");
    cr_assert_str_eq(account, "123456789012");
    cr_assert_str_eq(uuid, "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab");
    cr_assert_eq(conn_arn_parse("arn:aws:codestar-connections:us-east-1:000000000000:connection/"
                                "abc",
                                region, account, uuid),
                 0);
    cr_assert_eq(conn_arn_parse("arn:aws:codestar-connections:us-east-1:000000000000:host/abc",
                                region, account, uuid),
                 -1);
    cr_assert_eq(conn_arn_parse("arn:aws:codecommit:us-east-1:000000000000:connection/abc", region,
                                account, uuid),
                 -1);
    cr_assert_eq(conn_arn_parse("arn:aws:codeconnections:us-east-1:0000:connection/abc", region,
                                account, uuid),
                 -1);
    cr_assert_eq(conn_arn_parse("arn:aws:codeconnections:us-east-1:000000000000:connection/../x",
                                region, account, uuid),
                 -1);
}

Test(conn, heads_tags_variables_and_the_zip_of_a_pushed_repository)
{
    char head[41], commit[41];
    cr_assert_eq(conn_branch_head(st, ACCT, "acme/app", "main", head), CONN_ENOREF);
    sh("git push -q %s main", repo_dir);
    sh("git tag v1 && git tag -a v2 -m annotated && git push -q %s --tags", repo_dir);
    cr_assert_eq(conn_branch_head(st, ACCT, "acme/app", "main", head), 0);
    cr_assert_eq(conn_branch_head(st, ACCT, "acme/app", "nope", commit), CONN_ENOREF);
    cr_assert_eq(conn_branch_head(st, ACCT, "acme/none", "main", commit), CONN_ENOREPO);
    cr_assert_eq(conn_branch_head(st, ACCT, "acme/app", "bad..name", commit), CONN_EINVAL);
    cr_assert_eq(conn_branch_head(st, ACCT, "../x", "main", commit), CONN_EINVAL);

    char **tags;
    size_t n;
    cr_assert_eq(conn_tag_list(st, ACCT, "acme/app", &tags, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(tags[0], "v1");
    cr_assert_str_eq(tags[1], "v2");
    conn_names_free(tags, n);

    struct conn_source_vars v;
    cr_assert_eq(conn_source_vars_get(st, ACCT, "acme/app", "main", "arn:c", head, &v), 0);
    cr_assert_str_eq(v.commit_id, head);
    cr_assert_str_eq(v.commit_message, "first commit\n");
    cr_assert_str_eq(v.author_date, "2026-01-02T03:04:05Z");
    cr_assert_str_eq(v.branch_name, "main");
    cr_assert_str_eq(v.full_repository_name, "acme/app");
    cr_assert_str_eq(v.connection_arn, "arn:c");
    cr_assert_str_eq(v.author_display_name, "Ada L");
    cr_assert_str_eq(v.author_email, "ada@example.com");
    conn_source_vars_free(&v);
    cr_assert_eq(conn_source_vars_get(st, ACCT, "acme/app", "main", "arn:c",
                                      "0000000000000000000000000000000000000000", &v),
                 CONN_EINVAL);

    store_blob_writer *w = NULL;
    char err[256];
    cr_assert_eq(conn_export_zip(st, ACCT, "acme/app", head, &w, err, sizeof err), 0, "%s", err);
    cr_assert_gt(store_blob_size(w), 100);
    store_blob_discard(w);
    cr_assert_eq(conn_export_zip(st, ACCT, "acme/none", head, &w, err, sizeof err), -1);
}

static char seen[8][512];
static int n_seen;

static void record(void *ctx, const struct conn_push_event *ev)
{
    (void)ctx;
    char paths[256] = "";
    for (size_t i = 0; i < ev->n_paths; i++)
        snprintf(paths + strlen(paths), sizeof paths - strlen(paths), "%s%s", i ? "," : "",
                 ev->paths[i]);
    if (n_seen < 8)
        snprintf(seen[n_seen++], sizeof seen[0], "%s %s %s:%s %s %s [%s]", ev->account,
                 ev->full_repo, ev->is_tag ? "tag" : "branch", ev->name, ev->old_id ? "old" : "-",
                 ev->new_id ? "new" : "-", paths);
}

/* Pushes what cmd does (with the repository path as %s) and settles it as the Git host does. */
static void push(const char *cmd)
{
    struct conn_refs before;
    cr_assert_eq(conn_refs_read(repo_dir, &before), 0);
    sh(cmd, repo_dir);
    conn_push_settle(ACCT, "acme/app", repo_dir, &before);
    conn_refs_free(&before);
}

Test(conn, pushes_report_each_ref_with_its_changed_paths)
{
    int h = conn_add_push_listener(record, NULL);
    cr_assert_gt(h, 0);
    push("git push -q %s main");
    cr_assert_eq(n_seen, 1);
    cr_assert_str_eq(seen[0], ACCT " acme/app branch:main - new [docs/d.md,src/a.c]",
                     "a root commit reports all its files");
    sh("%s", "echo b > src/b.c && git add -A && git commit -qm second");
    push("git push -q %s main");
    cr_assert_str_eq(seen[1], ACCT " acme/app branch:main old new [src/b.c]");
    push("git tag -a v1 -m one && git push -q %s v1");
    cr_assert_str_eq(seen[2], ACCT " acme/app tag:v1 - new [src/b.c]",
                     "a new ref reports what its commit changed");
    push("git push -q %s main:feature/x");
    cr_assert_str_eq(seen[3], ACCT " acme/app branch:feature/x - new [src/b.c]");
    push("git push -q %s :feature/x");
    cr_assert_str_eq(seen[4], ACCT " acme/app branch:feature/x old - []");
    push("git push -q %s main");
    cr_assert_eq(n_seen, 5, "a push that moves nothing reports nothing");
    cr_assert_eq(conn_remove_push_listener(h), 0);
    char head[41];
    cr_assert_eq(conn_branch_head(st, ACCT, "acme/app", "main", head), 0);
}

Test(conn, a_connection_exists_only_in_its_own_account)
{
    const char *arn = "arn:aws:codeconnections:us-east-1:" ACCT ":connection/abc";
    cr_assert_eq(conn_connection_exists(st, ACCT, arn), CONN_ENOREPO, "not created yet");
    char key[CONN_KEY_MAX];
    int kl = store_key(key, sizeof key, ACCT, "us-east-1", "abc");
    store_txn *t = NULL;
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(store_put(t, STORE_DB_CONN_CONNECTIONS, key, (size_t)kl, "{}", 2), 0);
    cr_assert_eq(store_txn_commit(t), 0);
    cr_assert_eq(conn_connection_exists(st, ACCT, arn), 0);
    /* The older service's ARN form names the same connection. */
    cr_assert_eq(conn_connection_exists(
                     st, ACCT, "arn:aws:codestar-connections:us-east-1:" ACCT ":connection/abc"),
                 0);
    cr_assert_eq(conn_connection_exists(st, "111111111111", arn), CONN_ENOREPO);
    cr_assert_eq(conn_connection_exists(st, ACCT, "not-an-arn"), CONN_ENOREPO);
    cr_assert_eq(conn_connection_exists(st, ACCT, NULL), CONN_ENOREPO);
}
