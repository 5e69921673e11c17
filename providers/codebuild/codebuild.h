/* The codebuild provider's interface to the server and to the other providers. */
#ifndef CB_CODEBUILD_H
#define CB_CODEBUILD_H

#include "protocol/service.h"

/* The codebuild service: its JSON 1.1 operation table and model. */
extern const struct proto_service cb_service;

#endif
