/* Model-driven validation: AWS's deserialisation checks and constraint messages from generated
 * tables. */
#include "protocol/model.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <json-c/json.h>
#include <json-c/linkhash.h>
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/model_tables.h"
#include "protocol/service.h"
#include "protocol/utf8.h"

#define MODEL_MAX_DEPTH  40   /* shape nesting followed before giving up (recursive shapes) */
#define MODEL_PATH_MAX   1024 /* longest member path rendered; longer paths are cut */
#define MODEL_MAX_LISTED 100  /* violations spelled out in one message; all are counted */
#define MODEL_VALUE_MAX  1024 /* bytes of a value echoed in a message */

static const struct proto_model_service *const model_services[] = {
#define PROTO_SERVICE(name, provider) &proto_model_##name,
#include "protocol/services.def"
#undef PROTO_SERVICE
};

static int model_ready;
static __thread pcre2_match_data *model_md;

/* Java's POSIX-style \p{Name} classes (ASCII in Java) and their PCRE2 POSIX spelling. */
static const struct {
    const char *java, *posix;
} model_posix[] = {
    {"Lower", "lower"}, {"Upper", "upper"}, {"ASCII", "ascii"}, {"Alpha", "alpha"},
    {"Digit", "digit"}, {"Alnum", "alnum"}, {"Punct", "punct"}, {"Graph", "graph"},
    {"Print", "print"}, {"Blank", "blank"}, {"Cntrl", "cntrl"}, {"XDigit", "xdigit"},
    {"Space", "space"},
};

/* Rewrites Java-only regex syntax into PCRE2's: \p{IsL} (Java's "Is" prefix) becomes \p{L}, and
 * Java's ASCII classes \p{Alpha}, \p{Digit}... become POSIX classes ([[:alpha:]], or [:alpha:]
 * inside a bracket). Everything the models use besides (\p{L}, \w, [..], {m,n}, groups) means the
 * same in both. Returns a malloc'd string or NULL. */
