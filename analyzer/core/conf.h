/*
 * conf.h - the text files of the signatures directory (heuristics.conf, phi.conf,
 * icd10cm.txt, cloud_endpoints.txt): one entry a line; a line whose first non-blank
 * character is '#' is a comment (a '#' elsewhere is data: a digit in an MRN mask); blanks
 * around an entry and blank lines do not count; "key = value" where a file has settings.
 */
#ifndef PT_CONF_H
#define PT_CONF_H

#include <stdbool.h>
#include <stdio.h>

struct pt_conf {
    FILE *f;
    unsigned ln;        /* number of the line last returned */
    bool too_long;      /* a line did not fit `line`: the rest of it was skipped */
    char line[1200];
};

/* false when the file cannot be opened (errno says why). */
bool pt_conf_open(struct pt_conf *c, const char *path);

/* The next entry, trimmed, in c->line; NULL at the end of the file. */
char *pt_conf_next(struct pt_conf *c);

/* Split "key = value" in place, both trimmed; false when the line has no '='. */
bool pt_conf_kv(char *line, char **key, char **value);

void pt_conf_close(struct pt_conf *c);

/* Remove leading and trailing white space in place. */
void pt_trim(char *s);

#endif
