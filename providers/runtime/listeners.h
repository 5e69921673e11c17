/* One listener list for change notifications (S3 object changes, CodeCommit branch moves). */
#ifndef RT_LISTENERS_H
#define RT_LISTENERS_H

#include <pthread.h>

#define RT_LISTENERS_MAX 16

/* Any listener function; the owner of a list casts it back to its own typed signature in its
 * call function (converting function pointers back and forth is defined, calling through the
 * wrong type is not). */
typedef void (*rt_listener_any)(void);

/* A list: define one per event source with RT_LISTENERS_INIT (static storage is fine). */
struct rt_listeners {
    pthread_mutex_t mu;
    int next_handle;
    int n;
    struct {
        int handle;
        rt_listener_any fn;
        void *ctx;
    } l[RT_LISTENERS_MAX];
};
#define RT_LISTENERS_INIT                                                                          \
    {                                                                                              \
        .mu = PTHREAD_MUTEX_INITIALIZER                                                            \
    }

/* Adds fn with ctx. Returns a handle (> 0) for rt_listeners_remove, or RT_EFULL. Any thread. */
int rt_listeners_add(struct rt_listeners *ls, rt_listener_any fn, void *ctx);
/* Removes the listener of handle. Returns 0 or RT_ENOITEM. Any thread, a listener included.
 * A notification already under way on another thread may still call it once: free ctx only when
 * no notification can be running (at stop, after the server drained its requests). */
int rt_listeners_remove(struct rt_listeners *ls, int handle);
/* Calls call(fn, ctx, event) for every listener registered now, in registration order, on this
 * thread, without holding the list's lock (a listener may add or remove listeners). */
void rt_listeners_notify(struct rt_listeners *ls,
                         void (*call)(rt_listener_any fn, void *ctx, const void *event),
                         const void *event);
/* Returns how many listeners are registered (a hint: skip building an event nobody reads). */
int rt_listeners_count(struct rt_listeners *ls);

#endif
