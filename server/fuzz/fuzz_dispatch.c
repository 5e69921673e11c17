/* libFuzzer target: requests for every operation of every JSON and awsQuery service, generated from
 * the models, run through the server's own dispatch (proto_json_dispatch, proto_query_dispatch)
 * against a store in a temp dir. awsQuery inputs are the same generated trees sent as forms
 * (Action, Version, then "Tags.member.1.Key=..."; a string's bytes %-escaped as they are).
 * Build: CC=clang cmake -S . -B build-fuzz -DCPL_FUZZ=ON -DCPL_TESTS=OFF
 *        cmake --build build-fuzz --target fuzz_dispatch
 * Run:   build-fuzz/server/fuzz_dispatch -max_total_time=60 -dict=server/fuzz/dispatch.dict DIR
 *
 * Input: two bytes pick the operation (of all JSON services in the server's table, so services
 * and operations added later are fuzzed too) and one byte the mode. Mode even: the rest are choice
 * bytes for a well-formed input generated from the operation's model (which optional members,
 * which candidate values; an exhausted input means "required members, first candidate"), followed
 * by (slot, variant) pairs that replace one member each with null, [null], {"k":null}, a wrong
 * type, an oversize value, a huge number or invalid UTF-8. Mode odd: the rest is the body as is.
 * At start every operation is run once well-formed and once per variant of each of its first
 * members, so a short run covers every operation whatever the corpus holds
 * (CPL_FUZZ_NO_SWEEP=1 skips that). Two CodeCommit repositories named as generated inputs name
 * them are made first, so requests get past "does not exist". CPL_FUZZ_SKIP=null,utf8 sets
 * variant classes aside while their fix is under way.
 *
 * Fails (abort) on: a crash, a 5xx other than 501 (and the "not running" 503 of a service it does
 * not start), an answer that is not UTF-8 or not JSON (for awsQuery: not an XML document, or an
 * error that is not an <ErrorResponse>). */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "persistence/store.h"
#include "protocol/gen/model_tables.h"
#include "protocol/ids.h"
#include "protocol/json.h"
#include "protocol/model.h"
#include "protocol/query.h"
#include "protocol/service.h"
#include "server/routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FZ_MAX_OPS     2048
#define FZ_MAX_SLOTS   256
#define FZ_MAX_DEPTH   8
#define FZ_SWEEP_SLOTS 16    /* slots per operation the start-up sweep replaces */
#define FZ_BIG_STRING  70000 /* "oversize" without slowing every run down to a crawl */

struct fz_op {
    const struct proto_service *svc;
    const struct proto_model_op *model;
};

static struct fz_op ops[FZ_MAX_OPS];
static size_t n_ops;
static store *st;
static size_t n_ok; /* answers with HTTP 200, for the sweep's summary */
static char dir[] = "/tmp/cpl-fuzz-dispatch-XXXXXX";

/* The bytes that steer generation; reads past the end give 0. */
struct fz_src {
    const uint8_t *p;
    size_t n;
};

static unsigned fz_byte(struct fz_src *s)
{
    if (!s->n) return 0;
    s->n--;
    return *s->p++;
}

/* One place in the generated input that a variant can replace: a member of an object or an
 * element of an array, with the slot of its container (-1 for the top level). */
struct fz_slot {
    struct json_object *parent;
    const char *key; /* member name (model-owned), or NULL for an array element */
    size_t idx;
    const struct proto_model_service *svc;
    uint32_t shape;
    int up;
    int replaced;
};

struct fz_gen {
    struct fz_src src;
    int first; /* the sweep: always the first fitting candidate (the seeded names) */
    const struct proto_model_service *svc;
    struct fz_slot slots[FZ_MAX_SLOTS];
    int n_slots;
};

static int add_slot(struct fz_gen *g, struct json_object *parent, const char *key, size_t idx,
                    uint32_t shape, int up)
{
    if (g->n_slots >= FZ_MAX_SLOTS) return -1;
    g->slots[g->n_slots] = (struct fz_slot){parent, key, idx, g->svc, shape, up, 0};
    return g->n_slots++;
}

