/*
 * timeline.c - the timeline of the case in plaso-compatible fields.
 */
#include "../store/db.h"
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
    "ORDER BY 1, 7";

pt_status pt_verdict_timeline(struct pt_verdict_ctx *x, char *err, size_t errlen)
{
    return pt_db_exec(x->h, timeline_sql, err, errlen);
}
