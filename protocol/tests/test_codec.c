/* Unit tests of the arena, strbuf escaping, query decoding, JSON decoding and error bodies. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "protocol/arena.h"
#include "protocol/json.h"
#include "protocol/request.h"
#include "protocol/strbuf.h"
#include "protocol/utf8.h"

static struct proto_req *new_req(const char *body)
{
    static struct proto_req req;
    memset(&req, 0, sizeof(req));
    req.arena = proto_arena_new();
    req.resp_fd = -1;
    strcpy(req.request_id, "11111111-2222-3333-4444-555555555555");
    req.http.body = body;
    req.http.body_len = body ? strlen(body) : 0;
    req.http.query = "";
    return &req;
}

static void free_req(struct proto_req *req)
{
    json_object_put(req->input);
    proto_sb_free(&req->body);
    proto_sb_free(&req->err_extra);
    proto_arena_free(req->arena);
}

Test(proto_arena, allocations_are_zeroed_aligned_and_survive_many_blocks)
{
    proto_arena *a = proto_arena_new();
    char *prev = NULL;
    for (int i = 0; i < 2000; i++) {
        unsigned char *p = proto_arena_alloc(a, (size_t)(i % 97) + 1);
        cr_assert_eq((uintptr_t)p % 16, 0);
        for (int k = 0; k < i % 97 + 1; k++)
            cr_assert_eq(p[k], 0);
        memset(p, 0xAB, (size_t)(i % 97) + 1);
        if (prev) cr_assert_neq((char *)p, prev);
        prev = (char *)p;
    }
    unsigned char *big = proto_arena_alloc(a, 1 << 20);
    cr_assert_eq(big[(1 << 20) - 1], 0);
    cr_assert_str_eq(proto_arena_strdup(a, "hello"), "hello");
    cr_assert_null(proto_arena_strdup(a, NULL));
    cr_assert_str_eq(proto_arena_strndup(a, "hello world", 5), "hello");
    cr_assert_str_eq(proto_arena_printf(a, "%s-%d", "x", 42), "x-42");
    proto_arena_free(a);
    proto_arena_free(NULL);
}

/* A size so large that rounding it up wraps around must not hand back a small block. */
Test(proto_arena, a_size_that_wraps_around_aborts_instead_of_returning_a_small_block,
     .signal = SIGABRT)
{
    proto_arena *a = proto_arena_new();
    unsigned char *p = proto_arena_alloc(a, SIZE_MAX - 3);
    p[100] = 1; /* past the 16 bytes a wrapped size would have given */
    proto_arena_free(a);
}

/* Growing past what a size_t can count must abort (as out of memory does), not wrap the needed
 * size and copy past the buffer, nor double the capacity to 0 forever. */
Test(proto_strbuf, growth_past_size_max_aborts, .signal = SIGABRT, .timeout = 5)
{
    struct proto_sb sb = PROTO_SB_INIT;
    proto_sb_puts(&sb, "abc");
    static const char byte = 'x';
    proto_sb_append(&sb, &byte, SIZE_MAX - 2);
    proto_sb_free(&sb);
}

Test(proto_strbuf, growth_beyond_half_the_address_space_aborts, .signal = SIGABRT, .timeout = 5)
{
    struct proto_sb sb = PROTO_SB_INIT;
    proto_sb_puts(&sb, "abc");
    static const char byte = 'x';
    proto_sb_append(&sb, &byte, SIZE_MAX / 2 + 10);
    proto_sb_free(&sb);
}

Test(proto_strbuf, json_string_escapes_quotes_backslashes_and_controls)
{
    struct proto_sb sb = PROTO_SB_INIT;
    cr_assert_str_eq(proto_sb_str(&sb), "");
    const char in[] = "a\"b\\c\nd\te\x01"
                      "f\0g";
    proto_sb_json_string(&sb, in, sizeof(in) - 1);
    cr_assert_str_eq(sb.buf, "\"a\\\"b\\\\c\\nd\\te\\u0001f\\u0000g\"");
    proto_sb_reset(&sb);
    proto_sb_json_string(&sb, "h\xc3\xa9/", 4);
    cr_assert_str_eq(sb.buf, "\"h\xc3\xa9/\"");
    proto_sb_free(&sb);
}

Test(proto_strbuf, xml_escape_replaces_the_five_specials)
{
    struct proto_sb sb = PROTO_SB_INIT;
    const char *in = "<a href=\"x\">Tom & 'Jerry'</a>";
    proto_sb_xml_escape(&sb, in, strlen(in));
    cr_assert_str_eq(sb.buf, "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;");
    proto_sb_printf(&sb, "|%d", 7);
    cr_assert(strstr(sb.buf, "|7") != NULL);
    proto_sb_free(&sb);
}

