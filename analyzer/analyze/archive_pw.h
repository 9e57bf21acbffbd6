/*
 * archive_pw.h - encrypted archives opened with the intruder's own passwords.
 *
 * After every object of the case is stored (and before the PHI stage reads them), candidate
 * passwords are harvested from all text objects (passwords.h: command lines in histories,
 * scripts, batch files, scheduled tasks) and from an optional wordlist, and tried on every
 * encrypted zip, 7z or RAR object: through libarchive (zip ZipCrypto and WinZip AES), then
 * through the 7z program (7z AES, header-encrypted 7z, RAR; PHITRACE_7Z names another, "none"
 * none), run without a shell, with a time and file-size limit, extracting into a private
 * directory under objects/tmp. An opened archive's members become objects as any archive's
 * do (PHI, YARA, nested archives, documents). Each archive tried is a row of
 * archive_password naming the password's source (object, line), never the password; one
 * that stays closed is a limitation with its name and size.
 *
 * Trust boundary: the objects are hostile; 7z runs on them in a child process with limits.
 * Limits (core/limits.h): PT_PW_MAX_CANDIDATES, PT_PW_MAX_TEXT, PT_PW_MAX_ARCHIVES,
 * PT_PW_7Z_SECONDS.
 */
#ifndef PT_ARCHIVE_PW_H
#define PT_ARCHIVE_PW_H

#include <stddef.h>

#include "../core/status.h"

struct pt_db;

struct pt_archive_pw_opts {
    const char *case_dir;  /* the case being built (borrowed) */
    unsigned store_id;     /* an object store id no worker uses */
    const char *wordlist;  /* --passwords FILE, one a line, or NULL */
};

struct pt_archive_pw_result {
    unsigned candidates;   /* distinct candidate passwords */
    unsigned archives;     /* encrypted archives tried */
    unsigned opened;
};

pt_status pt_archive_pw_phase(struct pt_db *db, const struct pt_archive_pw_opts *o,
                              struct pt_archive_pw_result *res, char *err, size_t errlen);

#endif
