/* typer.c - object types without libmagic where phitrace can be sure (see typer.h). */
#include "typer.h"
#include "typer_sigs.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool starts(const uint8_t *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n >= k && memcmp(p, s, k) == 0;
}

/* Text as libmagic's encoding test calls it text/plain: ASCII's text characters and valid
 * UTF-8, no NUL or other control byte. A sequence cut at the end of the head is text. */
static bool is_text(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b) {
                return false;
            }
            i++;
            continue;
        }
        size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                     : c >= 0xe0 && c <= 0xef ? 3
                     : c >= 0xf0 && c <= 0xf4 ? 4
                                              : 0;
        if (len == 0) {
            return false;
        }
        for (size_t k = 1; k < len; k++) {
            if (i + k >= n) {
                return true; /* cut by the head */
            }
            if ((p[i + k] & 0xc0) != 0x80) {
                return false;
            }
        }
        i += len;
    }
    return true;
}

static bool named(char *mime, size_t mlen, char *desc, size_t dlen, const char *m, const char *d)
{
    snprintf(mime, mlen, "%s", m);
    snprintf(desc, dlen, "%s", d);
    return true;
}

/* ---- text: what libmagic would call generic text, in its own words ----
 *
 * libmagic (file 5.44, funcs.c file_buffer) decides text in this order: the encoding
 * (encoding.c), a tar header checksum (is_tar.c), a whole JSON value (is_json.c), CSV
 * (is_csv.c), then every soft-magic rule twice (binary, then text rules such as HTML, mail,
 * scripts, source code: 0.5-2 ms on 16 KiB), and last ascmagic.c, which names the encoding
 * and the line shape ("ASCII text, with very long lines (412), with CRLF line terminators").
 * The typer repeats the cheap steps exactly, names CSV, HTML that starts as HTML and text
 * that no class-changing rule could claim, and leaves the rest to libmagic: a head that
 * could be JSON, a tar header, markup, mail or news headers, a script or a printable
 * signature at the start, RTF, TeX, a PDF signature past the start. Text rules that only
 * refine text (C, Python, shell source: text/x-c ... instead of text/plain) are not
 * repeated: such text is named "ASCII text" (see README, Performance). */

struct text_shape {
    bool utf8;            /* a non-ASCII character (valid UTF-8) */
    bool bom;             /* UTF-8 byte order mark (not counted as a character) */
    bool esc;             /* ESC: "with escape sequences" */
    size_t longest;       /* ascmagic's longest line over MAXLINELEN (300), else 0 */
    unsigned crlf, cr, lf;
};

/* One pass: the encoding as encoding.c's looks_ascii and file_looks_utf8 see it, and the
 * line statistics of ascmagic.c over the characters. False for anything else (NUL and other
 * control bytes, ISO-8859, UTF-16/32, malformed UTF-8), and for what ascmagic would
 * describe with words the typer does not give: backspace, BEL, VT, NEL (U+0085), UTF-7. */
