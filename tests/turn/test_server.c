/* Tests for turn/server.c and turn/server_requests.c: the sans-I/O TURN
 * server (RFC 8489, RFC 8656) driven with byte arrays, fake relay ops and
 * an injected clock. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "server_harness.h"

TestSuite(server, .init = h_setup, .fini = h_teardown);

#define CLIENT "203.0.113.7:40000"
#define CLIENT2 "203.0.113.7:40001"
#define PEER "8.8.8.8:5000"
#define PEER_OTHER_PORT "8.8.8.8:6000"
#define PEER2 "8.8.4.4:5000"

static const uint8_t payload[] = {'h', 'e', 'l', 'l', 'o'};

static struct turn_stats *stats(void)
{
    return turn_server_stats(H.srv);
}

static uint64_t errors_of(int code)
{
    for (unsigned i = 0; i < TURN_STATS_N_CODES; i++) {
        if (turn_stats_error_codes[i] == code) {
            return stats()->errors[i];
        }
    }
    cr_assert_fail("no counter for error %d", code);
    return 0;
}

static uint32_t reply_lifetime(void)
{
    uint32_t lifetime = 0;

    cr_assert_eq(stun_msg_get_u32(&H.rmsg, STUN_ATTR_LIFETIME, &lifetime), 0,
                 "reply without LIFETIME");
    return lifetime;
}

static void assert_addr(const union turn_addr *got, const char *want)
{
    union turn_addr w = h_addr(want);

    cr_assert(turn_addr_equal(got, &w), "address is not %s", want);
}

/* Allocates for alice from tuple t, asserting success. */
static struct turn_tuple allocated(const char *client, enum turn_transport transport)
{
    struct turn_tuple t = h_tuple(client, transport);

    cr_assert_eq(h_allocate(&t), 0);
    return t;
}

/* Sends ChannelData on number from t; returns the verdict. */
static enum turn_verdict send_chandata(const struct turn_tuple *t, uint16_t number, uint8_t *pkt)
{
    size_t len =
        h_chandata(pkt, number, payload, sizeof(payload), t->transport != TURN_TRANSPORT_UDP);

    return h_send(t, pkt, len);
}

static enum turn_verdict send_indication(const struct turn_tuple *t, const char *peer)
{
    struct h_msg m;

    h_send_indication(&m, peer, payload, sizeof(payload));
    return h_send(t, m.buf, m.len);
}

/* A Refresh from t with valid credentials that draws no answer. */
static void h_refresh_dropped(const struct turn_tuple *t)
{
    struct h_msg m;

    h_nonce(t);
    h_req(&m, TURN_REFRESH);
    h_auth(&m, t, H_ALICE, H_ALICE_PW);
    h_finish(&m);
    cr_assert_eq(h_send(t, m.buf, m.len), TURN_DROP, "a Refresh without allocation is dropped");
}

/* Replaces the policy with the defaults alone (loopback denied). */
static void use_default_policy(void)
{
    struct turn_policy *p;

    cr_assert_eq(turn_policy_new(&p), 0);
    H.cfg.policy = p;
    h_restart();
    turn_policy_free(H.policy);
    H.policy = p;
}

/* ---- Binding ---- */

Test(server, binding_returns_mapped_address_without_auth)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    union turn_addr mapped;
    struct h_msg m;

    h_req(&m, STUN_BINDING);
    stun_build_fingerprint(&m.b);
    cr_assert_eq(h_call(&t, &m), 0);
    cr_assert_eq(stun_msg_get_xaddr(&H.rmsg, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped), 0);
    assert_addr(&mapped, CLIENT);
    cr_assert_null(stun_msg_find(&H.rmsg, STUN_ATTR_MESSAGE_INTEGRITY));
    cr_assert_not_null(stun_msg_find(&H.rmsg, STUN_ATTR_FINGERPRINT),
                       "a request with FINGERPRINT gets one back");
    cr_assert_eq(stats()->binding_requests, 1);
    cr_assert_eq(H.ops.open_calls, 0);
    cr_assert_eq(turn_server_allocations(H.srv), 0);
}

Test(server, binding_ipv6_client)
{
    struct turn_tuple t = h_tuple("[2001:4860::7]:40000", TURN_TRANSPORT_UDP);
    union turn_addr mapped;
    struct h_msg m;

    h_req(&m, STUN_BINDING);
    cr_assert_eq(h_call(&t, &m), 0);
    cr_assert_eq(stun_msg_get_xaddr(&H.rmsg, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped), 0);
    assert_addr(&mapped, "[2001:4860::7]:40000");
    cr_assert_null(stun_msg_find(&H.rmsg, STUN_ATTR_FINGERPRINT));
}

/* ---- Allocate: authentication ---- */

Test(server, allocate_without_credentials_is_challenged)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    const struct stun_attr *realm, *nonce;
    struct h_msg m;

    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    cr_assert_eq(h_call(&t, &m), 401);
    realm = stun_msg_find(&H.rmsg, STUN_ATTR_REALM);
    nonce = stun_msg_find(&H.rmsg, STUN_ATTR_NONCE);
    cr_assert_not_null(realm);
    cr_assert_eq(realm->len, strlen(H_REALM));
    cr_assert_eq(memcmp(stun_attr_value(&H.rmsg, realm), H_REALM, realm->len), 0);
    cr_assert_not_null(nonce);
    cr_assert_gt(nonce->len, 0);
    cr_assert_null(stun_msg_find(&H.rmsg, STUN_ATTR_MESSAGE_INTEGRITY),
                   "a challenge carries no integrity (RFC 8489 9.2.4)");
    cr_assert_eq(H.ops.open_calls, 0);
    cr_assert_eq(turn_server_allocations(H.srv), 0);
    cr_assert_eq(errors_of(401), 1);
}

Test(server, allocate_with_wrong_password_is_401)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_allocate_as(&t, H_ALICE, "not-the-password"), 401);
    cr_assert_null(stun_msg_find(&H.rmsg, STUN_ATTR_MESSAGE_INTEGRITY));
    cr_assert_eq(H.ops.open_calls, 0);
    cr_assert_eq(turn_server_allocations(H.srv), 0);
    cr_assert_eq(stats()->allocations_created, 0);
}

Test(server, allocate_success)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    union turn_addr relayed, mapped;
    uint8_t key[TURN_AUTH_MAX_KEY], bad[TURN_AUTH_MAX_KEY];
    size_t key_len = h_key(H_ALICE, H_ALICE_PW, key);

    cr_assert_eq(h_allocate(&t), 0);
    cr_assert_eq(stun_msg_get_xaddr(&H.rmsg, STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed), 0);
    assert_addr(&relayed, "198.51.100.1:50000");
    cr_assert_eq(reply_lifetime(), H_DEFAULT_LIFETIME);
    cr_assert_eq(stun_msg_get_xaddr(&H.rmsg, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped), 0);
    assert_addr(&mapped, CLIENT);
    cr_assert_eq(stun_msg_check_integrity(&H.rmsg, STUN_ATTR_MESSAGE_INTEGRITY, key, key_len), 0,
                 "the success response is signed with alice's key");
    h_key(H_BOB, H_BOB_PW, bad);
    cr_assert_eq(stun_msg_check_integrity(&H.rmsg, STUN_ATTR_MESSAGE_INTEGRITY, bad, key_len),
                 -EACCES);
    cr_assert_eq(H.ops.open_calls, 1);
    cr_assert_eq(H.ops.last_req.family, AF_INET);
    cr_assert_eq(H.ops.last_req.flags, 0);
    cr_assert_null(H.ops.last_req.token);
    cr_assert(turn_addr_equal(&h_alloc(0)->tuple.client, &t.client));
    cr_assert_eq(h_alloc(0)->relay, &H.ops.relays[0]);
    cr_assert_eq(turn_server_allocations(H.srv), 1);
    cr_assert_eq(stats()->allocations_created, 1);
    cr_assert_eq(stats()->allocations_active, 1);
}

