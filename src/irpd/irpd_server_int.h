/*
 * irpd_server_int.h - what the server files share (irpd_server.c: a
 * connection's reads, the handshake, read batches and dispatch, deferred and
 * parked requests; irpd_server_pend.c: answers in request order, the queue
 * of answers waiting for the writer thread; irpd_server_out.c: output,
 * closing, timeouts and what a durable change means for other connections;
 * irpd_server_tls.c: the TLS context, client certificate verification,
 * listening and accepting; irpd_server_run.c: timers, signals, shutdown and
 * irpd_server_run; irpd_server_defer.c: the worker queue of deferred
 * requests, which hands finished ones back through irpd_server.deferred_done;
 * irpd_server_reads.c: the lookup records handed to the writer). The calls
 * go one way: run -> tls -> server -> pend -> out -> defer, run and server
 * -> reads, run -> out. Callbacks up go through irpd_server's function
 * pointers (deferred_done, read_again). Not for the handlers.
 */
#ifndef IRPD_SERVER_INT_H
#define IRPD_SERVER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <openssl/ssl.h>

#include "sixchat/error.h"
#include "irp_frame.h"
#include "irp_tlspump.h"
#include "irpd_handlers.h"
#include "irpd_policy.h"
#include "irpd_server.h"
#include "irpd_writer.h"

#define READ_CHUNK 16384

/*
 * docs/IRP.md 9.3: output a connection may have waiting before the server
 * stops reading its requests. Checked between decrypted chunks, so a client
 * that pipelines without reading makes the server hold at most this plus
 * the answers to one chunk of requests, then nothing more until it reads.
 */
#define OUT_CAP (256 * 1024)

/*
 * The expensive part of deferred requests (password checks, docs/IRP.md
 * 6.4; RSA key checks, 6.5) runs in libuv's thread pool, at most
 * DEFER_WORKERS at once server-wide; further ones wait in a FIFO of at most
 * DEFER_QUEUE_MAX, beyond which a request is answered 503 at once.
 */
#define DEFER_WORKERS 4
#define DEFER_QUEUE_MAX 64

typedef struct irpd_server irpd_server;
struct conn;

/* A deferred request whose work waits for, or runs in, the thread pool. */
typedef struct defer_job {
    uv_work_t req;
    irpd_server *srv;
    struct conn *c; /* NULL once the connection closed: then only freed */
    irpd_deferred *d;
    int running;            /* handed to the thread pool (else in the FIFO) */
    struct defer_job *next; /* the FIFO */
} defer_job;

/*
 * An answer in a connection's order that cannot be sent yet (docs/IRP.md
 * 10.2, 5.3): a write on the writer thread (wop set, until its batch is
 * over), or any answer behind one (ready). Sent from the head as soon as
 * it is ready.
 */
typedef struct pend {
    irpd_writer_job job; /* the writer's view of the write */
    irpd_server *srv;
    struct conn *c; /* NULL once the connection closed: then only finished and freed */
    irpd_wop *wop;  /* NULL: ready in out */
    sc_buf out;     /* the framed answer */
    int has_res;    /* a write's: what it means for others, once its answer is sent */
    irpd_hresult res;
    struct pend *next;
} pend;

/* At most this many answers of one connection wait for writes (then it is not read). */
#define PEND_MAX 64

