/* Test reports: JUnit XML files a build names in its buildspec's `reports`, parsed with expat into
 * report groups ("<project>-<report name>") and one report per build; ListReportGroups,
 * BatchGetReportGroups, ListReports, ListReportsForReportGroup, BatchGetReports and
 * DescribeTestCases. */
#include <expat.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/ids.h"
#include "providers/codebuild/run.h"

#define XML_MAX   (16u << 20) /* bytes of one report file read */
#define DEPTH_MAX 64

/* A stored report (STORE_DB_CB_REPORTS, key "<account>/<region>/<group>:<uuid>"): this header,
 * the Report JSON as BatchGetReports answers it, then the TestCase array. */
#define CB_REPORT_MAGIC 0x31524243u /* "CBR1" */
struct report_hdr {
    uint32_t magic;
    uint32_t report_len;
    uint32_t cases_len;
    uint32_t pad;
    double created;
};

static struct json_object *get(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    if (o) json_object_object_get_ex(o, k, &v);
    return v;
}

/* ---- JUnit XML -------------------------------------------------------------------------------
 */

struct junit {
    XML_Parser p;
    struct json_object *cases; /* TestCase array being filled */
    const char *report_arn, *raw_path;
    char suite[512];
    struct json_object *cur; /* the open testcase */
    int depth, in_message, msg_from_attr;
    struct proto_sb text;
};

static const char *attr(const XML_Char **a, const char *name)
{
    for (int i = 0; a[i]; i += 2)
        if (!strcmp(a[i], name)) return a[i + 1];
    return NULL;
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct junit *j = ud;
    if (++j->depth > DEPTH_MAX) {
        XML_StopParser(j->p, XML_FALSE);
        return;
    }
    if (!strcmp(name, "testsuite")) {
        const char *n = attr(atts, "name");
        snprintf(j->suite, sizeof j->suite, "%s", n ? n : "");
    } else if (!strcmp(name, "testcase") && !j->cur) {
        const char *n = attr(atts, "name"), *cls = attr(atts, "classname"), *t = attr(atts, "time");
        j->cur = json_object_new_object();
        json_object_object_add(j->cur, "reportArn", json_object_new_string(j->report_arn));
        json_object_object_add(j->cur, "testRawDataPath", json_object_new_string(j->raw_path));
        json_object_object_add(j->cur, "prefix", json_object_new_string(cls ? cls : ""));
        json_object_object_add(j->cur, "name", json_object_new_string(n ? n : ""));
        json_object_object_add(j->cur, "status", json_object_new_string("SUCCEEDED"));
        json_object_object_add(j->cur, "durationInNanoSeconds",
                               json_object_new_int64(t ? (int64_t)(atof(t) * 1e9) : 0));
        json_object_object_add(j->cur, "testSuiteName", json_object_new_string(j->suite));
    } else if (j->cur &&
               (!strcmp(name, "failure") || !strcmp(name, "error") || !strcmp(name, "skipped"))) {
        const char *st = name[0] == 'f' ? "FAILED" : name[0] == 'e' ? "ERROR" : "SKIPPED";
        json_object_object_add(j->cur, "status", json_object_new_string(st));
        const char *m = attr(atts, "message");
        proto_sb_reset(&j->text);
        if (m) proto_sb_puts(&j->text, m);
        j->msg_from_attr = m != NULL;
        j->in_message = 1;
    }
}

static void on_end(void *ud, const XML_Char *name)
{
    struct junit *j = ud;
    j->depth--;
    if (j->cur && j->in_message &&
        (!strcmp(name, "failure") || !strcmp(name, "error") || !strcmp(name, "skipped"))) {
        j->in_message = 0;
        if (j->text.len)
            json_object_object_add(j->cur, "message",
                                   json_object_new_string_len(j->text.buf, (int)j->text.len));
    } else if (j->cur && !strcmp(name, "testcase")) {
        json_object_array_add(j->cases, j->cur);
        j->cur = NULL;
    }
}

