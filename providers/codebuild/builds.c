/* Builds: StartBuild, BatchGetBuilds, ListBuilds, ListBuildsForProject, StopBuild, RetryBuild,
 * BatchDeleteBuilds, and the build records they share with the runner (run.c). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ids.h"
#include "sigv4/sigv4.h"
#include "providers/codebuild/run.h"

#define LIST_PAGE 100

static struct json_object *get(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    if (o) json_object_object_get_ex(o, k, &v);
    return v;
}

static struct json_object *copy(struct json_object *v)
{
    struct json_object *out = NULL;
    if (v && json_object_deep_copy(v, &out, NULL) != 0) return NULL;
    return out;
}

/* ---- records ------------------------------------------------------------------------------ */

int cb_build_key(char *buf, size_t len, const char *account, const char *region, const char *id)
{
    return store_key(buf, len, account, region, id);
}

static char *make_record(double start, struct json_object *build, struct json_object *spec,
                         size_t *len)
{
    size_t bl, sl;
    const char *b = json_object_to_json_string_length(
        build, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &bl);
    struct cb_build_hdr h = {CB_BUILD_MAGIC, (uint32_t)bl, 0, 0, start};
    char *sdup = cb_json_dup(spec, &sl);
    h.spec_len = (uint32_t)sl;
    char *rec = malloc(sizeof h + bl + sl);
    if (!rec) abort();
    memcpy(rec, &h, sizeof h);
    memcpy(rec + sizeof h, b, bl);
    memcpy(rec + sizeof h + bl, sdup, sl);
    free(sdup);
    *len = sizeof h + bl + sl;
    return rec;
}

int cb_build_parse(const void *val, size_t vlen, struct cb_build_hdr *h, const char **build,
                   const char **spec)
{
    if (vlen < sizeof *h) return -1;
    memcpy(h, val, sizeof *h);
    if (h->magic != CB_BUILD_MAGIC || (size_t)h->build_len + h->spec_len != vlen - sizeof *h)
        return -1;
    *build = (const char *)val + sizeof *h;
    if (spec) *spec = *build + h->build_len;
    return 0;
}

int cb_build_load(store_txn *t, const char *account, const char *region, const char *id,
                  double *start, struct json_object **build, struct json_object **spec)
{
    char key[600];
    const void *val;
    size_t vlen;
    struct cb_build_hdr h;
    const char *b, *s;
    *build = NULL;
    if (spec) *spec = NULL;
    if (cb_build_key(key, sizeof key, account, region, id) < 0) return STORE_NOTFOUND;
    int rc = store_get(t, STORE_DB_CB_BUILDS, key, strlen(key), &val, &vlen);
    if (rc) return rc;
    if (cb_build_parse(val, vlen, &h, &b, &s)) return STORE_ERROR;
    *build = cb_json_parse(b, h.build_len);
    if (spec) *spec = cb_json_parse(s, h.spec_len);
    if (start) *start = h.start;
    if (!*build || (spec && !*spec)) {
        json_object_put(*build);
        if (spec) json_object_put(*spec);
        return STORE_ERROR;
    }
    return 0;
}

int cb_build_save(store_txn *t, const char *account, const char *region, const char *id,
                  double start, struct json_object *build, struct json_object *spec)
{
    char key[600];
    size_t len;
    if (cb_build_key(key, sizeof key, account, region, id) < 0) return STORE_ERROR;
    char *rec = make_record(start, build, spec, &len);
    int rc = store_put(t, STORE_DB_CB_BUILDS, key, strlen(key), rec, len);
    free(rec);
    return rc;
}

/* ---- StartBuild ---------------------------------------------------------------------------- */

/* Returns the environment variables of env with the overrides applied (a new array). */
static struct json_object *merge_env(struct json_object *base, struct json_object *over)
{
    struct json_object *out = json_object_new_array();
    for (size_t i = 0; base && i < json_object_array_length(base); i++) {
        struct json_object *v = json_object_array_get_idx(base, i);
        const char *name = cb_json_str(v, "name");
        int overridden = 0;
        for (size_t j = 0; over && j < json_object_array_length(over); j++)
            if (name && !strcmp(name, cb_json_str(json_object_array_get_idx(over, j), "name")))
                overridden = 1;
        if (!overridden) json_object_array_add(out, copy(v));
    }
    for (size_t j = 0; over && j < json_object_array_length(over); j++) {
        struct json_object *v = copy(json_object_array_get_idx(over, j));
        if (!get(v, "type")) json_object_object_add(v, "type", json_object_new_string("PLAINTEXT"));
        json_object_array_add(out, v);
    }
    return out;
}

