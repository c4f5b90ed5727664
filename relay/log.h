/* Daemon output: the startup summary and fatal configuration or system
 * errors, to stderr. Never called with per-client data (addresses, ports,
 * usernames): blindrelay writes nothing per session. */
#ifndef RELAY_LOG_H
#define RELAY_LOG_H

#include <stdnoreturn.h>

void br_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void br_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
