/*
 * bench_irpd_lookups.c - a bystander of a real irpd: one lookup due every
 * EVERY milliseconds for MS milliseconds, each sent when due (or as soon
 * as the previous answer came) over one TLS connection, its latency
 * counted from when it was due (so a stalled registry shows in full).
 * bench/irpd_live.sh runs it while a registration burst and a failed-login
 * flood load the registry (bench/README.md).
 *
 *   bench_irpd_lookups --connect HOST:PORT --ca CA.pem --cert C.pem --key K.pem
 *                      --user USER [--every MS] [--ms MS]
 *
 * Prints "lookups N p50 A p90 B p99 C max D" (milliseconds). Exit 0, 1 on
 * a failed lookup or connection, 2 for usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "irp_frame.h"
#include "tls_client.h" /* tests/irpd: the blocking TLS client of the irpd test tools */
#include "irp_msg.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Reads until one whole response document arrives; its status, or -1. */
static int read_resp(SSL *ssl, irp_framer *fr, sc_xml_parser *xp)
{
    for (;;) {
        uint8_t buf[16384];
        size_t off = 0;
        int n = SSL_read(ssl, buf, sizeof(buf));
        if (n <= 0) return -1;
        while (off < (size_t)n) {
            const uint8_t *doc;
            size_t used = 0, dlen;
            int r = irp_framer_feed(fr, buf + off, (size_t)n - off, &used, &doc, &dlen);
            irp_resp resp;
            irp_event ev;
            int is_event = 0, st;

            off += used;
            if (r == IRP_FEED_NEED) continue;
            if (r != IRP_FEED_DOC) return -1;
            irp_resp_init(&resp);
            irp_event_init(&ev);
            st = irp_server_doc_parse(xp, doc, dlen, &resp, &ev, &is_event) == 0 && !is_event
                     ? resp.status
                     : -1;
            irp_resp_clear(&resp);
            irp_event_clear(&ev);
            if (off != (size_t)n) return -1; /* one request in flight: one answer at a time */
            return st;
        }
    }
}

int main(int argc, char **argv)
{
    const char *connect_to = NULL, *ca = NULL, *cert = NULL, *key = NULL, *user = NULL;
    double every = 1, dur = 3000, t0, due;
    double *lat;
    size_t n = 0, cap;
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
        else if (strcmp(o, "--user") == 0)
            user = v;
        else if (strcmp(o, "--every") == 0)
            every = atof(v);
        else if (strcmp(o, "--ms") == 0)
            dur = atof(v);
        else
            return 2;
    }
    if (i != argc || connect_to == NULL || ca == NULL || cert == NULL || key == NULL ||
        user == NULL || every <= 0 || dur <= 0) {
        fprintf(stderr, "usage: bench_irpd_lookups --connect HOST:PORT --ca CA --cert C --key K "
                        "--user USER [--every MS] [--ms MS]\n");
        return 2;
    }
    cap = (size_t)(dur / every) + 2;
    if ((lat = calloc(cap, sizeof(*lat))) == NULL) return 1;
    ssl = tc_connect("bench_irpd_lookups", connect_to, ca, cert, key, 1, 30, &rc_setup);
    if (ssl == NULL) {
        free(lat);
        return rc_setup;
    }
    irp_framer_init(&fr);
    xp = sc_xml_parser_new();
    t0 = due = now_ms();
    while (due - t0 < dur && n < cap) {
        char doc[512];
        sc_buf out;
        double t = now_ms();
        int dl, st;

        if (t < due) {
            double w = due - t;
            struct timespec ts = {(time_t)(w / 1e3),
                                  (long)((w - (double)(time_t)(w / 1e3) * 1e3) * 1e6)};
            nanosleep(&ts, NULL);
            continue;
        }
        dl = snprintf(doc, sizeof(doc), "<req id=\"k%zu\" op=\"lookup\" user=\"%s\"/>", n, user);
        sc_buf_init_public(&out, 0);
        if (irp_frame_put(&out, (const uint8_t *)doc, (size_t)dl) != 0 || !sc_buf_ok(&out) ||
            SSL_write(ssl, out.data, (int)out.len) != (int)out.len) {
            sc_buf_dispose(&out);
            fprintf(stderr, "bench_irpd_lookups: write failed\n");
            goto out;
        }
        sc_buf_dispose(&out);
        if ((st = read_resp(ssl, &fr, xp)) != 200) {
            fprintf(stderr, "bench_irpd_lookups: lookup answered %d\n", st);
            goto out;
        }
        lat[n++] = now_ms() - due;
        due += every;
    }
    qsort(lat, n, sizeof(*lat), cmp_d);
    if (n > 0)
        printf("lookups %zu p50 %.2f p90 %.2f p99 %.2f max %.2f\n", n, lat[n / 2], lat[n * 9 / 10],
               lat[n * 99 / 100], lat[n - 1]);
    rc = n > 0 ? 0 : 1;
    SSL_shutdown(ssl);
out:
    tc_close(ssl);
    irp_framer_free(&fr);
    sc_xml_parser_free(xp);
    free(lat);
    return rc;
}