static void on_text(void *ud, const XML_Char *s, int len)
{
    struct junit *j = ud;
    /* the message attribute wins; the body is used when there is none (bounded) */
    if (j->in_message && !j->msg_from_attr && j->text.len < 4096 && len > 0)
        proto_sb_append(&j->text, s, (size_t)len);
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                       int has_internal)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    struct junit *j = ud;
    XML_StopParser(j->p, XML_FALSE); /* no DTDs, so no entity expansion at all */
}

int cb_junit_parse(const char *xml, size_t len, const char *report_arn, const char *raw_path,
                   struct json_object *cases)
{
    struct junit j = {0};
    j.p = XML_ParserCreate(NULL);
    if (!j.p) return -1;
    j.cases = cases;
    j.report_arn = report_arn;
    j.raw_path = raw_path;
    XML_SetUserData(j.p, &j);
    XML_SetElementHandler(j.p, on_start, on_end);
    XML_SetCharacterDataHandler(j.p, on_text);
    XML_SetStartDoctypeDeclHandler(j.p, on_doctype);
    int ok = XML_Parse(j.p, xml, (int)len, XML_TRUE) == XML_STATUS_OK;
    json_object_put(j.cur);
    proto_sb_free(&j.text);
    XML_ParserFree(j.p);
    return ok ? 0 : -1;
}

/* ---- ingest (the runner) ------------------------------------------------------------------- */

static int read_file(const char *path, struct proto_sb *out)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW);
    if (fd < 0) return -1;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0 && out->len < XML_MAX)
        proto_sb_append(out, buf, (size_t)n);
    close(fd);
    return n < 0 ? -1 : 0;
}

static struct json_object *status_counts(struct json_object *cases, int64_t *total_ns)
{
    static const char *const st[] = {"SUCCEEDED", "FAILED", "ERROR", "SKIPPED", "UNKNOWN"};
    int counts[5] = {0};
    *total_ns = 0;
    for (size_t i = 0; i < json_object_array_length(cases); i++) {
        struct json_object *c = json_object_array_get_idx(cases, i);
        const char *s = cb_json_str(c, "status");
        for (int k = 0; k < 5; k++)
            if (s && !strcmp(s, st[k])) counts[k]++;
        *total_ns += json_object_get_int64(get(c, "durationInNanoSeconds"));
    }
    struct json_object *o = json_object_new_object();
    for (int k = 0; k < 5; k++)
        if (counts[k]) json_object_object_add(o, st[k], json_object_new_int(counts[k]));
    return o;
}

