/* Tests for the peer policy over time in turn/server.c: a channel to one of
 * our relay addresses lives only while that relay port is held, a changed
 * policy ends the permissions and channels it refuses, and channel numbers
 * and peers stay reserved for 5 minutes after expiry (RFC 8656 12). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "server_harness.h"

#define CLIENT_A "203.0.113.7:40000"
#define CLIENT_B "203.0.113.8:40000"
#define RELAY_A "198.51.100.1:50000" /* the fake ops' first relayed address */
#define RELAY_B "198.51.100.1:50001"
#define PEER "8.8.8.8:5000"
#define PEER2 "1.1.1.1:5000"

static const uint8_t payload[] = {'h', 'e', 'l', 'l', 'o'};

/* The fake relay ops hold port 50000 + n from the n-th open until its
 * close, like relay/'s held-port bitmap. */
static bool fake_held(const void *arg, const union turn_addr *a)
{
    int n = (int)turn_addr_port(a) - 50000;

    (void)arg;
    if (n < 0 || n >= H.ops.open_calls) {
        return false;
    }
    for (int i = 0; i < H.ops.close_calls; i++) {
        if (H.ops.closed_ids[i] == n + 1) {
            return false;
        }
    }
    return true;
}

/* Declares the fake ops' relay address, as relay/rules.c does. */
static void declare_relay(struct turn_policy *p)
{
    union turn_addr relay = h_addr("198.51.100.1:0");

    cr_assert_eq(turn_policy_add_relay(p, &relay), 0);
    turn_policy_set_relay_ports(p, 49152, 65535);
    turn_policy_set_relay_oracle(p, fake_held, NULL);
}

static void setup(void)
{
    h_setup();
    declare_relay(H.policy);
}

TestSuite(server_policy, .init = setup, .fini = h_teardown);

static struct turn_stats *stats(void)
{
    return turn_server_stats(H.srv);
}

static struct turn_tuple allocated(const char *client)
{
    struct turn_tuple t = h_tuple(client, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_allocate(&t), 0);
    return t;
}

static enum turn_verdict send_chandata(const struct turn_tuple *t, uint16_t number)
{
    uint8_t pkt[64];
    size_t len = h_chandata(pkt, number, payload, sizeof(payload), false);

    return h_send(t, pkt, len);
}

static enum turn_verdict send_indication(const struct turn_tuple *t, const char *peer)
{
    struct h_msg m;

    h_send_indication(&m, peer, payload, sizeof(payload));
    return h_send(t, m.buf, m.len);
}

/* Swaps in a new policy as a reload would; the old one is freed. */
static struct turn_policy *new_policy(void)
{
    struct turn_policy *p;

    cr_assert_eq(turn_policy_new(&p), 0);
    cr_assert_eq(turn_policy_add_rule(p, "127.0.0.0/8", true), 0);
    declare_relay(p);
    return p;
}

static void apply_policy(struct turn_policy *p)
{
    turn_server_set_rules(H.srv, H.auth, p, H.now.mono);
    turn_policy_free(H.policy);
    H.policy = p;
    H.cfg.policy = p;
}

/* ---- relay to relay ---- */

Test(server_policy, channel_to_a_relay_stops_when_that_allocation_ends)
{
    struct turn_tuple a = allocated(CLIENT_A), b = allocated(CLIENT_B);
    struct h_peer_pkt p;
    uint64_t policy_drops, refused;

    cr_assert_eq(h_bind(&a, 0x4000, RELAY_B), 0, "relay to relay is allowed");
    cr_assert_eq(h_bind(&a, 0x4001, PEER), 0);
    cr_assert_eq(send_chandata(&a, 0x4000), TURN_FORWARD);
    cr_assert_eq(h_from_peer(&p, h_alloc(0), RELAY_B, payload, sizeof(payload)), TURN_FORWARD);

    cr_assert_eq(h_refresh(&b, 0), 0);
    cr_assert_eq(H.ops.close_calls, 1);
    policy_drops = stats()->dropped[TURN_DROP_POLICY];
    refused = stats()->peers_refused;
    cr_assert_eq(send_chandata(&a, 0x4000), TURN_DROP, "B's relay port is no longer held");
    cr_assert_eq(stats()->dropped[TURN_DROP_POLICY], policy_drops + 1);
    cr_assert_eq(stats()->peers_refused, refused + 1);
    cr_assert_eq(h_from_peer(&p, h_alloc(0), RELAY_B, payload, sizeof(payload)), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_POLICY], policy_drops + 2);
    cr_assert_eq(send_indication(&a, RELAY_B), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_POLICY], policy_drops + 3);
    /* a channel to anyone else carries on */
    cr_assert_eq(send_chandata(&a, 0x4001), TURN_FORWARD);
    cr_assert_eq(h_bind(&a, 0x4002, RELAY_B), 403, "no new binding to a port nobody holds");

    /* once another allocation holds the port, it is a legitimate peer
     * again (the fake ops never reuse a port: pretend) */
    H.ops.closed_ids[0] = 0;
    cr_assert_eq(send_chandata(&a, 0x4000), TURN_FORWARD);
}

Test(server_policy, channel_flag_is_set_only_for_relay_peers)
{
    struct turn_tuple a = allocated(CLIENT_A);

    allocated(CLIENT_B);
    cr_assert_eq(h_bind(&a, 0x4000, RELAY_B), 0);
    cr_assert_eq(h_bind(&a, 0x4001, PEER), 0);
    cr_assert(turn_alloc_channel(h_alloc(0), 0x4000, H.now.mono)->relay_peer);
    cr_assert_not(turn_alloc_channel(h_alloc(0), 0x4001, H.now.mono)->relay_peer);
}

