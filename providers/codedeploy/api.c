/* The in-process CodeDeploy interface for the engine: the contract of codedeploy.h, with
 * deployments answering CD_ENOTIMPL until the deployment agent lands, and the listeners. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codedeploy/internal.h"
#include "providers/runtime/listeners.h"

static struct rt_listeners deployment_listeners = RT_LISTENERS_INIT;

int cd_add_deployment_listener(cd_deployment_listener fn, void *ctx)
{
    return rt_listeners_add(&deployment_listeners, (rt_listener_any)fn, ctx);
}

int cd_remove_deployment_listener(int handle)
{
    return rt_listeners_remove(&deployment_listeners, handle);
}

static void call_deployment_listener(rt_listener_any fn, void *ctx, const void *ev)
{
    ((cd_deployment_listener)fn)(ctx, ev);
}

void cd_notify_deployment_done(const struct cd_deployment_done *ev)
{
    rt_listeners_notify(&deployment_listeners, call_deployment_listener, ev);
}

const char *cd_status_name(enum cd_status s)
{
    switch (s) {
    case CD_STATUS_CREATED:
        return "Created";
    case CD_STATUS_QUEUED:
        return "Queued";
    case CD_STATUS_IN_PROGRESS:
        return "InProgress";
    case CD_STATUS_SUCCEEDED:
        return "Succeeded";
    case CD_STATUS_FAILED:
        return "Failed";
    case CD_STATUS_STOPPED:
        return "Stopped";
    }
    return "Failed";
}

int cd_create_deployment(store *st, const struct cd_start *req,
                         char deployment_id[CD_DEPLOYMENT_ID_MAX], char *err, size_t errlen)
{
    (void)st;
    (void)req;
    deployment_id[0] = '\0';
    snprintf(err, errlen, "CodeDeploy deployments are not implemented in this version");
    return CD_ENOTIMPL;
}

int cd_stop_deployment(store *st, const char *account, const char *region,
                       const char *deployment_id, int auto_rollback)
{
    (void)st;
    (void)account;
    (void)region;
    (void)deployment_id;
    (void)auto_rollback;
    return CD_ENOTIMPL;
}

int cd_get_deployment(store *st, const char *account, const char *region, const char *deployment_id,
                      struct cd_deployment *out)
{
    (void)st;
    (void)account;
    (void)region;
    (void)deployment_id;
    memset(out, 0, sizeof *out);
    return CD_ENOTIMPL;
}

void cd_deployment_free(struct cd_deployment *d)
{
    free(d->id);
    free(d->application);
    free(d->deployment_group);
    free(d->error_code);
    free(d->error_message);
    free(d->rollback_deployment_id);
    memset(d, 0, sizeof *d);
}
