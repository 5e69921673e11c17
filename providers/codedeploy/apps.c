/* Applications, application revisions and resource tags. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/codedeploy/cd_internal.h"

#define PAGE 100

static int txn_fail(struct proto_req *req)
{
    return proto_error(req, ERR_INTERNAL_FAILURE, "could not access the store");
}

static int commit(struct proto_req *req, store_txn **t)
{
    int rc = store_txn_commit(*t);
    *t = NULL;
    return rc ? txn_fail(req) : 0;
}

/* Checks a Tags list ({Key, Value}); returns 0 or InvalidTagsToAddException. */
static int check_tags(struct proto_req *req, struct json_object *tags)
{
    if (!tags) return 0;
    size_t n = json_object_array_length(tags);
    for (size_t i = 0; i < n; i++) {
        const char *k = cd_str(json_object_array_get_idx(tags, i), "Key");
        if (!k || !*k)
            return proto_error(req, ERR_CD_INVALID_TAGS_TO_ADD, "Tag key must not be empty");
    }
    return 0;
}

/* Returns tags merged over old (new reference). */
static struct json_object *merge_tags(struct json_object *old, struct json_object *add)
{
    struct json_object *out = json_object_new_array();
    size_t no = old ? json_object_array_length(old) : 0, na = json_object_array_length(add);
    for (size_t i = 0; i < no; i++) {
        struct json_object *o = json_object_array_get_idx(old, i);
        int replaced = 0;
        for (size_t j = 0; j < na && !replaced; j++)
            replaced =
                strcmp(cd_str(o, "Key"), cd_str(json_object_array_get_idx(add, j), "Key")) == 0;
        if (!replaced) json_object_array_add(out, json_object_get(o));
    }
    for (size_t j = 0; j < na; j++) {
        struct json_object *a = json_object_array_get_idx(add, j), *tag = json_object_new_object();
        json_object_object_add(tag, "Key", json_object_new_string(cd_str(a, "Key")));
        json_object_object_add(
            tag, "Value", json_object_new_string(cd_str(a, "Value") ? cd_str(a, "Value") : ""));
        json_object_array_add(out, tag);
    }
    return out;
}

/* ---- Applications ---- */

int cd_op_create_application(struct proto_req *req)
{
    const char *name, *platform = cd_str(req->input, "computePlatform");
    struct json_object *tags = NULL, *rec = NULL;
    store_txn *t = NULL;
    char key[CD_KEY_MAX], id[37];
    int rc = cd_need_name(req, "applicationName", ERR_CD_APPLICATION_NAME_REQUIRED,
                          ERR_CD_INVALID_APPLICATION_NAME, "Application", &name);
    if (rc) return rc;
    if (!platform) platform = "Server";
    json_object_object_get_ex(req->input, "tags", &tags);
    if ((rc = check_tags(req, tags))) return rc;
    if (store_txn_begin(req->store, 1, &t)) return txn_fail(req);
    proto_uuid(id);
    rec = json_object_new_object();
    json_object_object_add(rec, "applicationId", json_object_new_string(id));
    json_object_object_add(rec, "applicationName", json_object_new_string(name));
    json_object_object_add(rec, "createTime", cd_time(proto_now()));
    json_object_object_add(rec, "linkedToGitHub", json_object_new_boolean(0));
    json_object_object_add(rec, "computePlatform", json_object_new_string(platform));
    int klen = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_APP, name, NULL);
    size_t n;
    const char *s = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN, &n);
    int r = store_put_new(t, STORE_DB_CD_APPLICATIONS, key, (size_t)klen, s, n);
    if (r == 1) {
        rc = proto_error(req, ERR_CD_APPLICATION_ALREADY_EXISTS,
                         "The application %s already exists", name);
        goto out;
    }
    if (r ||
        (tags && cd_tags_put(t, CD_ACCT(req), CD_REGION(req),
                             cd_arn_app(req->arena, CD_ACCT(req), CD_REGION(req), name), tags))) {
        rc = txn_fail(req);
        goto out;
    }
    if ((rc = commit(req, &t))) goto out;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "applicationId", json_object_new_string(id));
out:
    store_txn_abort(t);
    json_object_put(rec);
    return rc;
}

