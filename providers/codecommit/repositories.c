/* Repository records and their operations: create, read, list, rename, describe, delete, tags. */
#include "providers/codecommit/codecommit.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/ids.h"
#include "providers/codecommit/internal.h"

#define REPO_KEY_MAX 256

/* Returns a json double that serialises with millisecond precision. */
static struct json_object *json_time(double t)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.3f", t);
    return json_object_new_double_s(t, buf);
}

static const char *jstr(struct json_object *o, const char *key)
{
    return cc_json_str(o, key);
}

int cc_repo_dir(store *s, const char *account, const char *region, const char *id, char *buf,
                size_t buflen)
{
    int n = snprintf(buf, buflen, "%s/git/%s/%s/%s.git", store_dir(s), account, region, id);
    return n < 0 || (size_t)n >= buflen ? -1 : 0;
}

static int repo_key(char *buf, const char *account, const char *region, const char *name)
{
    return store_key(buf, REPO_KEY_MAX, account, region, name);
}

/* Reads the record of name; *rec is a new json object (caller puts). 0, STORE_NOTFOUND or
 * STORE_ERROR. */
static int rec_get(store_txn *t, const char *account, const char *region, const char *name,
                   struct json_object **rec)
{
    char key[REPO_KEY_MAX];
    const void *val;
    size_t vlen;
    int klen = repo_key(key, account, region, name);
    if (klen < 0) return STORE_NOTFOUND;
    int rc = store_get(t, STORE_DB_CC_REPOS, key, (size_t)klen, &val, &vlen);
    if (rc) return rc;
    struct json_tokener *tok = json_tokener_new();
    *rec = json_tokener_parse_ex(tok, val, (int)vlen);
    json_tokener_free(tok);
    return *rec ? 0 : STORE_ERROR;
}

static int rec_put(store_txn *t, struct json_object *rec)
{
    char key[REPO_KEY_MAX];
    int klen =
        repo_key(key, jstr(rec, "accountId"), jstr(rec, "_region"), jstr(rec, "repositoryName"));
    if (klen < 0) return STORE_ERROR;
    size_t n;
    const char *s = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN, &n);
    return store_put(t, STORE_DB_CC_REPOS, key, (size_t)klen, s, n);
}

static void fill_repo(struct cc_repo *out, store *s, struct json_object *rec)
{
    const char *v;
    snprintf(out->account, sizeof out->account, "%s", jstr(rec, "accountId"));
    snprintf(out->region, sizeof out->region, "%s", jstr(rec, "_region"));
    snprintf(out->name, sizeof out->name, "%s", jstr(rec, "repositoryName"));
    snprintf(out->id, sizeof out->id, "%s", jstr(rec, "repositoryId"));
    v = jstr(rec, "defaultBranch");
    snprintf(out->default_branch, sizeof out->default_branch, "%s", v ? v : "");
    if (cc_repo_dir(s, out->account, out->region, out->id, out->path, sizeof out->path) != 0)
        out->path[0] = '\0';
}

int cc_repo_lookup(store *s, const char *account, const char *region, const char *name,
                   struct cc_repo *out)
{
    store_txn *t = NULL;
    struct json_object *rec = NULL;
    memset(out, 0, sizeof *out);
    if (!name || strlen(name) >= sizeof out->name) return STORE_NOTFOUND;
    if (store_txn_begin(s, 0, &t) != 0) return STORE_ERROR;
    int rc = rec_get(t, account, region, name, &rec);
    store_txn_abort(t);
    if (rc == 0) fill_repo(out, s, rec);
    json_object_put(rec);
    return rc;
}

int cc_repo_open(struct proto_req *req, const char *name, struct cc_repo *out)
{
    cc_git_init();
    int rc = cc_repo_lookup(req->store, req->caller.account_id, req->caller.region, name, out);
    if (rc == STORE_NOTFOUND)
        return proto_error(req, ERR_CC_REPOSITORY_DOES_NOT_EXIST, "%s does not exist", name);
    if (rc != 0) return proto_error(req, ERR_INTERNAL_FAILURE, "could not read the repository");
    if (git_repository_open_bare(&out->git, out->path) != 0) {
        out->git = NULL;
        return proto_error(req, ERR_INTERNAL_FAILURE, "could not open the git repository of %s",
                           name);
    }
    return 0;
}

void cc_repo_close(struct cc_repo *r)
{
    if (r && r->git) {
        git_repository_free(r->git);
        r->git = NULL;
    }
}

