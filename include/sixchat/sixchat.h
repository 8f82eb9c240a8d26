/*
 * sixchat/sixchat.h - libsixchat, the End2End Direct protocol library.
 * Include this one header. See docs/PROTOCOL.md for the wire protocol and
 * docs/ARCHITECTURE.md for how the pieces fit; examples/ shows embedding.
 */
#ifndef SIXCHAT_SIXCHAT_H
#define SIXCHAT_SIXCHAT_H

#include "sixchat/error.h"
#include "sixchat/alloc.h"
#include "sixchat/config.h"
#include "sixchat/stanza.h"
#include "sixchat/session.h"
#include "sixchat/platform.h"

#define SC_VERSION_STRING "0.1.0"
#define SC_PROTOCOL_VERSION 1
#define SC_DEFAULT_PORT 4605

#endif
