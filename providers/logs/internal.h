/* Declarations shared by the logs provider's files: records, keys, filter patterns, tokens. */
#ifndef LG_INTERNAL_H
#define LG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "providers/logs/logs.h"

struct json_object;

#define LG_DAY_MS         86400000LL
#define LG_TOO_OLD_MS     (14 * LG_DAY_MS) /* PutLogEvents refuses events older than this */
#define LG_TOO_NEW_MS     (2 * 3600000LL)  /* ... and newer than now plus this */
#define LG_BATCH_SPAN_MS  (LG_DAY_MS)      /* one batch spans at most 24 hours */
#define LG_BATCH_BYTES    1048576          /* messages' UTF-8 bytes plus 26 per event */
#define LG_EVENT_OVERHEAD 26
#define LG_KEY_MAX        1200 /* "acct/region/" + group (512) + NUL + stream (512) + NUL + 16 */

/* ---- keys (key.c) ----
 * groups:  "<acct>/<region>/<group>"
 * streams: "<acct>/<region>/<group>\0<stream>"
 * events:  "<acct>/<region>/<group>\0<stream>\0" + be64(timestamp) + be64(seq)
 * so a group's streams, and a stream's events in time order, are one range each. */
/* Each returns the key length, or -1 when it does not fit in LG_KEY_MAX. */
int lg_group_key(char *buf, const char *acct, const char *region, const char *group);
int lg_stream_key(char *buf, const char *acct, const char *region, const char *group,
                  const char *stream);
/* The prefix of a stream's events (the stream key plus its NUL). */
int lg_events_prefix(char *buf, const char *acct, const char *region, const char *group,
                     const char *stream);
void lg_be64(unsigned char *out, uint64_t v);
uint64_t lg_get_be64(const unsigned char *p);

/* ---- records (records.c) ---- */
/* Reads a JSON record (new reference in *out). Returns 0, STORE_NOTFOUND or STORE_ERROR. */
int lg_read_json(store_txn *t, enum store_db db, const char *key, size_t klen,
                 struct json_object **out);
/* Writes o as the record of key. Returns 0, STORE_FULL or STORE_ERROR. */
int lg_write_json(store_txn *t, enum store_db db, const char *key, size_t klen,
                  struct json_object *o);
/* Deletes every key of db starting with prefix. Returns 0, STORE_FULL or STORE_ERROR. */
int lg_delete_range(store_txn *t, enum store_db db, const char *prefix, size_t plen);
/* Deletes a stream's events older than cutoff (ms). Returns 0 or a store code. */
int lg_purge_stream(store_txn *t, const char *prefix, size_t plen, int64_t cutoff);
/* Deletes the events older than cutoff of every stream of the group whose key (without NUL) is
 * gkey. Returns 0 or a store code. */
int lg_purge_group(store_txn *t, const char *gkey, size_t gl, int64_t cutoff);
/* The cutoff (ms) below which a group record's retention hides events; INT64_MIN when none. */
int64_t lg_retention_cutoff(struct json_object *group, int64_t now);
/* Appends events under a write txn: the shared core of PutLogEvents and lg_put_events. Creates
 * the group and stream when create is set; *accepted counts the events stored. On success, the
 * stream's record gets its new token in *seq_token (at least 57 bytes). Returns 0, LG_ENOENT
 * (group: *missing = 'g', stream: 's'), or a store code. */
int lg_append(store_txn *t, const char *acct, const char *region, const char *group,
              const char *stream, const struct lg_event *ev, size_t n, int create, int64_t now,
              char *missing, char *seq_token);
/* Creates a group record (the caller checked it is absent). tags may be NULL. */
int lg_group_create(store_txn *t, const char *acct, const char *region, const char *group,
                    const char *log_class, const char *kms, int64_t now);
/* Creates a stream record. Returns 0, 1 when it exists, or a store code. */
int lg_stream_create(store_txn *t, const char *acct, const char *region, const char *group,
                     const char *stream, int64_t now);

