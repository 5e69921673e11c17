/* Declarations shared by the codebuild provider's files. */
#ifndef CB_INTERNAL_H
#define CB_INTERNAL_H

#include "providers/codebuild/codebuild.h"

/* Calls every build listener with ev (see cb_build_listener for when). */
void cb_notify_build_done(const struct cb_build_done *ev);

#endif
