/* The logs operation table and lifecycle: at start, events past each group's retention go. */
#include <json-c/json.h>
#include <string.h>

#include "protocol/model.h"
#include "providers/logs/internal.h"

static const struct proto_operation lg_ops[] = {
    {"CreateLogGroup", lg_op_create_log_group},
    {"CreateLogStream", lg_op_create_log_stream},
    {"DeleteLogGroup", lg_op_delete_log_group},
    {"DeleteLogStream", lg_op_delete_log_stream},
    {"DeleteRetentionPolicy", lg_op_delete_retention_policy},
    {"DescribeLogGroups", lg_op_describe_log_groups},
    {"DescribeLogStreams", lg_op_describe_log_streams},
    {"FilterLogEvents", lg_op_filter_log_events},
    {"GetLogEvents", lg_op_get_log_events},
    {"ListTagsForResource", lg_op_list_tags_for_resource},
    {"ListTagsLogGroup", lg_op_list_tags_log_group},
    {"PutLogEvents", lg_op_put_log_events},
    {"PutRetentionPolicy", lg_op_put_retention_policy},
    {"TagLogGroup", lg_op_tag_log_group},
    {"TagResource", lg_op_tag_resource},
    {"UntagLogGroup", lg_op_untag_log_group},
    {"UntagResource", lg_op_untag_resource},
};

/* Purges, in every group with a retention, the events it no longer keeps. Reads never return
 * them anyway; this gives the space back after a long downtime. */
static int lg_start(store *st, const struct proto_service_config *cfg, char *err, size_t errlen)
{
    (void)cfg;
    (void)err;
    (void)errlen;
    store_txn *t = NULL;
    store_cursor *c = NULL;
    int64_t now = lg_now_ms();
    if (store_txn_begin(st, 1, &t)) return 0; /* not fatal: reads hide expired events */
    int rc = store_cursor_open(t, STORE_DB_LG_GROUPS, &c);
    /* Collect the (group key, cutoff) pairs first, then purge with no cursor open. */
    struct item {
        char key[LG_KEY_MAX];
        size_t len;
        int64_t cutoff;
    } *items = NULL;
    size_t n = 0, cap = 0;
    for (int r = rc ? STORE_NOTFOUND : store_cursor_seek(c, NULL, 0); r == 0;
         r = store_cursor_next(c)) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        struct json_tokener *tok = json_tokener_new();
        struct json_object *rec = tok ? json_tokener_parse_ex(tok, v, (int)vl) : NULL;
        json_tokener_free(tok);
        int64_t cutoff = lg_retention_cutoff(rec, now);
        json_object_put(rec);
        if (cutoff <= 0 || kl >= LG_KEY_MAX) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            struct item *ni = realloc(items, cap * sizeof *ni);
            if (!ni) break;
            items = ni;
        }
        memcpy(items[n].key, k, kl);
        items[n].len = kl;
        items[n].cutoff = cutoff;
        n++;
    }
    store_cursor_close(c);
    c = NULL;
    rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = lg_purge_group(t, items[i].key, items[i].len, items[i].cutoff);
    free(items);
    if (rc)
        store_txn_abort(t);
    else
        store_txn_commit(t);
    return 0;
}

/* Stream names may hold any character but ':' and '*' by the model; a NUL would cut the name
 * short in the keys, so it is refused before anything else. */
static int lg_prevalidate(struct proto_req *req)
{
    static const char *const members[] = {"logStreamName", "logStreamNamePrefix"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        struct json_object *v;
        if (req->input && json_object_is_type(req->input, json_type_object) &&
            json_object_object_get_ex(req->input, members[i], &v) &&
            json_object_is_type(v, json_type_string) &&
            strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
            return proto_error(req, ERR_INVALID_PARAMETER, "Invalid %s: it contains a NUL.",
                               members[i]);
    }
    return 0;
}

const struct proto_service lg_service = {
    .name = "logs",
    .target_prefix = "Logs_20140328",
    .protocol = PROTO_JSON_1_1,
    .ops = lg_ops,
    .n_ops = sizeof lg_ops / sizeof lg_ops[0],
    .model = &proto_model_logs,
    .clock_skew_seconds = 300,
    .prevalidate = lg_prevalidate,
    .validation_error = ERR_INVALID_PARAMETER,
    .start = lg_start,
};