static char *model_translate(const char *java)
{
    size_t n = strlen(java);
    char *out = malloc(n * 3 + 1); /* \p{X} (5+) grows to at most [[:xdigit:]] */
    if (!out) return NULL;
    size_t o = 0;
    int in_class = 0;
    for (size_t i = 0; i < n; i++) {
        char c = java[i];
        if (c == '\\' && i + 1 < n) {
            char e = java[i + 1];
            /* Java's \uXXXX (exactly four hex digits: "\u10000" is U+1000 then '0') is PCRE2's
             * \x{XXXX}; IAM and STS patterns are written with it. */
            if (e == 'u' && i + 5 < n && isxdigit((unsigned char)java[i + 2]) &&
                isxdigit((unsigned char)java[i + 3]) && isxdigit((unsigned char)java[i + 4]) &&
                isxdigit((unsigned char)java[i + 5])) {
                o += (size_t)sprintf(out + o, "\\x{%.4s}", java + i + 2);
                i += 5;
                continue;
            }
            if ((e == 'p' || e == 'P') && i + 2 < n && java[i + 2] == '{') {
                const char *name = java + i + 3;
                const char *close = strchr(name, '}');
                size_t len = close ? (size_t)(close - name) : 0;
                size_t k;
                for (k = 0; close && k < sizeof(model_posix) / sizeof(model_posix[0]); k++)
                    if (strlen(model_posix[k].java) == len &&
                        memcmp(model_posix[k].java, name, len) == 0)
                        break;
                if (close && k < sizeof(model_posix) / sizeof(model_posix[0])) {
                    o += (size_t)sprintf(out + o, "%s[:%s%s:]%s", in_class ? "" : "[",
                                         e == 'P' ? "^" : "", model_posix[k].posix,
                                         in_class ? "" : "]");
                    i = (size_t)(close - java);
                    continue;
                }
                if (close && len > 2 && name[0] == 'I' && name[1] == 's') {
                    out[o++] = '\\';
                    out[o++] = e;
                    out[o++] = '{';
                    i += 4; /* skip "p{Is"; the name and '}' are copied as they come */
                    continue;
                }
            }
            out[o++] = java[i++];
            out[o++] = java[i];
            /* Java reads "[\\w-_]" (logs' model) as \w, '-' and '_'; PCRE2 refuses a range
             * from a class shorthand, so the '-' is made a literal. */
            if (in_class && strchr("wdsWDS", e) && i + 1 < n && java[i + 1] == '-') {
                out[o++] = '\\';
                out[o++] = java[++i];
            }
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = 1;
            out[o++] = c;
            /* a ']' right after '[' or '[^' is a literal in both dialects */
            if (i + 1 < n && java[i + 1] == '^') out[o++] = java[++i];
            if (i + 1 < n && java[i + 1] == ']') out[o++] = java[++i];
            continue;
        }
        if (c == ']' && in_class) in_class = 0;
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

void *proto_model_compile_pattern(const char *java, char *err, size_t errlen)
{
    pcre2_code *code = NULL;
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    char *pat = model_translate(java);
    if (err && errlen) err[0] = '\0';
    if (!cc || !pat) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* Java's '.' stops at \n, \r, \u0085, \u2028 and \u2029: PCRE2's NEWLINE_ANY set. */
    pcre2_set_newline(cc, PCRE2_NEWLINE_ANY);
    int ec = 0;
    PCRE2_SIZE off = 0;
    /* Java's String.matches(): the whole value, by code point (UTF), but ASCII \w \d \s and POSIX
     * classes (no UCP: Java's are ASCII unless UNICODE_CHARACTER_CLASS is set). */
    code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                         PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED, &ec, &off, cc);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        if (err && errlen)
            snprintf(err, errlen, "%s at offset %zu", (const char *)msg, (size_t)off);
        goto out;
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* without JIT the interpreter is used */
out:
    free(pat);
    pcre2_compile_context_free(cc);
    return code;
}

static pthread_key_t md_key;
static pthread_once_t md_key_once = PTHREAD_ONCE_INIT;

static void md_free(void *md)
{
    pcre2_match_data_free(md);
    model_md = NULL;
}

static void md_key_init(void)
{
    pthread_key_create(&md_key, md_free);
}

int proto_model_pattern_match(const void *code, const char *s, size_t n)
{
    if (!code) return 1;
    if (!model_md) {
        model_md = pcre2_match_data_create(1, NULL);
        if (!model_md) return 1;
        /* Freed when the thread ends, so worker threads do not leak it. */
        pthread_once(&md_key_once, md_key_init);
        pthread_setspecific(md_key, model_md);
    }
    /* invalid UTF-8 and match-limit errors count as no match */
    return pcre2_match(code, (PCRE2_SPTR)s, n, 0, 0, model_md, NULL) >= 0;
}

void proto_model_free_pattern(void *code)
{
    pcre2_code_free(code);
}

int proto_model_init(void)
{
    if (model_ready) return 0;
    for (size_t i = 0; i < sizeof(model_services) / sizeof(model_services[0]); i++) {
        const struct proto_model_service *svc = model_services[i];
        for (uint32_t p = 0; p < svc->n_patterns; p++) {
            char err[200];
            svc->compiled[p] = proto_model_compile_pattern(svc->patterns[p], err, sizeof(err));
            if (!svc->compiled[p])
                fprintf(stderr, "model: %s pattern '%s' skipped: %s\n", svc->name, svc->patterns[p],
                        err);
        }
    }
    model_ready = 1;
    return 0;
}

const struct proto_model_op *proto_model_find_op(const struct proto_model_service *svc,
                                                 const char *name)
{
    if (!svc || !name) return NULL;
    size_t lo = 0, hi = svc->n_ops;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, svc->ops[mid].name);
        if (c == 0) return &svc->ops[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

struct vctx {
    struct proto_req *req;
    const struct proto_model_service *svc;
    char path[MODEL_PATH_MAX];
    size_t plen;
    int query; /* an awsQuery service: member names rendered in lower camel case */
    int n_errors;
    struct proto_sb msg; /* "Value ... ; Value ..." (empty until the first violation) */
};

/* Appends ".name" (or "name" at the top) to the path; returns the previous length to restore. */
static size_t path_push(struct vctx *v, const char *name, size_t n)
{
    size_t old = v->plen;
    size_t need = (old ? 1 : 0) + n;
    if (old + need >= sizeof(v->path)) return old; /* cut: still bounded and terminated */
    if (old) v->path[v->plen++] = '.';
    memcpy(v->path + v->plen, name, n);
    /* awsQuery services name members in lower camel case in their messages ('roleName') */
    if (v->query && n && name[0] >= 'A' && name[0] <= 'Z')
        v->path[v->plen] = (char)(name[0] - 'A' + 'a');
    v->plen += n;
    v->path[v->plen] = '\0';
    return old;
}

static void path_pop(struct vctx *v, size_t old)
{
    v->plen = old;
    v->path[old] = '\0';
}

static const char *type_name(struct json_object *o)
{
    switch (json_object_get_type(o)) {
    case json_type_object:
        return "a structure";
    case json_type_array:
        return "a list";
    case json_type_string:
        return "a string";
    case json_type_int:
        return "an integer";
    case json_type_double:
        return "a decimal number";
    case json_type_boolean:
        return "a boolean";
    default:
        return "null";
    }
}

static int ser_error(struct vctx *v, const char *expected, struct json_object *got)
{
    return proto_error(v->req, ERR_SERIALIZATION,
                       "Cannot deserialize %s at '%s': expected %s, got %s", "the value",
                       v->path[0] ? v->path : "(input)", expected, type_name(got));
}

/* Appends the Java-style rendering of a value ("abc", 12, [a, b], {k=v}); stops adding elements
 * once sb->len passes limit. */
static void render_value(struct proto_sb *sb, struct json_object *o, int depth, size_t limit)
{
    if (sb->len > limit) return;
    switch (json_object_get_type(o)) {
    case json_type_string: {
        size_t n = (size_t)json_object_get_string_len(o);
        const char *str = json_object_get_string(o);
        if (n > MODEL_VALUE_MAX) n = MODEL_VALUE_MAX;
        /* a NUL would end the message: write it as the escape the client sent */
        for (const char *z; n && (z = memchr(str, 0, n)) != NULL;
             n -= (size_t)(z - str) + 1, str = z + 1) {
            proto_sb_append_utf8(sb, str, (size_t)(z - str));
            proto_sb_puts(sb, "\\u0000");
        }
        proto_sb_append_utf8(sb, str, n);
        break;
    }
    case json_type_array: {
        proto_sb_putc(sb, '[');
        size_t n = json_object_array_length(o);
        for (size_t i = 0; i < n && depth < 4 && sb->len <= limit; i++) {
            if (i) proto_sb_puts(sb, ", ");
            render_value(sb, json_object_array_get_idx(o, i), depth + 1, limit);
        }
        proto_sb_putc(sb, ']');
        break;
    }
    case json_type_object: {
        proto_sb_putc(sb, '{');
        int first = 1;
        json_object_object_foreach(o, k, val)
        {
            if (depth >= 4 || sb->len > limit) break;
            if (!first) proto_sb_puts(sb, ", ");
            first = 0;
            proto_sb_append_utf8(sb, k, strlen(k));
            proto_sb_putc(sb, '=');
            render_value(sb, val, depth + 1, limit);
        }
        proto_sb_putc(sb, '}');
        break;
    }
    case json_type_null:
        proto_sb_puts(sb, "null");
        break;
    default:
        proto_sb_puts(sb, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        break;
    }
}

/* Records one violation: "Value 'x' at 'path' failed to satisfy constraint: <what>". value NULL
 * renders "Value null"; hide renders "Value at" (blobs and sensitive members). */
static void violation(struct vctx *v, struct json_object *value, int hide, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void violation(struct vctx *v, struct json_object *value, int hide, const char *fmt, ...)
{
    v->n_errors++;
    if (v->n_errors > MODEL_MAX_LISTED) return;
    struct proto_sb *sb = &v->msg;
    if (sb->len) proto_sb_puts(sb, "; ");
    if (hide) {
        proto_sb_puts(sb, "Value");
    } else if (!value) {
        proto_sb_puts(sb, "Value null");
    } else {
        proto_sb_puts(sb, "Value '");
        render_value(sb, value, 0, sb->len + MODEL_VALUE_MAX);
        proto_sb_putc(sb, '\'');
    }
    proto_sb_puts(sb, " at '");
    proto_sb_puts(sb, v->path);
    proto_sb_puts(sb, "' failed to satisfy constraint: ");
    va_list ap;
    va_start(ap, fmt);
    proto_sb_vprintf(sb, fmt, ap);
    va_end(ap);
}

/* Java's String.length(): UTF-16 code units (a code point above U+FFFF counts two). */
static int64_t utf16_length(const unsigned char *s, size_t n)
{
    int64_t len = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if ((c & 0xC0) == 0x80) continue; /* continuation byte */
        len += c >= 0xF0 ? 2 : 1;
    }
    return len;
}

/* Returns the decoded length of base64 text, or -1 when it is not base64. */
static int64_t base64_decoded_len(const char *s, size_t n)
{
    size_t pad = 0, i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=') {
            pad++;
            continue;
        }
        if (pad) return -1; /* data after padding */
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return -1;
    }
    size_t data = n - pad;
    if (pad > 2 || (pad && n % 4) || data % 4 == 1) return -1;
    return (int64_t)(data / 4 * 3 + (data % 4 ? data % 4 - 1 : 0));
}

/* Appends the constraint texts of a scalar shape, comma-separated, for map key/value messages. */
static void shape_constraints(struct vctx *v, const struct proto_model_shape *sh,
                              struct proto_sb *sb)
{
    int numeric = sh->type != PROTO_T_STRING && sh->type != PROTO_T_BLOB;
    const char *kind = numeric ? "value" : "length";
    if (sh->flags & PROTO_SF_MAX)
        proto_sb_printf(sb, "%sMember must have %s less than or equal to %lld", sb->len ? ", " : "",
                        kind, (long long)sh->max);
    if (sh->flags & PROTO_SF_MIN)
        proto_sb_printf(sb, "%sMember must have %s greater than or equal to %lld",
                        sb->len ? ", " : "", kind, (long long)sh->min);
    if (sh->pattern >= 0)
        proto_sb_printf(sb, "%sMember must satisfy regular expression pattern: %s",
                        sb->len ? ", " : "", v->svc->patterns[sh->pattern]);
}

static int check(struct vctx *v, uint32_t si, struct json_object *val, int depth);
static unsigned string_faults(struct vctx *v, const struct proto_model_shape *sh, const char *s,
                              size_t n);

/* Checks the constraints of one scalar shape without recording anything; returns 1 when they hold.
 */
static int scalar_ok(struct vctx *v, uint32_t si, struct json_object *val)
{
    int before = v->n_errors;
    size_t len = v->msg.len;
    int rc = check(v, si, val, MODEL_MAX_DEPTH - 1);
    int ok = rc == 0 && v->n_errors == before;
    if (v->n_errors != before) {
        v->n_errors = before;
        v->msg.len = len;
        if (v->msg.buf) v->msg.buf[len] = '\0';
    }
    return rc < 0 ? rc : ok;
}

static void check_length(struct vctx *v, const struct proto_model_shape *sh,
                         struct json_object *val, int64_t len, int hide)
{
    if ((sh->flags & PROTO_SF_MAX) && len > sh->max)
        violation(v, val, hide, "Member must have length less than or equal to %lld",
                  (long long)sh->max);
    if ((sh->flags & PROTO_SF_MIN) && len < sh->min)
        violation(v, val, hide, "Member must have length greater than or equal to %lld",
                  (long long)sh->min);
}

static int pattern_matches(struct vctx *v, int pat, const char *s, size_t n)
{
    /* NULL: did not compile (reported at start) or proto_model_init() not called: skipped. */
    return proto_model_pattern_match(v->svc->compiled[pat], s, n);
}

#define MODEL_SLOTS 64 /* structures with more members fall back to hash lookups */

static int check_struct(struct vctx *v, const struct proto_model_shape *sh, struct json_object *val,
                        int depth)
{
    /* One pass over the (usually few) members sent, matched by name into slots, then the model's
     * members in declaration order: fewer lookups than probing every member, same message order. */
    struct json_object *slots[MODEL_SLOTS];
    int use_slots = sh->count <= MODEL_SLOTS;
    const struct proto_model_member *mem = &v->svc->members[sh->first];
    /* AWS reads a null member as an absent one. Removing it here, where every request passes
     * before its handler runs, means no handler can meet a JSON null in a structure. */
    struct lh_table *t = json_object_get_object(val);
    struct lh_entry *ent, *tmp;
    lh_foreach_safe(t, ent, tmp)
    {
        if (!lh_entry_v(ent)) lh_table_delete_entry(t, ent);
    }
    if (use_slots) {
        memset(slots, 0, sh->count * sizeof(slots[0]));
        json_object_object_foreach(val, k, kv)
        {
            for (uint32_t i = 0; i < sh->count; i++)
                if (mem[i].name[0] == k[0] && strcmp(mem[i].name, k) == 0) {
                    slots[i] = kv;
                    break;
                }
        }
    }
    for (uint32_t i = 0; i < sh->count; i++) {
        const struct proto_model_member *m = &mem[i];
        struct json_object *mv = NULL;
        if (use_slots)
            mv = slots[i];
        else
            json_object_object_get_ex(val, m->name, &mv);
        if (!mv && !m->required) continue;
        size_t old = path_push(v, m->name, strlen(m->name));
        int rc = 0;
        if (!mv)
            violation(v, NULL, 0, "Member must not be null");
        else
            rc = check(v, m->shape, mv, depth + 1);
        path_pop(v, old);
        if (rc < 0) return rc;
    }
    return 0;
}

static int check_list(struct vctx *v, const struct proto_model_shape *sh, struct json_object *val,
                      int depth)
{
    size_t n = json_object_array_length(val);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(val, i);
        char idx[32];
        size_t k = sizeof(idx);
        memcpy(idx + (k -= 7), ".member", 7);
        for (size_t x = i + 1; x; x /= 10)
            idx[--k] = (char)('0' + x % 10);
        size_t old = path_push(v, idx + k, sizeof(idx) - k);
        int rc = 0;
        if (e)
            rc = check(v, sh->key, e, depth + 1);
        else
            violation(v, NULL, 0, "Member must not be null");
        path_pop(v, old);
        if (rc < 0) return rc;
    }
    check_length(v, sh, val, (int64_t)n, 0);
    return 0;
}