int cc_repo_note_branch(store *s, struct cc_repo *r, const char *branch)
{
    store_txn *t = NULL;
    struct json_object *rec = NULL;
    const char *first = NULL;
    int rc = -1;
    if (store_txn_begin(s, 1, &t) != 0) return -1;
    if (rec_get(t, r->account, r->region, r->name, &rec) != 0) goto out;
    /* The repository may have been renamed or recreated meanwhile. */
    if (!jstr(rec, "repositoryId") || strcmp(jstr(rec, "repositoryId"), r->id) != 0) goto out;
    if (branch && !jstr(rec, "defaultBranch")) {
        json_object_object_add(rec, "defaultBranch", json_object_new_string(branch));
        first = branch;
    }
    json_object_object_add(rec, "lastModifiedDate", json_time(proto_now()));
    if (rec_put(t, rec) != 0) goto out;
    rc = store_txn_commit(t) == 0 ? 0 : -1;
    t = NULL;
    /* HEAD (what a clone checks out) follows the stored default branch only once it is stored:
     * a record that could not be written leaves HEAD where the API says the default is. */
    if (rc == 0 && first) {
        git_repository *g = r->git;
        char ref[512];
        snprintf(ref, sizeof ref, "refs/heads/%s", first);
        if (g || git_repository_open_bare(&g, r->path) == 0) {
            if (git_repository_set_head(g, ref) != 0) rc = -1;
            if (!r->git) git_repository_free(g);
        }
        snprintf(r->default_branch, sizeof r->default_branch, "%s", first);
    }
out:
    store_txn_abort(t);
    json_object_put(rec);
    return rc;
}

int cc_repo_delete_branch(store *s, struct cc_repo *r, const char *branch, git_oid *old)
{
    store_txn *t = NULL;
    struct json_object *rec = NULL;
    git_reference *ref = NULL;
    char refname[512];
    int rc = CC_DEL_ERROR;
    if (!r->git || store_txn_begin(s, 1, &t) != 0) return CC_DEL_ERROR;
    int g = rec_get(t, r->account, r->region, r->name, &rec);
    if (g == STORE_NOTFOUND ||
        (g == 0 && (!jstr(rec, "repositoryId") || strcmp(jstr(rec, "repositoryId"), r->id) != 0))) {
        rc = CC_DEL_NO_REPOSITORY; /* deleted or renamed since it was opened */
        goto out;
    }
    if (g) goto out;
    /* The default branch as stored now: the write transaction keeps UpdateDefaultBranch (which
     * checks the branch exists inside its own) from making this branch the default until the
     * deletion is done, and a default set before it began is seen here. */
    const char *def = jstr(rec, "defaultBranch");
    if (def && strcmp(def, branch) == 0) {
        rc = CC_DEL_DEFAULT;
        goto out;
    }
    snprintf(refname, sizeof refname, "refs/heads/%s", branch);
    if (git_reference_lookup(&ref, r->git, refname) != 0) {
        rc = CC_DEL_NO_BRANCH;
        goto out;
    }
    const git_oid *target = git_reference_target(ref);
    if (!target) goto out;
    *old = *target;
    if (git_reference_delete(ref) != 0) goto out;
    rc = CC_DEL_OK;
    /* only the date is lost when the record cannot be stored: the branch is gone either way */
    json_object_object_add(rec, "lastModifiedDate", json_time(proto_now()));
    if (rec_put(t, rec) == 0) {
        store_txn_commit(t);
        t = NULL;
    }
out:
    store_txn_abort(t);
    git_reference_free(ref);
    json_object_put(rec);
    return rc;
}

/* Returns the repositoryMetadata answer for rec: a new object without internal members. */
static struct json_object *metadata(struct proto_req *req, struct json_object *rec)
{
    struct json_object *m = json_object_new_object();
    json_object_object_foreach(rec, k, v)
    {
        if (k[0] == '_' || strcmp(k, "tags") == 0) continue;
        json_object_object_add(m, k, json_object_get(v));
    }
    const char *host = req->public_host ? req->public_host : "localhost:4566";
    const char *name = jstr(rec, "repositoryName");
    char *url = proto_arena_printf(req->arena, "http://%s/v1/repos/%s", host, name);
    json_object_object_add(m, "cloneUrlHttp", json_object_new_string(url));
    size_t hl = strcspn(host, ":");
    url = proto_arena_printf(req->arena, "ssh://%.*s/v1/repos/%s", (int)hl, host, name);
    json_object_object_add(m, "cloneUrlSsh", json_object_new_string(url));
    return m;
}

