/* Pipeline structure rules and default filling, with AWS's exception types and wording. */
#include "providers/codepipeline/structure.h"
#include "providers/codepipeline/trigger_filters.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "providers/codepipeline/catalogue.h"
#include "providers/codepipeline/rules.h"
#include "providers/codepipeline/cp_json.h"

#define MAX_STAGES            50
#define MAX_ACTIONS_PER_STAGE 50
#define MAX_ACTIONS           500
#define MAX_BLOCKERS          50

/* ---- normalising ---------------------------------------------------------------------------- */

static const char *const PIPELINE_ORDER[] = {
    "name",          "roleArn",      "artifactStore", "artifactStores", "stages", "version",
    "executionMode", "pipelineType", "variables",     "triggers",       NULL};
static const char *const STAGE_ORDER[] = {"name",      "blockers",    "actions", "onFailure",
                                          "onSuccess", "beforeEntry", NULL};
static const char *const ACTION_ORDER[] = {"name",
                                           "actionTypeId",
                                           "runOrder",
                                           "configuration",
                                           "commands",
                                           "outputArtifacts",
                                           "inputArtifacts",
                                           "outputVariables",
                                           "roleArn",
                                           "region",
                                           "namespace",
                                           "timeoutInMinutes",
                                           "environmentVariables",
                                           NULL};

/* s, or "" for a missing member (messages never print a null pointer). */
static const char *nz(const char *s)
{
    return s ? s : "";
}

static size_t alen(struct json_object *a)
{
    return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static void copy_member(struct json_object *dst, struct json_object *src, const char *k)
{
    struct json_object *v = jget(src, k);
    if (v) json_object_object_add(dst, k, json_object_get(v));
}

static struct json_object *normalise_action(struct json_object *a)
{
    struct json_object *out = json_object_new_object();
    for (const char *const *k = ACTION_ORDER; *k; k++) {
        if (!strcmp(*k, "runOrder") && !jget(a, "runOrder"))
            json_object_object_add(out, "runOrder", json_object_new_int(1));
        else if (!strcmp(*k, "configuration") && !jget(a, "configuration"))
            json_object_object_add(out, "configuration", json_object_new_object());
        else if ((!strcmp(*k, "outputArtifacts") || !strcmp(*k, "inputArtifacts")) && !jget(a, *k))
            json_object_object_add(out, *k, json_object_new_array());
        else
            copy_member(out, a, *k);
    }
    return out;
}

static struct json_object *normalise_stage(struct json_object *s)
{
    struct json_object *out = json_object_new_object();
    for (const char *const *k = STAGE_ORDER; *k; k++) {
        if (!strcmp(*k, "actions")) {
            struct json_object *acts = jget(s, "actions"), *na = json_object_new_array();
            for (size_t i = 0; i < alen(acts); i++)
                json_object_array_add(na, normalise_action(json_object_array_get_idx(acts, i)));
            json_object_object_add(out, "actions", na);
        } else {
            copy_member(out, s, *k);
        }
    }
    return out;
}

/* Whether a stage declares conditions: release-safety parameters of V2 pipelines. */
static int has_conditions(struct json_object *stages)
{
    static const char *const KINDS[] = {"beforeEntry", "onSuccess", "onFailure"};
    for (size_t i = 0; i < alen(stages); i++)
        for (int k = 0; k < 3; k++)
            if (alen(jget(jget(json_object_array_get_idx(stages, i), KINDS[k]), "conditions")))
                return 1;
    return 0;
}

struct json_object *cp_structure_normalise(struct json_object *decl, uint32_t version)
{
    struct json_object *out = json_object_new_object();
    for (const char *const *k = PIPELINE_ORDER; *k; k++) {
        if (!strcmp(*k, "stages")) {
            struct json_object *st = jget(decl, "stages"), *ns = json_object_new_array();
            for (size_t i = 0; i < alen(st); i++)
                json_object_array_add(ns, normalise_stage(json_object_array_get_idx(st, i)));
            json_object_object_add(out, "stages", ns);
        } else if (!strcmp(*k, "version")) {
            json_object_object_add(out, "version", json_object_new_int64(version));
        } else if (!strcmp(*k, "executionMode") && !jgets(decl, *k)) {
            json_object_object_add(out, *k, json_object_new_string("SUPERSEDED"));
        } else if (!strcmp(*k, "pipelineType") && !jgets(decl, *k)) {
            /* "Including V2 parameters, such as triggers on Git tags, in the pipeline JSON when
             * creating or updating a pipeline will result in the pipeline having the V2 type"
             * (the model's PipelineDeclaration.pipelineType). */
            int v2 = alen(jget(decl, "triggers")) || alen(jget(decl, "variables")) ||
                     has_conditions(jget(decl, "stages"));
            json_object_object_add(out, *k, json_object_new_string(v2 ? "V2" : "V1"));
        } else {
            copy_member(out, decl, *k);
        }
    }
    return out;
}

/* ---- validating ----------------------------------------------------------------------------- */

static int fail(struct cp_structure_error *e, enum proto_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct cp_structure_error *e, enum proto_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->err = err;
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* A set of names (artifacts, namespaces) with the group (stage, runOrder) that declared them. */
struct nameset {
    const char **names;
    long *group;
    size_t n, cap;
};

static void ns_add(struct nameset *s, const char *name, long group)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->names = realloc(s->names, s->cap * sizeof *s->names);
        s->group = realloc(s->group, s->cap * sizeof *s->group);
        if (!s->names || !s->group) abort();
    }
    s->names[s->n] = name;
    s->group[s->n++] = group;
}

