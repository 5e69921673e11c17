/* Action types: ListActionTypes (built-in catalogue plus custom types), GetActionType,
 * CreateCustomActionType, DeleteCustomActionType, UpdateActionType. */
#include "providers/codepipeline/cp_internal.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codepipeline/catalogue.h"

#define KEY_MAX          512
#define MAX_CUSTOM_TYPES 50
/* Record status byte in front of a custom action type's JSON. */
#define ST_ACTIVE  'A'
#define ST_DELETED 'D'

static const char *in_str(struct json_object *o, const char *k)
{
    struct json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static struct json_object *in_obj(struct json_object *o, const char *k)
{
    struct json_object *v;
    return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* "<acct>/<region>/C/<category>/<provider>/<version>" for custom types, "D/<owner>/..." for
 * stored declarations of built-in types. */
static int type_key(char *buf, size_t n, const char *acct, const char *region, char kind,
                    const char *owner, const char *cat, const char *prov, const char *ver)
{
    char tail[256];
    int l = kind == 'C' ? snprintf(tail, sizeof tail, "C/%s/%s/%s", cat, prov, ver)
                        : snprintf(tail, sizeof tail, "D/%s/%s/%s/%s", owner, cat, prov, ver);
    if (l < 0 || (size_t)l >= sizeof tail) return -1;
    return store_key(buf, n, acct, region, tail);
}

static struct json_object *parse_n(const char *s, size_t n)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = tok ? json_tokener_parse_ex(tok, s, (int)n) : NULL;
    json_tokener_free(tok);
    return o;
}

struct json_object *cp_custom_action_get(store_txn *t, const char *account, const char *region,
                                         const char *category, const char *provider,
                                         const char *version)
{
    char key[KEY_MAX];
    int kl = type_key(key, sizeof key, account, region, 'C', "Custom", category, provider, version);
    const void *val;
    size_t vlen;
    if (kl < 0 || store_get(t, STORE_DB_CP_ACTION_TYPES, key, (size_t)kl, &val, &vlen) ||
        vlen < 2 || ((const char *)val)[0] != ST_ACTIVE)
        return NULL;
    return parse_n((const char *)val + 1, vlen - 1);
}

/* ---- the catalogue as AWS's shapes ---------------------------------------------------------- */

static struct json_object *artifact_details(int min, int max)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "minimumCount", json_object_new_int(min));
    json_object_object_add(o, "maximumCount", json_object_new_int(max));
    return o;
}

static struct json_object *id_object(const char *cat, const char *owner, const char *prov,
                                     const char *ver)
{
    struct json_object *id = json_object_new_object();
    json_object_object_add(id, "category", json_object_new_string(cat));
    json_object_object_add(id, "owner", json_object_new_string(owner));
    json_object_object_add(id, "provider", json_object_new_string(prov));
    json_object_object_add(id, "version", json_object_new_string(ver));
    return id;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
    if (v) json_object_object_add(o, k, json_object_new_string(v));
}

/* The ActionType (ListActionTypes element) of a catalogue entry. */
static struct json_object *spec_action_type(const struct cp_action_spec *s)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", id_object(s->category, s->owner, s->provider, s->version));
    struct json_object *settings = json_object_new_object();
    add_str(settings, "thirdPartyConfigurationUrl", s->third_party_url);
    add_str(settings, "entityUrlTemplate", s->entity_url);
    add_str(settings, "executionUrlTemplate", s->execution_url);
    add_str(settings, "revisionUrlTemplate", s->revision_url);
    json_object_object_add(o, "settings", settings);
    struct json_object *props = json_object_new_array();
    for (const struct cp_config_prop *p = s->props; p->name; p++) {
        struct json_object *po = json_object_new_object();
        json_object_object_add(po, "name", json_object_new_string(p->name));
        json_object_object_add(po, "required", json_object_new_boolean(p->required));
        json_object_object_add(po, "key", json_object_new_boolean(p->key));
        json_object_object_add(po, "secret", json_object_new_boolean(p->secret));
        json_object_object_add(po, "queryable", json_object_new_boolean(p->queryable));
        add_str(po, "description", p->description);
        json_object_array_add(props, po);
    }
    json_object_object_add(o, "actionConfigurationProperties", props);
    json_object_object_add(o, "inputArtifactDetails", artifact_details(s->in_min, s->in_max));
    json_object_object_add(o, "outputArtifactDetails", artifact_details(s->out_min, s->out_max));
    return o;
}

