/* Pipeline declarations: CreatePipeline, GetPipeline, UpdatePipeline, DeletePipeline,
 * ListPipelines. */
#include "providers/codepipeline/cp_internal.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/codepipeline/engine.h"
#include "providers/codepipeline/structure.h"
#include "providers/iam/iam.h"

#define LIST_DEFAULT_MAX 100
#define KEY_MAX          512
/* GetPipeline answers only the 10 latest versions of a pipeline, as AWS does (boto/boto3#3760:
 * "not in the last 10 revisions"); older ones are dropped when an update makes a new one. */
#define VERSIONS_KEPT 10

/* True when s is a pipeline name as the model allows ([A-Za-z0-9.@\-_]{1,100}). */
static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 100) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '@' || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* Appends one PipelineSummary of the record at val. Returns 0, or -1 when it is not a record. */
static int append_summary(struct proto_sb *sb, const char *name, size_t nlen, const void *val,
                          size_t vlen)
{
    struct cp_pipe_hdr h;
    const char *decl;
    if (cp_pipe_rec_parse(val, vlen, &h, &decl)) return -1;
    proto_sb_puts(sb, "{\"name\":");
    proto_sb_json_string(sb, name, nlen);
    proto_sb_puts(sb, ",\"version\":");
    cp_sb_uint(sb, h.version);
    proto_sb_puts(sb, ",\"pipelineType\":\"");
    proto_sb_puts(sb, cp_type_name(h.type));
    proto_sb_puts(sb, "\",\"executionMode\":\"");
    proto_sb_puts(sb, cp_mode_name(h.mode));
    proto_sb_puts(sb, "\",\"created\":");
    cp_sb_time(sb, h.created);
    proto_sb_puts(sb, ",\"updated\":");
    cp_sb_time(sb, h.updated);
    proto_sb_putc(sb, '}');
    return 0;
}

int cp_op_list_pipelines(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    struct json_object *v;
    int max = LIST_DEFAULT_MAX;
    const char *start = "";
    store_txn *t = NULL;
    store_cursor *c = NULL;
    int rc = 0;

    if (json_object_object_get_ex(req->input, "maxResults", &v)) max = json_object_get_int(v);
    if (max < 1 || max > 1000) max = LIST_DEFAULT_MAX;
    if (json_object_object_get_ex(req->input, "nextToken", &v)) {
        start = cp_token_decode(req->arena, json_object_get_string(v));
        if (!start || !valid_name(start))
            return proto_error(req, ERR_INVALID_NEXT_TOKEN, "Invalid nextToken");
    }
    char prefix[KEY_MAX], key[KEY_MAX];
    int plen = store_key(prefix, sizeof prefix, acct, region, "");
    int klen = store_key(key, sizeof key, acct, region, start);
    if (plen < 0 || klen < 0) return proto_error(req, ERR_INTERNAL_FAILURE, "key too long");

    if ((rc = store_txn_begin(req->store, 0, &t))) goto store_fail;
    if ((rc = store_cursor_open(t, STORE_DB_CP_PIPELINES, &c))) goto store_fail;
    proto_sb_reset(&req->body);
    proto_sb_puts(&req->body, "{\"pipelines\":[");
    int n = 0;
    for (int r = store_cursor_seek(c, key, (size_t)klen); r == 0; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl <= (size_t)plen || memcmp(k, prefix, (size_t)plen) != 0) break;
        const char *name = (const char *)k + plen;
        size_t nlen = kl - (size_t)plen;
        if (n == max) {
            proto_sb_puts(&req->body, "],\"nextToken\":");
            const char *tok = cp_token_encode(req->arena, name, nlen);
            proto_sb_json_string(&req->body, tok, strlen(tok));
            proto_sb_putc(&req->body, '}');
            goto out;
        }
        if (n) proto_sb_putc(&req->body, ',');
        if (append_summary(&req->body, name, nlen, val, vl)) {
            rc = STORE_ERROR;
            goto store_fail;
        }
        n++;
    }
    proto_sb_puts(&req->body, "]}");
    goto out;
store_fail:
    rc = cp_store_error(req, rc);
