/* AWS JSON 1.1 bodies in and out, and S3's XML error document. */
#include "protocol/json.h"

#include <json-c/json.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "protocol/errors.h"
#include "protocol/service.h"
#include "protocol/utf8.h"

#define JSON_MAX_DEPTH 64

/* json-c's strict mode still accepts single-quoted strings, NaN and Infinity, and raw control
 * characters inside strings; JSON (and AWS's parser) does not. json-c also keeps object keys as C
 * strings, so a key holding an escaped NUL ({"a\u0000b":1}) would reach handlers cut to "a": a
 * different request from the one sent. Returns a description of the first such case in the n bytes
 * at s, or NULL when there is none. */
static const char *json_extension(const char *s, size_t n)
{
    int in_str = 0, has_nul = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (in_str) {
            if (c == '\\') {
                if (i + 5 < n && memcmp(s + i + 1, "u0000", 5) == 0) has_nul = 1;
                i++;
            } else if (c == '"') {
                in_str = 0;
                size_t j = i + 1; /* a string followed by ':' is an object key */
                while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n'))
                    j++;
                if (has_nul && j < n && s[j] == ':') return "NUL character in an object key";
            } else if (c < 0x20) {
                return "unescaped control character in a string";
            }
        } else if (c == '"') {
            in_str = 1;
            has_nul = 0;
        } else if (c == '\'') {
            return "single-quoted string";
        } else if (c == 'N' || c == 'I') {
            return "NaN or Infinity is not a JSON number";
        }
    }
    return NULL;
}

/* One tokener per thread, reset per request: creating one allocates its whole parse stack. */
static pthread_key_t tokener_key;
static pthread_once_t tokener_once = PTHREAD_ONCE_INIT;

static void tokener_free(void *tok)
{
    json_tokener_free(tok);
}

static void tokener_key_init(void)
{
    pthread_key_create(&tokener_key, tokener_free);
}

static struct json_tokener *thread_tokener(void)
{
    pthread_once(&tokener_once, tokener_key_init);
    struct json_tokener *tok = pthread_getspecific(tokener_key);
    if (!tok) {
        tok = json_tokener_new_ex(JSON_MAX_DEPTH);
        if (tok && pthread_setspecific(tokener_key, tok) != 0) {
            json_tokener_free(tok);
            tok = NULL;
        }
    }
    return tok;
}

int proto_json_decode(struct proto_req *req)
{
    const char *body = req->http.body ? req->http.body : "";
    size_t len = req->http.body_len;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i == len) {
        req->input = json_object_new_object();
        return 0;
    }
    if (len > (size_t)INT32_MAX)
        return proto_error(req, ERR_SERIALIZATION, "Request body is too large to parse");
    /* Bytes that are not UTF-8 are refused here, as AWS's JSON services refuse them: stored, they
     * would break every later read in clients that decode answers as UTF-8. Our own scan rather
     * than json-c's JSON_TOKENER_VALIDATE_UTF8, which lets encoded UTF-16 surrogates through. */
    size_t bad = proto_utf8_check(body, len);
    if (bad < len)
        return proto_error(req, ERR_SERIALIZATION,
                           "Invalid UTF-8 in the JSON request body at byte offset %zu", bad);
    struct json_tokener *tok = thread_tokener();
    if (!tok) return proto_error(req, ERR_INTERNAL_FAILURE, "out of memory");
    json_tokener_reset(tok);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    struct json_object *obj = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t consumed = json_tokener_get_parse_end(tok);
    const char *ext = obj && jerr == json_tokener_success ? json_extension(body, consumed) : NULL;
    if (ext) {
        json_object_put(obj);
        return proto_error(req, ERR_SERIALIZATION, "Unexpected character in JSON request body: %s",
                           ext);
    }
    if (!obj || jerr != json_tokener_success) {
        json_object_put(obj);
        return proto_error(req, ERR_SERIALIZATION, "Unexpected character in JSON request body: %s",
                           json_tokener_error_desc(jerr));
    }
    for (; consumed < len; consumed++) {
        char c = body[consumed];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            json_object_put(obj);
            return proto_error(req, ERR_SERIALIZATION,
                               "Unexpected trailing content after the JSON request body");
        }
    }
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        return proto_error(req, ERR_SERIALIZATION,
                           "Start of structure or map expected in the JSON request body");
    }
    req->input = obj;
    return 0;
}

