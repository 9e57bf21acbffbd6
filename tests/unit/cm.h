/* cm.h - cmocka includes in the order cmocka requires. */
#ifndef PT_TEST_CM_H
#define PT_TEST_CM_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#endif
