#include <sqlite3.h>

/* sqlite3_config is variadic, which Swift cannot call. Memory statistics off: with them on, every allocation
   inside SQLite takes one process-wide mutex, so readers on two threads queue on it (futex calls per request).
   Effective only before the first connection opens (SQLITE_MISUSE after; harmless). */
static inline int synchost_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