Test(proto_req, query_decodes_percent_escapes_and_keeps_plus)
{
    struct proto_req *req = new_req(NULL);
    req->http.query = "prefix=a%2Fb%20c&flag&max-keys=10&x=1+2&bad=%zz&empty=";
    cr_assert_str_eq(proto_req_query(req, "prefix"), "a/b c");
    cr_assert_str_eq(proto_req_query(req, "flag"), "");
    cr_assert_str_eq(proto_req_query(req, "max-keys"), "10");
    cr_assert_str_eq(proto_req_query(req, "x"), "1+2");
    cr_assert_str_eq(proto_req_query(req, "bad"), "%zz");
    cr_assert_str_eq(proto_req_query(req, "empty"), "");
    cr_assert_null(proto_req_query(req, "missing"));
    cr_assert_null(proto_req_query(req, "max"));
    free_req(req);
}

Test(proto_req, the_remote_address_is_formatted_when_first_asked_for)
{
    struct proto_req *req = new_req(NULL);
    cr_assert_str_eq(proto_req_remote_addr(req), ""); /* unknown peer */
    free_req(req);
    req = new_req(NULL);
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)&req->http.remote;
    v4->sin_family = AF_INET;
    v4->sin_addr.s_addr = htonl(0x0a000203);
    cr_assert_str_eq(proto_req_remote_addr(req), "10.0.2.3");
    cr_assert_eq(proto_req_remote_addr(req), proto_req_remote_addr(req)); /* formatted once */
    free_req(req);
    req = new_req(NULL);
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)&req->http.remote;
    v6->sin6_family = AF_INET6;
    v6->sin6_addr = in6addr_loopback;
    cr_assert_str_eq(proto_req_remote_addr(req), "::1");
    free_req(req);
}

Test(proto_json, empty_and_blank_bodies_decode_as_empty_object)
{
    const char *bodies[] = {"", "  \r\n\t", NULL};
    for (int i = 0; i < 3; i++) {
        struct proto_req *req = new_req(bodies[i]);
        cr_assert_eq(proto_json_decode(req), 0);
        cr_assert(json_object_is_type(req->input, json_type_object));
        cr_assert_eq(json_object_object_length(req->input), 0);
        free_req(req);
    }
}

Test(proto_json, decodes_an_object)
{
    struct proto_req *req = new_req(" {\"name\":\"p'NI\\\"\\t\",\"n\":[1,2e3,null,true]} \n");
    cr_assert_eq(proto_json_decode(req), 0, "%s", req->err_message);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(req->input, "name")),
                     "p'NI\"\t");
    free_req(req);
}

static void expect_serialization(const char *body)
{
    struct proto_req *req = new_req(body);
    cr_assert_eq(proto_json_decode(req), -ERR_SERIALIZATION, "body %s", body);
    cr_assert_eq(req->err, ERR_SERIALIZATION);
    cr_assert_null(req->input);
    cr_assert_not_null(req->err_message);
    free_req(req);
}

Test(proto_json, malformed_trailing_non_object_and_deep_bodies_are_serialization_errors)
{
    expect_serialization("{");
    expect_serialization("{\"a\":}");
    expect_serialization("{'a':1}");
    expect_serialization("{\"a\":NaN}");
    expect_serialization("{\"a\":-Infinity}");
    expect_serialization("{\"a\":\"x\ty\"}");
    expect_serialization("{\"a\":1,}");
    expect_serialization("{\"a\":1} x");
    expect_serialization("{\"a\":1}{}");
    expect_serialization("[1,2]");
    expect_serialization("\"str\"");
    expect_serialization("42");
    expect_serialization("null");
    expect_serialization("{\"a\":\"x\xffy\"}");
    expect_serialization("{\"a\":\"\xc3\"}");
    expect_serialization("{\"a\":\"\xed\xa0\x80\"}"); /* a UTF-16 surrogate, encoded */
    expect_serialization("{\"\xfe\":1}");
    char deep[2 * 200 + 1];
    for (int i = 0; i < 200; i++) {
        deep[i] = '[';
        deep[200 + i] = ']';
    }
    deep[400] = '\0';
    expect_serialization(deep);
    char deepobj[6 * 100 + 100 + 1] = "";
    for (int i = 0; i < 100; i++)
        strcat(deepobj, "{\"a\":");
    strcat(deepobj, "1");
    for (int i = 0; i < 100; i++)
        strcat(deepobj, "}");
    expect_serialization(deepobj);
}

