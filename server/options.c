/* Command-line flags: parsing, validation and --help. */
#include "server/options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/log.h"

#ifndef CPL_VERSION
#define CPL_VERSION "0.0.0"
#endif

static const char usage[] =
    "Usage: codepipeline-local [options]\n"
    "A local AWS CodePipeline, CodeCommit, CodeBuild, CodeDeploy and S3 on one port.\n"
    "\n"
    "  --host ADDR          address to listen on (default 127.0.0.1)\n"
    "  --port N             port to listen on (default 4566)\n"
    "  --data-dir DIR       where all state is kept (default ./data; created if missing)\n"
    "  --region REGION      region of requests that name none (default us-east-1)\n"
    "  --account-id ID      12-digit account of the default key pairs (default 000000000000)\n"
    "  --credentials FILE   extra key pairs, one 'ACCESS_KEY_ID SECRET ACCOUNT_ID' per line\n"
    "  --auth sigv4|off     verify SigV4 signatures (default sigv4); off still uses the access\n"
    "                       key to pick the account\n"
    "  --log-level LEVEL    error, warn, info or debug (default info)\n"
    "  --map-size MIB       LMDB map size in MiB (default 8192)\n"
    "  --sync on|off        fsync every commit (default on); off survives a killed process\n"
    "                       but not a power loss\n"
    "  --threads N          HTTP worker threads (default: max(4, CPU count))\n"
    "  --max-body MIB       largest buffered request body in MiB (default 32)\n"
    "  --shutdown-grace S   on SIGTERM, seconds to let requests in flight, then background\n"
    "                       work, finish (default 5)\n"
    "  --max-builds N       CodeBuild builds that run at once; the rest wait QUEUED\n"
    "                       (default: the CPU count)\n"
    "  --build-sandbox MODE none (default: builds run as the server's user) or bwrap\n"
    "                       (bubblewrap: only the build's directory, or a deployment's\n"
    "                       instance root, is writable; also for CodeDeploy hooks)\n"
    "  --help               print this help and exit\n"
    "  --version            print the version and exit\n"
    "\n"
    "Default credentials: access key 'test' with secret 'test', and AKIAIOSFODNN7EXAMPLE with\n"
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, both in the --account-id account.\n";

void srv_options_defaults(struct srv_options *opts)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    memset(opts, 0, sizeof(*opts));
    opts->host = "127.0.0.1";
    opts->port = 4566;
    opts->data_dir = "./data";
    opts->region = "us-east-1";
    opts->account_id = "000000000000";
    opts->log_level = SRV_LOG_INFO;
    opts->map_size = (size_t)8192 << 20;
    opts->threads = ncpu > 4 ? (unsigned)ncpu : 4;
    opts->max_body = (size_t)32 << 20;
    opts->shutdown_grace = 5;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    if (!*s || *s == '-' || *s == '+') return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max) return -1;
    *out = v;
    return 0;
}

static int valid_region(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 32) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

static int valid_account(const char *s)
{
    if (strlen(s) != 12) return 0;
    for (int i = 0; i < 12; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

int srv_options_parse(int argc, char **argv, struct srv_options *opts, char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("codepipeline-local %s\n", CPL_VERSION);
            return 1;
        }
        /* Every other flag takes a value, as "--flag value" or "--flag=value". */
        const char *name = arg, *val = NULL;
        char namebuf[64];
        const char *eq = strchr(arg, '=');
        if (strncmp(arg, "--", 2) == 0 && eq && (size_t)(eq - arg) < sizeof(namebuf)) {
            memcpy(namebuf, arg, (size_t)(eq - arg));
            namebuf[eq - arg] = '\0';
            name = namebuf;
            val = eq + 1;
        }
        static const char *const known[] = {
            "--host",        "--port",     "--data-dir",   "--region",        "--account-id",
            "--credentials", "--auth",     "--log-level",  "--map-size",      "--sync",
            "--threads",     "--max-body", "--max-builds", "--build-sandbox", "--shutdown-grace"};
        int is_known = 0;
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            if (strcmp(name, known[k]) == 0) is_known = 1;
        if (!is_known) {
            snprintf(err, errlen, "unknown option '%s' (see --help)", arg);
            return -1;
        }
        if (!val) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "option '%s' needs a value", name);
                return -1;
            }
            val = argv[++i];
        }
        unsigned long n;
        if (strcmp(name, "--host") == 0) {
            if (!*val) goto bad;
            opts->host = val;
        } else if (strcmp(name, "--port") == 0) {
            if (parse_uint(val, 65535, &n)) goto bad;
            opts->port = (unsigned)n;
        } else if (strcmp(name, "--data-dir") == 0) {
            if (!*val) goto bad;
            opts->data_dir = val;
        } else if (strcmp(name, "--region") == 0) {
            if (!valid_region(val)) goto bad;
            opts->region = val;
        } else if (strcmp(name, "--account-id") == 0) {
            if (!valid_account(val)) {
                snprintf(err, errlen, "--account-id must be 12 digits, got '%s'", val);
                return -1;
            }
            opts->account_id = val;
        } else if (strcmp(name, "--credentials") == 0) {
            opts->credentials = val;
        } else if (strcmp(name, "--auth") == 0) {
            if (strcmp(val, "sigv4") == 0)
                opts->auth_off = 0;
            else if (strcmp(val, "off") == 0)
                opts->auth_off = 1;
            else
                goto bad;
        } else if (strcmp(name, "--log-level") == 0) {
            int lvl = srv_log_parse_level(val);
            if (lvl < 0) goto bad;
            opts->log_level = lvl;
        } else if (strcmp(name, "--map-size") == 0) {
            if (parse_uint(val, 1UL << 24, &n) || n < 1) goto bad;
            opts->map_size = (size_t)n << 20;
        } else if (strcmp(name, "--sync") == 0) {
            if (strcmp(val, "on") == 0)
                opts->no_sync = 0;
            else if (strcmp(val, "off") == 0)
                opts->no_sync = 1;
            else
                goto bad;
        } else if (strcmp(name, "--threads") == 0) {
            if (parse_uint(val, 256, &n) || n < 1) goto bad;
            opts->threads = (unsigned)n;
        } else if (strcmp(name, "--max-builds") == 0) {
            if (parse_uint(val, 1024, &n) || n < 1) goto bad;
            opts->max_builds = (unsigned)n;
        } else if (strcmp(name, "--build-sandbox") == 0) {
            if (strcmp(val, "none") == 0)
                opts->build_sandbox = 0;
            else if (strcmp(val, "bwrap") == 0)
                opts->build_sandbox = 1;
            else
                goto bad;
        } else if (strcmp(name, "--max-body") == 0) {
            if (parse_uint(val, 4096, &n) || n < 1) goto bad;
            opts->max_body = (size_t)n << 20;
        } else if (strcmp(name, "--shutdown-grace") == 0) {
            if (parse_uint(val, 3600, &n)) goto bad;
            opts->shutdown_grace = (unsigned)n;
        }
        continue;
    bad:
        snprintf(err, errlen, "invalid value '%s' for %s (see --help)", val, name);
        return -1;
    }
    return 0;
}