/* Values that satisfy many of the models' patterns and name the same few resources, so that
 * generated requests find what earlier ones created. */
static const char *const candidates[] = {
    "demo",
    "demo-pipeline",
    "main",
    "Source",
    "arn:aws:codepipeline:us-east-1:000000000000:demo",
    "arn:aws:codecommit:us-east-1:000000000000:demo",
    "arn:aws:iam::000000000000:role/demo",
    "0123456789abcdef0123456789abcdef01234567",
    "README.md",
    "dir/file.txt",
    "12345678-1234-1234-1234-123456789012",
    "d-ABCDEFGHI",
    "1",
    "us-east-1",
    "000000000000",
    "aGVsbG8=",
    "key",
    "https://example.com/hook",
    "{}",
    "a",
    "x y",
    "AWS",
    "demo@example.com",
};

static int fits(const struct proto_model_service *svc, const struct proto_model_shape *sh,
                const char *s, size_t n)
{
    if ((sh->flags & PROTO_SF_MIN) && (int64_t)n < sh->min) return 0;
    if ((sh->flags & PROTO_SF_MAX) && (int64_t)n > sh->max) return 0;
    if (sh->pattern < 0) return 1;
    return proto_model_pattern_match(svc->compiled[sh->pattern], s, n);
}

/* Returns 1 when the member's name says it holds an ARN. */
static int names_arn(const char *member)
{
    size_t n = strlen(member);
    return n >= 3 && (strcmp(member + n - 3, "Arn") == 0 || strcmp(member + n - 3, "arn") == 0);
}

static struct json_object *gen_string(struct fz_gen *g, const struct proto_model_shape *sh,
                                      const char *member)
{
    if (sh->count) /* an enum */
        return json_object_new_string(g->svc->enums[sh->first + fz_byte(&g->src) % sh->count]);
    const char *fit[sizeof(candidates) / sizeof(candidates[0])];
    size_t n_fit = 0;
    /* An ARN member gets this service's ARN first: it names the seeded resource. */
    char mine[64];
    snprintf(mine, sizeof(mine), "arn:aws:%s:", g->svc->name);
    int arn = names_arn(member);
    for (int pass = 0; pass < 1 + arn; pass++) {
        for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
            int is_mine = strncmp(candidates[i], mine, strlen(mine)) == 0;
            if (arn && is_mine == pass) continue; /* pass 0: this service's; pass 1: others */
            if (fits(g->svc, sh, candidates[i], strlen(candidates[i])))
                fit[n_fit++] = candidates[i];
        }
    }
    unsigned pick = fz_byte(&g->src);
    if (n_fit) return json_object_new_string(fit[g->first ? 0 : pick % n_fit]);
    /* No candidate fits: letters of the minimum length (a pattern may still refuse them). */
    size_t n = (sh->flags & PROTO_SF_MIN) && sh->min > 0 ? (size_t)sh->min : 1;
    if (n > 256) n = 256;
    char buf[257];
    memset(buf, 'a', n);
    buf[n] = '\0';
    return json_object_new_string(buf);
}

static int64_t clamp(const struct proto_model_shape *sh, int64_t v)
{
    if ((sh->flags & PROTO_SF_MIN) && v < sh->min) v = sh->min;
    if ((sh->flags & PROTO_SF_MAX) && v > sh->max) v = sh->max;
    return v;
}

static struct json_object *gen_value(struct fz_gen *g, uint32_t shape, int depth, int slot,
                                     const char *member);

static void gen_members(struct fz_gen *g, struct json_object *obj,
                        const struct proto_model_shape *sh, int depth, int up)
{
    for (uint32_t i = 0; i < sh->count; i++) {
        const struct proto_model_member *m = &g->svc->members[sh->first + i];
        if (!m->required && !(fz_byte(&g->src) & 1)) continue;
        int slot = add_slot(g, obj, m->name, 0, m->shape, up);
        json_object_object_add(obj, m->name, gen_value(g, m->shape, depth + 1, slot, m->name));
    }
}

