/* blindrelay: a TURN relay that forwards encrypted media and keeps nothing
 * per session. Entry point: configuration, daemon, exit status. */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "daemon.h"

int main(int argc, char **argv)
{
    struct br_config cfg;
    struct daemon *d;
    int rc = br_config_load(&cfg, argc, argv, stderr);

    if (rc != 0) {
        br_config_release(&cfg);
        return rc > 0 ? EXIT_SUCCESS : 2;
    }
    d = daemon_new(&cfg, argc, argv);
    rc = daemon_run(d);
    daemon_free(d);
    br_config_release(&cfg);
    return rc;
}
