/* appspec.yml parsing (libyaml's document API) and the path checks of revisions. */
#include "providers/codedeploy/appspec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static const char *const event_names[CD_EV__COUNT] = {
    "ApplicationStop", "DownloadBundle",   "BeforeInstall",   "Install",
    "AfterInstall",    "ApplicationStart", "ValidateService",
};

const char *cd_event_name(enum cd_event e)
{
    return e < CD_EV__COUNT ? event_names[e] : "Unknown";
}

int cd_path_inside(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    if (!in || cap == 0) return -1;
    const char *p = in;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p) break;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return -1;
        if (!(n == 1 && p[0] == '.')) {
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)p[i] < 0x20) return -1;
            if (o + (o ? 1 : 0) + n + 1 > cap) return -1;
            if (o) out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
    }
    out[o] = '\0';
    return (int)o;
}

struct ps {
    yaml_document_t *doc;
    char *err;
    size_t errlen;
};

static int fail(struct ps *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ps *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, s->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Returns the value node of key in mapping m, or NULL. */
static yaml_node_t *get(struct ps *s, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *k = scalar(yaml_document_get_node(s->doc, p->key));
        if (k && strcmp(k, key) == 0) return yaml_document_get_node(s->doc, p->value);
    }
    return NULL;
}

static size_t seq_len(yaml_node_t *n)
{
    return n && n->type == YAML_SEQUENCE_NODE
               ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
               : 0;
}

static yaml_node_t *seq_at(struct ps *s, yaml_node_t *n, size_t i)
{
    return yaml_document_get_node(s->doc, n->data.sequence.items.start[i]);
}

static int parse_files(struct ps *s, yaml_node_t *files, struct cd_appspec *a)
{
    char buf[4096];
    if (!files || (files->type == YAML_SCALAR_NODE && !*scalar(files))) return 0;
    if (files->type != YAML_SEQUENCE_NODE)
        return fail(s, "The files section of the AppSpec file must be a list");
    size_t n = seq_len(files);
    a->files = calloc(n ? n : 1, sizeof *a->files);
    if (!a->files) return fail(s, "out of memory");
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *f = seq_at(s, files, i);
        const char *src = scalar(get(s, f, "source")), *dst = scalar(get(s, f, "destination"));
        if (!src || !dst)
            return fail(s, "Each entry of the files section needs a source and a destination");
        if (dst[0] != '/') return fail(s, "The destination %s must be an absolute path", dst);
        struct cd_file *x = &a->files[a->n_files++];
        if (cd_path_inside(src, buf, sizeof buf) < 0)
            return fail(s, "The source %s points outside the revision", src);
        x->source = strdup(buf);
        if (cd_path_inside(dst, buf, sizeof buf) < 0)
            return fail(s, "The destination %s points outside the instance", dst);
        x->destination = strdup(buf);
        if (!x->source || !x->destination) return fail(s, "out of memory");
    }
    return 0;
}

static int parse_perms(struct ps *s, yaml_node_t *perms, struct cd_appspec *a)
{
    char buf[4096];
    if (!perms || (perms->type == YAML_SCALAR_NODE && !*scalar(perms))) return 0;
    if (perms->type != YAML_SEQUENCE_NODE)
        return fail(s, "The permissions section of the AppSpec file must be a list");
    size_t n = seq_len(perms);
    a->perms = calloc(n ? n : 1, sizeof *a->perms);
    if (!a->perms) return fail(s, "out of memory");
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *p = seq_at(s, perms, i);
        const char *obj = scalar(get(s, p, "object")), *mode = scalar(get(s, p, "mode"));
        const char *pattern = scalar(get(s, p, "pattern")), *owner = scalar(get(s, p, "owner")),
                   *group = scalar(get(s, p, "group"));
        yaml_node_t *type = get(s, p, "type");
        if (!obj) return fail(s, "Each entry of the permissions section needs an object");
        if (cd_path_inside(obj, buf, sizeof buf) < 0)
            return fail(s, "The permissions object %s points outside the instance", obj);
        struct cd_permission *x = &a->perms[a->n_perms++];
        x->object = strdup(buf);
        x->pattern = strdup(pattern ? pattern : "**");
        x->owner = owner ? strdup(owner) : NULL;
        x->group = group ? strdup(group) : NULL;
        if (!x->object || !x->pattern) return fail(s, "out of memory");
        if (mode) {
            char *end;
            unsigned long m = strtoul(mode, &end, 8);
            if (*end || !*mode || m > 07777)
                return fail(s, "The permissions mode %s is not an octal mode", mode);
            x->mode = (unsigned)m;
        }
        x->files = x->dirs = type ? 0 : 1;
        for (size_t j = 0; j < seq_len(type); j++) {
            const char *t = scalar(seq_at(s, type, j));
            if (t && strcmp(t, "file") == 0)
                x->files = 1;
            else if (t && strcmp(t, "directory") == 0)
                x->dirs = 1;
            else
                return fail(s, "The permissions type %s is not file or directory", t ? t : "");
        }
    }
    return 0;
}

