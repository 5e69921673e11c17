/* The awsQuery protocol (STS, IAM): form decoding into the validated input, XML answers, errors. */
#ifndef PROTO_QUERY_H
#define PROTO_QUERY_H

#include <stddef.h>

#include "protocol/request.h"

struct json_object;
struct proto_model_service;
struct proto_model_op;

/* One decoded form parameter (name and value, arena-owned, NUL-terminated; the value may hold
 * NULs: use value_len). */
struct proto_query_param {
    const char *name;
    const char *value;
    size_t value_len;
};

/* Splits a form body or query string (s, n bytes) into decoded parameters ("+" is a space,
 * "%XX" a byte) in order, into arena memory. Returns the count and sets *out, or -1 when a '%'
 * escape is malformed or a name or value is not UTF-8 (MalformedQueryString). */
int proto_query_parse(proto_arena *a, const char *s, size_t n, struct proto_query_param **out);

/* Builds the input structure of op from the flattened parameters (Action and Version skipped):
 * "RoleName" a member, "Tags.member.1.Key" a list element's member, as botocore serialises them.
 * Scalars get their model type (integers, booleans). Unknown names are ignored, as AWS does.
 * Returns 0 and *out (a new json-c object; caller puts it), or a negative proto_err set on req
 * (InvalidParameterValue for a value of the wrong type or a list index out of range). */
int proto_query_build_input(struct proto_req *req, const struct proto_model_op *op,
                            const struct proto_query_param *ps, int n, struct json_object **out);

/* Appends value (a json-c tree) as awsQuery XML: an object's keys as elements, an array's items
 * as <member> elements, booleans as true/false. */
void proto_query_xml_value(struct proto_sb *sb, struct json_object *value);

/* Runs an authenticated awsQuery request of req->service: parses the form (the body of a POST,
 * else the query string), checks Action and Version, builds and validates the input, calls the
 * operation's handler and encodes <ActionResponse><ActionResult>req->output</ActionResult>
 * <ResponseMetadata> into req->body. Sets req->operation and req->input. Returns 0, or the
 * negative proto_err set on req. The server and the dispatch fuzzer share it. */
int proto_query_dispatch(struct proto_req *req);

/* Renders req->err as awsQuery's <ErrorResponse> (Type Sender for 4xx, Receiver for 5xx) into
 * req->body, and sets the status and content type. Errors named as the JSON services name them
 * (an unknown key, an expired token, a bad signature, a validation error) are rendered with
 * awsQuery's code and status. */
void proto_query_error_finish(struct proto_req *req);

#endif