/* The ActionTypeDeclaration (GetActionType) of a catalogue entry. */
static struct json_object *spec_declaration(const struct cp_action_spec *s)
{
    struct json_object *o = json_object_new_object();
    struct json_object *exec = json_object_new_object(), *cfg = json_object_new_object();
    json_object_object_add(cfg, "jobWorkerExecutorConfiguration", json_object_new_object());
    json_object_object_add(exec, "configuration", cfg);
    json_object_object_add(exec, "type", json_object_new_string("JobWorker"));
    json_object_object_add(o, "executor", exec);
    json_object_object_add(o, "id", id_object(s->category, s->owner, s->provider, s->version));
    json_object_object_add(o, "inputArtifactDetails", artifact_details(s->in_min, s->in_max));
    json_object_object_add(o, "outputArtifactDetails", artifact_details(s->out_min, s->out_max));
    struct json_object *props = json_object_new_array();
    for (const struct cp_config_prop *p = s->props; p->name; p++) {
        struct json_object *po = json_object_new_object();
        json_object_object_add(po, "name", json_object_new_string(p->name));
        json_object_object_add(po, "optional", json_object_new_boolean(!p->required));
        json_object_object_add(po, "key", json_object_new_boolean(p->key));
        json_object_object_add(po, "noEcho", json_object_new_boolean(p->secret));
        json_object_object_add(po, "queryable", json_object_new_boolean(p->queryable));
        add_str(po, "description", p->description);
        json_object_array_add(props, po);
    }
    json_object_object_add(o, "properties", props);
    struct json_object *urls = json_object_new_object();
    add_str(urls, "configurationUrl", s->third_party_url);
    add_str(urls, "entityUrlTemplate", s->entity_url);
    add_str(urls, "executionUrlTemplate", s->execution_url);
    add_str(urls, "revisionUrlTemplate", s->revision_url);
    json_object_object_add(o, "urls", urls);
    return o;
}

/* ---- handlers ------------------------------------------------------------------------------- */

int cp_op_list_action_types(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *owner = in_str(req->input, "actionOwnerFilter");
    /* regionFilter lists the action types available in that region: every built-in type (this
     * emulator offers them all in every region) and the caller's custom types there. */
    const char *region_filter = in_str(req->input, "regionFilter");
    if (region_filter) region = region_filter;
    if (in_str(req->input, "nextToken"))
        return proto_error(req, ERR_INVALID_NEXT_TOKEN, "Invalid nextToken");
    struct json_object *list = json_object_new_array();
    for (const struct cp_action_spec *s = cp_catalogue; s->category; s++)
        if (!owner || !strcmp(owner, s->owner)) json_object_array_add(list, spec_action_type(s));
    int rc = 0;
    if (!owner || !strcmp(owner, "Custom")) {
        store_txn *t = NULL;
        store_cursor *c = NULL;
        char prefix[KEY_MAX];
        int pl = store_key(prefix, sizeof prefix, acct, region, "C/");
        if (pl < 0 || (rc = store_txn_begin(req->store, 0, &t)) ||
            (rc = store_cursor_open(t, STORE_DB_CP_ACTION_TYPES, &c))) {
            rc = cp_store_error(req, rc ? rc : STORE_ERROR);
        } else {
            for (int r = store_cursor_seek(c, prefix, (size_t)pl); r == 0;
                 r = store_cursor_next(c)) {
                const void *k, *v;
                size_t kl, vl;
                store_cursor_get(c, &k, &kl, &v, &vl);
                if (kl < (size_t)pl || memcmp(k, prefix, (size_t)pl)) break;
                if (vl < 2 || ((const char *)v)[0] != ST_ACTIVE) continue;
                struct json_object *at = parse_n((const char *)v + 1, vl - 1);
                if (at) json_object_array_add(list, at);
            }
        }
        if (c) store_cursor_close(c);
        store_txn_abort(t);
    }
    if (rc) {
        json_object_put(list);
        return rc;
    }
    req->output = json_object_new_object();
    json_object_object_add(req->output, "actionTypes", list);
    return 0;
}