/* Generates a value of shape for a member named member, whose slot (-1: none) is slot; members
 * and list elements get slots of their own. */
static struct json_object *gen_value(struct fz_gen *g, uint32_t shape, int depth, int slot,
                                     const char *member)
{
    const struct proto_model_shape *sh = &g->svc->shapes[shape];
    switch (sh->type) {
    case PROTO_T_STRUCTURE: {
        struct json_object *o = json_object_new_object();
        if (depth < FZ_MAX_DEPTH) gen_members(g, o, sh, depth, slot);
        return o;
    }
    case PROTO_T_LIST: {
        struct json_object *a = json_object_new_array();
        int64_t n = clamp(sh, fz_byte(&g->src) % 3);
        if (n > 4 || depth >= FZ_MAX_DEPTH) n = (sh->flags & PROTO_SF_MIN) ? sh->min : 0;
        if (n > 4) n = 4;
        for (int64_t i = 0; i < n; i++) {
            int el = add_slot(g, a, NULL, (size_t)i, sh->key, slot);
            json_object_array_add(a, gen_value(g, sh->key, depth + 1, el, member));
        }
        return a;
    }
    case PROTO_T_MAP: {
        struct json_object *o = json_object_new_object();
        int64_t n = depth >= FZ_MAX_DEPTH ? 0 : clamp(sh, fz_byte(&g->src) % 3);
        if (n > 4) n = 4;
        for (int64_t i = 0; i < n; i++) {
            struct json_object *k = gen_value(g, sh->key, depth + 1, -1, "");
            char key[300];
            snprintf(key, sizeof(key), "%s%s", json_object_get_string(k), i ? "2" : "");
            json_object_put(k);
            json_object_object_add(o, key, gen_value(g, sh->value, depth + 1, slot, ""));
        }
        return o;
    }
    case PROTO_T_STRING:
        return gen_string(g, sh, member);
    case PROTO_T_BLOB:
        return json_object_new_string("aGVsbG8=");
    case PROTO_T_BOOLEAN:
        return json_object_new_boolean(fz_byte(&g->src) & 1);
    case PROTO_T_TIMESTAMP:
        return json_object_new_int64(1700000000);
    case PROTO_T_DOUBLE:
    case PROTO_T_FLOAT:
        return json_object_new_double((double)clamp(sh, 1));
    default: /* integer, long */
        return json_object_new_int64(clamp(sh, (int64_t)(fz_byte(&g->src) % 3) * 5));
    }
}

#define FZ_N_VARIANTS 16

/* Variant classes left out by CPL_FUZZ_SKIP ("null", "utf8", comma-separated): a class whose
 * fix is still under way can be set aside to look for other defects meanwhile. */
static int skip_null, skip_utf8;

static int skipped(unsigned v)
{
    v %= FZ_N_VARIANTS;
    return (skip_null && v <= 2) || (skip_utf8 && (v == 10 || v == 11 || v == 14));
}