static int bad_repo_name(const char *name)
{
    size_t n = strlen(name);
    return n >= 4 && strcasecmp(name + n - 4, ".git") == 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static void rm_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int mkdirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

/* Removes what a crash can leave under <data>/git: repositories moved aside by DeleteRepository,
 * repositories whose record never committed, and push temp files. Runs once per process, under
 * the write lock, so no repository is being created meanwhile. */
static void sweep_orphans(store *s)
{
    static int done;
    char root[PATH_MAX], path[PATH_MAX * 3];
    DIR *d0 = NULL;
    if (done) return;
    done = 1;
    snprintf(root, sizeof root, "%s/git", store_dir(s));
    if (!(d0 = opendir(root))) return;
    struct dirent *a;
    while ((a = readdir(d0)) != NULL) {
        if (strncmp(a->d_name, ".tmp-", 5) == 0) {
            snprintf(path, sizeof path, "%s/%s", root, a->d_name);
            unlink(path);
            continue;
        }
        if (strlen(a->d_name) != 12 || strspn(a->d_name, "0123456789") != 12) continue;
        char adir[PATH_MAX + 16];
        if (snprintf(adir, sizeof adir, "%s/%s", root, a->d_name) >= (int)sizeof adir) continue;
        DIR *d1 = opendir(adir);
        if (!d1) continue;
        struct dirent *r;
        while ((r = readdir(d1)) != NULL) {
            if (r->d_name[0] == '.') continue;
            char rdir[PATH_MAX * 2];
            if (snprintf(rdir, sizeof rdir, "%s/%s", adir, r->d_name) >= (int)sizeof rdir) continue;
            DIR *d2 = opendir(rdir);
            if (!d2) continue;
            struct dirent *e;
            while ((e = readdir(d2)) != NULL) {
                size_t n = strlen(e->d_name);
                if (snprintf(path, sizeof path, "%s/%s", rdir, e->d_name) >= (int)sizeof path)
                    continue;
                if (n > 8 && strcmp(e->d_name + n - 8, ".deleted") == 0) {
                    rm_tree(path);
                } else if (n > 4 && strcmp(e->d_name + n - 4, ".git") == 0 && n - 4 < 64) {
                    char id[64], key[REPO_KEY_MAX];
                    const void *v;
                    size_t vl;
                    store_txn *t = NULL;
                    snprintf(id, sizeof id, "%.*s", (int)(n - 4), e->d_name);
                    int kl = store_key(key, sizeof key, a->d_name, r->d_name, id);
                    if (kl < 0 || store_txn_begin(s, 0, &t) != 0) continue;
                    int rc = store_get(t, STORE_DB_CC_REPO_IDS, key, (size_t)kl, &v, &vl);
                    store_txn_abort(t);
                    if (rc == STORE_NOTFOUND) rm_tree(path);
                }
            }
            closedir(d2);
        }
        closedir(d1);
    }
    closedir(d0);
}

/* Creates the bare repository at path, HEAD on main, receive-pack enabled. Returns 0 or -1. */
static int init_bare(const char *path)
{
    git_repository *g = NULL;
    git_config *cfg = NULL;
    int rc = -1;
    git_repository_init_options opts;
    git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
    opts.flags =
        GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
    opts.initial_head = "main";
    if (mkdirs(path) != 0) goto out;
    if (git_repository_init_ext(&g, path, &opts) != 0) goto out;
    if (git_repository_config(&cfg, g) != 0) goto out;
    if (git_config_set_bool(cfg, "http.receivepack", 1) != 0) goto out;
    if (git_config_set_bool(cfg, "http.uploadpack", 1) != 0) goto out;
    if (git_config_set_bool(cfg, "receive.fsckObjects", 1) != 0) goto out;
    if (git_config_set_bool(cfg, "core.logAllRefUpdates", 0) != 0) goto out;
    /* Pushed objects and refs are durable once git answers, as API commits are. */
    if (git_config_set_string(cfg, "core.fsync", "objects,reference") != 0) goto out;
    rc = 0;
out:
    git_config_free(cfg);
    git_repository_free(g);
    return rc;
}

/* Checks a tags map: no system tags, at most max tags. Returns 0 or a proto_err. */
static int check_tags(struct proto_req *req, struct json_object *tags, size_t existing)
{
    if (!tags) return 0;
    if (!json_object_is_type(tags, json_type_object))
        return proto_error(req, ERR_CC_INVALID_TAGS_MAP, "The map of tags is not valid.");
    json_object_object_foreach(tags, k, v)
    {
        (void)v;
        if (strncasecmp(k, "aws:", 4) == 0)
            return proto_error(req, ERR_CC_INVALID_SYSTEM_TAG_USAGE,
                               "The tag key %s uses the reserved prefix aws:", k);
    }
    if (existing + (size_t)json_object_object_length(tags) > CC_MAX_TAGS)
        return proto_error(req, ERR_TOO_MANY_TAGS,
                           "The maximum number of tags for an AWS CodeCommit resource has been "
                           "exceeded.");
    return 0;
}

int cc_op_create_repository(struct proto_req *req)
{
    const char *name = jstr(req->input, "repositoryName");
    const char *desc = jstr(req->input, "repositoryDescription");
    const char *kms = jstr(req->input, "kmsKeyId");
    struct json_object *tags = NULL, *rec = NULL;
    store_txn *t = NULL;
    char id[37], path[PATH_MAX], key[REPO_KEY_MAX];
    int rc = 0, created = 0;

    json_object_object_get_ex(req->input, "tags", &tags);
    if (bad_repo_name(name))
        return proto_error(
            req, ERR_CC_INVALID_REPOSITORY_NAME,
            "The repository name is not valid. Repository names cannot end in .git.");
    if ((rc = check_tags(req, tags, 0))) return rc;
    cc_git_init();
    proto_uuid(id);
    const char *acct = req->caller.account_id, *region = req->caller.region;
    if (cc_repo_dir(req->store, acct, region, id, path, sizeof path) != 0)
        return proto_error(req, ERR_INTERNAL_FAILURE, "data dir path too long");
    int klen = repo_key(key, acct, region, name);
    if (klen < 0)
        return proto_error(req, ERR_CC_INVALID_REPOSITORY_NAME,
                           "The repository name is not valid.");

    cc_write_lock();
    sweep_orphans(req->store);
    if (store_txn_begin(req->store, 1, &t) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not begin a transaction");
        goto out;
    }
    const void *val;
    size_t vlen;
    if (store_get(t, STORE_DB_CC_REPOS, key, (size_t)klen, &val, &vlen) == 0) {
        rc = proto_error(req, ERR_CC_REPOSITORY_NAME_EXISTS, "Repository named %s already exists",
                         name);
        goto out;
    }
    if (init_bare(path) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not create the git repository");
        goto out;
    }
    created = 1;
    double now = proto_now();
    rec = json_object_new_object();
    json_object_object_add(rec, "accountId", json_object_new_string(acct));
    json_object_object_add(rec, "repositoryId", json_object_new_string(id));
    json_object_object_add(rec, "repositoryName", json_object_new_string(name));
    if (desc) json_object_object_add(rec, "repositoryDescription", json_object_new_string(desc));
    json_object_object_add(rec, "lastModifiedDate", json_time(now));
    json_object_object_add(rec, "creationDate", json_time(now));
    json_object_object_add(rec, "Arn",
                           json_object_new_string(proto_arena_printf(
                               req->arena, "arn:aws:codecommit:%s:%s:%s", region, acct, name)));
    if (kms)
        json_object_object_add(rec, "kmsKeyId", json_object_new_string(kms));
    else
        json_object_object_add(
            rec, "kmsKeyId",
            json_object_new_string(proto_arena_printf(
                req->arena, "arn:aws:kms:%s:%s:alias/aws/codecommit", region, acct)));
    json_object_object_add(rec, "tags", tags ? json_object_get(tags) : json_object_new_object());
    json_object_object_add(rec, "_region", json_object_new_string(region));
    char idkey[REPO_KEY_MAX];
    int idlen = store_key(idkey, sizeof idkey, acct, region, id);
    /* A failed put leaves t open for the abort at out; a commit frees it either way. */
    int wrc = rec_put(t, rec) != 0 || idlen < 0 ||
              store_put(t, STORE_DB_CC_REPO_IDS, idkey, (size_t)idlen, name, strlen(name)) != 0;
    if (!wrc) {
        wrc = store_txn_commit(t) != 0;
        t = NULL;
    }
    if (wrc) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not store the repository");
        goto out;
    }
    created = 0;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "repositoryMetadata", metadata(req, rec));
