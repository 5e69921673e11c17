/* IAM on awsQuery: roles (with their inline policies, attachments and tags), managed policies with
 * versions, instance profiles, and a small table of the AWS managed policies the tutorials attach.
 * Records are JSON in the "iam" database under "<account>/<kind>/<name>". */
#include "providers/iam/iam.h"

#include <json-c/json.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/model.h"
#include "protocol/query.h"

#define IAM_MAX_POLICY_VERSIONS 5

/* ---- records -------------------------------------------------------------------------------- */

static int rec_key(char *buf, size_t cap, const char *account, const char *kind, const char *name)
{
    int n = snprintf(buf, cap, "%s/%s/%s", account, kind, name);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Reads a record; returns a new json-c object (caller puts) or NULL when absent. */
static struct json_object *load(store_txn *t, const char *account, const char *kind,
                                const char *name)
{
    char key[600];
    const void *v;
    size_t vlen;
    if (rec_key(key, sizeof key, account, kind, name) < 0) return NULL;
    if (store_get(t, STORE_DB_IAM, key, strlen(key), &v, &vlen) != 0) return NULL;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = json_tokener_parse_ex(tok, v, (int)vlen);
    json_tokener_free(tok);
    return o;
}

static int save(store_txn *t, const char *account, const char *kind, const char *name,
                struct json_object *o)
{
    char key[600];
    size_t len;
    if (rec_key(key, sizeof key, account, kind, name) < 0) return STORE_ERROR;
    const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
    return store_put(t, STORE_DB_IAM, key, strlen(key), s, len);
}

static int drop(store_txn *t, const char *account, const char *kind, const char *name)
{
    char key[600];
    if (rec_key(key, sizeof key, account, kind, name) < 0) return STORE_ERROR;
    return store_del(t, STORE_DB_IAM, key, strlen(key));
}

/* Calls fn on every record of kind in account, in name order. */
static void each(store_txn *t, const char *account, const char *kind,
                 void (*fn)(struct json_object *rec, void *ctx), void *ctx)
{
    char prefix[128];
    int n = snprintf(prefix, sizeof prefix, "%s/%s/", account, kind);
    store_cursor *c = NULL;
    if (n < 0 || store_cursor_open(t, STORE_DB_IAM, &c) != 0) return;
    for (int rc = store_cursor_seek(c, prefix, (size_t)n); rc == 0; rc = store_cursor_next(c)) {
        const void *k, *v;
        size_t klen, vlen;
        store_cursor_get(c, &k, &klen, &v, &vlen);
        if (klen < (size_t)n || memcmp(k, prefix, (size_t)n) != 0) break;
        struct json_tokener *tok = json_tokener_new();
        struct json_object *o = json_tokener_parse_ex(tok, v, (int)vlen);
        json_tokener_free(tok);
        if (o) fn(o, ctx);
        json_object_put(o);
    }
    store_cursor_close(c);
}

/* ---- small helpers -------------------------------------------------------------------------- */

static const char *in_str(struct proto_req *req, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(req->input, key, &v) ? json_object_get_string(v) : NULL;
}

static struct json_object *in_obj(struct proto_req *req, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(req->input, key, &v) ? v : NULL;
}

static const char *get_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static struct json_object *get(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void put_str(struct json_object *o, const char *key, const char *v)
{
    if (v) json_object_object_add(o, key, json_object_new_string(v));
}

static void copy_member(struct json_object *dst, struct json_object *src, const char *key)
{
    struct json_object *v = get(src, key);
    if (v) json_object_object_add(dst, key, json_object_get(v));
}

static void now_iso(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* An IAM unique id: prefix ("AROA", "ANPA", "AIPA") and 17 characters of [A-Z0-9]. */
static void unique_id(char out[22], const char *prefix)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char b[17];
    if (RAND_bytes(b, sizeof b) != 1) abort();
    memcpy(out, prefix, 4);
    for (int i = 0; i < 17; i++)
        out[4 + i] = abc[b[i] % 36];
    out[21] = '\0';
}

/* Policy documents travel URL-encoded in IAM's answers, as AWS sends them. */
static struct json_object *url_encoded(const char *s)
{
    struct proto_sb sb = PROTO_SB_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            proto_sb_putc(&sb, (char)*p);
        else
            proto_sb_printf(&sb, "%%%02X", *p);
    }
    struct json_object *o = json_object_new_string(proto_sb_str(&sb));
    proto_sb_free(&sb);
    return o;
}

static int fail_store(struct proto_req *req)
{
    return proto_error(req, ERR_QUERY_SERVICE_FAILURE,
                       "The request processing has failed because of an unknown error, exception "
                       "or failure.");
}

static int commit(struct proto_req *req, store_txn **t)
{
    int rc = store_txn_commit(*t);
    *t = NULL;
    return rc ? fail_store(req) : 0;
}

/* ---- policy documents ----------------------------------------------------------------------- */

static int is_str_or_str_list(struct json_object *v)
{
    if (json_object_is_type(v, json_type_string)) return 1;
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) return 0;
    for (size_t i = 0; i < json_object_array_length(v); i++)
        if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string)) return 0;
    return 1;
}

/* Checks a policy document's grammar as IAM does on write: JSON, a Version AWS knows, Statement
 * (one or a list) each with Effect Allow or Deny and an Action or NotAction; trust policies name
 * a Principal, identity policies must not. Returns 0 or -ERR_MALFORMED_POLICY set on req. */
static int check_policy(struct proto_req *req, const char *doc, int trust)
{
    int rc = 0;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = json_tokener_parse_ex(tok, doc, (int)strlen(doc));
    int complete = json_tokener_get_error(tok) == json_tokener_success &&
                   json_tokener_get_parse_end(tok) == strlen(doc);
    json_tokener_free(tok);
    if (!o || !complete || !json_object_is_type(o, json_type_object)) {
        rc = proto_error(req, ERR_MALFORMED_POLICY, "This policy contains invalid Json");
        goto out;
    }
    const char *version = get_str(o, "Version");
    if (version && strcmp(version, "2012-10-17") != 0 && strcmp(version, "2008-10-17") != 0) {
        rc = proto_error(req, ERR_MALFORMED_POLICY,
                         "The policy must contain a valid version string");
        goto out;
    }
    struct json_object *st = get(o, "Statement");
    if (!st ||
        (!json_object_is_type(st, json_type_object) && !json_object_is_type(st, json_type_array))) {
        rc = proto_error(req, ERR_MALFORMED_POLICY, "Syntax errors in policy.");
        goto out;
    }
    size_t n = json_object_is_type(st, json_type_array) ? json_object_array_length(st) : 1;
    for (size_t i = 0; i < n; i++) {
        struct json_object *s =
            json_object_is_type(st, json_type_array) ? json_object_array_get_idx(st, i) : st;
        const char *effect = json_object_is_type(s, json_type_object) ? get_str(s, "Effect") : NULL;
        if (!effect || (strcmp(effect, "Allow") != 0 && strcmp(effect, "Deny") != 0)) {
            rc = proto_error(req, ERR_MALFORMED_POLICY, "Syntax errors in policy.");
            goto out;
        }
        struct json_object *act = get(s, "Action") ? get(s, "Action") : get(s, "NotAction");
        if (!act || !is_str_or_str_list(act)) {
            rc = proto_error(req, ERR_MALFORMED_POLICY, "Syntax errors in policy.");
            goto out;
        }
        if (trust && !get(s, "Principal") && !get(s, "NotPrincipal")) {
            rc = proto_error(req, ERR_MALFORMED_POLICY, "Syntax errors in policy.");
            goto out;
        }
        if (!trust && (get(s, "Principal") || get(s, "NotPrincipal"))) {
            rc = proto_error(req, ERR_MALFORMED_POLICY,
                             "Policy document should not specify a principal.");
            goto out;
        }
        if (!trust && !get(s, "Resource") && !get(s, "NotResource")) {
            rc = proto_error(req, ERR_MALFORMED_POLICY, "Policy statement must contain resources.");
            goto out;
        }
    }
out:
    json_object_put(o);
    return rc;
}

