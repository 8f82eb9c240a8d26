/*
 * fuzz_common.h - everything the session-level fuzz targets share, one idea
 * per file in fuzz/support/ (the library sc_fuzzsupport):
 *
 *   fz_check.h   FZ_CHECK (a failed oracle aborts: a finding), the fixed clock;
 *   fz_input.h   reading fields off the fuzz input;
 *   fz_rand.h    deterministic randomness: the sc_config source and OpenSSL's RNG;
 *   fz_pki.h     certificates made in code, the same bytes in every process;
 *   fz_oracle.h  the checks on events, handshake messages and errors;
 *   fz_world.h   the PKI, configurations in FZ_VARIANTS flavours, fresh sessions;
 *   fz_replay.h  the recorded handshakes and the sessions brought to a state by them;
 *   fz_seeds.h   the generator mode that writes the seed corpora (FZ_WRITE_SEEDS).
 */
#ifndef SC_FUZZ_COMMON_H
#define SC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sixchat/sixchat.h"
#include "sc_base64.h"
#include "sc_compact.h"
#include "sc_record.h"
#include "sc_session_int.h"
#include "sc_stanza_codec.h"
#include "sc_xml.h"

#include "fz_check.h"
#include "fz_input.h"
#include "fz_oracle.h"
#include "fz_pki.h"
#include "fz_rand.h"
#include "fz_replay.h"
#include "fz_seeds.h"
#include "fz_world.h"

#endif