int cb_report_ingest(store *st, const char *account, const char *region, const char *project,
                     const char *build_id, const char *report_name, const char *root,
                     const char *const *files, size_t n_files, char *arn_out, size_t arn_len,
                     char *err, size_t errlen)
{
    char group[600], key[700];
    const char *uuid = strchr(build_id, ':') + 1;
    snprintf(group, sizeof group, "%s-%s", project, report_name);
    char *group_arn, *report_arn;
    if (asprintf(&group_arn, "arn:aws:codebuild:%s:%s:report-group/%s", region, account, group) <
            0 ||
        asprintf(&report_arn, "arn:aws:codebuild:%s:%s:report/%s:%s", region, account, group,
                 uuid) < 0)
        abort();
    struct json_object *cases = json_object_new_array();
    int bad = 0;
    for (size_t i = 0; i < n_files; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", root, files[i]);
        struct proto_sb xml = PROTO_SB_INIT;
        if (read_file(path, &xml) ||
            cb_junit_parse(xml.buf ? xml.buf : "", xml.len, report_arn, files[i], cases))
            bad++;
        proto_sb_free(&xml);
    }
    double now = proto_now();
    int64_t ns;
    struct json_object *summary = json_object_new_object();
    json_object_object_add(summary, "total",
                           json_object_new_int((int)json_object_array_length(cases)));
    json_object_object_add(summary, "statusCounts", status_counts(cases, &ns));
    json_object_object_add(summary, "durationInNanoSeconds", json_object_new_int64(ns));
    int failed = bad || get(get(summary, "statusCounts"), "FAILED") ||
                 get(get(summary, "statusCounts"), "ERROR");
    struct json_object *export = json_object_new_object();
    json_object_object_add(export, "exportConfigType", json_object_new_string("NO_EXPORT"));
    struct json_object *r = json_object_new_object();
    json_object_object_add(r, "arn", json_object_new_string(report_arn));
    json_object_object_add(r, "type", json_object_new_string("TEST"));
    json_object_object_add(r, "name", json_object_new_string(group));
    json_object_object_add(r, "reportGroupArn", json_object_new_string(group_arn));
    char *exec;
    if (asprintf(&exec, "arn:aws:codebuild:%s:%s:build/%s", region, account, build_id) < 0) abort();
    json_object_object_add(r, "executionId", json_object_new_string(exec));
    free(exec);
    json_object_object_add(r, "status", json_object_new_string(failed ? "FAILED" : "SUCCEEDED"));
    json_object_object_add(r, "created", cb_json_time(now));
    json_object_object_add(r, "expired", cb_json_time(now + 30 * 86400));
    json_object_object_add(r, "exportConfig", json_object_get(export));
    json_object_object_add(r, "truncated", json_object_new_boolean(0));
    json_object_object_add(r, "testSummary", summary);

    store_txn *t = NULL;
    int rc = store_txn_begin(st, 1, &t);
    if (!rc) {
        /* the group, created on its first report */
        const void *val;
        size_t vlen;
        store_key(key, sizeof key, account, region, group);
        if (store_get(t, STORE_DB_CB_REPORT_GROUPS, key, strlen(key), &val, &vlen) ==
            STORE_NOTFOUND) {
            struct json_object *g = json_object_new_object();
            json_object_object_add(g, "arn", json_object_new_string(group_arn));
            json_object_object_add(g, "name", json_object_new_string(group));
            json_object_object_add(g, "type", json_object_new_string("TEST"));
            json_object_object_add(g, "exportConfig", json_object_get(export));
            json_object_object_add(g, "created", cb_json_time(now));
            json_object_object_add(g, "lastModified", cb_json_time(now));
            json_object_object_add(g, "tags", json_object_new_array());
            json_object_object_add(g, "status", json_object_new_string("ACTIVE"));
            size_t gl;
            char *gs = cb_json_dup(g, &gl);
            rc = store_put(t, STORE_DB_CB_REPORT_GROUPS, key, strlen(key), gs, gl);
            free(gs);
            json_object_put(g);
        }
    }
    if (!rc) {
        size_t rl, cl;
        char *rs = cb_json_dup(r, &rl), *cs = cb_json_dup(cases, &cl);
        struct report_hdr h = {CB_REPORT_MAGIC, (uint32_t)rl, (uint32_t)cl, 0, now};
        char *rec = malloc(sizeof h + rl + cl);
        if (!rec) abort();
        memcpy(rec, &h, sizeof h);
        memcpy(rec + sizeof h, rs, rl);
        memcpy(rec + sizeof h + rl, cs, cl);
        snprintf(key, sizeof key, "%s/%s/%s:%s", account, region, group, uuid);
        rc = store_put(t, STORE_DB_CB_REPORTS, key, strlen(key), rec, sizeof h + rl + cl);
        free(rec);
        free(rs);
        free(cs);
    }
    if (!rc) {
        rc = store_txn_commit(t);
        t = NULL;
    }
    store_txn_abort(t);
    snprintf(arn_out, arn_len, "%s", report_arn);
    if (bad) snprintf(err, errlen, "%d report file(s) of %s are not JUnit XML", bad, report_name);
    json_object_put(r);
    json_object_put(cases);
    json_object_put(export);
    free(group_arn);
    free(report_arn);
    return rc;
}

/* ---- operations ----------------------------------------------------------------------------
 */

/* Returns the "<group>" or "<group>:<uuid>" part of an ARN of kind ("report-group", "report") of
 * the caller, or NULL. */
static const char *arn_tail(struct proto_req *req, const char *arn, const char *kind)
{
    if (!arn) return NULL;
    char *p = proto_arena_printf(req->arena, "arn:aws:codebuild:%s:%s:%s/", req->caller.region,
                                 req->caller.account_id, kind);
    size_t n = strlen(p);
    return strncmp(arn, p, n) || !arn[n] ? NULL : arn + n;
}

