/* The S3 provider's interface to the server and to the other providers. */
#ifndef S3_S3_H
#define S3_S3_H

#include "protocol/service.h"

/* The S3 service: REST-XML, dispatched by method, path shape and sub-resource. */
extern const struct proto_service s3_service;

#endif
