/* Log group, stream and event records in LMDB, and the append path that PutLogEvents and the
 * in-process API share. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/utf8.h"
#include "providers/logs/internal.h"

int64_t lg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lg_group_key(char *buf, const char *acct, const char *region, const char *group)
{
    int n = snprintf(buf, LG_KEY_MAX, "%s/%s/%s", acct, region, group);
    return n < 0 || n >= LG_KEY_MAX - 1 ? -1 : n;
}

int lg_stream_key(char *buf, const char *acct, const char *region, const char *group,
                  const char *stream)
{
    int g = lg_group_key(buf, acct, region, group);
    size_t sl = strlen(stream);
    if (g < 0 || (size_t)g + 1 + sl + 1 + 16 >= LG_KEY_MAX) return -1;
    buf[g] = '\0';
    memcpy(buf + g + 1, stream, sl + 1);
    return g + 1 + (int)sl;
}

int lg_events_prefix(char *buf, const char *acct, const char *region, const char *group,
                     const char *stream)
{
    int n = lg_stream_key(buf, acct, region, group, stream);
    return n < 0 ? -1 : n + 1; /* the stream name's NUL ends the prefix */
}

void lg_be64(unsigned char *out, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

uint64_t lg_get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int lg_read_json(store_txn *t, enum store_db db, const char *key, size_t klen,
                 struct json_object **out)
{
    const void *val;
    size_t vlen;
    *out = NULL;
    int rc = store_get(t, db, key, klen, &val, &vlen);
    if (rc) return rc;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = tok ? json_tokener_parse_ex(tok, val, (int)vlen) : NULL;
    json_tokener_free(tok);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return STORE_ERROR;
    }
    *out = o;
    return 0;
}

int lg_write_json(store_txn *t, enum store_db db, const char *key, size_t klen,
                  struct json_object *o)
{
    size_t n;
    const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
    return store_put(t, db, key, klen, s, n);
}

/* Deletes the keys of db under prefix. When events, only event keys (prefix + 16 bytes) older
 * than cutoff go, and the first newer one ends the range, as events are in time order. Returns 0
 * or a store code. */
static int delete_keys(store_txn *t, enum store_db db, const char *prefix, size_t plen, int events,
                       int64_t cutoff)
{
    /* Collect a batch of keys, then delete them with no cursor open over the db. */
    enum { BATCH = 512 };
    for (;;) {
        store_cursor *c = NULL;
        char *keys[BATCH];
        size_t lens[BATCH], n = 0;
        int rc = store_cursor_open(t, db, &c);
        if (rc) return rc;
        for (rc = store_cursor_seek(c, prefix, plen); rc == 0 && n < BATCH;
             rc = store_cursor_next(c)) {
            const void *k, *v;
            size_t kl, vl;
            store_cursor_get(c, &k, &kl, &v, &vl);
            if (kl < plen || memcmp(k, prefix, plen) != 0) break;
            if (events && (kl != plen + 16 ||
                           (int64_t)lg_get_be64((const unsigned char *)k + plen) >= cutoff))
                break;
            keys[n] = malloc(kl);
            if (!keys[n]) break;
            memcpy(keys[n], k, kl);
            lens[n++] = kl;
        }
        store_cursor_close(c);
        int err = 0;
        for (size_t i = 0; i < n; i++) {
            int d = store_del(t, db, keys[i], lens[i]);
            if (d && d != STORE_NOTFOUND && !err) err = d;
            free(keys[i]);
        }
        if (err) return err;
        if (n < BATCH) return 0;
    }
}

int lg_delete_range(store_txn *t, enum store_db db, const char *prefix, size_t plen)
{
    return delete_keys(t, db, prefix, plen, 0, 0);
}

int lg_purge_stream(store_txn *t, const char *prefix, size_t plen, int64_t cutoff)
{
    if (cutoff <= 0) return 0;
    return delete_keys(t, STORE_DB_LG_EVENTS, prefix, plen, 1, cutoff);
}

int64_t lg_retention_cutoff(struct json_object *group, int64_t now)
{
    struct json_object *v;
    if (!group || !json_object_object_get_ex(group, "retentionInDays", &v)) return INT64_MIN;
    return now - (int64_t)json_object_get_int(v) * LG_DAY_MS;
}

