/* Tests for draining (turn_server_set_draining): allocations that exist
 * carry on; a new Allocate is sent to an alternate server of the client's
 * family (300, RFC 8489 10 and 14.15) before any challenge, or refused
 * with 508 after authentication when there is none. */
#include <string.h>

#include <criterion/criterion.h>

#include "server_harness.h"

TestSuite(drain, .init = h_setup, .fini = h_teardown);

#define CLIENT "203.0.113.7:40000"
#define PEER "8.8.8.8:5000"

static union turn_addr alternates[2];

static uint64_t errors_of(int code)
{
    const struct turn_stats *st = turn_server_stats(H.srv);

    for (unsigned i = 0; i < TURN_STATS_N_CODES; i++) {
        if (turn_stats_error_codes[i] == code) {
            return st->errors[i];
        }
    }
    cr_assert_fail("no counter for error %d", code);
    return 0;
}

/* Restarts the server with these alternate servers, draining. */
static void drain_with(const char *a, const char *b)
{
    size_t n = 0;

    if (a) {
        alternates[n++] = h_addr(a);
    }
    if (b) {
        alternates[n++] = h_addr(b);
    }
    H.cfg.alternates = alternates;
    H.cfg.n_alternates = n;
    h_restart();
    turn_server_set_draining(H.srv, true);
}

static void assert_redirect_to(const char *want_text)
{
    union turn_addr alt, want = h_addr(want_text);

    cr_assert_eq(stun_msg_get_addr(&H.rmsg, STUN_ATTR_ALTERNATE_SERVER, &alt), 0,
                 "300 without ALTERNATE-SERVER");
    cr_assert(turn_addr_equal(&alt, &want), "not redirected to %s", want_text);
    /* the client starts afresh at the alternate: nothing of ours to carry */
    cr_assert_null(stun_msg_find(&H.rmsg, STUN_ATTR_NONCE));
    cr_assert_null(stun_msg_find(&H.rmsg, STUN_ATTR_REALM));
    cr_assert_null(stun_msg_find(&H.rmsg, STUN_ATTR_MESSAGE_INTEGRITY));
}

Test(drain, first_allocate_gets_300_naming_the_alternate_of_the_client_family)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    drain_with("[2001:db8::10]:3478", "192.0.2.10:3478");
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    cr_assert_eq(h_call(&t, &m), 300, "redirected before any challenge");
    assert_redirect_to("192.0.2.10:3478");
    cr_assert_eq(H.ops.open_calls, 0);
    cr_assert_eq(turn_server_allocations(H.srv), 0);
    cr_assert_eq(errors_of(300), 1);
    cr_assert_eq(errors_of(401), 0);
}

Test(drain, authenticated_allocate_is_redirected_too)
{
    struct turn_tuple t = h_tuple("[2001:db8::7]:40000", TURN_TRANSPORT_UDP);
    struct h_msg m;

    h_nonce(&t); /* learnt before the drain */
    drain_with("192.0.2.10:3478", "[2001:db8::10]:3478");
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 300);
    assert_redirect_to("[2001:db8::10]:3478");
    cr_assert_eq(H.ops.open_calls, 0);
}

Test(drain, allocate_without_alternate_of_the_family_is_508)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);

    drain_with("[2001:db8::10]:3478", NULL);
    cr_assert_eq(h_allocate(&t), 508, "after the 401 dance, as an IPv4 client has no alternate");
    cr_assert_null(stun_msg_find(&H.rmsg, STUN_ATTR_ALTERNATE_SERVER));
    cr_assert_eq(H.ops.open_calls, 0);
    cr_assert_eq(errors_of(508), 1);
}

Test(drain, without_alternate_allocate_is_still_challenged)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m;

    drain_with(NULL, NULL);
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    cr_assert_eq(h_call(&t, &m), 401, "without an alternate, a refusal needs credentials");
    cr_assert_null(stun_msg_find(&H.rmsg, STUN_ATTR_ALTERNATE_SERVER));
}

Test(drain, existing_allocations_carry_on)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);
    struct h_msg m, again;

    h_nonce(&t);
    h_req(&m, TURN_ALLOCATE);
    h_add_transport(&m, H_PROTO_UDP);
    h_auth(&m, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &m), 0);
    turn_server_set_draining(H.srv, true);

    h_req_tid(&again, TURN_ALLOCATE, m.tid);
    h_add_transport(&again, H_PROTO_UDP);
    h_auth(&again, &t, H_ALICE, H_ALICE_PW);
    cr_assert_eq(h_call(&t, &again), 0, "a retransmitted Allocate gets its success again");
    cr_assert_eq(h_refresh(&t, 600), 0);
    cr_assert_eq(h_permit(&t, PEER), 0);
    cr_assert_eq(h_bind(&t, 0x4000, PEER), 0);
    cr_assert_eq(h_refresh(&t, 0), 0);
    cr_assert_eq(turn_server_allocations(H.srv), 0);
    cr_assert_eq(h_allocate(&t), 508, "and a new one after it is refused");
}

Test(drain, ends_when_turned_off)
{
    struct turn_tuple t = h_tuple(CLIENT, TURN_TRANSPORT_UDP);

    drain_with(NULL, NULL);
    cr_assert_eq(h_allocate(&t), 508);
    turn_server_set_draining(H.srv, false);
    cr_assert_eq(h_allocate(&t), 0);
}
