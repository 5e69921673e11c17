/* Log events: PutLogEvents, GetLogEvents (tokens both ways) and FilterLogEvents. */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/logs/internal.h"
#include "sigv4/encode.h"

#define RESPONSE_BYTES 1048576 /* events per answer stop at 1 MB, as AWS's do */
#define DEFAULT_LIMIT  10000

static int64_t in_i64(struct proto_req *req, const char *name, int64_t dflt)
{
    struct json_object *v;
    return json_object_object_get_ex(req->input, name, &v) ? json_object_get_int64(v) : dflt;
}

int lg_op_put_log_events(struct proto_req *req)
{
    const char *group = lg_in_str(req, "logGroupName"), *stream = lg_in_str(req, "logStreamName");
    struct json_object *arr = NULL, *grec = NULL;
    json_object_object_get_ex(req->input, "logEvents", &arr);
    size_t n = arr ? json_object_array_length(arr) : 0;
    struct lg_event *ev = proto_arena_alloc(req->arena, (n ? n : 1) * sizeof *ev);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(arr, i), *v;
        ev[i].timestamp =
            json_object_object_get_ex(e, "timestamp", &v) ? json_object_get_int64(v) : 0;
        ev[i].message =
            json_object_object_get_ex(e, "message", &v) ? json_object_get_string(v) : "";
        ev[i].len =
            json_object_object_get_ex(e, "message", &v) ? (size_t)json_object_get_string_len(v) : 0;
        bytes += ev[i].len + LG_EVENT_OVERHEAD;
        if (i && ev[i].timestamp < ev[i - 1].timestamp)
            return proto_error(req, ERR_INVALID_PARAMETER,
                               "Log events in a single PutLogEvents request must be in "
                               "chronological order.");
    }
    if (bytes > LG_BATCH_BYTES)
        return proto_error(req, ERR_INVALID_PARAMETER,
                           "Upload too large: %zu bytes exceeds limit of %d", bytes,
                           LG_BATCH_BYTES);
    if (n && ev[n - 1].timestamp - ev[0].timestamp > LG_BATCH_SPAN_MS)
        return proto_error(req, ERR_INVALID_PARAMETER,
                           "The batch of log events in a single PutLogEvents request cannot span "
                           "more than 24 hours.");
    int64_t now = lg_now_ms();
    store_txn *t = NULL;
    int rc = lg_begin_on_group(req, 1, group, &t, NULL, NULL, &grec);
    if (rc || (rc = lg_find_stream(req, t, group, stream))) goto out;
    int64_t cutoff = lg_retention_cutoff(grec, now);
    size_t too_old = 0, expired = 0, too_new = n;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].timestamp < now - LG_TOO_OLD_MS) too_old = i + 1;
        if (ev[i].timestamp < cutoff) expired = i + 1;
        if (too_new == n && ev[i].timestamp > now + LG_TOO_NEW_MS) too_new = i;
    }
    size_t from = too_old > expired ? too_old : expired;
    char missing = 0, token[57];
    if (from > too_new) from = too_new;
    rc = lg_append(t, req->caller.account_id, req->caller.region, group, stream, ev + from,
                   too_new - from, 0, now, &missing, token);
    if (rc) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "nextSequenceToken", json_object_new_string(token));
    if (too_old || expired || too_new < n) {
        struct json_object *info = json_object_new_object();
        if (too_new < n)
            json_object_object_add(info, "tooNewLogEventStartIndex",
                                   json_object_new_int((int)too_new));
        if (too_old)
            json_object_object_add(info, "tooOldLogEventEndIndex",
                                   json_object_new_int((int)too_old));
        if (expired)
            json_object_object_add(info, "expiredLogEventEndIndex",
                                   json_object_new_int((int)expired));
        json_object_object_add(req->output, "rejectedLogEventsInfo", info);
    }
out:
    json_object_put(grec);
    store_txn_abort(t);
    return rc;
}

struct found {
    uint64_t ts, seq, ingest;
    const char *msg;
    size_t len;
    size_t stream; /* FilterLogEvents: index into its stream list */
};

static struct json_object *event_json(const struct found *f)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "timestamp", json_object_new_int64((int64_t)f->ts));
    json_object_object_add(o, "message", json_object_new_string_len(f->msg, (int)f->len));
    json_object_object_add(o, "ingestionTime", json_object_new_int64((int64_t)f->ingest));
    return o;
}

/* Copies the cursor's event (key prefix plen bytes long) into f. Returns 0, or -1 when the entry
 * is not an event of this stream. */
