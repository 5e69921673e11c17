/* Judging a call to a webhook URL: GITHUB_HMAC / IP / UNAUTHENTICATED, then the JsonPath filters
 * with "{Key}" references to the target action's configuration. */
#include "providers/codepipeline/webhook_call.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "providers/codepipeline/cp_json.h"

#define MAX_SELECTED 256 /* values one path may select (wildcards) */
#define MAX_EXPANDED 4096

static void say(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || !whylen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

int cp_ip_in_range(const char *ip, const char *cidr)
{
    unsigned char a[16], n[16];
    char net[64];
    const char *slash = cidr ? strchr(cidr, '/') : NULL;
    if (!ip || !slash || (size_t)(slash - cidr) >= sizeof net) return 0;
    memcpy(net, cidr, (size_t)(slash - cidr));
    net[slash - cidr] = '\0';
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    int v6 = strchr(net, ':') != NULL;
    int af = v6 ? AF_INET6 : AF_INET, len = v6 ? 16 : 4;
    if (*end || bits < 0 || bits > len * 8 || inet_pton(af, net, n) != 1) return 0;
    if (inet_pton(af, ip, a) != 1) {
        /* An IPv4 caller seen as IPv4-mapped IPv6 ("::ffff:10.0.0.1") against an IPv4 range. */
        if (v6 || strncasecmp(ip, "::ffff:", 7) != 0 || inet_pton(AF_INET, ip + 7, a) != 1)
            return 0;
    }
    for (long i = 0; i < bits; i++) {
        unsigned char m = (unsigned char)(0x80 >> (i % 8));
        if ((a[i / 8] & m) != (n[i / 8] & m)) return 0;
    }
    return 1;
}

/* Returns 1 when header is "<algo>=<hex of HMAC(secret, body)>" (hex case ignored). */
static int hmac_ok(const char *header, const char *prefix, const EVP_MD *md, const char *secret,
                   const struct cp_webhook_call *c)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1], got[2 * EVP_MAX_MD_SIZE + 1];
    size_t pl = strlen(prefix);
    if (!header || strncmp(header, prefix, pl) != 0) return 0;
    if (!HMAC(md, secret, (int)strlen(secret), (const unsigned char *)(c->body ? c->body : ""),
              c->body_len, mac, &ml))
        return 0;
    for (unsigned int i = 0; i < ml; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    size_t hl = strlen(header + pl);
    if (hl != 2 * (size_t)ml) return 0;
    for (size_t i = 0; i < hl; i++) {
        char ch = header[pl + i];
        got[i] = ch >= 'A' && ch <= 'F' ? (char)(ch - 'A' + 'a') : ch;
    }
    return CRYPTO_memcmp(got, hex, hl) == 0;
}

/* ---- JsonPath subset ---- */

struct selected {
    size_t n;
    struct json_object *v[MAX_SELECTED];
};

static void keep(struct selected *s, struct json_object *v)
{
    if (v && s->n < MAX_SELECTED) s->v[s->n++] = v;
}

/* Applies the path from p to each of in into out. Returns 0, or -1 when the path is malformed. */
static int step(const char *p, struct selected *in)
{
    while (*p) {
        struct selected out = {0};
        char name[256];
        long index = -1;
        int wild = 0;
        if (*p == '.') {
            p++;
            if (*p == '*') {
                wild = 1;
                p++;
            } else {
                size_t n = strcspn(p, ".[");
                if (n == 0 || n >= sizeof name) return -1;
                memcpy(name, p, n);
                name[n] = '\0';
                p += n;
            }
        } else if (*p == '[') {
            p++;
            if (*p == '\'' || *p == '"') {
                char q = *p++;
                const char *e = strchr(p, q);
                if (!e || e[1] != ']' || (size_t)(e - p) >= sizeof name) return -1;
                memcpy(name, p, (size_t)(e - p));
                name[e - p] = '\0';
                p = e + 2;
            } else if (*p == '*' && p[1] == ']') {
                wild = 1;
                p += 2;
            } else {
                char *e;
                index = strtol(p, &e, 10);
                if (e == p || *e != ']' || index < 0) return -1;
                p = e + 1;
            }
        } else {
            return -1;
        }
        for (size_t i = 0; i < in->n; i++) {
            struct json_object *v = in->v[i];
            if (wild && json_object_is_type(v, json_type_array)) {
                for (size_t k = 0; k < json_object_array_length(v); k++)
                    keep(&out, json_object_array_get_idx(v, k));
            } else if (wild && json_object_is_type(v, json_type_object)) {
                json_object_object_foreach(v, key, val)
                {
                    (void)key;
                    keep(&out, val);
                }
            } else if (index >= 0 && json_object_is_type(v, json_type_array)) {
                if ((size_t)index < json_object_array_length(v))
                    keep(&out, json_object_array_get_idx(v, (size_t)index));
            } else if (!wild && index < 0) {
                struct json_object *m;
                if (json_object_is_type(v, json_type_object) &&
                    json_object_object_get_ex(v, name, &m))
                    keep(&out, m);
            }
        }
        *in = out;
    }
    return 0;
}

