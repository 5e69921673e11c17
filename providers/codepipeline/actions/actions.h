/* The action providers: one file each, all with the run signature of engine.h. */
#ifndef CP_ACTIONS_H
#define CP_ACTIONS_H

#include "providers/codepipeline/engine.h"

/* Each returns an enum cp_action_status and fills r (see engine.h). */
int cp_act_s3_source(struct cp_action_ctx *ac, struct cp_action_result *r);
int cp_act_codecommit_source(struct cp_action_ctx *ac, struct cp_action_result *r);
int cp_act_connection_source(struct cp_action_ctx *ac, struct cp_action_result *r);
int cp_act_s3_deploy(struct cp_action_ctx *ac, struct cp_action_result *r);
int cp_act_manual(struct cp_action_ctx *ac, struct cp_action_result *r);
int cp_act_codebuild(struct cp_action_ctx *ac, struct cp_action_result *r);
int cp_act_codedeploy(struct cp_action_ctx *ac, struct cp_action_result *r);
int cp_act_commands(struct cp_action_ctx *ac, struct cp_action_result *r);
int cp_act_job(struct cp_action_ctx *ac, struct cp_action_result *r);

/* The configuration value of key, or NULL. */
const char *cp_cfg(struct cp_action_ctx *ac, const char *key);
/* The override or trigger revision value for this source action when its type is type, or NULL.
 */
const char *cp_override(struct cp_action_ctx *ac, const char *type);
/* The polling delay for an external job started at started: short at first, then up to 2 s. */
double cp_poll_at(double started);
/* The time of the next poll for the build or deployment external that action execution aeid
 * waits on: now when it has ended already, else cp_poll_at(started), and its end wakes the
 * action sooner (wakeups.c). */
double cp_poll_external(const char *external, const char *aeid, double started);

#endif