static bool text_scan(const uint8_t *p, size_t n, struct text_shape *t)
{
    memset(t, 0, sizeof *t);
    size_t i = 0, ci = 0, line_end = (size_t)-1; /* character index of the last line end */
    if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
        t->bom = t->utf8 = true;
        i = 3;
    }
    if (n < 2 || starts(p, n, "+/v")) {
        return false;
    }
    bool seen_cr = false;
    for (; i < n; ci++) {
        uint8_t c = p[i];
        if (c >= 0x20 && c < 0x7f) {
            /* a run of printable ASCII at once: nothing in it ends a line, and the longest
             * line can only have grown by its last character */
            size_t j = i + 1;
            while (j < n && p[j] >= 0x20 && p[j] < 0x7f) {
                j++;
            }
            if (seen_cr) {
                t->cr++;
                seen_cr = false;
            }
            ci += j - i - 1; /* the run's last character; the loop counts it */
            if (ci > line_end + 300 && ci - line_end > t->longest) {
                t->longest = ci - line_end;
            }
            i = j;
            continue;
        }
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b) ||
                c == 0x7f) {
                return false;
            }
            i++;
        } else {
            size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                         : c >= 0xe0 && c <= 0xef ? 3
                         : c >= 0xf0 && c <= 0xf4 ? 4
                                                  : 0;
            if (len == 0 || (c == 0xc2 && i + 1 < n && p[i + 1] == 0x85)) {
                return false;
            }
            /* the second byte's range excludes overlong forms and surrogates (encoding.c's
             * accept_ranges) */
            uint8_t lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
            uint8_t hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
            if (i + len > n) {
                /* cut by the head: libmagic stops there without counting it, and a head
                 * with no other non-ASCII character is not UTF-8 to it */
                if (!t->utf8 || (i + 1 < n && (p[i + 1] < lo || p[i + 1] > hi))) {
                    return false;
                }
                break;
            }
            if (p[i + 1] < lo || p[i + 1] > hi) {
                return false;
            }
            for (size_t k = 2; k < len; k++) {
                if ((p[i + k] & 0xc0) != 0x80) {
                    return false;
                }
            }
            t->utf8 = true;
            i += len;
        }
        if (c == '\n') {
            seen_cr ? t->crlf++ : t->lf++;
            line_end = ci;
        } else if (seen_cr) {
            t->cr++;
        }
        seen_cr = c == '\r';
        if (seen_cr) {
            line_end = ci;
        }
        if (ci > line_end + 300 && ci - line_end > t->longest) {
            t->longest = ci - line_end;
        }
        t->esc |= c == 0x1b;
    }
    if (seen_cr) {
        t->cr++; /* a final CR: ascmagic counts it (the head is below its bytes_max) */
    }
    return true;
}

/* ascmagic.c's words for the encoding and the lines, after `prefix` ("", "HTML document, "). */
static void text_words(const struct text_shape *t, const char *prefix, char *desc, size_t dlen)
{
    size_t k = (size_t)snprintf(desc, dlen, "%s%s text", prefix,
                                !t->utf8  ? "ASCII"
                                : t->bom  ? "Unicode text, UTF-8 (with BOM)"
                                          : "Unicode text, UTF-8");
    char buf[160] = "";
    size_t b = 0;
    if (t->longest) {
        b += (size_t)snprintf(buf + b, sizeof buf - b, ", with very long lines (%zu)", t->longest);
    }
    if (t->crlf + t->cr + t->lf == 0) {
        b += (size_t)snprintf(buf + b, sizeof buf - b, ", with no line terminators");
    } else if (t->crlf || t->cr) {
        b += (size_t)snprintf(buf + b, sizeof buf - b, ", with%s%s%s%s%s line terminators",
                              t->crlf ? " CRLF" : "", t->crlf && (t->cr || t->lf) ? "," : "",
                              t->cr ? " CR" : "", t->cr && t->lf ? "," : "",
                              t->lf ? " LF" : "");
    }
    if (t->esc) {
        snprintf(buf + b, sizeof buf - b, ", with escape sequences");
    }
    if (k < dlen) {
        snprintf(desc + k, dlen - k, "%s", buf);
    }
}

/* is_tar.c: a 512-byte header whose checksum field holds the sum of its bytes. */
static bool tar_header(const uint8_t *p, size_t n)
{
    if (n < 512) {
        return false;
    }
    unsigned sum = 0, rec = 0;
    for (size_t i = 0; i < 512; i++) {
        sum += i >= 148 && i < 156 ? ' ' : p[i];
    }
    size_t i = 148;
    while (i < 156 && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n')) {
        i++;
    }
    if (i == 156 || p[i] < '0' || p[i] > '7') {
        return false; /* from_oct: no digits is -1, never a sum */
    }
    for (; i < 156 && p[i] >= '0' && p[i] <= '7'; i++) {
        rec = rec * 8 + (unsigned)(p[i] - '0');
    }
    return rec == sum;
}

/* Could is_json.c accept it? Only an object or array can make it JSON, and only when its
 * top-level value closes inside the head: a value the head cuts open is never JSON to it. */
