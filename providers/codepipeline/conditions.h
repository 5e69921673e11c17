/* Stage conditions (beforeEntry, onSuccess, onFailure): their rule executions inside the
 * execution record, the verdict the state machine asks for, the Commands rule's queue work, and
 * the state GetPipelineState and ListRuleExecutions show. */
#ifndef CP_CONDITIONS_H
#define CP_CONDITIONS_H

#include "providers/codepipeline/engine.h"

#define CP_KIND_RULE "codepipeline.rule" /* a Commands rule runs (id: its ruleExecutionId) */

enum cp_cond_kind { CP_COND_BEFORE_ENTRY = 0, CP_COND_ON_SUCCESS = 1, CP_COND_ON_FAILURE = 2 };

/* What a condition says about a stage. */
enum cp_cond_verdict {
    CP_COND_NONE = 0,    /* the stage declares no such condition */
    CP_COND_MET = 1,     /* every rule succeeded, or the condition was overridden */
    CP_COND_UNMET = 2,   /* a rule failed: the condition's result engages */
    CP_COND_PENDING = 3, /* rules still run (a Commands rule): ask again when they end */
};

/* The execution a check runs for, as the state machine holds it. */
struct cp_cond_env {
    store_txn *t; /* the machine's write txn */
    const char *account, *region, *pipeline;
    unsigned seq;
    struct json_object *e;    /* the execution record: changed in place */
    struct json_object *decl; /* its declaration */
    struct cp_kicks *kicks;   /* queue items to kick after the commit */
    double now;
};

/* Evaluates condition kind of stage si for env's execution: on the first call the rules start
 * (VariableCheck, DeploymentWindow and the rules that are not simulated end at once; a Commands
 * rule is queued as CP_KIND_RULE), later calls read where they are. Sets *changed when the record
 * changed and *result to the condition's declared result (static or borrowed from decl; NULL when
 * none). Returns an enum cp_cond_verdict, or a negative store error code. */
int cp_cond_check(struct cp_cond_env *env, int si, enum cp_cond_kind kind, const char **result,
                  int *changed);

/* Called when an execution enters stage record st (declaration sd): forgets the conditions of an
 * earlier entry, except a beforeEntry condition that OverrideStageCondition just overrode.
 * Returns 1 when the stage's beforeEntry condition must be checked before its actions start. */
int cp_cond_enter(struct json_object *st, struct json_object *sd);

/* The status of condition kind in stage record st ("InProgress", "Failed", "Overridden", ...),
 * or NULL when it has not run. Borrowed from st. */
const char *cp_cond_status(struct json_object *st, enum cp_cond_kind kind);
/* Called with the ruleExecutionId of each rule a change abandons (to cancel its queue item). */
typedef void (*cp_cond_rule_fn)(void *ctx, const char *rule_execution_id);
/* Marks condition kind of st Overridden at now (rules still running become Abandoned, are
 * passed to fn when not NULL, and their results are ignored); it then reads as met. */
void cp_cond_override(struct json_object *st, enum cp_cond_kind kind, double now,
                      cp_cond_rule_fn fn, void *ctx);
/* Marks every condition of st still in progress Abandoned at now, with its running rules (passed
 * to fn when not NULL): the stage is stopping. */
void cp_cond_abandon(struct json_object *st, double now, cp_cond_rule_fn fn, void *ctx);

/* The StageConditionState of kind in stage record st for GetPipelineState, as a new object
 * (caller puts), or NULL when the condition has not run. */
struct json_object *cp_cond_state_out(struct json_object *st, enum cp_cond_kind kind);
/* Appends every rule execution of execution e (RuleExecutionDetail, without the engine's
 * members; new references) to list. */
void cp_cond_rule_executions(struct json_object *e, struct json_object *list);

/* The CP_KIND_RULE queue functions (worker.c registers them). */
int cp_rule_run(void *ctx, const struct rt_item *item, rt_task *task);
int cp_rule_settle(void *ctx, const struct rt_item *item);

/* The store the engine runs on (worker.c). */
store *cp_engine_store(void);

#endif
