/* codepipeline-local: parse the flags, start the server, wait for SIGINT or SIGTERM, shut down. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "server/log.h"
#include "server/options.h"
#include "server/server.h"

int main(int argc, char **argv)
{
    struct srv_options opts;
    char err[512];
    srv_options_defaults(&opts);
    int rc = srv_options_parse(argc, argv, &opts, err, sizeof(err));
    if (rc == 1) return 0;
    if (rc < 0) {
        fprintf(stderr, "codepipeline-local: %s\n", err);
        return 2;
    }
    /* Block the stop signals before any thread starts so only sigwait below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    srv *s;
    if (srv_start(&opts, &s, err, sizeof(err)) < 0) {
        fprintf(stderr, "codepipeline-local: %s\n", err);
        return 1;
    }
    srv_log(SRV_LOG_INFO, "codepipeline-local listening on %s:%u, data dir %s", opts.host,
            srv_port(s), opts.data_dir);
    int sig = 0;
    sigwait(&stop, &sig);
    srv_log(SRV_LOG_INFO, "received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    srv_stop(s);
    srv_log(SRV_LOG_INFO, "stopped");
    return 0;
}
