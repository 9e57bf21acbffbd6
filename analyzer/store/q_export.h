/*
 * q_export.h - the tables `phitrace export` writes (report/export.c), one descriptor per
 * export (masscan's output descriptors) kept here in store/: its columns and tables, and what
 * the timeline formats say of a row (time, message, plaso-style source and type). A plain
 * export is one query per kind in row-id order; a timeline query leads with the hidden
 * columns below and is ordered by time.
 *
 * Query columns, in order: hidden timeline columns (PT_QX_T_*; timeline formats only), the
 * exported columns (a name ending in "_json" is JSON text SQLite validated), then the
 * PT_QX_CID_NCOLS hidden Community ID inputs (kinds with a flow): protocol, client address
 * and port, server address and port, whether the ports are known, ICMP echo requests,
 * replies and messages.
 */
#ifndef PT_STORE_Q_EXPORT_H
#define PT_STORE_Q_EXPORT_H

#include <stdbool.h>

#include "../core/status.h"
#include "q_report.h"

enum pt_qx_kind { PT_QX_EVENTS, PT_QX_FINDINGS, PT_QX_OBJECTS, PT_QX_FLOWS, PT_QX_INDIVIDUALS,
                  PT_QX_TIMELINE, PT_QX_KINDS };

/* the hidden columns that lead a timeline query */
enum { PT_QX_T_TIME, PT_QX_T_MSG, PT_QX_T_DESC, PT_QX_T_DTYPE, PT_QX_T_SRC, PT_QX_T_SRCTYPE,
       PT_QX_T_HOST, PT_QX_T_FILE, PT_QX_T_NOTES, PT_QX_T_NCOLS };
#define PT_QX_CID_NCOLS 9

/* The kind's --what word and file stem; whether it has a time (is in a timeline); whether
 * its rows end with the Community ID inputs. */
const char *pt_qx_name(enum pt_qx_kind k);
bool pt_qx_timed(enum pt_qx_kind k);
bool pt_qx_flow(enum pt_qx_kind k);
/* The kind's rows: in row-id order, or (timeline) those with a time in time order. */
pt_status pt_qx_open(struct pt_db *db, enum pt_qx_kind k, bool timeline, struct pt_q **out);

#endif
