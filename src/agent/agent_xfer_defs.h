/*
 * agent_xfer_defs.h - the transfer module's handle, sizes and settings,
 * apart from agent_xfer.h so that the module's lower files
 * (agent_xfer_recv.c, agent_xfer_file.c, agent_xfer_list.c) name them
 * without reaching up into agent_xfer.c's header.
 */
#ifndef AGENT_XFER_DEFS_H
#define AGENT_XFER_DEFS_H

typedef struct agent_xfer agent_xfer;

/* Bytes read from a file and handed to the peer layer at once. */
#define AGENT_XFER_CHUNK (64 * 1024)
/* Longest name kept for a received file (bytes, before " (N)" and ".part"). */
#define AGENT_XFER_NAME_KEEP 200
/* Offers waiting for the user from senders who are not contacts. */
#define AGENT_XFER_PENDING_UNKNOWN_MAX 16
/* Settings (docs/AGENT-API.md, settings) and their defaults, in MiB. */
#define AGENT_XFER_SET_AUTO "file_auto_mb" /* auto-accept from contacts up to this */
#define AGENT_XFER_SET_MAX "file_max_mb"   /* refuse larger offers; refuse to send larger */
#define AGENT_XFER_DEFAULT_AUTO_MB 100
#define AGENT_XFER_DEFAULT_MAX_MB 4096
/* Free space kept on the downloads file system beyond the file itself. */
#define AGENT_XFER_DISK_MARGIN (64 * 1024 * 1024)

#endif
