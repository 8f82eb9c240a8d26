/*
 * agent_msgs_cap.c - the bound on what strangers' messages may store
 * (agent_msgs_cap.h).
 */
#include <stdio.h>

#include "agent_msgs_cap.h"
#include "agent_settings.h"

int agent_msg_cap_check(agent *a, const char *peer, size_t len, char *why, size_t cap)
{
    agent_contact c;
    int found = 0;
    if (agent_store_contact_get(a->st, peer, &c, &found)) return SC_ERR_IO;
    if (found) return 0; /* a contact (a blocked one never gets a session) */
    uint64_t mine = 0, all = 0;
    if (agent_store_msg_unknown_usage(a->st, peer, &mine, &all)) return SC_ERR_IO;
    uint64_t per_kb = agent_setting_get(a->st, "unknown_sender_kb");
    uint64_t total_kb = agent_setting_get(a->st, "unknown_total_kb");
    /* Unread text only: what the user read, or whoever became a contact, no longer counts. */
    if (mine + len > per_kb * 1024) {
        snprintf(why, cap,
                 "not stored: at most %llu KiB of unread messages are kept from someone who is "
                 "not a contact",
                 (unsigned long long)per_kb);
        return 1;
    }
    if (all + len > total_kb * 1024) {
        snprintf(why, cap,
                 "not stored: at most %llu KiB of unread messages are kept from all who are not "
                 "contacts together",
                 (unsigned long long)total_kb);
        return 1;
    }
    return 0;
}