/* Expands "{Key}" references in s from the action configuration into out. */
static void expand(const char *s, struct json_object *config, char *out, size_t cap)
{
    size_t o = 0;
    while (*s && o + 1 < cap) {
        const char *close = *s == '{' ? strchr(s, '}') : NULL;
        if (close) {
            char key[128];
            size_t kl = (size_t)(close - s - 1);
            const char *val = NULL;
            if (kl < sizeof key) {
                memcpy(key, s + 1, kl);
                key[kl] = '\0';
                val = jgets(config, key);
            }
            if (val) {
                size_t vl = strlen(val);
                if (o + vl >= cap) vl = cap - o - 1;
                memcpy(out + o, val, vl);
                o += vl;
                s = close + 1;
                continue;
            }
        }
        out[o++] = *s++;
    }
    out[o] = '\0';
}

/* Returns the text a scalar compares as (strings as they are, others as JSON), or NULL. */
static const char *as_text(struct json_object *v)
{
    if (!v) return "null";
    if (json_object_is_type(v, json_type_string)) return json_object_get_string(v);
    if (json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
        return NULL;
    return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

enum cp_webhook_verdict cp_webhook_judge(struct json_object *definition,
                                         struct json_object *action_configuration,
                                         const struct cp_webhook_call *call, char *why,
                                         size_t whylen)
{
    const char *auth = jgets(definition, "authentication");
    struct json_object *acfg = jget(definition, "authenticationConfiguration");
    enum cp_webhook_verdict verdict = CP_WEBHOOK_NO_MATCH;
    struct json_object *doc = NULL;
    say(why, whylen, "ok");
    if (auth && !strcmp(auth, "GITHUB_HMAC")) {
        const char *secret = jgets(acfg, "SecretToken");
        if (!secret || !(hmac_ok(call->signature_256, "sha256=", EVP_sha256(), secret, call) ||
                         hmac_ok(call->signature_1, "sha1=", EVP_sha1(), secret, call))) {
            say(why, whylen, "the request's signature does not match the webhook's SecretToken");
            return CP_WEBHOOK_UNAUTHORIZED;
        }
    } else if (auth && !strcmp(auth, "IP")) {
        const char *range = jgets(acfg, "AllowedIPRange");
        if (!range || !cp_ip_in_range(call->remote_ip, range)) {
            say(why, whylen, "the caller's address %s is outside %s",
                call->remote_ip ? call->remote_ip : "", range ? range : "");
            return CP_WEBHOOK_UNAUTHORIZED;
        }
    } else if (!auth || strcmp(auth, "UNAUTHENTICATED") != 0) {
        say(why, whylen, "unknown authentication %s", auth ? auth : "");
        return CP_WEBHOOK_UNAUTHORIZED;
    }
    struct json_tokener *tok = json_tokener_new();
    if (tok && call->body) doc = json_tokener_parse_ex(tok, call->body, (int)call->body_len);
    if (tok && json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(doc);
        doc = NULL;
    }
    json_tokener_free(tok);
    if (!doc) {
        say(why, whylen, "the body is not a JSON document");
        goto out;
    }
    struct json_object *filters = jget(definition, "filters");
    size_t nf = filters && json_object_is_type(filters, json_type_array)
                    ? json_object_array_length(filters)
                    : 0;
    for (size_t i = 0; i < nf; i++) {
        struct json_object *f = json_object_array_get_idx(filters, i);
        const char *path = jgets(f, "jsonPath"), *eq = jgets(f, "matchEquals");
        struct selected sel = {0};
        if (!path || path[0] != '$') {
            say(why, whylen, "filter %zu: the JsonPath %s is not valid", i + 1, path ? path : "");
            goto out;
        }
        keep(&sel, doc);
        if (step(path + 1, &sel) != 0) {
            say(why, whylen, "filter %zu: the JsonPath %s is not valid", i + 1, path);
            goto out;
        }
        int hit = 0;
        if (!eq) {
            hit = sel.n > 0;
        } else {
            char want[MAX_EXPANDED];
            expand(eq, action_configuration, want, sizeof want);
            for (size_t k = 0; k < sel.n && !hit; k++) {
                const char *t = as_text(sel.v[k]);
                hit = t && strcmp(t, want) == 0;
            }
        }
        if (!hit) {
            say(why, whylen, "filter %zu (%s) did not match", i + 1, path);
            goto out;
        }
    }
    verdict = CP_WEBHOOK_START;
out:
    json_object_put(doc);
    return verdict;
}
