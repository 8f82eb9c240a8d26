/*
 * irpd_readq.h - the queue of lookup records a store writes in bulk
 * (irpd_store.h, "Lookups"; docs/IRP.md 10.4), shared by the backends: each
 * record's strings live in one growable arena, so queueing a lookup costs
 * no allocation once the queue has grown. For backends only.
 */
#ifndef IRPD_READQ_H
#define IRPD_READQ_H

#include <stddef.h>
#include <stdint.h>

#include "sixchat/error.h"
#include "irpd_store.h"

typedef struct irpd_readq_rec {
    int64_t ts;
    uint32_t viewer; /* offset in the arena, UINT32_MAX for none */
    uint32_t target;
    uint8_t op; /* 0 lookup, 1 watch, 2 user-info */
    uint8_t allowed;
} irpd_readq_rec;

/* Zero-initialised is empty. */
typedef struct irpd_readq {
    irpd_readq_rec *rows;
    size_t n, cap;
    char *arena;
    size_t arena_used, arena_cap;
} irpd_readq;

/* Room for one more record with strings of these lengths: 0, or -1 (out of memory). */
SC_MUST_CHECK int irpd_readq_reserve(irpd_readq *q, size_t viewer_len, size_t target_len);

/* Queues a record (irpd_readq_reserve made room). op: 0 lookup, 1 watch, 2 user-info. */
void irpd_readq_push(irpd_readq *q, int64_t ts, const char *viewer, const char *target, int op,
                     int allowed);

/* Record i as an audit row (id 0; pointers valid until the queue changes). */
void irpd_readq_row(const irpd_readq *q, size_t i, irpd_audit_row *r);

/* Forgets the records, keeps the memory. */
void irpd_readq_clear(irpd_readq *q);

void irpd_readq_free(irpd_readq *q);

#endif