/* ---- Allocate: request checks ---- */

Test(server, allocate_without_requested_transport_is_400)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    h_nonce(&t);
    h_req(&m, TURN_ALLOCATE);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 400);
    cr_assert_eq(H.ops.open_calls, 0);
    cr_assert_eq(turn_server_allocations(H.srv), 0);
}

Test(server, allocate_tcp_transport_is_442)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    h_nonce(&t);
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_TCP);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 442);
    cr_assert_eq(H.ops.open_calls, 0);
    cr_assert_eq(turn_server_allocations(H.srv), 0);
}

Test(server, allocate_retransmission_gets_same_answer)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    union turn_addr relayed;
    struct h_msg m, again;

    h_nonce(&t);
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 0);

    h_req_tid(&again, TURN_ALLOCATE, m.tid);
    h_add_transport(&again, H_PROTO_UDP);
    h_auth(&again, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &again), 0, "a retransmitted Allocate succeeds again");
    cr_assert_eq(stun_msg_get_xaddr(&H.rmsg, STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed), 0);
    assert_addr(&relayed, "198.51.100.1:50000");
    cr_assert_eq(H.ops.open_calls, 1, "no second relay socket");
    cr_assert_eq(turn_server_allocations(H.srv), 1);
    cr_assert_eq(stats()->allocations_created, 1);
}

Test(server, allocate_again_on_same_tuple_is_437)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_allocate(&t), 437);
    cr_assert_eq(H.ops.open_calls, 1);
    cr_assert_eq(turn_server_allocations(H.srv), 1);
}

Test(server, allocate_over_user_quota_is_486)
{
    struct turn_tuple t1 = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct turn_tuple t2 = h_tuple(CLIENT2, TURN_TRANSPORT_UDP);
    struct turn_tuple t3 = h_tuple("203.0.113.8:40000", TURN_TRANSPORT_UDP);

    h_set_quota(0, 1);
    cr_assert_eq(h_allocate(&t1), 0);
    cr_assert_eq(h_allocate(&t2), 486);
    cr_assert_eq(H.ops.open_calls, 1);
    cr_assert_eq(turn_server_allocations(H.srv), 1);
    cr_assert_eq(h_allocate_as(&t3, H_BOB, H_BOB_PW), 0, "the quota is per user");
    cr_assert_eq(turn_quota_in_use(H.quota), 2);
    /* releasing alice's first allocation gives her quota back */
    cr_assert_eq(h_refresh(&t1, 0), 0);
    cr_assert_eq(h_allocate(&t2), 0);
}

Test(server, allocate_without_free_port_is_508_and_leaks_nothing)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);

    h_set_quota(0, 1);
    H.ops.fail = -EADDRINUSE;
    cr_assert_eq(h_allocate(&t), 508);
    cr_assert_eq(H.ops.open_calls, 1);
    cr_assert_eq(H.ops.close_calls, 0, "no relay was opened, none is closed");
    cr_assert_eq(turn_server_allocations(H.srv), 0);
    cr_assert_eq(stats()->allocations_active, 0);
    cr_assert_eq(stats()->allocations_created, 0);
    cr_assert_eq(turn_quota_in_use(H.quota), 0);

    H.ops.fail = 0;
    cr_assert_eq(h_allocate(&t), 0, "quota and tuple are free again");
    cr_assert_eq(turn_server_allocations(H.srv), 1);
    cr_assert_eq(stats()->allocations_active, 1);
}

Test(server, allocate_ipv6_without_ipv6_relay_is_440)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    h_nonce(&t);
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    h_add_family(&m, H_FAMILY_IPV6);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 440);
    cr_assert_eq(H.ops.open_calls, 1);
    cr_assert_eq(H.ops.last_req.family, AF_INET6);
    cr_assert_eq(turn_server_allocations(H.srv), 0);
    cr_assert_eq(stats()->allocations_active, 0);
    cr_assert_eq(turn_quota_in_use(H.quota), 0);
}

static uint32_t allocate_with_lifetime(const char *client, uint32_t lifetime)
{
    struct turn_tuple t = h_tuple(client, TURN_TRANSPORT_UDP);
    struct h_msg m;

    h_nonce(&t);
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    h_add_lifetime(&m, lifetime);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 0);
    return reply_lifetime();
}

Test(server, allocate_lifetime_is_clamped)
{
    cr_assert_eq(allocate_with_lifetime("203.0.113.7:1", 10), H_DEFAULT_LIFETIME);
    cr_assert_eq(allocate_with_lifetime("203.0.113.7:2", 99999), H_MAX_LIFETIME);
    cr_assert_eq(allocate_with_lifetime("203.0.113.7:3", 1200), 1200);
    cr_assert_eq(h_alloc(2)->expires, H.now.mono + 1200);
}

Test(server, allocate_even_port_with_reservation)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    static const uint8_t even_port_r = 0x80;
    const struct stun_attr *token;
    uint8_t want[TURN_TOKEN_LEN];
    struct h_msg m, again;

    h_nonce(&t);
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    stun_build_attr(&m.b, STUN_ATTR_EVEN_PORT, &even_port_r, 1);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 0);
    cr_assert_eq(H.ops.last_req.flags, TURN_RELAY_EVEN_PORT | TURN_RELAY_RESERVE_NEXT);
    memset(want, 0x70, sizeof(want));
    token = stun_msg_find(&H.rmsg, STUN_ATTR_RESERVATION_TOKEN);
    cr_assert_not_null(token, "EVEN-PORT with R gets a RESERVATION-TOKEN");
    cr_assert_eq(token->len, TURN_TOKEN_LEN);
    cr_assert_eq(memcmp(stun_attr_value(&H.rmsg, token), want, TURN_TOKEN_LEN), 0);

    /* RFC 8656 7.2: a retransmission gets the same response */
    h_req_tid(&again, TURN_ALLOCATE, m.tid);
    h_add_transport(&again, H_PROTO_UDP);
    stun_build_attr(&again.b, STUN_ATTR_EVEN_PORT, &even_port_r, 1);
    h_auth(&again, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &again), 0);
    cr_assert_eq(H.ops.open_calls, 1);
    token = stun_msg_find(&H.rmsg, STUN_ATTR_RESERVATION_TOKEN);
    cr_expect_not_null(token, "the retransmitted Allocate's response lost its RESERVATION-TOKEN");
    if (token) {
        cr_expect_eq(memcmp(stun_attr_value(&H.rmsg, token), want, TURN_TOKEN_LEN), 0);
    }
}

Test(server, allocate_even_port_and_token_is_400)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    static const uint8_t even_port = 0x00, token[TURN_TOKEN_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct h_msg m;

    h_nonce(&t);
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    stun_build_attr(&m.b, STUN_ATTR_EVEN_PORT, &even_port, 1);
    stun_build_attr(&m.b, STUN_ATTR_RESERVATION_TOKEN, token, sizeof(token));
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 400);
    cr_assert_eq(H.ops.open_calls, 0);
}

