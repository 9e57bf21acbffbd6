/* version.h - phitrace version; PT_GIT_COMMIT comes from the Makefile. */
#ifndef PT_VERSION_H
#define PT_VERSION_H

#define PT_VERSION "0.1.0"
#ifndef PT_GIT_COMMIT
#define PT_GIT_COMMIT "unknown"
#endif

#endif