static struct json_object *phase(const char *type, double start)
{
    struct json_object *p = json_object_new_object();
    json_object_object_add(p, "phaseType", json_object_new_string(type));
    json_object_object_add(p, "startTime", cb_json_time(start));
    return p;
}

void cb_phase_end(struct json_object *p, double end, const char *status, const char *code,
                  const char *message)
{
    struct json_object *st;
    double start =
        json_object_object_get_ex(p, "startTime", &st) ? json_object_get_double(st) : end;
    json_object_object_add(p, "phaseStatus", json_object_new_string(status));
    json_object_object_add(p, "endTime", cb_json_time(end));
    json_object_object_add(p, "durationInSeconds", json_object_new_int64((int64_t)(end - start)));
    if (strcmp(json_object_get_string(get(p, "phaseType")), "SUBMITTED") &&
        strcmp(json_object_get_string(get(p, "phaseType")), "QUEUED")) {
        struct json_object *ctxs = json_object_new_array(), *c = json_object_new_object();
        json_object_object_add(c, "statusCode", json_object_new_string(code ? code : ""));
        json_object_object_add(c, "message", json_object_new_string(message ? message : ""));
        json_object_array_add(ctxs, c);
        json_object_object_add(p, "contexts", ctxs);
    }
}

/* The S3 ARN of an S3 artifact location, as Build.artifacts.location shows it. */
static char *artifact_location(proto_arena *a, struct json_object *art, const char *id)
{
    const char *loc = cb_json_str(art, "location"), *path = cb_json_str(art, "path");
    const char *name = cb_json_str(art, "name"), *ns = cb_json_str(art, "namespaceType");
    const char *uuid = strchr(id, ':') + 1;
    char *s = proto_arena_printf(a, "arn:aws:s3:::%s", loc ? loc : "");
    if (path && *path) s = proto_arena_printf(a, "%s/%s", s, path);
    if (ns && !strcmp(ns, "BUILD_ID")) s = proto_arena_printf(a, "%s/%s", s, uuid);
    if (name && *name) s = proto_arena_printf(a, "%s/%s", s, name);
    return s;
}

int cb_create_build(store *st, proto_arena *a, const struct cb_new_build *nb, char *id_out,
                    struct json_object **build_out, char *err, size_t errlen)
{
    const char *acct = nb->account, *region = nb->region;
    struct json_object *p = NULL, *b = NULL, *spec = NULL;
    store_txn *t = NULL;
    struct cb_proj_hdr h;
    char key[600];
    int rc;

    /* fixed when the build is made: the runner's threads never read the server's settings */
    const char *endpoint = nb->endpoint ? nb->endpoint : cb_run_endpoint();
    if ((rc = store_txn_begin(st, 1, &t))) goto out;
    rc = cb_project_read(t, acct, region, nb->project, &h, &p);
    if (rc) goto out;
    double now = proto_now();
    char uuid[37];
    proto_uuid(uuid);
    snprintf(id_out, CB_BUILD_ID_MAX, "%s:%s", nb->project, uuid);
    h.last_build_number++;

    struct json_object *src = copy(get(p, "source"));
    if (nb->buildspec)
        json_object_object_add(src, "buildspec", json_object_new_string(nb->buildspec));
    struct json_object *art = nb->artifacts ? copy(nb->artifacts) : copy(get(p, "artifacts"));
    if (nb->artifacts) {
        const char *type = cb_json_str(art, "type");
        if (type && strcmp(type, "NO_ARTIFACTS") && !get(art, "name"))
            json_object_object_add(art, "name", json_object_new_string(nb->project));
    }
    struct json_object *env = copy(get(p, "environment"));
    json_object_object_add(env, "environmentVariables",
                           merge_env(get(env, "environmentVariables"), nb->env));
    int timeout = nb->timeout ? nb->timeout : json_object_get_int(get(p, "timeoutInMinutes"));
    int qtimeout = nb->queued_timeout ? nb->queued_timeout
                                      : json_object_get_int(get(p, "queuedTimeoutInMinutes"));
    const char *sv = nb->source_version ? nb->source_version : cb_json_str(p, "sourceVersion");

