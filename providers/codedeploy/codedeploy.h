/* The codedeploy provider's interface to the server and to the other providers. */
#ifndef CD_CODEDEPLOY_H
#define CD_CODEDEPLOY_H

#include "protocol/service.h"

/* The codedeploy service: its JSON 1.1 operation table and model. */
extern const struct proto_service cd_service;

#endif
