/* Buildspec 0.2 parsing (libyaml's document API), phase rules, globs and path checks. */
#include "providers/codebuild/buildspec.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static const char *const PHASE_KEYS[CB_N_PHASES] = {"install", "pre_build", "build", "post_build"};
static const char *const PHASE_TYPES[CB_N_PHASES] = {"INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD"};

const char *cb_phase_key(enum cb_phase_kind k)
{
    return k < CB_N_PHASES ? PHASE_KEYS[k] : "";
}

const char *cb_phase_type(enum cb_phase_kind k)
{
    return k < CB_N_PHASES ? PHASE_TYPES[k] : "";
}

enum cb_phase_kind cb_phase_after_failure(enum cb_phase_kind k)
{
    return k == CB_BUILD ? CB_POST_BUILD : CB_N_PHASES;
}

struct ctx {
    yaml_document_t *doc;
    char *err;
    size_t errlen;
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) abort();
    return d;
}

static void strs_add(struct cb_strs *s, const char *v)
{
    char **n = realloc(s->v, (s->n + 1) * sizeof *n);
    if (!n) abort();
    s->v = n;
    s->v[s->n++] = xstrdup(v);
}

static void strs_free(struct cb_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static yaml_node_t *node(struct ctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Returns the value node of key in mapping m, or NULL. */
static yaml_node_t *lookup(struct ctx *c, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *k = scalar(node(c, p->key));
        if (k && !strcmp(k, key)) return node(c, p->value);
    }
    return NULL;
}

/* Reads a scalar or a sequence of scalars (a single command may be written as a string). */
static int read_list(struct ctx *c, yaml_node_t *n, const char *what, struct cb_strs *out)
{
    if (!n) return 0;
    if (n->type == YAML_SCALAR_NODE) {
        if (*scalar(n)) strs_add(out, scalar(n));
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE) return fail(c, "Expected %s to be a list", what);
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
        const char *s = scalar(node(c, *i));
        if (!s) return fail(c, "Expected %s to be a list of strings", what);
        strs_add(out, s);
    }
    return 0;
}

static int truthy(const char *s)
{
    return s && (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "True") ||
                 !strcmp(s, "TRUE") || !strcmp(s, "Yes"));
}

static int read_artifacts(struct ctx *c, yaml_node_t *n, struct cb_spec_artifacts *a)
{
    if (n->type != YAML_MAPPING_NODE) return fail(c, "Expected artifacts to be a mapping");
    a->present = 1;
    if (read_list(c, lookup(c, n, "files"), "artifacts files", &a->files)) return -1;
    if (read_list(c, lookup(c, n, "exclude-paths"), "exclude-paths", &a->exclude)) return -1;
    const char *s;
    if ((s = scalar(lookup(c, n, "base-directory")))) a->base_directory = xstrdup(s);
    if ((s = scalar(lookup(c, n, "name")))) a->name = xstrdup(s);
    a->discard_paths = truthy(scalar(lookup(c, n, "discard-paths")));
    return 0;
}

static int read_env(struct ctx *c, yaml_node_t *env, struct cb_spec *s)
{
    if (env->type != YAML_MAPPING_NODE) return fail(c, "Expected env to be a mapping");
    const char *sh = scalar(lookup(c, env, "shell"));
    if (sh) s->shell = xstrdup(sh);
    yaml_node_t *vars = lookup(c, env, "variables");
    if (vars) {
        if (vars->type != YAML_MAPPING_NODE)
            return fail(c, "Expected env variables to be a mapping");
        for (yaml_node_pair_t *p = vars->data.mapping.pairs.start; p < vars->data.mapping.pairs.top;
             p++) {
            const char *k = scalar(node(c, p->key)), *v = scalar(node(c, p->value));
            if (!k || !v) return fail(c, "Expected env variables to map names to strings");
            strs_add(&s->var_names, k);
            strs_add(&s->var_values, v);
        }
    }
    return read_list(c, lookup(c, env, "exported-variables"), "exported-variables", &s->exported);
}