/* Whether v (a string or a list of strings) holds one of want[]. */
static int names_any(struct json_object *v, const char *const *want)
{
    size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 1;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e =
            json_object_is_type(v, json_type_array) ? json_object_array_get_idx(v, i) : v;
        const char *s = json_object_get_string(e);
        for (int k = 0; s && want[k]; k++)
            if (strcmp(s, want[k]) == 0) return 1;
    }
    return 0;
}

/* Whether a trust policy lets service call sts:AssumeRole. */
static int trusts(const char *doc, const char *service)
{
    struct json_object *o = json_tokener_parse(doc);
    int ok = 0;
    struct json_object *st = o ? get(o, "Statement") : NULL;
    size_t n = !st                                        ? 0
               : json_object_is_type(st, json_type_array) ? json_object_array_length(st)
                                                          : 1;
    static const char *const actions[] = {"sts:AssumeRole", "sts:*", "*", NULL};
    const char *const principals[] = {service, "*", NULL};
    for (size_t i = 0; i < n && !ok; i++) {
        struct json_object *s =
            json_object_is_type(st, json_type_array) ? json_object_array_get_idx(st, i) : st;
        const char *effect = get_str(s, "Effect");
        struct json_object *act = get(s, "Action"), *pr = get(s, "Principal");
        if (!effect || strcmp(effect, "Allow") != 0 || !act || !pr) continue;
        if (!names_any(act, actions)) continue;
        if (json_object_is_type(pr, json_type_string))
            ok = strcmp(json_object_get_string(pr), "*") == 0;
        else if (get(pr, "Service"))
            ok = names_any(get(pr, "Service"), principals);
    }
    json_object_put(o);
    return ok;
}

/* ---- AWS managed policies ------------------------------------------------------------------- */

/* The AWS managed policies that the CodePipeline, CodeBuild and CodeDeploy tutorials attach, with
 * a representative document (the real ones are longer; none is enforced here). */
static const struct {
    const char *path, *name, *doc;
} aws_policies[] = {
    {"/", "AWSCodePipeline_FullAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"codepipeline:*"
     "\"],\"Resource\":\"*\"}]}"},
    {"/", "AWSCodePipeline_ReadOnlyAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"codepipeline:"
     "Get*\",\"codepipeline:List*\"],\"Resource\":\"*\"}]}"},
    {"/", "AWSCodePipelineCustomActionAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"codepipeline:"
     "AcknowledgeJob\",\"codepipeline:GetJobDetails\",\"codepipeline:PollForJobs\",\"codepipeline:"
     "PutJobFailureResult\",\"codepipeline:PutJobSuccessResult\"],\"Resource\":\"*\"}]}"},
    {"/", "AWSCodeBuildAdminAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"codebuild:*\"]"
     ",\"Resource\":\"*\"}]}"},
    {"/", "AWSCodeBuildDeveloperAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"codebuild:"
     "StartBuild\",\"codebuild:StopBuild\",\"codebuild:BatchGet*\",\"codebuild:List*\"],"
     "\"Resource\":\"*\"}]}"},
    {"/", "AWSCodeBuildReadOnlyAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"codebuild:"
     "BatchGet*\",\"codebuild:List*\"],\"Resource\":\"*\"}]}"},
    {"/", "AWSCodeCommitFullAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"codecommit:*"
     "\"],\"Resource\":\"*\"}]}"},
    {"/", "AWSCodeCommitPowerUser",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"codecommit:*"
     "\"],\"Resource\":\"*\"}]}"},
    {"/", "AWSCodeDeployFullAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"codedeploy:*"
     "\"],\"Resource\":\"*\"}]}"},
    {"/", "AWSCodeDeployDeployerAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"codedeploy:"
     "Batch*\",\"codedeploy:CreateDeployment\",\"codedeploy:Get*\",\"codedeploy:List*\","
     "\"codedeploy:RegisterApplicationRevision\"],\"Resource\":\"*\"}]}"},
    {"/service-role/", "AWSCodeDeployRole",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"autoscaling:*"
     "\",\"ec2:Describe*\",\"tag:GetResources\",\"sns:Publish\",\"cloudwatch:DescribeAlarms\","
     "\"elasticloadbalancing:*\"],\"Resource\":\"*\"}]}"},
    {"/service-role/", "AmazonEC2RoleforAWSCodeDeploy",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:"
     "GetObject\",\"s3:GetObjectVersion\",\"s3:ListBucket\"],\"Resource\":\"*\"}]}"},
    {"/", "AmazonS3FullAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:*\",\"s3-"
     "object-lambda:*\"],\"Resource\":\"*\"}]}"},
    {"/", "AmazonS3ReadOnlyAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:Get*\","
     "\"s3:List*\"],\"Resource\":\"*\"}]}"},
    {"/", "CloudWatchLogsFullAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"logs:*\"],"
     "\"Resource\":\"*\"}]}"},
    {"/", "AmazonSSMManagedInstanceCore",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ssm:*\","
     "\"ssmmessages:*\",\"ec2messages:*\"],\"Resource\":\"*\"}]}"},
    {"/", "AdministratorAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\","
     "\"Resource\":\"*\"}]}"},
    {"/", "PowerUserAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"NotAction\":[\"iam:*\","
     "\"organizations:*\",\"account:*\"],\"Resource\":\"*\"}]}"},
    {"/", "ReadOnlyAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"*:Describe*\","
     "\"*:Get*\",\"*:List*\"],\"Resource\":\"*\"}]}"},
};
#define N_AWS_POLICIES (sizeof(aws_policies) / sizeof(aws_policies[0]))

