/* The listener list: a small table under a mutex, copied out before the calls. */
#include "providers/runtime/listeners.h"

#include <string.h>

#include "providers/runtime/errors.h"

int rt_listeners_add(struct rt_listeners *ls, rt_listener_any fn, void *ctx)
{
    int rc = RT_EFULL;
    pthread_mutex_lock(&ls->mu);
    if (ls->n < RT_LISTENERS_MAX) {
        if (ls->next_handle <= 0) ls->next_handle = 1;
        rc = ls->next_handle++;
        ls->l[ls->n].handle = rc;
        ls->l[ls->n].fn = fn;
        ls->l[ls->n].ctx = ctx;
        ls->n++;
    }
    pthread_mutex_unlock(&ls->mu);
    return rc;
}

int rt_listeners_remove(struct rt_listeners *ls, int handle)
{
    int rc = RT_ENOITEM;
    pthread_mutex_lock(&ls->mu);
    for (int i = 0; i < ls->n; i++) {
        if (ls->l[i].handle == handle) {
            memmove(&ls->l[i], &ls->l[i + 1], (size_t)(ls->n - i - 1) * sizeof ls->l[0]);
            ls->n--;
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&ls->mu);
    return rc;
}

void rt_listeners_notify(struct rt_listeners *ls,
                         void (*call)(rt_listener_any fn, void *ctx, const void *event),
                         const void *event)
{
    rt_listener_any fns[RT_LISTENERS_MAX];
    void *ctxs[RT_LISTENERS_MAX];
    pthread_mutex_lock(&ls->mu);
    int n = ls->n;
    for (int i = 0; i < n; i++) {
        fns[i] = ls->l[i].fn;
        ctxs[i] = ls->l[i].ctx;
    }
    pthread_mutex_unlock(&ls->mu);
    for (int i = 0; i < n; i++)
        call(fns[i], ctxs[i], event);
}

int rt_listeners_count(struct rt_listeners *ls)
{
    pthread_mutex_lock(&ls->mu);
    int n = ls->n;
    pthread_mutex_unlock(&ls->mu);
    return n;
}