static int read_phases(struct ctx *c, yaml_node_t *phases, struct cb_spec *s)
{
    if (phases->type != YAML_MAPPING_NODE) return fail(c, "Expected phases to be a mapping");
    for (int k = 0; k < CB_N_PHASES; k++) {
        yaml_node_t *p = lookup(c, phases, PHASE_KEYS[k]);
        if (!p) continue;
        struct cb_spec_phase *ph = &s->phases[k];
        ph->present = 1;
        if (p->type == YAML_SCALAR_NODE && !*scalar(p)) continue; /* "build:" with nothing */
        if (p->type != YAML_MAPPING_NODE)
            return fail(c, "Expected phase %s to be a mapping", PHASE_KEYS[k]);
        const char *of = scalar(lookup(c, p, "on-failure"));
        if (of && strcmp(of, "ABORT") && strcmp(of, "CONTINUE"))
            return fail(c, "Unknown on-failure value %s in phase %s: expected ABORT or CONTINUE",
                        of, PHASE_KEYS[k]);
        ph->on_failure_continue = of && !strcmp(of, "CONTINUE");
        if (read_list(c, lookup(c, p, "commands"), "commands", &ph->commands)) return -1;
        if (read_list(c, lookup(c, p, "finally"), "finally", &ph->finally)) return -1;
    }
    return 0;
}

static int read_reports(struct ctx *c, yaml_node_t *r, struct cb_spec *s)
{
    if (r->type != YAML_MAPPING_NODE) return fail(c, "Expected reports to be a mapping");
    for (yaml_node_pair_t *p = r->data.mapping.pairs.start; p < r->data.mapping.pairs.top; p++) {
        const char *name = scalar(node(c, p->key));
        yaml_node_t *v = node(c, p->value);
        if (!name || !v || v->type != YAML_MAPPING_NODE)
            return fail(c, "Expected each report to be a mapping");
        s->reports = realloc(s->reports, (s->n_reports + 1) * sizeof *s->reports);
        if (!s->reports) abort();
        struct cb_spec_report *rep = &s->reports[s->n_reports++];
        memset(rep, 0, sizeof *rep);
        rep->name = xstrdup(name);
        const char *f;
        if ((f = scalar(lookup(c, v, "file-format")))) rep->file_format = xstrdup(f);
        if ((f = scalar(lookup(c, v, "base-directory")))) rep->base_directory = xstrdup(f);
        rep->discard_paths = truthy(scalar(lookup(c, v, "discard-paths")));
        if (read_list(c, lookup(c, v, "files"), "report files", &rep->files)) return -1;
    }
    return 0;
}

int cb_spec_parse(const char *yaml, size_t len, struct cb_spec *out, char *err, size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct ctx c = {&doc, err, errlen};
    int rc = -1, have_doc = 0;

    memset(out, 0, sizeof *out);
    if (!yaml_parser_initialize(&parser)) return fail(&c, "Out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        fail(&c, "YAML file does not parse: %s at line %lu", parser.problem ? parser.problem : "",
             (unsigned long)parser.problem_mark.line + 1);
        goto out;
    }
    have_doc = 1;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        fail(&c, "YAML file is not a mapping of buildspec keys");
        goto out;
    }
    const char *version = scalar(lookup(&c, root, "version"));
    if (!version) {
        fail(&c, "Missing version in the buildspec");
        goto out;
    }
    if (strcmp(version, "0.2") && strcmp(version, "0.1")) {
        fail(&c, "Unknown runtime version: %s", version);
        goto out;
    }
    yaml_node_t *phases = lookup(&c, root, "phases"), *n;
    if (!phases) {
        fail(&c, "Phases cannot be empty");
        goto out;
    }
    if ((n = lookup(&c, root, "env")) && read_env(&c, n, out)) goto out;
    if (read_phases(&c, phases, out)) goto out;
    if ((n = lookup(&c, root, "artifacts"))) {
        if (read_artifacts(&c, n, &out->artifacts)) goto out;
        yaml_node_t *sec = lookup(&c, n, "secondary-artifacts");
        if (sec && sec->type == YAML_MAPPING_NODE) {
            for (yaml_node_pair_t *p = sec->data.mapping.pairs.start;
                 p < sec->data.mapping.pairs.top; p++) {
                out->secondary =
                    realloc(out->secondary, (out->n_secondary + 1) * sizeof *out->secondary);
                if (!out->secondary) abort();
                struct cb_spec_artifacts *a = &out->secondary[out->n_secondary++];
                memset(a, 0, sizeof *a);
                a->identifier = xstrdup(scalar(node(&c, p->key)));
                if (read_artifacts(&c, node(&c, p->value), a)) goto out;
            }
        }
    }
    if ((n = lookup(&c, root, "reports")) && read_reports(&c, n, out)) goto out;
    rc = 0;