int cd_op_get_application(struct proto_req *req)
{
    const char *name;
    struct json_object *app = NULL;
    store_txn *t = NULL;
    int rc = cd_need_name(req, "applicationName", ERR_CD_APPLICATION_NAME_REQUIRED,
                          ERR_CD_INVALID_APPLICATION_NAME, "Application", &name);
    if (rc) return rc;
    if (store_txn_begin(req->store, 0, &t)) return txn_fail(req);
    rc = cd_app_load(req, t, name, &app);
    store_txn_abort(t);
    if (rc) return rc;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "application", app);
    return 0;
}

int cd_op_batch_get_applications(struct proto_req *req)
{
    struct json_object *names = NULL, *list = NULL;
    store_txn *t = NULL;
    int rc = 0;
    json_object_object_get_ex(req->input, "applicationNames", &names);
    size_t n = names ? json_object_array_length(names) : 0;
    if (n == 0)
        return proto_error(req, ERR_CD_APPLICATION_NAME_REQUIRED, "Application names are missing");
    if (n > CD_MAX_BATCH)
        return proto_error(req, ERR_CD_BATCH_LIMIT_EXCEEDED,
                           "The maximum number of names that can be specified is %d", CD_MAX_BATCH);
    if (store_txn_begin(req->store, 0, &t)) return txn_fail(req);
    list = json_object_new_array();
    for (size_t i = 0; i < n && !rc; i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(names, i));
        struct json_object *app = NULL;
        if (!name || !*name || !cd_name_ok(name))
            rc = proto_error(req, ERR_CD_INVALID_APPLICATION_NAME, "Application name is invalid");
        else if (!(rc = cd_app_load(req, t, name, &app)))
            json_object_array_add(list, app);
    }
    store_txn_abort(t);
    if (rc) {
        json_object_put(list);
        return rc;
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "applicationsInfo", list);
    return 0;
}

struct names_ctx {
    struct json_object *list;
    size_t skip, count, total;
};

static int collect_app_name(void *ctx, const char *key, size_t klen, struct json_object *rec)
{
    (void)key;
    (void)klen;
    struct names_ctx *c = ctx;
    if (c->total++ < c->skip) return 0;
    if (c->count == PAGE) return 1;
    c->count++;
    json_object_array_add(c->list, json_object_new_string(cd_str(rec, "applicationName")));
    return 0;
}

int cd_op_list_applications(struct proto_req *req)
{
    store_txn *t = NULL;
    char prefix[CD_KEY_MAX];
    long off = cd_token_parse(cd_str(req->input, "nextToken"));
    if (off < 0) return proto_error(req, ERR_INVALID_NEXT_TOKEN, "The next token is invalid");
    struct names_ctx c = {json_object_new_array(), (size_t)off, 0, 0};
    int plen = cd_key(prefix, CD_ACCT(req), CD_REGION(req), CD_K_APP, "", NULL);
    if (store_txn_begin(req->store, 0, &t)) {
        json_object_put(c.list);
        return txn_fail(req);
    }
    int r = cd_rec_each(t, STORE_DB_CD_APPLICATIONS, prefix, plen, collect_app_name, &c);
    store_txn_abort(t);
    if (r < 0) {
        json_object_put(c.list);
        return txn_fail(req);
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "applications", c.list);
    if (r == 1)
        json_object_object_add(req->output, "nextToken",
                               json_object_new_string(cd_token(req->arena, c.skip + c.count)));
    return 0;
}

/* Moves or deletes every record under "<kind>/<app>\x1f" (to new_app when not NULL). */
struct move_ctx {
    store_txn *t;
    struct proto_req *req;
    const char *kind, *new_app;
    size_t plen;
    int failed;
};

static int move_one(void *ctx, const char *key, size_t klen, struct json_object *rec)
{
    struct move_ctx *m = ctx;
    char k[CD_KEY_MAX], nk[CD_KEY_MAX];
    memcpy(k, key, klen);
    k[klen] = '\0';
    if (m->new_app) {
        if (json_object_object_get_ex(rec, "applicationName", NULL))
            json_object_object_add(rec, "applicationName", json_object_new_string(m->new_app));
        char rest[CD_KEY_MAX];
        snprintf(rest, sizeof rest, "%s", k + m->plen);
        int nl = cd_key(nk, CD_ACCT(m->req), CD_REGION(m->req), m->kind, m->new_app, rest);
        if (cd_rec_put(m->t, STORE_DB_CD_APPLICATIONS, nk, nl, rec)) m->failed = 1;
    }
    if (store_del(m->t, STORE_DB_CD_APPLICATIONS, k, klen) < 0) m->failed = 1;
    return 0;
}