/* Returns the index of name in s, or -1. */
static long ns_find(const struct nameset *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name)) return (long)i;
    return -1;
}

static void ns_free(struct nameset *s)
{
    free(s->names);
    free(s->group);
}

static int is_source(struct json_object *action)
{
    const char *c = jgets(jget(action, "actionTypeId"), "category");
    return c && !strcmp(c, "Source");
}

static int run_order(struct json_object *action)
{
    struct json_object *r = jget(action, "runOrder");
    return r ? json_object_get_int(r) : 1;
}

/* Writes the region as AWS spells it in messages ("US_EAST_1"). */
static void region_upper(char *out, size_t n, const char *region)
{
    size_t i = 0;
    for (; region && region[i] && i + 1 < n; i++) {
        char c = region[i];
        out[i] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    out[i] = 0;
}

/* AWS's wording for the minimum (awsdocs/aws-cloudformation-user-guide#941). */
static int check_count(struct cp_structure_error *e, const char *action, size_t n, int min, int max,
                       const char *what)
{
    if ((long)n < min)
        return fail(e, ERR_INVALID_ACTION_DECLARATION,
                    "Action %s declares %zu %s artifacts which is less than the minimum count (%d)",
                    action, n, what, min);
    if ((long)n > max)
        return fail(e, ERR_INVALID_ACTION_DECLARATION,
                    "Action %s declares %zu %s artifacts which is more than the maximum count (%d)",
                    action, n, what, max);
    return 0;
}

/* True when v is a valid value for a queryable property: 1..20 of [A-Za-z0-9_-]. */
static int queryable_value_ok(const char *v)
{
    size_t n = strlen(v);
    if (n < 1 || n > 20) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Checks the configuration keys of an action against a provider's properties. props_builtin or
 * props_custom (a JSON array of {name, required}) describes the properties. */
static int check_config(struct cp_structure_error *e, const char *action, struct json_object *cfg,
                        const struct cp_config_prop *props_builtin,
                        struct json_object *props_custom)
{
    if (props_builtin) {
        for (const struct cp_config_prop *p = props_builtin; p->name; p++)
            if (p->required && !jget(cfg, p->name))
                return fail(e, ERR_INVALID_ACTION_DECLARATION,
                            "Action configuration for action '%s' is missing required "
                            "configuration '%s'",
                            action, p->name);
    } else {
        for (size_t i = 0; i < alen(props_custom); i++) {
            struct json_object *p = json_object_array_get_idx(props_custom, i);
            const char *pn = jgets(p, "name");
            if (pn && json_object_get_boolean(jget(p, "required")) && !jget(cfg, pn))
                return fail(e, ERR_INVALID_ACTION_DECLARATION,
                            "Action configuration for action '%s' is missing required "
                            "configuration '%s'",
                            action, pn);
            /* The model (ActionConfigurationProperty.queryable): the value of a queryable
             * property is at most 20 characters of [A-Za-z0-9_-]. */
            const char *qv =
                pn && json_object_get_boolean(jget(p, "queryable")) ? jgets(cfg, pn) : NULL;
            if (qv && !queryable_value_ok(qv))
                return fail(e, ERR_INVALID_ACTION_DECLARATION,
                            "Action configuration for action '%s' has an invalid value for "
                            "queryable configuration '%s'. The value must be at most 20 "
                            "characters and contain only alphanumeric characters, underscores "
                            "and hyphens",
                            action, pn);
        }
    }
    json_object_object_foreach(cfg, key, val)
    {
        (void)val;
        int known = 0;
        if (props_builtin) {
            for (const struct cp_config_prop *p = props_builtin; p->name && !known; p++)
                known = !strcmp(p->name, key);
        } else {
            /* The user guide (actions-create-custom-action) lets a custom action's declaration
             * set JobList to narrow the jobs a worker polls for. It says the property is "added
             * for you", but AWS's answers (the API reference's CreateCustomActionType sample,
             * the CLI's list-action-types example) never list it, so it is accepted here without
             * being added to the action type. */
            known = !strcmp(key, "JobList");
            for (size_t i = 0; i < alen(props_custom) && !known; i++) {
                const char *pn = jgets(json_object_array_get_idx(props_custom, i), "name");
                known = pn && !strcmp(pn, key);
            }
        }
        if (!known)
            return fail(e, ERR_INVALID_ACTION_DECLARATION,
                        "Action configuration for action '%s' contains unknown configuration '%s'",
                        action, key);
    }
    return 0;
}

/* Provider-specific configuration rules beyond the required keys. */
static int check_provider_rules(struct cp_structure_error *e, struct json_object *action,
                                const struct cp_action_spec *spec)
{
    const char *name = jgets(action, "name");
    struct json_object *cfg = jget(action, "configuration");
    static const char *const BOOLS[] = {"PollForSourceChanges", "DetectChanges", "BatchEnabled",
                                        "CombineArtifacts", NULL};
    for (const char *const *k = BOOLS; *k; k++) {
        const char *b = jgets(cfg, *k);
        if (b && strcasecmp(b, "true") && strcasecmp(b, "false") && !strstr(b, "#{"))
            return fail(e, ERR_INVALID_ACTION_DECLARATION,
                        "Action configuration for action '%s' has an invalid value for '%s'. "
                        "Valid values are true and false",
                        name, *k);
    }
    const char *fmt = jgets(cfg, "OutputArtifactFormat");
    if (fmt && strcmp(fmt, "CODE_ZIP") && strcmp(fmt, "CODEBUILD_CLONE_REF"))
        return fail(e, ERR_INVALID_ACTION_DECLARATION,
                    "Action configuration for action '%s' has an invalid value for "
                    "'OutputArtifactFormat'. Valid values are CODE_ZIP and CODEBUILD_CLONE_REF",
                    name);
    if (!strcmp(spec->category, "Deploy") && !strcmp(spec->provider, "S3")) {
        const char *x = jgets(cfg, "Extract");
        if (x && strcasecmp(x, "true") && strcasecmp(x, "false"))
            return fail(e, ERR_INVALID_ACTION_DECLARATION,
                        "Action configuration for action '%s' has an invalid value for "
                        "'Extract'. Valid values are true and false",
                        name);
        if (x && !strcasecmp(x, "false") && !jget(cfg, "ObjectKey"))
            return fail(e, ERR_INVALID_ACTION_DECLARATION,
                        "Action configuration for action '%s' is missing required configuration "
                        "'ObjectKey'. ObjectKey is required when Extract is false",
                        name);
    }
    if (!strcmp(spec->provider, "CodeBuild")) {
        struct json_object *in = jget(action, "inputArtifacts");
        const char *ps = jgets(cfg, "PrimarySource");
        if (alen(in) > 1 && !ps)
            return fail(e, ERR_INVALID_ACTION_DECLARATION,
                        "Action configuration for action '%s' is missing required configuration "
                        "'PrimarySource'. PrimarySource is required when the action has more than "
                        "one input artifact",
                        name);
        if (ps) {
            int found = 0;
            for (size_t i = 0; i < alen(in) && !found; i++) {
                const char *an = jgets(json_object_array_get_idx(in, i), "name");
                found = an && !strcmp(an, ps);
            }
            if (!found)
                return fail(e, ERR_INVALID_ACTION_DECLARATION,
                            "Action configuration for action '%s' has PrimarySource '%s' which is "
                            "not one of its input artifacts",
                            name, ps);
        }
    }
    return 0;
}

/* Checks one action on its own: its type, artifact counts and configuration. */
static int check_action(struct cp_structure_error *e, const struct cp_structure_ctx *ctx,
                        struct json_object *action)
{
    const char *name = jgets(action, "name");
    struct json_object *id = jget(action, "actionTypeId");
    const char *cat = jgets(id, "category"), *owner = jgets(id, "owner");
    const char *prov = jgets(id, "provider"), *ver = jgets(id, "version");
    struct json_object *cfg = jget(action, "configuration");
    int ro = run_order(action);
    if (!name || !cat || !owner || !prov || !ver)
        return fail(e, ERR_INVALID_ACTION_DECLARATION, "Action declaration is incomplete");
    if (ro < 1 || ro > 999)
        return fail(e, ERR_VALIDATION,
                    "1 validation error detected: Value '%d' at 'runOrder' failed to satisfy "
                    "constraint: Member must have value %s",
                    ro, ro < 1 ? "greater than or equal to 1" : "less than or equal to 999");
    int compute = !strcmp(cat, "Compute");
    int has_files = 0;
    struct json_object *outs = jget(action, "outputArtifacts");
    for (size_t i = 0; i < alen(outs); i++)
        if (jget(json_object_array_get_idx(outs, i), "files")) has_files = 1;
    if (!compute && (jget(action, "commands") || has_files))
        return fail(e, ERR_INVALID_ACTION_DECLARATION,
                    "The following action cannot contain a commands field: %s. To use the "
                    "commands field, use a compute action.",
                    name);
    /* AWS's wording, as users saw it (hashicorp/terraform-provider-aws#42997). */
    if (compute && !strcmp(prov, "Commands") && !alen(jget(action, "commands")))
        return fail(e, ERR_INVALID_ACTION_DECLARATION,
                    "Action %s must have a non-empty commands field", name);
    const struct cp_action_spec *spec = NULL;
    struct json_object *custom = NULL;
    int rc = 0;
    if (!strcmp(owner, "Custom")) {
        if (ctx && ctx->custom_lookup) custom = ctx->custom_lookup(ctx->arg, cat, prov, ver);
    } else {
        spec = cp_catalogue_find(cat, owner, prov, ver);
    }
    if (!spec && !custom) {
        /* AWS's wording (aws-samples/aws-codepipeline-third-party-git-repositories#3). */
        char up[64];
        region_upper(up, sizeof up, ctx && ctx->region ? ctx->region : "us-east-1");
        return fail(e, ERR_INVALID_ACTION_DECLARATION,
                    "ActionType (Category: '%s', Provider: '%s', Owner: '%s', Version: '%s') in "
                    "action '%s' is not available in region '%s'",
                    cat, prov, owner, ver, name, up);
    }
    int in_min, in_max, out_min, out_max;
    if (spec) {
        in_min = spec->in_min, in_max = spec->in_max, out_min = spec->out_min,
        out_max = spec->out_max;
    } else {
        struct json_object *ia = jget(custom, "inputArtifactDetails");
        struct json_object *oa = jget(custom, "outputArtifactDetails");
        in_min = json_object_get_int(jget(ia, "minimumCount"));
        in_max = json_object_get_int(jget(ia, "maximumCount"));
        out_min = json_object_get_int(jget(oa, "minimumCount"));
        out_max = json_object_get_int(jget(oa, "maximumCount"));
    }
    if ((rc = check_count(e, name, alen(jget(action, "inputArtifacts")), in_min, in_max, "input")))
        goto out;
    if ((rc = check_count(e, name, alen(jget(action, "outputArtifacts")), out_min, out_max,
                          "output")))
        goto out;
    if ((rc = check_config(e, name, cfg, spec ? spec->props : NULL,
                           custom ? jget(custom, "actionConfigurationProperties") : NULL)))
        goto out;
    if (spec) rc = check_provider_rules(e, action, spec);
out:
    json_object_put(custom);
    return rc;
}

/* Checks #{namespace.variable} references in the configuration values of action against the
 * namespaces available to it and the pipeline variables. */
static int check_references(struct cp_structure_error *e, struct json_object *action,
                            const struct nameset *spaces, long group, struct json_object *vars)
{
    const char *aname = jgets(action, "name");
    json_object_object_foreach(jget(action, "configuration"), key, val)
    {
        (void)key;
        const char *s = json_object_get_string(val);
        for (const char *p = s ? strstr(s, "#{") : NULL; p; p = strstr(p, "#{")) {
            p += 2;
            const char *close = strchr(p, '}'), *dot = strchr(p, '.');
            if (!close || !dot || dot > close) continue;
            char ns[128], var[256];
            snprintf(ns, sizeof ns, "%.*s", (int)(dot - p), p);
            snprintf(var, sizeof var, "%.*s", (int)(close - dot - 1), dot + 1);
            if (!strcmp(ns, "codepipeline")) continue;
            if (!strcmp(ns, "variables")) {
                int found = 0;
                for (size_t i = 0; i < alen(vars) && !found; i++) {
                    const char *vn = jgets(json_object_array_get_idx(vars, i), "name");
                    found = vn && !strcmp(vn, var);
                }
                if (!found)
                    return fail(e, ERR_INVALID_ACTION_DECLARATION,
                                "Action '%s' references pipeline variable '%s' which is not "
                                "declared in the pipeline",
                                aname, var);
                continue;
            }
            long i = ns_find(spaces, ns);
            if (i < 0 || spaces->group[i] >= group)
                return fail(e, ERR_INVALID_ACTION_DECLARATION,
                            "Action '%s' references variable namespace '%s' which is not "
                            "declared by an action that runs before it",
                            aname, ns);
        }
    }
    return 0;
}

static int cmp_run_order(const void *a, const void *b)
{
    struct json_object *const *x = a, *const *y = b;
    int rx = run_order(*x), ry = run_order(*y);
    return rx < ry ? -1 : rx > ry; /* ties run together: their order does not matter */
}

/* Artifacts and namespaces across the pipeline, in the order actions run. */
static int check_flow(struct cp_structure_error *e, struct json_object *decl)
{
    struct json_object *stages = jget(decl, "stages"), *vars = jget(decl, "variables");
    struct nameset outs = {0}, spaces = {0};
    struct json_object **sorted = NULL;
    int rc = 0;

    /* Output artifact names unique in the pipeline; namespaces unique. */
    for (size_t s = 0; s < alen(stages); s++) {
        struct json_object *stage = json_object_array_get_idx(stages, s);
        struct json_object *acts = jget(stage, "actions");
        for (size_t a = 0; a < alen(acts); a++) {
            struct json_object *act = json_object_array_get_idx(acts, a);
            struct json_object *oa = jget(act, "outputArtifacts");
            for (size_t o = 0; o < alen(oa); o++) {
                const char *on = jgets(json_object_array_get_idx(oa, o), "name");
                if (!on) continue;
                if (ns_find(&outs, on) >= 0) {
                    /* AWS's wording (aws-cloudformation/cfn-lint#1688). */
                    rc = fail(e, ERR_INVALID_STRUCTURE,
                              "Output Artifact Bundle name must be unique within the pipeline. %s "
                              "has been used more than once.",
                              on);
                    goto out;
                }
                ns_add(&outs, on, 0);
            }
            const char *nsp = jgets(act, "namespace");
            if (nsp) {
                if (ns_find(&spaces, nsp) >= 0) {
                    /* AWS's exception and wording, naming the later declaration
                     * (aws/aws-cdk#6111, aws/aws-cdk#16142). */
                    rc = fail(e, ERR_INVALID_ACTION_DECLARATION,
                              "Namespaces must be unique across the pipeline definition. The "
                              "following occur more than once in the pipeline. StageName=[%s], "
                              "ActionName=[%s], Namespace=[%s]",
                              nz(jgets(stage, "name")), nz(jgets(act, "name")), nsp);
                    goto out;
                }
                ns_add(&spaces, nsp, 0);
            }
        }
    }
    for (size_t i = 0; i < spaces.n; i++)
        if (ns_find(&outs, spaces.names[i]) >= 0) {
            rc = fail(e, ERR_INVALID_STRUCTURE,
                      "Namespace %s is also used as an artifact name. Namespaces must not match "
                      "artifact names.",
                      spaces.names[i]);
            goto out;
        }
    outs.n = spaces.n = 0;

    /* Inputs produced earlier; references to namespaces declared earlier. */
    for (size_t s = 0; s < alen(stages); s++) {
        struct json_object *acts = jget(json_object_array_get_idx(stages, s), "actions");
        size_t n = alen(acts);
        free(sorted);
        sorted = calloc(n ? n : 1, sizeof *sorted);
        if (!sorted) abort();
        for (size_t a = 0; a < n; a++)
            sorted[a] = json_object_array_get_idx(acts, a);
        qsort(sorted, n, sizeof *sorted, cmp_run_order);
        for (size_t a = 0; a < n;) {
            int ro = run_order(sorted[a]);
            long group = (long)s * 1000 + ro;
            size_t end = a;
            while (end < n && run_order(sorted[end]) == ro)
                end++;
            for (size_t k = a; k < end; k++) {
                struct json_object *act = sorted[k];
                struct json_object *ia = jget(act, "inputArtifacts");
                for (size_t i = 0; i < alen(ia); i++) {
                    const char *in = jgets(json_object_array_get_idx(ia, i), "name");
                    long idx = in ? ns_find(&outs, in) : -1;
                    if (in && (idx < 0 || outs.group[idx] >= group)) {
                        rc = fail(e, ERR_INVALID_STRUCTURE,
                                  "Input Artifact Bundle %s in action %s is not declared as an "
                                  "output of an action that runs before it.",
                                  in, jgets(act, "name"));
                        goto out;
                    }
                }
                if ((rc = check_references(e, act, &spaces, group, vars))) goto out;
            }
            for (size_t k = a; k < end; k++) {
                struct json_object *oa = jget(sorted[k], "outputArtifacts");
                for (size_t o = 0; o < alen(oa); o++) {
                    const char *on = jgets(json_object_array_get_idx(oa, o), "name");
                    if (on) ns_add(&outs, on, group);
                }
                const char *nsp = jgets(sorted[k], "namespace");
                if (nsp) ns_add(&spaces, nsp, group);
            }
            a = end;
        }
    }
out:
    free(sorted);
    ns_free(&outs);
    ns_free(&spaces);
    return rc;
}

/* Artifacts of a CODEBUILD_CLONE_REF source are git references only CodeBuild can consume. */
static int check_clone_ref(struct cp_structure_error *e, struct json_object *decl)
{
    struct json_object *stages = jget(decl, "stages");
    struct json_object *first = jget(json_object_array_get_idx(stages, 0), "actions");
    for (size_t a = 0; a < alen(first); a++) {
        struct json_object *src = json_object_array_get_idx(first, a);
        const char *f = jgets(jget(src, "configuration"), "OutputArtifactFormat");
        if (!f || strcmp(f, "CODEBUILD_CLONE_REF")) continue;
        struct json_object *outs = jget(src, "outputArtifacts");
        for (size_t o = 0; o < alen(outs); o++) {
            const char *art = jgets(json_object_array_get_idx(outs, o), "name");
            for (size_t s = 1; art && s < alen(stages); s++) {
                struct json_object *acts = jget(json_object_array_get_idx(stages, s), "actions");
                for (size_t c = 0; c < alen(acts); c++) {
                    struct json_object *act = json_object_array_get_idx(acts, c);
                    const char *prov = jgets(jget(act, "actionTypeId"), "provider");
                    struct json_object *ins = jget(act, "inputArtifacts");
                    for (size_t i = 0; i < alen(ins); i++) {
                        const char *in = jgets(json_object_array_get_idx(ins, i), "name");
                        if (in && !strcmp(in, art) && (!prov || strcmp(prov, "CodeBuild")))
                            return fail(e, ERR_INVALID_ACTION_DECLARATION,
                                        "Action %s consumes artifact %s, which source action %s "
                                        "outputs as CODEBUILD_CLONE_REF. Only CodeBuild actions "
                                        "can consume a CODEBUILD_CLONE_REF artifact",
                                        jgets(act, "name"), art, jgets(src, "name"));
                    }
                }
            }
        }
    }
    return 0;
}

static int check_artifact_stores(struct cp_structure_error *e, struct json_object *decl,
                                 const struct cp_structure_ctx *ctx)
{
    struct json_object *one = jget(decl, "artifactStore"), *many = jget(decl, "artifactStores");
    if (one && many)
        return fail(e, ERR_INVALID_STRUCTURE,
                    "Pipeline cannot have both artifactStore and artifactStores. Use artifactStore "
                    "for a single-region pipeline or artifactStores for a cross-region pipeline");
    if (!one && !many)
        return fail(e, ERR_INVALID_STRUCTURE,
                    "Pipeline must have either an artifactStore or artifactStores");
    const char *region = ctx && ctx->region ? ctx->region : NULL;
    if (many && region && !jget(many, region))
        return fail(e, ERR_INVALID_STRUCTURE,
                    "artifactStores must contain an artifact store for the pipeline's region '%s'",
                    region);
    struct json_object *stages = jget(decl, "stages");
    for (size_t s = 0; s < alen(stages); s++) {
        struct json_object *acts = jget(json_object_array_get_idx(stages, s), "actions");
        for (size_t a = 0; a < alen(acts); a++) {
            struct json_object *act = json_object_array_get_idx(acts, a);
            const char *ar = jgets(act, "region");
            if (!ar || (region && !strcmp(ar, region))) continue;
            /* The API keeps source actions in the pipeline's region (aws/aws-cdk#4303: "This is
             * something that the CodePipeline API enforces in the backend"). */
            if (region && is_source(act))
                return fail(e, ERR_INVALID_ACTION_DECLARATION,
                            "Source action %s specifies region '%s'. Source actions must be in "
                            "the pipeline's region '%s'",
                            nz(jgets(act, "name")), ar, region);
            if (!many)
                return fail(e, ERR_INVALID_ACTION_DECLARATION,
                            "Action %s specifies region '%s' but the pipeline has no artifact "
                            "store in that region. Use artifactStores for cross-region actions",
                            jgets(act, "name"), ar);
            if (!jget(many, ar))
                return fail(e, ERR_INVALID_ACTION_DECLARATION,
                            "Action %s specifies region '%s' which has no entry in "
                            "artifactStores",
                            jgets(act, "name"), ar);
        }
    }
    return 0;
}

/* True when a trigger filters pushes on Git tags. */
static int has_tag_trigger(struct json_object *triggers)
{
    for (size_t t = 0; t < alen(triggers); t++) {
        struct json_object *push =
            jget(jget(json_object_array_get_idx(triggers, t), "gitConfiguration"), "push");
        for (size_t p = 0; p < alen(push); p++)
            if (jget(json_object_array_get_idx(push, p), "tags")) return 1;
    }
    return 0;
}

static int check_triggers(struct cp_structure_error *e, struct json_object *decl)
{
    static const char MSG[] = "Triggers for connection must reference a CodeStarSourceConnection "
                              "action. Note that when you specify a trigger, you cant specify more "
                              "than one trigger per source action.";
    struct json_object *triggers = jget(decl, "triggers");
    struct json_object *first = jget(json_object_array_get_idx(jget(decl, "stages"), 0), "actions");
    for (size_t t = 0; t < alen(triggers); t++) {
        const char *src = jgets(jget(json_object_array_get_idx(triggers, t), "gitConfiguration"),
                                "sourceActionName");
        int ok = 0;
        for (size_t a = 0; src && a < alen(first) && !ok; a++) {
            struct json_object *act = json_object_array_get_idx(first, a);
            const char *an = jgets(act, "name"), *p = jgets(jget(act, "actionTypeId"), "provider");
            ok = an && p && !strcmp(an, src) && !strcmp(p, "CodeStarSourceConnection");
        }
        for (size_t u = 0; ok && u < t; u++) {
            const char *other =
                jgets(jget(json_object_array_get_idx(triggers, u), "gitConfiguration"),
                      "sourceActionName");
            if (other && !strcmp(other, src)) ok = 0;
        }
        if (!ok) return fail(e, ERR_INVALID_STRUCTURE, "%s", MSG);
        const char *why =
            cp_trigger_check(jget(json_object_array_get_idx(triggers, t), "gitConfiguration"));
        if (why) return fail(e, ERR_INVALID_STRUCTURE, "%s", why);
    }
    return 0;
}

/* The first configuration key of a rule that its type does not declare, or NULL. */
static const char *unknown_key(struct json_object *cfg, const struct cp_rule_type *rt)
{
    if (!cfg || !json_object_is_type(cfg, json_type_object)) return NULL;
    json_object_object_foreach(cfg, key, val)
    {
        (void)val;
        int known = 0;
        for (int p = 0; p < 4 && rt->props[p].name; p++)
            if (!strcmp(key, rt->props[p].name)) known = 1;
        if (!known) return key;
    }
    return NULL;
}

/* Stage conditions: the results each kind allows (stage-conditions page of the user guide:
 * entry FAIL or SKIP, on success ROLLBACK - FAIL too in AWS's CDK example - and on failure
 * ROLLBACK, where automatic stage retry cannot be used), and rules of the built-in types with
 * their configuration. */
static int check_conditions(struct cp_structure_error *e, struct json_object *stage)
{
    static const struct {
        const char *member, *label;
        const char *results[4];
    } KINDS[] = {
        {"beforeEntry", "beforeEntry", {"FAIL", "SKIP", NULL}},
        {"onSuccess", "onSuccess", {"ROLLBACK", "FAIL", NULL}},
        {"onFailure", "onFailure", {"ROLLBACK", NULL}},
    };
    const char *sname = nz(jgets(stage, "name"));
    struct json_object *on_failure = jget(stage, "onFailure");
    if (alen(jget(on_failure, "conditions")) && jgets(on_failure, "result") &&
        !strcmp(jgets(on_failure, "result"), "RETRY"))
        return fail(e, ERR_INVALID_STAGE_DECLARATION,
                    "Automatic stage retry (onFailure result RETRY) cannot be used with onFailure "
                    "conditions in stage %s",
                    sname);
    for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
        struct json_object *conds = jget(jget(stage, KINDS[k].member), "conditions");
        for (size_t c = 0; c < alen(conds); c++) {
            struct json_object *cond = json_object_array_get_idx(conds, c);
            const char *result = jgets(cond, "result");
            int ok = !result;
            for (int i = 0; result && KINDS[k].results[i]; i++)
                if (!strcmp(result, KINDS[k].results[i])) ok = 1;
            if (!ok)
                return fail(e, ERR_INVALID_STAGE_DECLARATION,
                            "Result %s is not supported for %s conditions in stage %s", result,
                            KINDS[k].label, sname);
            struct json_object *rules = jget(cond, "rules");
            if (!alen(rules))
                return fail(e, ERR_INVALID_STAGE_DECLARATION,
                            "The %s condition of stage %s has no rules. There should be a "
                            "minimum of 1 rule in a condition",
                            KINDS[k].label, sname);
            for (size_t r = 0; r < alen(rules); r++) {
                struct json_object *rule = json_object_array_get_idx(rules, r);
                const char *rn = nz(jgets(rule, "name"));
                for (size_t q = 0; q < r; q++)
                    if (!strcmp(rn, nz(jgets(json_object_array_get_idx(rules, q), "name"))))
                        return fail(e, ERR_INVALID_STAGE_DECLARATION,
                                    "Rule name %s is used more than once in the %s condition of "
                                    "stage %s",
                                    rn, KINDS[k].label, sname);
                struct json_object *tid = jget(rule, "ruleTypeId");
                const char *prov = jgets(tid, "provider");
                const struct cp_rule_type *rt =
                    cp_rule_type_find(prov, jgets(tid, "version") ? jgets(tid, "version") : "1");
                if (!rt || strcmp(nz(jgets(tid, "category")), "Rule") ||
                    (jgets(tid, "owner") && strcmp(jgets(tid, "owner"), "AWS")))
                    return fail(e, ERR_INVALID_STAGE_DECLARATION,
                                "Rule %s in stage %s has an invalid rule type: category=%s, "
                                "owner=%s, provider=%s, version=%s",
                                rn, sname, nz(jgets(tid, "category")), nz(jgets(tid, "owner")),
                                nz(prov), nz(jgets(tid, "version")));
                struct json_object *cfg = jget(rule, "configuration");
                for (int p = 0; p < 4 && rt->props[p].name; p++)
                    if (rt->props[p].required && !jgets(cfg, rt->props[p].name))
                        return fail(e, ERR_INVALID_STAGE_DECLARATION,
                                    "Rule %s in stage %s is missing required configuration "
                                    "property %s",
                                    rn, sname, rt->props[p].name);
                if (cfg && !json_object_is_type(cfg, json_type_object)) cfg = NULL;
                const char *unknown = unknown_key(cfg, rt);
                if (unknown)
                    return fail(e, ERR_INVALID_STAGE_DECLARATION,
                                "Rule %s in stage %s has unknown configuration property %s for "
                                "rule provider %s",
                                rn, sname, unknown, rt->provider);
                int commands = !strcmp(rt->provider, "Commands");
                if (commands != (alen(jget(rule, "commands")) > 0))
                    return fail(e, ERR_INVALID_STAGE_DECLARATION,
                                commands ? "Rule %s in stage %s must declare commands"
                                         : "Rule %s in stage %s cannot declare commands: only "
                                           "Commands rules run commands",
                                rn, sname);
                size_t nin = alen(jget(rule, "inputArtifacts"));
                if ((int)nin < rt->min_in || (int)nin > rt->max_in)
                    return fail(e, ERR_INVALID_STAGE_DECLARATION,
                                "Rule %s in stage %s declares %zu input artifacts; rule provider "
                                "%s takes %d to %d",
                                rn, sname, nin, rt->provider, rt->min_in, rt->max_in);
                char why[300] = "";
                const char *op = jgets(cfg, "Operator");
                if (!strcmp(rt->provider, "VariableCheck") && op &&
                    cp_rule_variable_check("", op, "", why, sizeof why) < 0)
                    return fail(e, ERR_INVALID_STAGE_DECLARATION, "Rule %s in stage %s: %s", rn,
                                sname, why);
                if (!strcmp(rt->provider, "DeploymentWindow")) {
                    struct cp_cron cron;
                    const char *ce = jgets(cfg, "Cron");
                    struct tm tm;
                    /* A variable reference is resolved when the rule runs. */
                    if (!strstr(ce, "#{") && cp_cron_parse(ce, &cron, why, sizeof why))
                        return fail(e, ERR_INVALID_STAGE_DECLARATION, "Rule %s in stage %s: %s", rn,
                                    sname, why);
                    const char *tz = jgets(cfg, "TimeZone");
                    if (tz && !strstr(tz, "#{") && cp_tz_localtime(NULL, tz, 0, &tm))
                        return fail(e, ERR_INVALID_STAGE_DECLARATION,
                                    "Rule %s in stage %s: unknown time zone %s", rn, sname, tz);
                }
            }
        }
    }
    return 0;
}

int cp_structure_validate(struct json_object *decl, const struct cp_structure_ctx *ctx,
                          struct cp_structure_error *e)
{
    struct json_object *stages = jget(decl, "stages");
    const char *type = jgets(decl, "pipelineType"), *mode = jgets(decl, "executionMode");
    int v2 = type && !strcmp(type, "V2");
    size_t nst = alen(stages), total = 0;
    e->err = ERR_NONE;
    e->message[0] = 0;

    if (!v2 && mode && strcmp(mode, "SUPERSEDED"))
        return fail(e, ERR_VALIDATION,
                    "Execution mode %s is only supported for pipelines of type V2. Set "
                    "pipelineType to V2 to use it",
                    mode);
    if (!v2 && alen(jget(decl, "variables")))
        return fail(e, ERR_VALIDATION,
                    "Pipeline variables are only supported for pipelines of type V2");
    if (!v2 && alen(jget(decl, "triggers")))
        /* AWS's exception and, for tag triggers, its wording
         * (cloudposse/terraform-aws-ecs-codepipeline#145). */
        return fail(e, ERR_INVALID_STRUCTURE, "%s",
                    has_tag_trigger(jget(decl, "triggers"))
                        ? "Triggers on tag can only be used with V2 pipelines"
                        : "Triggers can only be used with V2 pipelines");
    if (check_artifact_stores(e, decl, ctx)) return -1;
    if (nst < 2)
        return fail(e, ERR_INVALID_STRUCTURE,
                    "Pipeline has only %zu stage(s). There should be a minimum of 2 stages in a "
                    "pipeline",
                    nst);
    if (nst > MAX_STAGES)
        return fail(e, ERR_INVALID_STRUCTURE,
                    "Pipeline has %zu stages. There should be a maximum of %d stages in a pipeline",
                    nst, MAX_STAGES);
    for (size_t s = 0; s < nst; s++) {
        struct json_object *st = json_object_array_get_idx(stages, s);
        const char *sname = jgets(st, "name");
        for (size_t p = 0; p < s; p++) {
            const char *other = jgets(json_object_array_get_idx(stages, p), "name");
            if (sname && other && !strcmp(sname, other))
                return fail(e, ERR_INVALID_STAGE_DECLARATION,
                            "Stage name %s is used more than once. Stage names must be unique "
                            "within a pipeline",
                            sname);
        }
        struct json_object *blockers = jget(st, "blockers");
        if (alen(blockers) > MAX_BLOCKERS)
            return fail(e, ERR_INVALID_BLOCKER_DECLARATION,
                        "Stage %s has %zu blockers. There should be a maximum of %d blockers in a "
                        "stage",
                        sname, alen(blockers), MAX_BLOCKERS);
        for (size_t b = 0; b < alen(blockers); b++)
            for (size_t c = 0; c < b; c++) {
                const char *x = jgets(json_object_array_get_idx(blockers, b), "name");
                const char *y = jgets(json_object_array_get_idx(blockers, c), "name");
                if (x && y && !strcmp(x, y))
                    return fail(e, ERR_INVALID_BLOCKER_DECLARATION,
                                "Blocker name %s is used more than once in stage %s", x, sname);
            }
        if (check_conditions(e, st)) return -1;
        struct json_object *acts = jget(st, "actions");
        size_t na = alen(acts);
        total += na;
        if (na == 0)
            return fail(e, ERR_INVALID_STAGE_DECLARATION,
                        "Stage %s has no actions. There should be a minimum of 1 action in a "
                        "stage",
                        sname);
        if (na > MAX_ACTIONS_PER_STAGE)
            return fail(e, ERR_INVALID_STAGE_DECLARATION,
                        "Stage %s has %zu actions. There should be a maximum of %d actions in a "
                        "stage",
                        sname, na, MAX_ACTIONS_PER_STAGE);
        for (size_t a = 0; a < na; a++) {
            struct json_object *act = json_object_array_get_idx(acts, a);
            const char *an = jgets(act, "name");
            for (size_t b = 0; b < a; b++) {
                const char *other = jgets(json_object_array_get_idx(acts, b), "name");
                if (an && other && !strcmp(an, other))
                    return fail(e, ERR_INVALID_ACTION_DECLARATION,
                                "Action name %s is used more than once in stage %s. Action names "
                                "must be unique within a stage",
                                an, sname);
            }
            if (s == 0 && !is_source(act))
                return fail(e, ERR_INVALID_STRUCTURE,
                            "Pipeline should start with a stage that only contains source actions");
            if (s > 0 && is_source(act))
                return fail(e, ERR_INVALID_STRUCTURE,
                            "Pipeline can only have source actions in the first stage. Stage %s "
                            "contains source action %s",
                            sname, an);
            if (check_action(e, ctx, act)) return -1;
        }
    }
    if (total > MAX_ACTIONS)
        return fail(e, ERR_INVALID_STRUCTURE,
                    "Pipeline has %zu actions. There should be a maximum of %d actions in a "
                    "pipeline",
                    total, MAX_ACTIONS);
    if (check_flow(e, decl)) return -1;
    if (check_clone_ref(e, decl)) return -1;
    if (check_triggers(e, decl)) return -1;
    return 0;
}