/* Maps: key and value shapes that are scalars give AWS's single "Map keys/value must satisfy
 * constraint: [...]" violation at the map's path; structured values are checked at '<map>.<key>'.
 */
static int check_map(struct vctx *v, const struct proto_model_shape *sh, struct json_object *val,
                     int depth)
{
    const struct proto_model_shape *ks = &v->svc->shapes[sh->key];
    const struct proto_model_shape *vs = &v->svc->shapes[sh->value];
    int vs_scalar =
        vs->type != PROTO_T_STRUCTURE && vs->type != PROTO_T_LIST && vs->type != PROTO_T_MAP;
    int bad_key = 0, bad_value = 0;
    json_object_object_foreach(val, k, mv)
    {
        int rc;
        if (ks->type == PROTO_T_STRING && string_faults(v, ks, k, strlen(k))) bad_key = 1;
        size_t old = path_push(v, k, strlen(k));
        if (!mv) {
            /* Refused, as AWS refuses a null map value, rather than dropped or stored. */
            violation(v, NULL, 0, "Member must not be null");
            rc = 0;
        } else if (vs_scalar) {
            rc = scalar_ok(v, sh->value, mv);
            if (rc == 0) bad_value = 1;
        } else {
            rc = check(v, sh->value, mv, depth + 1);
        }
        path_pop(v, old);
        if (rc < 0) return rc;
    }
    if (bad_key || bad_value) {
        struct proto_sb c = PROTO_SB_INIT;
        if (bad_key) {
            shape_constraints(v, ks, &c);
            violation(v, val, 0, "Map keys must satisfy constraint: [%s]", proto_sb_str(&c));
            proto_sb_reset(&c);
        }
        if (bad_value) {
            shape_constraints(v, vs, &c);
            if (vs->type == PROTO_T_STRING && vs->count) {
                proto_sb_printf(&c, "%sMember must satisfy enum value set: [", c.len ? ", " : "");
                for (uint32_t i = 0; i < vs->count; i++)
                    proto_sb_printf(&c, "%s%s", i ? ", " : "", v->svc->enums[vs->first + i]);
                proto_sb_putc(&c, ']');
            }
            violation(v, val, 0, "Map value must satisfy constraint: [%s]", proto_sb_str(&c));
        }
        proto_sb_free(&c);
    }
    check_length(v, sh, val, (int64_t)json_object_object_length(val), 0);
    return 0;
}

