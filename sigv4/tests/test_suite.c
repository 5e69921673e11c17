/* Replays every case of the AWS SigV4 test suite (header and presigned forms) and the chunked
 * vectors. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4/canonical.h"
#include "sigv4/tests/helpers.h"

static char *suite_path(const char *rel)
{
    const char *src = getenv("CPL_SOURCE_DIR");
    cr_assert(src, "CPL_SOURCE_DIR must be set (ctest sets it)");
    char *p = NULL;
    cr_assert(asprintf(&p, "%s/sigv4/tests/testsuite/%s", src, rel) > 0);
    return p;
}

static char *case_file(const char *dir, const char *name, size_t *len)
{
    char rel[512];
    snprintf(rel, sizeof rel, "v4/%s/%s", dir, name);
    char *p = suite_path(rel);
    char *data = th_read_file(p, len);
    cr_assert(data, "cannot read %s", p);
    free(p);
    return data;
}

/* Compares a canonical request, string to sign and signature against the case's files. */
static void check_form(const char *dir, const char *form, struct th_request *r, json_object *ctx)
{
    char fname[64];
    size_t n;
    int normalize = json_object_get_boolean(json_object_object_get(ctx, "normalize"));
    enum sigv4_path_mode mode = normalize ? SIGV4_PATH_NORMALIZE : SIGV4_PATH_ENCODE;
    int presigned = strcmp(form, "query") == 0;
    json_object *creds = json_object_object_get(ctx, "credentials");
    const char *akid = json_object_get_string(json_object_object_get(creds, "access_key_id"));
    const char *secret = json_object_get_string(json_object_object_get(creds, "secret_access_key"));
    const char *region = json_object_get_string(json_object_object_get(ctx, "region"));
    const char *service = json_object_get_string(json_object_object_get(ctx, "service"));

    char *signed_headers = th_signed_headers(r);
    cr_assert(signed_headers, "%s/%s: no SignedHeaders", dir, form);
    char body_hash[65];
    sigv4_sha256_hex(r->body, r->body_len, body_hash);

    struct sigv4_sb creq = SIGV4_SB_INIT, sts = SIGV4_SB_INIT;
    sigv4_canonical_request(&creq, r->method, r->path, mode, r->query,
                            presigned ? SIGV4_Q_NO_SIGNATURE : 0, r->headers, r->n_headers,
                            signed_headers, body_hash);
    snprintf(fname, sizeof fname, "%s-canonical-request.txt", form);
    char *want = case_file(dir, fname, &n);
    int creq_ok = strcmp(sigv4_sb_str(&creq), want) == 0;
    /* post-sts-header-after appends the token after signing: it is outside the canonical query. */
    if (!creq_ok && presigned) {
        sigv4_sb_reset(&creq);
        sigv4_canonical_request(&creq, r->method, r->path, mode, r->query,
                                SIGV4_Q_NO_SIGNATURE | SIGV4_Q_NO_TOKEN, r->headers, r->n_headers,
                                signed_headers, body_hash);
        creq_ok = strcmp(sigv4_sb_str(&creq), want) == 0;
    }
    cr_expect(creq_ok, "%s/%s canonical request:\n%s\n---want---\n%s", dir, form,
              sigv4_sb_str(&creq), want);
    free(want);

    char scope[160], date[17];
    const char *ts = json_object_get_string(json_object_object_get(ctx, "timestamp"));
    time_t now = th_iso_to_time(ts);
    sigv4_format_amz_date(now, date);
    snprintf(scope, sizeof scope, "%.8s/%s/%s/aws4_request", date, region, service);
    sigv4_string_to_sign(&sts, date, scope, sigv4_sb_str(&creq), creq.len);
    snprintf(fname, sizeof fname, "%s-string-to-sign.txt", form);
    want = case_file(dir, fname, &n);
    cr_expect_str_eq(sigv4_sb_str(&sts), want, "%s/%s string to sign", dir, form);
    free(want);

    unsigned char key[32];
    char sig[65];
    char d8[9];
    snprintf(d8, sizeof d8, "%.8s", date);
    sigv4_signing_key(secret, d8, region, service, key);
    sigv4_hmac_hex(key, sts.buf, sts.len, sig);
    snprintf(fname, sizeof fname, "%s-signature.txt", form);
    want = case_file(dir, fname, &n);
    cr_expect_str_eq(sig, want, "%s/%s signature", dir, form);
    cr_expect_str_eq(th_provided_signature(r), want, "%s/%s signature in the signed request", dir,
                     form);
    free(want);

    /* The verifier accepts the signed request as the server would see it. */
    sigv4_creds *c = sigv4_creds_new("000000000000");
    cr_assert(c);
    cr_assert_eq(sigv4_creds_add(c, akid, secret, "111122223333"), 0);
    struct sigv4_input in = {
        .method = r->method,
        .path = r->path,
        .query = r->query,
        .headers = r->headers,
        .n_headers = r->n_headers,
        .is_s3 = 0,
        .body_sha256 = body_hash,
        .now = now,
        .clock_skew_seconds = 300,
    };
    struct sigv4_auth out;
    struct sigv4_failure fail = {0};
    int rc = sigv4_verify_mode(c, &in, mode, &out, &fail);
    cr_expect_eq(rc, 0, "%s/%s: verify failed: %s", dir, form, fail.message ? fail.message : "");
    if (rc == 0) {
        cr_expect_str_eq(out.access_key, akid);
        cr_expect_str_eq(out.account_id, "111122223333");
        cr_expect_str_eq(out.region, region);
        cr_expect_str_eq(out.service, service);
        cr_expect_str_eq(out.scope, scope);
        cr_expect_eq(out.presigned, presigned);
    }
    sigv4_failure_free(&fail);
    /* ...and rejects it once one byte of the signed material changes. */
    char tampered[65];
    snprintf(tampered, sizeof tampered, "%s", body_hash);
    tampered[0] = tampered[0] == '0' ? '1' : '0';
    in.body_sha256 = tampered;
    rc = sigv4_verify_mode(c, &in, mode, &out, &fail);
    cr_expect_eq(rc, -1, "%s/%s: tampered body accepted", dir, form);
    cr_expect_eq(fail.kind, SIGV4_F_SIGNATURE_MISMATCH, "%s/%s", dir, form);
    sigv4_failure_free(&fail);
    sigv4_creds_free(c);
    sigv4_sb_free(&creq);
    sigv4_sb_free(&sts);
    free(signed_headers);
}

