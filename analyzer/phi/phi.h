/*
 * phi.h - PHI detection: structured parsers first, validated free-text candidates second
 * (research/phi-disk-compliance.md §2), and the records that tie identifiers to one person.
 *
 * A scanner reads one object (a file, a message, a data set) and reports, through the sink:
 *   - records: one patient context each (an HL7 message, a DICOM data set, a FHIR Patient or
 *     a resource that references one, a CSV row, a window of free text), with whether the
 *     record carries health information;
 *   - hits: one identifier each, inside the current record, with its Safe Harbor class
 *     (45 CFR 164.514(b)(2)(i) letters A-R), the field or pattern that found it, its offset
 *     in the object, a confidence and the reason.
 * Values are passed normalised (digits only for SSN/NPI/phone, "FAMILY^GIVEN" upper case for
 * names, YYYYMMDD for dates) so the same identifier gives the same keyed hash everywhere.
 *
 * Trust boundary: every byte of the object is untrusted; parsers read through pt_cur.
 * Ownership: the sink's strings are borrowed for the duration of the call.
 */
#ifndef PT_PHI_H
#define PT_PHI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/anomaly.h"

/* Identifier types: name, Safe Harbor letter, whether it identifies a person by itself
 * (joins records into one individual). One line each in phi_types.def. */
enum pt_phi_type {
#define PT_PHI_TYPE(id, name, letter, joins) PT_PHI_##id,
#include "phi_types.def"
#undef PT_PHI_TYPE
    PT_PHI_N_TYPES
};

const char *pt_phi_type_name(enum pt_phi_type t);
char pt_phi_type_letter(enum pt_phi_type t);
/* The "joins" column of phi_types.def: the value alone identifies one person. */
bool pt_phi_type_joins(enum pt_phi_type t);

struct pt_phi_hit {
    enum pt_phi_type type;
    const char *value;      /* normalised value (see above) */
    const char *field;      /* "(0010,0010) PatientName", "PID-3.1 (MR)", "column mrn", "text" */
    const char *detector;   /* "dicom", "hl7", "fhir", "csv", "x12", "cda", "text" */
    uint64_t offset;        /* in the object */
    double confidence;      /* 0..1 */
    const char *reason;     /* why this is believed: validator, context word, structure */
    const char *state;      /* US state (2 letters) for addresses and ZIPs, "" otherwise */
    const char *issuer;     /* assigning authority or identifier system, "" when none */
    bool subject;           /* the record's own patient (not a relative, guarantor, staff) */
};

struct pt_phi_sink {
    void *arg;
    /* A new record starts at `offset`; kind is "hl7 message", "dicom data set", ... */
    void (*record)(void *arg, const char *kind, uint64_t offset);
    void (*hit)(void *arg, const struct pt_phi_hit *h);
    /* The current record carries health information (diagnosis, result, order, image...). */
    void (*health)(void *arg, const char *what);
    /* Something in the object could not be read: kind "phi.<format>.<what>". */
    void (*anomaly)(void *arg, uint64_t offset, enum pt_anom kind, const char *detail);
};

/* Formats, tried in this order on an object's content (libmagic's type is a hint only). */
enum pt_phi_format {
    PT_PHI_FMT_NONE,
    PT_PHI_FMT_DICOM,
    PT_PHI_FMT_HL7,
    PT_PHI_FMT_FHIR_JSON,
    PT_PHI_FMT_NDJSON,
    PT_PHI_FMT_XML,       /* FHIR XML or CDA */
    PT_PHI_FMT_X12,
    PT_PHI_FMT_CSV,
    PT_PHI_FMT_TEXT,
};

const char *pt_phi_format_name(enum pt_phi_format f);
enum pt_phi_format pt_phi_sniff(const uint8_t *p, size_t n);

/* Scan one object held in memory (`p` is borrowed). Returns the format used. */
enum pt_phi_format pt_phi_scan(const uint8_t *p, size_t n, const struct pt_phi_sink *sink);

