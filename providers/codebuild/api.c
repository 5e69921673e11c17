/* The in-process CodeBuild interface for the engine: the contract of codebuild.h, with builds
 * answering CB_ENOTIMPL until the build runner lands, and the completion listeners. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codebuild/internal.h"
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

int cb_start_build(store *st, const struct cb_start *req, char build_id[CB_BUILD_ID_MAX], char *err,
                   size_t errlen)
{
    (void)st;
    (void)req;
    build_id[0] = '\0';
    snprintf(err, errlen, "CodeBuild builds are not implemented in this version");
    return CB_ENOTIMPL;
}

int cb_stop_build(store *st, const char *account, const char *region, const char *build_id)
{
    (void)st;
    (void)account;
    (void)region;
    (void)build_id;
    return CB_ENOTIMPL;
}

int cb_get_build(store *st, const char *account, const char *region, const char *build_id,
                 struct cb_build *out)
{
    (void)st;
    (void)account;
    (void)region;
    (void)build_id;
    memset(out, 0, sizeof *out);
    return CB_ENOTIMPL;
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