out:
    store_txn_abort(t);
    if (created) rm_tree(path);
    cc_write_unlock();
    json_object_put(rec);
    return rc;
}

/* Loads the caller's record of name in a read txn; *rec new (caller puts). */
static int load_rec(struct proto_req *req, const char *name, struct json_object **rec)
{
    store_txn *t = NULL;
    *rec = NULL;
    if (store_txn_begin(req->store, 0, &t) != 0)
        return proto_error(req, ERR_INTERNAL_FAILURE, "could not begin a transaction");
    int rc = rec_get(t, req->caller.account_id, req->caller.region, name, rec);
    store_txn_abort(t);
    if (rc == STORE_NOTFOUND)
        return proto_error(req, ERR_CC_REPOSITORY_DOES_NOT_EXIST, "%s does not exist", name);
    if (rc) return proto_error(req, ERR_INTERNAL_FAILURE, "could not read the repository");
    return 0;
}

int cc_op_get_repository(struct proto_req *req)
{
    struct json_object *rec;
    int rc = load_rec(req, jstr(req->input, "repositoryName"), &rec);
    if (rc) return rc;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "repositoryMetadata", metadata(req, rec));
    json_object_put(rec);
    return 0;
}

int cc_op_batch_get_repositories(struct proto_req *req)
{
    struct json_object *names = NULL;
    store_txn *t = NULL;
    json_object_object_get_ex(req->input, "repositoryNames", &names);
    size_t n = names ? json_object_array_length(names) : 0;
    if (n > 100)
        return proto_error(req, ERR_CC_MAX_REPOSITORY_NAMES_EXCEEDED,
                           "The maximum number of allowed repository names was exceeded. "
                           "Currently, this number is 100.");
    if (store_txn_begin(req->store, 0, &t) != 0)
        return proto_error(req, ERR_INTERNAL_FAILURE, "could not begin a transaction");
    struct json_object *found = json_object_new_array(), *missing = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(names, i));
        struct json_object *rec = NULL;
        if (name && rec_get(t, req->caller.account_id, req->caller.region, name, &rec) == 0)
            json_object_array_add(found, metadata(req, rec));
        else
            json_object_array_add(missing, json_object_new_string(name ? name : ""));
        json_object_put(rec);
    }
    store_txn_abort(t);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "repositories", found);
    json_object_object_add(req->output, "repositoriesNotFound", missing);
    json_object_object_add(req->output, "errors", json_object_new_array());
    return 0;
}