/* An AWS managed policy as a record like a customer one's. Caller puts. */
static struct json_object *aws_policy(size_t i)
{
    char arn[256];
    snprintf(arn, sizeof arn, "arn:aws:iam::aws:policy%s%s", aws_policies[i].path,
             aws_policies[i].name);
    struct json_object *p = json_object_new_object();
    put_str(p, "PolicyName", aws_policies[i].name);
    /* a stable id per policy: "ANPA" and the name's first letters, upper-cased and padded */
    char id[22] = "ANPA";
    size_t k = 4;
    for (const char *c = aws_policies[i].name; *c && k < 21; c++)
        if ((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'))
            id[k++] = *c;
        else if (*c >= 'a' && *c <= 'z')
            id[k++] = (char)(*c - 'a' + 'A');
    while (k < 21)
        id[k++] = 'X';
    id[21] = '\0';
    put_str(p, "PolicyId", id);
    put_str(p, "Arn", arn);
    put_str(p, "Path", aws_policies[i].path);
    put_str(p, "DefaultVersionId", "v1");
    json_object_object_add(p, "AttachmentCount", json_object_new_int(0));
    json_object_object_add(p, "PermissionsBoundaryUsageCount", json_object_new_int(0));
    json_object_object_add(p, "IsAttachable", json_object_new_boolean(1));
    put_str(p, "CreateDate", "2015-02-06T18:40:00Z");
    put_str(p, "UpdateDate", "2015-02-06T18:40:00Z");
    struct json_object *vs = json_object_new_array();
    struct json_object *v = json_object_new_object();
    put_str(v, "VersionId", "v1");
    put_str(v, "Document", aws_policies[i].doc);
    put_str(v, "CreateDate", "2015-02-06T18:40:00Z");
    json_object_array_add(vs, v);
    json_object_object_add(p, "versions", vs);
    json_object_object_add(p, "aws", json_object_new_boolean(1));
    return p;
}

/* Finds a managed policy by ARN: an AWS managed one from the table, or one of account's. Returns
 * the record (caller puts) or NULL; *name gets the customer policy's record name. */
static struct json_object *find_policy(store_txn *t, const char *account, const char *arn)
{
    if (!arn) return NULL;
    if (strncmp(arn, "arn:aws:iam::aws:policy/", 24) == 0) {
        for (size_t i = 0; i < N_AWS_POLICIES; i++) {
            char want[256];
            snprintf(want, sizeof want, "arn:aws:iam::aws:policy%s%s", aws_policies[i].path,
                     aws_policies[i].name);
            if (strcmp(want, arn) == 0) return aws_policy(i);
        }
        return NULL;
    }
    char prefix[64];
    snprintf(prefix, sizeof prefix, "arn:aws:iam::%s:policy/", account);
    if (strncmp(arn, prefix, strlen(prefix)) != 0) return NULL;
    const char *name = strrchr(arn, '/') + 1;
    struct json_object *p = load(t, account, "policy", name);
    if (p && strcmp(get_str(p, "Arn"), arn) != 0) {
        json_object_put(p);
        return NULL;
    }
    return p;
}

/* ---- shapes of answers ---------------------------------------------------------------------- */

static struct json_object *role_out(struct json_object *r, int with_tags)
{
    struct json_object *o = json_object_new_object();
    copy_member(o, r, "Path");
    copy_member(o, r, "RoleName");
    copy_member(o, r, "RoleId");
    copy_member(o, r, "Arn");
    copy_member(o, r, "CreateDate");
    json_object_object_add(o, "AssumeRolePolicyDocument",
                           url_encoded(get_str(r, "AssumeRolePolicyDocument")));
    copy_member(o, r, "Description");
    copy_member(o, r, "MaxSessionDuration");
    struct json_object *tags = get(r, "Tags");
    if (with_tags && tags && json_object_array_length(tags)) copy_member(o, r, "Tags");
    return o;
}

static struct json_object *policy_out(struct json_object *p, int full)
{
    struct json_object *o = json_object_new_object();
    static const char *const keys[] = {"PolicyName",
                                       "PolicyId",
                                       "Arn",
                                       "Path",
                                       "DefaultVersionId",
                                       "AttachmentCount",
                                       "PermissionsBoundaryUsageCount",
                                       "IsAttachable",
                                       "Description",
                                       "CreateDate",
                                       "UpdateDate"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (full || strcmp(keys[i], "Description") != 0) copy_member(o, p, keys[i]);
    struct json_object *tags = get(p, "Tags");
    if (full && tags && json_object_array_length(tags)) copy_member(o, p, "Tags");
    return o;
}

static struct json_object *version_out(struct json_object *p, struct json_object *v, int doc)
{
    struct json_object *o = json_object_new_object();
    if (doc) json_object_object_add(o, "Document", url_encoded(get_str(v, "Document")));
    copy_member(o, v, "VersionId");
    json_object_object_add(o, "IsDefaultVersion",
                           json_object_new_boolean(strcmp(get_str(v, "VersionId"),
                                                          get_str(p, "DefaultVersionId")) == 0));
    copy_member(o, v, "CreateDate");
    return o;
}

static int no_role(struct proto_req *req, const char *name)
{
    return proto_error(req, ERR_IAM_NO_SUCH_ENTITY, "The role with name %s cannot be found.", name);
}

static int no_policy(struct proto_req *req, const char *arn)
{
    return proto_error(req, ERR_IAM_NO_SUCH_ENTITY,
                       "Policy %s does not exist or is not attachable.", arn ? arn : "");
}

/* Opens a transaction and loads the role named by the RoleName input. Returns 0 with *t and *r, or
 * a negative error (nothing left open). */
static int open_role(struct proto_req *req, int write, store_txn **t, struct json_object **r)
{
    const char *name = in_str(req, "RoleName");
    *r = NULL;
    if (store_txn_begin(req->store, write, t) != 0) return fail_store(req);
    *r = load(*t, req->caller.account_id, "role", name);
    if (!*r) {
        store_txn_abort(*t);
        *t = NULL;
        return no_role(req, name);
    }
    return 0;
}

/* Loads the role named RoleName in a read txn of its own. Returns 0 with *r (caller puts), or
 * the error set on req. */
static int read_role(struct proto_req *req, struct json_object **r)
{
    store_txn *t;
    int rc = open_role(req, 0, &t, r);
    if (rc < 0) return rc;
    store_txn_abort(t);
    return 0;
}

static const char *path_or_root(struct proto_req *req)
{
    const char *p = in_str(req, "Path");
    return p ? p : "/";
}

static int path_ok(struct proto_req *req, const char *path)
{
    size_t n = strlen(path);
    if (n && path[0] == '/' && path[n - 1] == '/') return 0;
    return proto_error(req, ERR_QUERY_VALIDATION,
                       "The specified value for path is invalid. It must begin and end with / and "
                       "contain only alphanumeric characters and/or / characters.");
}

/* IAM's lists: at most MaxItems (default 100) entries from Marker on, IsTruncated, and the
 * Marker of the next page when there is one. A marker is the offset of the next entry in the
 * list's order (by name, AWS's managed policies first), opaque to clients. */
#define IAM_MARKER_PREFIX     "cpl1:"
#define IAM_DEFAULT_MAX_ITEMS 100

/* Answers member with the page of all (an array, consumed) that Marker and MaxItems select, in
 * req->output (made if NULL). Returns 0, or ValidationError for a marker not handed out here. */
static int page_out(struct proto_req *req, const char *member, struct json_object *all)
{
    const char *marker = in_str(req, "Marker");
    struct json_object *mi = in_obj(req, "MaxItems");
    size_t n = json_object_array_length(all), from = 0;
    long max = mi ? (long)json_object_get_int64(mi) : IAM_DEFAULT_MAX_ITEMS;
    if (max < 1) max = IAM_DEFAULT_MAX_ITEMS;
    if (marker) {
        size_t pl = strlen(IAM_MARKER_PREFIX);
        char *end = NULL;
        unsigned long long off = strncmp(marker, IAM_MARKER_PREFIX, pl) == 0 && marker[pl]
                                     ? strtoull(marker + pl, &end, 10)
                                     : 0;
        if (!end || *end || off > n) {
            json_object_put(all);
            return proto_error(req, ERR_QUERY_VALIDATION, "Invalid Marker.");
        }
        from = (size_t)off;
    }
    size_t to = n - from > (size_t)max ? from + (size_t)max : n;
    struct json_object *page = json_object_new_array();
    for (size_t i = from; i < to; i++)
        json_object_array_add(page, json_object_get(json_object_array_get_idx(all, i)));
    json_object_put(all);
    if (!req->output) req->output = json_object_new_object();
    json_object_object_add(req->output, member, page);
    json_object_object_add(req->output, "IsTruncated", json_object_new_boolean(to < n));
    if (to < n) {
        char next[48];
        snprintf(next, sizeof next, IAM_MARKER_PREFIX "%zu", to);
        put_str(req->output, "Marker", next);
    }
    return 0;
}

/* ---- roles ---------------------------------------------------------------------------------- */

static int op_create_role(struct proto_req *req)
{
    int rc;
    store_txn *t = NULL;
    struct json_object *r = NULL;
    const char *acct = req->caller.account_id, *name = in_str(req, "RoleName");
    const char *doc = in_str(req, "AssumeRolePolicyDocument"), *path = path_or_root(req);
    if ((rc = path_ok(req, path)) < 0 || (rc = check_policy(req, doc, 1)) < 0) goto out;
    if (store_txn_begin(req->store, 1, &t) != 0) {
        rc = fail_store(req);
        goto out;
    }
    if ((r = load(t, acct, "role", name))) {
        rc = proto_error(req, ERR_IAM_ENTITY_EXISTS, "Role with name %s already exists.", name);
        goto out;
    }
    char id[22], when[32];
    unique_id(id, "AROA");
    now_iso(when);
    r = json_object_new_object();
    put_str(r, "Path", path);
    put_str(r, "RoleName", name);
    put_str(r, "RoleId", id);
    json_object_object_add(r, "Arn",
                           json_object_new_string(proto_arena_printf(
                               req->arena, "arn:aws:iam::%s:role%s%s", acct, path, name)));
    put_str(r, "CreateDate", when);
    put_str(r, "AssumeRolePolicyDocument", doc);
    put_str(r, "Description", in_str(req, "Description"));
    struct json_object *msd = in_obj(req, "MaxSessionDuration");
    json_object_object_add(r, "MaxSessionDuration",
                           msd ? json_object_get(msd) : json_object_new_int(3600));
    struct json_object *tags = in_obj(req, "Tags");
    json_object_object_add(r, "Tags", tags ? json_object_get(tags) : json_object_new_array());
    json_object_object_add(r, "inline", json_object_new_object());
    json_object_object_add(r, "attached", json_object_new_array());
    if (save(t, acct, "role", name, r) != 0) {
        rc = fail_store(req);
        goto out;
    }
    if ((rc = commit(req, &t)) < 0) goto out;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "Role", role_out(r, 1));
out:
    store_txn_abort(t);
    json_object_put(r);
    return rc;
}

static int op_get_role(struct proto_req *req)
{
    struct json_object *r;
    int rc = read_role(req, &r);
    if (rc < 0) return rc;
    struct json_object *o = role_out(r, 1);
    json_object_object_add(o, "RoleLastUsed", json_object_new_object());
    req->output = json_object_new_object();
    json_object_object_add(req->output, "Role", o);
    json_object_put(r);
    return 0;
}

struct list_ctx {
    struct json_object *arr;
    const char *prefix;
    int kind; /* 0 roles, 1 policies, 2 instance profiles */
    int only_attached;
};

static void list_one(struct json_object *rec, void *ctx)
{
    struct list_ctx *l = ctx;
    const char *path = get_str(rec, "Path");
    if (l->prefix && path && strncmp(path, l->prefix, strlen(l->prefix)) != 0) return;
    if (l->kind == 0) {
        json_object_array_add(l->arr, role_out(rec, 0));
    } else if (l->kind == 1) {
        struct json_object *c = get(rec, "AttachmentCount");
        if (l->only_attached && (!c || json_object_get_int(c) == 0)) return;
        json_object_array_add(l->arr, policy_out(rec, 0));
    } else {
        json_object_array_add(l->arr, json_object_get(rec));
    }
}

static int op_list_roles(struct proto_req *req)
{
    store_txn *t;
    if (store_txn_begin(req->store, 0, &t) != 0) return fail_store(req);
    struct list_ctx l = {json_object_new_array(), in_str(req, "PathPrefix"), 0, 0};
    each(t, req->caller.account_id, "role", list_one, &l);
    store_txn_abort(t);
    return page_out(req, "Roles", l.arr);
}

/* Applies fn to the role named by RoleName under a write transaction and saves it. fn returns 0
 * or a negative error set on req. */
static int update_role(struct proto_req *req, int (*fn)(struct proto_req *, struct json_object *))
{
    store_txn *t;
    struct json_object *r;
    int rc = open_role(req, 1, &t, &r);
    if (rc < 0) return rc;
    if ((rc = fn(req, r)) < 0) goto out;
    if (save(t, req->caller.account_id, "role", get_str(r, "RoleName"), r) != 0) {
        rc = fail_store(req);
        goto out;
    }
    rc = commit(req, &t);
out:
    store_txn_abort(t);
    json_object_put(r);
    return rc;
}

static int do_update_role(struct proto_req *req, struct json_object *r)
{
    if (in_str(req, "Description")) put_str(r, "Description", in_str(req, "Description"));
    struct json_object *msd = in_obj(req, "MaxSessionDuration");
    if (msd) json_object_object_add(r, "MaxSessionDuration", json_object_get(msd));
    return 0;
}

static int op_update_role(struct proto_req *req)
{
    return update_role(req, do_update_role);
}

static int op_update_role_description(struct proto_req *req)
{
    int rc = update_role(req, do_update_role);
    if (rc < 0) return rc;
    return op_get_role(req);
}

static int do_update_trust(struct proto_req *req, struct json_object *r)
{
    const char *doc = in_str(req, "PolicyDocument");
    int rc = check_policy(req, doc, 1);
    if (rc == 0) put_str(r, "AssumeRolePolicyDocument", doc);
    return rc;
}

static int op_update_assume_role_policy(struct proto_req *req)
{
    return update_role(req, do_update_trust);
}

struct profile_role {
    const char *role;
    int found;
};

static void profile_has_role(struct json_object *rec, void *ctx)
{
    struct profile_role *pr = ctx;
    struct json_object *roles = get(rec, "roles");
    for (size_t i = 0; roles && i < json_object_array_length(roles); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(roles, i)), pr->role) == 0)
            pr->found = 1;
}

