// SPDX-License-Identifier: Apache-2.0
// arena.h: config uses the core arena (one allocator for the whole tree).
#ifndef MG_CONFIG_ARENA_H
#define MG_CONFIG_ARENA_H

#include "core/arena.h"

#endif
