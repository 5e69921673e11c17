/* The credentials store: defaults, add/replace, and the credentials file format. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sigv4/sigv4.h"

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/sigv4-creds-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

Test(sigv4_creds, defaults_are_bound_to_the_default_account)
{
    sigv4_creds *c = sigv4_creds_new("123456789012");
    const char *s, *a;
    cr_assert(sigv4_creds_lookup(c, "test", &s, &a));
    cr_expect_str_eq(s, "test");
    cr_expect_str_eq(a, "123456789012");
    cr_assert(sigv4_creds_lookup(c, "AKIAIOSFODNN7EXAMPLE", &s, &a));
    cr_expect_str_eq(s, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    cr_expect_not(sigv4_creds_lookup(c, "nope", &s, &a));
    sigv4_creds_free(c);
}

Test(sigv4_creds, add_replaces_and_rejects_malformed)
{
    sigv4_creds *c = sigv4_creds_new("000000000000");
    const char *s, *a;
    cr_expect_eq(sigv4_creds_add(c, "test", "other", "111111111111"), 0);
    cr_assert(sigv4_creds_lookup(c, "test", &s, &a));
    cr_expect_str_eq(s, "other");
    cr_expect_str_eq(a, "111111111111");
    cr_expect_eq(sigv4_creds_add(c, "k", "s", "12345"), -1);
    cr_expect_eq(sigv4_creds_add(c, "", "s", "123456789012"), -1);
    cr_expect_eq(sigv4_creds_add(c, "a b", "s", "123456789012"), -1);
    cr_expect_eq(sigv4_creds_add(c, "k", "", "123456789012"), -1);
    cr_expect_eq(sigv4_creds_add(c, "k", "s", "12345678901a"), -1);
    sigv4_creds_free(c);
}

Test(sigv4_creds, load_file_with_comments)
{
    char *p = write_tmp("# team keys\n\nAKIDALICE  secretA 111122223333\n"
                        "\tAKIDBOB secret/B+x 444455556666   # bob\n");
    sigv4_creds *c = sigv4_creds_new("000000000000");
    char err[256] = "";
    cr_assert_eq(sigv4_creds_load_file(c, p, err, sizeof err), 0, "%s", err);
    const char *s, *a;
    cr_assert(sigv4_creds_lookup(c, "AKIDBOB", &s, &a));
    cr_expect_str_eq(s, "secret/B+x");
    cr_expect_str_eq(a, "444455556666");
    cr_assert(sigv4_creds_lookup(c, "AKIDALICE", &s, &a));
    cr_expect_str_eq(a, "111122223333");
    cr_assert(sigv4_creds_lookup(c, "test", &s, &a));
    sigv4_creds_free(c);
    unlink(p);
    free(p);
}

Test(sigv4_creds, load_file_rejects_bad_lines_naming_the_line)
{
    struct {
        const char *text, *reason;
    } cases[] = {
        {"AKIDA secret 111122223333\nAKIDB secret 12345\n",
         "line 2: account id '12345' is not 12 digits"},
        {"AKIDA secret\n",
         "line 1: expected 'ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID', got 2 fields"},
        {"# x\n\nAKIDA secret 111122223333 extra\n",
         "line 3: expected 'ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID', got 4 fields"},
        {"AKID/A secret 111122223333\n", "line 1: invalid access key id 'AKID/A'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = write_tmp(cases[i].text);
        sigv4_creds *c = sigv4_creds_new("000000000000");
        char err[256] = "";
        cr_expect_eq(sigv4_creds_load_file(c, p, err, sizeof err), -1);
        char want[512];
        snprintf(want, sizeof want, "%s: %s", p, cases[i].reason);
        cr_expect_str_eq(err, want);
        cr_expect_null(strchr(err, '\n'));
        cr_expect_not(sigv4_creds_lookup(c, "AKIDA", NULL, NULL), "a bad file must add nothing");
        sigv4_creds_free(c);
        unlink(p);
        free(p);
    }
    sigv4_creds *c = sigv4_creds_new("000000000000");
    char err[256] = "";
    cr_expect_eq(sigv4_creds_load_file(c, "/nonexistent/creds", err, sizeof err), -1);
    cr_expect_str_eq(err,
                     "/nonexistent/creds: cannot open credentials file: No such file or directory");
    sigv4_creds_free(c);
}

Test(sigv4_creds, of_account_gives_the_first_key_pair_of_that_account)
{
    sigv4_creds *c = sigv4_creds_new("000000000000");
    const char *k, *s;
    cr_assert(sigv4_creds_of_account(c, "000000000000", &k, &s));
    cr_expect_str_eq(k, "test");
    cr_expect_str_eq(s, "test");
    cr_expect_not(sigv4_creds_of_account(c, "111111111111", &k, &s));
    cr_assert_eq(sigv4_creds_add(c, "KB1", "sb1", "111111111111"), 0);
    cr_assert_eq(sigv4_creds_add(c, "KB2", "sb2", "111111111111"), 0);
    cr_assert(sigv4_creds_of_account(c, "111111111111", &k, &s));
    cr_expect_str_eq(k, "KB1");
    cr_expect_str_eq(s, "sb1");
    /* KB1 moved to another account: no longer one of 111111111111's */
    cr_assert_eq(sigv4_creds_add(c, "KB1", "sb1", "222222222222"), 0);
    cr_assert(sigv4_creds_of_account(c, "111111111111", &k, &s));
    cr_expect_str_eq(k, "KB2");
    sigv4_creds_free(c);
}
