/*
 * q_names.h - the destinations the verdict named, and more names for them (destination_name
 * rows), for the stages that annotate destinations after the verdict (verdict/geoip.c).
 */
#ifndef PT_STORE_Q_NAMES_H
#define PT_STORE_Q_NAMES_H

#include "../core/status.h"

struct pt_db;

/* Call fn for every destination with a verdict or an encrypted channel, in order; stops at
 * the first status fn returns that is not PT_OK and returns it. */
pt_status pt_q_destinations(struct pt_db *db, pt_status (*fn)(void *arg, const char *dest),
                            void *arg);

/* A prepared destination_name insert (INSERT OR IGNORE: one row per destination, kind and
 * name; seen 1, no time). */
struct pt_q_dname;
pt_status pt_q_dname_open(struct pt_db *db, struct pt_q_dname **out);
pt_status pt_q_dname_put(struct pt_q_dname *w, const char *dest, const char *kind,
                         const char *name);
void pt_q_dname_close(struct pt_q_dname *w);

#endif
