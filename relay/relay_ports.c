/* Relay port bitmap. */
#include "relay_ports.h"

#include <stddef.h>

static _Atomic uint64_t *word(struct relay_ports *p, const union turn_addr *a, uint64_t *bit)
{
    uint16_t port = turn_addr_port(a);

    *bit = 1ull << (port % 64);
    return &p->bits[a->sa.sa_family == AF_INET6][port / 64];
}

void relay_ports_mark(struct relay_ports *ports, const union turn_addr *a, bool held)
{
    uint64_t bit;
    _Atomic uint64_t *w = word(ports, a, &bit);

    if (held) {
        atomic_fetch_or_explicit(w, bit, memory_order_relaxed);
    } else {
        atomic_fetch_and_explicit(w, ~bit, memory_order_relaxed);
    }
}

uint64_t relay_ports_count(const struct relay_ports *ports, int family)
{
    const _Atomic uint64_t *bits = ports->bits[family == AF_INET6];
    uint64_t n = 0;

    for (size_t i = 0; i < 65536 / 64; i++) {
        n += (uint64_t)__builtin_popcountll(atomic_load_explicit(&bits[i], memory_order_relaxed));
    }
    return n;
}

bool relay_ports_held(const void *ports, const union turn_addr *a)
{
    uint64_t bit;
    _Atomic uint64_t *w = word((struct relay_ports *)ports, a, &bit);

    return atomic_load_explicit(w, memory_order_relaxed) & bit;
}
