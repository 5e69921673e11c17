/* Build projects: CreateProject, UpdateProject, BatchGetProjects, ListProjects, DeleteProject.
 * A project's tags are part of its record, as CodeBuild has no separate tagging operations. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/codebuild/internal.h"

#define LIST_PAGE 100

static struct json_object *get(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    if (o) json_object_object_get_ex(o, k, &v);
    return v;
}

static void set_default(struct json_object *o, const char *k, struct json_object *v)
{
    if (get(o, k))
        json_object_put(v);
    else
        json_object_object_add(o, k, v);
}

/* Returns a deep copy of v (NULL gives NULL). */
static struct json_object *copy(struct json_object *v)
{
    struct json_object *out = NULL;
    if (v && json_object_deep_copy(v, &out, NULL) != 0) return NULL;
    return out;
}

/* Fills AWS's defaults into a ProjectSource (or a secondary source). */
static void source_defaults(struct json_object *s)
{
    set_default(s, "insecureSsl", json_object_new_boolean(0));
}

/* Fills AWS's defaults into ProjectArtifacts. */
static void artifacts_defaults(struct json_object *a, const char *project)
{
    const char *type = cb_json_str(a, "type");
    if (type && !strcmp(type, "NO_ARTIFACTS")) return;
    set_default(a, "name", json_object_new_string(project));
    if (type && !strcmp(type, "S3"))
        set_default(a, "namespaceType", json_object_new_string("NONE"));
    set_default(a, "packaging", json_object_new_string("NONE"));
    set_default(a, "encryptionDisabled", json_object_new_boolean(0));
}

static void environment_defaults(struct json_object *e)
{
    set_default(e, "environmentVariables", json_object_new_array());
    set_default(e, "privilegedMode", json_object_new_boolean(0));
    set_default(e, "imagePullCredentialsType", json_object_new_string("CODEBUILD"));
    struct json_object *vars = get(e, "environmentVariables");
    for (size_t i = 0; i < json_object_array_length(vars); i++)
        set_default(json_object_array_get_idx(vars, i), "type",
                    json_object_new_string("PLAINTEXT"));
}

static void logs_defaults(struct json_object *l)
{
    struct json_object *cw = get(l, "cloudWatchLogs"), *s3 = get(l, "s3Logs");
    if (!cw) {
        cw = json_object_new_object();
        json_object_object_add(cw, "status", json_object_new_string("ENABLED"));
        json_object_object_add(l, "cloudWatchLogs", cw);
    }
    if (!s3) {
        s3 = json_object_new_object();
        json_object_object_add(s3, "status", json_object_new_string("DISABLED"));
        json_object_object_add(l, "s3Logs", s3);
    }
    set_default(s3, "encryptionDisabled", json_object_new_boolean(0));
}

/* Source types whose location is required. */
static int needs_location(const char *type)
{
    return !strcmp(type, "S3") || !strcmp(type, "CODECOMMIT") || !strcmp(type, "GITHUB") ||
           !strcmp(type, "BITBUCKET") || !strcmp(type, "GITHUB_ENTERPRISE") ||
           !strcmp(type, "GITLAB") || !strcmp(type, "GITLAB_SELF_MANAGED");
}

/* Checks a source as CodeBuild does. Returns 0 or the proto_error. */
static int check_source(struct proto_req *req, struct json_object *s, int secondary)
{
    const char *type = cb_json_str(s, "type");
    const char *loc = cb_json_str(s, "location");
    if (!type) return 0; /* the model requires it */
    if (needs_location(type) && (!loc || !*loc))
        return proto_error(req, ERR_CB_INVALID_INPUT,
                           "Invalid source location: location must be specified for source type "
                           "%s",
                           type);
    if (!strcmp(type, "NO_SOURCE") && !secondary) {
        const char *bs = cb_json_str(s, "buildspec");
        if (!bs || !*bs)
            return proto_error(req, ERR_CB_INVALID_INPUT,
                               "Project buildspec cannot be empty when source type is NO_SOURCE");
    }
    if (secondary && !cb_json_str(s, "sourceIdentifier"))
        return proto_error(req, ERR_CB_INVALID_INPUT,
                           "Secondary sources must have a sourceIdentifier");
    return 0;
}

