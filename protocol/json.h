/* AWS JSON 1.1: decoding request bodies and encoding responses and errors. */
#ifndef PROTO_JSON_H
#define PROTO_JSON_H

#include "protocol/request.h"

/* Parses the buffered body into req->input ("" counts as {}). Returns 0 or -ERR_SERIALIZATION. */
int proto_json_decode(struct proto_req *req);
/* Fills req->body, status and content type from req->output or from req->err. */
void proto_json_finish(struct proto_req *req);
/* Fills req->body, status and content type with S3's <Error> document for req->err; closes a file
 * body (resp_fd) the handler chose before failing. */
void proto_xml_error_finish(struct proto_req *req);
/* Starts an XML error document for req->err in place of the body the handler chose (a file body
 * is closed): sets the status and content_type, then writes open and the escaped
 * <Code>...</Code><Message>...</Message>. The S3 and awsQuery error documents both begin so. */
void proto_xml_error_begin(struct proto_req *req, const char *content_type, const char *open);
/* Finishes a REST-XML answer: the <Error> document when req->err is set, else status 200 unless
 * set, with an XML document body (content type application/xml, no file body) made valid UTF-8,
 * as every JSON answer and error is. Object bytes (a file body or another content type) are left
 * untouched. */
void proto_xml_finish(struct proto_req *req);

#endif