/* Collects the keys first: the cursor must not see the records it writes. */
static int move_children(struct proto_req *req, store_txn *t, const char *kind, const char *app,
                         const char *new_app)
{
    char prefix[CD_KEY_MAX];
    int plen = cd_key(prefix, CD_ACCT(req), CD_REGION(req), kind, app, "");
    struct json_object *keys = json_object_new_array();
    store_cursor *c = NULL;
    int failed = 0;
    if (plen < 0 || store_cursor_open(t, STORE_DB_CD_APPLICATIONS, &c)) {
        json_object_put(keys);
        return -1;
    }
    for (int r = store_cursor_seek(c, prefix, (size_t)plen); r == 0; r = store_cursor_next(c)) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (kl < (size_t)plen || memcmp(k, prefix, (size_t)plen) != 0) break;
        json_object_array_add(keys, json_object_new_string_len(k, (int)kl));
    }
    store_cursor_close(c);
    struct move_ctx m = {t, req, kind, new_app, (size_t)plen, 0};
    for (size_t i = 0; i < json_object_array_length(keys); i++) {
        struct json_object *k = json_object_array_get_idx(keys, i), *rec = NULL;
        const char *ks = json_object_get_string(k);
        int kl = json_object_get_string_len(k);
        if (cd_rec_get(t, STORE_DB_CD_APPLICATIONS, ks, kl, &rec)) {
            failed = 1;
            continue;
        }
        if (strcmp(kind, CD_K_GROUP) == 0) {
            const char *group = cd_str(rec, "deploymentGroupName");
            const char *acct = CD_ACCT(req), *region = CD_REGION(req);
            char *arn = cd_arn_group(req->arena, acct, region, app, group ? group : "");
            if (new_app) {
                char key[CD_KEY_MAX];
                struct json_object *tags = NULL;
                int tl = cd_key(key, acct, region, CD_K_TAGS, arn, NULL);
                if (cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, tl, &tags) == 0) {
                    cd_tags_put(t, acct, region,
                                cd_arn_group(req->arena, acct, region, new_app, group), tags);
                    json_object_put(tags);
                }
            }
            cd_tags_delete(t, acct, region, arn);
        }
        move_one(&m, ks, (size_t)kl, rec);
        json_object_put(rec);
    }
    json_object_put(keys);
    return failed || m.failed ? -1 : 0;
}

int cd_op_update_application(struct proto_req *req)
{
    const char *name = cd_str(req->input, "applicationName");
    const char *new_name = cd_str(req->input, "newApplicationName");
    struct json_object *app = NULL, *tags = NULL;
    store_txn *t = NULL;
    char key[CD_KEY_MAX], nkey[CD_KEY_MAX];
    int rc = 0;
    if (!name || !*name)
        return proto_error(req, ERR_CD_APPLICATION_NAME_REQUIRED, "Application name is missing");
    if (!new_name || !*new_name || strcmp(new_name, name) == 0) new_name = NULL;
    if ((!cd_name_ok(name)) || (new_name && (!cd_name_ok(new_name) || strlen(new_name) > 100)))
        return proto_error(req, ERR_CD_INVALID_APPLICATION_NAME, "Application name is invalid");
    if (store_txn_begin(req->store, 1, &t)) return txn_fail(req);
    if ((rc = cd_app_load(req, t, name, &app))) goto out;
    if (!new_name) goto done;
    int nl = cd_key(nkey, CD_ACCT(req), CD_REGION(req), CD_K_APP, new_name, NULL);
    const void *v;
    size_t vl;
    if (store_get(t, STORE_DB_CD_APPLICATIONS, nkey, (size_t)nl, &v, &vl) == 0) {
        rc = proto_error(req, ERR_CD_APPLICATION_ALREADY_EXISTS,
                         "The application %s already exists", new_name);
        goto out;
    }
    json_object_object_add(app, "applicationName", json_object_new_string(new_name));
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_APP, name, NULL);
    const char *acct = CD_ACCT(req), *region = CD_REGION(req);
    char *old_arn = cd_arn_app(req->arena, acct, region, name);
    int tl = cd_key(key + 0, acct, region, CD_K_TAGS, old_arn, NULL);
    if (cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, tl, &tags) == 0) {
        cd_tags_put(t, acct, region, cd_arn_app(req->arena, acct, region, new_name), tags);
        cd_tags_delete(t, acct, region, old_arn);
    }
    kl = cd_key(key, acct, region, CD_K_APP, name, NULL);
    if (store_del(t, STORE_DB_CD_APPLICATIONS, key, (size_t)kl) ||
        cd_rec_put(t, STORE_DB_CD_APPLICATIONS, nkey, nl, app) ||
        move_children(req, t, CD_K_GROUP, name, new_name) ||
        move_children(req, t, CD_K_REV, name, new_name)) {
        rc = txn_fail(req);
        goto out;
    }