static bool maybe_json(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) {
        i++;
    }
    if (i == n || (p[i] != '{' && p[i] != '[')) {
        return false;
    }
    size_t depth = 0;
    bool str = false, esc = false;
    for (; i < n; i++) {
        uint8_t c = p[i];
        if (str) {
            if (esc) {
                esc = false;
            } else if (c == '\\') {
                esc = true;
            } else if (c == '"') {
                str = false;
            }
        } else if (c == '"') {
            str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && depth > 0 && --depth == 0) {
            return true;
        }
    }
    return false;
}

/* is_csv.c's csv_parse, as it is: the same number of commas (outside quotes) on each of the
 * first lines, ten lines or more than two whole ones. */
static bool csv_lines(const uint8_t *p, size_t n)
{
    size_t nf = 0, tf = 0, nl = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i++];
        if (c == '"') {
            bool quote = false;
            for (; i < n; i++) {
                if (p[i] != '"') {
                    if (quote) {
                        break;
                    }
                } else {
                    quote = !quote;
                }
            }
        } else if (c == ',') {
            nf++;
        } else if (c == '\n') {
            if (++nl == 10) {
                return tf != 0 && tf == nf;
            }
            if (tf == 0) {
                if (nf == 0) {
                    return false;
                }
                tf = nf;
            } else if (tf != nf) {
                return false;
            }
            nf = 0;
        }
    }
    return tf && nl > 2;
}

static bool has_ci(const uint8_t *p, size_t n, size_t at, const char *s)
{
    size_t k = strlen(s);
    if (at + k > n) {
        return false;
    }
    for (size_t i = 0; i < k; i++) {
        uint8_t c = p[at + i];
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (uint8_t)s[i]) {
            return false;
        }
    }
    return true;
}

/* After a '<': what sgml's HTML and SGML rules search for ("<head>", "<title ", "<a href=",
 * "<!doctype", "<!--", ... case-insensitive, any blanks), and XML's "<?". */
static bool markup_at(const uint8_t *p, size_t n, size_t i)
{
    static const char *const tags[] = {"head", "title", "html", "script", "style", "table", "a"};
    if (i >= n || p[i] == '!' || p[i] == '?') {
        return i < n;
    }
    for (size_t k = 0; k < sizeof tags / sizeof *tags; k++) {
        size_t len = strlen(tags[k]);
        if (has_ci(p, n, i, tags[k]) &&
            (i + len == n || p[i + len] == '>' || isspace(p[i + len]) != 0 ||
             (len == 1 && (p[i + 1] | 32) == 'h'))) {
            return true;
        }
    }
    return false;
}

/* Does the text start with `sig` (lower case; a blank in it stands for any run of blanks,
 * or none)? */
static bool sig_at(const uint8_t *p, size_t n, const char *sig)
{
    size_t i = 0;
    for (const char *q = sig; *q != '\0'; q++) {
        if (*q == ' ') {
            while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) {
                i++;
            }
            continue;
        }
        if (i >= n || (p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]) != (uint8_t)*q) {
            return false;
        }
        i++;
    }
    return true;
}

/* Words of libmagic rules that give text another class, searched where the rules search
 * (sgml: markup anywhere in the first 4 KiB; tex: control words in 4 KiB; pdf: "%PDF-" in
 * 256 bytes). */
static bool class_words(const uint8_t *p, size_t n)
{
    static const char *const tex[] = {"input", "begin", "section", "setlength", "document",
                                      "chapter", "relax", "contentsline", "indexentry",
                                      "glossaryentry", "setup", "definecolor", "useurl"};
    size_t lim = n < 4096 + 64 ? n : 4096 + 64;
    for (size_t i = 0; i < lim; i++) {
        if (p[i] == '<' && markup_at(p, n, i + 1)) {
            return true;
        }
        if (p[i] == '\\') {
            for (size_t k = 0; k < sizeof tex / sizeof *tex; k++) {
                if (has_ci(p, n, i + 1, tex[k])) {
                    return true;
                }
            }
        }
        if (i < 256 && p[i] == '%' && starts(p + i, n - i, "%PDF-")) {
            return true;
        }
    }
    return false;
}