static int op_delete_role(struct proto_req *req)
{
    store_txn *t;
    struct json_object *r;
    int rc = open_role(req, 1, &t, &r);
    if (rc < 0) return rc;
    const char *name = get_str(r, "RoleName");
    struct profile_role pr = {name, 0};
    each(t, req->caller.account_id, "profile", profile_has_role, &pr);
    if (json_object_array_length(get(r, "attached")) > 0) {
        rc = proto_error(req, ERR_IAM_DELETE_CONFLICT,
                         "Cannot delete entity, must detach all policies first.");
    } else if (json_object_object_length(get(r, "inline")) > 0) {
        rc = proto_error(req, ERR_IAM_DELETE_CONFLICT,
                         "Cannot delete entity, must delete policies first.");
    } else if (pr.found) {
        rc = proto_error(req, ERR_IAM_DELETE_CONFLICT,
                         "Cannot delete entity, must remove roles from instance profile first.");
    } else if (drop(t, req->caller.account_id, "role", name) != 0) {
        rc = fail_store(req);
    } else {
        rc = commit(req, &t);
    }
    store_txn_abort(t);
    json_object_put(r);
    return rc;
}

/* Tags: a list of {Key, Value}; a tag set again replaces its value. */
static int do_tag_role(struct proto_req *req, struct json_object *r)
{
    struct json_object *tags = get(r, "Tags"), *add = in_obj(req, "Tags");
    for (size_t i = 0; add && i < json_object_array_length(add); i++) {
        struct json_object *nt = json_object_array_get_idx(add, i);
        const char *k = get_str(nt, "Key");
        size_t j;
        for (j = 0; j < json_object_array_length(tags); j++)
            if (strcmp(get_str(json_object_array_get_idx(tags, j), "Key"), k) == 0) break;
        if (j < json_object_array_length(tags))
            json_object_array_put_idx(tags, j, json_object_get(nt));
        else
            json_object_array_add(tags, json_object_get(nt));
    }
    if (json_object_array_length(tags) > 50)
        return proto_error(req, ERR_IAM_LIMIT_EXCEEDED,
                           "The number of tags has reached the maximum limit.");
    return 0;
}