    b = json_object_new_object();
    json_object_object_add(b, "id", json_object_new_string(id_out));
    json_object_object_add(b, "arn",
                           json_object_new_string(proto_arena_printf(
                               a, "arn:aws:codebuild:%s:%s:build/%s", region, acct, id_out)));
    json_object_object_add(b, "buildNumber", json_object_new_int64((int64_t)h.last_build_number));
    json_object_object_add(b, "startTime", cb_json_time(now));
    json_object_object_add(b, "currentPhase", json_object_new_string("QUEUED"));
    json_object_object_add(b, "buildStatus", json_object_new_string("IN_PROGRESS"));
    if (sv) json_object_object_add(b, "sourceVersion", json_object_new_string(sv));
    json_object_object_add(b, "projectName", json_object_new_string(nb->project));
    struct json_object *phases = json_object_new_array();
    struct json_object *sub = phase("SUBMITTED", now);
    cb_phase_end(sub, now, "SUCCEEDED", NULL, NULL);
    json_object_array_add(phases, sub);
    json_object_array_add(phases, phase("QUEUED", now));
    json_object_object_add(b, "phases", phases);
    json_object_object_add(b, "source", copy(src));
    struct json_object *ss =
        nb->secondary_sources ? nb->secondary_sources : get(p, "secondarySources");
    json_object_object_add(b, "secondarySources", ss ? copy(ss) : json_object_new_array());
    struct json_object *sv2 =
        nb->secondary_versions ? nb->secondary_versions : get(p, "secondarySourceVersions");
    json_object_object_add(b, "secondarySourceVersions", sv2 ? copy(sv2) : json_object_new_array());
    struct json_object *ba = json_object_new_object();
    const char *at = cb_json_str(art, "type");
    if (at && !strcmp(at, "S3"))
        json_object_object_add(ba, "location",
                               json_object_new_string(artifact_location(a, art, id_out)));
    if (at && !strcmp(at, "S3") && get(art, "overrideArtifactName"))
        json_object_object_add(ba, "overrideArtifactName", copy(get(art, "overrideArtifactName")));
    struct json_object *outs = get(nb->host_env, "outputs");
    if (outs && json_object_array_length(outs)) { /* the pipeline's output artifact */
        struct json_object *o0 = json_object_array_get_idx(outs, 0);
        json_object_object_add(ba, "location",
                               json_object_new_string(proto_arena_printf(a, "arn:aws:s3:::%s/%s",
                                                                         cb_json_str(o0, "bucket"),
                                                                         cb_json_str(o0, "key"))));
    }
    json_object_object_add(b, "artifacts", ba);
    struct json_object *sas =
        nb->secondary_artifacts ? nb->secondary_artifacts : get(p, "secondaryArtifacts");
    struct json_object *bsa = json_object_new_array();
    for (size_t i = 0; sas && i < json_object_array_length(sas); i++) {
        struct json_object *one = json_object_array_get_idx(sas, i), *e = json_object_new_object();
        const char *t2 = cb_json_str(one, "type");
        if (t2 && !strcmp(t2, "S3"))
            json_object_object_add(e, "location",
                                   json_object_new_string(artifact_location(a, one, id_out)));
        if (get(one, "artifactIdentifier"))
            json_object_object_add(e, "artifactIdentifier", copy(get(one, "artifactIdentifier")));
        json_object_array_add(bsa, e);
    }
    json_object_object_add(b, "secondaryArtifacts", bsa);
    json_object_object_add(b, "cache", copy(get(p, "cache")));
    json_object_object_add(b, "environment", copy(env));
    if (get(p, "serviceRole"))
        json_object_object_add(b, "serviceRole", copy(get(p, "serviceRole")));
    struct json_object *logs = json_object_new_object();
    /* CloudWatch Logs, as the project's logsConfig says: /aws/codebuild/<project> and the build's
     * uuid by default, the configured group, "<prefix>/<uuid>" for a stream prefix, none when
     * DISABLED. The build runner writes the log there. */
    struct json_object *cwc = get(get(p, "logsConfig"), "cloudWatchLogs");
    const char *cws = cb_json_str(cwc, "status"), *cwg = cb_json_str(cwc, "groupName");
    const char *cwp = cb_json_str(cwc, "streamName");
    if (!cws || strcmp(cws, "DISABLED") != 0) {
        const char *gn =
            cwg && *cwg ? cwg : proto_arena_printf(a, "/aws/codebuild/%s", nb->project);
        const char *sn = cwp && *cwp ? proto_arena_printf(a, "%s/%s", cwp, uuid) : uuid;
        json_object_object_add(logs, "groupName", json_object_new_string(gn));
        json_object_object_add(logs, "streamName", json_object_new_string(sn));
        json_object_object_add(
            logs, "cloudWatchLogsArn",
            json_object_new_string(proto_arena_printf(
                a, "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", region, acct, gn, sn)));
    }
    json_object_object_add(logs, "deepLink",
                           json_object_new_string(proto_arena_printf(
                               a, "%s/_codepipeline-local/codebuild/logs/%s", endpoint, id_out)));
    struct json_object *lc = get(p, "logsConfig");
    if (lc) {
        if (get(lc, "cloudWatchLogs"))
            json_object_object_add(logs, "cloudWatchLogs", copy(get(lc, "cloudWatchLogs")));
        if (get(lc, "s3Logs")) json_object_object_add(logs, "s3Logs", copy(get(lc, "s3Logs")));
    }
    json_object_object_add(b, "logs", logs);
    json_object_object_add(b, "timeoutInMinutes", json_object_new_int(timeout));
    json_object_object_add(b, "queuedTimeoutInMinutes", json_object_new_int(qtimeout));
    json_object_object_add(b, "buildComplete", json_object_new_boolean(0));
    json_object_object_add(b, "initiator",
                           json_object_new_string(nb->initiator ? nb->initiator : "root"));
    json_object_object_add(b, "encryptionKey", copy(get(p, "encryptionKey")));