int lg_group_create(store_txn *t, const char *acct, const char *region, const char *group,
                    const char *log_class, const char *kms, int64_t now)
{
    char key[LG_KEY_MAX], arn[LG_KEY_MAX + 64];
    int kl = lg_group_key(key, acct, region, group);
    if (kl < 0) return LG_EINVAL;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "logGroupName", json_object_new_string(group));
    json_object_object_add(o, "creationTime", json_object_new_int64(now));
    json_object_object_add(o, "metricFilterCount", json_object_new_int(0));
    snprintf(arn, sizeof arn, "arn:aws:logs:%s:%s:log-group:%s:*", region, acct, group);
    json_object_object_add(o, "arn", json_object_new_string(arn));
    json_object_object_add(o, "storedBytes", json_object_new_int64(0));
    if (kms) json_object_object_add(o, "kmsKeyId", json_object_new_string(kms));
    json_object_object_add(o, "logGroupClass",
                           json_object_new_string(log_class ? log_class : "STANDARD"));
    snprintf(arn, sizeof arn, "arn:aws:logs:%s:%s:log-group:%s", region, acct, group);
    json_object_object_add(o, "logGroupArn", json_object_new_string(arn));
    json_object_object_add(o, "_seq", json_object_new_int64(0)); /* last event sequence number */
    int rc = lg_write_json(t, STORE_DB_LG_GROUPS, key, (size_t)kl, o);
    json_object_put(o);
    return rc;
}

int lg_stream_create(store_txn *t, const char *acct, const char *region, const char *group,
                     const char *stream, int64_t now)
{
    char key[LG_KEY_MAX], arn[2 * LG_KEY_MAX];
    int kl = lg_stream_key(key, acct, region, group, stream);
    if (kl < 0) return LG_EINVAL;
    const void *v;
    size_t vl;
    int rc = store_get(t, STORE_DB_LG_STREAMS, key, (size_t)kl, &v, &vl);
    if (rc == 0) return 1;
    if (rc != STORE_NOTFOUND) return rc;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "logStreamName", json_object_new_string(stream));
    json_object_object_add(o, "creationTime", json_object_new_int64(now));
    snprintf(arn, sizeof arn, "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", region, acct, group,
             stream);
    json_object_object_add(o, "arn", json_object_new_string(arn));
    json_object_object_add(o, "storedBytes", json_object_new_int64(0));
    rc = lg_write_json(t, STORE_DB_LG_STREAMS, key, (size_t)kl, o);
    json_object_put(o);
    return rc;
}

static int64_t get_i64(struct json_object *o, const char *k, int64_t dflt)
{
    struct json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : dflt;
}