static int do_untag_role(struct proto_req *req, struct json_object *r)
{
    struct json_object *tags = get(r, "Tags"), *keys = in_obj(req, "TagKeys");
    for (size_t i = 0; keys && i < json_object_array_length(keys); i++) {
        const char *k = json_object_get_string(json_object_array_get_idx(keys, i));
        for (size_t j = json_object_array_length(tags); j-- > 0;)
            if (strcmp(get_str(json_object_array_get_idx(tags, j), "Key"), k) == 0)
                json_object_array_del_idx(tags, j, 1);
    }
    return 0;
}

static int op_tag_role(struct proto_req *req)
{
    return update_role(req, do_tag_role);
}

static int op_untag_role(struct proto_req *req)
{
    return update_role(req, do_untag_role);
}

static int op_list_role_tags(struct proto_req *req)
{
    struct json_object *r;
    int rc = read_role(req, &r);
    if (rc < 0) return rc;
    struct json_object *tags = get(r, "Tags");
    rc = page_out(req, "Tags", tags ? json_object_get(tags) : json_object_new_array());
    json_object_put(r);
    return rc;
}

/* ---- inline policies ------------------------------------------------------------------------ */

static int do_put_role_policy(struct proto_req *req, struct json_object *r)
{
    const char *doc = in_str(req, "PolicyDocument");
    int rc = check_policy(req, doc, 0);
    if (rc < 0) return rc;
    json_object_object_add(get(r, "inline"), in_str(req, "PolicyName"),
                           json_object_new_string(doc));
    return 0;
}

static int do_delete_role_policy(struct proto_req *req, struct json_object *r)
{
    const char *name = in_str(req, "PolicyName");
    if (!get(get(r, "inline"), name))
        return proto_error(req, ERR_IAM_NO_SUCH_ENTITY,
                           "The role policy with name %s cannot be found.", name);
    json_object_object_del(get(r, "inline"), name);
    return 0;
}

static int op_put_role_policy(struct proto_req *req)
{
    return update_role(req, do_put_role_policy);
}

static int op_delete_role_policy(struct proto_req *req)
{
    return update_role(req, do_delete_role_policy);
}

static int op_get_role_policy(struct proto_req *req)
{
    struct json_object *r;
    int rc = read_role(req, &r);
    if (rc < 0) return rc;
    const char *name = in_str(req, "PolicyName");
    struct json_object *doc = get(get(r, "inline"), name);
    if (!doc) {
        rc = proto_error(req, ERR_IAM_NO_SUCH_ENTITY,
                         "The role policy with name %s cannot be found.", name);
    } else {
        req->output = json_object_new_object();
        put_str(req->output, "RoleName", get_str(r, "RoleName"));
        put_str(req->output, "PolicyName", name);
        json_object_object_add(req->output, "PolicyDocument",
                               url_encoded(json_object_get_string(doc)));
    }
    json_object_put(r);
    return rc;
}

static int op_list_role_policies(struct proto_req *req)
{
    struct json_object *r;
    int rc = read_role(req, &r);
    if (rc < 0) return rc;
    struct json_object *names = json_object_new_array();
    json_object_object_foreach(get(r, "inline"), k, v)
    {
        (void)v;
        json_object_array_add(names, json_object_new_string(k));
    }
    json_object_put(r);
    return page_out(req, "PolicyNames", names);
}

/* ---- attachments ---------------------------------------------------------------------------- */

/* Attaches (attach = 1) or detaches the policy PolicyArn to the role, keeping the customer
 * policy's AttachmentCount. */
static int attach(struct proto_req *req, int on)
{
    store_txn *t;
    struct json_object *r, *p = NULL;
    const char *acct = req->caller.account_id, *arn = in_str(req, "PolicyArn");
    int rc = open_role(req, 1, &t, &r);
    if (rc < 0) return rc;
    p = find_policy(t, acct, arn);
    struct json_object *att = get(r, "attached");
    size_t i, n = json_object_array_length(att);
    for (i = 0; i < n; i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(att, i)), arn) == 0) break;
    if (!p) {
        rc = no_policy(req, arn);
        goto out;
    }
    if (!on && i == n) {
        rc = proto_error(req, ERR_IAM_NO_SUCH_ENTITY, "Policy %s was not found.", arn);
        goto out;
    }
    if (on == (i < n)) goto out; /* attached again: nothing changes */
    if (on)
        json_object_array_add(att, json_object_new_string(arn));
    else
        json_object_array_del_idx(att, i, 1);
    if (!get(p, "aws")) {
        struct json_object *c = get(p, "AttachmentCount");
        json_object_object_add(p, "AttachmentCount",
                               json_object_new_int(json_object_get_int(c) + (on ? 1 : -1)));
        if (save(t, acct, "policy", get_str(p, "PolicyName"), p) != 0) {
            rc = fail_store(req);
            goto out;
        }
    }
    if (save(t, acct, "role", get_str(r, "RoleName"), r) != 0) {
        rc = fail_store(req);
        goto out;
    }
    rc = commit(req, &t);
out:
    store_txn_abort(t);
    json_object_put(r);
    json_object_put(p);
    return rc;
}

static int op_attach_role_policy(struct proto_req *req)
{
    return attach(req, 1);
}

static int op_detach_role_policy(struct proto_req *req)
{
    return attach(req, 0);
}

static int op_list_attached_role_policies(struct proto_req *req)
{
    store_txn *t;
    struct json_object *r;
    int rc = open_role(req, 0, &t, &r);
    if (rc < 0) return rc;
    struct json_object *out = json_object_new_array(), *att = get(r, "attached");
    for (size_t i = 0; i < json_object_array_length(att); i++) {
        const char *arn = json_object_get_string(json_object_array_get_idx(att, i));
        struct json_object *p = find_policy(t, req->caller.account_id, arn);
        struct json_object *e = json_object_new_object();
        const char *slash = strrchr(arn, '/');
        put_str(e, "PolicyName", p ? get_str(p, "PolicyName") : slash ? slash + 1 : arn);
        put_str(e, "PolicyArn", arn);
        json_object_array_add(out, e);
        json_object_put(p);
    }
    store_txn_abort(t);
    json_object_put(r);
    return page_out(req, "AttachedPolicies", out);
}