done:
    rc = commit(req, &t);
out:
    store_txn_abort(t);
    json_object_put(app);
    json_object_put(tags);
    return rc;
}

int cd_op_delete_application(struct proto_req *req)
{
    const char *name;
    store_txn *t = NULL;
    char key[CD_KEY_MAX];
    int rc = cd_need_name(req, "applicationName", ERR_CD_APPLICATION_NAME_REQUIRED,
                          ERR_CD_INVALID_APPLICATION_NAME, "Application", &name);
    if (rc) return rc;
    if (store_txn_begin(req->store, 1, &t)) return txn_fail(req);
    /* AWS answers an unknown application with success too */
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_APP, name, NULL);
    store_del(t, STORE_DB_CD_APPLICATIONS, key, (size_t)kl);
    cd_tags_delete(t, CD_ACCT(req), CD_REGION(req),
                   cd_arn_app(req->arena, CD_ACCT(req), CD_REGION(req), name));
    if (move_children(req, t, CD_K_GROUP, name, NULL) ||
        move_children(req, t, CD_K_REV, name, NULL)) {
        store_txn_abort(t);
        return txn_fail(req);
    }
    return commit(req, &t);
}

/* ---- Revisions ---- */

/* Returns the identity of a revision location (arena), or NULL with InvalidRevisionException
 * (or RevisionRequiredException) set on req. */
static char *rev_identity(struct proto_req *req, struct json_object *rev)
{
    if (!rev) {
        proto_error(req, ERR_CD_REVISION_REQUIRED, "Revision is missing");
        return NULL;
    }
    const char *type = cd_str(rev, "revisionType");
    struct json_object *loc;
    if (!type) {
        proto_error(req, ERR_CD_INVALID_REVISION, "Revision type is missing");
        return NULL;
    }
    if (strcmp(type, "S3") == 0) {
        if (!json_object_object_get_ex(rev, "s3Location", &loc)) goto bad;
        const char *b = cd_str(loc, "bucket"), *k = cd_str(loc, "key"),
                   *bt = cd_str(loc, "bundleType");
        if (!b || !*b) {
            proto_error(req, ERR_CD_INVALID_REVISION, "S3 bucket name is missing");
            return NULL;
        }
        if (!k || !*k) {
            proto_error(req, ERR_CD_INVALID_REVISION, "S3 key is missing");
            return NULL;
        }
        if (!bt) {
            proto_error(req, ERR_CD_INVALID_REVISION, "Bundle type is missing");
            return NULL;
        }
        const char *ver = cd_str(loc, "version"), *etag = cd_str(loc, "eTag");
        return proto_arena_printf(req->arena, "S3|%s|%s|%s|%s|%s", b, k, bt, ver ? ver : "",
                                  etag ? etag : "");
    }
    if (strcmp(type, "GitHub") == 0) {
        if (!json_object_object_get_ex(rev, "gitHubLocation", &loc)) goto bad;
        const char *repo = cd_str(loc, "repository"), *commit = cd_str(loc, "commitId");
        return proto_arena_printf(req->arena, "GitHub|%s|%s", repo ? repo : "",
                                  commit ? commit : "");
    }
    if (strcmp(type, "String") == 0 || strcmp(type, "AppSpecContent") == 0) {
        const char *m = strcmp(type, "String") == 0 ? "string" : "appSpecContent";
        if (!json_object_object_get_ex(rev, m, &loc)) goto bad;
        /* inline content can be long: its identity is a hash of it (FNV-1a, 64 bits) */
        const char *content = cd_str(loc, "content");
        uint64_t h = 1469598103934665603ULL;
        for (const char *p = content ? content : ""; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        return proto_arena_printf(req->arena, "%s|%016llx", type, (unsigned long long)h);
    }
bad:
    proto_error(req, ERR_CD_INVALID_REVISION, "The revision is missing its location for %s", type);
    return NULL;
}

int cd_revision_note(struct proto_req *req, store_txn *t, const char *app, struct json_object *rev,
                     const char *description, const char *used)
{
    char key[CD_KEY_MAX];
    struct json_object *rec = NULL, *info;
    char *id = rev_identity(req, rev);
    if (!id) return -1;
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_REV, app, id);
    if (kl < 0) return proto_error(req, ERR_CD_INVALID_REVISION, "The revision is too long");
    double now = proto_now();
    if (cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, kl, &rec) != 0) {
        rec = json_object_new_object();
        json_object_object_add(rec, "revisionLocation", json_object_get(rev));
        info = json_object_new_object();
        json_object_object_add(info, "deploymentGroups", json_object_new_array());
        json_object_object_add(info, "registerTime", cd_time(now));
        json_object_object_add(rec, "genericRevisionInfo", info);
    }
    json_object_object_get_ex(rec, "genericRevisionInfo", &info);
    if (description)
        json_object_object_add(info, "description", json_object_new_string(description));
    if (used) {
        struct json_object *groups;
        if (!json_object_object_get_ex(info, "firstUsedTime", NULL))
            json_object_object_add(info, "firstUsedTime", cd_time(now));
        json_object_object_add(info, "lastUsedTime", cd_time(now));
        json_object_object_get_ex(info, "deploymentGroups", &groups);
        int seen = 0;
        for (size_t i = 0; i < json_object_array_length(groups); i++)
            seen |= strcmp(json_object_get_string(json_object_array_get_idx(groups, i)), used) == 0;
        if (!seen) json_object_array_add(groups, json_object_new_string(used));
    }
    int rc = cd_rec_put(t, STORE_DB_CD_APPLICATIONS, key, kl, rec);
    json_object_put(rec);
    return rc ? txn_fail(req) : 0;
}