Test(server, allocate_ipv6_relay)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    union turn_addr relayed;
    struct h_peer_pkt p;
    struct stun_msg ind;
    union turn_addr from;
    struct h_msg m;

    H.ops.ipv6 = true;
    h_nonce(&t);
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    h_add_family(&m, H_FAMILY_IPV6);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 0);
    cr_assert_eq(stun_msg_get_xaddr(&H.rmsg, STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed), 0);
    assert_addr(&relayed, "[2001:db8::1]:50000");
    cr_assert_eq(h_permit(&t, PEER), 443, "IPv4 peer on an IPv6 relay");
    cr_assert_eq(h_permit(&t, "[2001:4860:4860::8888]:5000"), 0);
    cr_assert_eq(h_refresh(&t, -1), 0);
    /* an IPv6 Data indication header takes the whole headroom */
    cr_assert_eq(
        h_from_peer(&p, h_alloc(0), "[2001:4860:4860::8888]:5000", payload, sizeof(payload)),
        TURN_FORWARD);
    cr_assert_eq(p.data, p.buf, "48-byte header written in the 48 bytes of headroom");
    cr_assert_eq(stun_msg_decode(&ind, p.data, p.len), 0);
    cr_assert_eq(stun_msg_get_xaddr(&ind, STUN_ATTR_XOR_PEER_ADDRESS, &from), 0);
    assert_addr(&from, "[2001:4860:4860::8888]:5000");
}

/* ---- Refresh ---- */

Test(server, refresh_extends_lifetime)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    h_advance(500);
    cr_assert_eq(h_refresh(&t, -1), 0);
    cr_assert_eq(reply_lifetime(), H_DEFAULT_LIFETIME);
    h_advance(200); /* past the first expiry, created + 600 */
    h_tick();
    cr_assert_eq(turn_server_allocations(H.srv), 1);
    cr_assert_eq(H.ops.close_calls, 0);
    h_advance(399);
    h_tick();
    cr_assert_eq(turn_server_allocations(H.srv), 1);
    h_advance(1);
    h_tick();
    cr_assert_eq(turn_server_allocations(H.srv), 0);
    cr_assert_eq(H.ops.close_calls, 1);
}

Test(server, refresh_lifetime_is_clamped_to_max)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_refresh(&t, 99999), 0);
    cr_assert_eq(reply_lifetime(), H_MAX_LIFETIME);
}

/* RFC 8656 8.2: a nonzero requested lifetime below the default gives the
 * default ("desired lifetime" is max(min(requested, max), default)). */
Test(server, refresh_short_lifetime_gives_default)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_refresh(&t, 10), 0);
    cr_expect_eq(reply_lifetime(), H_DEFAULT_LIFETIME, "Refresh LIFETIME 10 answered %u",
                 reply_lifetime());
    h_advance(11);
    h_tick();
    cr_assert_eq(turn_server_allocations(H.srv), 1,
                 "a Refresh with LIFETIME 10 must not end the allocation after 10 s");
}

Test(server, refresh_zero_frees_allocation)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_refresh(&t, 0), 0);
    cr_assert_eq(reply_lifetime(), 0);
    cr_assert_eq(H.ops.close_calls, 1);
    cr_assert_eq(H.ops.closed_ids[0], 1);
    cr_assert_eq(turn_server_allocations(H.srv), 0);
    cr_assert_eq(stats()->allocations_active, 0);
    h_refresh_dropped(&t);
    cr_assert_eq(H.ops.close_calls, 1);
}

Test(server, refresh_with_other_users_credentials_is_441)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    uint64_t expires = h_alloc(0)->expires;

    h_advance(100);
    cr_assert_eq(h_refresh_as(&t, 0, H_BOB, H_BOB_PW), 441);
    cr_assert_eq(turn_server_allocations(H.srv), 1);
    cr_assert_eq(h_alloc(0)->expires, expires, "the allocation is untouched");
    cr_assert_eq(H.ops.close_calls, 0);
}

Test(server, refresh_without_allocation_is_dropped_before_auth)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);

    h_refresh_dropped(&t);
    cr_assert_eq(stats()->dropped[TURN_DROP_NO_ALLOCATION], 1);
    cr_assert_eq(stats()->auth_key_tries, 0, "no credential was checked");
}

Test(server, refresh_family_mismatch_is_443)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    h_req(&m, TURN_REFRESH);
    h_add_family(&m, H_FAMILY_IPV6);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 443);
    cr_assert_eq(turn_server_allocations(H.srv), 1);
}

/* ---- expiry with the injected clock ---- */

Test(server, allocation_expires_at_created_plus_lifetime)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    uint8_t pkt[64];

    cr_assert_eq(h_alloc(0)->created, 1000);
    h_advance(H_DEFAULT_LIFETIME - 1);
    h_tick();
    cr_assert_eq(turn_server_allocations(H.srv), 1);
    h_advance(1);
    h_tick();
    cr_assert_eq(turn_server_allocations(H.srv), 0);
    cr_assert_eq(H.ops.close_calls, 1);
    cr_assert_eq(H.ops.closed_ids[0], 1);
    cr_assert_eq(stats()->allocations_active, 0);
    cr_assert_eq(send_chandata(&t, 0x4000, pkt), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_NO_ALLOCATION], 1);
}

Test(server, permission_expires_after_300s)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    struct h_peer_pkt p;
    uint8_t pkt[64];

    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0); /* permission and channel */
    h_advance(TURN_PERMISSION_LIFETIME - 1);
    cr_assert_eq(send_chandata(&t, 0x4000, pkt), TURN_FORWARD);
    cr_assert_eq(send_indication(&t, PEER), TURN_FORWARD);
    cr_assert_eq(h_from_peer(&p, h_alloc(0), PEER, payload, sizeof(payload)), TURN_FORWARD);

    h_advance(1);
    h_tick();
    cr_assert_eq(turn_server_allocations(H.srv), 1);
    cr_assert_not_null(turn_alloc_channel(h_alloc(0), 0x4000, H.now.mono), "channel lives 600 s");
    cr_assert_eq(send_chandata(&t, 0x4000, pkt), TURN_DROP);
    cr_assert_eq(send_indication(&t, PEER), TURN_DROP);
    cr_assert_eq(h_from_peer(&p, h_alloc(0), PEER, payload, sizeof(payload)), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_NO_PERMISSION], 3);
}

Test(server, channel_expires_after_600s_while_permission_is_refreshed)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    struct h_peer_pkt p;
    struct stun_msg ind;
    uint8_t pkt[64];

    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0);
    h_advance(250);
    cr_assert_eq(h_permit(&t, PEER), 0);
    h_advance(250);
    cr_assert_eq(h_permit(&t, PEER), 0);
    cr_assert_eq(h_refresh(&t, -1), 0);
    h_advance(99); /* 599 s after the bind */
    cr_assert_eq(send_chandata(&t, 0x4000, pkt), TURN_FORWARD);
    h_advance(1);
    h_tick();
    cr_assert_null(turn_alloc_channel(h_alloc(0), 0x4000, H.now.mono));
    cr_assert_eq(send_chandata(&t, 0x4000, pkt), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_NO_PERMISSION], 1);
    cr_assert_eq(send_indication(&t, PEER), TURN_FORWARD, "the permission still holds");
    cr_assert_eq(h_from_peer(&p, h_alloc(0), PEER, payload, sizeof(payload)), TURN_FORWARD);
    cr_assert_eq(stun_msg_decode(&ind, p.data, p.len), 0,
                 "without a channel, peer data comes as a Data indication");
    cr_assert_eq(ind.method, TURN_DATA);
}

/* ---- CreatePermission ---- */

