/* words.c - human words for machine keys (see words.h). */
#include "words.h"

#include <stddef.h>
#include <string.h>

static const struct {
    const char *key, *words;
} words[] = {
    /* PHI identifier types (phi/phi_types.def) */
    {"name", "name"},
    {"address", "street address"},
    {"zip", "ZIP code"},
    {"birth_date", "date of birth"},
    {"date", "date (admission, service, study)"},
    {"death_date", "date of death"},
    {"phone", "telephone number"},
    {"email", "email address"},
    {"ssn", "Social Security number"},
    {"mrn", "medical record number"},
    {"health_plan_id", "health plan beneficiary number"},
    {"medicare_mbi", "Medicare beneficiary identifier"},
    {"account", "account number"},
    {"payment_card", "payment card number"},
    {"provider_npi", "provider NPI"},
    {"provider_dea", "provider DEA number"},
    {"device_id", "device identifier"},
    {"accession", "accession number"},
    {"record_id", "record number"},
    {"diagnosis_code", "diagnosis code"},
    /* kinds of destination names (verdict/names.c) */
    {"smtp_recipient", "mail recipient"},
    {"http_host", "HTTP Host"},
    {"tls_sni", "TLS server name"},
    {"tls_certificate", "TLS certificate subject"},
    {"dicom_called_ae", "DICOM called AE title"},
    {"ftp_user", "FTP user"},
    {"ftp_server", "FTP server greeting"},
    {"dns_name", "DNS name resolved to it"},
    {"geoip_country", "country (--geoip)"},
    {"geoip_asn", "network (--geoip)"},
    /* heuristics (verdict/heuristics.def) whose words are not their key's */
    {"phi_outbound", "PHI sent out"},
    {"dicom_outbound", "DICOM sent out"},
    {"dns_tunnel", "DNS tunnel"},
    {"icmp_tunnel", "ICMP tunnel"},
    {"yara", "YARA rule"},
    /* limitation kinds */
    {"encrypted_outbound_share", "encrypted share of bytes out"},
    {"names_in_free_text", "names in free text"},
    /* severities */
    {"info", "information"},
    /* column names */
    {"bytes_out", "bytes out"},
    {"phi_objects", "PHI objects"},
    {"phi_types", "PHI types"},
    {"phi_hits", "PHI hits"},
    {"protocols", "protocols"},
    {"first", "first seen"},
    {"last", "last seen"},
    {"first_out", "first time out"},
    {"named_by", "named in the evidence by"},
    {"name_masked", "name (masked)"},
    {"identifiers", "identifier types"},
    {"bounds_note", "bounds note"},
    {"safe_harbor", "Safe Harbor letter"},
    {"sha256", "SHA-256"},
    {"row_hash", "row hash"},
    {"ts_utc", "time (UTC)"},
    {"timestamp_desc", "what happened"},
    {"examined_as", "examined as"},
    {"parsed_bytes", "parsed bytes"},
    {"object_bytes", "object bytes"},
    {"phi_bytes", "bytes read for PHI"},
    {"yara_bytes", "bytes scanned by YARA"},
    {"not_examined", "not examined"},
    {"individual", "individual"},
};

const char *pt_words(const char *key)
{
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strcmp(words[i].key, key) == 0) {
            return words[i].words;
        }
    }
    return key;
}