enum { BAD_ENUM = 1, BAD_MAX = 2, BAD_MIN = 4, BAD_PATTERN = 8, BAD_NUL = 16 };

/* Returns the set of string constraints of sh that s breaks (0 when it satisfies them all). */
static unsigned string_faults(struct vctx *v, const struct proto_model_shape *sh, const char *s,
                              size_t n)
{
    unsigned bad = 0;
    if (sh->count) { /* enum */
        int found = 0;
        for (uint32_t i = 0; i < sh->count && !found; i++)
            found = strlen(v->svc->enums[sh->first + i]) == n &&
                    memcmp(v->svc->enums[sh->first + i], s, n) == 0;
        if (!found) bad |= BAD_ENUM;
    }
    if (sh->flags & (PROTO_SF_MIN | PROTO_SF_MAX)) {
        int64_t len = utf16_length((const unsigned char *)s, n);
        if ((sh->flags & PROTO_SF_MAX) && len > sh->max) bad |= BAD_MAX;
        if ((sh->flags & PROTO_SF_MIN) && len < sh->min) bad |= BAD_MIN;
    }
    if (sh->pattern >= 0 && !pattern_matches(v, sh->pattern, s, n)) bad |= BAD_PATTERN;
    /* A JSON "\u0000" decodes to a NUL, which every C handler would read as the end of the
     * string: the name, tag or message would be stored cut short. AWS's patterns refuse it where
     * they exist (the check above); where nothing else does, it is refused here, once, rather
     * than stored as a different value than the client sent. */
    if (!bad && memchr(s, 0, n)) bad |= BAD_NUL;
    return bad;
}

