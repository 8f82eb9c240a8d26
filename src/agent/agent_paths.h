/*
 * agent_paths.h - where the agent keeps its files (docs/AGENT-API.md 1).
 *
 * One home directory, when given (--home DIR, or SIXCHAT_HOME), holds
 * everything: the store, the identity files, downloads and the API socket.
 * Otherwise the XDG base directories decide: data in
 * $XDG_DATA_HOME/sixchat (~/.local/share/sixchat), the socket in
 * $XDG_RUNTIME_DIR/sixchat (the data directory when there is no runtime
 * directory, never a shared /tmp).
 */
#ifndef AGENT_PATHS_H
#define AGENT_PATHS_H

#include <stddef.h>
#include "sixchat/error.h"

#define AGENT_PATH_MAX 4096
/* sun_path of a struct sockaddr_un holds 108 bytes with its NUL. */
#define AGENT_SOCK_PATH_MAX 107

typedef struct agent_paths {
    char data[AGENT_PATH_MAX];      /* store, identity, downloads */
    char runtime[AGENT_PATH_MAX];   /* the API socket */
    char store[AGENT_PATH_MAX];     /* data/sixchat.db */
    char key[AGENT_PATH_MAX];       /* data/key.pem (0600) */
    char csr[AGENT_PATH_MAX];       /* data/csr.pem */
    char cert[AGENT_PATH_MAX];      /* data/cert.pem */
    char ca[AGENT_PATH_MAX];        /* data/ca.pem: the registry's CA */
    char downloads[AGENT_PATH_MAX]; /* data/downloads */
    char sock[AGENT_SOCK_PATH_MAX + 1];
} agent_paths;

/*
 * Fills p. home: the --home option or NULL (then SIXCHAT_HOME, then XDG).
 * Creates nothing. Errors: SC_ERR_ARG (no HOME to start from, a path too
 * long, the socket path over 107 bytes).
 */
SC_MUST_CHECK int agent_paths_init(agent_paths *p, const char *home);

/*
 * Creates the data, runtime and downloads directories (mode 0700) where
 * they are missing. Errors: SC_ERR_IO (errno tells why).
 */
SC_MUST_CHECK int agent_paths_create(const agent_paths *p);

#endif