int cd_op_register_revision(struct proto_req *req)
{
    const char *app;
    struct json_object *rev = NULL;
    store_txn *t = NULL;
    int rc = cd_need_name(req, "applicationName", ERR_CD_APPLICATION_NAME_REQUIRED,
                          ERR_CD_INVALID_APPLICATION_NAME, "Application", &app);
    if (rc) return rc;
    json_object_object_get_ex(req->input, "revision", &rev);
    if (!rev_identity(req, rev)) return -(int)req->err;
    if (store_txn_begin(req->store, 1, &t)) return txn_fail(req);
    if ((rc = cd_app_load(req, t, app, NULL))) goto out;
    if ((rc = cd_revision_note(req, t, app, rev, cd_str(req->input, "description"), NULL)))
        goto out;
    rc = commit(req, &t);
out:
    store_txn_abort(t);
    return rc;
}

/* Loads the record of rev of app; *out new reference. */
static int rev_load(struct proto_req *req, store_txn *t, const char *app, struct json_object *rev,
                    struct json_object **out)
{
    char key[CD_KEY_MAX];
    char *id = rev_identity(req, rev);
    if (!id) return -(int)req->err;
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_REV, app, id);
    int r = cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, kl, out);
    if (r == STORE_NOTFOUND)
        return proto_error(req, ERR_CD_REVISION_DOES_NOT_EXIST,
                           "No application revision found for revision.");
    return r ? txn_fail(req) : 0;
}

int cd_op_get_revision(struct proto_req *req)
{
    const char *app;
    struct json_object *rev = NULL, *rec = NULL, *info;
    store_txn *t = NULL;
    int rc = cd_need_name(req, "applicationName", ERR_CD_APPLICATION_NAME_REQUIRED,
                          ERR_CD_INVALID_APPLICATION_NAME, "Application", &app);
    if (rc) return rc;
    json_object_object_get_ex(req->input, "revision", &rev);
    if (store_txn_begin(req->store, 0, &t)) return txn_fail(req);
    if (!(rc = cd_app_load(req, t, app, NULL))) rc = rev_load(req, t, app, rev, &rec);
    store_txn_abort(t);
    if (rc) return rc;
    json_object_object_get_ex(rec, "genericRevisionInfo", &info);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "applicationName", json_object_new_string(app));
    json_object_object_add(req->output, "revision", json_object_get(rev));
    json_object_object_add(req->output, "revisionInfo", json_object_get(info));
    json_object_put(rec);
    return 0;
}

