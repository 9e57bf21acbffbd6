/*
 * words.h - human words for the machine keys the database uses (PHI types, column names,
 * kinds of names, severities), for report.html and report.txt. report.json keeps the keys.
 */
#ifndef PT_WORDS_H
#define PT_WORDS_H

/* The words for `key`, or `key` itself when there are none. */
const char *pt_words(const char *key);

#endif