/* ---- managed policies ----------------------------------------------------------------------- */

static int op_create_policy(struct proto_req *req)
{
    int rc;
    store_txn *t = NULL;
    struct json_object *p = NULL;
    const char *acct = req->caller.account_id, *name = in_str(req, "PolicyName");
    const char *doc = in_str(req, "PolicyDocument"), *path = path_or_root(req);
    if ((rc = path_ok(req, path)) < 0 || (rc = check_policy(req, doc, 0)) < 0) goto out;
    if (store_txn_begin(req->store, 1, &t) != 0) {
        rc = fail_store(req);
        goto out;
    }
    if ((p = load(t, acct, "policy", name))) {
        rc = proto_error(req, ERR_IAM_ENTITY_EXISTS,
                         "A policy called %s already exists. Duplicate names are not allowed.",
                         name);
        goto out;
    }
    char id[22], when[32];
    unique_id(id, "ANPA");
    now_iso(when);
    p = json_object_new_object();
    put_str(p, "PolicyName", name);
    put_str(p, "PolicyId", id);
    json_object_object_add(p, "Arn",
                           json_object_new_string(proto_arena_printf(
                               req->arena, "arn:aws:iam::%s:policy%s%s", acct, path, name)));
    put_str(p, "Path", path);
    put_str(p, "DefaultVersionId", "v1");
    json_object_object_add(p, "AttachmentCount", json_object_new_int(0));
    json_object_object_add(p, "PermissionsBoundaryUsageCount", json_object_new_int(0));
    json_object_object_add(p, "IsAttachable", json_object_new_boolean(1));
    put_str(p, "Description", in_str(req, "Description"));
    put_str(p, "CreateDate", when);
    put_str(p, "UpdateDate", when);
    struct json_object *tags = in_obj(req, "Tags");
    json_object_object_add(p, "Tags", tags ? json_object_get(tags) : json_object_new_array());
    struct json_object *vs = json_object_new_array(), *v = json_object_new_object();
    put_str(v, "VersionId", "v1");
    put_str(v, "Document", doc);
    put_str(v, "CreateDate", when);
    json_object_array_add(vs, v);
    json_object_object_add(p, "versions", vs);
    json_object_object_add(p, "nextVersion", json_object_new_int(2));
    if (save(t, acct, "policy", name, p) != 0) {
        rc = fail_store(req);
        goto out;
    }
    if ((rc = commit(req, &t)) < 0) goto out;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "Policy", policy_out(p, 1));
out:
    store_txn_abort(t);
    json_object_put(p);
    return rc;
}

/* Opens a transaction and finds the policy PolicyArn. Returns 0 with *t and *p, or an error. */
static int open_policy(struct proto_req *req, int write, store_txn **t, struct json_object **p)
{
    const char *arn = in_str(req, "PolicyArn");
    if (store_txn_begin(req->store, write, t) != 0) return fail_store(req);
    *p = find_policy(*t, req->caller.account_id, arn);
    if (!*p) {
        store_txn_abort(*t);
        *t = NULL;
        return proto_error(req, ERR_IAM_NO_SUCH_ENTITY, "Policy %s was not found.", arn);
    }
    return 0;
}

static int op_get_policy(struct proto_req *req)
{
    store_txn *t;
    struct json_object *p;
    int rc = open_policy(req, 0, &t, &p);
    if (rc < 0) return rc;
    store_txn_abort(t);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "Policy", policy_out(p, 1));
    json_object_put(p);
    return 0;
}

static int op_delete_policy(struct proto_req *req)
{
    store_txn *t;
    struct json_object *p;
    int rc = open_policy(req, 1, &t, &p);
    if (rc < 0) return rc;
    if (get(p, "aws")) {
        rc = proto_error(req, ERR_QUERY_INVALID_PARAMETER_VALUE,
                         "Cannot delete an AWS managed policy.");
    } else if (json_object_get_int(get(p, "AttachmentCount")) > 0) {
        rc = proto_error(req, ERR_IAM_DELETE_CONFLICT,
                         "Cannot delete a policy attached to entities.");
    } else if (json_object_array_length(get(p, "versions")) > 1) {
        rc = proto_error(req, ERR_IAM_DELETE_CONFLICT,
                         "This policy has more than one version. Before you delete a policy, you "
                         "must delete the policy's versions. The default version is deleted with "
                         "the policy.");
    } else if (drop(t, req->caller.account_id, "policy", get_str(p, "PolicyName")) != 0) {
        rc = fail_store(req);
    } else {
        rc = commit(req, &t);
    }
    store_txn_abort(t);
    json_object_put(p);
    return rc;
}

static int op_list_policies(struct proto_req *req)
{
    const char *scope = in_str(req, "Scope");
    struct json_object *oa = in_obj(req, "OnlyAttached");
    struct list_ctx l = {json_object_new_array(), in_str(req, "PathPrefix"), 1,
                         oa && json_object_get_boolean(oa)};
    if (!scope || strcmp(scope, "Local") != 0)
        for (size_t i = 0; i < N_AWS_POLICIES && !l.only_attached; i++) {
            struct json_object *p = aws_policy(i);
            list_one(p, &l);
            json_object_put(p);
        }
    if (!scope || strcmp(scope, "AWS") != 0) {
        store_txn *t;
        if (store_txn_begin(req->store, 0, &t) != 0) {
            json_object_put(l.arr);
            return fail_store(req);
        }
        each(t, req->caller.account_id, "policy", list_one, &l);
        store_txn_abort(t);
    }
    return page_out(req, "Policies", l.arr);
}

static struct json_object *find_version(struct json_object *p, const char *id, size_t *idx)
{
    struct json_object *vs = get(p, "versions");
    for (size_t i = 0; id && i < json_object_array_length(vs); i++) {
        struct json_object *v = json_object_array_get_idx(vs, i);
        if (strcmp(get_str(v, "VersionId"), id) == 0) {
            if (idx) *idx = i;
            return v;
        }
    }
    return NULL;
}

static int no_version(struct proto_req *req, const char *arn, const char *id)
{
    return proto_error(req, ERR_IAM_NO_SUCH_ENTITY,
                       "Policy %s version %s does not exist or is not attachable.", arn,
                       id ? id : "");
}

static int customer_only(struct proto_req *req, struct json_object *p)
{
    if (!get(p, "aws")) return 0;
    return proto_error(req, ERR_QUERY_INVALID_PARAMETER_VALUE,
                       "Policy %s is an AWS managed policy and cannot be changed.",
                       get_str(p, "Arn"));
}

