/*
 * q_winlog.h - the Windows event log rows (log_winevent) the logon and object-access
 * heuristics weigh (verdict/heur_logon_*.c, heur_file_access.c), and the host each record is
 * of. The SQL is q_winlog.c, in the open.
 *
 * A record names its computer, not its address; the address that lets a finding join the
 * host's flows is temp.winhost(computer, addr, how), built by pt_q_winlog_hosts from, per
 * evidence item whose records name one computer:
 *   'option'  the examiner's link (`analyze --image-host Security.evtx=ADDR`, image_host);
 *   'wfp'     else the home-net address in most of the item's own filtering-platform
 *             connections (5156/5157, log_conn source evtx; a tie: the one that opened more;
 *             never a loopback, link-local or unspecified one).
 * A computer with neither keeps its name as the findings' source.
 */
#ifndef PT_STORE_Q_WINLOG_H
#define PT_STORE_Q_WINLOG_H

#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

struct pt_db;

/* Build temp.winhost (again when called again); `home` is the run's home network as the
 * manifest keeps it (--home-net). */
pt_status pt_q_winlog_hosts(struct pt_db *db, const char *home);

enum pt_q_winlog {
    /* 4624 of types 3 and 10 that name a client address: id, record, ts, computer, host,
     * account, logon type, client, client port, workstation, auth package, logon id,
     * the file, the distinct accounts of its (computer, client, type); ordered by computer,
     * client, type, time */
    PT_QW_REMOTE_LOGONS,
    /* Failures: 4625, and 4771/4768 whose Status is 0x18, 0x12 or 0x6; successes: 4624, and
     * 4768 with 0x0; accounts compared without domain or realm, lower case; computer
     * accounts (name$) left out.
     * ?1 failures, ?2 seconds, ?3 accounts, ?4 seconds: the first success of each (computer,
     * source, account) that has at least ?1 failures from the same source on the same
     * computer in the ?2 seconds before it, one of them for its account, and that is not a
     * spray's (PT_QW_SPRAYED_LOGONS with ?3, ?4): id, record, ts, computer, host, account,
     * logon type, source, failures, accounts tried, first failure ts, failed records (JSON:
     * the first 50), failed row ids (JSON), the file, the success's event id, auth package,
     * workstation */
    PT_QW_GUESSED_LOGONS,
    /* ?1 accounts, ?2 seconds: the first success of each (source, account) on any computer
     * that at least ?1 distinct accounts, its own among them, failed from the same source
     * (on any computer) in the ?2 seconds before: id, record, ts, computer, host, account,
     * logon type, source, failures, accounts tried, first failure ts, failed records (JSON:
     * the first 50), failed row ids (JSON), the file, the success's event id, Kerberos
     * failures (4771, 4768), the accounts tried (JSON: the first 20 by name), the computers
     * that logged the failures */
    PT_QW_SPRAYED_LOGONS,
    /* 4648 toward another host (not localhost, not the computer itself): id, record, ts,
     * computer, host, subject, account used, target server, target address, process, the
     * file, logon id; ordered by computer, subject, account, server, time */
    PT_QW_EXPLICIT_LOGONS,
    /* 4663 that read or wrote data (AccessMask 0x1, 0x2 or 0x4): id, record, ts, computer,
     * host, subject, process, object, access mask, item, the file, and the PHI-bearing file
     * of a disk image it is (by path tail, else by name, else NULL): how ('path' | 'name'),
     * image, path on the image, size, individuals, PHI types; ordered by computer, subject,
     * object, time */
    PT_QW_FILE_ACCESS,
    /* Service tickets granted (4769, Status 0x0) in a weak encryption type (TicketEncryption
     * Type 0x1 or 0x3 DES, 0x17 or 0x18 RC4) for a service that is no krbtgt and no computer
     * account (name$), to an account that is none; accounts compared without domain or realm,
     * services lower case, source the client address.
     * ?1 services, ?2 seconds: the first request of each (account, source) with at least ?1
     * distinct services requested by them in the ?2 seconds up to it, and the window of ?2
     * seconds from the first of those (f0): id, record, ts of that request, computer, host,
     * account, the window's last request's ts, source, requests in the window, distinct
     * services, f0, records (JSON: the first 50), row ids (JSON), the file, -, encryption
     * types (comma-separated), the services (JSON: the first 20 by name), computers that
     * logged them, weak requests of the (account, source) in all */
    PT_QW_KERBEROAST,
    PT_QW_COUNT
};

/* One row: column i as text ("" for NULL) and as an integer (-1 for NULL). */
#define PT_QW_COLS 20
struct pt_q_winrow {
    const char *s[PT_QW_COLS];
    int64_t v[PT_QW_COLS];
};

/* Every row of query q (parameters p[0..np) bound as ?1..); fn sees each in order. */
pt_status pt_q_winlog_rows(struct pt_db *db, enum pt_q_winlog q, const double *p, size_t np,
                           void (*fn)(void *arg, const struct pt_q_winrow *r), void *arg);

/* A phi_access row for a 4663 (source 'evtx'): the client the host (address, else its
 * name), the server "", host the computer, method read|write|read,write, status NULL,
 * resp_bytes the matched file's size (0 when matched by a name rule), PHI types, hits (1 for
 * a file found with PHI, 0 for a name rule) and individuals (0 when not known). */
struct pt_q_winaccess {
    int64_t item_id, line, ts;
    const char *client, *computer, *method, *phi_types;
    int64_t bytes, hits, individuals;
};
pt_status pt_q_winlog_phi_access(struct pt_db *db, const struct pt_q_winaccess *a);

#endif