int cc_op_delete_repository(struct proto_req *req)
{
    const char *name = jstr(req->input, "repositoryName");
    store_txn *t = NULL;
    struct json_object *rec = NULL;
    char key[REPO_KEY_MAX], idkey[REPO_KEY_MAX], path[PATH_MAX] = "";
    int rc = 0;
    int klen = repo_key(key, req->caller.account_id, req->caller.region, name);
    req->output = json_object_new_object();
    if (klen < 0) return 0;
    cc_write_lock();
    if (store_txn_begin(req->store, 1, &t) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not begin a transaction");
        goto out;
    }
    int g = rec_get(t, req->caller.account_id, req->caller.region, name, &rec);
    if (g == STORE_NOTFOUND) goto out; /* AWS answers success with no repositoryId */
    if (g) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not read the repository");
        goto out;
    }
    const char *id = jstr(rec, "repositoryId");
    int idlen = store_key(idkey, sizeof idkey, req->caller.account_id, req->caller.region, id);
    store_del(t, STORE_DB_CC_REPOS, key, (size_t)klen);
    if (idlen > 0) store_del(t, STORE_DB_CC_REPO_IDS, idkey, (size_t)idlen);
    cc_repo_dir(req->store, req->caller.account_id, req->caller.region, id, path, sizeof path);
    if (store_txn_commit(t) != 0) {
        t = NULL;
        path[0] = '\0';
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not delete the repository");
        goto out;
    }
    t = NULL;
    json_object_object_add(req->output, "repositoryId", json_object_new_string(id));
    if (path[0]) {
        /* Move aside first so that a crash mid-removal leaves no half repository in place. */
        char trash[PATH_MAX + 16];
        snprintf(trash, sizeof trash, "%s.deleted", path);
        if (rename(path, trash) == 0)
            rm_tree(trash);
        else
            rm_tree(path);
    }
out:
    store_txn_abort(t);
    cc_write_unlock();
    json_object_put(rec);
    return rc;
}

struct list_item {
    const char *name;
    const char *id;
    double modified;
};

static int cmp_name(const void *a, const void *b, void *desc)
{
    const struct list_item *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return *(int *)desc ? -c : c;
}

static int cmp_modified(const void *a, const void *b, void *desc)
{
    const struct list_item *x = a, *y = b;
    int c = x->modified < y->modified   ? -1
            : x->modified > y->modified ? 1
                                        : strcmp(x->name, y->name);
    return *(int *)desc ? -c : c;
}

/* The page size of ListRepositories and ListBranches: AWS's 1000, or CPL_CODECOMMIT_PAGE_SIZE
 * (used by the tests to exercise pagination cheaply). */
size_t cc_page_size(void)
{
    const char *e = getenv("CPL_CODECOMMIT_PAGE_SIZE");
    long v = e ? strtol(e, NULL, 10) : 0;
    return v > 0 && v <= 1000 ? (size_t)v : 1000;
}

/* Parses a continuation token made by cc_token; returns the offset or -1. */
long cc_token_parse(const char *tok)
{
    if (!tok) return 0;
    if (strncmp(tok, "cc1-", 4) != 0) return -1;
    char *end;
    long v = strtol(tok + 4, &end, 10);
    if (*end || v <= 0 || end == tok + 4) return -1;
    return v;
}

