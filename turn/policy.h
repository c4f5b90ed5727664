/* Peer policy: which peer addresses an allocation may talk to. One check,
 * used by every path (CreatePermission, ChannelBind, Send, packets from
 * peers). Defaults refuse the special-purpose ranges of RFC 6890. */
#ifndef TURN_POLICY_H
#define TURN_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

struct turn_policy;

/* Returns 0 or -ENOMEM. Starts with the default-denied ranges only. */
int turn_policy_new(struct turn_policy **out);
void turn_policy_free(struct turn_policy *policy);

#define TURN_POLICY_MAX_RULES 256 /* allow or deny rules, per address family */
#define TURN_POLICY_MAX_SELF 64   /* self addresses; also self ports */

/* Adds an operator rule from "ADDR/PREFIX" or "ADDR" (a single host), IPv4
 * or IPv6. allow=true for allow-peer, false for deny-peer. Returns 0,
 * -EINVAL (bad text, prefix too long, host bits set) or -ENOSPC (more than
 * TURN_POLICY_MAX_RULES). */
int turn_policy_add_rule(struct turn_policy *policy, const char *cidr, bool allow);

/* Declares one of the server's own IP addresses (relay-ip, external-ip,
 * listening addresses; the port is ignored; wildcards are ignored).
 * Returns 0, -EINVAL (not IPv4/IPv6) or -ENOSPC (more than
 * TURN_POLICY_MAX_SELF). */
int turn_policy_add_self(struct turn_policy *policy, const union turn_addr *ip);
/* Declares an address relay sockets bind to or advertise (relay-ip,
 * external-ip): on relay ports it is a legitimate peer (relay to relay),
 * even in a default-denied range. Also declares it self. */
int turn_policy_add_relay(struct turn_policy *policy, const union turn_addr *ip);
/* Narrows the relay-to-relay exception to the ports held asks about (the
 * relay sockets that exist now); without it every relay port counts. */
void turn_policy_set_relay_oracle(struct turn_policy *policy,
                                  bool (*held)(const void *arg, const union turn_addr *a),
                                  const void *arg);
/* Declares a port the server listens on (STUN/TURN, TLS, admin). Returns 0
 * or -ENOSPC (more than TURN_POLICY_MAX_SELF). */
int turn_policy_add_self_port(struct turn_policy *policy, uint16_t port);
/* The relay port range: the server's own IP is a legitimate peer on these
 * ports (relay-to-relay, two clients of this server). Until it is set, no
 * port is in the range. */
void turn_policy_set_relay_ports(struct turn_policy *policy, uint16_t min, uint16_t max);

/* Decides for one peer (address and port), after canonicalising
 * IPv4-mapped IPv6. The host is every self address, every loopback
 * address and the unspecified address. Order: the host on a listening port
 * is always refused (a loop through the server); then deny-peer rules; then
 * a relay address on a relay port is allowed while a relay socket holds
 * that port (the oracle; relay to relay); then the rest of the host is
 * refused, whatever allow-peer says, except that an allow-peer rule lying
 * inside 127.0.0.0/8 or ::1 opens loopback; then allow-peer rules; then
 * the default-denied ranges are refused; anything else is allowed. */
bool turn_policy_allowed(const struct turn_policy *policy, const union turn_addr *peer);

/* Whether some port of ip may be a peer (the port is ignored): the check
 * for a permission that is already installed. */
bool turn_policy_ip_allowed(const struct turn_policy *policy, const union turn_addr *ip);

/* Whether peer is a relay address on a relay port: its verdict then
 * changes with the held ports alone, and turn_policy_relay_held is the
 * whole per-packet check for it. */
bool turn_policy_relay_peer(const struct turn_policy *policy, const union turn_addr *peer);

/* Asks the oracle whether peer's relay port is held now (true without an
 * oracle). One atomic load: cheap enough per packet. */
bool turn_policy_relay_held(const struct turn_policy *policy, const union turn_addr *peer);

#endif
