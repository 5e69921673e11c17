/* Pipeline declarations: CreatePipeline, GetPipeline, UpdatePipeline, DeletePipeline, ListPipelines. */
#include "providers/codepipeline/cp_internal.h"

#include <json-c/json.h>
#include <string.h>

#define LIST_DEFAULT_MAX 100
#define KEY_MAX 512

/* True when s is a pipeline name as the model allows ([A-Za-z0-9.@\-_]{1,100}). */
static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 100) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '@' || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* Appends one PipelineSummary of the record at val. Returns 0, or -1 when it is not a record. */
static int append_summary(struct proto_sb *sb, const char *name, size_t nlen, const void *val,
                          size_t vlen)
{
    struct cp_pipe_hdr h;
    const char *decl;
    if (cp_pipe_rec_parse(val, vlen, &h, &decl)) return -1;
    proto_sb_puts(sb, "{\"name\":");
    proto_sb_json_string(sb, name, nlen);
    proto_sb_printf(sb, ",\"version\":%u,\"pipelineType\":\"%s\",\"executionMode\":\"%s\",\"created\":",
                    h.version, cp_type_name(h.type), cp_mode_name(h.mode));
    cp_sb_time(sb, h.created);
    proto_sb_puts(sb, ",\"updated\":");
    cp_sb_time(sb, h.updated);
    proto_sb_putc(sb, '}');
    return 0;
}

int cp_op_list_pipelines(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    struct json_object *v;
    int max = LIST_DEFAULT_MAX;
    const char *start = "";
    store_txn *t = NULL;
    store_cursor *c = NULL;
    int rc = 0;

    if (json_object_object_get_ex(req->input, "maxResults", &v)) max = json_object_get_int(v);
    if (max < 1 || max > 1000) max = LIST_DEFAULT_MAX;
    if (json_object_object_get_ex(req->input, "nextToken", &v)) {
        start = cp_token_decode(req->arena, json_object_get_string(v));
        if (!start || !valid_name(start))
            return proto_error(req, ERR_INVALID_NEXT_TOKEN, "Invalid nextToken");
    }
    char prefix[KEY_MAX], key[KEY_MAX];
    int plen = store_key(prefix, sizeof prefix, acct, region, "");
    int klen = store_key(key, sizeof key, acct, region, start);
    if (plen < 0 || klen < 0) return proto_error(req, ERR_INTERNAL_FAILURE, "key too long");

    if ((rc = store_txn_begin(req->store, 0, &t))) goto store_fail;
    if ((rc = store_cursor_open(t, STORE_DB_CP_PIPELINES, &c))) goto store_fail;
    proto_sb_reset(&req->body);
    proto_sb_puts(&req->body, "{\"pipelines\":[");
    int n = 0;
    for (int r = store_cursor_seek(c, key, (size_t)klen); r == 0; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl <= (size_t)plen || memcmp(k, prefix, (size_t)plen) != 0) break;
        const char *name = (const char *)k + plen;
        size_t nlen = kl - (size_t)plen;
        if (n == max) {
            proto_sb_puts(&req->body, "],\"nextToken\":");
            const char *tok = cp_token_encode(req->arena, name, nlen);
            proto_sb_json_string(&req->body, tok, strlen(tok));
            proto_sb_putc(&req->body, '}');
            goto out;
        }
        if (n) proto_sb_putc(&req->body, ',');
        if (append_summary(&req->body, name, nlen, val, vl)) {
            rc = STORE_ERROR;
            goto store_fail;
        }
        n++;
    }
    proto_sb_puts(&req->body, "]}");
    goto out;
store_fail:
    rc = cp_store_error(req, rc);
out:
    if (c) store_cursor_close(c);
    store_txn_abort(t);
    return rc;
}