int lg_append(store_txn *t, const char *acct, const char *region, const char *group,
              const char *stream, const struct lg_event *ev, size_t n, int create, int64_t now,
              char *missing, char *seq_token)
{
    char gkey[LG_KEY_MAX], skey[LG_KEY_MAX], ekey[LG_KEY_MAX];
    struct json_object *g = NULL, *s = NULL;
    unsigned char *val = NULL;
    size_t cap = 0;
    int gl = lg_group_key(gkey, acct, region, group);
    int sl = lg_stream_key(skey, acct, region, group, stream);
    if (gl < 0 || sl < 0) return LG_EINVAL;
    int rc = lg_read_json(t, STORE_DB_LG_GROUPS, gkey, (size_t)gl, &g);
    if (rc == STORE_NOTFOUND && create) {
        if ((rc = lg_group_create(t, acct, region, group, NULL, NULL, now))) goto out;
        rc = lg_read_json(t, STORE_DB_LG_GROUPS, gkey, (size_t)gl, &g);
    }
    if (rc == STORE_NOTFOUND) {
        *missing = 'g';
        rc = LG_ENOENT;
    }
    if (rc) goto out;
    rc = lg_read_json(t, STORE_DB_LG_STREAMS, skey, (size_t)sl, &s);
    if (rc == STORE_NOTFOUND && create) {
        if ((rc = lg_stream_create(t, acct, region, group, stream, now)) < 0) goto out;
        rc = lg_read_json(t, STORE_DB_LG_STREAMS, skey, (size_t)sl, &s);
    }
    if (rc == STORE_NOTFOUND) {
        *missing = 's';
        rc = LG_ENOENT;
    }
    if (rc) goto out;

    int64_t cutoff = lg_retention_cutoff(g, now);
    uint64_t seq = (uint64_t)get_i64(g, "_seq", 0);
    int64_t first = get_i64(s, "firstEventTimestamp", INT64_MAX);
    int64_t last = get_i64(s, "lastEventTimestamp", INT64_MIN);
    int64_t bytes = get_i64(g, "storedBytes", 0);
    size_t plen = (size_t)sl + 1;
    memcpy(ekey, skey, plen);
    ekey[sl] = '\0';
    size_t stored = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].timestamp < cutoff || ev[i].timestamp < 0) continue;
        if (8 + ev[i].len > cap) {
            cap = 8 + ev[i].len;
            unsigned char *nv = realloc(val, cap);
            if (!nv) {
                rc = STORE_ERROR;
                goto out;
            }
            val = nv;
        }
        lg_be64(val, (uint64_t)now);
        if (ev[i].len) memcpy(val + 8, ev[i].message, ev[i].len);
        seq++;
        lg_be64((unsigned char *)ekey + plen, (uint64_t)ev[i].timestamp);
        lg_be64((unsigned char *)ekey + plen + 8, seq);
        if ((rc = store_put(t, STORE_DB_LG_EVENTS, ekey, plen + 16, val, 8 + ev[i].len))) goto out;
        if (ev[i].timestamp < first) first = ev[i].timestamp;
        if (ev[i].timestamp > last) last = ev[i].timestamp;
        bytes += (int64_t)ev[i].len;
        stored++;
    }
    char tok[57];
    lg_event_id(tok, (uint64_t)now, seq);
    if (seq_token) memcpy(seq_token, tok, sizeof tok);
    if (stored) {
        json_object_object_add(s, "firstEventTimestamp", json_object_new_int64(first));
        json_object_object_add(s, "lastEventTimestamp", json_object_new_int64(last));
        json_object_object_add(s, "lastIngestionTime", json_object_new_int64(now));
        json_object_object_add(s, "uploadSequenceToken", json_object_new_string(tok));
        json_object_object_add(g, "_seq", json_object_new_int64((int64_t)seq));
        json_object_object_add(g, "storedBytes", json_object_new_int64(bytes));
        if ((rc = lg_write_json(t, STORE_DB_LG_STREAMS, skey, (size_t)sl, s))) goto out;
        if ((rc = lg_write_json(t, STORE_DB_LG_GROUPS, gkey, (size_t)gl, g))) goto out;
    }
    if (cutoff > 0) rc = lg_purge_stream(t, ekey, plen, cutoff);
out:
    free(val);
    json_object_put(g);
    json_object_put(s);
    return rc;
}

int lg_put_events(store *st, const char *account, const char *region, const char *group,
                  const char *stream, const struct lg_event *ev, size_t n, unsigned flags)
{
    for (size_t i = 1; i < n; i++)
        if (ev[i].timestamp < ev[i - 1].timestamp) return LG_EINVAL;
    /* Answers must be valid UTF-8 and build output need not be: invalid bytes become U+FFFD.
     * Copies only when something is invalid. */
    proto_arena *a = NULL;
    struct lg_event *copy = NULL;
    for (size_t i = 0; i < n; i++) {
        if (proto_utf8_check(ev[i].message, ev[i].len) == ev[i].len) continue;
        if (!a) {
            a = proto_arena_new();
            copy = proto_arena_alloc(a, n * sizeof *copy);
            memcpy(copy, ev, n * sizeof *copy);
        }
        copy[i].message = proto_utf8_sanitize(a, ev[i].message, ev[i].len);
        copy[i].len = strlen(copy[i].message);
    }
    store_txn *t = NULL;
    char missing = 0;
    int rc = store_txn_begin(st, 1, &t);
    if (rc) goto out;
    rc = lg_append(t, account, region, group, stream, copy ? copy : ev, n, (flags & LG_CREATE) != 0,
                   lg_now_ms(), &missing, NULL);
    if (rc)
        store_txn_abort(t);
    else
        rc = store_txn_commit(t);
out:
    proto_arena_free(a);
    return rc;
}
