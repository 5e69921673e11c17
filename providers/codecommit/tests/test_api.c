/* Unit tests of the in-process API: head listeners, branch heads, source variables, CODE_ZIP. */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <time.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "providers/codecommit/codecommit.h"
#include "providers/codecommit/internal.h"

static char dir[64];
static store *st;

static void setup(void)
{
    char err[256];
    strcpy(dir, "/tmp/cc-engine-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    struct store_options o;
    memset(&o, 0, sizeof o);
    o.dir = dir;
    o.map_size = 64 << 20;
    cr_assert_eq(store_open(&o, &st, err, sizeof err), 0, "%s", err);
}

static void teardown(void)
{
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)system(cmd);
}

/* Runs handler with a JSON input as the caller of account 000000000000 in us-east-1. Returns
 * the handler's result; *out gets the output (caller puts) when not NULL. */
static int call(int (*handler)(struct proto_req *), const char *input, struct json_object **out)
{
    struct proto_req req;
    memset(&req, 0, sizeof req);
    req.arena = proto_arena_new();
    req.store = st;
    req.caller.access_key = "test";
    req.caller.account_id = "000000000000";
    req.caller.region = "us-east-1";
    req.public_host = "localhost:4566";
    req.resp_fd = -1;
    req.input = json_tokener_parse(input);
    int rc = handler(&req);
    if (out) *out = json_object_get(req.output);
    json_object_put(req.output);
    json_object_put(req.input);
    proto_sb_free(&req.body);
    proto_arena_free(req.arena);
    return rc;
}

static char events[8][256];
static int n_events;

static void record(void *ctx, const struct cc_head_event *ev)
{
    (void)ctx;
    if (n_events < 8)
        snprintf(events[n_events++], sizeof events[0], "%s/%s/%s %s %s->%s", ev->account,
                 ev->region, ev->repository, ev->branch, ev->old_id ? ev->old_id : "-",
                 ev->new_id ? ev->new_id : "-");
}