/* ---- a changed policy ---- */

Test(server_policy, new_deny_rule_ends_existing_permissions_and_channels)
{
    struct turn_tuple a = allocated(CLIENT_A);
    struct turn_policy *p = new_policy();
    struct h_peer_pkt pkt;

    allocated(CLIENT_B);
    cr_assert_eq(h_bind(&a, 0x4000, PEER), 0);
    cr_assert_eq(h_bind(&a, 0x4001, PEER2), 0);
    cr_assert_eq(h_bind(&a, 0x4002, RELAY_B), 0);
    cr_assert_eq(h_permit(&a, "8.8.4.4:1"), 0);
    cr_assert_eq(send_chandata(&a, 0x4000), TURN_FORWARD);

    cr_assert_eq(turn_policy_add_rule(p, "8.8.0.0/16", false), 0);
    apply_policy(p);
    /* the permissions of 8.8.8.8 and 8.8.4.4 and the channel to 8.8.8.8 */
    cr_assert_eq(stats()->peers_revoked, 3);
    cr_assert_eq(send_chandata(&a, 0x4000), TURN_DROP);
    cr_assert_eq(send_indication(&a, PEER), TURN_DROP);
    cr_assert_eq(send_indication(&a, "8.8.4.4:1"), TURN_DROP);
    cr_assert_eq(h_from_peer(&pkt, h_alloc(0), PEER, payload, sizeof(payload)), TURN_DROP);
    cr_assert_eq(h_permit(&a, PEER), 403);
    /* what the new policy allows carries on, relay to relay included */
    cr_assert_eq(send_chandata(&a, 0x4001), TURN_FORWARD);
    cr_assert_eq(send_chandata(&a, 0x4002), TURN_FORWARD);
    cr_assert_eq(h_from_peer(&pkt, h_alloc(0), PEER2, payload, sizeof(payload)), TURN_FORWARD);
    /* the ended channel's number stays reserved (RFC 8656 12) */
    cr_assert_eq(h_bind(&a, 0x4000, "9.9.9.9:1"), 400);
    h_tick();
    cr_assert_eq(stats()->channels_active, 2);
}

Test(server_policy, unchanged_policy_ends_nothing)
{
    struct turn_tuple a = allocated(CLIENT_A);

    allocated(CLIENT_B);
    cr_assert_eq(h_bind(&a, 0x4000, PEER), 0);
    cr_assert_eq(h_bind(&a, 0x4001, RELAY_B), 0);
    apply_policy(new_policy());
    cr_assert_eq(stats()->peers_revoked, 0);
    cr_assert_eq(send_chandata(&a, 0x4000), TURN_FORWARD);
    cr_assert_eq(send_chandata(&a, 0x4001), TURN_FORWARD);
}

/* A host address that appears after start (item: the host's own addresses
 * kept current) ends what points at it, whatever allow-peer says. */
Test(server_policy, new_host_address_ends_permissions_to_it)
{
    struct turn_tuple a = allocated(CLIENT_A);
    struct turn_policy *p = new_policy();
    union turn_addr host = h_addr("8.8.8.8:0");

    cr_assert_eq(h_bind(&a, 0x4000, PEER), 0);
    cr_assert_eq(turn_policy_add_rule(p, "8.8.8.0/24", true), 0);
    cr_assert_eq(turn_policy_add_self(p, &host), 0);
    apply_policy(p);
    cr_assert_eq(stats()->peers_revoked, 2);
    cr_assert_eq(send_chandata(&a, 0x4000), TURN_DROP);
    cr_assert_eq(h_permit(&a, PEER), 403);
}

/* ---- RFC 8656 12: 5 minutes before a number or peer is bound again ---- */

Test(server_policy, expired_channel_is_not_rebound_within_300s)
{
    struct turn_tuple a = allocated(CLIENT_A);

    cr_assert_eq(h_refresh(&a, H_MAX_LIFETIME), 0);
    cr_assert_eq(h_bind(&a, 0x4000, PEER), 0);
    h_advance(TURN_CHANNEL_LIFETIME);
    h_tick();
    cr_assert_eq(send_chandata(&a, 0x4000), TURN_DROP, "expired");
    cr_assert_eq(h_bind(&a, 0x4000, PEER2), 400, "number reserved");
    cr_assert_eq(h_bind(&a, 0x4001, PEER), 400, "peer reserved");
    h_advance(TURN_CHANNEL_RESERVE - 1);
    h_tick();
    cr_assert_eq(h_bind(&a, 0x4000, PEER2), 400, "still reserved in the last second");
    h_advance(1);
    h_tick();
    cr_assert_eq(h_bind(&a, 0x4000, PEER2), 0);
    cr_assert_eq(h_bind(&a, 0x4001, PEER), 0);
    cr_assert_eq(send_chandata(&a, 0x4000), TURN_FORWARD);
}

Test(server_policy, expired_channel_may_be_bound_again_to_the_same_peer)
{
    struct turn_tuple a = allocated(CLIENT_A);

    cr_assert_eq(h_refresh(&a, H_MAX_LIFETIME), 0);
    cr_assert_eq(h_bind(&a, 0x4000, PEER), 0);
    h_advance(TURN_CHANNEL_LIFETIME + 10);
    h_tick();
    cr_assert_eq(h_bind(&a, 0x4000, PEER), 0);
    cr_assert_eq(send_chandata(&a, 0x4000), TURN_FORWARD);
}