/* The parsers, for the dispatcher and the fuzz targets. Each starts its own records. */
void pt_phi_dicom(const uint8_t *p, size_t n, const struct pt_phi_sink *sink);
void pt_phi_hl7(const uint8_t *p, size_t n, const struct pt_phi_sink *sink);
void pt_phi_json(const uint8_t *p, size_t n, bool ndjson, const struct pt_phi_sink *sink);
void pt_phi_xml(const uint8_t *p, size_t n, const struct pt_phi_sink *sink);
void pt_phi_x12(const uint8_t *p, size_t n, const struct pt_phi_sink *sink);
void pt_phi_csv(const uint8_t *p, size_t n, const struct pt_phi_sink *sink);
/* Free text: validated candidates with context; `base` is added to reported offsets.
 * pt_phi_text starts a record per paragraph; pt_phi_text_record reports into the current
 * record (a CSV cell, an HL7 OBX value). */
void pt_phi_text(const uint8_t *p, size_t n, uint64_t base, const struct pt_phi_sink *sink);
void pt_phi_text_record(const uint8_t *p, size_t n, uint64_t base, const struct pt_phi_sink *sink);
/* A fixed-width report table at p[a]: a header line naming two patient columns or more, a
 * rule line of dash groups marking the columns, then rows (one record each) up to a line that
 * does not fit the columns. Returns the offset after it, or `a` when there is no table. */
size_t pt_phi_fixed_table(const uint8_t *p, size_t n, size_t a, const struct pt_phi_sink *sink);
/* A CSV whose header names at least two patient columns starts at p. */
bool pt_phi_csv_header(const uint8_t *p, size_t n);
/* A bare DICOM data set (no preamble) plausibly starts at p. */
bool pt_phi_dicom_bare(const uint8_t *p, size_t n);

/* Binary content: read the printable runs (ASCII/UTF-8 and UTF-16LE) as text; records are
 * "carved ...". Returns the bytes read that way. */
uint64_t pt_phi_strings(const uint8_t *p, size_t n, const struct pt_phi_sink *sink);
/* The runs pt_phi_strings reads, in its order: every maximal byte run of at least
 * PT_PHI_STRINGS_MIN bytes (printable ASCII and two-byte UTF-8 letters), then the UTF-16LE
 * runs of at least PT_PHI_STRINGS_MIN characters at even offsets, then at odd ones; `len` in
 * bytes. Word-at-a-time masks (SSE2 where the compiler targets it) skip what holds none. */
typedef void (*pt_phi_run_fn)(void *arg, size_t off, size_t len, bool wide);
void pt_phi_strings_runs(const uint8_t *p, size_t n, pt_phi_run_fn fn, void *arg);

/* The digits of the string `in`, in order, into out (at most len - 1 and a NUL). */
void pt_phi_digits(const char *in, char *out, size_t len);

/* Validators (validate.c), each on the digits or characters of the candidate. */
bool pt_phi_ssn_valid(const char digits[9]);
bool pt_phi_ssn_denied(const char digits[9]);
bool pt_phi_npi_valid(const char digits[10]);
bool pt_phi_dea_valid(const char s[9]);
bool pt_phi_luhn_valid(const char *digits, size_t n);
bool pt_phi_card_denied(const char *digits, size_t n);
bool pt_phi_mbi_valid(const char s[11]);
/* A calendar date YYYYMMDD from 1850 to 2100. */
bool pt_phi_date_valid(const char ymd[8]);
/* A US state or territory postal abbreviation (upper case). */
bool pt_phi_state_valid(const char s[2]);
/* The state of a 5-digit ZIP code by its 3-digit prefix (USPS ranges), "" when unknown. */
const char *pt_phi_zip_state(const char zip[5]);
/* Upper-case a personal name into "FAMILY^GIVEN^MIDDLE" form from `in` (HL7 XPN, DICOM PN:
 * '^'-separated already; "Given Family" when `natural`). Returns false for an empty name. */
bool pt_phi_name_norm(const char *in, size_t n, bool natural, char *out, size_t len);
/* The comparison form of a normalised name: accents and case folded ("MÜLLER^JÜRGEN",
 * "Muller^Jurgen" and decomposed "Mu\u0308ller" all give "MULLER^JURGEN"; "ß" gives "SS",
 * Greek and Cyrillic are upper-cased), apostrophes dropped and hyphens as spaces. Bytes that
 * are not UTF-8 pass through. Returns the length written (out is always terminated). */
size_t pt_phi_name_fold(const char *in, char *out, size_t len);
/* Code point v as UTF-8 into out (room bytes); returns the bytes written, 0 when it does not
 * fit. */
size_t pt_phi_utf8_put(uint32_t v, char *out, size_t room);

#endif
