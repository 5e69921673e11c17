/* Pipeline declarations without the server: default filling and AWS's structure rules, as pure
 * functions over json-c objects (unit-tested in tests/test_structure.c). */
#ifndef CP_STRUCTURE_H
#define CP_STRUCTURE_H

#include <stdint.h>

#include "protocol/errors.h"

struct json_object;

struct cp_structure_ctx {
    const char *region; /* the pipeline's region ("us-east-1") */
    /* Returns the stored ActionType JSON (id, actionConfigurationProperties, inputArtifactDetails,
     * outputArtifactDetails) of an active custom action type as a new reference the caller puts,
     * or NULL when there is none. NULL callback: no custom action types exist. */
    struct json_object *(*custom_lookup)(void *arg, const char *category, const char *provider,
                                         const char *version);
    void *arg;
};

struct cp_structure_error {
    enum proto_err err;
    char message[768];
};

/* Returns a new pipeline declaration (caller puts) holding the members of decl in AWS's order with
 * the defaults AWS fills in (runOrder 1, configuration {}, empty artifact lists, pipelineType V1 -
 * or V2 when the declaration has V2 parameters, triggers or variables - executionMode SUPERSEDED)
 * and version set; unknown members are dropped. decl is not changed. */
struct json_object *cp_structure_normalise(struct json_object *decl, uint32_t version);

/* Checks a normalised declaration against the structure rules. Returns 0, or -1 with the first
 * violation's error (AWS's exception) and message in *e. */
int cp_structure_validate(struct json_object *decl, const struct cp_structure_ctx *ctx,
                          struct cp_structure_error *e);

#endif
