/* The webhook URLs: POST /webhooks/<region>/<account>/<name>, judged by cp_webhook_judge and
 * started through the engine's starter. */
#include <json-c/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "providers/codepipeline/codepipeline.h"
#include "providers/codepipeline/cp_internal.h"
#include "providers/codepipeline/webhook_call.h"
#include "providers/codepipeline/cp_json.h"

#define KEY_MAX 512

static _Atomic(cp_webhook_starter) starter;

void cp_webhook_set_starter(cp_webhook_starter fn)
{
    atomic_store(&starter, fn);
}

static void answer(struct proto_req *req, int status, const char *key, const char *value)
{
    req->status = status;
    req->content_type = "application/json";
    proto_sb_reset(&req->body);
    proto_sb_printf(&req->body, "{\"%s\":", key);
    proto_sb_json_string(&req->body, value, strlen(value));
    proto_sb_putc(&req->body, '}');
}

/* Splits "/webhooks/<region>/<account>/<name>" into its parts (arena copies). Returns 0 or -1. */
static int parse_path(struct proto_req *req, char **region, char **account, char **name)
{
    const char *p = req->http.path + strlen("/webhooks/");
    size_t rl = strcspn(p, "/");
    if (!rl || p[rl] != '/') return -1;
    const char *a = p + rl + 1;
    size_t al = strcspn(a, "/");
    if (al != 12 || a[al] != '/') return -1;
    for (size_t i = 0; i < al; i++)
        if (a[i] < '0' || a[i] > '9') return -1;
    const char *n = a + al + 1;
    if (!*n || strchr(n, '/') || strlen(n) > 100) return -1;
    *region = proto_arena_strndup(req->arena, p, rl);
    *account = proto_arena_strndup(req->arena, a, al);
    *name = proto_arena_strdup(req->arena, n);
    return 0;
}

/* Returns the configuration of action in the current declaration of pipeline (new reference),
 * or NULL. */
static struct json_object *action_configuration(store_txn *t, const char *account,
                                                const char *region, const char *pipeline,
                                                const char *action)
{
    char key[KEY_MAX];
    const void *val;
    size_t vlen;
    struct cp_pipe_hdr h;
    const char *decl;
    int kl = store_key(key, sizeof key, account, region, pipeline);
    if (kl < 0 || store_get(t, STORE_DB_CP_PIPELINES, key, (size_t)kl, &val, &vlen) != 0 ||
        cp_pipe_rec_parse(val, vlen, &h, &decl) != 0)
        return NULL;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *d = tok ? json_tokener_parse_ex(tok, decl, (int)h.decl_len) : NULL;
    json_tokener_free(tok);
    struct json_object *found = NULL, *stages = jget(d, "stages");
    for (size_t s = 0; !found && stages && s < json_object_array_length(stages); s++) {
        struct json_object *acts = jget(json_object_array_get_idx(stages, s), "actions");
        for (size_t a = 0; !found && acts && a < json_object_array_length(acts); a++) {
            struct json_object *act = json_object_array_get_idx(acts, a);
            const char *n = jgets(act, "name");
            if (n && action && !strcmp(n, action)) found = jget(act, "configuration");
        }
    }
    if (found) json_object_get(found);
    json_object_put(d);
    return found;
}

static int webhook_dispatch(struct proto_req *req)
{
    char *region, *account, *name, why[256];
    store_txn *t = NULL;
    struct json_object *rec = NULL, *config = NULL;
    if (parse_path(req, &region, &account, &name) != 0) {
        answer(req, 404, "message", "No webhook has this URL.");
        goto out;
    }
    if (store_txn_begin(req->store, 0, &t) != 0) {
        answer(req, 500, "message", "The store failed.");
        goto out;
    }
    rec = cp_webhook_load(t, account, region, name);
    struct json_object *def = jget(rec, "definition");
    if (!def) {
        answer(req, 404, "message", "No webhook has this URL.");
        goto out;
    }
    const char *pipeline = jgets(def, "targetPipeline"), *arn = jgets(rec, "arn");
    config = action_configuration(t, account, region, pipeline, jgets(def, "targetAction"));
    store_txn_abort(t);
    t = NULL;
    struct cp_webhook_call call = {
        .body = req->http.body ? req->http.body : "",
        .body_len = req->http.body_len,
        .signature_256 = proto_req_header(req, "x-hub-signature-256"),
        .signature_1 = proto_req_header(req, "x-hub-signature"),
        .remote_ip = proto_req_remote_addr(req),
    };
    /* AWS does not document these answers; a sender (GitHub) only tells 2xx from the rest, so a
     * call that is authentic but filtered out is a success that starts nothing. */
    switch (cp_webhook_judge(def, config, &call, why, sizeof why)) {
    case CP_WEBHOOK_UNAUTHORIZED:
        answer(req,
               strcmp(jgets(def, "authentication") ? jgets(def, "authentication") : "", "IP") ? 401
                                                                                              : 403,
               "message", why);
        goto out;
    case CP_WEBHOOK_NO_MATCH:
        answer(req, 200, "message",
               proto_arena_printf(req->arena, "No execution started: %s.", why));
        goto out;
    case CP_WEBHOOK_START:
        break;
    }
    cp_webhook_starter fn = atomic_load(&starter);
    char id[37];
    if (!fn) {
        answer(req, 503, "message", "The pipeline engine is not running; nothing was started.");
        goto out;
    }
    if (fn(req->store, account, region, pipeline, arn ? arn : "", id) != 0) {
        answer(req, 500, "message",
               proto_arena_printf(req->arena, "Pipeline %s could not be started.",
                                  pipeline ? pipeline : ""));
        goto out;
    }
    answer(req, 200, "pipelineExecutionId", id);
out:
    store_txn_abort(t);
    json_object_put(config);
    json_object_put(rec);
    return 0;
}

const struct proto_service cp_webhook_http_service = {
    .name = "codepipeline-webhooks",
    .protocol = PROTO_RAW_HTTP,
    .rest_dispatch = webhook_dispatch,
};