static int parse_hooks(struct ps *s, yaml_node_t *hooks, struct cd_appspec *a)
{
    char buf[4096];
    if (!hooks || (hooks->type == YAML_SCALAR_NODE && !*scalar(hooks))) return 0;
    if (hooks->type != YAML_MAPPING_NODE)
        return fail(s, "The hooks section of the AppSpec file must be a mapping");
    for (yaml_node_pair_t *p = hooks->data.mapping.pairs.start; p < hooks->data.mapping.pairs.top;
         p++) {
        const char *name = scalar(yaml_document_get_node(s->doc, p->key));
        yaml_node_t *list = yaml_document_get_node(s->doc, p->value);
        int ev = -1;
        for (int e = 0; e < CD_EV__COUNT; e++)
            if (name && strcmp(name, event_names[e]) == 0) ev = e;
        if (ev == CD_EV_DOWNLOAD_BUNDLE || ev == CD_EV_INSTALL)
            return fail(s,
                        "The lifecycle event %s is reserved for the agent and cannot have "
                        "scripts",
                        name);
        if (ev < 0) continue; /* events of other platforms are never run here */
        if (list->type == YAML_SCALAR_NODE && !*scalar(list)) continue;
        if (list->type != YAML_SEQUENCE_NODE)
            return fail(s, "The hooks of %s must be a list", name);
        size_t n = seq_len(list);
        a->hooks[ev] = calloc(n ? n : 1, sizeof *a->hooks[ev]);
        if (!a->hooks[ev]) return fail(s, "out of memory");
        for (size_t i = 0; i < n; i++) {
            yaml_node_t *h = seq_at(s, list, i);
            const char *loc = scalar(get(s, h, "location")),
                       *timeout = scalar(get(s, h, "timeout")), *runas = scalar(get(s, h, "runas"));
            if (!loc || !*loc) return fail(s, "A hook of %s has no location", name);
            if (cd_path_inside(loc, buf, sizeof buf) <= 0)
                return fail(s, "The script location %s points outside the revision", loc);
            struct cd_hook *x = &a->hooks[ev][a->n_hooks[ev]++];
            x->location = strdup(buf);
            x->runas = runas ? strdup(runas) : NULL;
            x->timeout = CD_HOOK_TIMEOUT_MAX;
            if (!x->location) return fail(s, "out of memory");
            if (timeout) {
                char *end;
                long t = strtol(timeout, &end, 10);
                if (*end || !*timeout || t < 1 || t > CD_HOOK_TIMEOUT_MAX)
                    return fail(s,
                                "The timeout %s of %s must be a whole number of seconds "
                                "from 1 to 3600",
                                timeout, loc);
                x->timeout = (int)t;
            }
        }
    }
    return 0;
}

int cd_appspec_parse(const char *text, size_t len, struct cd_appspec *out, char *err, size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct ps s = {&doc, err, errlen};
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (!yaml_parser_initialize(&parser)) return fail(&s, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        fail(&s, "The AppSpec file is not valid YAML: %s at line %zu",
             parser.problem ? parser.problem : "syntax error", parser.problem_mark.line + 1);
        yaml_parser_delete(&parser);
        return -1;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        fail(&s, "The AppSpec file is empty or not a mapping");
        goto out;
    }
    const char *version = scalar(get(&s, root, "version"));
    if (!version || strcmp(version, "0.0") != 0) {
        fail(&s,
             "The deployment failed because an invalid version value (%s) was entered in the "
             "application specification file. Make sure your AppSpec file specifies \"0.0\" "
             "as the version, and then try again.",
             version ? version : "");
        goto out;
    }
    const char *os = scalar(get(&s, root, "os"));
    if (!os || strcmp(os, "linux") != 0) {
        fail(&s,
             "The AppSpec file's os is %s: only linux instances are simulated by "
             "codepipeline-local",
             os ? os : "missing");
        goto out;
    }
    const char *feb = scalar(get(&s, root, "file_exists_behavior"));
    if (feb) {
        if (strcmp(feb, "DISALLOW") && strcmp(feb, "OVERWRITE") && strcmp(feb, "RETAIN")) {
            fail(&s, "The file_exists_behavior %s is not DISALLOW, OVERWRITE or RETAIN", feb);
            goto out;
        }
        out->file_exists_behavior = strdup(feb);
    }
    if (parse_files(&s, get(&s, root, "files"), out) ||
        parse_perms(&s, get(&s, root, "permissions"), out) ||
        parse_hooks(&s, get(&s, root, "hooks"), out))
        goto out;
    rc = 0;
out:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc) cd_appspec_free(out);
    return rc;
}

void cd_appspec_free(struct cd_appspec *a)
{
    for (size_t i = 0; i < a->n_files; i++) {
        free(a->files[i].source);
        free(a->files[i].destination);
    }
    free(a->files);
    for (size_t i = 0; i < a->n_perms; i++) {
        free(a->perms[i].object);
        free(a->perms[i].pattern);
        free(a->perms[i].except);
        free(a->perms[i].owner);
        free(a->perms[i].group);
    }
    free(a->perms);
    for (int e = 0; e < CD_EV__COUNT; e++) {
        for (size_t i = 0; i < a->n_hooks[e]; i++) {
            free(a->hooks[e][i].location);
            free(a->hooks[e][i].runas);
        }
        free(a->hooks[e]);
    }
    free(a->file_exists_behavior);
    memset(a, 0, sizeof *a);
}