out:
    if (have_doc) yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc) cb_spec_free(out);
    return rc;
}

static void artifacts_free(struct cb_spec_artifacts *a)
{
    free(a->identifier);
    strs_free(&a->files);
    strs_free(&a->exclude);
    free(a->base_directory);
    free(a->name);
}

void cb_spec_free(struct cb_spec *s)
{
    free(s->shell);
    strs_free(&s->var_names);
    strs_free(&s->var_values);
    strs_free(&s->exported);
    for (int k = 0; k < CB_N_PHASES; k++) {
        strs_free(&s->phases[k].commands);
        strs_free(&s->phases[k].finally);
    }
    artifacts_free(&s->artifacts);
    for (size_t i = 0; i < s->n_secondary; i++)
        artifacts_free(&s->secondary[i]);
    free(s->secondary);
    for (size_t i = 0; i < s->n_reports; i++) {
        free(s->reports[i].name);
        free(s->reports[i].file_format);
        free(s->reports[i].base_directory);
        strs_free(&s->reports[i].files);
    }
    free(s->reports);
    memset(s, 0, sizeof *s);
}

/* Matches glob against path component by component; "**" takes any number of components. */
static int match_from(const char *g, const char *p)
{
    for (;;) {
        if (!strncmp(g, "**", 2) && (g[2] == '/' || !g[2])) {
            const char *rest = g[2] ? g + 3 : g + 2;
            if (!*rest) return 1; /* a trailing ** matches everything below */
            for (const char *q = p;; q++) {
                if ((q == p || q[-1] == '/') && match_from(rest, q)) return 1;
                if (!*q) return 0;
            }
        }
        const char *gs = strchr(g, '/'), *ps = strchr(p, '/');
        size_t gl = gs ? (size_t)(gs - g) : strlen(g), pl = ps ? (size_t)(ps - p) : strlen(p);
        char gc[1024], pc[1024];
        if (gl >= sizeof gc || pl >= sizeof pc) return 0;
        memcpy(gc, g, gl);
        gc[gl] = 0;
        memcpy(pc, p, pl);
        pc[pl] = 0;
        if (fnmatch(gc, pc, 0) != 0) return 0;
        if (!gs && !ps) return 1;
        if (!gs || !ps) return 0;
        g = gs + 1;
        p = ps + 1;
    }
}

int cb_glob_match(const char *glob, const char *path)
{
    while (glob[0] == '.' && glob[1] == '/')
        glob += 2;
    return match_from(glob, path);
}

int cb_path_is_inside(const char *rel)
{
    if (!rel || rel[0] == '/') return 0;
    int depth = 0;
    const char *p = rel;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0) return 0;
        } else if (n && !(n == 1 && p[0] == '.')) {
            depth++;
        }
        if (!e) break;
        p = e + 1;
    }
    return 1;
}