    spec = json_object_new_object();
    json_object_object_add(spec, "source", src);
    json_object_object_add(spec, "artifacts", art);
    json_object_object_add(spec, "env", env);
    json_object_object_add(spec, "endpoint", json_object_new_string(endpoint));
    if (sas) json_object_object_add(spec, "secondaryArtifacts", copy(sas));
    if (nb->host_env) json_object_object_add(spec, "hostEnv", copy(nb->host_env));
    if (nb->idempotency_token)
        json_object_object_add(spec, "token", json_object_new_string(nb->idempotency_token));
    const char *akid = nb->access_key, *secret = nb->secret_key;
    if (!akid || !secret) /* the engine's builds: a key pair of the pipeline's account */
        cb_run_account_key(acct, &akid, &secret);
    if (akid && secret) {
        struct json_object *c = json_object_new_object();
        json_object_object_add(c, "accessKeyId", json_object_new_string(akid));
        json_object_object_add(c, "secretAccessKey", json_object_new_string(secret));
        json_object_object_add(spec, "credentials", c);
    }

    if ((rc = cb_build_save(t, acct, region, id_out, now, b, spec))) goto out;
    size_t len;
    char *rec = cb_proj_make(&h, p, &len);
    if (store_key(key, sizeof key, acct, region, nb->project) < 0) {
        free(rec);
        rc = STORE_ERROR;
        goto out;
    }
    rc = store_put(t, STORE_DB_CB_PROJECTS, key, strlen(key), rec, len);
    free(rec);
    if (rc) goto out;
    if ((rc = cb_run_enqueue_in(t, acct, region, id_out, now + qtimeout * cb_minute_seconds()))) {
        snprintf(err, errlen, "the build queue refused the build (%d)", rc);
        if (rc > 0 || rc > -100) rc = STORE_ERROR;
        goto out;
    }
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) goto out;
    cb_run_kick(id_out);
    if (build_out) {
        *build_out = b;
        b = NULL;
    }
out:
    store_txn_abort(t);
    json_object_put(p);
    json_object_put(b);
    json_object_put(spec);
    return rc;
}