Test(sigv4_suite, every_v4_case_header_and_query_forms)
{
    char *v4 = suite_path("v4");
    DIR *d = opendir(v4);
    cr_assert(d, "cannot open %s", v4);
    struct dirent *e;
    int cases = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        size_t n;
        char *ctxs = case_file(e->d_name, "context.json", &n);
        json_object *ctx = json_tokener_parse(ctxs);
        cr_assert(ctx, "%s: bad context.json", e->d_name);
        const char *forms[] = {"header", "query"};
        for (int f = 0; f < 2; f++) {
            char fname[64];
            snprintf(fname, sizeof fname, "%s-signed-request.txt", forms[f]);
            char *raw = case_file(e->d_name, fname, &n);
            struct th_request r;
            cr_assert_eq(th_parse_request(raw, n, &r), 0, "%s: cannot parse %s", e->d_name, fname);
            check_form(e->d_name, forms[f], &r, ctx);
            th_request_free(&r);
            free(raw);
        }
        json_object_put(ctx);
        free(ctxs);
        cases++;
    }
    closedir(d);
    free(v4);
    cr_assert_eq(cases, 38, "expected the suite's 38 cases, found %d", cases);
}

/* The canonical URI rules the suite pins down, checked directly. */
Test(sigv4_suite, canonical_uri_rules)
{
    struct {
        const char *path;
        enum sigv4_path_mode mode;
        const char *want;
    } cases[] = {
        {"//example//", SIGV4_PATH_NORMALIZE, "/example/"},
        {"/example1/example2/../..", SIGV4_PATH_NORMALIZE, "/"},
        {"/./example", SIGV4_PATH_NORMALIZE, "/example"},
        {"/a%20b", SIGV4_PATH_NORMALIZE, "/a%2520b"},
        {"/a%20b//c", SIGV4_PATH_RAW, "/a%20b//c"},
        {"", SIGV4_PATH_RAW, "/"},
        {"/example space/", SIGV4_PATH_ENCODE, "/example%20space/"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sigv4_sb sb = SIGV4_SB_INIT;
        sigv4_canonical_uri(&sb, cases[i].path, cases[i].mode);
        cr_expect_str_eq(sigv4_sb_str(&sb), cases[i].want, "path '%s'", cases[i].path);
        sigv4_sb_free(&sb);
    }
}

Test(sigv4_suite, canonical_query_decodes_reencodes_and_sorts)
{
    struct sigv4_sb sb = SIGV4_SB_INIT;
    sigv4_canonical_query(&sb, "b=2&a=x+y&a=%7e&c&sp=a%20b&X-Amz-Signature=zz",
                          SIGV4_Q_NO_SIGNATURE);
    cr_expect_str_eq(sigv4_sb_str(&sb), "a=x%2By&a=~&b=2&c=&sp=a%20b");
    sigv4_sb_free(&sb);
}

Test(sigv4_suite, canonical_headers_trim_fold_and_join_duplicates)
{
    struct sigv4_header h[] = {
        {"host", "localhost:4566"}, {"x-a", "  v1   v2 "}, {"x-b", "b"}, {"x-a", "v3"}};
    struct sigv4_sb sb = SIGV4_SB_INIT;
    sigv4_canonical_headers(&sb, h, 4, "host;x-a");
    cr_expect_str_eq(sigv4_sb_str(&sb), "host:localhost:4566\nx-a:v1 v2,v3\n");
    sigv4_sb_free(&sb);
}

Test(sigv4_suite, canonical_headers_of_blank_values_and_upper_case_names)
{
    struct sigv4_header h[] = {{"host", "h"}, {"x-e", "   "}, {"x-f", ""}, {"x-g", "\tone\t"}};
    struct sigv4_sb sb = SIGV4_SB_INIT;
    sigv4_canonical_headers(&sb, h, 4, "Host;X-E;x-f;X-G");
    cr_expect_str_eq(sigv4_sb_str(&sb), "host:h\nx-e:\nx-f:\nx-g:one\n");
    sigv4_sb_free(&sb);
}

/* The aws-chunked example of the S3 documentation: seed, each chunk and a chained trailer. */
Test(sigv4_suite, chunked_upload_vectors)
{
    size_t n;
    char *p = suite_path("s3-streaming/chunked-upload-vectors.json");
    char *txt = th_read_file(p, &n);
    cr_assert(txt);
    json_object *v = json_tokener_parse(txt);
    cr_assert(v);
    json_object *req = json_object_object_get(v, "request");
    json_object *hdrs = json_object_object_get(req, "headers");
    struct sigv4_header h[16];
    size_t nh = 0;
    json_object_object_foreach(hdrs, k, val)
    {
        h[nh].name = k;
        h[nh].value = json_object_get_string(val);
        nh++;
    }
    const char *authz = json_object_get_string(json_object_object_get(req, "authorization"));
    h[nh].name = "authorization";
    h[nh].value = authz;
    nh++;
    const char *amz = json_object_get_string(json_object_object_get(v, "amz_date"));
    time_t now;
    cr_assert_eq(sigv4_parse_amz_date(amz, &now), 0);
    sigv4_creds *c = sigv4_creds_new("000000000000"); /* holds AKIAIOSFODNN7EXAMPLE by default */
    struct sigv4_input in = {
        .method = json_object_get_string(json_object_object_get(req, "method")),
        .path = json_object_get_string(json_object_object_get(req, "path")),
        .query = "",
        .headers = h,
        .n_headers = nh,
        .is_s3 = 1,
        .now = now,
        .clock_skew_seconds = 900,
    };
    struct sigv4_auth auth;
    struct sigv4_failure fail = {0};
    int rc = sigv4_verify(c, &in, &auth, &fail);
    cr_assert_eq(rc, 0, "seed request rejected: %s", fail.message ? fail.message : "");
    cr_expect_str_eq(auth.signature,
                     json_object_get_string(json_object_object_get(req, "seed_signature")));
    cr_expect_eq(auth.payload, SIGV4_PAYLOAD_STREAMING_SIGNED);

    /* Build the body from the vectors and decode it, once in one piece and once byte by byte. */
    struct sigv4_sb body = SIGV4_SB_INIT;
    json_object *chunks = json_object_object_get(v, "chunks");
    for (size_t i = 0; i < json_object_array_length(chunks); i++) {
        json_object *ch = json_object_array_get_idx(chunks, i);
        int size = json_object_get_int(json_object_object_get(ch, "size"));
        sigv4_sb_printf(&body, "%s;chunk-signature=%s\r\n",
                        json_object_get_string(json_object_object_get(ch, "hex_size")),
                        json_object_get_string(json_object_object_get(ch, "signature")));
        for (int b = 0; b < size; b++)
            sigv4_sb_putc(&body, 'a');
        if (size) sigv4_sb_puts(&body, "\r\n");
    }
    sigv4_sb_puts(&body, "\r\n");
    cr_expect_eq(body.len, 66824, "content-length of the example");

    /* Each chunk signature, computed directly from its string to sign and chained from the seed. */
    char prev[65];
    memcpy(prev, auth.signature, 65);
    for (size_t i = 0; i < json_object_array_length(chunks); i++) {
        json_object *ch = json_object_array_get_idx(chunks, i);
        int size = json_object_get_int(json_object_object_get(ch, "size"));
        char *data = malloc((size_t)size + 1);
        memset(data, 'a', (size_t)size);
        char dh[65], sig[65];
        sigv4_sha256_hex(data, (size_t)size, dh);
        struct sigv4_sb csts = SIGV4_SB_INIT;
        sigv4_sb_printf(&csts, "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s", amz, auth.scope,
                        prev, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                        dh);
        sigv4_hmac_hex(auth.signing_key, csts.buf, csts.len, sig);
        cr_expect_str_eq(sig, json_object_get_string(json_object_object_get(ch, "signature")),
                         "chunk %zu", i);
        memcpy(prev, sig, 65);
        sigv4_sb_free(&csts);
        free(data);
    }
    {
        json_object *tcv = json_object_object_get(v, "trailer_chain_check");
        char th[65], tsig[65];
        const char *canon = "first:1st\nsecond:2nd\nthird:3rd\n";
        sigv4_sha256_hex(canon, strlen(canon), th);
        struct sigv4_sb tsts = SIGV4_SB_INIT;
        sigv4_sb_printf(&tsts, "AWS4-HMAC-SHA256-TRAILER\n%s\n%s\n%s\n%s", amz, auth.scope,
                        json_object_get_string(json_object_object_get(tcv, "previous_signature")),
                        th);
        sigv4_hmac_hex(auth.signing_key, tsts.buf, tsts.len, tsig);
        cr_expect_str_eq(tsig,
                         json_object_get_string(json_object_object_get(tcv, "trailer_signature")));
        cr_expect_str_eq(prev,
                         json_object_get_string(json_object_object_get(tcv, "previous_signature")));
        sigv4_sb_free(&tsts);
    }
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        struct th_sink sink = {0};
        struct sigv4_chunked *d = sigv4_chunked_new(&auth, 66560, NULL);
        cr_assert(d);
        if (bytewise) {
            for (size_t i = 0; i < body.len; i++)
                cr_assert_eq(sigv4_chunked_feed(d, body.buf + i, 1, th_sink_emit, &sink, &fail), 0,
                             "%s", fail.message);
        } else {
            cr_assert_eq(sigv4_chunked_feed(d, body.buf, body.len, th_sink_emit, &sink, &fail), 0,
                         "%s", fail.message);
        }
        cr_assert_eq(sigv4_chunked_finish(d, &fail), 0, "%s", fail.message);
        cr_expect_eq(sink.total, 66560);
        cr_expect_eq(sink.non_a, 0);
        sigv4_chunked_free(d);
    }

    /* Chained trailer signature after the final chunk signature. */
    json_object *tc = json_object_object_get(v, "trailer_chain_check");
    struct sigv4_auth tauth = auth;
    tauth.payload = SIGV4_PAYLOAD_STREAMING_SIGNED_TRAILER;
    struct sigv4_sb tbody = SIGV4_SB_INIT;
    sigv4_sb_append(&tbody, body.buf, body.len - 2); /* drop the final empty line */
    sigv4_sb_printf(&tbody,
                    "first:1st\r\nsecond:2nd\r\nthird:3rd\r\nx-amz-trailer-signature:%s\r\n\r\n",
                    json_object_get_string(json_object_object_get(tc, "trailer_signature")));
    struct th_sink sink = {0};
    struct sigv4_chunked *d = sigv4_chunked_new(&tauth, 66560, "first,second,third");
    cr_assert_eq(sigv4_chunked_feed(d, tbody.buf, tbody.len, th_sink_emit, &sink, &fail), 0, "%s",
                 fail.message);
    cr_assert_eq(sigv4_chunked_finish(d, &fail), 0, "%s", fail.message);
    cr_expect_str_eq(sigv4_chunked_trailer(d, "second"), "2nd");
    sigv4_chunked_free(d);

    /* One changed trailer value breaks the trailer signature. */
    char *bad = strstr(tbody.buf, "2nd");
    bad[0] = '3';
    d = sigv4_chunked_new(&tauth, 66560, NULL);
    rc = sigv4_chunked_feed(d, tbody.buf, tbody.len, th_sink_emit, &sink, &fail);
    if (rc == 0) rc = sigv4_chunked_finish(d, &fail);
    cr_expect_eq(rc, -1);
    cr_expect_eq(fail.kind, SIGV4_F_SIGNATURE_MISMATCH);
    sigv4_chunked_free(d);

    sigv4_failure_free(&fail);
    sigv4_sb_free(&tbody);
    sigv4_sb_free(&body);
    sigv4_creds_free(c);
    json_object_put(v);
    free(txt);
    free(p);
}
