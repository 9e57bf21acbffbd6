/*
 * anomaly.c - the anomaly table, from anomalies.def.
 */
#include "anomaly.h"

#include <stddef.h>

static const struct pt_anom_info table[PT_ANOM_COUNT] = {
#define PT_ANOMALY(name, kind, sev, lim)                                                           \
    [PT_ANOM_##name] = {kind, PT_SEV_##sev, PT_LIM_##lim, NULL, NULL},
#define PT_ANOMALY_COUNTED(name, kind, sev, row, sentence)                                         \
    [PT_ANOM_##name] = {kind, PT_SEV_##sev, PT_LIM_COUNTED, row, sentence},
#define PT_ANOMALY_DOC(name, what, sev)                                                            \
    [PT_ANOM_##name] = PT_ANOM_DOC_FORMATS(DOC_ENTRY_##sev, what)
#define DOC_ENTRY_NOTE(fmt, what) {"doc." fmt "." what, PT_SEV_NOTE, PT_LIM_NONE, NULL, NULL},
#define DOC_ENTRY_MALFORMED(fmt, what)                                                             \
    {"doc." fmt "." what, PT_SEV_MALFORMED, PT_LIM_NONE, NULL, NULL},
#define DOC_ENTRY_LIMIT(fmt, what) {"doc." fmt "." what, PT_SEV_LIMIT, PT_LIM_NONE, NULL, NULL},
#define DOC_ENTRY_UNREAD(fmt, what) {"doc." fmt "." what, PT_SEV_UNREAD, PT_LIM_NONE, NULL, NULL},
#include "anomalies.def"
};

const struct pt_anom_info *pt_anom_info(enum pt_anom a)
{
    return (unsigned)a < PT_ANOM_COUNT ? &table[a] : NULL;
}

const char *pt_anom_kind(enum pt_anom a)
{
    return (unsigned)a < PT_ANOM_COUNT ? table[a].kind : "";
}

const char *pt_anom_severity_name(enum pt_anom_severity s)
{
    switch (s) {
        case PT_SEV_NOTE: return "note";
        case PT_SEV_MALFORMED: return "malformed";
        case PT_SEV_LIMIT: return "limit";
        case PT_SEV_UNREAD: return "unread";
    }
    return "";
}

const char *pt_anom_limitation_name(enum pt_anom_limitation l)
{
    switch (l) {
        case PT_LIM_NONE: return "none";
        case PT_LIM_CAP: return "cap";
        case PT_LIM_EVICT: return "evict";
        case PT_LIM_EACH: return "each";
        case PT_LIM_COUNTED: return "counted";
    }
    return "";
}
