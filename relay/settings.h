/* The simple reloadable keys the workers read (numbers and booleans), one
 * line each. A line gives the field of struct br_config and of struct
 * relay_settings, the key's row in the table of relay/config.c (so its
 * parsing, range check, default, --help and --print-keys) and its copy into
 * the workers' settings at start and at every SIGHUP. Adding a key here
 * makes it reloadable with nothing else to write but its use
 * (w->settings.FIELD), its row in docs/configuration.md and its test.
 *
 * X(KIND, FIELD, "key-name", "default", MIN, MAX, "help")
 *   KIND: UINT (uint32_t, MIN..MAX) or BOOL (bool; MIN and MAX 0).
 * Keys with other values (lists, addresses, files, "auto") and keys read
 * by the daemon rather than the workers are rows of relay/config.c. */
#ifndef RELAY_SETTINGS_H
#define RELAY_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#define RELAY_SETTINGS_KEYS(X)                                                                     \
    X(UINT, default_lifetime, "default-lifetime", "600", 60, 86400,                                \
      "allocation lifetime in seconds when the client asks for none (60 to 86400)")                \
    X(UINT, max_lifetime, "max-lifetime", "3600", 60, 86400,                                       \
      "longest allocation lifetime granted, seconds (60 to 86400)")                                \
    X(UINT, max_permissions, "max-permissions", "32", 1, 16384,                                    \
      "permissions per allocation (1 to 16384)")                                                   \
    X(UINT, max_channels, "max-channels", "64", 1, 16384, "channels per allocation (1 to 16384)")  \
    X(BOOL, rfc5766_channels, "rfc5766-channels", "true", 0, 0,                                    \
      "accept channel numbers 0x5000-0x7FFF as RFC 5766 did")                                      \
    X(UINT, max_bps, "max-bps", "0", 0, 4294967295u,                                               \
      "relayed bits per second per allocation, both directions together; 0 = no limit")            \
    X(BOOL, udp_gso, "udp-gso", "true", 0, 0,                                                      \
      "send a run of equal-size datagrams to one UDP client as one GSO send (UDP_SEGMENT); "       \
      "off only to compare, or for a device that mishandles it")                                   \
    X(UINT, handshake_timeout, "handshake-timeout", "10", 1, 300,                                  \
      "seconds a TLS client has to finish its handshake (1 to 300)")                               \
    X(UINT, idle_timeout, "idle-timeout", "30", 1, 3600,                                           \
      "seconds a TCP/TLS connection may go without a request before it has an allocation")         \
    X(UINT, stream_buffer, "stream-buffer", "131072", 4096, 16777216,                              \
      "bytes of relayed media queued per TCP/TLS client before more is dropped")                   \
    X(UINT, max_unauth_frame, "max-unauth-frame", "4096", 548, 65552,                              \
      "largest frame, header included, a TCP/TLS connection may announce before it holds an "      \
      "allocation; a larger one closes it (548 to 65552, the largest frame)")                      \
    X(UINT, udp_listen_buffer, "udp-listen-buffer", "4194304", 65536, 1073741824,                  \
      "receive queue of each UDP listening socket, bytes, as asked of the kernel (capped by "      \
      "net.core.rmem_max); larger loses fewer datagrams in bursts but lets them wait longer")

/* The C type of a field of each KIND. */
#define RELAY_SETTING_CTYPE_UINT uint32_t
#define RELAY_SETTING_CTYPE_BOOL bool

/* Expands to the field declaration of one line of RELAY_SETTINGS_KEYS. */
#define RELAY_SETTING_FIELD(kind, field, name, def, min, max, help)                                \
    RELAY_SETTING_CTYPE_##kind field;

#endif
