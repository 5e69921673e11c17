/* STS: GetCallerIdentity, AssumeRole and GetSessionToken, with temporary credentials kept in LMDB
 * (they survive a restart until they expire) and resolved for sigv4/ by access key. */
#include "providers/sts/sts.h"

#include <json-c/json.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ids.h"
#include "protocol/model.h"
#include "protocol/query.h"
#include "sigv4/sigv4.h"

#define STS_DEFAULT_ROLE_SECONDS    3600
#define STS_DEFAULT_SESSION_SECONDS 43200

/* Writes n random characters of alphabet into out, then a NUL. */
static void random_chars(char *out, int n, const char *alphabet)
{
    unsigned char buf[512];
    size_t k = strlen(alphabet);
    if (n > (int)sizeof(buf) || RAND_bytes(buf, n) != 1) abort();
    for (int i = 0; i < n; i++)
        out[i] = alphabet[buf[i] % k];
    out[n] = '\0';
}

static const char UPPER32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A test knob: CPL_STS_TEST_EXPIRY_SECONDS=N makes every credential issued expire N seconds
 * after issue whatever its DurationSeconds (which AWS bounds below at 900), so that tests see an
 * expiry without waiting a quarter of an hour. */
static long effective_duration(long asked)
{
    const char *e = getenv("CPL_STS_TEST_EXPIRY_SECONDS");
    long n = e ? strtol(e, NULL, 10) : 0;
    return n > 0 ? n : asked;
}

/* The record of a new temporary key: the key id, secret and token made here, the rest given. */
static struct json_object *new_record(const char *account, const char *arn, const char *user_id,
                                      long duration, char akid[21], char secret[41],
                                      char token[STS_TOKEN_MAX], time_t *expiration)
{
    memcpy(akid, "ASIA", 4);
    random_chars(akid + 4, 16, UPPER32);
    random_chars(secret, 40, B64);
    memcpy(token, "IQoJb3JpZ2luX2VjE", 17); /* the prefix AWS session tokens carry */
    random_chars(token + 17, 300, B64);
    *expiration = time(NULL) + effective_duration(duration);
    struct json_object *rec = json_object_new_object();
    json_object_object_add(rec, "secret", json_object_new_string(secret));
    json_object_object_add(rec, "token", json_object_new_string(token));
    json_object_object_add(rec, "account", json_object_new_string(account));
    json_object_object_add(rec, "expiration", json_object_new_int64((int64_t)*expiration));
    json_object_object_add(rec, "arn", json_object_new_string(arn));
    json_object_object_add(rec, "userId", json_object_new_string(user_id));
    return rec;
}

int sts_issue_in(store_txn *t, const char *account, const char *arn, const char *user_id,
                 long duration, char akid[21], char secret[41], char token[STS_TOKEN_MAX],
                 time_t *expiration)
{
    struct json_object *rec =
        new_record(account, arn, user_id, duration, akid, secret, token, expiration);
    size_t len;
    const char *s = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN, &len);
    int rc = store_put(t, STORE_DB_STS_CREDS, akid, 20, s, len);
    json_object_put(rec);
    return rc;
}

int sts_issue(store *st, const char *account, const char *arn, const char *user_id, long duration,
              char akid[21], char secret[41], char token[STS_TOKEN_MAX], time_t *expiration)
{
    store_txn *t = NULL;
    int rc = store_txn_begin(st, 1, &t);
    if (rc) goto out;
    rc = sts_issue_in(t, account, arn, user_id, duration, akid, secret, token, expiration);
    if (rc) goto out;
    rc = store_txn_commit(t);
    t = NULL;
out:
    store_txn_abort(t);
    return rc;
}

/* Returns the stored record of a temporary key (caller puts it), or NULL. */
static struct json_object *read_record(store *st, const char *akid)
{
    store_txn *t = NULL;
    const void *v;
    size_t vlen;
    struct json_object *rec = NULL;
    if (!st || store_txn_begin(st, 0, &t) != 0) return NULL;
    if (store_get(t, STORE_DB_STS_CREDS, akid, strlen(akid), &v, &vlen) == 0) {
        struct json_tokener *tok = json_tokener_new();
        rec = json_tokener_parse_ex(tok, v, (int)vlen);
        json_tokener_free(tok);
    }
    store_txn_abort(t);
    return rec;
}