/* ---- filter patterns (pattern.c): CloudWatch Logs' unstructured term syntax ---- */
#define LG_PATTERN_MAX_TERMS 64
enum lg_term_kind { LG_TERM_ALL, LG_TERM_ANY, LG_TERM_NOT };
struct lg_pattern {
    char buf[1100]; /* the terms' bytes, unquoted */
    struct {
        const char *s;
        size_t n;
        enum lg_term_kind kind;
    } terms[LG_PATTERN_MAX_TERMS];
    int n_terms, n_any;
};
/* Parses text: terms separated by blanks; a term in double quotes is a phrase (\" and \\ escape);
 * ?term matches when any such term appears; -term excludes; every other term must appear
 * (case-sensitive substrings, as AWS matches them). "" matches everything. Returns 0, or -1 with
 * a reason in err: an unterminated quote, too many terms, or a JSON/space-delimited pattern
 * ({...} or [...]), which this emulator does not evaluate. */
int lg_pattern_parse(struct lg_pattern *p, const char *text, char *err, size_t errlen);
/* Returns 1 when the message matches p. */
int lg_pattern_match(const struct lg_pattern *p, const char *msg, size_t len);

/* ---- tokens (pattern.c) ---- */
#define LG_TOKEN_LEN 59 /* "f/" + 56 digits + NUL */
/* Writes dir ('f' or 'b') + "/" + 56 digits encoding an event position (timestamp, seq). */
void lg_token_format(char out[LG_TOKEN_LEN], char dir, uint64_t ts, uint64_t seq);
/* Parses a GetLogEvents token (an optional "/s" suffix, as AWS's newer tokens have, is
 * accepted). Returns 0 with *dir, *ts, *seq, or -1. */
int lg_token_parse(const char *tok, char *dir, uint64_t *ts, uint64_t *seq);
/* The opaque tokens of DescribeLogGroups, DescribeLogStreams and FilterLogEvents: "lg1." and the
 * lowercase hex of plain, in the request's arena. */
char *lg_hex_token(struct proto_req *req, const char *plain);
/* Decodes an lg_hex_token into the arena; NULL when tok is not one (or hides a NUL). */
char *lg_hex_token_decode(struct proto_req *req, const char *tok);
/* The 56-digit id of an event (FilterLogEvents' eventId), NUL-terminated. */
void lg_event_id(char out[57], uint64_t ts, uint64_t seq);

/* ---- handlers ---- */
int lg_op_create_log_group(struct proto_req *req);
int lg_op_create_log_stream(struct proto_req *req);
int lg_op_describe_log_groups(struct proto_req *req);
int lg_op_describe_log_streams(struct proto_req *req);
int lg_op_delete_log_group(struct proto_req *req);
int lg_op_delete_log_stream(struct proto_req *req);
int lg_op_put_retention_policy(struct proto_req *req);
int lg_op_delete_retention_policy(struct proto_req *req);
int lg_op_tag_log_group(struct proto_req *req);
int lg_op_untag_log_group(struct proto_req *req);
int lg_op_list_tags_log_group(struct proto_req *req);
int lg_op_tag_resource(struct proto_req *req);
int lg_op_untag_resource(struct proto_req *req);
int lg_op_list_tags_for_resource(struct proto_req *req);
int lg_op_put_log_events(struct proto_req *req);
int lg_op_get_log_events(struct proto_req *req);
int lg_op_filter_log_events(struct proto_req *req);

/* ---- request helpers (groups.c), shared by the handlers ---- */
/* Maps a store code to InternalFailure (or ServiceUnavailable when the map is full). */
int lg_store_error(struct proto_req *req, int rc);
/* Returns the string member name of the input, or NULL when absent or not a string. */
const char *lg_in_str(struct proto_req *req, const char *name);
/* Returns the log group a request names: logGroupName, or logGroupIdentifier (a name or an ARN;
 * the name then lives in the arena), or NULL when it names none. */
const char *lg_group_name(struct proto_req *req);
/* Looks group up in t: returns 0 with *rec (a new reference the caller puts; rec may be NULL
 * when the record is not wanted), or ResourceNotFoundException / the store error. */
int lg_find_group(struct proto_req *req, store_txn *t, const char *group, struct json_object **rec);
/* Begins a txn (a write one when write) in *t and looks group up in it: returns 0 with the
 * group's key in key (when not NULL: LG_KEY_MAX bytes, its length in *kl) and its record in *rec
 * (when rec is not NULL: a new reference), or the error. The caller aborts *t in every case. */
int lg_begin_on_group(struct proto_req *req, int write, const char *group, store_txn **t, char *key,
                      int *kl, struct json_object **rec);
/* Returns 0 when stream of group exists in t, or ResourceNotFoundException / the store error. */
int lg_find_stream(struct proto_req *req, store_txn *t, const char *group, const char *stream);

#endif