Test(server, create_permission_success)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(send_indication(&t, PEER), TURN_DROP);
    cr_assert_eq(h_permit(&t, PEER), 0);
    cr_assert_not_null(stun_msg_find(&H.rmsg, STUN_ATTR_MESSAGE_INTEGRITY));
    cr_assert_eq(stats()->permissions_created, 1);
    cr_assert_eq(send_indication(&t, PEER_OTHER_PORT), TURN_FORWARD, "permissions ignore ports");
    assert_addr(&H.fwd.peer, PEER_OTHER_PORT);
}

Test(server, create_permission_without_peer_is_400)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    h_req(&m, TURN_CREATE_PERMISSION);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 400);
}

Test(server, create_permission_without_allocation_is_dropped_before_auth)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    h_nonce(&t);
    h_req(&m, TURN_CREATE_PERMISSION);
    h_add_peer(&m, PEER);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    h_finish(&m);
    cr_assert_eq(h_send(&t, m.buf, m.len), TURN_DROP, "valid credentials, but no allocation");
    cr_assert_eq(stats()->dropped[TURN_DROP_NO_ALLOCATION], 1);
    cr_assert_eq(stats()->auth_key_tries, 0, "no credential was checked");
}

Test(server, create_permission_denied_peer_is_403)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_permit(&t, "10.0.0.1:5000"), 403);
    cr_assert_eq(h_permit(&t, "192.168.1.1:5000"), 403);
    cr_assert_eq(h_permit(&t, "127.0.0.1:5000"), 0, "loopback is allowed by a rule here");
    cr_assert_eq(h_alloc(0)->n_perms, 1);
    cr_assert_eq(errors_of(403), 2);
}

Test(server, create_permission_loopback_without_rule_is_403)
{
    struct turn_tuple t;

    use_default_policy();
    t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    cr_assert_eq(h_permit(&t, "127.0.0.1:5000"), 403);
    cr_assert_eq(h_alloc(0)->n_perms, 0);
}

Test(server, create_permission_with_one_denied_peer_installs_none)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    union turn_addr good = h_addr(PEER);
    struct h_msg m;

    h_req(&m, TURN_CREATE_PERMISSION);
    h_add_peer(&m, PEER);
    h_add_peer(&m, "10.0.0.1:5000");
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 403);
    cr_assert_not(turn_alloc_permitted(h_alloc(0), &good, H.now.mono));
    cr_assert_eq(h_alloc(0)->n_perms, 0);
    cr_assert_eq(stats()->permissions_created, 0);
    cr_assert_eq(send_indication(&t, PEER), TURN_DROP);
}

Test(server, create_permission_with_two_peers)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    h_req(&m, TURN_CREATE_PERMISSION);
    h_add_peer(&m, PEER);
    h_add_peer(&m, PEER2);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 0);
    cr_assert_eq(send_indication(&t, PEER), TURN_FORWARD);
    cr_assert_eq(send_indication(&t, PEER2), TURN_FORWARD);
}

Test(server, create_permission_ipv4_mapped_peer_is_checked_as_ipv4)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    union turn_addr plain = h_addr("8.8.8.8:1");

    cr_assert_eq(h_permit(&t, "[::ffff:10.0.0.1]:5000"), 403);
    cr_assert_eq(h_permit(&t, "[::ffff:8.8.8.8]:5000"), 0);
    cr_assert(turn_alloc_permitted(h_alloc(0), &plain, H.now.mono),
              "the permission is stored in canonical (IPv4) form");
}

Test(server, create_permission_family_mismatch_is_443)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_permit(&t, "[2001:4860:4860::8888]:5000"), 443);
    cr_assert_eq(h_alloc(0)->n_perms, 0);
}

Test(server, create_permission_over_max_is_508)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    static const char *const peers[] = {"8.8.8.1:1", "8.8.8.2:1", "8.8.8.3:1", "8.8.8.4:1"};

    for (unsigned i = 0; i < H_MAX_PERMISSIONS; i++) {
        cr_assert_eq(h_permit(&t, peers[i]), 0, "permission %u", i);
    }
    cr_assert_eq(h_permit(&t, "8.8.8.5:1"), 508);
    cr_assert_eq(h_permit(&t, peers[0]), 0, "refreshing an existing one needs no room");
    cr_assert_eq(h_alloc(0)->n_perms, H_MAX_PERMISSIONS);
}

/* A reload lowers the caps for what comes next; what exists stays. */
Test(server, set_limits_applies_to_new_permissions_and_lifetimes)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    struct turn_server_config limits = H.cfg;

    cr_assert_eq(h_permit(&t, "8.8.8.1:1"), 0);
    cr_assert_eq(h_permit(&t, "8.8.8.2:1"), 0);
    limits.max_permissions = 1;
    limits.default_lifetime = 120;
    limits.max_lifetime = 300;
    turn_server_set_limits(H.srv, &limits);
    cr_assert_eq(h_permit(&t, "8.8.8.3:1"), 508, "a third permission over the new cap");
    cr_assert_eq(h_permit(&t, "8.8.8.1:1"), 0, "refreshing one that exists needs no room");
    cr_assert_eq(h_alloc(0)->n_perms, 2, "the reload removed none");

    cr_assert_eq(allocate_with_lifetime("203.0.113.8:1", 3600), 300, "the new max-lifetime");
    cr_assert_eq(allocate_with_lifetime("203.0.113.9:1", 0), 120, "the new default-lifetime");
}

/* RFC 8656 10.2: permissions are installed only when the server can carry
 * out the whole request; else 508 and nothing changes. */
Test(server, create_permission_508_installs_none)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    union turn_addr last = h_addr("8.8.8.5:1");
    struct h_msg m;

    cr_assert_eq(h_permit(&t, "8.8.8.1:1"), 0);
    cr_assert_eq(h_permit(&t, "8.8.8.2:1"), 0);
    cr_assert_eq(h_permit(&t, "8.8.8.3:1"), 0);
    h_req(&m, TURN_CREATE_PERMISSION);
    h_add_peer(&m, "8.8.8.4:1");
    h_add_peer(&m, "8.8.8.5:1");
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 508, "5 permissions asked, 4 allowed");
    cr_assert_not(turn_alloc_permitted(h_alloc(0), &last, H.now.mono));
    cr_expect_eq(h_alloc(0)->n_perms, 3, "a failed CreatePermission left %u permissions",
                 h_alloc(0)->n_perms);
}

/* ---- ChannelBind ---- */

Test(server, channel_bind_lowest_number)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    const struct turn_channel *c;

    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0);
    cr_assert_eq(stats()->channels_bound, 1);
    c = turn_alloc_channel(h_alloc(0), 0x4000, H.now.mono);
    cr_assert_not_null(c);
    assert_addr(&c->peer, PEER);
    cr_assert_eq(c->expires, H.now.mono + TURN_CHANNEL_LIFETIME);
}

Test(server, channel_bind_below_range_is_400)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_bind(&t, 0x3FFF, PEER), 400);
    cr_assert_eq(h_alloc(0)->n_chans, 0);
}

Test(server, channel_bind_rfc5766_range)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_bind(&t, 0x5000, PEER), 0, "0x5000 is valid under RFC 5766");
    cr_assert_eq(h_bind(&t, 0x7FFF, PEER2), 0);
    cr_assert_eq(h_bind(&t, 0x8000, "8.8.8.9:1"), 400);
}

Test(server, channel_bind_rfc8656_range)
{
    struct turn_tuple t;

    H.cfg.rfc5766_channels = false;
    h_restart();
    t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    cr_assert_eq(h_bind(&t, 0x5000, PEER), 400, "RFC 8656 ends channels at 0x4FFF");
    cr_assert_eq(h_bind(&t, 0x4FFF, PEER), 0);
}

