/* Declarations shared by the codedeploy provider's files. */
#ifndef CD_INTERNAL_H
#define CD_INTERNAL_H

#include "providers/codedeploy/codedeploy.h"

/* Calls every deployment listener with ev (see cd_deployment_listener for when). */
void cd_notify_deployment_done(const struct cd_deployment_done *ev);

#endif
