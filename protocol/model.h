/* Model-driven input validation: tables generated at build time from the vendored botocore models.
 */
#ifndef PROTO_MODEL_H
#define PROTO_MODEL_H

#include "protocol/request.h"

struct json_object;
struct proto_model_service;
struct proto_model_op;

/* proto_model_<name> for each service of protocol/services.def */
#define PROTO_SERVICE(name, provider) extern const struct proto_model_service proto_model_##name;
#include "protocol/services.def"
#undef PROTO_SERVICE

/* Compiles every model pattern with PCRE2. Call once at start; returns 0 or -1. */
int proto_model_init(void);
/* Returns the model of operation name in svc, or NULL when the service has no such operation. */
const struct proto_model_op *proto_model_find_op(const struct proto_model_service *svc,
                                                 const char *name);
/* Validates input (the decoded JSON body) against op's input shape: required members, types,
 * lengths, ranges, patterns, enums. Unknown members are ignored. Returns 0, or
 * -ERR_VALIDATION / -ERR_SERIALIZATION with AWS's message set on req. */
int proto_model_validate(struct proto_req *req, const struct proto_model_op *op,
                         struct json_object *input);

#endif