static int check_artifacts(struct proto_req *req, struct json_object *a, int secondary)
{
    const char *type = cb_json_str(a, "type");
    if (!type) return 0;
    if (!strcmp(type, "S3")) {
        const char *loc = cb_json_str(a, "location");
        if (!loc || !*loc)
            return proto_error(req, ERR_CB_INVALID_INPUT,
                               "Invalid artifacts: location must be specified for artifacts type "
                               "S3");
    }
    if (secondary && !cb_json_str(a, "artifactIdentifier"))
        return proto_error(req, ERR_CB_INVALID_INPUT,
                           "Secondary artifacts must have an artifactIdentifier");
    return 0;
}

/* Checks the whole project (after an update has been merged). Returns 0 or the proto_error. */
static int check_project(struct proto_req *req, struct json_object *p)
{
    struct json_object *src = get(p, "source"), *art = get(p, "artifacts");
    int rc;
    if ((rc = check_source(req, src, 0))) return rc;
    if ((rc = check_artifacts(req, art, 0))) return rc;
    const char *st = cb_json_str(src, "type"), *at = cb_json_str(art, "type");
    int scp = st && !strcmp(st, "CODEPIPELINE"), acp = at && !strcmp(at, "CODEPIPELINE");
    if (scp != acp)
        return proto_error(req, ERR_CB_INVALID_INPUT,
                           "Both source and artifacts must be set to CodePipeline");
    struct json_object *ss = get(p, "secondarySources"), *sa = get(p, "secondaryArtifacts");
    for (size_t i = 0; ss && i < json_object_array_length(ss); i++)
        if ((rc = check_source(req, json_object_array_get_idx(ss, i), 1))) return rc;
    for (size_t i = 0; sa && i < json_object_array_length(sa); i++)
        if ((rc = check_artifacts(req, json_object_array_get_idx(sa, i), 1))) return rc;
    struct json_object *env = get(p, "environment");
    struct json_object *vars = get(env, "environmentVariables");
    for (size_t i = 0; vars && i < json_object_array_length(vars); i++) {
        struct json_object *v = json_object_array_get_idx(vars, i);
        const char *name = cb_json_str(v, "name");
        if (name && !strncmp(name, "CODEBUILD_", 10))
            return proto_error(req, ERR_CB_INVALID_INPUT,
                               "Invalid environment variable name: %s. Environment variable "
                               "names cannot start with CODEBUILD_",
                               name);
    }
    struct json_object *tags = get(p, "tags");
    for (size_t i = 0; tags && i < json_object_array_length(tags); i++) {
        const char *k = cb_json_str(json_object_array_get_idx(tags, i), "key");
        if (k && !strncmp(k, "aws:", 4))
            return proto_error(req, ERR_CB_INVALID_INPUT,
                               "Invalid tag key: tag keys cannot start with 'aws:'");
    }
    return 0;
}

/* Members copied from the input as they are (the ones with defaults come after). */
static const char *const PLAIN_MEMBERS[] = {
    "description",
    "source",
    "secondarySources",
    "sourceVersion",
    "secondarySourceVersions",
    "artifacts",
    "secondaryArtifacts",
    "cache",
    "environment",
    "serviceRole",
    "timeoutInMinutes",
    "queuedTimeoutInMinutes",
    "encryptionKey",
    "tags",
    "vpcConfig",
    "logsConfig",
    "fileSystemLocations",
    "buildBatchConfig",
    "concurrentBuildLimit",
    "autoRetryLimit",
};

/* Applies the input's members over p (a new or stored Project). */
static void merge_input(struct json_object *p, struct json_object *in)
{
    for (size_t i = 0; i < sizeof PLAIN_MEMBERS / sizeof *PLAIN_MEMBERS; i++) {
        struct json_object *v = get(in, PLAIN_MEMBERS[i]);
        if (v) json_object_object_add(p, PLAIN_MEMBERS[i], copy(v));
    }
    struct json_object *b = get(in, "badgeEnabled");
    if (b) {
        struct json_object *badge = json_object_new_object();
        json_object_object_add(badge, "badgeEnabled",
                               json_object_new_boolean(json_object_get_boolean(b)));
        if (json_object_get_boolean(b)) {
            char uuid[37];
            proto_uuid(uuid);
            char url[160];
            snprintf(url, sizeof url,
                     "https://codebuild.%s.amazonaws.com/badges?uuid=%s&branch=main", "local",
                     uuid);
            json_object_object_add(badge, "badgeRequestUrl", json_object_new_string(url));
        }
        json_object_object_add(p, "badge", badge);
    }
}

