/*
 * unpack.h - archives and compressed files inside stored objects become member objects,
 * linked to their parent by its SHA-256.
 *
 * Formats, all read through libarchive from the read-only mapped object: zip (PKWARE
 * APPNOTE 6.3.x; stored, deflate, bzip2, LZMA, xz, zstd, PPMd), tar (POSIX ustar, pax, GNU),
 * cpio (odc, newc, crc, binary), 7z, RAR 4 and 5 (read only), and the compressed streams
 * gzip (RFC 1952, through zlib so the CRC is checked and concatenated members are kept),
 * bzip2, xz, lzma, lzip, zstd, lz4 and compress (.Z); a compressed tar or cpio gives its
 * members directly, any other compressed file one child. A Windows executable is read for a
 * self-extractor's zip, 7z or RAR. Only libarchive's in-library
 * decoders are enabled: nothing may run an external program.
 *
 * Trust boundary: the object's bytes are hostile. A zip's central directory is walked
 * first with our own cursor (unpack_zip.c) so entries whose data overlap ("zip bombs by
 * overlap") are refused before libarchive sees them.
 *
 * Limits (core/limits.h): nesting PT_UNPACK_MAX_DEPTH; PT_UNPACK_MAX_ENTRIES per archive;
 * a member PT_UNPACK_MAX_MEMBER and PT_UNPACK_MAX_RATIO times the input it consumed; all
 * members under one top-level object PT_UNPACK_BUDGET_TOP, all of a run PT_UNPACK_BUDGET_CASE
 * (stored and encrypted members count too). A limit hit is an anomaly and a partial child,
 * never a hang. Each object hash is unpacked once per run; a later copy of it gets the
 * remembered members again (with its own flow and direction) without decompressing again.
 */
#ifndef PT_UNPACK_H
#define PT_UNPACK_H

#include "../core/status.h"
#include "app.h"

/* What the workers of one run share: the hashes unpacked (and their members, to repeat for
 * later copies) and the run's expansion budget. Thread-safe. */
struct pt_unpack_run;

/* Budgets in bytes: all members under one top-level object (PT_UNPACK_BUDGET_TOP), all of
 * the run (PT_UNPACK_BUDGET_CASE). Returns owned, free with pt_unpack_run_free (NULL-safe). */
pt_status pt_unpack_run_new(uint64_t top_budget, uint64_t case_budget,
                            struct pt_unpack_run **out);
void pt_unpack_run_free(struct pt_unpack_run *run);

/* Decode `parent` (just stored) if its MIME type names an archive or compressed stream;
 * children go to ctx->object, which may call back here for them (depth counts the
 * nesting). ctx->unpack may be NULL (no sharing across objects: tests and tools). */
void pt_unpack(struct pt_app_ctx *ctx, const struct pt_object_rec *parent);

/* Does `pw` open the encrypted zip, 7z or RAR b[0..n) (libmagic type `mime`) through
 * libarchive? True when the first encrypted member decrypts whole with it. */
bool pt_unpack_try_passphrase(const uint8_t *b, size_t n, const char *mime, const char *pw);

/* Unpack `parent`, whose bytes are b[0..n) (borrowed), again with the passphrase `pw`
 * (borrowed) that opened it: its members are
 * emitted to ctx->object decrypted (encoding "...,decrypted"), nested archives unpacked as
 * usual. Not remembered for later copies: the first, closed read is. */
void pt_unpack_opened(struct pt_app_ctx *ctx, const struct pt_object_rec *parent,
                      const uint8_t *b, size_t n, const char *pw);

#endif