static const char *rec_str(struct json_object *rec, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(rec, key, &v) ? json_object_get_string(v) : "";
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

/* The credentials store's resolver: temporary keys are the ones this provider issued. */
static int resolve(void *ctx, const char *access_key, struct sigv4_temp_key *out)
{
    struct json_object *rec = read_record(ctx, access_key);
    if (!rec) return 0;
    copy(out->secret, sizeof out->secret, rec_str(rec, "secret"));
    copy(out->account_id, sizeof out->account_id, rec_str(rec, "account"));
    copy(out->session_token, sizeof out->session_token, rec_str(rec, "token"));
    struct json_object *e;
    out->expiration =
        json_object_object_get_ex(rec, "expiration", &e) ? (time_t)json_object_get_int64(e) : 0;
    json_object_put(rec);
    return 1;
}

/* Removes the credentials that expired more than a day ago (a restart is a good moment). */
static void sweep(store *st)
{
    store_txn *t = NULL;
    store_cursor *c = NULL;
    time_t now = time(NULL);
    if (store_txn_begin(st, 1, &t) != 0) return;
    if (store_cursor_open(t, STORE_DB_STS_CREDS, &c) != 0) goto out;
    char dead[64][32];
    int n = 0;
    for (int rc = store_cursor_seek(c, NULL, 0); rc == 0 && n < 64; rc = store_cursor_next(c)) {
        const void *k, *v;
        size_t klen, vlen;
        store_cursor_get(c, &k, &klen, &v, &vlen);
        struct json_tokener *tok = json_tokener_new();
        struct json_object *rec = json_tokener_parse_ex(tok, v, (int)vlen);
        json_tokener_free(tok);
        struct json_object *e;
        if (klen < sizeof dead[0] && rec && json_object_object_get_ex(rec, "expiration", &e) &&
            json_object_get_int64(e) + 86400 < now) {
            memcpy(dead[n], k, klen);
            dead[n++][klen] = '\0';
        }
        json_object_put(rec);
    }
    store_cursor_close(c);
    for (int i = 0; i < n; i++)
        store_del(t, STORE_DB_STS_CREDS, dead[i], strlen(dead[i]));
    store_txn_commit(t);
    t = NULL;
out:
    store_txn_abort(t);
}

static int sts_start(store *st, const struct proto_service_config *cfg, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    sweep(st);
    sigv4_creds_set_resolver(cfg->creds, resolve, st);
    return 0;
}

static void sts_stop(double deadline)
{
    (void)deadline;
}

/* ---- operations ----------------------------------------------------------------------------- */

static const char *in_str(struct proto_req *req, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(req->input, key, &v) ? json_object_get_string(v) : NULL;
}

static long in_long(struct proto_req *req, const char *key, long dflt)
{
    struct json_object *v;
    return json_object_object_get_ex(req->input, key, &v) ? (long)json_object_get_int64(v) : dflt;
}

static void put_str(struct json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, json_object_new_string(v));
}