static int check_string(struct vctx *v, const struct proto_model_shape *sh, struct json_object *val)
{
    unsigned bad =
        string_faults(v, sh, json_object_get_string(val), (size_t)json_object_get_string_len(val));
    if (!bad) return 0;
    int hide = (sh->flags & PROTO_SF_SENSITIVE) != 0;
    if (bad & BAD_ENUM) {
        struct proto_sb set = PROTO_SB_INIT;
        for (uint32_t i = 0; i < sh->count; i++) {
            if (i) proto_sb_puts(&set, ", ");
            proto_sb_puts(&set, v->svc->enums[sh->first + i]);
        }
        violation(v, val, hide, "Member must satisfy enum value set: [%s]", proto_sb_str(&set));
        proto_sb_free(&set);
    }
    if (bad & BAD_MAX)
        violation(v, val, hide, "Member must have length less than or equal to %lld",
                  (long long)sh->max);
    if (bad & BAD_MIN)
        violation(v, val, hide, "Member must have length greater than or equal to %lld",
                  (long long)sh->min);
    if (bad & BAD_PATTERN)
        violation(v, val, hide, "Member must satisfy regular expression pattern: %s",
                  v->svc->patterns[sh->pattern]);
    if (bad & BAD_NUL) violation(v, val, hide, "Member must not contain the null character");
    return 0;
}