/* Returns a continuation token for offset (arena-owned). */
char *cc_token(proto_arena *a, size_t offset)
{
    return proto_arena_printf(a, "cc1-%zu", offset);
}

int cc_op_list_repositories(struct proto_req *req)
{
    const char *sort_by = jstr(req->input, "sortBy");
    const char *order = jstr(req->input, "order");
    long start = cc_token_parse(jstr(req->input, "nextToken"));
    store_txn *t = NULL;
    store_cursor *c = NULL;
    char prefix[REPO_KEY_MAX];
    int rc = 0;
    if (start < 0)
        return proto_error(req, ERR_CC_INVALID_CONTINUATION_TOKEN,
                           "The specified continuation token is not valid.");
    int plen = store_key(prefix, sizeof prefix, req->caller.account_id, req->caller.region, "");
    size_t n = 0, cap = 64;
    struct list_item *items = malloc(cap * sizeof *items);
    if (!items) abort();
    if (store_txn_begin(req->store, 0, &t) != 0 ||
        store_cursor_open(t, STORE_DB_CC_REPOS, &c) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not list repositories");
        goto out;
    }
    for (int r = store_cursor_seek(c, prefix, (size_t)plen); r == 0; r = store_cursor_next(c)) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (kl < (size_t)plen || memcmp(k, prefix, (size_t)plen) != 0) break;
        struct json_tokener *tok = json_tokener_new();
        struct json_object *rec = json_tokener_parse_ex(tok, v, (int)vl);
        json_tokener_free(tok);
        if (!rec) continue;
        if (n == cap) {
            cap *= 2;
            items = realloc(items, cap * sizeof *items);
            if (!items) abort();
        }
        struct json_object *m;
        items[n].name = proto_arena_strdup(req->arena, jstr(rec, "repositoryName"));
        items[n].id = proto_arena_strdup(req->arena, jstr(rec, "repositoryId"));
        items[n].modified =
            json_object_object_get_ex(rec, "lastModifiedDate", &m) ? json_object_get_double(m) : 0;
        n++;
        json_object_put(rec);
    }
    int desc = order && strcmp(order, "descending") == 0;
    qsort_r(items, n, sizeof *items,
            sort_by && strcmp(sort_by, "lastModifiedDate") == 0 ? cmp_modified : cmp_name, &desc);
    if ((size_t)start > n) {
        rc = proto_error(req, ERR_CC_INVALID_CONTINUATION_TOKEN,
                         "The specified continuation token is not valid.");
        goto out;
    }
    size_t page = cc_page_size();
    struct json_object *arr = json_object_new_array();
    size_t i = (size_t)start;
    for (; i < n && i < (size_t)start + page; i++) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "repositoryName", json_object_new_string(items[i].name));
        json_object_object_add(o, "repositoryId", json_object_new_string(items[i].id));
        json_object_array_add(arr, o);
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "repositories", arr);
    if (i < n)
        json_object_object_add(req->output, "nextToken",
                               json_object_new_string(cc_token(req->arena, i)));
out:
    if (c) store_cursor_close(c);
    store_txn_abort(t);
    free(items);
    return rc;
}

typedef int (*rec_fn)(struct proto_req *req, struct json_object *rec, void *ctx);

/* Applies fn to the caller's record of name in a write txn and stores it; then, still under the
 * write lock, runs after (may be NULL) for what lives outside LMDB, so that nothing outside moves
 * when the record cannot be stored. */
static int update_rec(struct proto_req *req, const char *name, rec_fn fn, rec_fn after, void *ctx)
{
    store_txn *t = NULL;
    struct json_object *rec = NULL;
    int rc = 0;
    cc_write_lock();
    if (store_txn_begin(req->store, 1, &t) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not begin a transaction");
        goto out;
    }
    int g = rec_get(t, req->caller.account_id, req->caller.region, name, &rec);
    if (g == STORE_NOTFOUND) {
        rc = proto_error(req, ERR_CC_REPOSITORY_DOES_NOT_EXIST, "%s does not exist", name);
        goto out;
    }
    if (g) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not read the repository");
        goto out;
    }
    if ((rc = fn(req, rec, ctx))) goto out;
    int wrc = rec_put(t, rec) != 0; /* on failure t stays open for the abort at out */
    if (!wrc) {
        wrc = store_txn_commit(t) != 0;
        t = NULL;
    }
    if (wrc) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not store the repository");
        goto out;
    }
    if (after) rc = after(req, rec, ctx);
out:
    store_txn_abort(t);
    cc_write_unlock();
    json_object_put(rec);
    return rc;
}

