/* Wakes a CodeBuild or CodeDeploy action as soon as its build or deployment ends, so that the
 * action's next poll (which stays the durable fallback) need not wait out its delay. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/codebuild/codebuild.h"
#include "providers/codedeploy/codedeploy.h"
#include "providers/codepipeline/actions/actions.h"
#include "providers/codepipeline/engine.h"

#define WAITS 512 /* builds and deployments awaited at once; an older one falls back to polling */

/* One awaited build or deployment: the action to wake, or none yet when it ended first. */
struct wait {
    char external[192];
    char aeid[64];
    int ended; /* it ended before the action named itself */
    double at;
};

static struct {
    pthread_mutex_t mu;
    struct wait w[WAITS];
    rt_queue *q;
    int build_handle, deploy_handle;
} wk = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* The slot of external, or (add) the oldest slot, emptied. Under wk.mu. */
static struct wait *slot(const char *external, int add)
{
    struct wait *oldest = &wk.w[0];
    for (int i = 0; i < WAITS; i++) {
        if (!strcmp(wk.w[i].external, external)) return &wk.w[i];
        if (wk.w[i].at < oldest->at) oldest = &wk.w[i];
    }
    if (!add) return NULL;
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->external, sizeof oldest->external, "%s", external);
    oldest->at = proto_now();
    return oldest;
}

int cp_wake_on(const char *external, const char *aeid)
{
    int ended = 0;
    if (!external || strlen(external) >= sizeof wk.w[0].external) return 0;
    pthread_mutex_lock(&wk.mu);
    struct wait *w = slot(external, 1);
    if (w->ended) {
        ended = 1;
        memset(w, 0, sizeof *w);
    } else {
        snprintf(w->aeid, sizeof w->aeid, "%s", aeid);
    }
    pthread_mutex_unlock(&wk.mu);
    return ended;
}

static void ended(const char *external)
{
    char aeid[64] = "";
    pthread_mutex_lock(&wk.mu);
    struct wait *w = slot(external, 1);
    if (w->aeid[0]) {
        snprintf(aeid, sizeof aeid, "%s", w->aeid);
        memset(w, 0, sizeof *w);
    } else {
        w->ended = 1;
    }
    pthread_mutex_unlock(&wk.mu);
    if (aeid[0] && wk.q) rt_queue_wake(wk.q, CP_KIND_ACTION, aeid);
}

static void on_build(void *ctx, const struct cb_build_done *ev)
{
    (void)ctx;
    ended(ev->build_id);
}

static void on_deployment(void *ctx, const struct cd_deployment_done *ev)
{
    (void)ctx;
    ended(ev->deployment_id);
}

int cp_wakeups_start(rt_queue *q)
{
    wk.q = q;
    wk.build_handle = cb_add_build_listener(on_build, NULL);
    wk.deploy_handle = cd_add_deployment_listener(on_deployment, NULL);
    return wk.build_handle > 0 && wk.deploy_handle > 0 ? 0 : -1;
}

void cp_wakeups_stop(void)
{
    if (wk.build_handle > 0) cb_remove_build_listener(wk.build_handle);
    if (wk.deploy_handle > 0) cd_remove_deployment_listener(wk.deploy_handle);
    wk.build_handle = wk.deploy_handle = 0;
    pthread_mutex_lock(&wk.mu);
    memset(wk.w, 0, sizeof wk.w);
    pthread_mutex_unlock(&wk.mu);
}