/* Checks the overrides CodeBuild checks before starting. Returns 0 or the proto_error. */
static int check_env_overrides(struct proto_req *req, struct json_object *vars)
{
    for (size_t i = 0; vars && i < json_object_array_length(vars); i++) {
        const char *name = cb_json_str(json_object_array_get_idx(vars, i), "name");
        if (name && !strncmp(name, "CODEBUILD_", 10))
            return proto_error(req, ERR_CB_INVALID_INPUT,
                               "Invalid environment variable name: %s. Environment variable "
                               "names cannot start with CODEBUILD_",
                               name);
    }
    return 0;
}

/* Answers {"build": <the build's current JSON>}. */
static int answer_build(struct proto_req *req, const char *id)
{
    store_txn *t = NULL;
    struct json_object *b = NULL;
    int rc = store_txn_begin(req->store, 0, &t);
    if (!rc) rc = cb_build_load(t, req->caller.account_id, req->caller.region, id, NULL, &b, NULL);
    store_txn_abort(t);
    if (rc) return cb_store_error(req, rc);
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "build", b);
    req->output = out;
    return 0;
}

/* The fingerprint of a request's parameters (its input without the token), hex SHA-256 into
 * out (65 bytes), so that a reuse of a token with other parameters is found. */
static void fingerprint(struct proto_req *req, char *out)
{
    struct json_object *in = NULL;
    size_t n = 0;
    if (json_object_deep_copy(req->input, &in, NULL) != 0) in = NULL;
    if (in) json_object_object_del(in, "idempotencyToken");
    char *s = in ? cb_json_dup(in, &n) : NULL;
    sigv4_sha256_hex(s ? s : "", n, out);
    free(s);
    json_object_put(in);
}

/* A token's record (in STORE_DB_CB_BUILDS, under a key no build id can have): when it was used,
 * the fingerprint of the request, then the build id. */
struct token_rec {
    double at;
    char fp[64];
};

/* Looks up an idempotency token that is still valid (CodeBuild keeps one for 5 minutes).
 * Returns 0 when there is none (or it expired), 1 with the build id copied when the request
 * repeats the one that used it, or the InvalidInputException of a reuse with other parameters. */
static int find_token(struct proto_req *req, const char *project, const char *token, const char *fp,
                      char *id)
{
    char key[600];
    const void *val;
    size_t vlen;
    store_txn *t = NULL;
    struct token_rec r;
    int found = 0;
    snprintf(key, sizeof key, "%s/%s/#token#%s#%s", req->caller.account_id, req->caller.region,
             project, token);
    if (store_txn_begin(req->store, 0, &t)) return 0;
    if (!store_get(t, STORE_DB_CB_BUILDS, key, strlen(key), &val, &vlen) && vlen > sizeof r &&
        vlen - sizeof r < CB_BUILD_ID_MAX) {
        memcpy(&r, val, sizeof r);
        if (proto_now() - r.at < 5 * cb_minute_seconds()) {
            memcpy(id, (const char *)val + sizeof r, vlen - sizeof r);
            id[vlen - sizeof r] = 0;
            found = memcmp(r.fp, fp, sizeof r.fp) ? -1 : 1;
        }
    }
    store_txn_abort(t);
    if (found < 0)
        return proto_error(req, ERR_CB_INVALID_INPUT,
                           "Idempotency token %s was used with different parameters by build %s; "
                           "a token is valid for 5 minutes",
                           token, id);
    return found;
}

static void save_token(struct proto_req *req, const char *project, const char *token,
                       const char *fp, const char *id)
{
    char key[600], val[CB_BUILD_ID_MAX + sizeof(struct token_rec)];
    store_txn *t = NULL;
    struct token_rec r;
    r.at = proto_now();
    memcpy(r.fp, fp, sizeof r.fp);
    snprintf(key, sizeof key, "%s/%s/#token#%s#%s", req->caller.account_id, req->caller.region,
             project, token);
    memcpy(val, &r, sizeof r);
    size_t n = strlen(id);
    memcpy(val + sizeof r, id, n);
    if (store_txn_begin(req->store, 1, &t)) return;
    if (store_put(t, STORE_DB_CB_BUILDS, key, strlen(key), val, sizeof r + n) == 0)
        store_txn_commit(t);
    else
        store_txn_abort(t);
}

/* Gives the build the caller's own key pair: it is of the caller's account, so what the build does
 * against this server happens there. With --auth off an unknown key still picks the account, and
 * any secret passes. */