static int set_description(struct proto_req *req, struct json_object *rec, void *ctx)
{
    const char *desc = ctx;
    if (desc)
        json_object_object_add(rec, "repositoryDescription", json_object_new_string(desc));
    else
        json_object_object_del(rec, "repositoryDescription");
    json_object_object_add(rec, "lastModifiedDate", json_time(proto_now()));
    return 0;
}

int cc_op_update_repository_description(struct proto_req *req)
{
    return update_rec(req, jstr(req->input, "repositoryName"), set_description, NULL,
                      (void *)jstr(req->input, "repositoryDescription"));
}

/* Checks that branch exists (set_head 0) and records it as the default, or (set_head 1), once
 * the record is stored, points the bare repository's HEAD (what a clone checks out) at it. */
static int default_branch(struct proto_req *req, struct json_object *rec, const char *branch,
                          int set_head)
{
    git_repository *g = NULL;
    git_reference *ref = NULL;
    char path[PATH_MAX], refname[512];
    int rc = 0;
    cc_git_init();
    snprintf(refname, sizeof refname, "refs/heads/%s", branch);
    if (cc_repo_dir(req->store, req->caller.account_id, req->caller.region,
                    jstr(rec, "repositoryId"), path, sizeof path) != 0 ||
        git_repository_open_bare(&g, path) != 0)
        return proto_error(req, ERR_INTERNAL_FAILURE, "could not open the git repository");
    if (set_head) {
        if (git_repository_set_head(g, refname) != 0)
            rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not update HEAD");
        goto out;
    }
    if (!cc_branch_name_valid(branch) || git_reference_lookup(&ref, g, refname) != 0) {
        rc = proto_error(req, ERR_CC_BRANCH_DOES_NOT_EXIST, "Branch %s does not exist", branch);
        goto out;
    }
    json_object_object_add(rec, "defaultBranch", json_object_new_string(branch));
    json_object_object_add(rec, "lastModifiedDate", json_time(proto_now()));
out:
    git_reference_free(ref);
    git_repository_free(g);
    return rc;
}

static int set_default_branch(struct proto_req *req, struct json_object *rec, void *ctx)
{
    return default_branch(req, rec, ctx, 0);
}

static int point_head(struct proto_req *req, struct json_object *rec, void *ctx)
{
    return default_branch(req, rec, ctx, 1);
}

int cc_op_update_default_branch(struct proto_req *req)
{
    return update_rec(req, jstr(req->input, "repositoryName"), set_default_branch, point_head,
                      (void *)jstr(req->input, "defaultBranchName"));
}

int cc_op_update_repository_name(struct proto_req *req)
{
    const char *old = jstr(req->input, "oldName"), *new = jstr(req->input, "newName");
    const char *acct = req->caller.account_id, *region = req->caller.region;
    store_txn *t = NULL;
    struct json_object *rec = NULL;
    char okey[REPO_KEY_MAX], nkey[REPO_KEY_MAX], idkey[REPO_KEY_MAX];
    int rc = 0;
    if (bad_repo_name(new))
        return proto_error(
            req, ERR_CC_INVALID_REPOSITORY_NAME,
            "The repository name is not valid. Repository names cannot end in .git.");
    int ol = repo_key(okey, acct, region, old), nl = repo_key(nkey, acct, region, new);
    if (ol < 0) return proto_error(req, ERR_CC_REPOSITORY_DOES_NOT_EXIST, "%s does not exist", old);
    if (nl < 0)
        return proto_error(req, ERR_CC_INVALID_REPOSITORY_NAME,
                           "The repository name is not valid.");
    cc_write_lock();
    if (store_txn_begin(req->store, 1, &t) != 0) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not begin a transaction");
        goto out;
    }
    int g = rec_get(t, acct, region, old, &rec);
    if (g == STORE_NOTFOUND) {
        rc = proto_error(req, ERR_CC_REPOSITORY_DOES_NOT_EXIST, "%s does not exist", old);
        goto out;
    }
    if (g) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not read the repository");
        goto out;
    }
    if (strcmp(old, new) == 0) goto out;
    const void *v;
    size_t vl;
    if (store_get(t, STORE_DB_CC_REPOS, nkey, (size_t)nl, &v, &vl) == 0) {
        rc = proto_error(req, ERR_CC_REPOSITORY_NAME_EXISTS, "Repository named %s already exists",
                         new);
        goto out;
    }
    json_object_object_add(rec, "repositoryName", json_object_new_string(new));
    json_object_object_add(rec, "Arn",
                           json_object_new_string(proto_arena_printf(
                               req->arena, "arn:aws:codecommit:%s:%s:%s", region, acct, new)));
    json_object_object_add(rec, "lastModifiedDate", json_time(proto_now()));
    int il = store_key(idkey, sizeof idkey, acct, region, jstr(rec, "repositoryId"));
    int wrc = store_del(t, STORE_DB_CC_REPOS, okey, (size_t)ol) != 0 || rec_put(t, rec) != 0 ||
              il < 0 ||
              store_put(t, STORE_DB_CC_REPO_IDS, idkey, (size_t)il, new, strlen(new)) != 0;
    if (!wrc) { /* on failure t stays open for the abort at out */
        wrc = store_txn_commit(t) != 0;
        t = NULL;
    }
    if (wrc) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "could not rename the repository");
        goto out;
    }
