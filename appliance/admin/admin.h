// SPDX-License-Identifier: Apache-2.0
// admin.h: the admin API (loopback :15000), health (:15021) and Prometheus
// (:15090) servers. They run on the control thread's ring.
#ifndef MG_ADMIN_ADMIN_H
#define MG_ADMIN_ADMIN_H

struct control;

// admin_start opens the three listeners on ctl's ring. It returns 0 or
// -errno (logged).
int admin_start(struct control *ctl);

#endif
