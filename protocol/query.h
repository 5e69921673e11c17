/* The awsQuery protocol (STS, IAM): its error document. */
#ifndef PROTO_QUERY_H
#define PROTO_QUERY_H

#include "protocol/request.h"

/* Renders req->err as awsQuery's <ErrorResponse> (Type Sender for 4xx, Receiver for 5xx) into
 * req->body, and sets the status and content type. */
void proto_query_error_finish(struct proto_req *req);

#endif
