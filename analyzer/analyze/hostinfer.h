/*
 * hostinfer.h - which host a disk image is of, read from its own files (issue 15 follow-up):
 * the names and addresses its configuration gives, each with where it was read, so the
 * staging join (store/q_staging.c) can use them when the examiner gave no --image-host.
 *
 *   Windows  SYSTEM hive (Windows/System32/config/SYSTEM, regf.h): the current control
 *            set's Control\ComputerName\ComputerName\ComputerName and Services\Tcpip\
 *            Parameters\Hostname (names); Tcpip\Parameters\Interfaces\<each> IPAddress (static,
 *            REG_MULTI_SZ) and DhcpIPAddress (the last lease)
 *   Linux    etc/hostname (name); etc/hosts lines naming a host name found before (address);
 *            etc/network/interfaces and the files of interfaces.d `address`; netplan's
 *            YAML files (etc/netplan) `addresses`; NetworkManager's keyfiles
 *            (etc/NetworkManager/system-connections) `addressN=`/`addressesN=`;
 *            systemd-networkd's .network files (etc/systemd/network) `Address=`;
 *            dhclient leases (var/lib/dhcp/, var/lib/dhclient/, var/lib/NetworkManager/)
 *            `fixed-address`, and NetworkManager's internal leases `ADDRESS=`
 *
 * An address that cannot be a host's own (unspecified, loopback, link-local, multicast,
 * broadcast) is passed over. Every file is evidence: text is read with explicit bounds and
 * the hive through regf.h's checked cells.
 */
#ifndef PT_HOSTINFER_H
#define PT_HOSTINFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

struct pt_db;

enum pt_hostinfer_kind { PT_HOSTINFER_NAME, PT_HOSTINFER_ADDR };

#define PT_HOSTINFER_MAX_NAMES 16
struct pt_hostinfer_names { /* the host names known so far for an image (for etc/hosts) */
    char v[PT_HOSTINFER_MAX_NAMES][256];
    size_t n;
};

/* Whether a file of an image at `path` (as disk_file spells it: no leading '/') is one read
 * here; 1 for those read first (names: the SYSTEM hive, etc/hostname), 2 for the others, 0
 * for none. */
int pt_hostinfer_wanted(const char *path);
/* Read one such file: fn(kind, value, origin) for each name and address found (value an
 * address as pt_addr_str spells it; origin "PATH: where"). A name found is added to
 * `names`. */
void pt_hostinfer_file(const char *path, const uint8_t *p, size_t n,
                       struct pt_hostinfer_names *names,
                       void (*fn)(void *, enum pt_hostinfer_kind, const char *value,
                                  const char *origin),
                       void *arg);

/* The phase over a case: the files of every image the walk read, found and read, their
 * names and addresses written to image_hostname and image_host (source 'inferred', used
 * unless an option links that image); an anomaly image.host_inferred per image says what
 * was inferred, and that several candidates were all kept when they were. Run after the
 * options' links (pt_q_staging_link) and before the verdict. */
pt_status pt_hostinfer_run(struct pt_db *db, const char *case_dir);

#endif
