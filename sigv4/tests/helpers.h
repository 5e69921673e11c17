/* Shared helpers of the sigv4 tests: suite file parsing, a reference signer and an emit sink. */
#ifndef SIGV4_TESTS_HELPERS_H
#define SIGV4_TESTS_HELPERS_H

#include <stddef.h>
#include <time.h>

#include "sigv4/canonical.h"
#include "sigv4/sigv4.h"

/* A request parsed from a suite file; everything owned by the struct. */
struct th_request {
    char *method, *path, *query;
    struct sigv4_header headers[64];
    size_t n_headers;
    char *body;
    size_t body_len;
    char sig[65];
};

/* Returns the file's bytes (malloc'd, NUL-terminated) and its length, or NULL. */
char *th_read_file(const char *path, size_t *len);
/* Parses "METHOD PATH[?QUERY] HTTP/1.1\nName:Value\n...\n\nbody". Returns 0 or -1. */
int th_parse_request(const char *raw, size_t n, struct th_request *r);
void th_request_free(struct th_request *r);
/* Returns the SignedHeaders of the request's Authorization header or X-Amz-SignedHeaders
 * (malloc'd). */
char *th_signed_headers(struct th_request *r);
/* Returns the signature the request carries (owned by r). */
const char *th_provided_signature(struct th_request *r);
/* Parses "2015-08-30T12:36:00Z". */
time_t th_iso_to_time(const char *iso);

/* Replaces out's contents with f's details in order as "<Name>value</Name>" (values unescaped,
 * byte details as space-separated hex pairs), to compare them as one string. */
void th_details(const struct sigv4_failure *f, struct sigv4_sb *out);
/* Returns the name of kind ("SIGV4_F_BAD_SCOPE"), for messages. */
const char *th_kind_name(enum sigv4_fail_kind kind);

/* Runs sigv4_verify on in with the headers h[0..n) into *out and *fail (its last refusal freed
 * first), sets *msg to the refusal's message and *extra to its details as th_details writes them,
 * asserts that the return code agrees with the kind, and returns the kind (SIGV4_OK: accepted). */
enum sigv4_fail_kind th_verify(const sigv4_creds *creds, struct sigv4_input *in,
                               const struct sigv4_header *h, size_t n, struct sigv4_auth *out,
                               struct sigv4_failure *fail, const char **msg,
                               struct sigv4_sb *extra);

/* Asserts that verify(r), the test file's own wrapper of th_verify, refuses r with kind and
 * exactly the message text (r->msg). */
#define TH_EXPECT_ERR(r, kind, text)                                                               \
    do {                                                                                           \
        enum sigv4_fail_kind k_ = verify(r);                                                       \
        cr_assert_eq(k_, (kind), "got %s: %s", th_kind_name(k_), (r)->msg ? (r)->msg : "");        \
        cr_expect_str_eq((r)->msg, text);                                                          \
    } while (0)

/* Counts emitted bytes and how many are not 'a'. */
struct th_sink {
    size_t total, non_a;
};
int th_sink_emit(void *ctx, const char *data, size_t len);

/* Returns the lower-hex signature of a request signed with the given parameters (static buffer). */
const char *th_sign(const char *secret, const char *date, const char *region, const char *service,
                    const char *method, const char *path, enum sigv4_path_mode mode,
                    const char *query, int qflags, const struct sigv4_header *h, size_t n,
                    const char *signed_headers, const char *payload);

#endif