static int op_create_policy_version(struct proto_req *req)
{
    store_txn *t;
    struct json_object *p;
    const char *doc = in_str(req, "PolicyDocument");
    int rc = check_policy(req, doc, 0);
    if (rc < 0) return rc;
    if ((rc = open_policy(req, 1, &t, &p)) < 0) return rc;
    if ((rc = customer_only(req, p)) < 0) goto out;
    struct json_object *vs = get(p, "versions");
    if (json_object_array_length(vs) >= IAM_MAX_POLICY_VERSIONS) {
        rc = proto_error(req, ERR_IAM_LIMIT_EXCEEDED,
                         "A managed policy can have up to %d versions. Before you create a new "
                         "version, you must delete an existing version.",
                         IAM_MAX_POLICY_VERSIONS);
        goto out;
    }
    int next = json_object_get_int(get(p, "nextVersion"));
    char id[16], when[32];
    snprintf(id, sizeof id, "v%d", next);
    now_iso(when);
    struct json_object *v = json_object_new_object();
    put_str(v, "VersionId", id);
    put_str(v, "Document", doc);
    put_str(v, "CreateDate", when);
    json_object_array_add(vs, v);
    json_object_object_add(p, "nextVersion", json_object_new_int(next + 1));
    struct json_object *def = in_obj(req, "SetAsDefault");
    if (def && json_object_get_boolean(def)) put_str(p, "DefaultVersionId", id);
    put_str(p, "UpdateDate", when);
    if (save(t, req->caller.account_id, "policy", get_str(p, "PolicyName"), p) != 0) {
        rc = fail_store(req);
        goto out;
    }
    if ((rc = commit(req, &t)) < 0) goto out;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "PolicyVersion", version_out(p, v, 0));
out:
    store_txn_abort(t);
    json_object_put(p);
    return rc;
}

static int op_get_policy_version(struct proto_req *req)
{
    store_txn *t;
    struct json_object *p;
    int rc = open_policy(req, 0, &t, &p);
    if (rc < 0) return rc;
    store_txn_abort(t);
    struct json_object *v = find_version(p, in_str(req, "VersionId"), NULL);
    if (!v) {
        rc = no_version(req, get_str(p, "Arn"), in_str(req, "VersionId"));
    } else {
        req->output = json_object_new_object();
        json_object_object_add(req->output, "PolicyVersion", version_out(p, v, 1));
    }
    json_object_put(p);
    return rc;
}

static int op_list_policy_versions(struct proto_req *req)
{
    store_txn *t;
    struct json_object *p;
    int rc = open_policy(req, 0, &t, &p);
    if (rc < 0) return rc;
    store_txn_abort(t);
    struct json_object *vs = get(p, "versions"), *out = json_object_new_array();
    for (size_t i = json_object_array_length(vs); i-- > 0;) /* newest first, as AWS lists them */
        json_object_array_add(out, version_out(p, json_object_array_get_idx(vs, i), 0));
    json_object_put(p);
    return page_out(req, "Versions", out);
}

static int op_delete_policy_version(struct proto_req *req)
{
    store_txn *t;
    struct json_object *p;
    int rc = open_policy(req, 1, &t, &p);
    if (rc < 0) return rc;
    const char *id = in_str(req, "VersionId");
    size_t idx = 0;
    if ((rc = customer_only(req, p)) < 0) goto out;
    if (!find_version(p, id, &idx)) {
        rc = no_version(req, get_str(p, "Arn"), id);
        goto out;
    }
    if (strcmp(id, get_str(p, "DefaultVersionId")) == 0) {
        rc = proto_error(req, ERR_IAM_DELETE_CONFLICT,
                         "Cannot delete the default version of a policy.");
        goto out;
    }
    json_object_array_del_idx(get(p, "versions"), idx, 1);
    if (save(t, req->caller.account_id, "policy", get_str(p, "PolicyName"), p) != 0) {
        rc = fail_store(req);
        goto out;
    }
    rc = commit(req, &t);
out:
    store_txn_abort(t);
    json_object_put(p);
    return rc;
}

static int op_set_default_policy_version(struct proto_req *req)
{
    store_txn *t;
    struct json_object *p;
    int rc = open_policy(req, 1, &t, &p);
    if (rc < 0) return rc;
    const char *id = in_str(req, "VersionId");
    if ((rc = customer_only(req, p)) < 0) goto out;
    if (!find_version(p, id, NULL)) {
        rc = no_version(req, get_str(p, "Arn"), id);
        goto out;
    }
    put_str(p, "DefaultVersionId", id);
    if (save(t, req->caller.account_id, "policy", get_str(p, "PolicyName"), p) != 0) {
        rc = fail_store(req);
        goto out;
    }
    rc = commit(req, &t);
out:
    store_txn_abort(t);
    json_object_put(p);
    return rc;
}

/* ---- instance profiles ---------------------------------------------------------------------- */

/* The answer's InstanceProfile: the record with its roles expanded. */
static struct json_object *profile_out(store_txn *t, const char *acct, struct json_object *ip)
{
    struct json_object *o = json_object_new_object();
    copy_member(o, ip, "Path");
    copy_member(o, ip, "InstanceProfileName");
    copy_member(o, ip, "InstanceProfileId");
    copy_member(o, ip, "Arn");
    copy_member(o, ip, "CreateDate");
    struct json_object *roles = json_object_new_array(), *names = get(ip, "roles");
    for (size_t i = 0; names && i < json_object_array_length(names); i++) {
        struct json_object *r =
            load(t, acct, "role", json_object_get_string(json_object_array_get_idx(names, i)));
        if (r) json_object_array_add(roles, role_out(r, 0));
        json_object_put(r);
    }
    json_object_object_add(o, "Roles", roles);
    struct json_object *tags = get(ip, "Tags");
    if (tags && json_object_array_length(tags)) copy_member(o, ip, "Tags");
    return o;
}

static int no_profile(struct proto_req *req, const char *name)
{
    return proto_error(req, ERR_IAM_NO_SUCH_ENTITY, "Instance Profile %s cannot be found.", name);
}

static int op_create_instance_profile(struct proto_req *req)
{
    int rc;
    store_txn *t = NULL;
    struct json_object *ip = NULL;
    const char *acct = req->caller.account_id, *name = in_str(req, "InstanceProfileName");
    const char *path = path_or_root(req);
    if ((rc = path_ok(req, path)) < 0) goto out;
    if (store_txn_begin(req->store, 1, &t) != 0) {
        rc = fail_store(req);
        goto out;
    }
    if ((ip = load(t, acct, "profile", name))) {
        rc = proto_error(req, ERR_IAM_ENTITY_EXISTS, "Instance Profile %s already exists.", name);
        goto out;
    }
    char id[22], when[32];
    unique_id(id, "AIPA");
    now_iso(when);
    ip = json_object_new_object();
    put_str(ip, "Path", path);
    put_str(ip, "InstanceProfileName", name);
    put_str(ip, "InstanceProfileId", id);
    json_object_object_add(
        ip, "Arn",
        json_object_new_string(proto_arena_printf(
            req->arena, "arn:aws:iam::%s:instance-profile%s%s", acct, path, name)));
    put_str(ip, "CreateDate", when);
    struct json_object *tags = in_obj(req, "Tags");
    json_object_object_add(ip, "Tags", tags ? json_object_get(tags) : json_object_new_array());
    json_object_object_add(ip, "roles", json_object_new_array());
    if (save(t, acct, "profile", name, ip) != 0) {
        rc = fail_store(req);
        goto out;
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "InstanceProfile", profile_out(t, acct, ip));
    rc = commit(req, &t);
out:
    store_txn_abort(t);
    json_object_put(ip);
    return rc;
}

static int op_get_instance_profile(struct proto_req *req)
{
    store_txn *t;
    const char *name = in_str(req, "InstanceProfileName");
    if (store_txn_begin(req->store, 0, &t) != 0) return fail_store(req);
    struct json_object *ip = load(t, req->caller.account_id, "profile", name);
    int rc = 0;
    if (!ip) {
        rc = no_profile(req, name);
    } else {
        req->output = json_object_new_object();
        json_object_object_add(req->output, "InstanceProfile",
                               profile_out(t, req->caller.account_id, ip));
    }
    store_txn_abort(t);
    json_object_put(ip);
    return rc;
}

