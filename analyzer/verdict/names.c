/*
 * names.c - who received it, by name, and whose data went there: the destination_name
 * rows (what the evidence calls each outside destination) and the individual_event rows
 * (which individuals were in which exfiltration event), for the reports and exports.
 *
 * Names come only from outbound flows to the destination, so that a name an outside client
 * gave when it connected inwards never names the outside end: the envelope recipients of
 * SMTP, the Host of HTTP requests, the SNI and certificate subject of TLS, the called AE
 * title of DICOM associations, the user and the server greeting of FTP control connections,
 * and the owners of DNS A/AAAA answers that resolved to the address. Every name is text from
 * the evidence: the reports escape it.
 */
#include "../store/q_verdict.h"
#include "verdict_int.h"

/* DESTINATION_NAMES and INDIVIDUAL_EVENTS of store/q_verdict.def */
pt_status pt_verdict_names(struct pt_verdict_ctx *x, char *err, size_t errlen)
{
    PT_TRY(pt_qv_exec(x->db, PT_QV_DESTINATION_NAMES, err, errlen));
    return pt_qv_exec(x->db, PT_QV_INDIVIDUAL_EVENTS, err, errlen);
}
