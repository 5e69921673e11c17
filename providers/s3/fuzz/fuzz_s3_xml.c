/* libFuzzer target: the S3 XML reader and the handlers that consume XML bodies (DeleteObjects,
 * CompleteMultipartUpload, Tagging, CreateBucketConfiguration, VersioningConfiguration), the Range
 * header, and the query-parameter parsers (max-keys, part numbers, markers, continuation tokens).
 *
 * Input: one selector byte, then "query \x01 header \x01 body" (missing parts are empty). Handlers
 * run on a real store in a temp dir, against buckets made at start. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "persistence/store.h"
#include "providers/s3/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define ACCOUNT "000000000000"

static store *st;
static char upload_id[128];
static char dir[] = "/tmp/cpl-fuzz-s3-XXXXXX";

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Closes the store and removes its temp dir when the fuzzer exits. */
static void cleanup(void)
{
    store_close(st);
    st = NULL;
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Builds a request for method on bucket/key with the given query, one header and body. */
static void req_init(struct proto_req *req, const char *method, const char *query,
                     struct sigv4_header *hdr, size_t n_hdr, const char *body, size_t body_len)
{
    memset(req, 0, sizeof(*req));
    req->arena = proto_arena_new();
    req->http.method = method;
    req->http.path = "/";
    req->http.query = query;
    req->http.host = "127.0.0.1";
    req->http.headers = hdr;
    req->http.n_headers = n_hdr;
    req->http.body = body;
    req->http.body_len = body_len;
    req->caller.account_id = ACCOUNT;
    req->caller.region = "us-east-1";
    req->store = st;
    req->public_host = "127.0.0.1:4566";
    req->resp_fd = -1;
}

static void req_free(struct proto_req *req)
{
    /* a handler that answered must have set no error, and one that failed must say why */
    if (req->resp_fd >= 0) close(req->resp_fd);
    proto_sb_free(&req->body);
    proto_sb_free(&req->err_extra);
    proto_arena_free(req->arena);
}

static void check_rc(const struct proto_req *req, int rc)
{
    if (rc > 0) abort();
    if (rc < 0 && (!req->err_message || req->err == 0)) abort();
}

static void walk(const struct s3_xml_node *n, int depth)
{
    if (depth > S3_XML_MAX_DEPTH + 1) abort();
    for (; n; n = n->next) {
        if (!n->name || !n->text || strlen(n->text) > n->text_len) abort();
        walk(n->child, depth + 1);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    if (!mkdtemp(dir)) abort();
    atexit(cleanup);
    struct store_options o = {.dir = dir, .no_sync = 1, .map_size = 1u << 30};
    if (store_open(&o, &st, err, sizeof(err))) {
        fprintf(stderr, "store_open: %s\n", err);
        abort();
    }
    if (s3_create_bucket_local(st, ACCOUNT, "us-east-1", "fuzz") ||
        s3_create_bucket_local(st, ACCOUNT, "us-east-1", "fuzz-ver"))
        abort();
    static const char *keys[] = {"a", "b/1", "b/2", "c/d/e", "obj", "zz"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (s3_put_object_mem(st, ACCOUNT, "fuzz", keys[i], "0123456789", 10, NULL, NULL)) abort();
    /* an upload for CompleteMultipartUpload and ListParts */
    struct proto_req req;
    struct s3_target tg = {"fuzz", "mp", 2};
    req_init(&req, "POST", "uploads", NULL, 0, NULL, 0);
    if (s3_create_multipart(&req, &tg)) abort();
    const char *p = strstr(req.body.buf, "<UploadId>");
    if (!p || sscanf(p, "<UploadId>%100[^<]", upload_id) != 1) abort();
    req_free(&req);
    return 0;
}

/* Runs one handler on the request built from the fuzz parts. */
static void run(int (*fn)(struct proto_req *, const struct s3_target *), const char *method,
                const char *bucket, const char *key, const char *query, const char *hname,
                const char *hval, const char *body, size_t body_len)
{
    struct proto_req req;
    struct sigv4_header h[1] = {{hname, hval}};
    struct s3_target tg = {bucket, key, key ? strlen(key) : 0};
    req_init(&req, method, query, h, hname ? 1 : 0, body, body_len);
    int rc = fn(&req, &tg);
    check_rc(&req, rc);
    req_free(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20)) return 0;
    unsigned sel = data[0];
    /* split the rest into query, header value and body at the first two \x01 bytes */
    char *buf = malloc(size);
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    size_t n = size - 1;
    char *query = buf, *hval = buf + n, *body = buf + n;
    size_t body_len = 0;
    char *s1 = memchr(buf, '\x01', n);
    if (s1) {
        *s1 = '\0';
        hval = s1 + 1;
        char *s2 = memchr(hval, '\x01', (size_t)(buf + n - hval));
        if (s2) {
            *s2 = '\0';
            body = s2 + 1;
            body_len = (size_t)(buf + n - body);
        }
    }
    char *q2 = NULL;
    switch (sel % 16) {
    case 0: { /* the reader alone, on everything after the selector */
        proto_arena *a = proto_arena_new();
        struct s3_xml_node *root = s3_xml_parse(a, (const char *)data + 1, size - 1);
        if (root) walk(root, 1);
        proto_arena_free(a);
        break;
    }
    case 1:
        run(s3_delete_objects, "POST", "fuzz", NULL, "delete", NULL, NULL, body, body_len);
        break;
    case 2: /* CompleteMultipartUpload on the real upload: fails unless parts match */
        q2 = malloc(strlen(upload_id) + 16);
        sprintf(q2, "uploadId=%s", upload_id);
        run(s3_complete_multipart, "POST", "fuzz", "mp", q2, NULL, NULL, body, body_len);
        break;
    case 3:
        run(s3_put_bucket_tagging, "PUT", "fuzz", NULL, "tagging", NULL, NULL, body, body_len);
        break;
    case 4:
        run(s3_put_object_tagging, "PUT", "fuzz", "obj", "tagging", NULL, NULL, body, body_len);
        break;
    case 5: { /* CreateBucketConfiguration: create then drop a scratch bucket */
        run(s3_create_bucket, "PUT", "fuzz-new", NULL, "", NULL, NULL, body, body_len);
        run(s3_delete_bucket, "DELETE", "fuzz-new", NULL, "", NULL, NULL, NULL, 0);
        break;
    }
    case 6:
        run(s3_put_bucket_versioning, "PUT", "fuzz-ver", NULL, "versioning", NULL, NULL, body,
            body_len);
        break;
    case 7: { /* Range header, pure, against a size taken from the query part */
        uint64_t sz = 0, a = 0, z = 0;
        for (const char *c = query; *c; c++)
            sz = sz * 31 + (unsigned char)*c;
        sz %= 1u << 20;
        int r = s3_parse_range(hval, sz, &a, &z);
        if (r == 1 && (a > z || z >= sz)) abort();
        if (r < -1 || r > 1) abort();
        run(s3_get_object, "GET", "fuzz", "obj", "", "range", hval, NULL, 0);
        break;
    }
    case 8: { /* numbers and tokens, pure */
        uint64_t v;
        if (s3_parse_uint(query, 10000, &v) == 0 && v > 10000) abort();
        if (s3_parse_uint(hval, UINT64_MAX, &v) == 0 && strspn(hval, "0123456789") != strlen(hval))
            abort();
        proto_arena *a = proto_arena_new();
        const char *k;
        size_t kl;
        if (s3_token_decode(a, query, &k, &kl) == 0 && (kl == 0 || kl > S3_MAX_KEY_LEN)) abort();
        size_t dl;
        char *dec = s3_url_decode(a, query, strlen(query), &dl);
        if (dl > strlen(query)) abort();
        (void)s3_utf8_valid(dec, dl);
        (void)s3_utf8_valid(body, body_len);
        proto_arena_free(a);
        break;
    }
    case 9:
        run(s3_list_objects, "GET", "fuzz", NULL, query, NULL, NULL, NULL, 0);
        break;
    case 10:
        run(s3_list_objects_v2, "GET", "fuzz", NULL, query, NULL, NULL, NULL, 0);
        break;
    case 11:
        run(s3_list_object_versions, "GET", "fuzz", NULL, query, NULL, NULL, NULL, 0);
        break;
    case 12:
        run(s3_list_multipart_uploads, "GET", "fuzz", NULL, query, NULL, NULL, NULL, 0);
        break;
    case 13:
        q2 = malloc(strlen(upload_id) + strlen(query) + 16);
        sprintf(q2, "uploadId=%s&%s", upload_id, query);
        run(s3_list_parts, "GET", "fuzz", "mp", q2, NULL, NULL, NULL, 0);
        break;
    case 14: /* GetObject by partNumber (and the other query parameters) */
        run(s3_get_object, "GET", "fuzz", "obj", query, NULL, NULL, NULL, 0);
        break;
    case 15: /* the x-amz-tagging query-string parser */
    {
        struct proto_req req;
        const char *pairs;
        size_t len;
        req_init(&req, "PUT", "", NULL, 0, NULL, 0);
        check_rc(&req, s3_tags_from_query(&req, hval, &pairs, &len, 10));
        req_free(&req);
    } break;
    }
    free(q2);
    free(buf);
    return 0;
}