static int check_integer(struct vctx *v, const struct proto_model_shape *sh,
                         struct json_object *val)
{
    if (!json_object_is_type(val, json_type_int))
        return ser_error(v, sh->type == PROTO_T_LONG ? "a long" : "an integer", val);
    int64_t x = json_object_get_int64(val);
    /* json-c saturates on overflow: above INT64_MAX reads back as a larger uint64, below INT64_MIN
     * as INT64_MIN (which is therefore refused too). */
    if (json_object_get_uint64(val) > (uint64_t)INT64_MAX || x == INT64_MIN ||
        (sh->type == PROTO_T_INTEGER && (x > INT32_MAX || x < INT32_MIN)))
        return proto_error(v->req, ERR_SERIALIZATION,
                           "Cannot deserialize the value at '%s': number out of range for %s",
                           v->path, sh->type == PROTO_T_LONG ? "a long" : "an integer");
    if ((sh->flags & PROTO_SF_MAX) && x > sh->max)
        violation(v, val, 0, "Member must have value less than or equal to %lld",
                  (long long)sh->max);
    if ((sh->flags & PROTO_SF_MIN) && x < sh->min)
        violation(v, val, 0, "Member must have value greater than or equal to %lld",
                  (long long)sh->min);
    return 0;
}

static int check_double(struct vctx *v, const struct proto_model_shape *sh, struct json_object *val)
{
    if (!json_object_is_type(val, json_type_int) && !json_object_is_type(val, json_type_double))
        return ser_error(v, "a number", val);
    double d = json_object_get_double(val);
    if (!isfinite(d)) return ser_error(v, "a finite number", val);
    if ((sh->flags & PROTO_SF_MAX) && d > (double)sh->max)
        violation(v, val, 0, "Member must have value less than or equal to %lld",
                  (long long)sh->max);
    if ((sh->flags & PROTO_SF_MIN) && d < (double)sh->min)
        violation(v, val, 0, "Member must have value greater than or equal to %lld",
                  (long long)sh->min);
    return 0;
}