out:
    if (c) store_cursor_close(c);
    store_txn_abort(t);
    return rc;
}

/* ---- create / update ------------------------------------------------------------------------ */

struct lookup_arg {
    store_txn *t;
    const char *account, *region;
};

static struct json_object *custom_lookup(void *arg, const char *category, const char *provider,
                                         const char *version)
{
    struct lookup_arg *a = arg;
    return cp_custom_action_get(a->t, a->account, a->region, category, provider, version);
}

static unsigned parse_type(struct json_object *decl)
{
    struct json_object *v;
    return json_object_object_get_ex(decl, "pipelineType", &v) &&
                   !strcmp(json_object_get_string(v), "V2")
               ? CP_TYPE_V2
               : CP_TYPE_V1;
}

static unsigned parse_mode(struct json_object *decl)
{
    struct json_object *v;
    if (!json_object_object_get_ex(decl, "executionMode", &v)) return CP_MODE_SUPERSEDED;
    const char *m = json_object_get_string(v);
    return !strcmp(m, "QUEUED")     ? CP_MODE_QUEUED
           : !strcmp(m, "PARALLEL") ? CP_MODE_PARALLEL
                                    : CP_MODE_SUPERSEDED;
}

/* Builds a record (header + GetPipeline body) into a malloc'ed buffer the caller frees. */
static char *make_record(struct json_object *decl, const char *acct, const char *region,
                         const char *name, uint32_t version, double created, double updated,
                         size_t *len)
{
    size_t n;
    const char *s = json_object_to_json_string_length(
        decl, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    struct proto_sb body = PROTO_SB_INIT;
    proto_sb_puts(&body, "{\"pipeline\":");
    size_t off = body.len;
    proto_sb_append(&body, s, n);
    proto_sb_puts(&body, ",\"metadata\":{\"pipelineArn\":");
    char arn[512];
    int al = snprintf(arn, sizeof arn, "arn:aws:codepipeline:%s:%s:%s", region, acct, name);
    proto_sb_json_string(&body, arn, al > 0 && (size_t)al < sizeof arn ? (size_t)al : 0);
    proto_sb_puts(&body, ",\"created\":");
    cp_sb_time(&body, created);
    proto_sb_puts(&body, ",\"updated\":");
    cp_sb_time(&body, updated);
    proto_sb_puts(&body, "}}");
    struct cp_pipe_hdr h = {
        CP_PIPE_REC_MAGIC,         version,       created,     updated,
        (uint32_t)body.len,        (uint32_t)off, (uint32_t)n, (uint8_t)parse_type(decl),
        (uint8_t)parse_mode(decl), {0, 0}};
    char *rec = malloc(sizeof h + body.len);
    if (!rec) abort();
    memcpy(rec, &h, sizeof h);
    memcpy(rec + sizeof h, body.buf, body.len);
    *len = sizeof h + body.len;
    proto_sb_free(&body);
    return rec;
}

/* Appends {"pipeline":<declaration of rec>}. */
static void put_pipeline_only(struct proto_sb *sb, const char *rec)
{
    struct cp_pipe_hdr h;
    memcpy(&h, rec, sizeof h);
    proto_sb_puts(sb, "{\"pipeline\":");
    proto_sb_append(sb, rec + sizeof h + h.decl_off, h.decl_len);
}

/* Normalises and validates the input declaration; on success *out is the normalised declaration
 * (caller puts). */
static int prepare(struct proto_req *req, store_txn *t, uint32_t version, struct json_object **out)
{
    struct json_object *in = NULL;
    json_object_object_get_ex(req->input, "pipeline", &in);
    struct json_object *decl = cp_structure_normalise(in, version);
    struct lookup_arg la = {t, req->caller.account_id, req->caller.region};
    struct cp_structure_ctx ctx = {req->caller.region, custom_lookup, &la};
    struct cp_structure_error e;
    if (cp_structure_validate(decl, &ctx, &e)) {
        json_object_put(decl);
        return proto_error(req, e.err, "%s", e.message);
    }
    *out = decl;
    return 0;
}

/* prepare() in a read transaction of its own, then the artifact bucket check, which goes through
 * the in-process S3 interface and so cannot run inside a transaction. The bucket check comes after
 * the structure rules, so a structure error wins: nothing public shows AWS's order, and which
 * bucket to look for (artifactStore, or one per artifactStores region) is only settled once the
 * structure is valid. On success *out is the normalised declaration (caller puts). */
static int prepare_checked(struct proto_req *req, uint32_t version, struct json_object **out)
{
    store_txn *t = NULL;
    struct cp_structure_error e;
    int rc = store_txn_begin(req->store, 0, &t);
    if (rc) return cp_store_error(req, rc);
    rc = prepare(req, t, version, out);
    store_txn_abort(t);
    if (rc) return rc;
    if (cp_artifact_buckets_check(req->store, req->caller.account_id, req->caller.region, *out,
                                  &e)) {
        json_object_put(*out);
        *out = NULL;
        return proto_error(req, e.err, "%s", e.message);
    }
    /* A role IAM here knows must trust CodePipeline, as AWS checks it when it assumes the role on
     * create and update; a role it has never seen is accepted, so that scripts written before IAM
     * was emulated keep working. */
    struct json_object *role = NULL;
    json_object_object_get_ex(*out, "roleArn", &role);
    const char *arn = role ? json_object_get_string(role) : NULL;
    if (arn && iam_role_trusts(req->store, req->caller.account_id, arn,
                               "codepipeline.amazonaws.com") == 0) {
        json_object_put(*out);
        *out = NULL;
        return proto_error(req, ERR_INVALID_STRUCTURE,
                           "CodePipeline is not authorized to perform AssumeRole on role %s", arn);
    }
    return 0;
}

/* Writes the record as the current one and as version `version`. */
static int put_record(store_txn *t, const char *acct, const char *region, const char *name,
                      const char *rec, size_t len, uint32_t version)
{
    char key[KEY_MAX], vkey[KEY_MAX];
    int klen = store_key(key, sizeof key, acct, region, name);
    int vklen = cp_version_key(vkey, sizeof vkey, acct, region, name, version);
    if (klen < 0 || vklen < 0) return STORE_ERROR;
    int rc = store_put(t, STORE_DB_CP_PIPELINES, key, (size_t)klen, rec, len);
    if (!rc) rc = store_put(t, STORE_DB_CP_PIPELINE_VERSIONS, vkey, (size_t)vklen, rec, len);
    if (!rc && version > VERSIONS_KEPT) {
        vklen = cp_version_key(vkey, sizeof vkey, acct, region, name, version - VERSIONS_KEPT);
        if (vklen < 0) return STORE_ERROR;
        rc = store_del(t, STORE_DB_CP_PIPELINE_VERSIONS, vkey, (size_t)vklen);
        if (rc == STORE_NOTFOUND) rc = 0;
    }
    return rc;
}

int cp_op_create_pipeline(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    struct json_object *decl = NULL, *tags = NULL, *in = NULL, *v;
    store_txn *t = NULL;
    char *rec = NULL;
    int rc;

    json_object_object_get_ex(req->input, "tags", &tags);
    json_object_object_get_ex(req->input, "pipeline", &in);
    const char *name = json_object_object_get_ex(in, "name", &v) ? json_object_get_string(v) : "";
    if ((rc = cp_tags_check(req, tags, NULL))) return rc;
    if ((rc = prepare_checked(req, 1, &decl))) goto out;
    if ((rc = store_txn_begin(req->store, 1, &t))) goto store_fail;
    struct cp_pipe_hdr h;
    const char *old;
    rc = cp_pipeline_read(t, acct, region, name, &h, &old);
    if (rc == 0) {
        rc =
            proto_error(req, ERR_PIPELINE_NAME_IN_USE,
                        "A pipeline with the name '%s' already exists in account '%s'", name, acct);
        goto out;
    }
    if (rc != STORE_NOTFOUND) goto store_fail;
    double now = proto_now();
    size_t len;
    rec = make_record(decl, acct, region, name, 1, now, now, &len);
    if ((rc = put_record(t, acct, region, name, rec, len, 1))) goto store_fail;
    if ((rc = cp_tags_put(t, cp_pipeline_arn(req->arena, region, acct, name), tags)))
        goto store_fail;
    /* AWS starts a first run of a new pipeline. */
    struct cp_kicks kicks = {0};
    if (cp_engine_queue()) {
        struct cp_start s = {"CreatePipeline",
                             proto_arena_printf(req->arena, "arn:aws:iam::%s:root", acct),
                             NULL,
                             NULL,
                             NULL,
                             cp_request_endpoint(req)};
        char id[37];
        if ((rc = cp_exec_start_in(t, acct, region, name, &s, id, &kicks)) < 0) goto store_fail;
    }
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) goto store_fail;
    cp_engine_pipelines_changed();
    cp_kicks_run(&kicks);
    proto_sb_reset(&req->body);
    put_pipeline_only(&req->body, rec);
    if (tags && json_object_array_length(tags)) {
        proto_sb_puts(&req->body, ",\"tags\":");
        proto_sb_puts(&req->body,
                      json_object_to_json_string_ext(tags, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
    }
    proto_sb_putc(&req->body, '}');
    goto out;
store_fail:
    rc = cp_store_error(req, rc);
out:
    free(rec);
    json_object_put(decl);
    store_txn_abort(t);
    return rc;
}

static int not_found(struct proto_req *req, const char *name)
{
    return proto_error(req, ERR_PIPELINE_NOT_FOUND,
                       "Account '%s' does not have a pipeline with name '%s'",
                       req->caller.account_id, name);
}

int cp_op_update_pipeline(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    struct json_object *decl = NULL, *in = NULL, *v;
    store_txn *t = NULL;
    char *rec = NULL;
    int rc;

    json_object_object_get_ex(req->input, "pipeline", &in);
    const char *name = json_object_object_get_ex(in, "name", &v) ? json_object_get_string(v) : "";
    /* Validate against the current version in a read transaction, then check the buckets outside
     * any transaction (prepare_checked), then write. */
    if ((rc = store_txn_begin(req->store, 0, &t))) return cp_store_error(req, rc);
    struct cp_pipe_hdr h;
    const char *old;
    rc = cp_pipeline_read(t, acct, region, name, &h, &old);
    store_txn_abort(t);
    t = NULL;
    if (rc == STORE_NOTFOUND) {
        rc = not_found(req, name);
        goto out;
    }
    if (rc) goto store_fail;
    uint32_t checked = h.version;
    if ((rc = prepare_checked(req, checked + 1, &decl))) goto out;
    if ((rc = store_txn_begin(req->store, 1, &t))) goto store_fail;
    rc = cp_pipeline_read(t, acct, region, name, &h, &old);
    if (rc == STORE_NOTFOUND) { /* deleted meanwhile */
        rc = not_found(req, name);
        goto out;
    }
    if (rc) goto store_fail;
    uint32_t version = h.version + 1;
    double created = h.created;
    if (h.version != checked) { /* updated meanwhile: same input, the next version number */
        json_object_put(decl);
        decl = NULL;
        if ((rc = prepare(req, t, version, &decl))) goto out;
    }
    size_t len;
    rec = make_record(decl, acct, region, name, version, created, proto_now(), &len);
    if ((rc = put_record(t, acct, region, name, rec, len, version))) goto store_fail;
    if ((rc = cp_exec_pipeline_updated_in(t, acct, region, name))) goto store_fail;
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) goto store_fail;
    cp_engine_pipelines_changed();
    proto_sb_reset(&req->body);
    put_pipeline_only(&req->body, rec);
    proto_sb_putc(&req->body, '}');
    goto out;
store_fail:
    rc = cp_store_error(req, rc);
out:
    free(rec);
    json_object_put(decl);
    store_txn_abort(t);
    return rc;
}

/* ---- get / delete --------------------------------------------------------------------------- */

int cp_op_get_pipeline(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    struct json_object *v;
    const char *name =
        json_object_object_get_ex(req->input, "name", &v) ? json_object_get_string(v) : "";
    int64_t want = 0;
    if (json_object_object_get_ex(req->input, "version", &v)) want = json_object_get_int64(v);
    char key[KEY_MAX];
    int klen = store_key(key, sizeof key, acct, region, name);
    if (klen < 0) return not_found(req, name);
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 0, &t);
    if (rc) return cp_store_error(req, rc);
    struct cp_pipe_hdr h;
    const char *decl;
    const void *val;
    size_t vlen;
    rc = store_get(t, STORE_DB_CP_PIPELINES, key, (size_t)klen, &val, &vlen);
    if (rc == STORE_NOTFOUND) {
        rc = not_found(req, name);
        goto out;
    }
    if (rc) goto store_fail;
    if (cp_pipe_rec_parse(val, vlen, &h, &decl)) {
        rc = STORE_ERROR;
        goto store_fail;
    }
    if (want && want != h.version) {
        char vkey[KEY_MAX];
        int vk = want > 0 && want <= UINT32_MAX
                     ? cp_version_key(vkey, sizeof vkey, acct, region, name, (uint32_t)want)
                     : -1;
        rc = vk < 0 ? STORE_NOTFOUND
                    : store_get(t, STORE_DB_CP_PIPELINE_VERSIONS, vkey, (size_t)vk, &val, &vlen);
        /* The model's exception. AWS has been seen answering PipelineNotFoundException here,
         * which its service team called a known bug (aws/aws-sdk#558). */
        if (rc == STORE_NOTFOUND) {
            rc = proto_error(req, ERR_PIPELINE_VERSION_NOT_FOUND,
                             "Pipeline '%s' does not have a version %lld", name, (long long)want);
            goto out;
        }
        if (rc) goto store_fail;
        if (cp_pipe_rec_parse(val, vlen, &h, &decl)) {
            rc = STORE_ERROR;
            goto store_fail;
        }
    }
    /* The stored body is the response: one copy out of the map. */
    proto_sb_reset(&req->body);
    proto_sb_append(&req->body, cp_pipe_rec_body(val), h.body_len);
    goto out;
store_fail:
    rc = cp_store_error(req, rc);
out:
    store_txn_abort(t);
    return rc;
}