static void caller_credentials(struct proto_req *req, struct cb_new_build *nb)
{
    const char *secret = NULL, *account = NULL;
    if (!req->caller.access_key) return;
    nb->access_key = req->caller.access_key;
    if (sigv4_creds_lookup(req->creds, req->caller.access_key, &secret, &account) &&
        !strcmp(account, req->caller.account_id))
        nb->secret_key = proto_arena_strdup(req->arena, secret);
    else
        nb->secret_key = "test";
}

static int start_build(struct proto_req *req, struct cb_new_build *nb)
{
    char id[CB_BUILD_ID_MAX], err[256] = "", fp[65];
    caller_credentials(req, nb);
    if (nb->idempotency_token) {
        fingerprint(req, fp);
        int found = find_token(req, nb->project, nb->idempotency_token, fp, id);
        if (found < 0) return found;
        if (found) return answer_build(req, id);
    }
    if (!cb_run_ready())
        return proto_error(req, ERR_SERVICE_UNAVAILABLE, "The build runner is not running");
    struct json_object *b = NULL;
    int rc = cb_create_build(req->store, req->arena, nb, id, &b, err, sizeof err);
    if (rc == STORE_NOTFOUND)
        return proto_error(req, ERR_RESOURCE_NOT_FOUND,
                           "Project cannot be found: arn:aws:codebuild:%s:%s:project/%s",
                           req->caller.region, req->caller.account_id, nb->project);
    if (rc) {
        json_object_put(b);
        return rc < 0 && rc > -100 ? cb_store_error(req, rc)
                                   : proto_error(req, ERR_INTERNAL_FAILURE, "%s", err);
    }
    if (nb->idempotency_token) save_token(req, nb->project, nb->idempotency_token, fp, id);
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "build", b);
    req->output = out;
    return 0;
}

int cb_op_start_build(struct proto_req *req)
{
    struct json_object *in = req->input;
    struct cb_new_build nb = {0};
    int rc;
    nb.account = req->caller.account_id;
    nb.region = req->caller.region;
    nb.endpoint = proto_arena_printf(req->arena, "http://%s", req->public_host);
    nb.project =
        cb_project_name_of(req->arena, nb.account, nb.region, cb_json_str(in, "projectName"));
    if (!nb.project)
        return proto_error(req, ERR_RESOURCE_NOT_FOUND, "Project cannot be found: %s",
                           cb_json_str(in, "projectName"));
    nb.buildspec = cb_json_str(in, "buildspecOverride");
    nb.source_version = cb_json_str(in, "sourceVersion");
    nb.artifacts = get(in, "artifactsOverride");
    nb.secondary_sources = get(in, "secondarySourcesOverride");
    nb.secondary_versions = get(in, "secondarySourcesVersionOverride");
    nb.secondary_artifacts = get(in, "secondaryArtifactsOverride");
    nb.env = get(in, "environmentVariablesOverride");
    if ((rc = check_env_overrides(req, nb.env))) return rc;
    struct json_object *v;
    if ((v = get(in, "timeoutInMinutesOverride"))) nb.timeout = json_object_get_int(v);
    if ((v = get(in, "queuedTimeoutInMinutesOverride"))) nb.queued_timeout = json_object_get_int(v);
    nb.idempotency_token = cb_json_str(in, "idempotencyToken");
    return start_build(req, &nb);
}

