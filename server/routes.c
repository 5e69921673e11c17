/* The table of services: adding a service (STS, IAM, CloudWatch Logs) means adding a row. */
#include "server/routes.h"

#include <string.h>

#include "providers/codebuild/codebuild.h"
#include "providers/codecommit/codecommit.h"
#include "providers/codedeploy/codedeploy.h"
#include "providers/codepipeline/codepipeline.h"
#include "providers/s3/s3.h"

static const struct proto_service *const services[] = {
    &cp_service, &cc_service, &cb_service, &cd_service, &s3_service, NULL,
};

const struct proto_service *const *srv_services(void)
{
    return services;
}

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum srv_route srv_route_pick(const char *path, const char *target, const char *scope_service,
                              const struct proto_service **svc)
{
    *svc = NULL;
    if (has_prefix(path, "/_codepipeline-local/")) return SRV_ROUTE_HEALTH;
    if (has_prefix(path, "/v1/repos/")) {
        *svc = &cc_git_service;
        return SRV_ROUTE_RAW;
    }
    if (target) {
        const char *dot = strchr(target, '.');
        size_t plen = dot ? (size_t)(dot - target) : strlen(target);
        for (int i = 0; services[i]; i++) {
            const char *p = services[i]->target_prefix;
            if (p && strlen(p) == plen && memcmp(p, target, plen) == 0) {
                *svc = services[i];
                return SRV_ROUTE_JSON;
            }
        }
        return SRV_ROUTE_UNKNOWN_TARGET;
    }
    /* A JSON service's credential scope without a target is a JSON call missing its operation. */
    if (scope_service) {
        for (int i = 0; services[i]; i++) {
            if (services[i]->protocol == PROTO_JSON_1_1 &&
                strcmp(services[i]->name, scope_service) == 0) {
                *svc = services[i];
                return SRV_ROUTE_UNKNOWN_TARGET;
            }
        }
    }
    *svc = &s3_service;
    return SRV_ROUTE_REST;
}