void proto_json_finish(struct proto_req *req)
{
    req->content_type = req->service && req->service->json_1_0 ? "application/x-amz-json-1.0"
                                                               : "application/x-amz-json-1.1";
    if (req->err) {
        req->status = proto_err_status(req->err);
        proto_sb_reset(&req->body);
        const char *msg = req->err_message ? req->err_message : "";
        proto_sb_puts(&req->body, "{\"__type\":");
        const char *code = proto_err_code(req->err);
        proto_sb_json_string(&req->body, code, strlen(code));
        proto_sb_puts(&req->body, ",\"message\":");
        proto_sb_json_string(&req->body, msg, strlen(msg));
        proto_sb_putc(&req->body, '}');
        proto_sb_sanitize_utf8(&req->body);
        return;
    }
    if (!req->status) req->status = 200;
    if (req->output) {
        size_t n;
        const char *s = json_object_to_json_string_length(
            req->output, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
        proto_sb_reset(&req->body);
        proto_sb_append(&req->body, s, n);
    } else if (req->body.len == 0) {
        proto_sb_puts(&req->body, "{}");
    }
    /* The one place every JSON answer passes: input is refused when it is not UTF-8, but data
     * that reached the store another way (git pushes with Latin-1 commit messages, author names
     * or paths) may not be. CodeCommit's Java backend decodes such bytes with U+FFFD, so the
     * answer carries U+FFFD where the bytes were invalid; the bytes cannot be JSON syntax
     * (all ASCII), so replacing them in the encoded text is safe. */
    proto_sb_sanitize_utf8(&req->body);
}

void proto_xml_error_begin(struct proto_req *req, const char *content_type, const char *open)
{
    req->content_type = content_type;
    req->status = proto_err_status(req->err);
    /* The error document replaces a file body the handler chose before failing: close it here,
     * as no one else will once resp_fd no longer names it. */
    if (req->resp_fd >= 0) close(req->resp_fd);
    req->resp_fd = -1;
    proto_sb_reset(&req->body);
    const char *code = proto_err_code(req->err);
    const char *msg = req->err_message ? req->err_message : "";
    proto_sb_puts(&req->body, open);
    proto_sb_puts(&req->body, "<Code>");
    proto_sb_xml_escape(&req->body, code, strlen(code));
    proto_sb_puts(&req->body, "</Code><Message>");
    proto_sb_xml_escape(&req->body, msg, strlen(msg));
    proto_sb_puts(&req->body, "</Message>");
}

void proto_xml_error_finish(struct proto_req *req)
{
    proto_xml_error_begin(req, "application/xml",
                          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    if (req->err_extra.len) proto_sb_append(&req->body, req->err_extra.buf, req->err_extra.len);
    proto_sb_puts(&req->body, "<RequestId>");
    proto_sb_puts(&req->body, req->request_id);
    proto_sb_puts(&req->body, "</RequestId><HostId>");
    proto_sb_puts(&req->body, req->request_id);
    proto_sb_puts(&req->body, "</HostId></Error>");
    proto_sb_sanitize_utf8(&req->body); /* messages echo keys and headers */
}

void proto_xml_finish(struct proto_req *req)
{
    if (req->err) {
        proto_xml_error_finish(req);
        return;
    }
    if (!req->status) req->status = 200;
    /* Listings, tagging and attributes echo keys and values that reached the store without a
     * UTF-8 check (keys are any bytes in a URL path): an XML 1.0 document that is not UTF-8 is
     * not well-formed, and SDK parsers refuse the whole answer. */
    if (req->resp_fd < 0 && req->content_type && strcmp(req->content_type, "application/xml") == 0)
        proto_sb_sanitize_utf8(&req->body);
}