int cb_op_retry_build(struct proto_req *req)
{
    const char *id = cb_json_str(req->input, "id");
    const char *acct = req->caller.account_id, *region = req->caller.region;
    struct json_object *b = NULL, *spec = NULL;
    store_txn *t = NULL;
    if (!id) return proto_error(req, ERR_CB_INVALID_INPUT, "Build id or ARN is required");
    const char *arnp =
        proto_arena_printf(req->arena, "arn:aws:codebuild:%s:%s:build/", region, acct);
    if (!strncmp(id, arnp, strlen(arnp))) id += strlen(arnp);
    int rc = store_txn_begin(req->store, 0, &t);
    if (!rc) rc = cb_build_load(t, acct, region, id, NULL, &b, &spec);
    store_txn_abort(t);
    if (rc == STORE_NOTFOUND)
        return proto_error(req, ERR_RESOURCE_NOT_FOUND, "Build %s does not exist", id);
    if (rc) return cb_store_error(req, rc);
    struct cb_new_build nb = {0};
    nb.account = acct;
    nb.region = region;
    nb.endpoint = proto_arena_printf(req->arena, "http://%s", req->public_host);
    nb.project = proto_arena_strdup(req->arena, cb_json_str(b, "projectName"));
    nb.buildspec = proto_arena_strdup(req->arena, cb_json_str(get(spec, "source"), "buildspec"));
    const char *sv = cb_json_str(b, "sourceVersion");
    nb.source_version = sv ? proto_arena_strdup(req->arena, sv) : NULL;
    nb.artifacts = get(spec, "artifacts");
    nb.env = get(get(spec, "env"), "environmentVariables");
    nb.secondary_sources = get(b, "secondarySources");
    nb.secondary_versions = get(b, "secondarySourceVersions");
    nb.secondary_artifacts = get(spec, "secondaryArtifacts");
    nb.timeout = json_object_get_int(get(b, "timeoutInMinutes"));
    nb.idempotency_token = cb_json_str(req->input, "idempotencyToken");
    rc = start_build(req, &nb);
    json_object_put(b);
    json_object_put(spec);
    return rc;
}

/* ---- reads ---------------------------------------------------------------------------------- */

/* Returns the build id of an id or build ARN of the caller (arena-owned). */
static const char *build_id_of(struct proto_req *req, const char *given)
{
    const char *arnp = proto_arena_printf(req->arena, "arn:aws:codebuild:%s:%s:build/",
                                          req->caller.region, req->caller.account_id);
    return strncmp(given, arnp, strlen(arnp)) ? given : given + strlen(arnp);
}

/* Finds a build of the caller by id or ARN for cb_batch_get. */
static int find_build(struct proto_req *req, store_txn *t, const char *given, const char **json,
                      size_t *len)
{
    const char *id = build_id_of(req, given);
    char key[600];
    const void *val;
    size_t vlen;
    struct cb_build_hdr h;
    if (!strchr(id, ':') ||
        cb_build_key(key, sizeof key, req->caller.account_id, req->caller.region, id) < 0 ||
        store_get(t, STORE_DB_CB_BUILDS, key, strlen(key), &val, &vlen) != 0 ||
        cb_build_parse(val, vlen, &h, json, NULL) != 0)
        return -1;
    *len = h.build_len;
    return 0;
}

int cb_op_batch_get_builds(struct proto_req *req)
{
    return cb_batch_get(req, "ids", "builds", find_build);
}

struct build_entry {
    char *id;
    double start;
};

static int cmp_build(const void *a, const void *b)
{
    const struct build_entry *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return strcmp(x->id, y->id);
}

static int list_builds(struct proto_req *req, const char *project)
{
    const char *order = cb_json_str(req->input, "sortOrder");
    int asc = order && !strcmp(order, "ASCENDING");
    size_t offset = 0;
    store_txn *t = NULL;
    store_cursor *c = NULL;
    struct build_entry *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    if ((rc = cb_page_offset(req, &offset))) return rc;
    char prefix[600];
    int plen = store_key(prefix, sizeof prefix, req->caller.account_id, req->caller.region,
                         project ? project : "");
    if (plen < 0 || (size_t)plen + 2 > sizeof prefix) /* a name longer than any project's */
        return proto_error(req, ERR_RESOURCE_NOT_FOUND,
                           "Project cannot be found: arn:aws:codebuild:%s:%s:project/%.255s",
                           req->caller.region, req->caller.account_id, project ? project : "");
    if (project) prefix[plen++] = ':', prefix[plen] = 0;
    if ((rc = store_txn_begin(req->store, 0, &t))) goto store_fail;
    if (project) {
        struct cb_proj_hdr ph;
        rc = cb_project_read(t, req->caller.account_id, req->caller.region, project, &ph, NULL);
        if (rc == STORE_NOTFOUND) {
            rc = proto_error(req, ERR_RESOURCE_NOT_FOUND,
                             "Project cannot be found: arn:aws:codebuild:%s:%s:project/%s",
                             req->caller.region, req->caller.account_id, project);
            goto out;
        }
        if (rc) goto store_fail;
    }
    if ((rc = store_cursor_open(t, STORE_DB_CB_BUILDS, &c))) goto store_fail;
    size_t base = (size_t)plen - (project ? strlen(project) + 1 : 0);
    for (int r = store_cursor_seek(c, prefix, (size_t)plen); r == 0; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl <= (size_t)plen || memcmp(k, prefix, (size_t)plen) != 0) break;
        struct cb_build_hdr h;
        const char *b;
        if (cb_build_parse(val, vl, &h, &b, NULL)) continue; /* idempotency tokens */
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            v = realloc(v, cap * sizeof *v);
            if (!v) abort();
        }
        v[n].id = proto_arena_strndup(req->arena, (const char *)k + base, kl - base);
        v[n].start = h.start;
        n++;
    }
    if (n) qsort(v, n, sizeof *v, cmp_build);
    cb_answer_page(req, "ids", v, sizeof *v, n, offset, LIST_PAGE, !asc);
    goto out;