typedef struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    irpd_server *srv;
    irp_tlspump *tls; /* TLS over memory (NULL until accepted) */
    irp_framer fr;
    irpd_session sess;
    char peer[IRP_ADDR_STRLEN + 8];
    int hs_done;
    int closing;         /* uv_close called */
    int close_when_sent; /* close once queued writes are done */
    int handles_open;    /* tcp and timer: free when both closed */
    size_t writes;       /* uv_write requests in flight */
    int stop_rd;         /* handle no more requests (own certificate revoked) */
    sc_buf held;         /* framed answers of this read, sent at its end */
    /*
     * Answers waiting for writes (pend), in request order. While there is
     * one, a request that is not a write waits in parked (a copy of the
     * document) until they are all sent: it must see them
     * (irpd_session.writes_pending).
     */
    pend *pq_head, *pq_tail;
    size_t n_pq;
    uint8_t *parked;
    size_t parked_len;
    int wait_pq;  /* reading stopped until the answers above are sent */
    int pump_due; /* on srv->pump: answers became ready in this round of the writer's */
    struct conn *pump_next;
    /* timeouts (docs/IRP.md 3.6), uv_now milliseconds; 0 = not running */
    uint64_t last_rd, frame_t0, out_t0;
    int paused; /* reading stopped until the client takes its output (OUT_CAP) */
    /*
     * A deferred request waiting for its work: the connection handles
     * nothing more (reading stopped) until it is answered. The rest of the
     * decrypted chunk it came in waits in rest[rest_off..rest_len).
     */
    defer_job *login;
    uint8_t *rest;
    size_t rest_off, rest_len;
    struct conn *prev, *next;
} conn;

typedef struct listener {
    uv_tcp_t tcp;
    irpd_server *srv;
} listener;

struct irpd_server {
    uv_loop_t loop;
    const irpd_config *cfg;
    irpd_ca *ca;
    irpd_store *st;  /* the loop's connection: reads (and lookup records) */
    irpd_store *wst; /* the writer thread's connection: every change */
    irpd_writer *wr; /* NULL before start and after stop (then changes run on st) */
    int sweeping;    /* a sweep job is on the writer */
    conn *pump;      /* connections with answers made ready by the writer's last round */
    SSL_CTX *ctx;
    irpd_hctx h;
    listener lis[IRPD_CONFIG_MAX_LISTEN];
    size_t n_lis;
    uv_signal_t sigterm, sigint;
    uv_timer_t tick;
    unsigned ticks;
    size_t recheck_next; /* where the next tick's identity checks begin (11.4) */
    conn *conns;
    size_t n_conns;
    int stopping;
    irpd_policy pol;              /* docs/IRP.md 9: every rate rule */
    defer_job *lq_head, *lq_tail; /* deferred requests waiting for a worker */
    /* hands a finished (go_on) or cancelled job back to its connection (irpd_server.c) */
    void (*deferred_done)(struct conn *c, irpd_deferred *d, int go_on);
    /* irpd_server_out.c: the client took enough of its output: read again (irpd_server.c) */
    void (*read_again)(struct conn *c);
    size_t n_lq, n_running;    /* in the FIFO; in the thread pool */
    uint8_t rd[READ_CHUNK];    /* libuv reads land here; consumed at once */
    uint8_t plain[READ_CHUNK]; /* decrypted bytes */
    /* request log lines (one per request) not yet on stderr: written with one write before
     * any answer goes to a socket, every tick and at the end (irpd__srv_log_flush) */
    sc_buf log;
};
/* ---- irpd_server_out.c: output and closing ---------------------------------------- */

/* Seconds since the epoch (the clock the handlers and the store use). */
int64_t irpd__srv_now_s(void);

/* Unlinks the connection and closes its handles at once; freed when both closed. */
void irpd__srv_conn_close(conn *c);

/* Closes the connection once its queued writes are done. */
void irpd__srv_conn_close_soon(conn *c);

/* Hands what TLS produced to libuv (the request log first: a line precedes its answer). */
void irpd__srv_conn_flush(conn *c);

/* Writes the request log lines gathered so far to stderr. */
void irpd__srv_log_flush(irpd_server *s);

/* Encrypts p[0..len) for the connection (the pump never refuses output). 0 or -1. */
int irpd__srv_conn_send(conn *c, const uint8_t *p, size_t len);

/* Bytes handed to libuv that the client has not taken yet. */
size_t irpd__srv_conn_queued(conn *c);

/* 10.6: ends the connection's watches (reason shutdown), says goodbye, closes soon. */
void irpd__srv_conn_stop(conn *c);

/* libuv callback of a connection's timer: a timeout closes it. */
void irpd__srv_on_timeout(uv_timer_t *t);

/* docs/IRP.md 3.6: arms the timer for the earliest of the idle, frame and write deadlines. */
void irpd__srv_arm_idle(conn *c);