int cp_op_get_action_type(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *cat = in_str(req->input, "category"), *owner = in_str(req->input, "owner");
    const char *prov = in_str(req->input, "provider"), *ver = in_str(req->input, "version");
    struct json_object *decl = NULL;
    char key[KEY_MAX];
    store_txn *t = NULL;
    int rc = store_txn_begin(req->store, 0, &t);
    if (rc) return cp_store_error(req, rc);
    int kl = type_key(key, sizeof key, acct, region, 'D', owner, cat, prov, ver);
    const void *val;
    size_t vlen;
    if (kl >= 0 && store_get(t, STORE_DB_CP_ACTION_TYPES, key, (size_t)kl, &val, &vlen) == 0)
        decl = parse_n(val, vlen);
    store_txn_abort(t);
    if (!decl) {
        const struct cp_action_spec *s = cp_catalogue_find(cat, owner, prov, ver);
        if (s) decl = spec_declaration(s);
    }
    if (!decl)
        return proto_error(req, ERR_ACTION_TYPE_NOT_FOUND,
                           "ActionType (Category: '%s', Provider: '%s', Owner: '%s', Version: "
                           "'%s') was not found",
                           cat, prov, owner, ver);
    req->output = json_object_new_object();
    json_object_object_add(req->output, "actionType", decl);
    return 0;
}

/* The stored ActionType of a CreateCustomActionType input, with the members in AWS's order. */
static struct json_object *custom_from_input(struct json_object *in)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(
        o, "id",
        id_object(in_str(in, "category"), "Custom", in_str(in, "provider"), in_str(in, "version")));
    struct json_object *settings = in_obj(in, "settings");
    json_object_object_add(o, "settings",
                           settings ? json_object_get(settings) : json_object_new_object());
    struct json_object *props = in_obj(in, "configurationProperties"),
                       *np = json_object_new_array();
    /* AWS answers each property without its "type": the API reference's CreateCustomActionType
     * sample sends "type": "String" and gets back name, required, key, secret, queryable and
     * description only - and no property added (no JobList). */
    static const char *const PROP_ORDER[] = {"name",      "required",    "key", "secret",
                                             "queryable", "description", NULL};
    for (size_t i = 0; props && i < json_object_array_length(props); i++) {
        struct json_object *p = json_object_array_get_idx(props, i), *q = json_object_new_object();
        for (const char *const *k = PROP_ORDER; *k; k++) {
            struct json_object *v = in_obj(p, *k);
            if (v)
                json_object_object_add(q, *k, json_object_get(v));
            else if (!strcmp(*k, "queryable"))
                json_object_object_add(q, *k, json_object_new_boolean(0));
        }
        json_object_array_add(np, q);
    }
    json_object_object_add(o, "actionConfigurationProperties", np);
    struct json_object *ia = in_obj(in, "inputArtifactDetails"),
                       *oa = in_obj(in, "outputArtifactDetails");
    json_object_object_add(o, "inputArtifactDetails",
                           artifact_details(json_object_get_int(in_obj(ia, "minimumCount")),
                                            json_object_get_int(in_obj(ia, "maximumCount"))));
    json_object_object_add(o, "outputArtifactDetails",
                           artifact_details(json_object_get_int(in_obj(oa, "minimumCount")),
                                            json_object_get_int(in_obj(oa, "maximumCount"))));
    return o;
}

/* Counts the caller's active custom action types. Returns the count or a negative store code. */
static int count_custom(store_txn *t, const char *acct, const char *region)
{
    char prefix[KEY_MAX];
    int pl = store_key(prefix, sizeof prefix, acct, region, "C/"), n = 0;
    store_cursor *c = NULL;
    if (pl < 0 || store_cursor_open(t, STORE_DB_CP_ACTION_TYPES, &c)) return STORE_ERROR;
    for (int r = store_cursor_seek(c, prefix, (size_t)pl); r == 0; r = store_cursor_next(c)) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (kl < (size_t)pl || memcmp(k, prefix, (size_t)pl)) break;
        if (vl && ((const char *)v)[0] == ST_ACTIVE) n++;
    }
    store_cursor_close(c);
    return n;
}

