/* A small hardened XML reader for S3 request bodies, and the XML/URL writers of responses. */
#include <string.h>

#include "protocol/utf8.h"
#include "providers/s3/internal.h"

struct xp {
    proto_arena *a;
    const char *p, *end;
    int nodes;
};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_space(struct xp *x)
{
    while (x->p < x->end && is_space(*x->p))
        x->p++;
}

static int starts(struct xp *x, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(x->end - x->p) >= n && memcmp(x->p, s, n) == 0;
}

/* Skips past the first occurrence of s; returns 0 or -1 when absent. */
static int skip_past(struct xp *x, const char *s)
{
    size_t n = strlen(s);
    while ((size_t)(x->end - x->p) >= n) {
        if (memcmp(x->p, s, n) == 0) {
            x->p += n;
            return 0;
        }
        x->p++;
    }
    return -1;
}

/* Skips the prolog, comments and processing instructions; rejects DOCTYPE. */
static int skip_misc(struct xp *x)
{
    for (;;) {
        skip_space(x);
        if (starts(x, "<?")) {
            if (skip_past(x, "?>")) return -1;
        } else if (starts(x, "<!--")) {
            if (skip_past(x, "-->")) return -1;
        } else if (starts(x, "<!")) {
            return -1; /* DOCTYPE, ENTITY and friends */
        } else {
            return 0;
        }
    }
}

static int name_char(char c)
{
    return c && !is_space(c) && c != '>' && c != '/' && c != '=' && c != '<' && c != '"' &&
           c != '\'';
}