/* AWS's timestamps in STS answers: seconds, no fraction ("2026-12-02T05:41:40Z"). */
static void iso_seconds(char out[32], time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static struct json_object *credentials_json(const char *akid, const char *secret, const char *token,
                                            time_t expiration)
{
    char when[32];
    iso_seconds(when, expiration);
    struct json_object *c = json_object_new_object();
    put_str(c, "AccessKeyId", akid);
    put_str(c, "SecretAccessKey", secret);
    put_str(c, "SessionToken", token);
    put_str(c, "Expiration", when);
    return c;
}

static int op_get_caller_identity(struct proto_req *req)
{
    const char *key = req->caller.access_key ? req->caller.access_key : "";
    const char *account = req->caller.account_id;
    struct json_object *out = json_object_new_object();
    struct json_object *rec = strncmp(key, "ASIA", 4) == 0 ? read_record(req->store, key) : NULL;
    if (rec) {
        put_str(out, "UserId", rec_str(rec, "userId"));
        put_str(out, "Account", rec_str(rec, "account"));
        put_str(out, "Arn", rec_str(rec, "arn"));
        json_object_put(rec);
    } else {
        /* A long-term key of this emulator is its account's root user, as LocalStack's are. */
        put_str(out, "UserId", account);
        put_str(out, "Account", account);
        json_object_object_add(out, "Arn",
                               json_object_new_string(proto_arena_printf(
                                   req->arena, "arn:aws:iam::%s:root", account)));
    }
    req->output = out;
    return 0;
}

/* A RoleId-like id for a role ARN: "AROA" and 17 characters derived from the ARN, so that the
 * same role always gets the same id. */
static void role_id_for(const char *arn, char out[22])
{
    unsigned long long h = 1469598103934665603ULL;
    for (const char *p = arn; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    memcpy(out, "AROA", 4);
    for (int i = 0; i < 17; i++) {
        out[4 + i] = UPPER32[h % 32];
        h = h / 32 ^ (h * 2654435761ULL);
    }
    out[21] = '\0';
}

int sts_issue_for_role(store *st, store_txn *t, const char *account, const char *role_arn,
                       const char *session, long duration, struct sts_temp_creds *out)
{
    /* "arn:aws:iam::<account>:role/<path/>name": the name is what follows the last slash */
    const char *res = role_arn ? strstr(role_arn, ":role/") : NULL;
    const char *name = res && !strncmp(role_arn, "arn:", 4) ? strrchr(res, '/') + 1 : NULL;
    char arn[600], user_id[200], role_id[22];
    if (name && *name) {
        role_id_for(role_arn, role_id);
        snprintf(arn, sizeof arn, "arn:aws:sts::%s:assumed-role/%.128s/%.64s", account, name,
                 session);
        snprintf(user_id, sizeof user_id, "%s:%.64s", role_id, session);
    } else {
        snprintf(arn, sizeof arn, "arn:aws:iam::%s:root", account);
        snprintf(user_id, sizeof user_id, "%s", account);
    }
    if (t)
        return sts_issue_in(t, account, arn, user_id, duration, out->access_key, out->secret,
                            out->token, &out->expiration);
    return sts_issue(st, account, arn, user_id, duration, out->access_key, out->secret, out->token,
                     &out->expiration);
}

static int op_assume_role(struct proto_req *req)
{
    const char *arn = in_str(req, "RoleArn");
    const char *session = in_str(req, "RoleSessionName");
    long duration = in_long(req, "DurationSeconds", STS_DEFAULT_ROLE_SECONDS);
    /* arn:aws:iam::<12 digits>:role/<path/>name */
    const char *acct = strncmp(arn, "arn:aws:iam::", 13) == 0 ? arn + 13 : NULL;
    int ok = acct && strlen(acct) > 18 && strncmp(acct + 12, ":role/", 6) == 0;
    for (int i = 0; ok && i < 12; i++)
        ok = acct[i] >= '0' && acct[i] <= '9';
    const char *name = ok ? strrchr(acct + 18, '/') : NULL;
    name = name ? name + 1 : (ok ? acct + 18 : NULL);
    if (!ok || !*name) return proto_error(req, ERR_QUERY_VALIDATION, "%s is invalid", arn);
    char account[13];
    memcpy(account, acct, 12);
    account[12] = '\0';
    char role_id[22];
    role_id_for(arn, role_id);
    const char *user_arn = proto_arena_printf(req->arena, "arn:aws:sts::%s:assumed-role/%s/%s",
                                              account, name, session);
    const char *user_id = proto_arena_printf(req->arena, "%s:%s", role_id, session);
    char akid[21], secret[41], token[STS_TOKEN_MAX];
    time_t exp;
    if (sts_issue(req->store, account, user_arn, user_id, duration, akid, secret, token, &exp))
        return proto_error(req, ERR_INTERNAL_FAILURE, "The credentials could not be stored.");
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "Credentials", credentials_json(akid, secret, token, exp));
    struct json_object *user = json_object_new_object();
    put_str(user, "AssumedRoleId", user_id);
    put_str(user, "Arn", user_arn);
    json_object_object_add(out, "AssumedRoleUser", user);
    req->output = out;
    return 0;
}

static int op_get_session_token(struct proto_req *req)
{
    if (req->auth && req->auth->temporary)
        return proto_error(req, ERR_S3_ACCESS_DENIED,
                           "Cannot call GetSessionToken with session credentials");
    long duration = in_long(req, "DurationSeconds", STS_DEFAULT_SESSION_SECONDS);
    const char *account = req->caller.account_id;
    const char *arn = proto_arena_printf(req->arena, "arn:aws:iam::%s:root", account);
    char akid[21], secret[41], token[STS_TOKEN_MAX];
    time_t exp;
    if (sts_issue(req->store, account, arn, account, duration, akid, secret, token, &exp))
        return proto_error(req, ERR_INTERNAL_FAILURE, "The credentials could not be stored.");
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "Credentials", credentials_json(akid, secret, token, exp));
    req->output = out;
    return 0;
}

static const struct proto_operation sts_ops[] = {
    {"AssumeRole", op_assume_role},
    {"GetCallerIdentity", op_get_caller_identity},
    {"GetSessionToken", op_get_session_token},
};

const struct proto_service sts_service = {
    .name = "sts",
    .protocol = PROTO_AWS_QUERY,
    .ops = sts_ops,
    .n_ops = sizeof(sts_ops) / sizeof(sts_ops[0]),
    .model = &proto_model_sts,
    .api_version = "2011-06-15",
    .clock_skew_seconds = 300,
    .rest_dispatch = proto_query_dispatch,
    .start = sts_start,
    .stop = sts_stop,
};
