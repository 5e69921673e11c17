/* The awsQuery error document, as STS and IAM send it and botocore's query parser reads it. */
#include "protocol/query.h"

#include <string.h>
#include <unistd.h>

#include "protocol/errors.h"

void proto_query_error_finish(struct proto_req *req)
{
    req->content_type = "text/xml";
    req->status = proto_err_status(req->err);
    if (req->resp_fd >= 0) close(req->resp_fd);
    req->resp_fd = -1;
    proto_sb_reset(&req->body);
    const char *code = proto_err_code(req->err);
    const char *msg = req->err_message ? req->err_message : "";
    proto_sb_puts(&req->body, "<ErrorResponse><Error><Type>");
    proto_sb_puts(&req->body, req->status >= 500 ? "Receiver" : "Sender");
    proto_sb_puts(&req->body, "</Type><Code>");
    proto_sb_xml_escape(&req->body, code, strlen(code));
    proto_sb_puts(&req->body, "</Code><Message>");
    proto_sb_xml_escape(&req->body, msg, strlen(msg));
    proto_sb_puts(&req->body, "</Message></Error><RequestId>");
    proto_sb_puts(&req->body, req->request_id);
    proto_sb_puts(&req->body, "</RequestId></ErrorResponse>");
}
