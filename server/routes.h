/* The table of services and how a request picks one. */
#ifndef SRV_ROUTES_H
#define SRV_ROUTES_H

#include "protocol/service.h"

enum srv_route {
    SRV_ROUTE_HEALTH,         /* GET /_codepipeline-local/health */
    SRV_ROUTE_JSON,           /* a JSON 1.1 service, by X-Amz-Target */
    SRV_ROUTE_REST,           /* S3 */
    SRV_ROUTE_RAW,            /* git smart HTTP under /v1/repos/ */
    SRV_ROUTE_UNKNOWN_TARGET, /* JSON 1.1 call with an X-Amz-Target no service has */
};

/* Picks the route of a request from its path, X-Amz-Target (may be NULL) and credential-scope
 * service (may be NULL). Sets *svc to the service (NULL for health). */
enum srv_route srv_route_pick(const char *path, const char *target, const char *scope_service,
                              const struct proto_service **svc);
/* Returns the table of all services, NULL-terminated. */
const struct proto_service *const *srv_services(void);

#endif