static int read_event(struct proto_req *req, store_cursor *c, const char *prefix, size_t plen,
                      struct found *f)
{
    const void *k, *v;
    size_t kl, vl;
    store_cursor_get(c, &k, &kl, &v, &vl);
    if (kl != plen + 16 || memcmp(k, prefix, plen) != 0 || vl < 8) return -1;
    f->ts = lg_get_be64((const unsigned char *)k + plen);
    f->seq = lg_get_be64((const unsigned char *)k + plen + 8);
    f->ingest = lg_get_be64(v);
    f->len = vl - 8;
    f->msg = proto_arena_strndup(req->arena, (const char *)v + 8, vl - 8);
    return 0;
}

int lg_op_get_log_events(struct proto_req *req)
{
    const char *group = lg_group_name(req), *stream = lg_in_str(req, "logStreamName");
    const char *tok = lg_in_str(req, "nextToken");
    struct json_object *v, *grec = NULL;
    int from_head =
        json_object_object_get_ex(req->input, "startFromHead", &v) && json_object_get_boolean(v);
    if (!group)
        return proto_error(req, ERR_INVALID_PARAMETER,
                           "Either logGroupName or logGroupIdentifier must be specified.");
    int64_t limit = in_i64(req, "limit", DEFAULT_LIMIT);
    uint64_t lo = (uint64_t)in_i64(req, "startTime", 0);
    uint64_t hi = json_object_object_get_ex(req->input, "endTime", &v)
                      ? (uint64_t)json_object_get_int64(v)
                      : UINT64_MAX;
    char dir = from_head ? 'f' : 'b';
    uint64_t pts = from_head ? lo : hi, pseq = 0;
    if (tok && lg_token_parse(tok, &dir, &pts, &pseq))
        return proto_error(req, ERR_INVALID_PARAMETER, "The specified nextToken is invalid.");
    store_txn *t = NULL;
    store_cursor *c = NULL;
    struct found *got = proto_arena_alloc(req->arena, (size_t)limit * sizeof *got);
    size_t n = 0, bytes = 0;
    int rc = lg_begin_on_group(req, 0, group, &t, NULL, NULL, &grec);
    if (rc || (rc = lg_find_stream(req, t, group, stream))) goto out;
    int64_t cutoff = lg_retention_cutoff(grec, lg_now_ms());
    if (cutoff > 0 && (uint64_t)cutoff > lo) lo = (uint64_t)cutoff;
    char key[LG_KEY_MAX];
    int pl = lg_events_prefix(key, req->caller.account_id, req->caller.region, group, stream);
    lg_be64((unsigned char *)key + pl, pts);
    lg_be64((unsigned char *)key + pl + 8, pseq);
    if ((rc = store_cursor_open(t, STORE_DB_LG_EVENTS, &c))) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    int r = store_cursor_seek(c, key, (size_t)pl + 16);
    if (dir == 'f') {
        for (; r == 0 && n < (size_t)limit; r = store_cursor_next(c)) {
            struct found f;
            if (read_event(req, c, key, (size_t)pl, &f) || f.ts >= hi) break;
            if (f.ts < lo) continue;
            if (n && bytes + f.len + LG_EVENT_OVERHEAD > RESPONSE_BYTES) break;
            bytes += f.len + LG_EVENT_OVERHEAD;
            got[n++] = f;
        }
    } else {
        for (r = store_cursor_prev(c); r == 0 && n < (size_t)limit; r = store_cursor_prev(c)) {
            struct found f;
            if (read_event(req, c, key, (size_t)pl, &f) || f.ts < lo) break;
            if (f.ts >= hi) continue;
            if (n && bytes + f.len + LG_EVENT_OVERHEAD > RESPONSE_BYTES) break;
            bytes += f.len + LG_EVENT_OVERHEAD;
            got[n++] = f;
        }
        for (size_t i = 0; i < n / 2; i++) { /* answers are in time order either way */
            struct found x = got[i];
            got[i] = got[n - 1 - i];
            got[n - 1 - i] = x;
        }
    }
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(arr, event_json(&got[i]));
    char ftok[LG_TOKEN_LEN], btok[LG_TOKEN_LEN];
    if (n) {
        lg_token_format(ftok, 'f', got[n - 1].ts, got[n - 1].seq + 1);
        lg_token_format(btok, 'b', got[0].ts, got[0].seq);
    } else {
        lg_token_format(ftok, 'f', pts, pseq);
        lg_token_format(btok, 'b', pts, pseq);
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "events", arr);
    json_object_object_add(req->output, "nextForwardToken", json_object_new_string(ftok));
    json_object_object_add(req->output, "nextBackwardToken", json_object_new_string(btok));
    rc = 0;
out:
    json_object_put(grec);
    store_cursor_close(c);
    store_txn_abort(t);
    return rc;
}