int cp_op_delete_pipeline(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    struct json_object *v;
    const char *name =
        json_object_object_get_ex(req->input, "name", &v) ? json_object_get_string(v) : "";
    char key[KEY_MAX], prefix[KEY_MAX];
    int klen = store_key(key, sizeof key, acct, region, name);
    int plen = cp_version_key(prefix, sizeof prefix, acct, region, name, 0);
    if (klen < 0 || plen < 0) return 0;
    store_txn *t = NULL;
    store_cursor *c = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    rc = store_del(t, STORE_DB_CP_PIPELINES, key, (size_t)klen);
    if (rc == STORE_NOTFOUND) { /* idempotent, as AWS */
        rc = 0;
        goto out;
    }
    if (rc) goto store_fail;
    /* Collect the version keys first: deleting under an open cursor is not part of the API. */
    char **keys = NULL;
    size_t n = 0, cap = 0;
    if ((rc = store_cursor_open(t, STORE_DB_CP_PIPELINE_VERSIONS, &c))) goto store_fail;
    for (int r = store_cursor_seek(c, prefix, (size_t)plen); r == 0; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl < (size_t)plen || memcmp(k, prefix, (size_t)plen)) break;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nk = proto_arena_alloc(req->arena, cap * sizeof *nk);
            if (n) memcpy(nk, keys, n * sizeof *nk);
            keys = nk;
        }
        keys[n++] = proto_arena_strndup(req->arena, k, kl);
    }
    store_cursor_close(c);
    c = NULL;
    for (size_t i = 0; i < n; i++)
        if ((rc = store_del(t, STORE_DB_CP_PIPELINE_VERSIONS, keys[i], strlen(keys[i]))) &&
            rc != STORE_NOTFOUND)
            goto store_fail;
    if ((rc = cp_tags_delete_all(t, cp_pipeline_arn(req->arena, region, acct, name))))
        goto store_fail;
    if ((rc = cp_exec_delete_all_in(t, acct, region, name))) goto store_fail;
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) goto store_fail;
    cp_engine_pipelines_changed();
    goto out;
store_fail:
    rc = cp_store_error(req, rc);
out:
    if (c) store_cursor_close(c);
    store_txn_abort(t);
    return rc;
}
