/*
 * evtx.h - Windows XML event logs (.evtx) read through libevtx in a child process
 * (../evtx_reader.c: the program `phitrace-evtx FILE`, with memory, CPU and time limits like
 * the disk image reader), whose lines the log parser turns into rows (PT_LOGFMT_EVTX):
 *
 *   logons 4624, 4625 (failed), 4648 (explicit credentials), object access 4663, process
 *   creation 4688, PowerShell script blocks 4104, Kerberos on a domain controller: 4768
 *   (TGT requested), 4769 (service ticket), 4771 (pre-authentication failed), with their
 *   ServiceName, Status and (4768, 4769) TicketEncryptionType
 *                                                     -> log_winevent
 *   Windows Filtering Platform 5156 (allowed) and 5157 (blocked) connections
 *                                                     -> log_conn, source "evtx"
 *   any other event identifier                        -> counted (*other*, and one
 *                                                        log.evtx_other_events note)
 *
 * The provenance of a row is the EVTX record identifier (`line`) and the record's byte
 * offset in the file (`offset`). The reader's protocol, one line per record, tab-separated
 * (the XML is libevtx's rendering of the record with its line ends as character
 * references):
 *
 *   H  version  records  recovered  corrupted(0/1)       the file's header (a header line)
 *   D  declared  chunks     the records the chunk headers declare (first to last identifier)
 *   R  index  offset  record-id  filetime  event-id  xml  a record
 *   X  index  offset  record-id  filetime  event-id  xml  a record recovered from free space
 *   F  index  recovered(0/1)  message                    a record libevtx could not read
 *   C  message                                           the file could not be opened
 *   Z  read  failed                                      the end
 *
 * The lines are untrusted like any log's (a compromised reader writes what it likes): each
 * is checked, and one that is not as above is a malformed line.
 */
#ifndef PT_EVTX_H
#define PT_EVTX_H

#include <stddef.h>
#include <stdint.h>

#include "logparse.h"

#define PT_EVTX_MEM_LIMIT (1024ull << 20)
#define PT_EVTX_CPU_SECONDS 600
#define PT_EVTX_WALL_SECONDS 1800
#define PT_EVTX_IDLE_SECONDS 120

enum pt_evtx_status {
    PT_EVTX_OK,        /* the reader ran to its end line and exited 0 */
    PT_EVTX_FAILED,    /* it could not be started, or died (a crash, its CPU limit) */
    PT_EVTX_KILLED,    /* stopped by the wall-clock limit or the watchdog */
    PT_EVTX_MISSING,   /* no reader program */
};

/* One line of the reader (no newline) into rows. */
void pt_evtx_line(struct pt_logparse *p, char *s, size_t n);
/* After the reader's last line: the note counting the other event identifiers. */
void pt_evtx_end(struct pt_logparse *p);

/* Run `phitrace-evtx path` ($PHITRACE_EVTX_READER, else phitrace-evtx beside this
 * executable) and hand its output to feed() as it comes. `why` gets a sentence when the
 * status is not OK. */
enum pt_evtx_status pt_evtx_read(const char *path,
                                 void (*feed)(void *arg, const uint8_t *b, size_t n), void *arg,
                                 char *why, size_t whylen);

#endif
