/* CloudWatch Logs: the service table row and the in-process API other providers write logs with
 * (CodeBuild's build output goes to /aws/codebuild/<project>). */
#ifndef LG_LOGS_H
#define LG_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "persistence/store.h"
#include "protocol/service.h"
#include "providers/runtime/errors.h"

extern const struct proto_service lg_service;

/* Error codes of the in-process API (besides the store's STORE_FULL / STORE_ERROR). */
#define LG_EINVAL (LG_E_BASE - 1) /* a name outside AWS's rules, or events out of order */
#define LG_ENOENT (LG_E_BASE - 2) /* no such group or stream (only without LG_CREATE) */

/* One event to append: milliseconds since the epoch and the message bytes (not NUL-terminated;
 * they are stored as given, so pass valid UTF-8). */
struct lg_event {
    int64_t timestamp;
    const char *message;
    size_t len;
};

enum lg_put_flags {
    LG_CREATE = 1 << 0, /* create the group and the stream when missing */
};

/* Appends n events, in non-decreasing timestamp order, to stream of group in the account and
 * region, in one write transaction (so call it with a batch, not per byte). Events older than the
 * group's retention are dropped as PutLogEvents drops them; no other AWS batch limit applies to
 * in-process callers. Thread-safe; must not be called while the caller holds a write txn.
 * Returns 0, LG_EINVAL, LG_ENOENT, STORE_FULL or STORE_ERROR. */
int lg_put_events(store *st, const char *account, const char *region, const char *group,
                  const char *stream, const struct lg_event *ev, size_t n, unsigned flags);

/* Milliseconds since the epoch, from the real-time clock. */
int64_t lg_now_ms(void);

#endif