/* Returns the replacement for a slot of shape sh: variant v of the hostile values. */
static struct json_object *variant(const struct proto_model_shape *sh, unsigned v)
{
    struct json_object *o;
    while (skipped(v))
        v++;
    switch (v % FZ_N_VARIANTS) {
    case 0:
        return NULL; /* JSON null */
    case 1:
        o = json_object_new_array();
        json_object_array_add(o, NULL);
        return o;
    case 2:
        o = json_object_new_object();
        json_object_object_add(o, "k", NULL);
        return o;
    case 3: /* the wrong type */
        switch (sh->type) {
        case PROTO_T_STRING:
        case PROTO_T_BLOB:
            return json_object_new_int(1);
        case PROTO_T_STRUCTURE:
        case PROTO_T_MAP:
            return json_object_new_array();
        case PROTO_T_LIST:
            return json_object_new_object();
        default:
            return json_object_new_string("x");
        }
    case 4: /* one past the model's maximum */
        if (sh->type == PROTO_T_STRING || sh->type == PROTO_T_BLOB) {
            size_t n = (sh->flags & PROTO_SF_MAX) && sh->max < 1 << 20 ? (size_t)sh->max + 1 : 300;
            char *s = malloc(n + 1);
            memset(s, 'a', n);
            s[n] = '\0';
            o = json_object_new_string(s);
            free(s);
            return o;
        }
        if (sh->type == PROTO_T_LIST) {
            o = json_object_new_array();
            int64_t n = (sh->flags & PROTO_SF_MAX) && sh->max < 1000 ? sh->max + 1 : 1000;
            for (int64_t i = 0; i < n; i++)
                json_object_array_add(o, json_object_new_string("x"));
            return o;
        }
        return json_object_new_int64((sh->flags & PROTO_SF_MAX) && sh->max < INT64_MAX ? sh->max + 1
                                                                                       : INT64_MAX);
    case 5: {
        char *s = malloc(FZ_BIG_STRING + 1);
        memset(s, 'a', FZ_BIG_STRING);
        s[FZ_BIG_STRING] = '\0';
        o = json_object_new_string(s);
        free(s);
        return o;
    }
    case 6:
        return json_object_new_double_s(0, "1e400");
    case 7:
        return json_object_new_double_s(0, "9223372036854775808");
    case 8:
        return json_object_new_double_s(0, "-9223372036854775809");
    case 9:
        return json_object_new_double_s(0, "-1");
    case 10:
        return json_object_new_string_len("ab\xff\xfe", 4);
    case 11:
        return json_object_new_string_len("\xe2\x82", 2); /* truncated sequence */
    case 12:
        return json_object_new_string_len("a\0b", 3);
    case 13:
        return json_object_new_string("");
    case 14:
        o = json_object_new_object();
        json_object_object_add(o, "\xc0\xaf", json_object_new_string("x"));
        return o;
    default:
        return json_object_new_double(0.5);
    }
}

/* Replaces slot with variant v, unless the slot lies in a value already replaced. */
static void apply(struct fz_gen *g, int slot, unsigned v)
{
    for (int s = slot; s >= 0; s = g->slots[s].up)
        if (g->slots[s].replaced) return;
    struct fz_slot *sl = &g->slots[slot];
    struct json_object *r = variant(&sl->svc->shapes[sl->shape], v);
    sl->replaced = 1;
    if (sl->key)
        json_object_object_add(sl->parent, sl->key, r);
    else
        json_object_array_put_idx(sl->parent, sl->idx, r);
}

/* Returns 1 when the n bytes at s are well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
 */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