int cd_op_batch_get_revisions(struct proto_req *req)
{
    const char *app;
    struct json_object *revs = NULL, *list;
    store_txn *t = NULL;
    int rc = cd_need_name(req, "applicationName", ERR_CD_APPLICATION_NAME_REQUIRED,
                          ERR_CD_INVALID_APPLICATION_NAME, "Application", &app);
    if (rc) return rc;
    json_object_object_get_ex(req->input, "revisions", &revs);
    size_t n = revs ? json_object_array_length(revs) : 0;
    if (n == 0) return proto_error(req, ERR_CD_REVISION_REQUIRED, "Revisions are missing");
    if (n > 25)
        return proto_error(req, ERR_CD_BATCH_LIMIT_EXCEEDED,
                           "The maximum number of revisions that can be specified is 25");
    if (store_txn_begin(req->store, 0, &t)) return txn_fail(req);
    if ((rc = cd_app_load(req, t, app, NULL))) {
        store_txn_abort(t);
        return rc;
    }
    list = json_object_new_array();
    for (size_t i = 0; i < n && !rc; i++) {
        struct json_object *rec = NULL;
        if (!(rc = rev_load(req, t, app, json_object_array_get_idx(revs, i), &rec)))
            json_object_array_add(list, rec);
    }
    store_txn_abort(t);
    if (rc) {
        json_object_put(list);
        return rc;
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "applicationName", json_object_new_string(app));
    json_object_object_add(req->output, "errorMessage", json_object_new_string(""));
    json_object_object_add(req->output, "revisions", list);
    return 0;
}

struct revs_ctx {
    struct json_object *list;
    const char *bucket, *prefix, *deployed;
};

static int collect_rev(void *ctx, const char *key, size_t klen, struct json_object *rec)
{
    (void)key;
    (void)klen;
    struct revs_ctx *c = ctx;
    struct json_object *loc, *info, *s3 = NULL;
    json_object_object_get_ex(rec, "revisionLocation", &loc);
    json_object_object_get_ex(rec, "genericRevisionInfo", &info);
    json_object_object_get_ex(loc, "s3Location", &s3);
    if (c->bucket && (!s3 || !cd_str(s3, "bucket") || strcmp(cd_str(s3, "bucket"), c->bucket)))
        return 0;
    if (c->prefix && (!s3 || !cd_str(s3, "key") ||
                      strncmp(cd_str(s3, "key"), c->prefix, strlen(c->prefix)) != 0))
        return 0;
    int used = json_object_object_get_ex(info, "firstUsedTime", NULL);
    if (c->deployed && strcmp(c->deployed, "include") == 0 && !used) return 0;
    if (c->deployed && strcmp(c->deployed, "exclude") == 0 && used) return 0;
    json_object_array_add(c->list, json_object_get(rec));
    return 0;
}

struct sort_ctx {
    const char *member;
    int desc;
};

static double info_time(struct json_object *rec, const char *member)
{
    struct json_object *info, *v;
    if (!json_object_object_get_ex(rec, "genericRevisionInfo", &info) ||
        !json_object_object_get_ex(info, member, &v))
        return 0;
    return json_object_get_double(v);
}

static int cmp_rev(const void *a, const void *b, void *ctx)
{
    const struct sort_ctx *c = ctx;
    double x = info_time(*(struct json_object *const *)a, c->member),
           y = info_time(*(struct json_object *const *)b, c->member);
    int r = x < y ? -1 : x > y;
    return c->desc ? -r : r;
}