Test(server, channel_rebind_refreshes)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    uint8_t pkt[64];

    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0);
    h_advance(500);
    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0);
    cr_assert_eq(h_refresh(&t, -1), 0);
    h_advance(200); /* 700 s after the first bind */
    h_tick();
    cr_assert_not_null(turn_alloc_channel(h_alloc(0), 0x4000, H.now.mono));
    cr_assert_eq(send_chandata(&t, 0x4000, pkt), TURN_FORWARD,
                 "the rebind refreshed the channel and its permission");
    cr_assert_eq(h_alloc(0)->n_chans, 1);
}

Test(server, channel_number_to_another_peer_is_400)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0);
    cr_assert_eq(h_bind(&t, 0x4000, PEER2), 400);
    cr_assert_eq(h_bind(&t, 0x4000, PEER_OTHER_PORT), 400, "a channel is bound to a port too");
}

Test(server, channel_peer_to_another_number_is_400)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0);
    cr_assert_eq(h_bind(&t, 0x4001, PEER), 400);
    cr_assert_eq(h_alloc(0)->n_chans, 1);
}

Test(server, channel_bind_denied_peer_is_403)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_bind(&t, 0x4000, "10.1.2.3:5000"), 403);
    cr_assert_eq(h_bind(&t, 0x4000, "[2001:4860:4860::8888]:5000"), 443);
    cr_assert_eq(h_alloc(0)->n_chans, 0);
    cr_assert_eq(h_alloc(0)->n_perms, 0);
}

Test(server, channel_bind_without_number_is_400)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    h_req(&m, TURN_CHANNEL_BIND);
    h_add_peer(&m, PEER);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 400);
    h_req(&m, TURN_CHANNEL_BIND);
    stun_build_channel(&m.b, 0x4000);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 400, "no XOR-PEER-ADDRESS");
}

Test(server, channel_bind_installs_permission)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    struct h_peer_pkt p;
    struct stun_msg ind;

    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0);
    /* same IP, another port: no channel, but the permission covers it */
    cr_assert_eq(h_from_peer(&p, h_alloc(0), PEER_OTHER_PORT, payload, sizeof(payload)),
                 TURN_FORWARD);
    cr_assert_eq(stun_msg_decode(&ind, p.data, p.len), 0);
    cr_assert_eq(ind.method, TURN_DATA);
    cr_assert_eq(send_indication(&t, PEER_OTHER_PORT), TURN_FORWARD);
}

/* A ChannelBind that fails leaves no binding behind (RFC 8656 12.2: the
 * server binds the channel only if it can also install the permission). */
Test(server, channel_bind_508_leaves_no_binding)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_permit(&t, "8.8.8.1:1"), 0);
    cr_assert_eq(h_permit(&t, "8.8.8.2:1"), 0);
    cr_assert_eq(h_permit(&t, "8.8.8.3:1"), 0);
    cr_assert_eq(h_permit(&t, "8.8.8.4:1"), 0);
    cr_assert_eq(h_bind(&t, 0x4000, PEER), 508, "no room for the peer's permission");
    cr_expect_null(turn_alloc_channel(h_alloc(0), 0x4000, H.now.mono),
                   "the failed ChannelBind left channel 0x4000 bound");
    cr_expect_eq(h_bind(&t, 0x4000, "8.8.8.1:1"), 0,
                 "channel 0x4000 is still free for a peer that has a permission");
}

Test(server, channel_bind_over_max_is_508)
{
    struct turn_tuple t;

    H.cfg.max_permissions = 16;
    h_restart();
    t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    for (unsigned i = 0; i < H_MAX_CHANNELS; i++) {
        char peer[32];
        snprintf(peer, sizeof(peer), "8.8.8.%u:1", i + 1);
        cr_assert_eq(h_bind(&t, (uint16_t)(0x4000 + i), peer), 0, "channel %u", i);
    }
    cr_assert_eq(h_bind(&t, 0x4010, "8.8.8.100:1"), 508);
    cr_assert_eq(h_alloc(0)->n_chans, H_MAX_CHANNELS);
}

/* ---- data paths ---- */

Test(server, channel_data_is_forwarded_without_copy)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    uint8_t pkt[64];

    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0);
    cr_assert_eq(send_chandata(&t, 0x4000, pkt), TURN_FORWARD);
    cr_assert_eq(H.fwd.data, pkt + TURN_CHANNEL_HEADER_LEN, "payload forwarded in place");
    cr_assert_eq(H.fwd.len, sizeof(payload));
    cr_assert_eq(H.fwd.relay, &H.ops.relays[0]);
    assert_addr(&H.fwd.peer, PEER);
}

Test(server, send_indication_is_forwarded_without_copy)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    const struct stun_attr *data;
    struct stun_msg sent;
    struct h_msg m;

    cr_assert_eq(h_permit(&t, PEER), 0);
    h_send_indication(&m, PEER, payload, sizeof(payload));
    cr_assert_eq(h_send(&t, m.buf, m.len), TURN_FORWARD);
    cr_assert_eq(stun_msg_decode(&sent, m.buf, m.len), 0);
    data = stun_msg_find(&sent, STUN_ATTR_DATA);
    cr_assert_eq(H.fwd.data, stun_attr_value(&sent, data), "DATA forwarded in place");
    cr_assert_eq(H.fwd.len, sizeof(payload));
    cr_assert_eq(memcmp(H.fwd.data, payload, sizeof(payload)), 0);
    cr_assert_eq(H.fwd.relay, &H.ops.relays[0]);
    assert_addr(&H.fwd.peer, PEER);
}

Test(server, send_indication_without_permission_is_dropped)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_permit(&t, PEER), 0);
    cr_assert_eq(send_indication(&t, PEER2), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_NO_PERMISSION], 1);
    cr_assert_eq(stats()->packets[TURN_DIR_TO_PEER][TURN_TRANSPORT_UDP], 0);
}

Test(server, send_indication_without_allocation_is_dropped)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);

    cr_assert_eq(send_indication(&t, PEER), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_NO_ALLOCATION], 1);
}

Test(server, send_indication_without_data_is_dropped)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    cr_assert_eq(h_permit(&t, PEER), 0);
    h_start(&m, TURN_SEND, STUN_INDICATION);
    h_add_peer(&m, PEER);
    h_finish(&m);
    cr_assert_eq(h_send(&t, m.buf, m.len), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_MALFORMED], 1);
}

Test(server, channel_data_on_unbound_channel_is_dropped)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    uint8_t pkt[64];

    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0);
    cr_assert_eq(send_chandata(&t, 0x4001, pkt), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_NO_PERMISSION], 1);
    cr_assert_eq(stats()->packets[TURN_DIR_TO_PEER][TURN_TRANSPORT_UDP], 0);
}

Test(server, peer_data_on_channel_gets_header_in_place)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    struct h_peer_pkt p;
    uint8_t *payload_at;

    cr_assert_eq(h_bind(&t, 0x4001, PEER), 0);
    cr_assert_eq(h_from_peer(&p, h_alloc(0), PEER, payload, sizeof(payload)), TURN_FORWARD);
    payload_at = p.buf + TURN_HEADROOM;
    cr_assert_eq(p.data, payload_at - TURN_CHANNEL_HEADER_LEN);
    cr_assert_eq(p.len, TURN_CHANNEL_HEADER_LEN + sizeof(payload), "no padding over UDP");
    cr_assert_eq(p.data[0], 0x40);
    cr_assert_eq(p.data[1], 0x01);
    cr_assert_eq(p.data[2], 0x00);
    cr_assert_eq(p.data[3], sizeof(payload));
    cr_assert_eq(memcmp(payload_at, payload, sizeof(payload)), 0, "payload untouched");
}