/* Fills every default AWS returns. */
static void project_defaults(struct json_object *p, const char *name, const char *account,
                             const char *region)
{
    char buf[600];
    struct json_object *v;
    if ((v = get(p, "source"))) source_defaults(v);
    if ((v = get(p, "secondarySources")))
        for (size_t i = 0; i < json_object_array_length(v); i++)
            source_defaults(json_object_array_get_idx(v, i));
    if ((v = get(p, "artifacts"))) artifacts_defaults(v, name);
    if ((v = get(p, "secondaryArtifacts")))
        for (size_t i = 0; i < json_object_array_length(v); i++)
            artifacts_defaults(json_object_array_get_idx(v, i), name);
    if ((v = get(p, "environment"))) environment_defaults(v);
    struct json_object *cache = json_object_new_object();
    json_object_object_add(cache, "type", json_object_new_string("NO_CACHE"));
    set_default(p, "cache", cache);
    set_default(p, "timeoutInMinutes", json_object_new_int(60));
    set_default(p, "queuedTimeoutInMinutes", json_object_new_int(480));
    snprintf(buf, sizeof buf, "arn:aws:kms:%s:%s:alias/aws/s3", region, account);
    set_default(p, "encryptionKey", json_object_new_string(buf));
    set_default(p, "tags", json_object_new_array());
    struct json_object *badge = json_object_new_object();
    json_object_object_add(badge, "badgeEnabled", json_object_new_boolean(0));
    set_default(p, "badge", badge);
    set_default(p, "logsConfig", json_object_new_object());
    logs_defaults(get(p, "logsConfig"));
    set_default(p, "projectVisibility", json_object_new_string("PRIVATE"));
}

/* Writes p as the record of name with header h, and answers {"project": p}. */
static int save_and_answer(struct proto_req *req, store_txn *t, const char *key,
                           struct cb_proj_hdr *h, struct json_object *p)
{
    size_t len;
    char *rec = cb_proj_make(h, p, &len);
    int rc = store_put(t, STORE_DB_CB_PROJECTS, key, strlen(key), rec, len);
    if (!rc) {
        proto_sb_reset(&req->body);
        proto_sb_puts(&req->body, "{\"project\":");
        proto_sb_append(&req->body, rec + sizeof *h, h->json_len);
        proto_sb_putc(&req->body, '}');
    }
    free(rec);
    return rc;
}

static int create_or_update(struct proto_req *req, int update)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = cb_json_str(req->input, "name");
    struct json_object *p = NULL;
    store_txn *t = NULL;
    int rc = 0;
    char key[512];

    if (update) {
        const char *n = cb_project_name_of(req->arena, acct, region, name);
        if (!n) return proto_error(req, ERR_RESOURCE_NOT_FOUND, "Failed to find project: %s", name);
        name = n;
    }
    if (store_key(key, sizeof key, acct, region, name) < 0)
        return proto_error(req, ERR_CB_INVALID_INPUT, "Invalid project name");
    if ((rc = store_txn_begin(req->store, 1, &t))) goto store_fail;
    struct cb_proj_hdr h = {0};
    double now = proto_now();
    rc = cb_project_read(t, acct, region, name, &h, update ? &p : NULL);
    if (update && rc == STORE_NOTFOUND) {
        rc = proto_error(req, ERR_RESOURCE_NOT_FOUND, "Failed to find project: %s", name);
        goto out;
    }
    if (!update && rc == 0) {
        rc = proto_error(req, ERR_RESOURCE_ALREADY_EXISTS,
                         "Project already exists: arn:aws:codebuild:%s:%s:project/%s", region, acct,
                         name);
        goto out;
    }
    if (rc && rc != STORE_NOTFOUND) goto store_fail;
    if (!update) {
        memset(&h, 0, sizeof h);
        h.created = now;
        p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(name));
        char *arn = proto_arena_printf(req->arena, "arn:aws:codebuild:%s:%s:project/%s", region,
                                       acct, name);
        json_object_object_add(p, "arn", json_object_new_string(arn));
    }
    merge_input(p, req->input);
    if ((rc = check_project(req, p))) goto out;
    project_defaults(p, name, acct, region);
    h.modified = now;
    json_object_object_add(p, "created", cb_json_time(h.created));
    json_object_object_add(p, "lastModified", cb_json_time(h.modified));
    if ((rc = save_and_answer(req, t, key, &h, p))) goto store_fail;
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) goto store_fail;
    goto out;
