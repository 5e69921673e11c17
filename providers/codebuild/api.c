/* The in-process CodeBuild interface for the engine: the contract of codebuild.h (start, stop,
 * read a build) on the build runner, and the completion listeners. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codebuild/run.h"
#include "providers/runtime/listeners.h"

static struct rt_listeners build_listeners = RT_LISTENERS_INIT;

int cb_add_build_listener(cb_build_listener fn, void *ctx)
{
    return rt_listeners_add(&build_listeners, (rt_listener_any)fn, ctx);
}

int cb_remove_build_listener(int handle)
{
    return rt_listeners_remove(&build_listeners, handle);
}

static void call_build_listener(rt_listener_any fn, void *ctx, const void *ev)
{
    ((cb_build_listener)fn)(ctx, ev);
}

void cb_notify_build_done(const struct cb_build_done *ev)
{
    rt_listeners_notify(&build_listeners, call_build_listener, ev);
}

const char *cb_status_name(enum cb_status s)
{
    switch (s) {
    case CB_STATUS_IN_PROGRESS:
        return "IN_PROGRESS";
    case CB_STATUS_SUCCEEDED:
        return "SUCCEEDED";
    case CB_STATUS_FAILED:
        return "FAILED";
    case CB_STATUS_FAULT:
        return "FAULT";
    case CB_STATUS_TIMED_OUT:
        return "TIMED_OUT";
    case CB_STATUS_STOPPED:
        return "STOPPED";
    }
    return "FAULT";
}

enum cb_status cb_status_parse(const char *s)
{
    static const enum cb_status all[] = {CB_STATUS_IN_PROGRESS, CB_STATUS_SUCCEEDED,
                                         CB_STATUS_FAILED,      CB_STATUS_FAULT,
                                         CB_STATUS_TIMED_OUT,   CB_STATUS_STOPPED};
    for (size_t i = 0; s && i < sizeof all / sizeof *all; i++)
        if (!strcmp(s, cb_status_name(all[i]))) return all[i];
    return CB_STATUS_FAULT;
}

static struct json_object *location(const char *name, const struct cb_s3_location *l)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(name ? name : ""));
    json_object_object_add(o, "bucket", json_object_new_string(l->bucket ? l->bucket : ""));
    json_object_object_add(o, "key", json_object_new_string(l->key ? l->key : ""));
    if (l->version_id) json_object_object_add(o, "version", json_object_new_string(l->version_id));
    return o;
}

int cb_start_build(store *st, const struct cb_start *req, char build_id[CB_BUILD_ID_MAX], char *err,
                   size_t errlen)
{
    build_id[0] = '\0';
    if (err && errlen) err[0] = '\0';
    if (!st || !req || !req->account || !req->region || !req->project || !*req->project) {
        snprintf(err, errlen, "account, region and project are required");
        return CB_EINVAL;
    }
    if (req->n_outputs && !req->outputs) {
        snprintf(err, errlen, "outputs are missing");
        return CB_EINVAL;
    }
    struct json_object *env = NULL, *host = NULL;
    if (req->n_env) {
        env = json_object_new_array();
        for (size_t i = 0; i < req->n_env; i++) {
            struct json_object *v = json_object_new_object();
            json_object_object_add(v, "name", json_object_new_string(req->env[i].name));
            json_object_object_add(
                v, "value", json_object_new_string(req->env[i].value ? req->env[i].value : ""));
            json_object_object_add(
                v, "type",
                json_object_new_string(req->env[i].type ? req->env[i].type : "PLAINTEXT"));
            json_object_array_add(env, v);
        }
    }
    if (req->primary_source || req->n_outputs) {
        host = json_object_new_object();
        if (req->primary_source) {
            struct json_object *ins = json_object_new_array();
            json_object_array_add(
                ins, location(req->primary_source->name, &req->primary_source->location));
            for (size_t i = 0; i < req->n_secondary_sources; i++)
                json_object_array_add(ins, location(req->secondary_sources[i].name,
                                                    &req->secondary_sources[i].location));
            json_object_object_add(host, "inputs", ins);
        }
        if (req->n_outputs) {
            struct json_object *outs = json_object_new_array();
            for (size_t i = 0; i < req->n_outputs; i++)
                json_object_array_add(outs,
                                      location(req->outputs[i].name, &req->outputs[i].location));
            json_object_object_add(host, "outputs", outs);
        }
    }
    struct cb_new_build nb = {
        .account = req->account,
        .region = req->region,
        .project = req->project,
        .initiator = req->initiator,
        .buildspec = req->buildspec_override,
        .source_version = req->source_version,
        .env = env,
        .host_env = host,
        .timeout = req->timeout_minutes,
        .idempotency_token = req->idempotency_token,
    };
    proto_arena *a = proto_arena_new();
    int rc = cb_create_build(st, a, &nb, build_id, NULL, err, errlen);
    proto_arena_free(a);
    json_object_put(env);
    json_object_put(host);
    if (rc == STORE_NOTFOUND) {
        build_id[0] = '\0';
        snprintf(err, errlen, "Project cannot be found: arn:aws:codebuild:%s:%s:project/%s",
                 req->region, req->account, req->project);
        return CB_ENOPROJECT;
    }
    if (rc) {
        build_id[0] = '\0';
        if (err && !err[0]) snprintf(err, errlen, "store: %s", store_strerror(rc));
        return CB_EIO;
    }
    return 0;
}

/* Loads build_id: 0, CB_ENOBUILD or CB_EIO. */
static int load(store *st, const char *account, const char *region, const char *build_id,
                struct json_object **b, struct json_object **spec)
{
    store_txn *t = NULL;
    *b = NULL;
    if (spec) *spec = NULL;
    if (!st || !account || !region || !build_id || !strchr(build_id, ':')) return CB_ENOBUILD;
    int rc = store_txn_begin(st, 0, &t);
    if (!rc) rc = cb_build_load(t, account, region, build_id, NULL, b, spec);
    store_txn_abort(t);
    return rc == STORE_NOTFOUND ? CB_ENOBUILD : rc ? CB_EIO : 0;
}