/* Sends an event about user to every connection watching it. */
void irpd__srv_notify_watchers(irpd_server *s, const char *user, irp_change why, int64_t now);

/*
 * docs/IRP.md 11.4: the connection's identity no longer holds: its watches
 * end (watch-end, reason revoke), close_notify, closed once sent.
 */
void irpd__srv_conn_end_identity(conn *c, int64_t now);

/* Ends every watch of the connection with a watch-end event of why. */
void irpd__srv_end_watches(conn *c, irp_change why, int64_t now);

/*
 * What a durable change means for others: events to watchers, revoked
 * connections end, watches a tightened policy no longer allows end. c (the
 * answering connection) may be NULL.
 */
void irpd__srv_after_write(irpd_server *s, conn *c, const irpd_hresult *res);

/* ---- irpd_server_pend.c: answers in request order ------------------------------ */

/* Sends the answers of this read (docs/IRP.md 5.3: in order). -1 when sending failed. */
SC_MUST_CHECK int irpd__srv_send_held(conn *c);

/*
 * The answer framed at held[off..] is complete (res): it waits behind the
 * connection's waiting ones if there are, is logged, and a change made on
 * the loop is told to others after it was sent. 0 or -1 (close).
 */
SC_MUST_CHECK int irpd__srv_answered(conn *c, size_t off, const irpd_hresult *res);

/*
 * Hands a write to the writer thread, its answer queued in order (10.2); with
 * no writer it is answered 503 at once. 0 or -1 (close).
 */
SC_MUST_CHECK int irpd__srv_queue_write(conn *c, irpd_wop *wop);

/*
 * A write that will not be applied, on a connection about to close: settles
 * its counters and frees it. Returns -1 (or what finishing it returned).
 */
SC_MUST_CHECK int irpd__srv_wop_abandon(irpd_server *s, irpd_wop *wop);

/* Frees a sent or dropped answer. */
void irpd__srv_pend_free(pend *p);

/* ---- irpd_server.c: a connection's reads ---------------------------------------- */

/* libuv callbacks of a connection: its read buffer, its reads. */
void irpd__srv_on_alloc(uv_handle_t *hd, size_t want, uv_buf_t *buf);
void irpd__srv_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

/* The read_again of irpd_server: reads and handles requests again unless blocked. */
void irpd__srv_read_again(conn *c);

/* ---- irpd_server_tls.c --------------------------------------------------------- */

/* The TLS 1.3 server context (docs/IRP.md 3.1, 3.3); NULL on failure. */
SSL_CTX *irpd__srv_make_ctx(irpd_server *s);

/* Listens on spec ("host:port", "[v6]:port") and prints "irpd ready on ..". 0 or -1. */
SC_MUST_CHECK int irpd__srv_listen_on(irpd_server *s, const char *spec);

/* ---- irpd_server.c: used by irpd_server_run.c ----------------------------------- */

/* The deferred_done of irpd_server: answers a deferred request, goes on with its connection. */
void irpd__srv_deferred_done(conn *c, irpd_deferred *d, int go_on);

/* After a round of the writer's done()s: sends the answers they made ready
 * (irpd_writer_on_drained). */
void irpd__srv_writer_drained(void *arg);

/* ---- irpd_server_reads.c: used by irpd_server.c and irpd_server_run.c ------------ */

/*
 * Hands the lookup records queued on the loop's store to the writer thread
 * (10.4), or writes them on the loop's store when there is no writer.
 */
void irpd__srv_reads_flush(irpd_server *s);

/* ---- irpd_server_defer.c: the worker queue ------------------------------------------- */

/*
 * Queues d's work for connection c (c->login set: the connection handles
 * nothing more until it is answered). 0, or -1 when the queue is full (the
 * caller answers 503 and frees d).
 */
SC_MUST_CHECK int irpd__srv_defer(irpd_server *s, conn *c, irpd_deferred *d);

/* The connection of j closes: drops a waiting job, detaches a running one. */
void irpd__srv_defer_forget(irpd_server *s, defer_job *j);

/* 10.6: answers the jobs still waiting for a worker 503 (running ones finish). */
void irpd__srv_defer_cancel_all(irpd_server *s);

#endif
