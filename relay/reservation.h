/* Ports held for RESERVATION-TOKENs (RFC 8656 7.2, EVEN-PORT with R): the
 * bound socket waits here until an Allocate, possibly arriving at another
 * worker, claims it with the token, or 30 seconds pass. Shared by all
 * workers; touched on Allocate only, under a mutex. */
#ifndef RELAY_RESERVATION_H
#define RELAY_RESERVATION_H

#include <stdint.h>

#include "relay_ports.h"
#include "turn/server.h"

#define RESERVATION_LIFETIME 30
#define RESERVATION_MAX 1024

struct reservations;

/* ports: the shared bitmap of held relay ports, kept up to date. */
int reservations_new(struct reservations **out, struct relay_ports *ports);
/* Closes every held socket. Accepts NULL. */
void reservations_free(struct reservations *r);

/* Takes ownership of fd (bound at *bound) and writes a fresh random token.
 * Returns 0, or -ENOSPC when RESERVATION_MAX are held (fd is closed). */
int reservations_put(struct reservations *r, int fd, const union turn_addr *bound, uint64_t now,
                     uint8_t token[TURN_TOKEN_LEN]);

/* Gives back the socket held under token (ownership passes to the caller)
 * and its address. Returns the fd or -ENOENT. */
int reservations_take(struct reservations *r, const uint8_t token[TURN_TOKEN_LEN], uint64_t now,
                      union turn_addr *bound);

#endif