int cp_op_create_custom_action_type(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *cat = in_str(req->input, "category"), *prov = in_str(req->input, "provider");
    const char *ver = in_str(req->input, "version");
    struct json_object *tags = in_obj(req->input, "tags");
    struct json_object *at = NULL;
    char key[KEY_MAX], *rec = NULL;
    store_txn *t = NULL;
    int rc;

    for (const char *k = "inputArtifactDetails"; k;
         k = k[0] == 'i' ? "outputArtifactDetails" : NULL) {
        struct json_object *d = in_obj(req->input, k);
        int mn = json_object_get_int(in_obj(d, "minimumCount"));
        int mx = json_object_get_int(in_obj(d, "maximumCount"));
        if (mn > mx)
            return proto_error(req, ERR_VALIDATION,
                               "%s minimumCount (%d) cannot be greater than maximumCount (%d)", k,
                               mn, mx);
    }
    struct json_object *props = in_obj(req->input, "configurationProperties");
    for (size_t i = 0; props && i < json_object_array_length(props); i++)
        for (size_t j = 0; j < i; j++) {
            const char *a = in_str(json_object_array_get_idx(props, i), "name");
            const char *b = in_str(json_object_array_get_idx(props, j), "name");
            if (a && b && !strcmp(a, b))
                return proto_error(req, ERR_VALIDATION,
                                   "Configuration property %s is declared more than once", a);
        }
    /* The model (ActionConfigurationProperty.queryable): at most one queryable property, and it
     * must be required and not secret. */
    const char *queryable = NULL;
    for (size_t i = 0; props && i < json_object_array_length(props); i++) {
        struct json_object *p = json_object_array_get_idx(props, i);
        if (!json_object_get_boolean(in_obj(p, "queryable"))) continue;
        const char *pn = in_str(p, "name");
        if (queryable)
            return proto_error(req, ERR_VALIDATION,
                               "An action type can have at most one queryable configuration "
                               "property; %s and %s are both queryable",
                               queryable, pn ? pn : "");
        if (!json_object_get_boolean(in_obj(p, "required")) ||
            json_object_get_boolean(in_obj(p, "secret")))
            return proto_error(req, ERR_VALIDATION,
                               "Queryable configuration property %s must be required and not "
                               "secret",
                               pn ? pn : "");
        queryable = pn ? pn : "";
    }
    if ((rc = cp_tags_check(req, tags, NULL))) return rc;
    int kl = type_key(key, sizeof key, acct, region, 'C', "Custom", cat, prov, ver);
    if (kl < 0) return proto_error(req, ERR_VALIDATION, "Action type id is too long");
    at = custom_from_input(req->input);
    size_t jlen;
    char *json = cp_json_dup(at, &jlen);
    rec = malloc(jlen + 1);
    if (!rec) abort();
    rec[0] = ST_ACTIVE;
    memcpy(rec + 1, json, jlen);
    free(json);

    if ((rc = store_txn_begin(req->store, 1, &t))) goto store_fail;
    const void *val;
    size_t vlen;
    rc = store_get(t, STORE_DB_CP_ACTION_TYPES, key, (size_t)kl, &val, &vlen);
    if (rc == 0) {
        const char *v = val;
        if (vlen >= 1 && v[0] == ST_ACTIVE) {
            rc = proto_error(req, ERR_ACTION_TYPE_ALREADY_EXISTS,
                             "ActionType (Category: '%s', Provider: '%s', Owner: 'Custom', "
                             "Version: '%s') already exists",
                             cat, prov, ver);
            goto out;
        }
        /* A deleted version comes back only from an identical definition (a restore). */
        if (vlen != jlen + 1 || memcmp(v + 1, rec + 1, jlen)) {
            rc = proto_error(req, ERR_VALIDATION,
                             "ActionType (Category: '%s', Provider: '%s', Owner: 'Custom', "
                             "Version: '%s') was deleted. Create it with a version that has never "
                             "been used, or with the identical definition to restore it",
                             cat, prov, ver);
            goto out;
        }
    } else if (rc != STORE_NOTFOUND) {
        goto store_fail;
    }
    int n = count_custom(t, acct, region);
    if (n < 0) {
        rc = n;
        goto store_fail;
    }
    if (n >= MAX_CUSTOM_TYPES) {
        rc = proto_error(req, ERR_LIMIT_EXCEEDED,
                         "The account already has the maximum of %d custom action types in "
                         "this region",
                         MAX_CUSTOM_TYPES);
        goto out;
    }
    if ((rc = store_put(t, STORE_DB_CP_ACTION_TYPES, key, (size_t)kl, rec, jlen + 1)))
        goto store_fail;
    if ((rc = cp_tags_put(t, cp_action_type_arn(req->arena, region, acct, cat, prov, ver), tags)))
        goto store_fail;
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) goto store_fail;
    req->output = json_object_new_object();
    json_object_object_add(req->output, "actionType", json_object_get(at));
    if (tags && json_object_array_length(tags))
        json_object_object_add(req->output, "tags", json_object_get(tags));
    goto out;