static int read_report(store_txn *t, struct proto_req *req, const char *tail, struct report_hdr *h,
                       const char **report, const char **cases)
{
    char key[800];
    const void *val;
    size_t vlen;
    snprintf(key, sizeof key, "%s/%s/%s", req->caller.account_id, req->caller.region, tail);
    int rc = store_get(t, STORE_DB_CB_REPORTS, key, strlen(key), &val, &vlen);
    if (rc) return rc;
    if (vlen < sizeof *h) return STORE_ERROR;
    memcpy(h, val, sizeof *h);
    if (h->magic != CB_REPORT_MAGIC || (size_t)h->report_len + h->cases_len != vlen - sizeof *h)
        return STORE_ERROR;
    *report = (const char *)val + sizeof *h;
    *cases = *report + h->report_len;
    return 0;
}

/* Finds a report of the caller by ARN for cb_batch_get. */
static int find_report(struct proto_req *req, store_txn *t, const char *given, const char **json,
                       size_t *len)
{
    const char *tail = arn_tail(req, given, "report");
    struct report_hdr h;
    const char *cases;
    if (!tail || read_report(t, req, tail, &h, json, &cases) != 0) return -1;
    *len = h.report_len;
    return 0;
}

int cb_op_batch_get_reports(struct proto_req *req)
{
    return cb_batch_get(req, "reportArns", "reports", find_report);
}

/* Finds a report group of the caller by ARN for cb_batch_get. */
static int find_report_group(struct proto_req *req, store_txn *t, const char *given,
                             const char **json, size_t *len)
{
    const char *tail = arn_tail(req, given, "report-group");
    char key[800];
    const void *val;
    if (!tail || strchr(tail, '/') ||
        store_key(key, sizeof key, req->caller.account_id, req->caller.region, tail) < 0 ||
        store_get(t, STORE_DB_CB_REPORT_GROUPS, key, strlen(key), &val, len) != 0)
        return -1;
    *json = val;
    return 0;
}

int cb_op_batch_get_report_groups(struct proto_req *req)
{
    return cb_batch_get(req, "reportGroupArns", "reportGroups", find_report_group);
}

/* Lists ARNs of db under the caller's prefix (+ extra), newest last unless desc; pages of max. */
static int list_arns(struct proto_req *req, enum store_db db, const char *extra, const char *kind,
                     const char *field)
{
    const char *order = cb_json_str(req->input, "sortOrder");
    struct json_object *mv = get(req->input, "maxResults");
    size_t max = mv ? (size_t)json_object_get_int(mv) : 100, offset = 0;
    int desc = !order || !strcmp(order, "DESCENDING");
    if (max < 1 || max > 100) max = 100;
    int rc = cb_page_offset(req, &offset);
    if (rc) return rc;
    char prefix[800];
    int plen = snprintf(prefix, sizeof prefix, "%s/%s/%s", req->caller.account_id,
                        req->caller.region, extra ? extra : "");
    size_t base = strlen(req->caller.account_id) + strlen(req->caller.region) + 2;
    store_txn *t = NULL;
    store_cursor *c = NULL;
    struct json_object *arns = json_object_new_array();
    rc = store_txn_begin(req->store, 0, &t);
    if (!rc) rc = store_cursor_open(t, db, &c);
    if (rc) {
        store_txn_abort(t);
        json_object_put(arns);
        return cb_store_error(req, rc);
    }
    for (int r = store_cursor_seek(c, prefix, (size_t)plen); r == 0; r = store_cursor_next(c)) {
        const void *k, *val;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &val, &vl);
        if (kl < (size_t)plen || memcmp(k, prefix, (size_t)plen) != 0) break;
        char *arn = proto_arena_printf(req->arena, "arn:aws:codebuild:%s:%s:%s/%.*s",
                                       req->caller.region, req->caller.account_id, kind,
                                       (int)(kl - base), (const char *)k + base);
        json_object_array_add(arns, json_object_new_string(arn));
    }
    store_cursor_close(c);
    store_txn_abort(t);
    size_t n = json_object_array_length(arns);
    struct json_object *page = json_object_new_array();
    for (size_t i = offset; i < n && i < offset + max; i++)
        json_object_array_add(
            page, json_object_get(json_object_array_get_idx(arns, desc ? n - 1 - i : i)));
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, field, page);
    if (offset + max < n) {
        char num[32];
        snprintf(num, sizeof num, "%zu", offset + max);
        json_object_object_add(out, "nextToken",
                               json_object_new_string(cb_token_encode(req->arena, num)));
    }
    json_object_put(arns);
    req->output = out;
    return 0;
}

