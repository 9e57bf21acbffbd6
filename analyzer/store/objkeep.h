/*
 * objkeep.h - which object bytes a case keeps (`analyze --keep-objects`, issue 16 item 2).
 *
 * The capture stage stores every object (objstore.h) so the content stage and the verdict
 * read them all. After the verdict this stage rewrites the packs: the objects the policy
 * keeps go, each compressed with zlib when that makes it smaller, to one kept pack
 * (objects/packs/<name>.zpk), and object_blob gives their new place and stored size; large
 * objects kept stay files (object_blob pack ''). Then object_blob names exactly the objects
 * whose bytes the case keeps: the others lose their object_blob row and their bytes leave
 * the case (the raw packs are removed, and so are the files of large objects not kept);
 * readers see them as pack PT_OBJ_NOT_KEPT (q_case.h). An object's rows (hash, size, type,
 * flow, stream offset, frame) always stay, and objects stored as links to the inputs are
 * always kept (they hold no bytes). What is not kept is a limitation of the case
 * (objects_not_kept), and `export-object` says where the bytes are.
 *
 *   all       every object;
 *   evidence  (the default) objects that left the home network (direction upload or
 *             external), objects at rest (inputs and the files of disk images), objects of
 *             any input that is not a packet capture, the payloads decoded from DNS
 *             tunnels (both ways), encrypted archive members and the
 *             archives tried with passwords (and where the password was found), objects a
 *             YARA rule above severity info matched, objects a finding names (a
 *             finding's evidence; not an event's list of PHI staged inside before it,
 *             whose records the database holds);
 *             then the archives they came out of and everything unpacked from a kept one;
 *   none      none (but the links to the inputs).
 *
 * Shards keep everything: the merge runs this stage once, on the whole case.
 */
#ifndef PT_OBJKEEP_H
#define PT_OBJKEEP_H

#include <stdint.h>

#include "../core/status.h"
#include "db.h"

enum pt_keep_objects { PT_KEEP_EVIDENCE = 0, PT_KEEP_ALL, PT_KEEP_NONE };

struct pt_objkeep_result {
    uint64_t kept, kept_bytes, stored_bytes; /* objects kept, their bytes, the bytes they take
                                              * in the case (compressed; links take none) */
    uint64_t dropped, dropped_bytes;          /* objects whose bytes left the case */
};

/* The policy's name ("all", "evidence", "none"). */
const char *pt_keep_objects_name(enum pt_keep_objects k);
/* Parse a policy name; -1 when it is none of them. */
int pt_keep_objects_parse(const char *s);
/* Apply `policy` to the case at `case_dir` whose database is `db`: the rewrite described
 * above, the manifest's keep_objects, objects_kept and objects_not_kept entries, and the
 * objects_not_kept limitation when one was not kept. */
pt_status pt_objkeep_run(struct pt_db *db, const char *case_dir, enum pt_keep_objects policy,
                         struct pt_objkeep_result *res, char *err, size_t errlen);

#endif
