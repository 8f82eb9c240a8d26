/*
 * irp_probe.c - a tiny blocking IRP client for tests/irpd/run.sh.
 *
 *   irp_probe --connect HOST:PORT --ca CA.pem [--cert C.pem --key K.pem]
 *             [--save-cert FILE] [--events N] [--no-alpn]
 *
 * Connects with TLS 1.3 (pinning CA.pem, ALPN irp/1), reads standard input
 * line by line: each non-empty line is one XML document, sent as one DOC
 * frame (irp_frame_put); a line "!hex HEX" sends those raw bytes instead (bad
 * frames). All lines are sent first (pipelined), then one document is read
 * per line sent, plus N events, each printed on its own line. For a lookup
 * answer with a signature, a line "sig: ok" or "sig: bad" follows (checked
 * with irp_lookup_verify against the server's certificate). --save-cert
 * writes the first certificate of the first 200 answer that carries one as
 * PEM. Exit 0 when every expected document arrived, 1 otherwise (connection
 * closed early, handshake refused), 2 for usage.
 *
 * --interactive: one line at a time instead: each document line is sent,
 * then one document is read and printed; a line "!read" only reads (and
 * prints) the next document; standard output is flushed after each. A
 * closed connection prints "closed: ..." and exits 1. For scripts that act
 * between requests on one connection (through FIFOs).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "irp_frame.h"
#include "tls_client.h"
#include "irp_msg.h"
#include "irp_sig.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void save_pem(const char *path, const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    FILE *f = x != NULL ? fopen(path, "w") : NULL;

    if (f != NULL) {
        PEM_write_X509(f, x);
        fclose(f);
    }
    X509_free(x);
}

/*
 * Reads and prints documents until *got reaches expected (a chunk's further
 * documents are printed too). 0, or 1 when the connection closed first.
 */
static int pump(SSL *ssl, irp_framer *fr, sc_xml_parser *xp, size_t expected, size_t *got,
                const char *save, int *saved)
{
    while (*got < expected) {
        uint8_t buf[16384];
        int n = SSL_read(ssl, buf, sizeof(buf));
        size_t off = 0;

        if (n <= 0) {
            unsigned long e = ERR_peek_last_error();
            printf("closed: %s\n", e != 0 ? ERR_reason_error_string(e) : "eof");
            fflush(stdout);
            return 1;
        }
        while (off < (size_t)n) {
            const uint8_t *doc;
            size_t used = 0, dlen;
            int r = irp_framer_feed(fr, buf + off, (size_t)n - off, &used, &doc, &dlen);
            irp_resp resp;
            irp_event ev;
            int is_event = 0;

            off += used;
            if (r == IRP_FEED_NEED) continue;
            if (r != IRP_FEED_DOC) {
                printf("bad frame from server: %d\n", r);
                return 1;
            }
            printf("%.*s\n", (int)dlen, (const char *)doc);
            (*got)++;
            irp_resp_init(&resp);
            irp_event_init(&ev);
            if (irp_server_doc_parse(xp, doc, dlen, &resp, &ev, &is_event) == 0 && !is_event) {
                if (resp.has_sig) {
                    X509 *sc = SSL_get1_peer_certificate(ssl);
                    printf("sig: %s\n", irp_lookup_verify(&resp, sc) == 0 ? "ok" : "bad");
                    X509_free(sc);
                }
                if (save != NULL && !*saved && resp.status == 200 && resp.n_certs > 0 &&
                    resp.certs[0].der != NULL) {
                    save_pem(save, resp.certs[0].der, resp.certs[0].der_len);
                    *saved = 1;
                }
                irp_resp_clear(&resp);
            } else if (is_event) {
                irp_event_clear(&ev);
            }
            fflush(stdout);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *connect_to = NULL, *ca = NULL, *cert = NULL, *key = NULL, *save = NULL;
    char line[65536];
    long events = 0;
    int alpn = 1, i, saved = 0, rc_setup, interactive = 0;
    size_t expected = 0, got = 0;
    SSL *ssl;
    sc_buf out;
    irp_framer fr;
    sc_xml_parser *xp;

    for (i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--no-alpn") == 0) {
            alpn = 0;
            continue;
        }
        if (strcmp(argv[i], "--interactive") == 0) {
            interactive = 1;
            continue;
        }
        if (v == NULL) return 2;
        if (strcmp(argv[i], "--connect") == 0)
            connect_to = v;
        else if (strcmp(argv[i], "--ca") == 0)
            ca = v;
        else if (strcmp(argv[i], "--cert") == 0)
            cert = v;
        else if (strcmp(argv[i], "--key") == 0)
            key = v;
        else if (strcmp(argv[i], "--save-cert") == 0)
            save = v;
        else if (strcmp(argv[i], "--events") == 0)
            events = strtol(v, NULL, 10);
        else
            return 2;
        i++;
    }
    if (connect_to == NULL || ca == NULL) {
        fprintf(stderr, "usage: irp_probe --connect HOST:PORT --ca CA.pem [--cert C --key K] "
                        "[--save-cert FILE] [--events N] [--no-alpn] < requests\n");
        return 2;
    }

    /* Build every frame first: the requests are pipelined. */
    sc_buf_init_public(&out, 0);
    while (!interactive && fgets(line, sizeof(line), stdin) != NULL) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (n == 0) continue;
        if (strncmp(line, "!hex ", 5) == 0) {
            size_t k;
            for (k = 5; k + 1 < n; k += 2) {
                int hi = hexval(line[k]), lo = hexval(line[k + 1]);
                if (hi < 0 || lo < 0) return 2;
                sc_buf_put_u8(&out, (uint8_t)(hi << 4 | lo));
            }
        } else if (irp_frame_put(&out, (const uint8_t *)line, n) != 0) {
            fprintf(stderr, "irp_probe: document too large\n");
            return 2;
        }
        expected++;
    }
    expected += (size_t)events;

    ssl = tc_connect("irp_probe", connect_to, ca, cert, key, alpn, 20, &rc_setup);
    if (ssl == NULL) return rc_setup;
    if (out.len > 0 && SSL_write(ssl, out.data, (int)out.len) != (int)out.len) {
        printf("closed: write failed\n");
        return 1;
    }

    irp_framer_init(&fr);
    xp = sc_xml_parser_new();
    if (interactive) {
        int rc = 0;
        while (rc == 0 && fgets(line, sizeof(line), stdin) != NULL) {
            size_t n = strcspn(line, "\r\n");
            line[n] = '\0';
            if (n == 0) continue;
            if (strcmp(line, "!read") != 0) {
                sc_buf_reset(&out);
                if (irp_frame_put(&out, (const uint8_t *)line, n) != 0 ||
                    SSL_write(ssl, out.data, (int)out.len) != (int)out.len) {
                    printf("closed: write failed\n");
                    fflush(stdout);
                    return 1;
                }
            }
            got = 0;
            rc = pump(ssl, &fr, xp, 1, &got, save, &saved);
        }
        if (rc != 0) return rc;
    } else if (pump(ssl, &fr, xp, expected, &got, save, &saved) != 0) {
        return 1;
    }
    SSL_shutdown(ssl);
    tc_close(ssl);
    irp_framer_free(&fr);
    sc_xml_parser_free(xp);
    sc_buf_dispose(&out);
    return 0;
}
