/* sigv4/'s refusals as each protocol's error: code, HTTP status, message and S3's detail elements.
 */
#ifndef PROTO_AUTHFAIL_H
#define PROTO_AUTHFAIL_H

#include "protocol/errors.h"
#include "protocol/request.h"
#include "sigv4/sigv4.h"

/* Returns the catalogue error AWS answers f with: S3's codes when s3 (which also tell the header
 * form from the presigned form), else those of the JSON and awsQuery services. */
enum proto_err proto_auth_err(const struct sigv4_failure *f, int s3);

/* Sets req's error from f (copied into the request; the caller still frees f), rendered for the
 * request's protocol: S3 (req->service speaks REST-XML) gets f's details as <Error> elements in
 * order, the other protocols the message alone. Returns the negative proto_err, as proto_error. */
int proto_auth_error(struct proto_req *req, const struct sigv4_failure *f);

#endif