store_fail:
    rc = cb_store_error(req, rc);
out:
    free(v);
    store_cursor_close(c);
    store_txn_abort(t);
    return rc;
}

int cb_op_list_builds(struct proto_req *req)
{
    return list_builds(req, NULL);
}

int cb_op_list_builds_for_project(struct proto_req *req)
{
    const char *p = cb_project_name_of(req->arena, req->caller.account_id, req->caller.region,
                                       cb_json_str(req->input, "projectName"));
    if (!p)
        return proto_error(req, ERR_RESOURCE_NOT_FOUND, "Project cannot be found: %s",
                           cb_json_str(req->input, "projectName"));
    return list_builds(req, p);
}

int cb_op_stop_build(struct proto_req *req)
{
    const char *id = build_id_of(req, cb_json_str(req->input, "id"));
    int rc = cb_run_stop(req->store, req->caller.account_id, req->caller.region, id);
    if (rc == STORE_NOTFOUND)
        return proto_error(req, ERR_RESOURCE_NOT_FOUND, "Build %s does not exist", id);
    if (rc) return cb_store_error(req, rc);
    return answer_build(req, id);
}

int cb_op_batch_delete_builds(struct proto_req *req)
{
    struct json_object *ids = get(req->input, "ids");
    struct json_object *deleted = json_object_new_array(), *not_deleted = json_object_new_array();
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) {
        json_object_put(deleted);
        json_object_put(not_deleted);
        return cb_store_error(req, rc);
    }
    for (size_t i = 0; i < json_object_array_length(ids); i++) {
        const char *given = json_object_get_string(json_object_array_get_idx(ids, i));
        const char *id = build_id_of(req, given);
        struct json_object *b = NULL;
        char key[600];
        int r = cb_build_load(t, req->caller.account_id, req->caller.region, id, NULL, &b, NULL);
        const char *why = NULL;
        if (r == STORE_NOTFOUND)
            why = "BUILD_NOT_FOUND";
        else if (r)
            why = "INTERNAL_ERROR";
        else if (!json_object_get_boolean(get(b, "buildComplete")))
            why = "BUILD_IN_PROGRESS";
        json_object_put(b);
        if (!why &&
            cb_build_key(key, sizeof key, req->caller.account_id, req->caller.region, id) >= 0 &&
            store_del(t, STORE_DB_CB_BUILDS, key, strlen(key)) == 0) {
            json_object_array_add(deleted, json_object_new_string(given));
            cb_run_remove_files(req->store, id);
        } else {
            struct json_object *e = json_object_new_object();
            json_object_object_add(e, "id", json_object_new_string(given));
            json_object_object_add(e, "statusCode",
                                   json_object_new_string(why ? why : "INTERNAL_ERROR"));
            json_object_array_add(not_deleted, e);
        }
    }
    rc = store_txn_commit(t);
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "buildsDeleted", deleted);
    json_object_object_add(out, "buildsNotDeleted", not_deleted);
    if (rc) {
        json_object_put(out);
        return cb_store_error(req, rc);
    }
    req->output = out;
    return 0;
}

int cb_op_not_simulated(struct proto_req *req)
{
    const char *op = req->operation;
    const char *what = strstr(op, "Fleet")     ? "Fleets"
                       : strstr(op, "Webhook") ? "Webhooks"
                       : strstr(op, "Batch")   ? "Batch builds"
                                               : op;
    return proto_error(req, ERR_CB_INVALID_INPUT, "%s are not simulated by codepipeline-local (%s)",
                       what, op);
}
