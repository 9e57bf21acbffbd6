/*
 * q_links.h - the protocol rows' links to their objects (issue 16): hl7_message.object_id,
 * http_txn.req_object and resp_object are object(id). A decoder emits its row before the
 * writer has given the object an id, so the row carries where the object starts in its stream
 * (hl7_message.stream_off, http_txn.req_body_off and resp_body_off); when the packet stage
 * ends, those offsets are matched to the object of the same flow, direction and offset (on
 * the wire: depth 0, part 0) and its id is written. A merge shifts the ids with the objects
 * it copies (q_scale.c).
 */
#ifndef PT_STORE_Q_LINKS_H
#define PT_STORE_Q_LINKS_H

#include <stddef.h>

#include "../core/status.h"

struct pt_db;

/* Fill the object ids still NULL where an offset says which object; one transaction. */
pt_status pt_q_link_objects(struct pt_db *db, char *err, size_t errlen);

/* `verify`: for each object-id column, fn(table, column, rows) when rows of it name an id
 * that no object has. */
void pt_q_link_orphans(struct pt_db *db,
                       void (*fn)(void *arg, const char *table, const char *column, long long rows),
                       void *arg);

#endif
