/* status.c - texts for pt_status. */
#include "status.h"

const char *pt_status_str(pt_status st)
{
    switch (st) {
        case PT_OK: return "ok";
        case PT_ETRUNC: return "truncated";
        case PT_EMALFORMED: return "malformed";
        case PT_ELIMIT: return "limit reached";
        case PT_EUNSUPPORTED: return "unsupported";
        case PT_ENOMEM: return "out of memory";
        case PT_EIO: return "i/o error";
        case PT_EDB: return "database error";
        case PT_EUSAGE: return "usage error";
        case PT_EINTERNAL: return "internal error";
    }
    return "unknown status";
}