/* Runs one request body for op through the dispatch and checks the answer; aborts on a failure. */
static void run(const struct fz_op *op, const char *body, size_t len)
{
    struct proto_req req;
    memset(&req, 0, sizeof(req));
    req.arena = proto_arena_new();
    req.resp_fd = -1;
    req.store = st;
    req.auth_off = 1;
    req.service = op->svc;
    req.operation = op->model->name;
    req.public_host = "127.0.0.1:4566";
    req.caller.access_key = "test";
    req.caller.account_id = "000000000000";
    req.caller.region = "us-east-1";
    req.http.method = "POST";
    req.http.path = "/";
    req.http.query = "";
    req.http.host = "127.0.0.1:4566";
    req.http.body = body;
    req.http.body_len = len;
    proto_uuid(req.request_id);

    int query = op->svc->protocol == PROTO_AWS_QUERY;
    if (query) {
        if (proto_query_dispatch(&req) < 0 || req.err) proto_query_error_finish(&req);
    } else {
        proto_json_dispatch(&req);
        proto_json_finish(&req);
    }
    const char *why = NULL;
    /* The services are not started here, so no fuzzed input runs a command in a build, hook or
     * action; what needs a started engine or build runner answers 503 saying so, and only that 503
     * passes. */
    int engine_not_started =
        req.status == 503 && req.body.buf && strstr(proto_sb_str(&req.body), "is not running");
    if (req.status >= 500 && req.status != 501 && !engine_not_started)
        why = "a 5xx other than 501";
    else if (!utf8_valid((const unsigned char *)req.body.buf, req.body.len))
        why = "an answer that is not UTF-8";
    else if (query) {
        const char *b = proto_sb_str(&req.body);
        if (b[0] != '<')
            why = "an answer not XML";
        else if (req.status >= 400 && strncmp(b, "<ErrorResponse><Error><Type>", 28) != 0)
            why = "an error that is not an <ErrorResponse>";
    } else {
        struct json_tokener *tok = json_tokener_new();
        struct json_object *o = json_tokener_parse_ex(tok, req.body.buf, (int)req.body.len);
        if (!o || json_tokener_get_error(tok) != json_tokener_success) why = "an answer not JSON";
        json_object_put(o);
        json_tokener_free(tok);
    }
    if (why) {
        fprintf(stderr, "fuzz_dispatch: %s.%s gave %s (HTTP %d)\nrequest: %.*s\nanswer: %.*s\n",
                op->svc->name, op->model->name, why, req.status, (int)(len > 2000 ? 2000 : len),
                body, (int)(req.body.len > 2000 ? 2000 : req.body.len), req.body.buf);
        abort();
    }
    if (req.status == 200) n_ok++;
    if (req.resp_fd >= 0) close(req.resp_fd);
    json_object_put(req.input);
    json_object_put(req.output);
    proto_sb_free(&req.body);
    proto_sb_free(&req.err_extra);
    proto_arena_free(req.arena);
}

/* Appends v as awsQuery form parameters named under prefix (lists as .member.N, objects' keys as
 * members), every byte of a string %-escaped unless unreserved. */
static void form_flatten(struct proto_sb *sb, const char *prefix, struct json_object *v, int depth)
{
    if (depth > FZ_MAX_DEPTH * 2 || strlen(prefix) > 900) return;
    char name[1024];
    switch (json_object_get_type(v)) {
    case json_type_object: {
        json_object_object_foreach(v, k, x)
        {
            snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", k);
            form_flatten(sb, name, x, depth + 1);
        }
        return;
    }
    case json_type_array:
        if (!json_object_array_length(v)) proto_sb_printf(sb, "&%s=", prefix);
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            snprintf(name, sizeof name, "%s.member.%zu", prefix, i + 1);
            form_flatten(sb, name, json_object_array_get_idx(v, i), depth + 1);
        }
        return;
    case json_type_null:
        return;
    default: {
        const char *s = json_object_get_string(v);
        size_t n = json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v)
                                                            : strlen(s);
        proto_sb_printf(sb, "&%s=", prefix);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '~')
                proto_sb_putc(sb, (char)c);
            else
                proto_sb_printf(sb, "%%%02X", c);
        }
    }
    }
}

/* Generates op's input from the choice bytes, applies (slot, variant) pairs from what is left
 * (or the one pair given when forced_slot >= 0), and runs it. Returns the number of slots. */