int cd_op_list_revisions(struct proto_req *req)
{
    const char *app;
    store_txn *t = NULL;
    char prefix[CD_KEY_MAX];
    int rc = cd_need_name(req, "applicationName", ERR_CD_APPLICATION_NAME_REQUIRED,
                          ERR_CD_INVALID_APPLICATION_NAME, "Application", &app);
    if (rc) return rc;
    long off = cd_token_parse(cd_str(req->input, "nextToken"));
    if (off < 0) return proto_error(req, ERR_INVALID_NEXT_TOKEN, "The next token is invalid");
    const char *sort_by = cd_str(req->input, "sortBy"), *order = cd_str(req->input, "sortOrder");
    struct revs_ctx c = {json_object_new_array(), cd_str(req->input, "s3Bucket"),
                         cd_str(req->input, "s3KeyPrefix"), cd_str(req->input, "deployed")};
    if (c.prefix && !c.bucket) {
        json_object_put(c.list);
        return proto_error(req, ERR_CD_INVALID_BUCKET_NAME_FILTER,
                           "A bucket name is required with a key prefix");
    }
    if (store_txn_begin(req->store, 0, &t)) {
        json_object_put(c.list);
        return txn_fail(req);
    }
    if ((rc = cd_app_load(req, t, app, NULL))) {
        store_txn_abort(t);
        json_object_put(c.list);
        return rc;
    }
    int plen = cd_key(prefix, CD_ACCT(req), CD_REGION(req), CD_K_REV, app, "");
    int r = cd_rec_each(t, STORE_DB_CD_APPLICATIONS, prefix, plen, collect_rev, &c);
    store_txn_abort(t);
    if (r < 0) {
        json_object_put(c.list);
        return txn_fail(req);
    }
    struct sort_ctx sc = {sort_by ? sort_by : "registerTime",
                          order && strcmp(order, "descending") == 0};
    size_t n = json_object_array_length(c.list), i;
    struct json_object **v = proto_arena_alloc(req->arena, (n + 1) * sizeof *v);
    for (i = 0; i < n; i++)
        v[i] = json_object_array_get_idx(c.list, i);
    qsort_r(v, n, sizeof *v, cmp_rev, &sc);
    struct json_object *out = json_object_new_array();
    for (i = (size_t)off; i < n && i < (size_t)off + PAGE; i++) {
        struct json_object *loc;
        json_object_object_get_ex(v[i], "revisionLocation", &loc);
        json_object_array_add(out, json_object_get(loc));
    }
    json_object_put(c.list);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "revisions", out);
    if (i < n)
        json_object_object_add(req->output, "nextToken",
                               json_object_new_string(cd_token(req->arena, i)));
    return 0;
}

/* ---- Tags on applications, deployment groups and deployment configs ---- */

/* Parses arn into its key (the ARN itself) after checking that the resource exists. */
static int arn_check(struct proto_req *req, store_txn *t, const char *arn, const char **canon)
{
    char acct[13], region[64], kind[32], rest[512];
    if (!arn || !*arn)
        return proto_error(req, ERR_CC_RESOURCE_ARN_REQUIRED, "The ARN of the resource is missing");
    /* arn:aws:codedeploy:<region>:<account>:<kind>:<name>; the account may be empty, as
     * Terraform writes it when told not to look the account up (skip_requesting_account_id) */
    if (strncmp(arn, "arn:aws:codedeploy:", 19) != 0 || sscanf(arn + 19, "%63[^:]:", region) != 1)
        return proto_error(req, ERR_INVALID_ARN, "The ARN %s is not valid", arn);
    const char *p = arn + 19 + strlen(region) + 1, *colon = strchr(p, ':');
    if (!colon || (size_t)(colon - p) >= sizeof acct)
        return proto_error(req, ERR_INVALID_ARN, "The ARN %s is not valid", arn);
    memcpy(acct, p, (size_t)(colon - p));
    acct[colon - p] = '\0';
    if (sscanf(colon + 1, "%31[^:]:%511[^\n]", kind, rest) != 2)
        return proto_error(req, ERR_INVALID_ARN, "The ARN %s is not valid", arn);
    if (!acct[0]) snprintf(acct, sizeof acct, "%s", CD_ACCT(req));
    if (strcmp(acct, CD_ACCT(req)) != 0 || strcmp(region, CD_REGION(req)) != 0)
        return proto_error(req, ERR_INVALID_ARN, "The ARN %s is not in this account and region",
                           arn);
    *canon =
        proto_arena_printf(req->arena, "arn:aws:codedeploy:%s:%s:%s:%s", region, acct, kind, rest);
    char key[CD_KEY_MAX];
    const void *v;
    size_t vl;
    int kl;
    if (strcmp(kind, "application") == 0) {
        kl = cd_key(key, acct, region, CD_K_APP, rest, NULL);
        if (store_get(t, STORE_DB_CD_APPLICATIONS, key, (size_t)kl, &v, &vl))
            return proto_error(req, ERR_CD_APPLICATION_DOES_NOT_EXIST,
                               "No application found for name: %s", rest);
        return 0;
    }
    if (strcmp(kind, "deploymentgroup") == 0) {
        char *slash = strchr(rest, '/');
        if (!slash) return proto_error(req, ERR_INVALID_ARN, "The ARN %s is not valid", arn);
        *slash = '\0';
        kl = cd_key(key, acct, region, CD_K_GROUP, rest, slash + 1);
        if (store_get(t, STORE_DB_CD_APPLICATIONS, key, (size_t)kl, &v, &vl))
            return proto_error(req, ERR_CD_DEPLOYMENT_GROUP_DOES_NOT_EXIST,
                               "No Deployment Group found for name: %s", slash + 1);
        return 0;
    }
    if (strcmp(kind, "deploymentconfig") == 0) {
        struct json_object *cfg = NULL;
        if (cd_config_lookup(t, acct, region, rest, &cfg))
            return proto_error(req, ERR_CD_DEPLOYMENT_CONFIG_DOES_NOT_EXIST,
                               "No deployment configuration found for name: %s", rest);
        json_object_put(cfg);
        return 0;
    }
    return proto_error(req, ERR_CD_ARN_NOT_SUPPORTED, "The ARN %s is not supported", arn);
}

