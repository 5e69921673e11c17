/* GET /_codepipeline-local/health: the version and each service's state. */
#ifndef SRV_HEALTH_H
#define SRV_HEALTH_H

#include "persistence/store.h"
#include "protocol/request.h"
#include "protocol/service.h"

/* Answers the health request on req (JSON body, 200; 404 for other internal paths, 405 for
 * methods other than GET and HEAD). services is NULL-terminated. */
void srv_health(struct proto_req *req, store *st, const struct proto_service *const *services);

#endif
