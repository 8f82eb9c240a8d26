/*
 * irpd_store_int.h - what the backends of irpd_store.h share (irpd_store.c):
 * the checks that refuse what the schema or the protocol cannot hold, so
 * every backend refuses the same things. Each is documented at its
 * definition.
 */
#ifndef IRPD_STORE_INT_H
#define IRPD_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "irpd_store.h"

int irpd__store_valid_user(const char *s);
int irpd__store_valid_id(const char *s, size_t max, int lower);
int irpd__store_valid_ascii(const char *s, size_t min, size_t max, int space);
int irpd__store_valid_utf8(const unsigned char *s, size_t n, int ws);
int irpd__store_valid_opt_text(const char *s);
int irpd__store_canon_serial(const char *s, char *out);
int irpd__store_same_user(const char *a, const char *b);
int64_t irpd__store_seq_to_db(uint64_t x);
uint64_t irpd__store_seq_from_db(int64_t v);
int irpd__store_valid_reason(const char *reason);
int irpd__store_valid_binding(const irpd_binding *b, int64_t now);
int irpd__store_lookup_args_ok(const char *viewer, const char *target, unsigned flags);

#endif
