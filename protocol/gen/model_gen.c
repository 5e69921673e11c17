/* Build-time generator: turns a botocore service-2.json into the C validation tables of model.c. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gen_shape {
    const char *name;
    struct json_object *def;
};

static struct gen_shape *g_shapes;
static size_t g_n_shapes;

static int cmp_shape(const void *a, const void *b)
{
    return strcmp(((const struct gen_shape *)a)->name, ((const struct gen_shape *)b)->name);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Returns the index of shape name, or -1 (reported by the caller). */
static long shape_index(const char *name)
{
    struct gen_shape key = {name, NULL};
    struct gen_shape *s = bsearch(&key, g_shapes, g_n_shapes, sizeof(key), cmp_shape);
    return s ? (long)(s - g_shapes) : -1;
}

/* Writes s as a C string literal. */
static void put_cstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\%03o", c);
        else if (c == '?')
            fputs("\\?", f); /* no trigraphs */
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static const char *get_str(struct json_object *o, const char *k)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int type_code(const char *t)
{
    static const char *const names[] = {"structure", "list",   "map",     "string",
                                        "integer",   "long",   "boolean", "timestamp",
                                        "blob",      "double", "float"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (t && strcmp(t, names[i]) == 0) return (int)i;
    return -1;
}

/* Returns the index of a shape reference {"shape": "X"} in o[k], or -1. */
static long ref_index(struct json_object *o, const char *k)
{
    struct json_object *r;
    if (!json_object_object_get_ex(o, k, &r)) return -1;
    const char *n = get_str(r, "shape");
    return n ? shape_index(n) : -1;
}

int main(int argc, char **argv)
{
    int rc = 1;
    FILE *out = NULL;
    struct json_object *root = NULL;
    const char **pats = NULL;
    size_t n_pats = 0;
    if (argc != 4) {
        fprintf(stderr, "usage: %s SERVICE service-2.json OUT.c\n", argv[0]);
        return 2;
    }
    const char *svc = argv[1];
    root = json_object_from_file(argv[2]);
    if (!root) {
        fprintf(stderr, "model_gen: cannot parse %s: %s\n", argv[2], json_util_get_last_err());
        goto out;
    }
    struct json_object *shapes, *ops;
    if (!json_object_object_get_ex(root, "shapes", &shapes) ||
        !json_object_object_get_ex(root, "operations", &ops)) {
        fprintf(stderr, "model_gen: %s has no shapes or operations\n", argv[2]);
        goto out;
    }
    g_n_shapes = (size_t)json_object_object_length(shapes);
    g_shapes = calloc(g_n_shapes + 1, sizeof(*g_shapes));
    pats = calloc(g_n_shapes + 1, sizeof(*pats));
    if (!g_shapes || !pats) goto out;
    size_t i = 0;
    json_object_object_foreach(shapes, sname, sdef)
    {
        g_shapes[i].name = sname;
        g_shapes[i].def = sdef;
        i++;
    }
    qsort(g_shapes, g_n_shapes, sizeof(*g_shapes), cmp_shape);
    if (g_n_shapes > 65535) {
        fprintf(stderr, "model_gen: too many shapes\n");
        goto out;
    }

    out = fopen(argv[3], "w");
    if (!out) {
        fprintf(stderr, "model_gen: cannot write %s: %s\n", argv[3], strerror(errno));
        goto out;
    }
    fprintf(out, "/* Generated from %s by model_gen. Do not edit. */\n", svc);
    fprintf(out, "#include \"protocol/model.h\"\n#include \"protocol/gen/model_tables.h\"\n\n");
    fprintf(out, "#include <stddef.h>\n\n");

    /* Members of all structures, in shape order, and enum values likewise. */
    fprintf(out, "static const struct proto_model_member members[] = {\n");
    size_t n_members = 0;
    for (i = 0; i < g_n_shapes; i++) {
        struct json_object *mem, *req;
        if (!json_object_object_get_ex(g_shapes[i].def, "members", &mem)) continue;
        json_object_object_get_ex(g_shapes[i].def, "required", &req);
        json_object_object_foreach(mem, mname, mdef)
        {
            const char *target = get_str(mdef, "shape");
            long idx = target ? shape_index(target) : -1;
            if (idx < 0) {
                fprintf(stderr, "model_gen: %s.%s: unknown shape\n", g_shapes[i].name, mname);
                goto out;
            }
            int required = 0;
            for (size_t r = 0; req && r < json_object_array_length(req); r++)
                if (strcmp(json_object_get_string(json_object_array_get_idx(req, r)), mname) == 0)
                    required = 1;
            fputs("    {", out);
            put_cstr(out, mname);
            fprintf(out, ", %ld, %d},\n", idx, required);
            n_members++;
        }
    }
    if (!n_members) fputs("    {NULL, 0, 0},\n", out);
    fputs("};\n\nstatic const char *const enums[] = {\n", out);
    size_t n_enums = 0;
    for (i = 0; i < g_n_shapes; i++) {
        struct json_object *en;
        if (!json_object_object_get_ex(g_shapes[i].def, "enum", &en)) continue;
        for (size_t e = 0; e < json_object_array_length(en); e++) {
            fputs("    ", out);
            put_cstr(out, json_object_get_string(json_object_array_get_idx(en, e)));
            fputs(",\n", out);
            n_enums++;
        }
    }
    if (!n_enums) fputs("    NULL,\n", out);
    fputs("};\n\n", out);

    /* Patterns, deduplicated. */
    for (i = 0; i < g_n_shapes; i++) {
        const char *p = get_str(g_shapes[i].def, "pattern");
        if (!p) continue;
        size_t k;
        for (k = 0; k < n_pats && strcmp(pats[k], p) != 0; k++)
            ;
        if (k == n_pats) pats[n_pats++] = p;
    }
    fputs("static const char *const patterns[] = {\n", out);
    for (size_t k = 0; k < n_pats; k++) {
        fputs("    ", out);
        put_cstr(out, pats[k]);
        fputs(",\n", out);
    }
    if (!n_pats) fputs("    NULL,\n", out);
    fprintf(out, "};\n\nstatic void *compiled[%zu];\n\n", n_pats ? n_pats : 1);

    fputs("static const struct proto_model_shape shapes[] = {\n", out);
    size_t mem_at = 0, enum_at = 0;
    for (i = 0; i < g_n_shapes; i++) {
        struct json_object *d = g_shapes[i].def, *v;
        int t = type_code(get_str(d, "type"));
        if (t < 0) {
            fprintf(stderr, "model_gen: %s: unknown type %s\n", g_shapes[i].name,
                    get_str(d, "type") ? get_str(d, "type") : "(none)");
            goto out;
        }
        unsigned flags = 0;
        long long mn = 0, mx = 0;
        if (json_object_object_get_ex(d, "min", &v)) {
            flags |= 1;
            mn = (long long)json_object_get_int64(v);
        }
        if (json_object_object_get_ex(d, "max", &v)) {
            flags |= 2;
            mx = (long long)json_object_get_int64(v);
        }
        if (json_object_object_get_ex(d, "sensitive", &v) && json_object_get_boolean(v)) flags |= 4;
        long pat = -1;
        const char *p = get_str(d, "pattern");
        if (p)
            for (size_t k = 0; k < n_pats; k++)
                if (strcmp(pats[k], p) == 0) pat = (long)k;
        long key = 0, value = 0;
        size_t first = 0, count = 0;
        if (t == 0 && json_object_object_get_ex(d, "members", &v)) {
            first = mem_at;
            count = (size_t)json_object_object_length(v);
            mem_at += count;
        } else if (t == 1) {
            key = ref_index(d, "member");
        } else if (t == 2) {
            key = ref_index(d, "key");
            value = ref_index(d, "value");
        }
        if (key < 0 || value < 0) {
            fprintf(stderr, "model_gen: %s: bad member/key/value reference\n", g_shapes[i].name);
            goto out;
        }
        if (t == 3 && json_object_object_get_ex(d, "enum", &v)) {
            first = enum_at;
            count = json_object_array_length(v);
            enum_at += count;
        }
        fprintf(out, "    /* %zu %s */ {%d, %u, %ld, %ld, %ld, %zu, %zu, %lldLL, %lldLL},\n", i,
                g_shapes[i].name, t, flags, pat, key, value, first, count, mn, mx);
    }
    fputs("};\n\n", out);

    size_t n_ops = (size_t)json_object_object_length(ops);
    const char **opn = calloc(n_ops + 1, sizeof(*opn));
    if (!opn) goto out;
    i = 0;
    json_object_object_foreach(ops, oname, odef)
    {
        (void)odef;
        opn[i++] = oname;
    }
    qsort(opn, n_ops, sizeof(*opn), cmp_str);
    fputs("static const struct proto_model_op ops[] = {\n", out);
    for (i = 0; i < n_ops; i++) {
        struct json_object *op_def = json_object_object_get(ops, opn[i]);
        long in = ref_index(op_def, "input");
        fputs("    {", out);
        put_cstr(out, opn[i]);
        fprintf(out, ", %ld, &proto_model_%s},\n", in, svc);
    }
    free(opn);
    fputs("};\n\n", out);
    fprintf(
        out,
        "const struct proto_model_service proto_model_%s = {\n    \"%s\", shapes, %zu, members, "
        "enums, patterns, %zu, compiled, ops, %zu,\n};\n",
        svc, svc, g_n_shapes, n_pats, n_ops);
    if (fclose(out) != 0) {
        out = NULL;
        fprintf(stderr, "model_gen: write error on %s\n", argv[3]);
        goto out;
    }
    out = NULL;
    rc = 0;
out:
    if (out) fclose(out);
    if (rc) remove(argv[3]);
    free(pats);
    free(g_shapes);
    json_object_put(root);
    return rc;
}
