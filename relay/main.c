/* blindrelay: a TURN relay that forwards encrypted media and keeps nothing
 * per session. Entry point: core dumps, configuration, daemon, exit status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "config.h"
#include "daemon.h"

/* Before anything is read (the config file may hold secrets): no core dump
 * and no ptrace from other processes of this user. A core dump would write
 * client addresses, keys and payloads to disk. A non-dumpable process is
 * not dumped even through a core_pattern pipe, which ignores RLIMIT_CORE.
 * The limit found is kept in *was, to give back if core-dumps says so. */
static int core_dumps_off(struct rlimit *was)
{
    struct rlimit soft = {0, 0};

    if (getrlimit(RLIMIT_CORE, was) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        return -errno;
    }
    soft.rlim_max = was->rlim_max;
    return setrlimit(RLIMIT_CORE, &soft) < 0 ? -errno : 0;
}

/* core-dumps true: the limit found at start and dumpable again; false: the
 * hard limit to 0 as well, so nothing in this process can raise it again. */
static int core_dumps_set(bool on, const struct rlimit *was)
{
    static const struct rlimit none = {0, 0};

    if (!on) {
        return setrlimit(RLIMIT_CORE, &none) < 0 ? -errno : 0;
    }
    if (setrlimit(RLIMIT_CORE, was) < 0 || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) {
        return -errno;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct br_config cfg;
    struct rlimit core_was;
    struct daemon *d;
    int rc = core_dumps_off(&core_was);

    if (rc < 0) {
        fprintf(stderr, "blindrelay: core-dumps: cannot turn core dumps off: %s\n", strerror(-rc));
        return 2;
    }
    rc = br_config_load(&cfg, argc, argv, stderr);
    if (rc != 0) {
        br_config_release(&cfg);
        return rc > 0 ? EXIT_SUCCESS : 2;
    }
    rc = core_dumps_set(cfg.core_dumps, &core_was);
    if (rc < 0) {
        fprintf(stderr, "blindrelay: core-dumps: cannot set: %s\n", strerror(-rc));
        br_config_release(&cfg);
        return 2;
    }
    d = daemon_new(&cfg, argc, argv);
    rc = daemon_run(d);
    daemon_free(d);
    br_config_release(&cfg);
    return rc;
}