Test(server, peer_data_without_channel_becomes_data_indication)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    const struct stun_attr *data;
    union turn_addr from;
    struct h_peer_pkt p;
    struct stun_msg ind;

    cr_assert_eq(h_permit(&t, PEER), 0);
    cr_assert_eq(h_from_peer(&p, h_alloc(0), PEER, payload, sizeof(payload)), TURN_FORWARD);
    cr_assert(p.data >= p.buf && p.data < p.buf + TURN_HEADROOM, "header written in the headroom");
    cr_assert_eq(p.len % 4, 0);
    cr_assert_eq(stun_msg_decode(&ind, p.data, p.len), 0);
    cr_assert_eq(ind.len, p.len);
    cr_assert_eq(ind.method, TURN_DATA);
    cr_assert_eq(ind.cls, STUN_INDICATION);
    cr_assert_eq(stun_msg_get_xaddr(&ind, STUN_ATTR_XOR_PEER_ADDRESS, &from), 0);
    assert_addr(&from, PEER);
    data = stun_msg_find(&ind, STUN_ATTR_DATA);
    cr_assert_not_null(data);
    cr_assert_eq(data->len, sizeof(payload));
    cr_assert_eq(stun_attr_value(&ind, data), p.buf + TURN_HEADROOM, "payload not moved");
    cr_assert_eq(memcmp(stun_attr_value(&ind, data), payload, sizeof(payload)), 0);
}

Test(server, data_indications_have_distinct_tids)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    struct h_peer_pkt p1, p2;
    struct stun_msg a, b;

    cr_assert_eq(h_permit(&t, PEER), 0);
    cr_assert_eq(h_from_peer(&p1, h_alloc(0), PEER, payload, sizeof(payload)), TURN_FORWARD);
    cr_assert_eq(h_from_peer(&p2, h_alloc(0), PEER, payload, sizeof(payload)), TURN_FORWARD);
    cr_assert_eq(stun_msg_decode(&a, p1.data, p1.len), 0);
    cr_assert_eq(stun_msg_decode(&b, p2.data, p2.len), 0);
    cr_assert_neq(memcmp(a.tid, b.tid, STUN_TID_LEN), 0);
}

static uint64_t tid_le(const uint8_t *tid, int at)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--) {
        v = v << 8 | tid[at + i];
    }
    return v;
}

static uint64_t tid_be(const uint8_t *tid, int at)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++) {
        v = v << 8 | tid[at + i];
    }
    return v;
}

/* The ids a client sees must not count the worker's Data indications: read
 * as a number in either byte order, consecutive ids are not a step apart
 * (a counter would be 1 apart, or the other clients' packets apart). */
Test(server, data_indication_tids_are_not_a_counter)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    uint8_t tids[64][STUN_TID_LEN];
    unsigned high_zero = 0;

    cr_assert_eq(h_permit(&t, PEER), 0);
    for (int i = 0; i < 64; i++) {
        struct h_peer_pkt p;
        struct stun_msg m;
        cr_assert_eq(h_from_peer(&p, h_alloc(0), PEER, payload, sizeof(payload)), TURN_FORWARD);
        cr_assert_eq(stun_msg_decode(&m, p.data, p.len), 0);
        cr_assert_eq(m.method, TURN_DATA);
        memcpy(tids[i], m.tid, STUN_TID_LEN);
        high_zero += tid_le(tids[i], 4) >> 32 == 0;
    }
    for (int i = 1; i < 64; i++) {
        uint64_t le = tid_le(tids[i], 0) - tid_le(tids[i - 1], 0);
        uint64_t be = tid_be(tids[i], 4) - tid_be(tids[i - 1], 4);
        cr_assert_neq(memcmp(tids[i], tids[i - 1], STUN_TID_LEN), 0);
        cr_assert(le > 1u << 20 && -le > 1u << 20, "ids %d and %d are %llu apart", i - 1, i,
                  (unsigned long long)le);
        cr_assert(be > 1u << 20 && -be > 1u << 20, "ids %d and %d are %llu apart", i - 1, i,
                  (unsigned long long)be);
    }
    cr_assert_lt(high_zero, 4, "the last 4 bytes are used too");
}

Test(server, stream_client_gets_padded_channel_data)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_TCP);
    struct h_peer_pkt p;
    uint8_t pkt[64];

    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0);
    cr_assert_eq(h_from_peer(&p, h_alloc(0), PEER, payload, sizeof(payload)), TURN_FORWARD);
    cr_assert_eq(p.data, p.buf + TURN_HEADROOM - TURN_CHANNEL_HEADER_LEN);
    cr_assert_eq(p.len, 12, "4 + 5 bytes padded to 12");
    cr_assert_eq(p.data[3], sizeof(payload), "the length field excludes the padding");
    for (size_t i = TURN_CHANNEL_HEADER_LEN + sizeof(payload); i < p.len; i++) {
        cr_assert_eq(p.data[i], 0, "padding byte %zu", i);
    }
    /* and the client's padded ChannelData over the stream is taken */
    cr_assert_eq(send_chandata(&t, 0x4000, pkt), TURN_FORWARD);
    cr_assert_eq(H.fwd.len, sizeof(payload));
    cr_assert_eq(H.fwd.data, pkt + TURN_CHANNEL_HEADER_LEN);
}

Test(server, peer_data_without_permission_is_dropped)
{
    struct turn_tuple t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    struct h_peer_pkt p;

    cr_assert_eq(h_permit(&t, PEER), 0);
    cr_assert_eq(h_from_peer(&p, h_alloc(0), PEER2, payload, sizeof(payload)), TURN_DROP);
    cr_assert_eq(p.data, p.buf + TURN_HEADROOM, "a dropped packet is left alone");
    cr_assert_eq(p.len, sizeof(payload));
    cr_assert_eq(stats()->dropped[TURN_DROP_NO_PERMISSION], 1);
    cr_assert_eq(stats()->packets[TURN_DIR_TO_CLIENT][TURN_TRANSPORT_UDP], 0);
}

/* ---- bad input ---- */

Test(server, unknown_required_attribute_is_420)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    const struct stun_attr *unknown;
    const uint8_t *v;
    struct h_msg m;

    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    stun_build_u32(&m.b, 0x0031, 0);
    cr_assert_eq(h_call(&t, &m), 420);
    unknown = stun_msg_find(&H.rmsg, STUN_ATTR_UNKNOWN_ATTRIBUTES);
    cr_assert_not_null(unknown);
    cr_assert_eq(unknown->len, 2);
    v = stun_attr_value(&H.rmsg, unknown);
    cr_assert_eq(v[0], 0x00);
    cr_assert_eq(v[1], 0x31);
    cr_assert_eq(H.ops.open_calls, 0);
}

