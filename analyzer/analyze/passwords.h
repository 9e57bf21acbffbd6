/*
 * passwords.h - candidate archive passwords harvested from command lines in the evidence.
 *
 * An intruder who stages data in an encrypted archive usually typed the password: in a
 * PowerShell PSReadLine history (ConsoleHost_history.txt), a shell history, a batch file or
 * script, a scheduled task's <Arguments>. Each text line is split as a shell would (blanks
 * separate words; '...' and "..." quote, the quotes removed and joined to their word: 7z's
 * -p"with space" is one word; ( ) ; | & < > separate too, so PowerShell sub-expressions and
 * task XML elements split), and these forms give a candidate:
 *
 *   7z/7za/7zr/7zz/rar/winrar ...  -pSECRET, -hpSECRET (RAR: headers encrypted too)
 *                                  (or on a line with <Arguments>, a task's command line)
 *   zip ...                        -P pw, --password pw, --password=pw
 *   openssl ...                    -k pw, -pass pass:pw
 *   PowerShell, any command        -Password pw (Compress-7Zip, 7Zip4Powershell)
 *   ConvertTo-SecureString         its first word that is not a parameter ('pw' -AsPlainText)
 *
 * Text that starts with a UTF-16LE byte order mark (Windows task files) is read as UTF-16.
 * A value that names a variable ($pw, %PW%, env:, file:) is not a literal and is skipped, as
 * is one holding a NUL byte.
 *
 * Trust boundary: the text is hostile; it is read only through the bounds-checked cursor.
 * Limits: a line is read up to PT_PW_MAX_LINE bytes (the rest of it is skipped), at most
 * PT_PW_MAX_WORDS words per line, a candidate is 1..PT_PW_MAX_LEN bytes.
 */
#ifndef PT_PASSWORDS_H
#define PT_PASSWORDS_H

#include <stddef.h>
#include <stdint.h>

#define PT_PW_MAX_LINE 4096
#define PT_PW_MAX_WORDS 128
#define PT_PW_MAX_LEN 128

/* How a candidate was written: the tool's option it came from. */
enum pt_pw_form { PT_PW_7Z, PT_PW_RAR_HP, PT_PW_ZIP, PT_PW_OPENSSL, PT_PW_PS_PASSWORD,
                  PT_PW_PS_SECURE, PT_PW_WORDLIST };

/* The option's name for a form ("7z -p", "zip -P", ...), for provenance. */
const char *pt_pw_form_name(enum pt_pw_form f);

/* Called for each candidate: pw[0..len) (borrowed, NUL-terminated, valid for the call),
 * the 1-based line it is on. */
typedef void (*pt_pw_fn)(void *arg, const char *pw, size_t len, uint32_t line,
                         enum pt_pw_form form);

/* Every candidate of text b[0..n), in order; returns how many were reported. */
size_t pt_pw_harvest(const uint8_t *b, size_t n, pt_pw_fn fn, void *arg);

#endif
