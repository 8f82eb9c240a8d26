/*
 * irpd_server.h - the registry's network side: a libuv loop of TLS 1.3
 * connections carrying IRP frames (docs/IRP.md 3), dispatching requests to
 * irpd_handlers.
 *
 * TLS runs over memory (irp_tlspump): bytes libuv reads are fed to the
 * connection's pump, the ciphertext it has ready is taken and handed to
 * uv_write at the end of each read callback. Requests are handled
 * synchronously in the loop thread, so responses leave in request order
 * (docs/IRP.md 3.5) and a request is never half-done when a signal stops
 * the loop.
 *
 * Group commit (docs/IRP.md 10.2): the requests of one read callback form
 * one store batch; their responses are held and sent only after
 * irpd_store_batch_commit (500 for those after a change if it fails), then
 * watchers are told. Failed logins and failed tokens are counted per user
 * and per source address (irpd_ratelimit, 9.1): 429 beyond the limit.
 * Timeouts of 3.6: handshake, idle, frame (first byte to last), write.
 */
#ifndef IRPD_SERVER_H
#define IRPD_SERVER_H

#include "sixchat/error.h"
#include "irpd_config.h"

/*
 * Serves the registry in dir with cfg (listen addresses, allow_local ...)
 * until SIGTERM or SIGINT: loads the CA and server certificate, opens the
 * store, listens (printing "irpd ready on ADDR:PORT" to stdout for each
 * listener, with the real port), then on a signal stops accepting, answers
 * what was read, ends watches, closes the store. Returns the process exit
 * code (0 after a clean stop, 1 when it could not start). Logs to stderr.
 */
SC_MUST_CHECK int irpd_server_run(const char *dir, const irpd_config *cfg);

#endif