static const char *get(struct json_object *o, const char *k)
{
    struct json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

TestSuite(cc_api, .init = setup, .fini = teardown);

Test(cc_api, api_commits_move_heads_for_listeners_and_export_a_zip)
{
    struct json_object *out = NULL;
    char head[41], err[256] = "", expect[256];
    n_events = 0;
    int handle = cc_add_head_listener(record, NULL);
    cr_assert_gt(handle, 0);
    cr_assert_eq(cc_branch_head(st, "000000000000", "us-east-1", "app", "main", head), CC_ENOREPO);
    cr_assert_eq(call(cc_op_create_repository, "{\"repositoryName\":\"app\"}", NULL), 0);
    cr_assert_eq(cc_branch_head(st, "000000000000", "us-east-1", "app", "main", head),
                 CC_ENOBRANCH);
    cr_assert_eq(cc_branch_head(st, "000000000000", "us-east-1", "app", "bad..name", head),
                 CC_EINVAL);
    cr_assert_eq(
        call(cc_op_create_commit,
             "{\"repositoryName\":\"app\",\"branchName\":\"main\",\"commitMessage\":\"m1\","
             "\"putFiles\":[{\"filePath\":\"a.txt\",\"fileContent\":\"aGk=\"},"
             "{\"filePath\":\"bin/x\",\"fileContent\":\"eA==\",\"fileMode\":\"EXECUTABLE\"}]}",
             &out),
        0);
    const char *commit = get(out, "commitId");
    cr_assert_eq(cc_branch_head(st, "000000000000", "us-east-1", "app", "main", head), 0);
    cr_assert_str_eq(head, commit);
    cr_assert_eq(n_events, 1);
    snprintf(expect, sizeof expect, "000000000000/us-east-1/app main -->%s", commit);
    cr_assert_str_eq(events[0], expect);
    /* Another account sees nothing. */
    cr_assert_eq(cc_branch_head(st, "111111111111", "us-east-1", "app", "main", head), CC_ENOREPO);

    struct cc_source_vars v;
    cr_assert_eq(cc_source_vars_get(st, "000000000000", "us-east-1", "app", "main", commit, &v), 0);
    cr_assert_str_eq(v.commit_id, commit);
    cr_assert_str_eq(v.commit_message, "m1");
    cr_assert_str_eq(v.branch_name, "main");
    cr_assert_str_eq(v.repository_name, "app");
    cr_assert_eq(strlen(v.author_date), 20);
    cr_assert_eq(v.author_date[19], 'Z');
    cc_source_vars_free(&v);
    /* each failure says which: a missing commit, a missing repository, a malformed id */
    cr_assert_eq(cc_source_vars_get(st, "000000000000", "us-east-1", "app", "main",
                                    "0000000000000000000000000000000000000000", &v),
                 CC_ENOCOMMIT);
    cr_assert_eq(cc_source_vars_get(st, "000000000000", "us-east-1", "nope", "main", commit, &v),
                 CC_ENOREPO);
    cr_assert_eq(cc_source_vars_get(st, "000000000000", "us-east-1", "app", "main", "abc", &v),
                 CC_EINVAL);
    cr_assert_null(v.commit_message);

    store_blob_writer *w = NULL;
    store_txn *t = NULL;
    char id[STORE_BLOB_ID_LEN + 1];
    cr_assert_eq(cc_export_zip(st, "000000000000", "us-east-1", "app", commit, &w, err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(store_blob_commit(t, w, id), 0);
    cr_assert_eq(store_txn_commit(t), 0);
    int fd = store_blob_open(st, id);
    cr_assert_geq(fd, 0);
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    archive_read_support_format_zip(a);
    cr_assert_eq(archive_read_open_fd(a, fd, 4096), ARCHIVE_OK);
    int seen = 0;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        if (strcmp(archive_entry_pathname(e), "a.txt") == 0) {
            cr_assert_eq(archive_entry_perm(e) & 0777, 0644);
            seen |= 1;
        } else if (strcmp(archive_entry_pathname(e), "bin/x") == 0) {
            cr_assert_eq(archive_entry_perm(e) & 0777, 0755);
            seen |= 2;
        }
    }
    cr_assert_eq(seen, 3);
    archive_read_free(a);
    close(fd);
    cr_assert_eq(
        cc_export_zip(st, "000000000000", "us-east-1", "nope", commit, &w, err, sizeof err),
        CC_ENOREPO);
    cr_assert_null(w);
    cr_assert_eq(cc_export_zip(st, "000000000000", "us-east-1", "app",
                               "0000000000000000000000000000000000000000", &w, err, sizeof err),
                 CC_ENOCOMMIT);
    cr_assert_null(w);
    cr_assert_eq(cc_export_zip(st, "000000000000", "us-east-1", "app", "main", &w, err, sizeof err),
                 CC_EINVAL);

    /* A branch created and deleted through the API reaches the listener too. */
    char *in = NULL;
    cr_assert_gt(asprintf(&in,
                          "{\"repositoryName\":\"app\",\"branchName\":\"dev\",\"commitId\":\"%s\"}",
                          commit),
                 0);
    cr_assert_eq(call(cc_op_create_branch, in, NULL), 0);
    free(in);
    cr_assert_eq(
        call(cc_op_delete_branch, "{\"repositoryName\":\"app\",\"branchName\":\"dev\"}", NULL), 0);
    cr_assert_eq(n_events, 3);
    snprintf(expect, sizeof expect, "000000000000/us-east-1/app dev %s->-", commit);
    cr_assert_str_eq(events[2], expect);
    cr_assert_eq(cc_remove_head_listener(handle), 0);
    json_object_put(out);
}

Test(cc_api, failed_commits_leave_the_branch_alone)
{
    struct json_object *out = NULL;
    char head[41];
    cr_assert_eq(call(cc_op_create_repository, "{\"repositoryName\":\"r\"}", NULL), 0);
    cr_assert_eq(call(cc_op_put_file,
                      "{\"repositoryName\":\"r\",\"branchName\":\"main\",\"filePath\":\"f\","
                      "\"fileContent\":\"eA==\"}",
                      &out),
                 0);
    cr_assert_eq(call(cc_op_put_file,
                      "{\"repositoryName\":\"r\",\"branchName\":\"main\",\"filePath\":\"../f\","
                      "\"fileContent\":\"eQ==\"}",
                      NULL),
                 -ERR_CC_INVALID_PATH);
    cr_assert_eq(call(cc_op_put_file,
                      "{\"repositoryName\":\"r\",\"branchName\":\"main\",\"filePath\":\"g\","
                      "\"fileContent\":\"eQ==\"}",
                      NULL),
                 -ERR_CC_PARENT_COMMIT_ID_REQUIRED);
    cr_assert_eq(cc_branch_head(st, "000000000000", "us-east-1", "r", "main", head), 0);
    cr_assert_str_eq(head, get(out, "commitId"));
    json_object_put(out);
}

Test(cc_api, creating_a_repository_sweeps_what_a_crash_left)
{
    char path[128], cmd[1024];
    snprintf(path, sizeof path, "%s/git/000000000000/us-east-1", dir);
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/0000-orphan.git/objects %s/1111.git.deleted/objects && touch "
             "%s/git/.tmp-abc",
             path, path, dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(call(cc_op_create_repository, "{\"repositoryName\":\"kept\"}", NULL), 0);
    struct cc_repo r;
    cr_assert_eq(cc_repo_lookup(st, "000000000000", "us-east-1", "kept", &r), 0);
    cr_assert_eq(access(r.path, F_OK), 0);
    snprintf(cmd, sizeof cmd, "%s/0000-orphan.git", path);
    cr_assert_neq(access(cmd, F_OK), 0);
    snprintf(cmd, sizeof cmd, "%s/1111.git.deleted", path);
    cr_assert_neq(access(cmd, F_OK), 0);
    snprintf(cmd, sizeof cmd, "%s/git/.tmp-abc", dir);
    cr_assert_neq(access(cmd, F_OK), 0);
}

Test(cc_api, a_push_sets_the_default_branch_and_reaches_the_listeners)
{
    struct cc_repo r;
    struct cc_heads before;
    char cmd[8192], head[41];
    n_events = 0;
    int handle = cc_add_head_listener(record, NULL);
    cr_assert_gt(handle, 0);
    cr_assert_eq(call(cc_op_create_repository, "{\"repositoryName\":\"pushed\"}", NULL), 0);
    cr_assert_eq(cc_repo_lookup(st, "000000000000", "us-east-1", "pushed", &r), 0);
    cr_assert_eq(cc_heads_read(r.path, &before), 0);
    snprintf(cmd, sizeof cmd,
             "set -e; mkdir %s/w; cd %s/w; export GIT_CONFIG_NOSYSTEM=1 HOME=%s; git init -q -b "
             "master .;"
             "echo a > a; git add a; git -c user.name=t -c user.email=t@e commit -qm a;"
             "git push -q file://%s master master:feature 2>/dev/null",
             dir, dir, dir, r.path);
    cr_assert_eq(system(cmd), 0);
    cc_push_settle(st, &r, &before);
    cc_heads_free(&before);
    cr_assert_eq(n_events, 2);
    cr_assert_eq(cc_branch_head(st, "000000000000", "us-east-1", "pushed", "master", head), 0);
    struct cc_repo after;
    cr_assert_eq(cc_repo_lookup(st, "000000000000", "us-east-1", "pushed", &after), 0);
    cr_assert_str_eq(after.default_branch, "master");

    cr_assert_eq(cc_heads_read(r.path, &before), 0);
    snprintf(cmd, sizeof cmd, "cd %s/w && git push -q file://%s :feature 2>/dev/null", dir, r.path);
    cr_assert_eq(system(cmd), 0);
    cc_push_settle(st, &after, &before);
    cc_heads_free(&before);
    cr_assert_eq(n_events, 3);
    char expect[256];
    snprintf(expect, sizeof expect, "000000000000/us-east-1/pushed feature %s->-", head);
    cr_assert_str_eq(events[2], expect);
    cr_assert_eq(cc_remove_head_listener(handle), 0);
}

Test(cc_api, checkout_writes_the_tree_with_modes)
{
    char out[256], err[256] = "", id[41], gitdir[4096];
    struct json_object *res = NULL;
    struct stat sb;
    cr_assert_eq(call(cc_op_create_repository, "{\"repositoryName\":\"co\"}", NULL), 0);
    cr_assert_eq(
        call(cc_op_create_commit,
             "{\"repositoryName\":\"co\",\"branchName\":\"main\",\"putFiles\":["
             "{\"filePath\":\"a/run.sh\",\"fileContent\":\"eA==\",\"fileMode\":\"EXECUTABLE\"},"
             "{\"filePath\":\"a/l\",\"fileContent\":\"cnVuLnNo\",\"fileMode\":\"SYMLINK\"}]}",
             &res),
        0);
    snprintf(out, sizeof out, "%s/checkout", dir);
    cr_assert_eq(
        cc_checkout(st, "000000000000", "us-east-1", "co", "main", out, id, err, sizeof err), 0,
        "%s", err);
    cr_assert_str_eq(id, get(res, "commitId"));
    char p[512];
    snprintf(p, sizeof p, "%s/a/run.sh", out);
    cr_assert_eq(stat(p, &sb), 0);
    cr_assert(sb.st_mode & 0100);
    snprintf(p, sizeof p, "%s/a/l", out);
    cr_assert_eq(lstat(p, &sb), 0);
    cr_assert(S_ISLNK(sb.st_mode));
    cr_assert_eq(
        cc_checkout(st, "000000000000", "us-east-1", "co", "nope", out, NULL, err, sizeof err),
        CC_ENOCOMMIT);
    cr_assert_eq(
        cc_checkout(st, "000000000000", "us-east-1", "none", "main", out, NULL, err, sizeof err),
        CC_ENOREPO);
    cr_assert_eq(cc_repo_git_dir(st, "000000000000", "us-east-1", "co", gitdir, sizeof gitdir), 0);
    cr_assert_eq(access(gitdir, F_OK), 0);
    cr_assert_eq(cc_repo_git_dir(st, "000000000000", "us-east-1", "none", gitdir, sizeof gitdir),
                 CC_ENOREPO);
    cr_assert_eq(cc_repo_git_dir(st, "000000000000", "us-east-1", "co", gitdir, 4), CC_ERANGE);
    json_object_put(res);
}

/* A push may leave a repository with very many branches: settling compares the heads before
 * and after by name, which must not take time quadratic in their number. */
Test(cc_api, settling_a_push_of_many_branches_is_not_quadratic, .timeout = 15)
{
    enum { N = 60000 };
    struct cc_repo r;
    struct cc_heads before;
    struct json_object *out = NULL;
    char path[PATH_MAX + 32];
    cr_assert_eq(call(cc_op_create_repository, "{\"repositoryName\":\"many\"}", NULL), 0);
    cr_assert_eq(call(cc_op_put_file,
                      "{\"repositoryName\":\"many\",\"branchName\":\"main\",\"filePath\":\"f\","
                      "\"fileContent\":\"eA==\"}",
                      &out),
                 0);
    const char *id = get(out, "commitId");
    cr_assert_eq(cc_repo_lookup(st, "000000000000", "us-east-1", "many", &r), 0);
    /* N branches (as packed refs, which git writes for big pushes), the same before and after
     * but for one that moved */
    snprintf(path, sizeof path, "%s/packed-refs", r.path);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "# pack-refs with: peeled fully-peeled sorted \n");
    for (int i = 0; i < N; i++)
        fprintf(f, "%s refs/heads/b%06d\n", id, i);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(cc_heads_read(r.path, &before), 0);
    cr_assert_eq(before.n, (size_t)N + 1, "%zu heads", before.n);
    n_events = 0;
    int handle = cc_add_head_listener(record, NULL);
    cr_assert_gt(handle, 0);
    cr_assert_eq(
        call(cc_op_delete_branch, "{\"repositoryName\":\"many\",\"branchName\":\"b000007\"}", NULL),
        0);
    cr_assert_eq(n_events, 1);
    cc_push_settle(st, &r, &before);
    cc_heads_free(&before);
    cr_assert_eq(n_events, 2);
    char expect[256];
    snprintf(expect, sizeof expect, "000000000000/us-east-1/many b000007 %s->-", id);
    cr_assert_str_eq(events[1], expect);
    cr_assert_eq(cc_remove_head_listener(handle), 0);
    json_object_put(out);
}

/* A loose ref is a file, and git locks it as "<name>.lock": a name component over 250 bytes
 * cannot be stored, and must be refused as an invalid name, not fail as an internal error. */
Test(cc_api, branch_name_components_too_long_for_a_ref_file_are_invalid_names)
{
    char branch[257], in[1024];
    struct json_object *out = NULL;
    cr_assert_eq(call(cc_op_create_repository, "{\"repositoryName\":\"long\"}", NULL), 0);
    memset(branch, 'b', 256);
    for (size_t n = 251; n <= 256; n++) {
        branch[n] = '\0';
        snprintf(in, sizeof in,
                 "{\"repositoryName\":\"long\",\"branchName\":\"%s\",\"filePath\":\"f\","
                 "\"fileContent\":\"eA==\"}",
                 branch);
        cr_assert_eq(call(cc_op_put_file, in, NULL), -ERR_CC_INVALID_BRANCH_NAME, "%zu", n);
        branch[n] = 'b';
    }
    branch[0] = 'a', branch[1] = '/';
    branch[253] = '\0'; /* "a/" + 251 */
    snprintf(in, sizeof in,
             "{\"repositoryName\":\"long\",\"branchName\":\"%s\",\"filePath\":\"f\","
             "\"fileContent\":\"eA==\"}",
             branch);
    cr_assert_eq(call(cc_op_put_file, in, NULL), -ERR_CC_INVALID_BRANCH_NAME);
    /* 250 bytes work, and become the default branch */
    memset(branch, 'b', 250);
    branch[250] = '\0';
    snprintf(in, sizeof in,
             "{\"repositoryName\":\"long\",\"branchName\":\"%s\",\"filePath\":\"f\","
             "\"fileContent\":\"eA==\"}",
             branch);
    cr_assert_eq(call(cc_op_put_file, in, &out), 0);
    cr_assert_eq(call(cc_op_get_file, "{\"repositoryName\":\"long\",\"filePath\":\"f\"}", NULL), 0);
    /* CreateBranch from that commit with a name one byte too long */
    memset(branch, 'c', 251);
    branch[251] = '\0';
    snprintf(in, sizeof in,
             "{\"repositoryName\":\"long\",\"branchName\":\"%s\",\"commitId\":\"%s\"}", branch,
             get(out, "commitId"));
    cr_assert_eq(call(cc_op_create_branch, in, NULL), -ERR_CC_INVALID_BRANCH_NAME);
    json_object_put(out);
}

/* ---- a full store: a failed write must end its transaction ---- */

static void setup_small(void)
{
    char err[256];
    strcpy(dir, "/tmp/cc-full-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    struct store_options o;
    memset(&o, 0, sizeof o);
    o.dir = dir;
    o.map_size = 1 << 20;
    o.no_sync = 1;
    cr_assert_eq(store_open(&o, &st, err, sizeof err), 0, "%s", err);
}

/* Fills the map with junk records until no write of any size fits. */
static void fill_store(void)
{
    char key[32], val[4096];
    memset(val, 'j', sizeof val);
    int i = 0;
    for (size_t size = sizeof val; size >= 16; size /= 2) {
        for (;;) {
            store_txn *t = NULL;
            cr_assert_eq(store_txn_begin(st, 1, &t), 0);
            snprintf(key, sizeof key, "junk%08d", i++);
            if (store_put(t, STORE_DB_CC_REPOS, key, strlen(key), val, size) != 0) {
                store_txn_abort(t);
                break;
            }
            if (store_txn_commit(t) != 0) break;
        }
    }
}

static void *begin_write(void *arg)
{
    store_txn *t = NULL;
    (void)arg;
    if (store_txn_begin(st, 1, &t) == 0) store_txn_abort(t);
    return NULL;
}

/* Asserts that another thread can still begin a write transaction within 5 s. */
static void assert_writes_not_blocked(void)
{
    pthread_t th;
    struct timespec until;
    cr_assert_eq(pthread_create(&th, NULL, begin_write, NULL), 0);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    int jr = pthread_timedjoin_np(th, NULL, &until);
    if (jr != 0) pthread_detach(th);
    cr_assert_eq(jr, 0, "a failed write left its transaction open: every later write waits");
}

static void big_description(char *buf, size_t n)
{
    memset(buf, 'd', n - 1);
    buf[n - 1] = '\0';
}

Test(cc_full_store, failed_description_update_ends_its_transaction, .init = setup_small,
     .fini = teardown, .timeout = 30)
{
    char desc[1001], in[1200];
    cr_assert_eq(call(cc_op_create_repository, "{\"repositoryName\":\"full\"}", NULL), 0);
    fill_store();
    big_description(desc, sizeof desc);
    snprintf(in, sizeof in, "{\"repositoryName\":\"full\",\"repositoryDescription\":\"%s\"}", desc);
    cr_assert_neq(call(cc_op_update_repository_description, in, NULL), 0);
    assert_writes_not_blocked();
}

Test(cc_full_store, failed_rename_ends_its_transaction, .init = setup_small, .fini = teardown,
     .timeout = 30)
{
    char desc[1001], in[1200];
    big_description(desc, sizeof desc);
    snprintf(in, sizeof in, "{\"repositoryName\":\"full\",\"repositoryDescription\":\"%s\"}", desc);
    cr_assert_eq(call(cc_op_create_repository, in, NULL), 0);
    fill_store();
    cr_assert_neq(call(cc_op_update_repository_name,
                       "{\"oldName\":\"full\",\"newName\":\"renamed-repository\"}", NULL),
                  0);
    assert_writes_not_blocked();
}

Test(cc_full_store, failed_create_ends_its_transaction, .init = setup_small, .fini = teardown,
     .timeout = 30)
{
    char desc[1001], in[1200];
    fill_store();
    big_description(desc, sizeof desc);
    snprintf(in, sizeof in, "{\"repositoryName\":\"late\",\"repositoryDescription\":\"%s\"}", desc);
    cr_assert_neq(call(cc_op_create_repository, in, NULL), 0);
    assert_writes_not_blocked();
}

/* HEAD of the bare repository is what a clone checks out: it must not move when the record of
 * the new default branch cannot be stored. */
Test(cc_full_store, failed_default_branch_update_leaves_head_alone, .init = setup_small,
     .fini = teardown, .timeout = 30)
{
    struct json_object *out = NULL;
    struct cc_repo r;
    char in[1024], head[64], dev[201];
    memset(dev, 'd', 200); /* a record that grows, so the full map cannot take it */
    dev[200] = '\0';
    cr_assert_eq(call(cc_op_create_repository, "{\"repositoryName\":\"hd\"}", NULL), 0);
    cr_assert_eq(call(cc_op_put_file,
                      "{\"repositoryName\":\"hd\",\"branchName\":\"main\",\"filePath\":\"f\","
                      "\"fileContent\":\"eA==\"}",
                      &out),
                 0);
    snprintf(in, sizeof in, "{\"repositoryName\":\"hd\",\"branchName\":\"%s\",\"commitId\":\"%s\"}",
             dev, get(out, "commitId"));
    json_object_put(out);
    cr_assert_eq(call(cc_op_create_branch, in, NULL), 0);
    fill_store();
    snprintf(in, sizeof in, "{\"repositoryName\":\"hd\",\"defaultBranchName\":\"%s\"}", dev);
    cr_assert_neq(call(cc_op_update_default_branch, in, NULL), 0);
    cr_assert_eq(cc_repo_lookup(st, "000000000000", "us-east-1", "hd", &r), 0);
    cr_assert_str_eq(r.default_branch, "main");
    char path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/HEAD", r.path);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(head, sizeof head, f));
    fclose(f);
    cr_assert_str_eq(head, "ref: refs/heads/main\n");
}

/* Reads the HEAD file of the bare repository of name into head. */
static void read_head(const char *name, char *head, size_t n)
{
    struct cc_repo r;
    char path[PATH_MAX + 8];
    cr_assert_eq(cc_repo_lookup(st, "000000000000", "us-east-1", name, &r), 0);
    snprintf(path, sizeof path, "%s/HEAD", r.path);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(head, (int)n, f));
    fclose(f);
}

/* The first branch of a repository becomes its default; HEAD must follow only once that is
 * stored, as for UpdateDefaultBranch. */
Test(cc_full_store, failed_first_branch_record_leaves_head_alone, .init = setup_small,
     .fini = teardown, .timeout = 30)
{
    struct cc_repo r;
    char before[128], after[128];
    cr_assert_eq(call(cc_op_create_repository, "{\"repositoryName\":\"fb\"}", NULL), 0);
    read_head("fb", before, sizeof before);
    cr_assert_str_neq(before, "ref: refs/heads/dev\n");
    fill_store();
    (void)call(cc_op_put_file,
               "{\"repositoryName\":\"fb\",\"branchName\":\"dev\",\"filePath\":\"f\","
               "\"fileContent\":\"eA==\"}",
               NULL);
    /* the branch was created (the path under test ran) but its record could not be stored */
    cr_assert_eq(cc_repo_lookup(st, "000000000000", "us-east-1", "fb", &r), 0);
    cr_assert_str_eq(r.default_branch, "");
    struct cc_heads heads;
    cr_assert_eq(cc_heads_read(r.path, &heads), 0);
    cr_assert_eq(heads.n, 1);
    cr_assert_str_eq(heads.names[0], "dev");
    cc_heads_free(&heads);
    read_head("fb", after, sizeof after);
    cr_assert_str_eq(after, before);
}

struct delete_call {
    const char *input;
    int rc;
    char out[512];
};

static void *delete_branch_thread(void *arg)
{
    struct delete_call *d = arg;
    struct json_object *out = NULL;
    d->rc = call(cc_op_delete_branch, d->input, &out);
    snprintf(d->out, sizeof d->out, "%s", out ? json_object_to_json_string(out) : "");
    json_object_put(out);
    return NULL;
}

/* DeleteBranch opens the repository (reading its default branch) before it takes the
 * repository's lock; an UpdateDefaultBranch landing in between must not let it delete what is
 * now the default. The test holds the lock so the interleaving is the racy one. */
Test(cc_api, delete_branch_rechecks_the_default_set_while_it_waited)
{
    struct json_object *out = NULL;
    struct cc_repo r;
    char in[512];
    cr_assert_eq(call(cc_op_create_repository, "{\"repositoryName\":\"race\"}", NULL), 0);
    cr_assert_eq(call(cc_op_put_file,
                      "{\"repositoryName\":\"race\",\"branchName\":\"main\",\"filePath\":\"f\","
                      "\"fileContent\":\"eA==\"}",
                      &out),
                 0);
    snprintf(in, sizeof in,
             "{\"repositoryName\":\"race\",\"branchName\":\"dev\",\"commitId\":\"%s\"}",
             get(out, "commitId"));
    json_object_put(out);
    cr_assert_eq(call(cc_op_create_branch, in, NULL), 0);
    cr_assert_eq(cc_repo_lookup(st, "000000000000", "us-east-1", "race", &r), 0);
    cr_assert_str_eq(r.default_branch, "main");

    struct delete_call d = {.input = "{\"repositoryName\":\"race\",\"branchName\":\"dev\"}"};
    pthread_t th;
    cc_repo_lock(r.id);
    cr_assert_eq(pthread_create(&th, NULL, delete_branch_thread, &d), 0);
    usleep(300 * 1000); /* the deletion has read the default (main) and waits for the lock */
    cr_assert_eq(call(cc_op_update_default_branch,
                      "{\"repositoryName\":\"race\",\"defaultBranchName\":\"dev\"}", NULL),
                 0);
    cc_repo_unlock(r.id);
    cr_assert_eq(pthread_join(th, NULL), 0);
    cr_assert_eq(d.rc, -ERR_CC_DEFAULT_BRANCH_CANNOT_BE_DELETED,
                 "the new default branch was deleted: %s", d.out);
    cr_assert_eq(
        call(cc_op_get_branch, "{\"repositoryName\":\"race\",\"branchName\":\"dev\"}", NULL), 0);
    cr_assert_eq(cc_repo_lookup(st, "000000000000", "us-east-1", "race", &r), 0);
    cr_assert_str_eq(r.default_branch, "dev");
    /* the old default can go now, and the answer names what was deleted */
    cr_assert_eq(
        call(cc_op_delete_branch, "{\"repositoryName\":\"race\",\"branchName\":\"main\"}", &out),
        0);
    struct json_object *b = NULL;
    cr_assert(json_object_object_get_ex(out, "deletedBranch", &b));
    cr_assert_str_eq(get(b, "branchName"), "main");
    json_object_put(out);
}