static int check_timestamp(struct vctx *v, struct json_object *val)
{
    if (json_object_is_type(val, json_type_int)) return 0;
    if (json_object_is_type(val, json_type_double)) {
        if (!isfinite(json_object_get_double(val))) return ser_error(v, "a timestamp", val);
        return 0;
    }
    if (json_object_is_type(val, json_type_string)) {
        const char *s = json_object_get_string(val);
        char *end = NULL;
        double d = *s ? strtod(s, &end) : 0;
        if (end && *end == '\0' && isfinite(d) && end != s) return 0;
        return proto_error(v->req, ERR_SERIALIZATION,
                           "Cannot deserialize the value at '%s': '%.64s' is not a timestamp "
                           "(epoch seconds expected)",
                           v->path, s);
    }
    return ser_error(v, "a timestamp", val);
}

static int check(struct vctx *v, uint32_t si, struct json_object *val, int depth)
{
    const struct proto_model_shape *sh = &v->svc->shapes[si];
    if (depth >= MODEL_MAX_DEPTH)
        return proto_error(v->req, ERR_SERIALIZATION, "Input nested too deeply at '%s'", v->path);
    switch (sh->type) {
    case PROTO_T_STRUCTURE:
        if (!json_object_is_type(val, json_type_object)) return ser_error(v, "a structure", val);
        return check_struct(v, sh, val, depth);
    case PROTO_T_LIST:
        if (!json_object_is_type(val, json_type_array)) return ser_error(v, "a list", val);
        return check_list(v, sh, val, depth);
    case PROTO_T_MAP:
        if (!json_object_is_type(val, json_type_object)) return ser_error(v, "a map", val);
        return check_map(v, sh, val, depth);
    case PROTO_T_STRING:
        if (!json_object_is_type(val, json_type_string)) return ser_error(v, "a string", val);
        return check_string(v, sh, val);
    case PROTO_T_INTEGER:
    case PROTO_T_LONG:
        return check_integer(v, sh, val);
    case PROTO_T_DOUBLE:
    case PROTO_T_FLOAT:
        return check_double(v, sh, val);
    case PROTO_T_BOOLEAN:
        if (!json_object_is_type(val, json_type_boolean)) return ser_error(v, "a boolean", val);
        return 0;
    case PROTO_T_TIMESTAMP:
        return check_timestamp(v, val);
    case PROTO_T_BLOB: {
        if (!json_object_is_type(val, json_type_string)) return ser_error(v, "base64 text", val);
        int64_t n = base64_decoded_len(json_object_get_string(val),
                                       (size_t)json_object_get_string_len(val));
        if (n < 0)
            return proto_error(v->req, ERR_SERIALIZATION,
                               "Cannot deserialize the value at '%s': not valid base64", v->path);
        check_length(v, sh, val, n, 1);
        return 0;
    }
    default:
        return 0;
    }
}

int proto_model_validate(struct proto_req *req, const struct proto_model_op *op,
                         struct json_object *input)
{
    int rc = 0;
    if (!op || op->input < 0) return 0;
    struct vctx local;
    struct vctx *v = &local;
    v->req = req;
    v->svc = op->svc;
    v->path[0] = '\0';
    v->plen = 0;
    v->query = req->service && req->service->protocol == PROTO_AWS_QUERY;
    v->n_errors = 0;
    v->msg = (struct proto_sb)PROTO_SB_INIT;
    struct json_object *empty = NULL;
    if (!input) input = empty = json_object_new_object();
    if (!input) {
        rc = proto_error(req, ERR_INTERNAL_FAILURE, "out of memory");
        goto out;
    }
    if (!json_object_is_type(input, json_type_object)) {
        rc = proto_error(req, ERR_SERIALIZATION, "Start of structure or map expected in the input");
        goto out;
    }
    rc = check(v, (uint32_t)op->input, input, 0);
    if (rc < 0) goto out;
    if (v->n_errors)
        rc = proto_error(req, ERR_VALIDATION, "%d validation error%s detected: %s", v->n_errors,
                         v->n_errors == 1 ? "" : "s", proto_sb_str(&v->msg));
out:
    json_object_put(empty);
    proto_sb_free(&v->msg);
    return rc;
}
