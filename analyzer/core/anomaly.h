/*
 * anomaly.h - the anomaly vocabulary, generated from anomalies.def.
 *
 * An emitter names an anomaly by its enum (PT_ANOM_HTTP_BAD_HEADER); the store writes the
 * kind string; the verdict reads severity and limitation from the same table, so no stage
 * matches kinds by their text.
 */
#ifndef PT_ANOMALY_H
#define PT_ANOMALY_H

/* The document formats of the doc.<format>.<what> kinds, in the order of enum pt_doc_kind
 * (analyze/doctext.h, from PT_DOC_DOCX; doctext.c checks it). */
#define PT_ANOM_DOC_FORMATS(X, what)                                                               \
    X("docx", what)                                                                                \
    X("xlsx", what)                                                                                \
    X("pptx", what)                                                                                \
    X("odt", what)                                                                                 \
    X("ods", what)                                                                                 \
    X("odp", what)                                                                                 \
    X("rtf", what)                                                                                 \
    X("pdf", what)
#define PT_ANOM_DOC_NFORMATS 8

enum pt_anom {
#define PT_ANOMALY(name, kind, sev, lim) PT_ANOM_##name,
#define PT_ANOMALY_COUNTED(name, kind, sev, row, sentence) PT_ANOM_##name,
/* PT_ANOM_DOC_<WHAT> is the docx one; the others follow in PT_ANOM_DOC_FORMATS order. */
#define PT_ANOMALY_DOC(name, what, sev)                                                            \
    PT_ANOM_##name, PT_ANOM_##name##_LAST_ = PT_ANOM_##name + PT_ANOM_DOC_NFORMATS - 1,
#include "anomalies.def"
#undef PT_ANOMALY
#undef PT_ANOMALY_COUNTED
#undef PT_ANOMALY_DOC
    PT_ANOM_COUNT
};

enum pt_anom_severity {
    PT_SEV_NOTE,      /* worth knowing; nothing was lost */
    PT_SEV_MALFORMED, /* the input contradicts its specification; decoding went on */
    PT_SEV_LIMIT,     /* a cap in limits.h cut the work short */
    PT_SEV_UNREAD,    /* bytes of the evidence could not be read, decoded or stored */
};

enum pt_anom_limitation {
    PT_LIM_NONE,    /* not a limitation of the case by itself */
    PT_LIM_CAP,     /* "cap_<kind>": how often, and the first detail */
    PT_LIM_EVICT,   /* PT_LIM_CAP, and the memory-cap eviction limitation */
    PT_LIM_EACH,    /* each anomaly is a limitation; its detail starts with the number */
    PT_LIM_COUNTED, /* one limitation `row`: the count, then `sentence` */
};

struct pt_anom_info {
    const char *kind; /* as written to anomaly.kind */
    enum pt_anom_severity severity;
    enum pt_anom_limitation limitation;
    const char *row;      /* PT_LIM_COUNTED: the limitation's kind, else NULL */
    const char *sentence; /* PT_LIM_COUNTED: what follows the count, else NULL */
};

/* The description of a (NULL when a is out of range). */
const struct pt_anom_info *pt_anom_info(enum pt_anom a);
/* The kind string of a ("" when out of range). */
const char *pt_anom_kind(enum pt_anom a);
/* Text for a severity or a limitation ("note", "cap", ...). */
const char *pt_anom_severity_name(enum pt_anom_severity s);
const char *pt_anom_limitation_name(enum pt_anom_limitation l);

#endif