Test(server, malformed_input_is_dropped_and_counted)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;
    uint8_t garbage[32];
    uint8_t short_chan[8] = {0x40, 0x00, 0x00, 0x40, 1, 2, 3, 4};

    h_req(&m, STUN_BINDING);
    h_finish(&m);
    m.buf[4] ^= 0xff; /* magic cookie */
    cr_assert_eq(h_send(&t, m.buf, m.len), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_MALFORMED], 1);
    cr_assert_eq(H.reply.len, 0);

    h_req(&m, STUN_BINDING);
    h_finish(&m);
    cr_assert_eq(h_send(&t, m.buf, m.len - 1), TURN_DROP, "truncated");
    cr_assert_eq(stats()->dropped[TURN_DROP_MALFORMED], 2);

    memset(garbage, 0xff, sizeof(garbage));
    cr_assert_eq(h_send(&t, garbage, sizeof(garbage)), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_MALFORMED], 3);

    cr_assert_eq(h_send(&t, garbage, 0), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_MALFORMED], 4);

    cr_assert_eq(h_send(&t, short_chan, sizeof(short_chan)), TURN_DROP,
                 "ChannelData longer than the datagram");
    cr_assert_eq(stats()->dropped[TURN_DROP_MALFORMED], 5);
    cr_assert_eq(stats()->requests, 0);
}

Test(server, unexpected_response_is_dropped)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    h_start(&m, STUN_BINDING, STUN_SUCCESS);
    h_finish(&m);
    cr_assert_eq(h_send(&t, m.buf, m.len), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_UNEXPECTED], 1);
}

/* ---- connections and lifecycle ---- */

Test(server, conn_closed_frees_allocation)
{
    int conn_a, conn_b;
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_TCP);
    struct turn_tuple other = h_tuple(CLIENT, TURN_TRANSPORT_TCP);

    t.conn = &conn_a;
    other.conn = &conn_b;
    cr_assert_eq(h_allocate(&t), 0);
    turn_server_conn_closed(H.srv, &other, H.now.mono);
    cr_assert_eq(turn_server_allocations(H.srv), 1, "another connection's close is no-op");
    cr_assert_eq(H.ops.close_calls, 0);
    H.now.mono += 100;
    turn_server_conn_closed(H.srv, &t, H.now.mono);
    cr_assert_eq(turn_server_allocations(H.srv), 0);
    /* the ended allocation lived 100 s: the 60 < t <= 300 bucket */
    cr_assert_eq(stats()->lifetime_buckets[1], 1);
    cr_assert_eq(stats()->lifetime_sum, 100);
    cr_assert_eq(H.ops.close_calls, 1);
    cr_assert_eq(H.ops.closed_ids[0], 1);
    cr_assert_eq(stats()->allocations_active, 0);
    cr_assert_eq(turn_quota_in_use(H.quota), 0);
}

Test(server, free_closes_every_relay)
{
    struct turn_tuple t1 = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct turn_tuple t2 = h_tuple(CLIENT2, TURN_TRANSPORT_UDP);

    cr_assert_eq(h_allocate(&t1), 0);
    cr_assert_eq(h_allocate(&t2), 0);
    turn_server_free(H.srv);
    H.srv = NULL;
    cr_assert_eq(H.ops.close_calls, 2);
    cr_assert_eq(turn_quota_in_use(H.quota), 0);
}

Test(server, stats_follow_traffic)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct h_peer_pkt p;
    uint8_t pkt[64];
    static const uint8_t seven[7] = {1, 2, 3, 4, 5, 6, 7};
    uint64_t requests;

    h_nonce(&t);
    cr_assert_eq(stats()->requests, 1);
    cr_assert_eq(errors_of(401), 1);
    cr_assert_eq(h_allocate(&t), 0);
    cr_assert_eq(stats()->allocations_created, 1);
    cr_assert_eq(stats()->allocations_active, 1);
    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0);
    requests = stats()->requests;
    cr_assert_eq(requests, 3);

    cr_assert_eq(send_chandata(&t, 0x4000, pkt), TURN_FORWARD);
    cr_assert_eq(send_indication(&t, PEER), TURN_FORWARD);
    cr_assert_eq(stats()->packets[TURN_DIR_TO_PEER][TURN_TRANSPORT_UDP], 2);
    cr_assert_eq(stats()->bytes[TURN_DIR_TO_PEER][TURN_TRANSPORT_UDP], 2 * sizeof(payload));
    cr_assert_eq(h_from_peer(&p, h_alloc(0), PEER, seven, sizeof(seven)), TURN_FORWARD);
    cr_assert_eq(stats()->packets[TURN_DIR_TO_CLIENT][TURN_TRANSPORT_UDP], 1);
    cr_assert_eq(stats()->bytes[TURN_DIR_TO_CLIENT][TURN_TRANSPORT_UDP], sizeof(seven));
    cr_assert_eq(stats()->requests, requests, "data is not counted as requests");

    cr_assert_eq(h_refresh(&t, 0), 0);
    cr_assert_eq(stats()->allocations_created, 1);
    cr_assert_eq(stats()->allocations_active, 0);
    cr_assert_eq(stats()->requests, requests + 1);
    h_refresh_dropped(&t);
    cr_assert_eq(stats()->requests, requests + 2);
    cr_assert_eq(stats()->dropped[TURN_DROP_NO_ALLOCATION], 1);
    cr_assert_eq(stats()->auth_key_tries, 3, "Allocate, ChannelBind, Refresh: one key each");
}

/* ---- answers to unauthenticated requests (reflection) ---- */

Test(server, unauthenticated_requests_without_allocation_get_no_challenge)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    const uint16_t methods[] = {TURN_REFRESH, TURN_CREATE_PERMISSION, TURN_CHANNEL_BIND};
    struct h_msg m;

    for (unsigned i = 0; i < 3; i++) {
        h_req(&m, methods[i]);
        h_finish(&m);
        cr_assert_eq(h_send(&t, m.buf, m.len), TURN_DROP, "method 0x%03x", methods[i]);
    }
    cr_assert_eq(stats()->dropped[TURN_DROP_NO_ALLOCATION], 3);
    /* an Allocate is still challenged, and with an allocation a Refresh is
     * too, when the challenge is within 4x of it (a LIFETIME makes it 28) */
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    cr_assert_eq(h_call(&t, &m), 401);
    cr_assert_eq(h_allocate(&t), 0);
    h_req(&m, TURN_REFRESH);
    h_add_lifetime(&m, 600);
    cr_assert_eq(h_call(&t, &m), 401);
    cr_assert_leq(H.reply.len, 4 * m.len);
}

Test(server, unauthenticated_udp_answers_are_rate_limited)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct turn_tuple tcp = h_tuple(CLIENT, TURN_TRANSPORT_TCP);
    struct h_msg m;
    int answered = 0;

    h_set_unauth_rate(3); /* bursts of 6 */
    for (int i = 0; i < 10; i++) {
        h_req(&m, i % 2 ? STUN_BINDING : TURN_ALLOCATE);
        h_add_transport(&m, H_PROTO_UDP);
        h_finish(&m);
        answered += h_send(&t, m.buf, m.len) == TURN_REPLY;
    }
    cr_assert_eq(answered, 6);
    cr_assert_eq(stats()->rate_limited, 4);
    /* streams cannot be spoofed: not limited */
    h_req(&m, STUN_BINDING);
    cr_assert_eq(h_call(&tcp, &m), 0);
    /* the next second refills the bucket */
    h_advance(1);
    h_req(&m, STUN_BINDING);
    cr_assert_eq(h_call(&t, &m), 0);
}

Test(server, authenticated_answers_are_not_rate_limited)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    h_set_unauth_rate(1);
    cr_assert_eq(h_allocate(&t), 0); /* a 401 and a success: the burst of 2 */
    for (int i = 0; i < 5; i++) {
        h_req(&m, TURN_CREATE_PERMISSION);
        h_add_peer(&m, "10.0.0.1:9");
        h_auth(&m, &t, H_ALICE, H_ALICE_PW);
        cr_assert_eq(h_call(&t, &m), 403, "authenticated errors are always answered");
    }
}

