/* S3 request bodies read with expat, hardened; and the XML/URL writers of responses. */
#include <expat.h>
#include <string.h>

#include "protocol/utf8.h"
#include "providers/s3/internal.h"
#include "sigv4/encode.h"

/* One open element: its node, where its next child goes, and its character data so far. */
struct xframe {
    struct s3_xml_node *node;
    struct s3_xml_node **tail;
    struct proto_sb text;
};

struct xp {
    XML_Parser parser;
    proto_arena *a;
    struct s3_xml_node *root;
    struct xframe stack[S3_XML_MAX_DEPTH];
    int depth; /* open elements */
    int nodes;
    int failed;
};

/* Stops the parse: XML_Parse then returns XML_STATUS_ERROR and the document is refused. */
static void fail(struct xp *x)
{
    x->failed = 1;
    XML_StopParser(x->parser, XML_FALSE);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct xp *x = ud;
    (void)attrs; /* attributes carry nothing S3 reads */
    if (x->failed) return;
    if (x->depth >= S3_XML_MAX_DEPTH || ++x->nodes > S3_XML_MAX_NODES ||
        (x->depth == 0 && x->root)) {
        fail(x);
        return;
    }
    const char *colon = strrchr(name, ':');
    struct s3_xml_node *n = proto_arena_alloc(x->a, sizeof(*n));
    n->name = proto_arena_strdup(x->a, colon ? colon + 1 : name); /* local name */
    if (x->depth == 0) {
        x->root = n;
    } else {
        struct xframe *up = &x->stack[x->depth - 1];
        *up->tail = n;
        up->tail = &n->next;
    }
    struct xframe *f = &x->stack[x->depth++];
    f->node = n;
    f->tail = &n->child;
    f->text = (struct proto_sb)PROTO_SB_INIT;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct xp *x = ud;
    (void)name; /* expat has matched it with the start tag */
    if (x->failed || x->depth == 0) return;
    struct xframe *f = &x->stack[--x->depth];
    f->node->text = proto_arena_strndup(x->a, f->text.buf ? f->text.buf : "", f->text.len);
    f->node->text_len = f->text.len;
    proto_sb_free(&f->text);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct xp *x = ud;
    if (x->failed || x->depth == 0) return;
    proto_sb_append(&x->stack[x->depth - 1].text, s, (size_t)len);
}

/* No DTD of any kind: entity expansion (billion laughs, external entities) cannot start. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    fail(ud);
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
    (void)name;
    (void)is_param;
    (void)value;
    (void)value_len;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    fail(ud);
}

/* Processing instructions only outside the root, as the S3 request bodies never carry them. */
static void XMLCALL on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    struct xp *x = ud;
    (void)target;
    (void)data;
    if (x->depth) fail(x);
}

struct s3_xml_node *s3_xml_parse(proto_arena *a, const char *doc, size_t len)
{
    struct xp x;
    struct s3_xml_node *root = NULL;
    if (!doc || len > S3_XML_MAX_SIZE) return NULL;
    /* expat is given UTF-8 whatever the declaration says; bytes that are not UTF-8, or a NUL,
     * make the document not well-formed */
    if (memchr(doc, '\0', len) || !s3_utf8_valid(doc, len)) return NULL;
    memset(&x, 0, sizeof(x));
    x.a = a;
    x.parser = XML_ParserCreate("UTF-8");
    if (!x.parser) return NULL;
    XML_SetUserData(x.parser, &x);
    XML_SetElementHandler(x.parser, on_start, on_end);
    XML_SetCharacterDataHandler(x.parser, on_text);
    XML_SetStartDoctypeDeclHandler(x.parser, on_doctype);
    XML_SetEntityDeclHandler(x.parser, on_entity_decl);
    XML_SetProcessingInstructionHandler(x.parser, on_pi);
    XML_SetParamEntityParsing(x.parser, XML_PARAM_ENTITY_PARSING_NEVER);
    if (XML_Parse(x.parser, doc, (int)len, XML_TRUE) == XML_STATUS_OK && !x.failed && x.root &&
        x.depth == 0)
        root = x.root;
    for (int i = 0; i < x.depth; i++) /* elements left open by a refused document */
        proto_sb_free(&x.stack[i].text);
    XML_ParserFree(x.parser);
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

char *s3_url_decode(proto_arena *a, const char *s, size_t n, size_t *out_len)
{
    char *out = proto_arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = sigv4_hex_value((unsigned char)s[i + 1])) >= 0 &&
            (l = sigv4_hex_value((unsigned char)s[i + 2])) >= 0) {
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