Test(proto_json, a_nul_in_an_object_key_is_a_serialization_error_not_a_cut_key)
{
    /* json-c would keep {"a\u0000b":"v"} as the key "a" */
    struct proto_req *req = new_req("{\"tags\":{\"a\\u0000b\":\"v\"}}");
    cr_assert_eq(proto_json_decode(req), -ERR_SERIALIZATION);
    cr_assert_str_eq(req->err_message,
                     "Unexpected character in JSON request body: NUL character in an object key");
    free_req(req);
    expect_serialization("{\"name\\u0000\" : \"x\"}");
    /* in a value, or as an escaped backslash before "u0000", it is not a key's NUL */
    const char *ok[] = {"{\"a\":\"x\\u0000\"}", "{\"a\\\\u0000\":1}", "{\"a\":[\"\\u0000\",1]}"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        req = new_req(ok[i]);
        cr_assert_eq(proto_json_decode(req), 0, "%s: %s", ok[i], req->err_message);
        free_req(req);
    }
}

Test(proto_json, error_body_has_type_and_message)
{
    struct proto_req *req = new_req(NULL);
    cr_assert_eq(proto_error(req, ERR_PIPELINE_NOT_FOUND,
                             "Account '%s' does not have a pipeline "
                             "with name '%s'",
                             "000000000000", "a\"b"),
                 -ERR_PIPELINE_NOT_FOUND);
    proto_json_finish(req);
    cr_assert_eq(req->status, 400);
    cr_assert_str_eq(req->content_type, "application/x-amz-json-1.1");
    cr_assert_str_eq(proto_sb_str(&req->body),
                     "{\"__type\":\"PipelineNotFoundException\",\"message\":\"Account "
                     "'000000000000' does not have a pipeline with name 'a\\\"b'\"}");
    free_req(req);
}

Test(proto_json, success_without_output_is_empty_object_and_output_is_serialised)
{
    struct proto_req *req = new_req(NULL);
    proto_json_finish(req);
    cr_assert_eq(req->status, 200);
    cr_assert_str_eq(proto_sb_str(&req->body), "{}");
    free_req(req);
    req = new_req(NULL);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "url", json_object_new_string("http://a/b"));
    proto_json_finish(req);
    cr_assert_str_eq(proto_sb_str(&req->body), "{\"url\":\"http://a/b\"}");
    json_object_put(req->output);
    free_req(req);
}

Test(proto_xml, error_document_is_escaped_and_carries_request_id)
{
    struct proto_req *req = new_req(NULL);
    proto_error(req, ERR_S3_NO_SUCH_KEY, "The specified key does not exist.");
    proto_sb_puts(&req->err_extra, "<Key>a&amp;b</Key>");
    proto_xml_error_finish(req);
    cr_assert_eq(req->status, 404);
    cr_assert_str_eq(req->content_type, "application/xml");
    cr_assert_eq(req->resp_fd, -1);
    cr_assert_str_eq(proto_sb_str(&req->body),
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
                     "<Message>The specified key does not exist.</Message><Key>a&amp;b</Key>"
                     "<RequestId>11111111-2222-3333-4444-555555555555</RequestId>"
                     "<HostId>11111111-2222-3333-4444-555555555555</HostId></Error>");
    free_req(req);
    req = new_req(NULL);
    proto_error(req, ERR_S3_INVALID_ARGUMENT, "a<b & 'c'");
    proto_xml_error_finish(req);
    cr_assert_eq(req->status, 400);
    cr_assert(strstr(proto_sb_str(&req->body), "<Message>a&lt;b &amp; &apos;c&apos;</Message>"));
    free_req(req);
}

Test(proto_xml, error_after_a_file_body_was_chosen_closes_the_file)
{
    /* A handler that opened the object's file and then failed: the error document replaces the
     * file, whose descriptor the request owns (the server closes only a file it sends). */
    struct proto_req *req = new_req(NULL);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    req->resp_fd = fd;
    req->resp_fd_len = 10;
    proto_error(req, ERR_S3_INVALID_RANGE, "The requested range is not satisfiable");
    proto_xml_error_finish(req);
    cr_assert_eq(req->resp_fd, -1);
    errno = 0;
    cr_assert_eq(fcntl(fd, F_GETFD), -1, "the file body was dropped without closing it");
    cr_assert_eq(errno, EBADF);
    free_req(req);
}

Test(proto_strbuf, xml_escape_writes_control_characters_as_references)
{
    struct proto_sb sb = PROTO_SB_INIT;
    const char in[] = "a\x01"
                      "b\tc\nd\x1f";
    proto_sb_xml_escape(&sb, in, sizeof(in) - 1);
    cr_assert_str_eq(proto_sb_str(&sb), "a&#x1;b\tc\nd&#x1F;");
    proto_sb_free(&sb);
}

