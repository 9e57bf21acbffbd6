/*
 * timeline.c - the timeline of the case in plaso-compatible fields: the evidence items'
 * first and last times, the findings, the objects that left or held PHI, the events, and
 * from disk images the MACB times of files with PHI and of deleted files, browser downloads
 * and recycle-bin deletions (TIMELINE of store/q_verdict.def).
 */
#include "../store/q_verdict.h"
#include "verdict_int.h"

pt_status pt_verdict_timeline(struct pt_verdict_ctx *x, char *err, size_t errlen)
{
    return pt_qv_exec(x->db, PT_QV_TIMELINE, err, errlen);
}
