/* The one error convention of the in-process interfaces: each provider owns a range of negative
 * codes, so a code says by itself where it came from and never means two things. */
#ifndef RT_ERRORS_H
#define RT_ERRORS_H

/* 0 is success everywhere. persistence/ keeps -1..-99 (STORE_NOTFOUND, STORE_ERROR, ...). Each
 * provider numbers its codes downwards from its base: S3_ENOBUCKET is S3_E_BASE - 1. A function
 * documents which codes of which ranges it returns; a caller never tests for a bare -1. */
#define RT_E_BASE   (-100)  /* providers/runtime: -100..-199 */
#define S3_E_BASE   (-1000) /* providers/s3: -1001..-1999 */
#define CC_E_BASE   (-2000) /* providers/codecommit: -2001..-2999 */
#define CB_E_BASE   (-3000) /* providers/codebuild: -3001..-3999 */
#define CD_E_BASE   (-4000) /* providers/codedeploy: -4001..-4999 */
#define CP_E_BASE   (-5000) /* providers/codepipeline: -5001..-5999 */
#define LG_E_BASE   (-6000) /* providers/logs: -6001..-6999 */
#define CONN_E_BASE (-7000) /* providers/connections: -7001..-7999 */
#define IAM_E_BASE  (-8000) /* providers/iam: -8001..-8999 */

/* The runtime's own codes: the runner's (-100..-119), then the queue's and the listeners'. */
#define RT_EINVAL  (RT_E_BASE)      /* bad argument (a command without argv, a bad kind or id) */
#define RT_ESPAWN  (RT_E_BASE - 1)  /* the command could not be started (rt_result.error) */
#define RT_ESYS    (RT_E_BASE - 2)  /* a pipe, pidfd or memory could not be had (rt_result.error) */
#define RT_ENOITEM (RT_E_BASE - 20) /* no such queue item or listener */
#define RT_EFULL   (RT_E_BASE - 21) /* a fixed table is full */
#define RT_EIO     (RT_E_BASE - 22) /* store failure */
#define RT_ESTATE  (RT_E_BASE - 23) /* not allowed in the item's or the queue's current state */

#endif