/* ---- bandwidth per allocation (max-bps) ---- */

Test(server, max_bps_is_a_budget_per_second_for_both_directions)
{
    struct turn_tuple t;
    struct h_peer_pkt p;
    uint8_t pkt[64];
    int passed = 0;

    H.cfg.max_bps = 8 * 4 * sizeof(payload); /* four payloads a second */
    h_restart();
    t = allocated(CLIENT, TURN_TRANSPORT_UDP);
    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0);
    for (int i = 0; i < 3; i++) {
        passed += send_chandata(&t, 0x4000, pkt) == TURN_FORWARD;
    }
    passed += h_from_peer(&p, h_alloc(0), PEER, payload, sizeof(payload)) == TURN_FORWARD;
    cr_assert_eq(passed, 4, "within the budget, both directions count");
    cr_assert_eq(send_chandata(&t, 0x4000, pkt), TURN_DROP);
    cr_assert_eq(h_from_peer(&p, h_alloc(0), PEER, payload, sizeof(payload)), TURN_DROP);
    cr_assert_eq(stats()->dropped[TURN_DROP_BANDWIDTH], 2);
    h_advance(1);
    cr_assert_eq(send_chandata(&t, 0x4000, pkt), TURN_FORWARD, "a new second, a new budget");
}

/* ---- bounded work and no reflection gain ---- */

/* An authenticated Allocate from t padded with an unknown optional attribute to
 * about total bytes, built into buf; returns its length. */
static size_t big_allocate(const struct turn_tuple *t, uint8_t *buf, size_t cap, size_t total)
{
    static uint8_t filler[8192];
    const char *nonce = h_nonce(t);
    uint8_t key[TURN_AUTH_MAX_KEY], tid[STUN_TID_LEN] = {7, 7, 7};
    size_t key_len = h_key(H_ALICE, H_ALICE_PW, key);
    struct stun_builder b;
    int len;

    stun_build_start(&b, buf, cap, TURN_ALLOCATE, STUN_REQUEST, tid);
    stun_build_u32(&b, STUN_ATTR_REQUESTED_TRANSPORT, (uint32_t)H_PROTO_UDP << 24);
    stun_build_attr(&b, 0x8050, filler, total - 120); /* comprehension-optional */
    stun_build_attr(&b, STUN_ATTR_USERNAME, H_ALICE, strlen(H_ALICE));
    stun_build_attr(&b, STUN_ATTR_REALM, H_REALM, strlen(H_REALM));
    stun_build_attr(&b, STUN_ATTR_NONCE, nonce, strlen(nonce));
    stun_build_integrity(&b, STUN_ATTR_MESSAGE_INTEGRITY, key, key_len);
    len = stun_build_finish(&b);
    cr_assert_gt(len, 0);
    return (size_t)len;
}

Test(server, oversized_request_without_allocation_is_dropped_before_auth)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    static uint8_t buf[8192];
    size_t len = big_allocate(&t, buf, sizeof(buf), 4200);
    struct h_msg m;

    cr_assert_gt(len, TURN_UNALLOCATED_REQUEST_MAX);
    cr_assert_eq(h_send(&t, buf, len), TURN_DROP, "valid credentials, but 4 KiB and more");
    cr_assert_eq(stats()->dropped[TURN_DROP_OVERSIZED], 1);
    cr_assert_eq(stats()->auth_key_tries, 0, "no credential was checked");
    cr_assert_eq(H.ops.open_calls, 0);
    /* the same request under the limit allocates */
    len = big_allocate(&t, buf, sizeof(buf), 4000);
    cr_assert_leq(len, TURN_UNALLOCATED_REQUEST_MAX);
    cr_assert_eq(h_send(&t, buf, len), TURN_REPLY);
    cr_assert_eq(H.rmsg.cls, STUN_SUCCESS);
    /* with an allocation, a large request is handled */
    h_nonce(&t);
    h_req(&m, TURN_REFRESH);
    stun_build_attr(&m.b, 0x8050, buf, 900);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 0);
    cr_assert_eq(stats()->dropped[TURN_DROP_OVERSIZED], 1);
}

Test(server, allocate_without_requested_transport_gets_400_without_challenge)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    h_req(&m, TURN_ALLOCATE);
    cr_assert_eq(h_call(&t, &m), 400);
    cr_assert_null(stun_msg_find(&H.rmsg, STUN_ATTR_NONCE), "no challenge");
    cr_assert_null(stun_msg_find(&H.rmsg, STUN_ATTR_REALM));
    cr_assert_leq(H.reply.len, 2 * m.len);
    cr_assert_eq(errors_of(401), 0);
    /* with credentials too: refused before any key is derived */
    h_nonce(&t);
    h_req(&m, TURN_ALLOCATE);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 400);
    cr_assert_eq(stats()->auth_key_tries, 0);
}

/* The 401 to the smallest Allocate a client sends (REQUESTED-TRANSPORT
 * alone, 28 bytes) stays within 4x with the longest realm allowed, and
 * carries an empty reason phrase. */
Test(server, challenge_is_within_4x_with_the_longest_realm)
{
    struct turn_auth_config ac = {.realm = "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"};
    static const char *const users[] = {"u:p"};
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct turn_auth *auth;
    const char *reason;
    size_t reason_len;
    struct h_msg m;
    int code;

    cr_assert_eq(strlen(ac.realm), TURN_REALM_MAX);
    ac.users = users;
    ac.n_users = 1;
    cr_assert_eq(turn_auth_new(&auth, &ac), 0);
    turn_server_set_rules(H.srv, auth, H.policy, H.now.mono);
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    cr_assert_eq(h_call(&t, &m), 401);
    cr_assert_eq(m.len, 28);
    cr_assert_leq(H.reply.len, 4 * m.len, "a %zu-byte 401", H.reply.len);
    cr_assert_eq(stun_msg_get_error(&H.rmsg, &code, &reason, &reason_len), 0);
    cr_assert_eq(reason_len, 0);
    cr_assert_not_null(stun_msg_find(&H.rmsg, STUN_ATTR_PASSWORD_ALGORITHMS));
    /* with FINGERPRINT as well */
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    stun_build_fingerprint(&m.b);
    cr_assert_eq(h_call(&t, &m), 401);
    cr_assert_leq(H.reply.len, 4 * m.len);
    turn_server_set_rules(H.srv, H.auth, H.policy, H.now.mono);
    turn_auth_free(auth);
}

/* A prefix that completes authentication earns answers; one that never
 * does (a spoofed victim) keeps the base rate. */
Test(server, authenticated_requests_earn_their_prefix_answers)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct turn_tuple victim = h_tuple("198.51.100.9:5000", TURN_TRANSPORT_UDP);
    struct h_msg m;
    int answered = 0;

    h_set_unauth_rate(1);            /* bursts of 2 */
    cr_assert_eq(h_allocate(&t), 0); /* the 401 takes a token, the success earns two */
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(h_permit(&t, PEER), 0); /* each earns two more */
    }
    for (int i = 0; i < 20; i++) {
        h_req(&m, STUN_BINDING);
        h_finish(&m);
        answered += h_send(&t, m.buf, m.len) == TURN_REPLY;
    }
    cr_assert_eq(answered, 1 + 2 * 4, "one token left from the burst, eight earned");
    answered = 0;
    for (int i = 0; i < 20; i++) {
        h_req(&m, STUN_BINDING);
        h_finish(&m);
        answered += h_send(&victim, m.buf, m.len) == TURN_REPLY;
    }
    cr_assert_eq(answered, 2, "a prefix that never authenticates: one burst");
}