int cb_stop_build(store *st, const char *account, const char *region, const char *build_id)
{
    struct json_object *b;
    int rc = load(st, account, region, build_id, &b, NULL);
    if (rc) return rc;
    int complete = json_object_get_boolean(json_object_object_get(b, "buildComplete"));
    json_object_put(b);
    if (complete) return CB_ESTATE;
    return cb_run_stop(st, account, region, build_id) ? CB_EIO : 0;
}

static char *dup_str(struct json_object *o, const char *key)
{
    const char *s = cb_json_str(o, key);
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

/* The length of a, or 0 when a is not an array (json-c asserts on that). */
static size_t alen(struct json_object *a)
{
    return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static double time_of(struct json_object *o, const char *key)
{
    struct json_object *v = json_object_object_get(o, key);
    return v ? json_object_get_double(v) : 0;
}

int cb_get_build(store *st, const char *account, const char *region, const char *build_id,
                 struct cb_build *out)
{
    struct json_object *b, *spec;
    memset(out, 0, sizeof *out);
    int rc = load(st, account, region, build_id, &b, &spec);
    if (rc) return rc;
    out->id = dup_str(b, "id");
    out->arn = dup_str(b, "arn");
    out->status = cb_status_parse(cb_json_str(b, "buildStatus"));
    out->complete = json_object_get_boolean(json_object_object_get(b, "buildComplete"));
    out->current_phase = dup_str(b, "currentPhase");
    out->start_time = time_of(b, "startTime");
    out->end_time = time_of(b, "endTime");
    struct json_object *phases = json_object_object_get(b, "phases");
    size_t np = alen(phases);
    out->phases = calloc(np ? np : 1, sizeof *out->phases);
    if (!out->phases) abort();
    for (size_t i = 0; i < np; i++) {
        struct json_object *p = json_object_array_get_idx(phases, i);
        struct cb_phase *ph = &out->phases[out->n_phases++];
        ph->type = dup_str(p, "phaseType");
        ph->status = dup_str(p, "phaseStatus");
        struct json_object *ctxs = json_object_object_get(p, "contexts");
        struct json_object *ctx = alen(ctxs) ? json_object_array_get_idx(ctxs, 0) : NULL;
        const char *m = cb_json_str(ctx, "message"), *c = cb_json_str(ctx, "statusCode");
        if (m && *m) ph->message = dup_str(ctx, "message");
        if (c && *c) ph->status_code = dup_str(ctx, "statusCode");
        ph->start = time_of(p, "startTime");
        ph->end = time_of(p, "endTime");
        if (ph->status && strcmp(ph->status, "SUCCEEDED") && !out->failure && ph->message) {
            if (asprintf(&out->failure, "%s: %s", ph->type, ph->message) < 0) abort();
        }
    }
    struct json_object *ev = json_object_object_get(b, "exportedEnvironmentVariables");
    size_t ne = alen(ev);
    out->exported = calloc(ne ? ne : 1, sizeof *out->exported);
    if (!out->exported) abort();
    for (size_t i = 0; i < ne; i++) {
        struct json_object *v = json_object_array_get_idx(ev, i);
        out->exported[out->n_exported].name = dup_str(v, "name");
        out->exported[out->n_exported++].value = dup_str(v, "value");
    }
    struct json_object *outs =
        json_object_object_get(json_object_object_get(spec, "hostEnv"), "outputs");
    size_t no = out->complete && out->status == CB_STATUS_SUCCEEDED ? alen(outs) : 0;
    out->outputs = calloc(no ? no : 1, sizeof *out->outputs);
    if (!out->outputs) abort();
    for (size_t i = 0; i < no; i++) {
        struct json_object *o = json_object_array_get_idx(outs, i);
        out->outputs[i].name = dup_str(o, "name");
        out->outputs[i].location.bucket = dup_str(o, "bucket");
        out->outputs[i].location.key = dup_str(o, "key");
        out->n_outputs++;
    }
    out->resolved_source_version = dup_str(b, "resolvedSourceVersion");
    struct json_object *logs = json_object_object_get(b, "logs");
    out->log_group = dup_str(logs, "groupName");
    out->log_stream = dup_str(logs, "streamName");
    out->log_url = dup_str(logs, "deepLink");
    json_object_put(b);
    json_object_put(spec);
    return 0;
}

void cb_build_free(struct cb_build *b)
{
    free(b->id);
    free(b->arn);
    free(b->current_phase);
    for (size_t i = 0; i < b->n_phases; i++) {
        free(b->phases[i].type);
        free(b->phases[i].status);
        free(b->phases[i].message);
        free(b->phases[i].status_code);
    }
    free(b->phases);
    for (size_t i = 0; i < b->n_exported; i++) {
        free(b->exported[i].name);
        free(b->exported[i].value);
    }
    free(b->exported);
    for (size_t i = 0; i < b->n_outputs; i++) {
        free((char *)b->outputs[i].name);
        free((char *)b->outputs[i].location.bucket);
        free((char *)b->outputs[i].location.key);
        free((char *)b->outputs[i].location.version_id);
    }
    free(b->outputs);
    free(b->resolved_source_version);
    free(b->log_group);
    free(b->log_stream);
    free(b->log_url);
    free(b->failure);
    memset(b, 0, sizeof *b);
}