static int tags_get(store_txn *t, struct proto_req *req, const char *arn, struct json_object **out)
{
    char key[CD_KEY_MAX];
    int kl = cd_key(key, CD_ACCT(req), CD_REGION(req), CD_K_TAGS, arn, NULL);
    int r = cd_rec_get(t, STORE_DB_CD_APPLICATIONS, key, kl, out);
    if (r == STORE_NOTFOUND) {
        *out = json_object_new_array();
        return 0;
    }
    return r;
}

int cd_op_tag_resource(struct proto_req *req)
{
    const char *arn = cd_str(req->input, "ResourceArn");
    struct json_object *add = NULL, *old = NULL, *merged = NULL;
    store_txn *t = NULL;
    int rc;
    json_object_object_get_ex(req->input, "Tags", &add);
    if (!add || json_object_array_length(add) == 0)
        return proto_error(req, ERR_CD_TAG_REQUIRED, "Tags are missing");
    if ((rc = check_tags(req, add))) return rc;
    if (store_txn_begin(req->store, 1, &t)) return txn_fail(req);
    if ((rc = arn_check(req, t, arn, &arn))) goto out;
    if (tags_get(t, req, arn, &old)) {
        rc = txn_fail(req);
        goto out;
    }
    merged = merge_tags(old, add);
    if (cd_tags_put(t, CD_ACCT(req), CD_REGION(req), arn, merged)) {
        rc = txn_fail(req);
        goto out;
    }
    rc = commit(req, &t);
out:
    store_txn_abort(t);
    json_object_put(old);
    json_object_put(merged);
    return rc;
}

int cd_op_untag_resource(struct proto_req *req)
{
    const char *arn = cd_str(req->input, "ResourceArn");
    struct json_object *keys = NULL, *old = NULL, *kept = NULL;
    store_txn *t = NULL;
    int rc;
    json_object_object_get_ex(req->input, "TagKeys", &keys);
    if (!keys) return proto_error(req, ERR_CD_TAG_REQUIRED, "Tag keys are missing");
    if (store_txn_begin(req->store, 1, &t)) return txn_fail(req);
    if ((rc = arn_check(req, t, arn, &arn))) goto out;
    if (tags_get(t, req, arn, &old)) {
        rc = txn_fail(req);
        goto out;
    }
    kept = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(old); i++) {
        struct json_object *tag = json_object_array_get_idx(old, i);
        int drop = 0;
        for (size_t j = 0; j < json_object_array_length(keys); j++)
            drop |= strcmp(cd_str(tag, "Key"),
                           json_object_get_string(json_object_array_get_idx(keys, j))) == 0;
        if (!drop) json_object_array_add(kept, json_object_get(tag));
    }
    if (cd_tags_put(t, CD_ACCT(req), CD_REGION(req), arn, kept)) {
        rc = txn_fail(req);
        goto out;
    }
    rc = commit(req, &t);
out:
    store_txn_abort(t);
    json_object_put(old);
    json_object_put(kept);
    return rc;
}

int cd_op_list_tags_for_resource(struct proto_req *req)
{
    const char *arn = cd_str(req->input, "ResourceArn");
    struct json_object *tags = NULL;
    store_txn *t = NULL;
    int rc;
    if (store_txn_begin(req->store, 0, &t)) return txn_fail(req);
    if (!(rc = arn_check(req, t, arn, &arn)) && tags_get(t, req, arn, &tags)) rc = txn_fail(req);
    store_txn_abort(t);
    if (rc) return rc;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "Tags", tags);
    return 0;
}
