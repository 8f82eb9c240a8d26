/*
 * irp_load.c - a small blocking IRP load client for tests/irpd/durability.sh.
 *
 *   irp_load --connect HOST:PORT --ca CA.pem --cert C.pem --key K.pem
 *            --count N [--devices D] [--window W] [--seq0 S]
 *
 * Connects with TLS 1.3 (pinning CA.pem, ALPN irp/1) and sends N register
 * requests, pipelined with at most W (default 64) unanswered: request i
 * registers device "dev<i mod D>" (D default 4) with seq S+i (S default 1),
 * so every device's seqs increase and each answer is checkable on its own.
 * For each response, as it arrives (stdout flushed per line):
 *
 *   ack DEVICE SEQ      a 200 for that register
 *   nack DEVICE SEQ STATUS
 *
 * and "done" after the last. Exit 0 when all N were answered, 1 when the
 * connection ended first (e.g. the registry was killed), 2 for usage.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "irp_frame.h"
#include "tls_client.h"
#include "irp_msg.h"

int main(int argc, char **argv)
{
    const char *connect_to = NULL, *ca = NULL, *cert = NULL, *key = NULL;
    unsigned long long count = 0, devices = 4, window = 64, seq0 = 1, sent = 0, got = 0;
    int i, rc = 1, rc_setup;
    SSL *ssl;
    irp_framer fr;
    sc_xml_parser *xp;

    for (i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (strcmp(o, "--connect") == 0)
            connect_to = v;
        else if (strcmp(o, "--ca") == 0)
            ca = v;
        else if (strcmp(o, "--cert") == 0)
            cert = v;
        else if (strcmp(o, "--key") == 0)
            key = v;
        else if (strcmp(o, "--count") == 0)
            count = strtoull(v, NULL, 10);
        else if (strcmp(o, "--devices") == 0)
            devices = strtoull(v, NULL, 10);
        else if (strcmp(o, "--window") == 0)
            window = strtoull(v, NULL, 10);
        else if (strcmp(o, "--seq0") == 0)
            seq0 = strtoull(v, NULL, 10);
        else
            return 2;
    }
    if (i != argc || connect_to == NULL || ca == NULL || cert == NULL || key == NULL ||
        count == 0 || devices == 0 || devices > 8 || window == 0) {
        fprintf(stderr, "usage: irp_load --connect HOST:PORT --ca CA.pem --cert C --key K "
                        "--count N [--devices D] [--window W] [--seq0 S]\n");
        return 2;
    }

    ssl = tc_connect("irp_load", connect_to, ca, cert, key, 1, 30, &rc_setup);
    if (ssl == NULL) return rc_setup;
    irp_framer_init(&fr);
    xp = sc_xml_parser_new();
    while (got < count) {
        uint8_t buf[16384];
        int n;
        size_t off = 0;

        if (sent < count && sent - got < window) {
            sc_buf out;
            sc_buf_init_public(&out, 0);
            while (sent < count && sent - got < window) {
                char doc[256];
                int dl = snprintf(doc, sizeof(doc),
                                  "<req id=\"r%llu\" op=\"register\" device=\"dev%llu\" "
                                  "port=\"4605\" seq=\"%llu\"><addr>192.0.2.%llu</addr></req>",
                                  sent, sent % devices, seq0 + sent, 1 + sent % 200);
                if (irp_frame_put(&out, (const uint8_t *)doc, (size_t)dl) != 0) out.failed = 1;
                sent++;
            }
            if (!sc_buf_ok(&out) || SSL_write(ssl, out.data, (int)out.len) != (int)out.len) {
                printf("closed: write failed\n");
                sc_buf_dispose(&out);
                goto out;
            }
            sc_buf_dispose(&out);
        }
        n = SSL_read(ssl, buf, sizeof(buf));
        if (n <= 0) {
            printf("closed\n");
            goto out;
        }
        while (off < (size_t)n) {
            const uint8_t *doc;
            size_t used = 0, dlen;
            int r = irp_framer_feed(&fr, buf + off, (size_t)n - off, &used, &doc, &dlen);
            irp_resp resp;
            irp_event ev;
            int is_event = 0;

            off += used;
            if (r == IRP_FEED_NEED) continue;
            if (r != IRP_FEED_DOC) {
                printf("bad frame from server: %d\n", r);
                goto out;
            }
            irp_resp_init(&resp);
            irp_event_init(&ev);
            if (irp_server_doc_parse(xp, doc, dlen, &resp, &ev, &is_event) != 0 || is_event) {
                printf("unexpected: %.*s\n", (int)dlen, (const char *)doc);
                irp_resp_clear(&resp);
                irp_event_clear(&ev);
                goto out;
            }
            /* responses come in request order (docs/IRP.md 3.5): check the echoed id */
            {
                char want[32];
                snprintf(want, sizeof(want), "r%llu", got);
                if (strcmp(resp.id, want) != 0) {
                    printf("out of order: %s, expected %s\n", resp.id, want);
                    irp_resp_clear(&resp);
                    goto out;
                }
            }
            if (resp.status == 200)
                printf("ack dev%llu %llu\n", got % devices, seq0 + got);
            else
                printf("nack dev%llu %llu %d\n", got % devices, seq0 + got, resp.status);
            fflush(stdout);
            irp_resp_clear(&resp);
            got++;
        }
    }
    printf("done\n");
    rc = 0;
    SSL_shutdown(ssl);
out:
    fflush(stdout);
    tc_close(ssl);
    irp_framer_free(&fr);
    sc_xml_parser_free(xp);
    return rc;
}
