/* The running daemon: the shared protocol objects (credentials, peer
 * policy, quotas) and the workers, built from a frozen configuration. */
#ifndef RELAY_DAEMON_H
#define RELAY_DAEMON_H

#include "config.h"

struct daemon;

/* Builds everything and opens every socket; on a configuration or system
 * error prints the key and the reason and exits (fail fast at start).
 * argc/argv are kept to read the configuration again on SIGHUP. */
struct daemon *daemon_new(const struct br_config *cfg, int argc, char **argv);

/* Starts the workers, prints the startup summary, and serves until SIGINT
 * or SIGTERM. Returns the exit status. */
int daemon_run(struct daemon *d);

void daemon_free(struct daemon *d);

#endif
