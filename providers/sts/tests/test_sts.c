/* sts_issue_for_role: the identity and account of the credentials a build or a job worker gets,
 * and their resolution by sigv4/ once the service has started. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "providers/sts/sts.h"
#include "sigv4/sigv4.h"

static char dir[64];
static store *st;
static sigv4_creds *creds;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void setup(void)
{
    strcpy(dir, "/tmp/sts-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    struct store_options o = {.dir = dir, .no_sync = 1};
    char err[256] = "";
    cr_assert_eq(store_open(&o, &st, err, sizeof err), 0, "%s", err);
    creds = sigv4_creds_new("000000000000");
    static struct proto_service_config cfg;
    cfg.creds = creds;
    cr_assert_eq(sts_service.start(st, &cfg, err, sizeof err), 0, "%s", err);
}

static void teardown(void)
{
    sts_service.stop(0);
    sigv4_creds_set_resolver(creds, NULL, NULL);
    sigv4_creds_free(creds);
    store_close(st);
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* The ARN and account that the stored record of akid names. */
static void record_of(const char *akid, char *rec, size_t cap)
{
    store_txn *t = NULL;
    const void *v;
    size_t vl;
    cr_assert_eq(store_txn_begin(st, 0, &t), 0);
    cr_assert_eq(store_get(t, STORE_DB_STS_CREDS, akid, strlen(akid), &v, &vl), 0);
    snprintf(rec, cap, "%.*s", (int)vl, (const char *)v);
    store_txn_abort(t);
}

Test(sts_issue_for_role, a_role_gets_an_assumed_role_session_in_the_callers_account, .init = setup,
     .fini = teardown)
{
    struct sts_temp_creds tc;
    time_t before = time(NULL);
    /* the role ARN names another account: the credentials stay in the resource's */
    cr_assert_eq(sts_issue_for_role(st, NULL, "123456789012",
                                    "arn:aws:iam::999999999999:role/service-role/cb-role",
                                    "AWSCodeBuild-1234", 3600, &tc),
                 0);
    cr_assert_eq(strncmp(tc.access_key, "ASIA", 4), 0, "%s", tc.access_key);
    cr_assert_eq(strlen(tc.access_key), 20);
    cr_assert_eq(strlen(tc.secret), 40);
    cr_assert(strlen(tc.token) > 100);
    cr_assert(tc.expiration >= before + 3600 && tc.expiration <= time(NULL) + 3600);
    char rec[1024];
    record_of(tc.access_key, rec, sizeof rec);
    cr_assert(strstr(rec, "\"arn\":\"arn:aws:sts::123456789012:assumed-role\\/cb-role\\/"
                          "AWSCodeBuild-1234\""),
              "%s", rec);
    cr_assert(strstr(rec, "\"account\":\"123456789012\""), "%s", rec);
    cr_assert(strstr(rec, ":AWSCodeBuild-1234\""), "%s", rec); /* the userId */

    struct sigv4_temp_key tk;
    cr_assert_eq(sigv4_creds_lookup_temp(creds, tc.access_key, &tk), 1);
    cr_assert_str_eq(tk.account_id, "123456789012");
    cr_assert_str_eq(tk.secret, tc.secret);
    cr_assert_str_eq(tk.session_token, tc.token);
    cr_assert_eq(tk.expiration, tc.expiration);
}

Test(sts_issue_for_role, no_role_or_not_a_role_arn_is_the_accounts_root, .init = setup,
     .fini = teardown)
{
    const char *roles[] = {NULL, "", "not-an-arn", "arn:aws:iam::123456789012:user/bob",
                           "arn:aws:iam::123456789012:role/"};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        struct sts_temp_creds tc;
        cr_assert_eq(sts_issue_for_role(st, NULL, "123456789012", roles[i], "s", 900, &tc), 0);
        char rec[1024];
        record_of(tc.access_key, rec, sizeof rec);
        cr_assert(strstr(rec, "\"arn\":\"arn:aws:iam::123456789012:root\""), "%s: %s",
                  roles[i] ? roles[i] : "NULL", rec);
    }
}

Test(sts_issue_for_role, issues_inside_the_callers_write_transaction, .init = setup,
     .fini = teardown)
{
    struct sts_temp_creds tc;
    store_txn *t = NULL;
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(sts_issue_for_role(st, t, "123456789012", "arn:aws:iam::123456789012:role/p",
                                    "job", 900, &tc),
                 0);
    store_txn_abort(t); /* not committed: not issued */
    struct sigv4_temp_key tk;
    cr_assert_eq(sigv4_creds_lookup_temp(creds, tc.access_key, &tk), 0);
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(sts_issue_for_role(st, t, "123456789012", "arn:aws:iam::123456789012:role/p",
                                    "job", 900, &tc),
                 0);
    cr_assert_eq(store_txn_commit(t), 0);
    cr_assert_eq(sigv4_creds_lookup_temp(creds, tc.access_key, &tk), 1);
    cr_assert_str_eq(tk.account_id, "123456789012");
}