out:
    store_txn_abort(t);
    cc_write_unlock();
    json_object_put(rec);
    return rc;
}

/* Extracts the repository name of a CodeCommit ARN in the caller's account and region.
 * Returns the name (arena) or NULL with the error set in *rc. */
static const char *arn_repo(struct proto_req *req, int *rc)
{
    const char *arn = jstr(req->input, "resourceArn");
    const char *p[6];
    size_t len[6];
    const char *s = arn;
    *rc = 0;
    for (int i = 0; i < 6; i++) {
        const char *e = i < 5 ? strchr(s, ':') : s + strlen(s);
        if (!e) goto bad;
        p[i] = s;
        len[i] = (size_t)(e - s);
        s = e + 1;
    }
    if (len[0] != 3 || memcmp(p[0], "arn", 3) != 0 || len[2] != 10 ||
        memcmp(p[2], "codecommit", 10) != 0 || len[5] == 0 || len[5] > 100 || len[4] != 12)
        goto bad;
    if (len[3] != strlen(req->caller.region) || memcmp(p[3], req->caller.region, len[3]) != 0 ||
        memcmp(p[4], req->caller.account_id, 12) != 0) {
        *rc = proto_error(req, ERR_CC_REPOSITORY_DOES_NOT_EXIST, "%.*s does not exist", (int)len[5],
                          p[5]);
        return NULL;
    }
    return proto_arena_strndup(req->arena, p[5], len[5]);
bad:
    *rc = proto_error(req, ERR_CC_INVALID_RESOURCE_ARN,
                      "The value for the resource ARN is not valid.");
    return NULL;
}

static int add_tags(struct proto_req *req, struct json_object *rec, void *ctx)
{
    struct json_object *tags = ctx, *cur = NULL;
    if (!json_object_object_get_ex(rec, "tags", &cur)) {
        cur = json_object_new_object();
        json_object_object_add(rec, "tags", cur);
    }
    size_t existing = 0;
    json_object_object_foreach(cur, k, v)
    {
        (void)v;
        if (!json_object_object_get_ex(tags, k, NULL)) existing++;
    }
    int rc = check_tags(req, tags, existing);
    if (rc) return rc;
    json_object_object_foreach(tags, k2, v2) json_object_object_add(cur, k2, json_object_get(v2));
    return 0;
}

int cc_op_tag_resource(struct proto_req *req)
{
    int rc;
    const char *name = arn_repo(req, &rc);
    if (!name) return rc;
    struct json_object *tags = NULL;
    json_object_object_get_ex(req->input, "tags", &tags);
    return update_rec(req, name, add_tags, NULL, tags);
}

static int del_tags(struct proto_req *req, struct json_object *rec, void *ctx)
{
    struct json_object *keys = ctx, *cur = NULL;
    if (!json_object_object_get_ex(rec, "tags", &cur)) return 0;
    size_t n = json_object_array_length(keys);
    for (size_t i = 0; i < n; i++) {
        const char *k = json_object_get_string(json_object_array_get_idx(keys, i));
        if (k && strncasecmp(k, "aws:", 4) == 0)
            return proto_error(req, ERR_CC_INVALID_SYSTEM_TAG_USAGE,
                               "The tag key %s uses the reserved prefix aws:", k);
        if (k) json_object_object_del(cur, k);
    }
    return 0;
}

int cc_op_untag_resource(struct proto_req *req)
{
    int rc;
    const char *name = arn_repo(req, &rc);
    if (!name) return rc;
    struct json_object *keys = NULL;
    json_object_object_get_ex(req->input, "tagKeys", &keys);
    return update_rec(req, name, del_tags, NULL, keys);
}

int cc_op_list_tags_for_resource(struct proto_req *req)
{
    int rc;
    const char *name = arn_repo(req, &rc);
    if (!name) return rc;
    struct json_object *rec = NULL, *tags = NULL;
    if ((rc = load_rec(req, name, &rec))) return rc;
    req->output = json_object_new_object();
    json_object_object_get_ex(rec, "tags", &tags);
    json_object_object_add(req->output, "tags",
                           tags ? json_object_get(tags) : json_object_new_object());
    json_object_put(rec);
    return 0;
}
