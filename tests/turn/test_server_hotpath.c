/* The relayed packet's protocol work, both ways: ChannelData from clients
 * through turn_server_on_client and peer datagrams through
 * turn_server_on_peer, for H_MAX_RELAYS allocations with a channel each.
 * Every packet must be forwarded, to the right peer or framed for the
 * right channel. The same fixed workload is what callgrind counts the
 * protocol's instructions per packet on (docs/benchmarks.md): no clock,
 * no sockets, so the count does not drift with the machine's load. Run it
 * with BR_HOTPATH_ROUNDS at two values and divide the difference by the
 * packets added, so that setting up the calls is left out. */
#include <stdio.h>
#include <stdlib.h>

#include "server_harness.h"

#define CLIENTS H_MAX_RELAYS
#define ROUNDS 500 /* unless BR_HOTPATH_ROUNDS says */
#define PAYLOAD 200
#define CHANNEL 0x4000

static struct turn_tuple tuples[CLIENTS];

static void set_up_calls(void)
{
    char client[40];

    for (int i = 0; i < CLIENTS; i++) {
        /* the harness keeps nonces for 8 addresses: several ports each */
        snprintf(client, sizeof(client), "198.51.100.%d:%d", 1 + i % 8, 20000 + i);
        tuples[i] = h_tuple(client, TURN_TRANSPORT_UDP);
        cr_assert_eq(h_allocate(&tuples[i]), 0, "allocation %d", i);
        cr_assert_eq(h_bind(&tuples[i], CHANNEL, "127.0.0.9:7000"), 0, "channel %d", i);
    }
}

Test(hotpath, channel_data_both_ways, .init = h_setup, .fini = h_teardown)
{
    static uint8_t frame[TURN_CHANNEL_HEADER_LEN + PAYLOAD];
    static uint8_t room[TURN_HEADROOM + PAYLOAD + TURN_TAILROOM];
    uint8_t payload[PAYLOAD], reply_buf[TURN_REPLY_MAX];
    union turn_addr peer = h_addr("127.0.0.9:7000");
    unsigned forwarded = 0;
    const char *env = getenv("BR_HOTPATH_ROUNDS");
    int rounds = env ? atoi(env) : ROUNDS;

    memset(payload, 0x5A, sizeof(payload));
    set_up_calls();
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < CLIENTS; i++) {
            struct turn_reply reply = {.buf = reply_buf};
            struct turn_forward fwd;
            size_t n = h_chandata(frame, CHANNEL, payload, PAYLOAD, false);
            uint8_t *data = room + TURN_HEADROOM;
            size_t len = PAYLOAD;

            cr_assert_eq(turn_server_on_client(H.srv, &tuples[i], frame, n, H.now, &reply, &fwd),
                         TURN_FORWARD);
            cr_assert(turn_addr_equal(&fwd.peer, &peer) && fwd.len == PAYLOAD);
            memcpy(data, payload, PAYLOAD);
            cr_assert_eq(turn_server_on_peer(H.srv, h_alloc(i), &peer, &data, &len, H.now.mono),
                         TURN_FORWARD);
            cr_assert(len == TURN_CHANNEL_HEADER_LEN + PAYLOAD && data[0] == CHANNEL >> 8);
            forwarded += 2;
        }
    }
    cr_assert_eq(forwarded, 2u * (unsigned)rounds * CLIENTS);
}