/* Appends a UTF-8 encoding of cp. */
static int put_utf8(struct proto_sb *sb, unsigned long cp)
{
    char b[4];
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    if (cp < 0x80) {
        b[0] = (char)cp;
        proto_sb_append(sb, b, 1);
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        proto_sb_append(sb, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        proto_sb_append(sb, b, 3);
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        proto_sb_append(sb, b, 4);
    }
    return 0;
}

/* Decodes one entity at x->p (just past '&'). */
static int entity(struct xp *x, struct proto_sb *sb)
{
    const char *semi =
        memchr(x->p, ';', (size_t)(x->end - x->p) < 12 ? (size_t)(x->end - x->p) : 12);
    if (!semi) return -1;
    size_t n = (size_t)(semi - x->p);
    const char *e = x->p;
    x->p = semi + 1;
    if (n == 2 && memcmp(e, "lt", 2) == 0)
        proto_sb_putc(sb, '<');
    else if (n == 2 && memcmp(e, "gt", 2) == 0)
        proto_sb_putc(sb, '>');
    else if (n == 3 && memcmp(e, "amp", 3) == 0)
        proto_sb_putc(sb, '&');
    else if (n == 4 && memcmp(e, "quot", 4) == 0)
        proto_sb_putc(sb, '"');
    else if (n == 4 && memcmp(e, "apos", 4) == 0)
        proto_sb_putc(sb, '\'');
    else if (n >= 2 && e[0] == '#') {
        unsigned long cp = 0;
        int hex = e[1] == 'x';
        size_t i = hex ? 2 : 1;
        if (i >= n) return -1;
        for (; i < n; i++) {
            char c = e[i];
            int v;
            if (c >= '0' && c <= '9')
                v = c - '0';
            else if (hex && c >= 'a' && c <= 'f')
                v = c - 'a' + 10;
            else if (hex && c >= 'A' && c <= 'F')
                v = c - 'A' + 10;
            else
                return -1;
            cp = cp * (hex ? 16 : 10) + (unsigned long)v;
            if (cp > 0x10FFFF) return -1;
        }
        return put_utf8(sb, cp);
    } else {
        return -1;
    }
    return 0;
}

static struct s3_xml_node *element(struct xp *x, int depth);

/* Parses content up to the end tag of name; fills n's text and children. */
static int content(struct xp *x, struct s3_xml_node *n, const char *name, size_t name_len,
                   int depth)
{
    struct proto_sb text = PROTO_SB_INIT;
    struct s3_xml_node **tail = &n->child;
    int rc = -1;
    while (x->p < x->end) {
        if (*x->p == '<') {
            if (starts(x, "</")) {
                x->p += 2;
                const char *s = x->p;
                while (x->p < x->end && name_char(*x->p))
                    x->p++;
                if ((size_t)(x->p - s) != name_len || memcmp(s, name, name_len) != 0) goto out;
                skip_space(x);
                if (x->p >= x->end || *x->p != '>') goto out;
                x->p++;
                rc = 0;
                goto out;
            } else if (starts(x, "<!--")) {
                if (skip_past(x, "-->")) goto out;
            } else if (starts(x, "<![CDATA[")) {
                x->p += 9;
                const char *s = x->p;
                if (skip_past(x, "]]>")) goto out;
                proto_sb_append(&text, s, (size_t)(x->p - 3 - s));
            } else if (starts(x, "<!") || starts(x, "<?")) {
                goto out;
            } else {
                struct s3_xml_node *c = element(x, depth + 1);
                if (!c) goto out;
                *tail = c;
                tail = &c->next;
            }
        } else if (*x->p == '&') {
            x->p++;
            if (entity(x, &text)) goto out;
        } else {
            const char *s = x->p;
            while (x->p < x->end && *x->p != '<' && *x->p != '&')
                x->p++;
            proto_sb_append(&text, s, (size_t)(x->p - s));
        }
    }
out:
    if (rc == 0) {
        n->text = proto_arena_strndup(x->a, text.buf ? text.buf : "", text.len);
        n->text_len = text.len;
    }
    proto_sb_free(&text);
    return rc;
}

static struct s3_xml_node *element(struct xp *x, int depth)
{
    if (depth > S3_XML_MAX_DEPTH || ++x->nodes > S3_XML_MAX_NODES) return NULL;
    if (x->p >= x->end || *x->p != '<') return NULL;
    x->p++;
    const char *s = x->p;
    while (x->p < x->end && name_char(*x->p))
        x->p++;
    size_t qlen = (size_t)(x->p - s);
    if (qlen == 0) return NULL;
    struct s3_xml_node *n = proto_arena_alloc(x->a, sizeof(*n));
    const char *colon = memchr(s, ':', qlen);
    const char *local = colon ? colon + 1 : s;
    n->name = proto_arena_strndup(x->a, local, qlen - (size_t)(local - s));
    /* attributes: name="value" pairs, ignored */
    for (;;) {
        skip_space(x);
        if (x->p >= x->end) return NULL;
        if (*x->p == '>') {
            x->p++;
            break;
        }
        if (starts(x, "/>")) {
            x->p += 2;
            n->text = "";
            return n;
        }
        const char *an = x->p;
        while (x->p < x->end && name_char(*x->p))
            x->p++;
        if (x->p == an) return NULL;
        skip_space(x);
        if (x->p >= x->end || *x->p != '=') return NULL;
        x->p++;
        skip_space(x);
        if (x->p >= x->end || (*x->p != '"' && *x->p != '\'')) return NULL;
        char q = *x->p++;
        const char *v = memchr(x->p, q, (size_t)(x->end - x->p));
        if (!v || memchr(x->p, '<', (size_t)(v - x->p))) return NULL;
        x->p = v + 1;
    }
    if (content(x, n, s, qlen, depth)) return NULL;
    return n;
}

struct s3_xml_node *s3_xml_parse(proto_arena *a, const char *doc, size_t len)
{
    struct xp x = {a, doc, doc + len, 0};
    if (!doc || len > S3_XML_MAX_SIZE) return NULL;
    if (len >= 3 && memcmp(doc, "\xEF\xBB\xBF", 3) == 0) x.p += 3;
    if (memchr(doc, '\0', len) || !s3_utf8_valid(doc, len)) return NULL; /* not well-formed */
    if (skip_misc(&x)) return NULL;
    struct s3_xml_node *root = element(&x, 1);
    if (!root) return NULL;
    if (skip_misc(&x) || x.p != x.end) return NULL;
    return root;
}

struct s3_xml_node *s3_xml_child(const struct s3_xml_node *n, const char *name)
{
    for (struct s3_xml_node *c = n ? n->child : NULL; c; c = c->next)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

const char *s3_xml_child_text(const struct s3_xml_node *n, const char *name)
{
    struct s3_xml_node *c = s3_xml_child(n, name);
    return c ? c->text : NULL;
}

void s3_xml_elem_n(struct proto_sb *sb, const char *name, const char *value, size_t n)
{
    proto_sb_printf(sb, "<%s>", name);
    proto_sb_xml_escape(sb, value, n);
    proto_sb_printf(sb, "</%s>", name);
}

void s3_xml_elem(struct proto_sb *sb, const char *name, const char *value)
{
    s3_xml_elem_n(sb, name, value ? value : "", value ? strlen(value) : 0);
}

void s3_url_encode(struct proto_sb *sb, const char *s, size_t n)
{
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            proto_sb_putc(sb, (char)c);
        } else {
            char b[3] = {'%', hx[c >> 4], hx[c & 15]};
            proto_sb_append(sb, b, 3);
        }
    }
}

void s3_xml_elem_key(struct proto_sb *sb, const char *name, const char *value, size_t n, int url)
{
    if (!url) {
        s3_xml_elem_n(sb, name, value, n);
        return;
    }
    proto_sb_printf(sb, "<%s>", name);
    s3_url_encode(sb, value, n);
    proto_sb_printf(sb, "</%s>", name);
}

int s3_utf8_valid(const char *s, size_t n)
{
    return proto_utf8_check(s, n) == n;
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *s3_url_decode(proto_arena *a, const char *s, size_t n, size_t *out_len)
{
    char *out = proto_arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexv((unsigned char)s[i + 1])) >= 0 &&
            (l = hexv((unsigned char)s[i + 2])) >= 0) {
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    if (out_len) *out_len = o;
    return out;
}

void s3_xml_begin(struct proto_req *req, const char *root)
{
    req->content_type = "application/xml";
    proto_sb_puts(&req->body, S3_XML_DECL);
    proto_sb_printf(&req->body, "<%s xmlns=\"%s\">", root, S3_XMLNS);
}

void s3_xml_end(struct proto_req *req, const char *root)
{
    proto_sb_printf(&req->body, "</%s>", root);
}
