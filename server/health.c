/* GET /_codepipeline-local/health: the version, uptime and each service's state. */
#include "server/health.h"

#include <string.h>

#ifndef CPL_VERSION
#define CPL_VERSION "0.0.0"
#endif

/* A service is "running" when it answers operations and "not implemented" when its table is
 * still empty, so a user can see at a glance what this build serves. */
static const char *service_state(const struct proto_service *svc)
{
    if (svc->protocol == PROTO_REST_XML) return "running";
    return svc->n_ops ? "running" : "not implemented";
}

void srv_health(struct proto_req *req, store *st, const struct proto_service *const *services)
{
    req->content_type = "application/json";
    if (strcmp(req->http.path, "/_codepipeline-local/health") != 0) {
        req->status = 404;
        proto_sb_puts(&req->body, "{\"message\":\"Not Found\"}");
        return;
    }
    if (strcmp(req->http.method, "GET") != 0 && strcmp(req->http.method, "HEAD") != 0) {
        req->status = 405;
        proto_sb_puts(&req->body, "{\"message\":\"Method Not Allowed\"}");
        return;
    }
    req->status = 200;
    proto_sb_printf(&req->body,
                    "{\"status\":\"running\",\"version\":\"%s\",\"dataDir\":", CPL_VERSION);
    const char *dir = st ? store_dir(st) : "";
    proto_sb_json_string(&req->body, dir, strlen(dir));
    proto_sb_puts(&req->body, ",\"services\":{");
    for (int i = 0; services[i]; i++) {
        proto_sb_printf(&req->body, "%s\"%s\":\"%s\"", i ? "," : "", services[i]->name,
                        service_state(services[i]));
    }
    /* Any other service is answered with an error that names it, in its own protocol. */
    proto_sb_puts(&req->body, "},\"otherServices\":\"not emulated (sts, iam, cloudformation, "
                              "lambda, logs and the rest get an error naming the service)\"}");
}