/* FilterLogEvents' position: the last event returned, in (timestamp, stream, seq) order. */
struct fpos {
    uint64_t ts, seq;
    const char *stream;
};

static const char *filter_token(struct proto_req *req, const struct found *f, const char *stream)
{
    return lg_hex_token(
        req, proto_arena_printf(req->arena, "%" PRIu64 ":%" PRIu64 ":%s", f->ts, f->seq, stream));
}

static int filter_token_parse(struct proto_req *req, const char *tok, struct fpos *p)
{
    const char *s = lg_hex_token_decode(req, tok);
    if (!s) return -1;
    char *e1 = NULL, *e2 = NULL;
    p->ts = strtoull(s, &e1, 10);
    if (e1 == s || *e1 != ':') return -1;
    p->seq = strtoull(e1 + 1, &e2, 10);
    if (e2 == e1 + 1 || *e2 != ':') return -1;
    p->stream = e2 + 1;
    return 0;
}

/* Order of FilterLogEvents' answers: time, then stream name, then arrival. */
static int cmp_found(const void *a, const void *b, void *names)
{
    const struct found *x = a, *y = b;
    const char *const *sort_names = names;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    int c = strcmp(sort_names[x->stream], sort_names[y->stream]);
    if (c) return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int after_pos(const struct fpos *p, uint64_t ts, const char *stream, uint64_t seq)
{
    if (!p) return 1;
    if (ts != p->ts) return ts > p->ts;
    int c = strcmp(stream, p->stream);
    if (c) return c > 0;
    return seq > p->seq;
}

int lg_op_filter_log_events(struct proto_req *req)
{
    const char *group = lg_group_name(req), *prefix = lg_in_str(req, "logStreamNamePrefix");
    const char *tok = lg_in_str(req, "nextToken"), *pat = lg_in_str(req, "filterPattern");
    struct json_object *names = NULL, *v, *grec = NULL;
    json_object_object_get_ex(req->input, "logStreamNames", &names);
    if (!group)
        return proto_error(req, ERR_INVALID_PARAMETER,
                           "Either logGroupName or logGroupIdentifier must be specified.");
    if (names && prefix)
        return proto_error(req, ERR_INVALID_PARAMETER,
                           "logStreamNames and logStreamNamePrefix are mutually exclusive "
                           "parameters.");
    struct lg_pattern *pattern = proto_arena_alloc(req->arena, sizeof *pattern);
    char perr[200];
    if (lg_pattern_parse(pattern, pat ? pat : "", perr, sizeof perr))
        return proto_error(req, ERR_INVALID_PARAMETER, "%s", perr);
    struct fpos pos, *after = NULL;
    if (tok) {
        if (filter_token_parse(req, tok, &pos))
            return proto_error(req, ERR_INVALID_PARAMETER, "The specified nextToken is invalid.");
        after = &pos;
    }
    int64_t limit = in_i64(req, "limit", DEFAULT_LIMIT);
    uint64_t lo = (uint64_t)in_i64(req, "startTime", 0);
    uint64_t hi = json_object_object_get_ex(req->input, "endTime", &v)
                      ? (uint64_t)json_object_get_int64(v)
                      : UINT64_MAX;
    store_txn *t = NULL;
    store_cursor *c = NULL;
    const char **streams = NULL;
    char *complete = NULL;
    size_t ns = 0, cap = 0;
    struct found *got = NULL;
    size_t n = 0, gcap = 0;
    int rc = lg_begin_on_group(req, 0, group, &t, NULL, NULL, &grec);
    if (rc) goto out;
    int64_t cutoff = lg_retention_cutoff(grec, lg_now_ms());
    if (cutoff > 0 && (uint64_t)cutoff > lo) lo = (uint64_t)cutoff;
    if (after && after->ts > lo) lo = after->ts;
    char key[LG_KEY_MAX];
    if ((rc = store_cursor_open(t, STORE_DB_LG_STREAMS, &c))) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    /* The streams to search, in name order. */
    int pl =
        lg_stream_key(key, req->caller.account_id, req->caller.region, group, prefix ? prefix : "");
    size_t base = (size_t)pl - (prefix ? strlen(prefix) : 0);
    for (int r = store_cursor_seek(c, key, (size_t)pl); r == 0; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl < (size_t)pl || memcmp(k, key, (size_t)pl) != 0) break;
        const char *name = proto_arena_strndup(req->arena, (const char *)k + base, kl - base);
        if (names) {
            int hit = 0;
            for (size_t i = 0; i < json_object_array_length(names) && !hit; i++)
                hit = !strcmp(name, json_object_get_string(json_object_array_get_idx(names, i)));
            if (!hit) continue;
        }
        if (ns == cap) {
            cap = cap ? 2 * cap : 16;
            const char **na = proto_arena_alloc(req->arena, cap * sizeof *na);
            if (ns) memcpy(na, streams, ns * sizeof *na);
            streams = na;
        }
        streams[ns++] = name;
    }
    store_cursor_close(c);
    c = NULL;
    complete = proto_arena_alloc(req->arena, ns ? ns : 1);
    if ((rc = store_cursor_open(t, STORE_DB_LG_EVENTS, &c))) {
        rc = lg_store_error(req, rc);
        goto out;
    }
    /* Each stream gives at most limit matches past the position; the merge keeps the first. */
    for (size_t s = 0; s < ns; s++) {
        int epl =
            lg_events_prefix(key, req->caller.account_id, req->caller.region, group, streams[s]);
        lg_be64((unsigned char *)key + epl, lo);
        lg_be64((unsigned char *)key + epl + 8, 0);
        size_t taken = 0;
        complete[s] = 1;
        for (int r = store_cursor_seek(c, key, (size_t)epl + 16); r == 0;
             r = store_cursor_next(c)) {
            struct found f;
            const void *k, *val;
            size_t kl, vl;
            store_cursor_get(c, &k, &kl, &val, &vl);
            if (kl != (size_t)epl + 16 || memcmp(k, key, (size_t)epl) != 0) break;
            uint64_t ts = lg_get_be64((const unsigned char *)k + epl);
            uint64_t seq = lg_get_be64((const unsigned char *)k + epl + 8);
            if (ts >= hi) break;
            if (!after_pos(after, ts, streams[s], seq)) continue;
            if (vl < 8 || !lg_pattern_match(pattern, (const char *)val + 8, vl - 8)) continue;
            if (taken == (size_t)limit) {
                complete[s] = 0;
                break;
            }
            if (read_event(req, c, key, (size_t)epl, &f)) break;
            f.stream = s;
            if (n == gcap) {
                gcap = gcap ? 2 * gcap : 256;
                struct found *ng = realloc(got, gcap * sizeof *ng);
                if (!ng) {
                    rc = proto_error(req, ERR_INTERNAL_FAILURE, "Out of memory.");
                    goto out;
                }
                got = ng;
            }
            got[n++] = f;
            taken++;
        }
    }
    if (n > 1) qsort_r(got, n, sizeof *got, cmp_found, (void *)streams);
    struct json_object *arr = json_object_new_array(), *searched = json_object_new_array();
    size_t i, bytes = 0;
    for (i = 0; i < n && i < (size_t)limit; i++) {
        if (i && bytes + got[i].len + LG_EVENT_OVERHEAD > RESPONSE_BYTES) break;
        bytes += got[i].len + LG_EVENT_OVERHEAD;
        struct json_object *o = json_object_new_object();
        char id[57];
        lg_event_id(id, got[i].ts, got[i].seq);
        json_object_object_add(o, "logStreamName", json_object_new_string(streams[got[i].stream]));
        json_object_object_add(o, "timestamp", json_object_new_int64((int64_t)got[i].ts));
        json_object_object_add(o, "message",
                               json_object_new_string_len(got[i].msg, (int)got[i].len));
        json_object_object_add(o, "ingestionTime", json_object_new_int64((int64_t)got[i].ingest));
        json_object_object_add(o, "eventId", json_object_new_string(id));
        json_object_array_add(arr, o);
    }
    int more = i < n;
    for (size_t s = 0; s < ns; s++) {
        more |= !complete[s];
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "logStreamName", json_object_new_string(streams[s]));
        json_object_object_add(o, "searchedCompletely", json_object_new_boolean(complete[s]));
        json_object_array_add(searched, o);
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "events", arr);
    json_object_object_add(req->output, "searchedLogStreams", searched);
    if (more) {
        const struct found *last = i ? &got[i - 1] : NULL;
        const char *nt = last ? filter_token(req, last, streams[last->stream]) : tok;
        if (nt) json_object_object_add(req->output, "nextToken", json_object_new_string(nt));
    }
    rc = 0;
out:
    free(got);
    json_object_put(grec);
    store_cursor_close(c);
    store_txn_abort(t);
    return rc;
}