static int run_generated(const struct fz_op *op, const uint8_t *data, size_t size, int forced_slot,
                         unsigned forced_variant)
{
    static struct fz_gen g;
    memset(&g, 0, sizeof(g));
    g.src = (struct fz_src){data, size};
    g.svc = op->model->svc;
    g.first = forced_slot >= 0;
    struct json_object *top = json_object_new_object();
    if (op->model->input >= 0) gen_members(&g, top, &g.svc->shapes[op->model->input], 0, -1);
    if (forced_slot >= 0) {
        if (forced_slot < g.n_slots) apply(&g, forced_slot, forced_variant);
    } else {
        while (g.n_slots && g.src.n >= 2) {
            int slot = (int)(fz_byte(&g.src) % (unsigned)g.n_slots);
            apply(&g, slot, fz_byte(&g.src));
        }
    }
    if (op->svc->protocol == PROTO_AWS_QUERY) {
        struct proto_sb form = PROTO_SB_INIT;
        proto_sb_printf(&form, "Action=%s&Version=%s", op->model->name, op->svc->api_version);
        form_flatten(&form, "", top, 0);
        run(op, proto_sb_str(&form), form.len);
        proto_sb_free(&form);
    } else {
        size_t len;
        const char *body = json_object_to_json_string_length(
            top, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        run(op, body, len);
    }
    json_object_put(top);
    return g.n_slots;
}

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

/* Runs body as operation name of service svc, when the table has them. */
static void seed(const char *svc, const char *name, const char *body)
{
    for (size_t i = 0; i < n_ops; i++)
        if (strcmp(ops[i].svc->name, svc) == 0 && strcmp(ops[i].model->name, name) == 0)
            run(&ops[i], body, strlen(body));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (proto_model_init() != 0 || !mkdtemp(dir)) abort();
    char err[256];
    struct store_options so = {.dir = dir, .no_sync = 1};
    if (store_open(&so, &st, err, sizeof(err)) < 0) {
        fprintf(stderr, "fuzz_dispatch: %s\n", err);
        abort();
    }
    atexit(cleanup);
    const struct proto_service *const *svcs = srv_services();
    for (int i = 0; svcs[i]; i++) {
        if ((svcs[i]->protocol != PROTO_JSON_1_1 && svcs[i]->protocol != PROTO_AWS_QUERY) ||
            !svcs[i]->model)
            continue;
        for (uint32_t k = 0; k < svcs[i]->model->n_ops && n_ops < FZ_MAX_OPS; k++)
            ops[n_ops++] = (struct fz_op){svcs[i], &svcs[i]->model->ops[k]};
    }
    if (!n_ops) abort();
    const char *skip = getenv("CPL_FUZZ_SKIP");
    skip_null = skip && strstr(skip, "null");
    skip_utf8 = skip && strstr(skip, "utf8");
    static const char *const repos[] = {"demo", "demo-pipeline"};
    for (size_t i = 0; i < 2; i++) {
        char body[300];
        snprintf(body, sizeof(body), "{\"repositoryName\":\"%s\",\"tags\":{\"demo\":\"demo\"}}",
                 repos[i]);
        seed("codecommit", "CreateRepository", body);
        snprintf(body, sizeof(body),
                 "{\"repositoryName\":\"%s\",\"branchName\":\"main\",\"filePath\":"
                 "\"README.md\",\"fileContent\":\"aGVsbG8K\"}",
                 repos[i]);
        seed("codecommit", "PutFile", body);
    }
    const char *no_sweep = getenv("CPL_FUZZ_NO_SWEEP");
    if (no_sweep && *no_sweep == '1') return 0;
    /* The sweep: each operation well-formed with every optional member present, then each
     * variant on each of its first slots. */
    static uint8_t all[4096];
    memset(all, 1, sizeof(all));
    size_t runs = 0;
    for (size_t i = 0; i < n_ops; i++) {
        int n = run_generated(&ops[i], all, sizeof(all), FZ_MAX_SLOTS, 0);
        runs++;
        for (int slot = 0; slot < n && slot < FZ_SWEEP_SLOTS; slot++)
            for (unsigned v = 0; v < FZ_N_VARIANTS; v++, runs++)
                if (!skipped(v)) run_generated(&ops[i], all, sizeof(all), slot, v);
    }
    fprintf(stderr, "fuzz_dispatch: swept %zu operations with %zu requests, %zu answered 200\n",
            n_ops, runs, n_ok);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    const struct fz_op *op = &ops[(data[0] | (size_t)data[1] << 8) % n_ops];
    if (data[2] & 1) {
        char *body = malloc(size - 3 + 1);
        if (!body) return 0;
        memcpy(body, data + 3, size - 3);
        body[size - 3] = '\0';
        run(op, body, size - 3);
        free(body);
    } else {
        run_generated(op, data + 3, size - 3, -1, 0);
    }
    return 0;
}