store_fail:
    rc = cb_store_error(req, rc);
out:
    json_object_put(p);
    store_txn_abort(t);
    return rc;
}

int cb_op_create_project(struct proto_req *req)
{
    return create_or_update(req, 0);
}

int cb_op_update_project(struct proto_req *req)
{
    return create_or_update(req, 1);
}

/* Finds a project of the caller by name or ARN for cb_batch_get. */
static int find_project(struct proto_req *req, store_txn *t, const char *given, const char **json,
                        size_t *len)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name = cb_project_name_of(req->arena, acct, region, given);
    char key[512];
    const void *val;
    size_t vlen;
    struct cb_proj_hdr h;
    if (!name || store_key(key, sizeof key, acct, region, name) < 0 ||
        store_get(t, STORE_DB_CB_PROJECTS, key, strlen(key), &val, &vlen) != 0 ||
        cb_proj_parse(val, vlen, &h, json) != 0)
        return -1;
    *len = h.json_len;
    return 0;
}

int cb_op_batch_get_projects(struct proto_req *req)
{
    return cb_batch_get(req, "names", "projects", find_project);
}

struct proj_entry {
    char *name;
    double created, modified;
};

static _Thread_local int sort_key; /* 0 name, 1 created, 2 modified: qsort has no context */
static int cmp_entry(const void *a, const void *b)
{
    const struct proj_entry *x = a, *y = b;
    double dx = sort_key == 1 ? x->created : x->modified;
    double dy = sort_key == 1 ? y->created : y->modified;
    if (sort_key && dx != dy) return dx < dy ? -1 : 1;
    return strcmp(x->name, y->name);
}

int cb_op_list_projects(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *by = cb_json_str(req->input, "sortBy");
    const char *order = cb_json_str(req->input, "sortOrder");
    int key = !by || !strcmp(by, "NAME") ? 0 : !strcmp(by, "CREATED_TIME") ? 1 : 2;
    int desc = order && !strcmp(order, "DESCENDING");
    size_t offset = 0;
    store_txn *t = NULL;
    store_cursor *c = NULL;
    struct proj_entry *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if ((rc = cb_page_offset(req, &offset))) return rc;
    char prefix[512];
    int plen = store_key(prefix, sizeof prefix, acct, region, "");
    if (plen < 0) return proto_error(req, ERR_INTERNAL_FAILURE, "key too long");
    if ((rc = store_txn_begin(req->store, 0, &t))) goto store_fail;
    if ((rc = store_cursor_open(t, STORE_DB_CB_PROJECTS, &c))) goto store_fail;
    for (int r = store_cursor_seek(c, prefix, (size_t)plen); r == 0; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl <= (size_t)plen || memcmp(k, prefix, (size_t)plen) != 0) break;
        struct cb_proj_hdr h;
        const char *json;
        if (cb_proj_parse(val, vl, &h, &json)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            v = realloc(v, cap * sizeof *v);
            if (!v) abort();
        }
        v[n].name = proto_arena_strndup(req->arena, (const char *)k + plen, kl - (size_t)plen);
        v[n].created = h.created;
        v[n].modified = h.modified;
        n++;
    }
    sort_key = key;
    if (n) qsort(v, n, sizeof *v, cmp_entry);
    cb_answer_page(req, "projects", v, sizeof *v, n, offset, LIST_PAGE, desc);
    goto out;
store_fail:
    rc = cb_store_error(req, rc);
out:
    free(v);
    store_cursor_close(c);
    store_txn_abort(t);
    return rc;
}

int cb_op_delete_project(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *name =
        cb_project_name_of(req->arena, acct, region, cb_json_str(req->input, "name"));
    store_txn *t = NULL;
    char key[512];
    int rc = 0;
    /* AWS answers success for a project that does not exist. */
    if (!name || store_key(key, sizeof key, acct, region, name) < 0) goto out;
    if ((rc = store_txn_begin(req->store, 1, &t))) goto store_fail;
    rc = store_del(t, STORE_DB_CB_PROJECTS, key, strlen(key));
    if (rc && rc != STORE_NOTFOUND) goto store_fail;
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) goto store_fail;
    goto out;
store_fail:
    rc = cb_store_error(req, rc);
out:
    store_txn_abort(t);
    return rc;
}
