/*
 * timeline.c - the timeline of the case in plaso-compatible fields.
 */
#include "../store/db.h"
#include "../store/q_disk.h"
#include "verdict_int.h"

static const char timeline_sql[] =
    "INSERT INTO timeline_event(ts, timestamp_desc, source, source_long, data_type, message, "
    "evidence) "
    "SELECT first_ts, 'First Seen', 'EVIDENCE', 'phitrace evidence item', 'phitrace:input', "
    "'capture ' || path || ' begins', 'evidence_item:' || id FROM evidence_item WHERE "
    "first_ts IS NOT NULL "
    "UNION ALL SELECT last_ts, 'Last Seen', 'EVIDENCE', 'phitrace evidence item', "
    "'phitrace:input', 'capture ' || path || ' ends', 'evidence_item:' || id FROM evidence_item "
    "WHERE last_ts IS NOT NULL "
    "UNION ALL SELECT first_ts, 'Start Time', 'FINDING', 'phitrace heuristic ' || heuristic, "
    "'phitrace:finding:' || heuristic, summary, 'finding:' || id FROM finding "
    "UNION ALL SELECT o.ts, 'Transfer Time', 'FILE', 'phitrace object (' || o.protocol || ')', "
    "'phitrace:object', o.direction || ' ' || coalesce(o.name, '') || ' (' || o.size || ' bytes, ' "
    "|| coalesce(o.mime, '?') || ')' || CASE WHEN p.phi_hits > 0 THEN ' with PHI of ' || "
    "p.individuals || ' individual(s)' ELSE '' END, 'object:' || o.sha256 FROM object o LEFT JOIN "
    "phi_object p ON p.object_sha256 = o.sha256 WHERE o.ts IS NOT NULL AND o.depth = 0 AND "
    "(o.direction = 'upload' OR p.phi_hits > 0) "
    "UNION ALL SELECT first_ts, 'Start Time', 'EVENT', 'phitrace exfiltration event', "
    "'phitrace:event', verdict || ': ' || source || ' -> ' || destination || ' (' || bytes_out || "
    "' bytes out)', 'exfil_event:' || id FROM exfil_event "
    /* disk images (issue 15): the MACB times of files with PHI and of deleted files */
    "UNION ALL SELECT t.ts, t.descr, 'FILE', 'phitrace disk file', 'fs:stat', d.path || ' (' || "
    "d.state || ', ' || d.size || ' bytes' || CASE WHEN p.phi_hits > 0 THEN ', PHI of ' || "
    "p.individuals || ' individual(s)' ELSE '' END || ')', 'disk_file:' || d.rowid FROM "
    "disk_file d JOIN (SELECT rowid AS id, mtime AS ts, 'Content Modification Time' AS descr "
    "FROM disk_file UNION ALL SELECT rowid, atime, 'Last Access Time' FROM disk_file UNION ALL "
    "SELECT rowid, ctime, 'Metadata Modification Time' FROM disk_file UNION ALL SELECT rowid, "
    "crtime, 'Creation Time' FROM disk_file) t ON t.id = d.rowid LEFT JOIN phi_object p ON "
    "p.object_sha256 = d.sha256 WHERE t.ts IS NOT NULL AND d.kind = 'r' AND (p.phi_hits > 0 OR "
    "d.state IN ('deleted', 'orphan')) "
    PT_Q_DISK_TIMELINE_SQL /* browser downloads, recycle-bin deletions */
    "ORDER BY 1, 7";

pt_status pt_verdict_timeline(struct pt_verdict_ctx *x, char *err, size_t errlen)
{
    return pt_db_exec(x->h, timeline_sql, err, errlen);
}
