/* conf.c - reading the signatures directory's text files (see conf.h). */
#include "conf.h"

#include <ctype.h>
#include <string.h>

void pt_trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
    size_t k = 0;
    while (isspace((unsigned char)s[k])) {
        k++;
    }
    memmove(s, s + k, n - k + 1);
}

bool pt_conf_open(struct pt_conf *c, const char *path)
{
    memset(c, 0, sizeof *c);
    c->f = fopen(path, "r");
    return c->f != NULL;
}

char *pt_conf_next(struct pt_conf *c)
{
    while (c->f != NULL && fgets(c->line, sizeof c->line, c->f) != NULL) {
        c->ln++;
        size_t n = strlen(c->line);
        if (n > 0 && c->line[n - 1] != '\n' && !feof(c->f)) {
            c->too_long = true; /* skip the rest of this line, keep its head */
            int ch;
            do {
                ch = fgetc(c->f);
            } while (ch != EOF && ch != '\n');
        }
        pt_trim(c->line);
        /* only whole lines are comments: '#' is a digit in an MRN mask ("RAD#######") */
        if (c->line[0] != '\0' && c->line[0] != '#') {
            return c->line;
        }
    }
    return NULL;
}

bool pt_conf_kv(char *line, char **key, char **value)
{
    char *eq = strchr(line, '=');
    if (eq == NULL) {
        return false;
    }
    *eq = '\0';
    pt_trim(line);
    pt_trim(eq + 1);
    *key = line;
    *value = eq + 1;
    return true;
}

void pt_conf_close(struct pt_conf *c)
{
    if (c->f != NULL) {
        fclose(c->f);
        c->f = NULL;
    }
}