/* Starts libmagic's rules at offset 0 key on that the typer does not name: scripts and
 * preprocessor lines, PostScript and TeX, PEM and diff, troff, INI and RTF, mail and news
 * headers ("Received:", "From ", ...), vCard and iCalendar, uuencode, and printable
 * signatures of binary formats ("MZ", "BM", "RIFF", "FORM", ...). */
static bool special_start(const uint8_t *p, size_t n)
{
    static const char *const sigs[] = {"MZ", "BM", "RIFF", "FORM", "ID3", "OggS", "fLaC",
                                       "MThd", "BZh", "PK", "Rar!", "7z", "FWS", "CWS", "ZWS",
                                       "From ", "Article ", "BABYL", "N#! ", "begin ",
                                       "BEGIN:", "Begin:", "begin:", "{\\rtf", "SIMPLE  =",
                                       "P1", "P2", "P3", "P4", "P5", "P6", "P7", "xof ", "x T",
                                       "ISA", "MSH", "FHS", "BHS", "UNA", "UNB", "%!"};
    for (size_t k = 0; k < sizeof sigs / sizeof *sigs; k++) {
        if (starts(p, n, sigs[k])) {
            return true;
        }
    }
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) {
        i++;
    }
    if (i < n && strchr("#%-\\@!:;(=$'`[<", p[i]) != NULL) {
        return true;
    }
    /* troff requests: a line of the first 20 that is '.', a letter, a letter or digit, and
     * then a blank or the line's end */
    for (size_t at = 0, line = 0; at < n && line < 20; line++) {
        if (p[at] == '.' && at + 2 < n && ((p[at + 1] | 32) >= 'a' && (p[at + 1] | 32) <= 'z') &&
            (isalnum(p[at + 2]) != 0) &&
            (at + 3 == n || p[at + 3] == ' ' || p[at + 3] == '\t' || p[at + 3] == '\n')) {
            return true;
        }
        const uint8_t *nl = memchr(p + at, '\n', n - at);
        at = nl == NULL ? n : (size_t)(nl - p) + 1;
    }
    /* header-like starts of libmagic rules at offset 0 (mail, news, MIME entities, vCard,
     * iCalendar, torrents...), compared without case */
    static const char *const heads[] = {
        "relay-version:", "forward to", "pipe to", "delivered-to:", "return-path:", "path:",
        "xref:", "from:", "date:", "received:", "mime-version:", "content-type:", "amanda:",
        "begin:", "clamav-vdb:", "item:", "index:", "svn-fs-dump", "splinefontdb:", "start:",
        "tn:", "try:", "extended instrument:", "filedesc:", "article"};
    for (size_t h = 0; h < sizeof heads / sizeof *heads; h++) {
        if (has_ci(p, n, 0, heads[h]) || has_ci(p, n, i, heads[h])) {
            return true;
        }
    }
    /* every printable pattern of a rule at offset 0 (typer_sigs.h) */
    for (size_t s = 0; s < sizeof typer_sigs / sizeof *typer_sigs; s++) {
        if (sig_at(p, n, typer_sigs[s])) {
            return true;
        }
    }
    return n > 2 && p[0] == 'd' && isdigit(p[1]) != 0; /* bencode: "d8:announce" */
}

/* HTML from its first bytes: libmagic's sgml rule, then ascmagic's words after it. */
static bool html_start(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) {
        i++;
    }
    return has_ci(p, n, i, "<!doctype html") || has_ci(p, n, i, "<html>") ||
           has_ci(p, n, i, "<html ");
}

/* Words of the JavaScript rules of Debian's libmagic ("(function(", "module.exports =",
 * "require(", a line that starts with "import" or "export"): they outrank its HTML rules, so
 * HTML with them is left to libmagic. */
static bool script_words(const uint8_t *p, size_t n)
{
    static const char *const words[] = {"(function", "(async function", "exports", "require("};
    for (size_t k = 0; k < sizeof words / sizeof *words; k++) {
        if (memmem(p, n, words[k], strlen(words[k])) != NULL) {
            return true;
        }
    }
    for (size_t at = 0; at < n;) {
        if (starts(p + at, n - at, "import") || starts(p + at, n - at, "export")) {
            return true;
        }
        const uint8_t *nl = memchr(p + at, '\n', n - at);
        at = nl == NULL ? n : (size_t)(nl - p) + 1;
    }
    return false;
}

