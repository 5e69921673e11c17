/* Requests signed by botocore itself (JSON service, S3 with odd keys and meta headers, presigned
 * URL). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4/canonical.h"
#include "sigv4/tests/helpers.h"

Test(sigv4_botocore, verifies_requests_signed_by_botocore)
{
    char *p = NULL;
    cr_assert(getenv("CPL_SOURCE_DIR"));
    cr_assert(asprintf(&p, "%s/sigv4/tests/botocore-vectors.json", getenv("CPL_SOURCE_DIR")) > 0);
    size_t n;
    char *txt = th_read_file(p, &n);
    cr_assert(txt, "cannot read %s", p);
    json_object *v = json_tokener_parse(txt);
    cr_assert(v);
    time_t now = th_iso_to_time(json_object_get_string(json_object_object_get(v, "now")));
    sigv4_creds *c = sigv4_creds_new("000000000000");
    json_object *reqs = json_object_object_get(v, "requests");
    cr_assert_eq(json_object_array_length(reqs), 4);
    for (size_t i = 0; i < json_object_array_length(reqs); i++) {
        json_object *r = json_object_array_get_idx(reqs, i);
        const char *name = json_object_get_string(json_object_object_get(r, "name"));
        json_object *hs = json_object_object_get(r, "headers");
        struct sigv4_header h[32];
        size_t nh = json_object_array_length(hs);
        cr_assert(nh <= 32);
        for (size_t k = 0; k < nh; k++) {
            json_object *pair = json_object_array_get_idx(hs, k);
            h[k].name = json_object_get_string(json_object_array_get_idx(pair, 0));
            h[k].value = json_object_get_string(json_object_array_get_idx(pair, 1));
        }
        const char *body = json_object_get_string(json_object_object_get(r, "body"));
        char body_sha[65];
        sigv4_sha256_hex(body, strlen(body), body_sha);
        int is_s3 = json_object_get_boolean(json_object_object_get(r, "is_s3"));
        struct sigv4_input in = {
            .method = json_object_get_string(json_object_object_get(r, "method")),
            .path = json_object_get_string(json_object_object_get(r, "path")),
            .query = json_object_get_string(json_object_object_get(r, "query")),
            .headers = h,
            .n_headers = nh,
            .is_s3 = is_s3,
            .body_sha256 = is_s3 ? NULL : body_sha,
            .now = now + 60,
            .clock_skew_seconds = is_s3 ? 900 : 300,
        };
        struct sigv4_auth out;
        struct sigv4_failure fail = {0};
        int rc = sigv4_verify(c, &in, &out, &fail);
        cr_expect_eq(rc, 0, "%s: %s", name, fail.message ? fail.message : "");
        if (rc == 0) {
            cr_expect_str_eq(out.access_key, "AKIAIOSFODNN7EXAMPLE", "%s", name);
            if (is_s3 && !out.presigned) {
                cr_expect_eq(out.payload, SIGV4_PAYLOAD_HASH, "%s", name);
                cr_expect_str_eq(out.payload_hash, body_sha, "%s", name);
            }
        }
        sigv4_failure_free(&fail);
        /* the same request with one changed path byte is rejected */
        char *path2 = NULL;
        cr_assert(asprintf(&path2, "%sx", in.path) > 0);
        in.path = path2;
        rc = sigv4_verify(c, &in, &out, &fail);
        cr_expect_eq(rc, -1, "%s", name);
        cr_expect_eq(fail.kind, SIGV4_F_SIGNATURE_MISMATCH, "%s", name);
        free(path2);
        sigv4_failure_free(&fail);
    }
    sigv4_creds_free(c);
    json_object_put(v);
    free(txt);
    free(p);
}