store_fail:
    rc = cp_store_error(req, rc);
out:
    free(rec);
    json_object_put(at);
    store_txn_abort(t);
    return rc;
}

int cp_op_delete_custom_action_type(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    const char *cat = in_str(req->input, "category"), *prov = in_str(req->input, "provider");
    const char *ver = in_str(req->input, "version");
    char key[KEY_MAX], *copy = NULL;
    store_txn *t = NULL;
    int kl = type_key(key, sizeof key, acct, region, 'C', "Custom", cat, prov, ver);
    if (kl < 0) return 0;
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    const void *val;
    size_t vlen;
    rc = store_get(t, STORE_DB_CP_ACTION_TYPES, key, (size_t)kl, &val, &vlen);
    if (rc == STORE_NOTFOUND || (rc == 0 && vlen && ((const char *)val)[0] != ST_ACTIVE)) {
        rc = 0; /* nothing to delete */
        goto out;
    }
    if (rc) goto store_fail;
    copy = malloc(vlen);
    if (!copy) abort();
    memcpy(copy, val, vlen);
    copy[0] = ST_DELETED; /* kept, so the version cannot be re-created with another definition */
    if ((rc = store_put(t, STORE_DB_CP_ACTION_TYPES, key, (size_t)kl, copy, vlen))) goto store_fail;
    if ((rc = cp_tags_delete_all(t, cp_action_type_arn(req->arena, region, acct, cat, prov, ver))))
        goto store_fail;
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) goto store_fail;
    goto out;
store_fail:
    rc = cp_store_error(req, rc);
out:
    free(copy);
    store_txn_abort(t);
    return rc;
}

int cp_op_update_action_type(struct proto_req *req)
{
    const char *acct = req->caller.account_id, *region = req->caller.region;
    struct json_object *decl = in_obj(req->input, "actionType"), *id = in_obj(decl, "id");
    const char *cat = in_str(id, "category"), *owner = in_str(id, "owner");
    const char *prov = in_str(id, "provider"), *ver = in_str(id, "version");
    char key[KEY_MAX];
    store_txn *t = NULL;
    if (!cat || !owner || !prov || !ver)
        return proto_error(req, ERR_VALIDATION, "actionType.id is incomplete");
    int kl = type_key(key, sizeof key, acct, region, 'D', owner, cat, prov, ver);
    if (kl < 0) return proto_error(req, ERR_VALIDATION, "Action type id is too long");
    int rc = store_txn_begin(req->store, 1, &t);
    if (rc) return cp_store_error(req, rc);
    const void *val;
    size_t vlen;
    rc = store_get(t, STORE_DB_CP_ACTION_TYPES, key, (size_t)kl, &val, &vlen);
    if (rc == STORE_NOTFOUND && !cp_catalogue_find(cat, owner, prov, ver)) {
        rc = proto_error(req, ERR_ACTION_TYPE_NOT_FOUND,
                         "ActionType (Category: '%s', Provider: '%s', Owner: '%s', Version: '%s') "
                         "was not found",
                         cat, prov, owner, ver);
        goto out;
    }
    if (rc && rc != STORE_NOTFOUND) goto store_fail;
    if (!strcmp(owner, "AWS")) {
        rc = proto_error(req, ERR_REQUEST_FAILED,
                         "Action types owned by AWS cannot be updated; only the provider of a "
                         "ThirdParty action type can update it");
        goto out;
    }
    struct json_object *exec = in_obj(decl, "executor");
    const char *et = in_str(exec, "type");
    if (et && !strcmp(et, "Lambda") &&
        !in_obj(in_obj(exec, "configuration"), "lambdaExecutorConfiguration")) {
        rc = proto_error(req, ERR_VALIDATION,
                         "executor.configuration.lambdaExecutorConfiguration is required for a "
                         "Lambda executor");
        goto out;
    }
    size_t jl;
    char *json = cp_json_dup(decl, &jl);
    rc = store_put(t, STORE_DB_CP_ACTION_TYPES, key, (size_t)kl, json, jl);
    free(json);
    if (rc) goto store_fail;
    rc = store_txn_commit(t);
    t = NULL;
    if (rc) goto store_fail;
    goto out;
store_fail:
    rc = cp_store_error(req, rc);
out:
    store_txn_abort(t);
    return rc;
}
