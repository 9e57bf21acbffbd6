/* home_net.h - the home network 10.0.0.0/8 of the flow-table tests, made by the group setup. */
#ifndef PT_TEST_HOME_NET_H
#define PT_TEST_HOME_NET_H

#include "core/addr.h"

static struct pt_cidr_set home;

static int setup(void **state)
{
    (void)state;
    char err[64];
    return pt_cidr_set_parse("10.0.0.0/8", &home, err, sizeof err) == PT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    pt_cidr_set_fini(&home);
    return 0;
}

#endif