Test(proto_utf8, check_finds_the_first_invalid_byte_and_sanitize_replaces_each)
{
    cr_assert_eq(proto_utf8_check("a\xc3\xa9\xf0\x9f\x98\x80", 7), 7);
    cr_assert_eq(proto_utf8_check("ab\xff", 3), 2);
    cr_assert_eq(proto_utf8_check("\xc0\xaf", 2), 0);         /* overlong '/' */
    cr_assert_eq(proto_utf8_check("x\xed\xa0\x80", 4), 1);    /* surrogate */
    cr_assert_eq(proto_utf8_check("\xf4\x90\x80\x80", 4), 0); /* above U+10FFFF */
    cr_assert_eq(proto_utf8_check("\xe2\x82", 2), 0);         /* cut */
    proto_arena *a = proto_arena_new();
    const char *ok = "fine";
    cr_assert_eq(proto_utf8_sanitize(a, ok, 4), ok);
    cr_assert_str_eq(proto_utf8_sanitize(a,
                                         "a\xff"
                                         "b\xc3",
                                         4),
                     "a\xef\xbf\xbd"
                     "b\xef\xbf\xbd");
    proto_arena_free(a);
}

Test(proto_utf8, check_finds_a_bad_byte_or_a_cut_sequence_at_any_offset_of_a_long_ascii_text)
{
    /* The scan steps over ASCII 16 bytes at a time: a byte at any offset, before, in or after a
     * step, and a sequence that straddles two steps, are seen as the byte loop sees them. */
    char buf[80];
    for (size_t at = 0; at < 64; at++) {
        memset(buf, 'a', sizeof buf);
        buf[at] = '\xff';
        cr_assert_eq(proto_utf8_check(buf, sizeof buf), at, "0xff at %zu", at);
        memset(buf, 'a', sizeof buf);
        memcpy(buf + at, "\xe2\x82\xac", 3); /* a valid euro sign */
        cr_assert_eq(proto_utf8_check(buf, sizeof buf), sizeof buf, "euro at %zu", at);
        cr_assert_eq(proto_utf8_check(buf, at + 2), at, "euro cut at %zu", at);
        buf[at + 1] = 'x'; /* a lead byte without its continuation */
        cr_assert_eq(proto_utf8_check(buf, sizeof buf), at, "broken euro at %zu", at);
    }
}

Test(proto_json, escaped_lone_surrogates_never_decode_to_invalid_utf8)
{
    struct proto_req *req = new_req("{\"a\":\"x\\ud800y\\udc00\"}");
    if (proto_json_decode(req) == 0) {
        const char *s = json_object_get_string(json_object_object_get(req->input, "a"));
        cr_assert_eq(proto_utf8_check(s, strlen(s)), strlen(s), "%s", s);
    }
    free_req(req);
}

Test(proto_json, answers_and_errors_are_always_valid_utf8)
{
    struct proto_req *req = new_req(NULL);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "message", json_object_new_string("caf\xe9 \xff"));
    proto_json_finish(req);
    cr_assert_str_eq(proto_sb_str(&req->body), "{\"message\":\"caf\xef\xbf\xbd \xef\xbf\xbd\"}");
    json_object_put(req->output);
    free_req(req);

    req = new_req(NULL);
    proto_error(req, ERR_VALIDATION, "path '%s' is not valid", "a\x80");
    proto_json_finish(req);
    cr_assert_not_null(strstr(proto_sb_str(&req->body), "'a\xef\xbf\xbd'"));
    free_req(req);

    req = new_req(NULL);
    proto_error(req, ERR_VALIDATION, "key '%s'", "k\xfe");
    proto_xml_error_finish(req);
    cr_assert_not_null(strstr(proto_sb_str(&req->body), "k\xef\xbf\xbd"));
    free_req(req);
}

Test(proto_xml, success_documents_are_valid_utf8_and_object_bytes_are_untouched)
{
    struct proto_req *req = new_req(NULL);
    req->content_type = "application/xml";
    proto_sb_puts(&req->body, "<ListBucketResult><Key>k\xff</Key></ListBucketResult>");
    proto_xml_finish(req);
    cr_assert_eq(req->status, 200);
    cr_assert_str_eq(proto_sb_str(&req->body),
                     "<ListBucketResult><Key>k\xef\xbf\xbd</Key></ListBucketResult>");
    free_req(req);

    /* an object's own bytes, whatever their content type */
    req = new_req(NULL);
    req->content_type = "binary/octet-stream";
    proto_sb_puts(&req->body, "\xff\xfe");
    proto_xml_finish(req);
    cr_assert_str_eq(proto_sb_str(&req->body), "\xff\xfe");
    free_req(req);

    req = new_req(NULL);
    proto_error(req, ERR_S3_NO_SUCH_KEY, "key '%s'", "k\xfe");
    proto_xml_finish(req);
    cr_assert_eq(req->status, 404);
    cr_assert_not_null(strstr(proto_sb_str(&req->body), "k\xef\xbf\xbd"));
    free_req(req);
}