int cb_op_list_report_groups(struct proto_req *req)
{
    return list_arns(req, STORE_DB_CB_REPORT_GROUPS, NULL, "report-group", "reportGroups");
}

int cb_op_list_reports(struct proto_req *req)
{
    return list_arns(req, STORE_DB_CB_REPORTS, NULL, "report", "reports");
}

int cb_op_list_reports_for_report_group(struct proto_req *req)
{
    const char *arn = cb_json_str(req->input, "reportGroupArn");
    const char *tail = arn_tail(req, arn, "report-group");
    char key[800];
    const void *val;
    size_t vlen;
    store_txn *t = NULL;
    int found = 0;
    if (tail && store_key(key, sizeof key, req->caller.account_id, req->caller.region, tail) >= 0 &&
        store_txn_begin(req->store, 0, &t) == 0) {
        found = store_get(t, STORE_DB_CB_REPORT_GROUPS, key, strlen(key), &val, &vlen) == 0;
        store_txn_abort(t);
    }
    if (!found)
        return proto_error(req, ERR_RESOURCE_NOT_FOUND, "Report group %s does not exist",
                           arn ? arn : "");
    return list_arns(req, STORE_DB_CB_REPORTS, proto_arena_printf(req->arena, "%s:", tail),
                     "report", "reports");
}

int cb_op_describe_test_cases(struct proto_req *req)
{
    const char *arn = cb_json_str(req->input, "reportArn");
    const char *tail = arn_tail(req, arn, "report");
    struct json_object *filter = get(req->input, "filter");
    const char *fstatus = cb_json_str(filter, "status"), *kw = cb_json_str(filter, "keyword");
    struct json_object *mv = get(req->input, "maxResults");
    size_t max = mv ? (size_t)json_object_get_int(mv) : 50, offset = 0;
    if (max < 1 || max > 100) max = 50;
    int rc = cb_page_offset(req, &offset);
    if (rc) return rc;
    store_txn *t = NULL;
    struct report_hdr h;
    const char *r, *c;
    struct json_object *cases = NULL;
    rc = store_txn_begin(req->store, 0, &t);
    if (rc) return cb_store_error(req, rc);
    rc = tail ? read_report(t, req, tail, &h, &r, &c) : STORE_NOTFOUND;
    if (!rc) cases = cb_json_parse(c, h.cases_len);
    store_txn_abort(t);
    if (rc == STORE_NOTFOUND)
        return proto_error(req, ERR_RESOURCE_NOT_FOUND, "Report %s does not exist", arn ? arn : "");
    if (rc || !cases) return cb_store_error(req, rc ? rc : STORE_ERROR);
    struct json_object *page = json_object_new_array();
    size_t seen = 0, next = 0;
    for (size_t i = 0; i < json_object_array_length(cases); i++) {
        struct json_object *tc = json_object_array_get_idx(cases, i);
        if (fstatus && strcmp(fstatus, cb_json_str(tc, "status"))) continue;
        if (kw && !strstr(cb_json_str(tc, "name"), kw) && !strstr(cb_json_str(tc, "prefix"), kw))
            continue;
        if (seen++ < offset) continue;
        if (json_object_array_length(page) == max) {
            next = seen - 1;
            break;
        }
        json_object_array_add(page, json_object_get(tc));
    }
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "testCases", page);
    if (next) {
        char num[32];
        snprintf(num, sizeof num, "%zu", next);
        json_object_object_add(out, "nextToken",
                               json_object_new_string(cb_token_encode(req->arena, num)));
    }
    json_object_put(cases);
    req->output = out;
    return 0;
}
