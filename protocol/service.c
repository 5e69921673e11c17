/* Operation lookup in a service's table. */
#include "protocol/service.h"

#include <string.h>

const struct proto_operation *proto_service_find_op(const struct proto_service *svc,
                                                    const char *name)
{
    for (size_t i = 0; i < svc->n_ops; i++)
        if (strcmp(svc->ops[i].name, name) == 0) return &svc->ops[i];
    return NULL;
}
