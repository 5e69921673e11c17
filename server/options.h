/* Command-line flags of the contract. */
#ifndef SRV_OPTIONS_H
#define SRV_OPTIONS_H

#include <stddef.h>

struct srv_options {
    const char *host;        /* 127.0.0.1 */
    unsigned port;           /* 4566; 0 picks a free port (tests) */
    const char *data_dir;    /* ./data */
    const char *region;      /* us-east-1: the region of requests that name none */
    const char *account_id;  /* 000000000000: the account of the default key pairs */
    const char *credentials; /* extra key pairs, or NULL */
    int auth_off;            /* --auth off */
    int log_level;           /* enum srv_log_level */
    size_t map_size;         /* LMDB map size in bytes */
    int no_sync;             /* --sync off */
    unsigned threads;        /* HTTP worker threads */
    size_t max_body;         /* largest buffered request body */
    unsigned shutdown_grace; /* seconds a stop lets requests, then background work, finish */
    unsigned max_builds;     /* --max-builds; 0: the CPU count */
    int build_sandbox;       /* --build-sandbox: 0 none, 1 bwrap */
};

/* Fills opts with the defaults. */
void srv_options_defaults(struct srv_options *opts);
/* Parses argv into opts. Returns 0, 1 when --help or --version printed (exit 0), or -1 with a
 * one-line reason in err (exit non-zero). Strings point into argv. */
int srv_options_parse(int argc, char **argv, struct srv_options *opts, char *err, size_t errlen);

#endif
