/* GET /_codepipeline-local/health: the version, uptime and each service's state. */
#include "server/health.h"

#include <stdlib.h>
#include <string.h>

#include "providers/codebuild/codebuild.h"

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
    static const char LOGS[] = "/_codepipeline-local/codebuild/logs/";
    req->content_type = "application/json";
    if (!strncmp(req->http.path, LOGS, sizeof LOGS - 1) && st) {
        /* a build's whole log, the deepLink of BatchGetBuilds (ids hold ':' as "%3A" or raw) */
        char id[512];
        size_t n = 0;
        for (const char *p = req->http.path + sizeof LOGS - 1; *p && n < sizeof id - 1; p++) {
            if (p[0] == '%' && p[1] && p[2]) {
                char hx[3] = {p[1], p[2], 0};
                id[n++] = (char)strtol(hx, NULL, 16);
                p += 2;
            } else {
                id[n++] = *p;
            }
        }
        id[n] = 0;
        int fd;
        uint64_t size;
        if (cb_serve_log(st, id, &fd, &size) == 0) {
            req->status = 200;
            req->content_type = "text/plain; charset=utf-8";
            req->resp_fd = fd;
            req->resp_fd_offset = 0;
            req->resp_fd_len = size;
            return;
        }
    }
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
    proto_sb_puts(&req->body, "},\"otherServices\":\"not emulated (cloudformation, lambda, "
                              "events and the rest get an error naming the service)\"}");
}