/* Text the typer names, else false (libmagic decides). */
static bool sniff_text(const uint8_t *p, size_t n, char *mime, size_t mlen, char *desc,
                       size_t dlen)
{
    struct text_shape t;
    if (!text_scan(p, n, &t) || tar_header(p, n) || maybe_json(p, n)) {
        return false;
    }
    if (csv_lines(p, n)) {
        return named(mime, mlen, desc, dlen, "text/csv", "CSV text");
    }
    if (html_start(p, n) && !t.bom && !script_words(p, n)) {
        snprintf(mime, mlen, "text/html");
        text_words(&t, "HTML document, ", desc, dlen);
        return true;
    }
    if (special_start(p, n) || class_words(p, n)) {
        return false;
    }
    snprintf(mime, mlen, "text/plain");
    text_words(&t, "", desc, dlen);
    return true;
}

bool pt_type_sniff(const uint8_t *p, size_t n, char *mime, size_t mlen, char *desc, size_t dlen)
{
    if (n == 0) {
        return named(mime, mlen, desc, dlen, "application/x-empty", "empty");
    }
    /* a preamble that starts with another signature (a TIFF header makes a file both) is
     * left to libmagic, which names the other format */
    if (n >= 132 && memcmp(p + 128, "DICM", 4) == 0 && memcmp(p, "\0\0\0\0", 4) == 0) {
        return named(mime, mlen, desc, dlen, "application/dicom", "DICOM medical imaging data");
    }
    if (n >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8) {
        return named(mime, mlen, desc, dlen, "application/gzip", "gzip compressed data");
    }
    if (starts(p, n, "%PDF-")) {
        return named(mime, mlen, desc, dlen, "application/pdf", "PDF document");
    }
    if (starts(p, n, "\x89PNG\r\n\x1a\n")) {
        return named(mime, mlen, desc, dlen, "image/png", "PNG image data");
    }
    if (n >= 4 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        return named(mime, mlen, desc, dlen, "image/jpeg", "JPEG image data");
    }
    if (starts(p, n, "GIF87a") || starts(p, n, "GIF89a")) {
        return named(mime, mlen, desc, dlen, "image/gif", "GIF image data");
    }
    /* HL7 v2 (a message or a batch) and X12 EDI: plain text to libmagic */
    bool hl7 = (starts(p, n, "MSH|") || starts(p, n, "FHS|") || starts(p, n, "BHS|")) && n >= 8;
    bool x12 = starts(p, n, "ISA*") && n >= 106;
    if ((hl7 || x12) && is_text(p, n)) {
        return named(mime, mlen, desc, dlen, "text/plain",
                     hl7 ? "HL7 v2 message text" : "ASC X12 EDI text");
    }
    return sniff_text(p, n, mime, mlen, desc, dlen);
}

const char *pt_type_mime_of(const char *desc)
{
    static const struct {
        const char *prefix, *mime;
        bool exact;
    } map[] = {
        {"ASCII text", "text/plain", false},
        {"Unicode text, UTF-8", "text/plain", false},
        {"CSV text", "text/csv", true},
        {"JSON text data", "application/json", true},
        {"New Line Delimited JSON text data", "application/x-ndjson", true},
        {"DICOM medical imaging data", "application/dicom", true},
        {"empty", "application/x-empty", true},
        {"data", "application/octet-stream", true},
        {"HTML document, ASCII text", "text/html", false},
        {"XML 1.0 document, ASCII text", "text/xml", false},
        {"PDF document", "application/pdf", false},
        {"PNG image data", "image/png", false},
        {"JPEG image data", "image/jpeg", false},
        {"GIF image data", "image/gif", false},
        {"gzip compressed data", "application/gzip", false},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t k = strlen(map[i].prefix);
        if (strncmp(desc, map[i].prefix, k) == 0 && (!map[i].exact || desc[k] == '\0')) {
            return map[i].mime;
        }
    }
    return NULL;
}
