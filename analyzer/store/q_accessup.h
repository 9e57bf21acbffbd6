/*
 * q_accessup.h - PHI read on a host, then sent out by it (issue 14 item 3). A host that an
 * audit or access log shows reading, querying or exporting patients' records (phi_access:
 * IHE ATNA audit messages, web and proxy requests naming patients) and that afterwards, within
 * a window, sent bytes unread (encrypted, undecoded, or seen only in a log) to an unusual
 * outside destination: the records it had just read may be what left, although their content
 * was never seen on the wire. verdict/heur_accessup.c writes the findings;
 * pt_q_accessup_likely raises their events to "likely".
 */
#ifndef PT_STORE_Q_ACCESSUP_H
#define PT_STORE_Q_ACCESSUP_H

#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

struct pt_db;

/* One (host, destination): the accesses the host made within the window before each of its
 * unread flows to the destination began, and those flows. */
struct pt_q_access_upload {
    const char *host, *destination;
    int64_t flows, bytes_out;       /* the unread flows that began within the window after an
                                     * access, and the bytes they sent out */
    int64_t first_ts, last_ts;      /* of those flows */
    const char *protocols;
    int64_t accesses;               /* phi_access rows within the window before them */
    int64_t first_access, last_access;
    int64_t patients;               /* distinct patients those rows name (keyed: ATNA's
                                     * log_audit_patient, the web logs' individuals) */
    const char *sources;            /* "IHE ATNA audit /x/audit.log lines 3-96: 5 record(s)
                                     * (Export)" per log, "; " between */
    const char *detail;             /* the finding's detail (JSON) */
};

/* The person each phi_access row names, for counting them distinct over rows and sources
 * (temp.acc_person: pid, person): ATNA rows by their patients' keyed hashes, web and proxy
 * rows by the individuals of their PHI hits (temp.acc_hit, which must still exist). */
pt_status pt_q_accessup_persons(struct pt_db *db, char *err, size_t errlen);

/* fn once per (host, destination) where an unread flow from the host to the destination
 * began at most `window_us` after a phi_access row of that host (and not before it), and
 * the destination is unusual: at most `rare_max` inside hosts talk to it, or a cloud,
 * beacon or tunnel finding names the pair. Drops temp.acc_person at its end. */
pt_status pt_q_accessup_uploads(struct pt_db *db, int64_t window_us, double rare_max,
                                void (*fn)(void *, const struct pt_q_access_upload *),
                                void *arg);

/* After the events: an event whose findings include a phi_access_upload finding gets
 * reasons.phi_accessed (per finding, its patients and the logs that show the access) and,
 * when no rule made it more than "possible", becomes "likely"; the verdicts per destination
 * and overall follow. */
pt_status pt_q_accessup_likely(struct pt_db *db, char *err, size_t errlen);

#endif