static int op_delete_instance_profile(struct proto_req *req)
{
    store_txn *t;
    const char *name = in_str(req, "InstanceProfileName");
    if (store_txn_begin(req->store, 1, &t) != 0) return fail_store(req);
    struct json_object *ip = load(t, req->caller.account_id, "profile", name);
    int rc;
    if (!ip)
        rc = no_profile(req, name);
    else if (json_object_array_length(get(ip, "roles")) > 0)
        rc = proto_error(req, ERR_IAM_DELETE_CONFLICT,
                         "Cannot delete entity, must remove roles from instance profile first.");
    else if (drop(t, req->caller.account_id, "profile", name) != 0)
        rc = fail_store(req);
    else
        rc = commit(req, &t);
    store_txn_abort(t);
    json_object_put(ip);
    return rc;
}

struct profiles_ctx {
    store_txn *t;
    const char *acct, *role, *prefix;
    struct json_object *arr;
};

static void profile_list_one(struct json_object *ip, void *ctx)
{
    struct profiles_ctx *pc = ctx;
    const char *path = get_str(ip, "Path");
    if (pc->prefix && path && strncmp(path, pc->prefix, strlen(pc->prefix)) != 0) return;
    if (pc->role) {
        struct profile_role pr = {pc->role, 0};
        profile_has_role(ip, &pr);
        if (!pr.found) return;
    }
    json_object_array_add(pc->arr, profile_out(pc->t, pc->acct, ip));
}

static int list_profiles(struct proto_req *req, const char *role)
{
    store_txn *t;
    if (store_txn_begin(req->store, 0, &t) != 0) return fail_store(req);
    if (role) {
        struct json_object *r = load(t, req->caller.account_id, "role", role);
        json_object_put(r);
        if (!r) {
            store_txn_abort(t);
            return no_role(req, role);
        }
    }
    struct profiles_ctx pc = {t, req->caller.account_id, role, in_str(req, "PathPrefix"),
                              json_object_new_array()};
    each(t, req->caller.account_id, "profile", profile_list_one, &pc);
    store_txn_abort(t);
    return page_out(req, "InstanceProfiles", pc.arr);
}

static int op_list_instance_profiles(struct proto_req *req)
{
    return list_profiles(req, NULL);
}

static int op_list_instance_profiles_for_role(struct proto_req *req)
{
    return list_profiles(req, in_str(req, "RoleName"));
}

/* Adds (on = 1) or removes RoleName to or from InstanceProfileName. */
static int profile_role(struct proto_req *req, int on)
{
    store_txn *t;
    const char *acct = req->caller.account_id, *name = in_str(req, "InstanceProfileName");
    const char *role = in_str(req, "RoleName");
    if (store_txn_begin(req->store, 1, &t) != 0) return fail_store(req);
    struct json_object *ip = load(t, acct, "profile", name), *r = load(t, acct, "role", role);
    int rc = 0;
    struct profile_role pr = {role, 0};
    if (ip) profile_has_role(ip, &pr);
    if (!ip) {
        rc = no_profile(req, name);
    } else if (!r) {
        rc = no_role(req, role);
    } else if (on && json_object_array_length(get(ip, "roles")) > 0) {
        rc = proto_error(req, ERR_IAM_LIMIT_EXCEEDED,
                         "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1");
    } else if (!on && !pr.found) {
        rc = proto_error(req, ERR_IAM_NO_SUCH_ENTITY,
                         "The role with name %s cannot be found in instance profile %s.", role,
                         name);
    } else {
        if (on)
            json_object_array_add(get(ip, "roles"), json_object_new_string(role));
        else
            json_object_object_add(ip, "roles", json_object_new_array());
        rc = save(t, acct, "profile", name, ip) != 0 ? fail_store(req) : commit(req, &t);
    }
    store_txn_abort(t);
    json_object_put(ip);
    json_object_put(r);
    return rc;
}

static int op_add_role_to_instance_profile(struct proto_req *req)
{
    return profile_role(req, 1);
}

static int op_remove_role_from_instance_profile(struct proto_req *req)
{
    return profile_role(req, 0);
}

/* ---- the in-process interface --------------------------------------------------------------- */

int iam_role_trusts(store *st, const char *account, const char *role_arn, const char *service)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "arn:aws:iam::%s:role/", account);
    if (!role_arn || strncmp(role_arn, prefix, strlen(prefix)) != 0) return IAM_ENOROLE;
    const char *name = strrchr(role_arn, '/') + 1;
    store_txn *t;
    if (store_txn_begin(st, 0, &t) != 0) return IAM_EIO;
    struct json_object *r = load(t, account, "role", name);
    store_txn_abort(t);
    int rc = IAM_ENOROLE;
    if (r && strcmp(get_str(r, "Arn"), role_arn) == 0)
        rc = trusts(get_str(r, "AssumeRolePolicyDocument"), service);
    json_object_put(r);
    return rc;
}

/* Sorted by name. */
static const struct proto_operation iam_ops[] = {
    {"AddRoleToInstanceProfile", op_add_role_to_instance_profile},
    {"AttachRolePolicy", op_attach_role_policy},
    {"CreateInstanceProfile", op_create_instance_profile},
    {"CreatePolicy", op_create_policy},
    {"CreatePolicyVersion", op_create_policy_version},
    {"CreateRole", op_create_role},
    {"DeleteInstanceProfile", op_delete_instance_profile},
    {"DeletePolicy", op_delete_policy},
    {"DeletePolicyVersion", op_delete_policy_version},
    {"DeleteRole", op_delete_role},
    {"DeleteRolePolicy", op_delete_role_policy},
    {"DetachRolePolicy", op_detach_role_policy},
    {"GetInstanceProfile", op_get_instance_profile},
    {"GetPolicy", op_get_policy},
    {"GetPolicyVersion", op_get_policy_version},
    {"GetRole", op_get_role},
    {"GetRolePolicy", op_get_role_policy},
    {"ListAttachedRolePolicies", op_list_attached_role_policies},
    {"ListInstanceProfiles", op_list_instance_profiles},
    {"ListInstanceProfilesForRole", op_list_instance_profiles_for_role},
    {"ListPolicies", op_list_policies},
    {"ListPolicyVersions", op_list_policy_versions},
    {"ListRolePolicies", op_list_role_policies},
    {"ListRoleTags", op_list_role_tags},
    {"ListRoles", op_list_roles},
    {"PutRolePolicy", op_put_role_policy},
    {"RemoveRoleFromInstanceProfile", op_remove_role_from_instance_profile},
    {"SetDefaultPolicyVersion", op_set_default_policy_version},
    {"TagRole", op_tag_role},
    {"UntagRole", op_untag_role},
    {"UpdateAssumeRolePolicy", op_update_assume_role_policy},
    {"UpdateRole", op_update_role},
    {"UpdateRoleDescription", op_update_role_description},
};

const struct proto_service iam_service = {
    .name = "iam",
    .protocol = PROTO_AWS_QUERY,
    .ops = iam_ops,
    .n_ops = sizeof(iam_ops) / sizeof(iam_ops[0]),
    .model = &proto_model_iam,
    .api_version = "2010-05-08",
    .clock_skew_seconds = 300,
    .rest_dispatch = proto_query_dispatch,
};
