/*
 * synchost plugin ABI — THE contract between the synchost host and its plugins.
 *
 * A plugin is a shared object exporting exactly one symbol, SH_ENTRY_SYMBOL. The host
 *   1. dlopen()s it with RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE (and never dlclose()s it),
 *   2. calls the entry with its service table and its ABI version,
 *   3. checks the returned descriptor (magic, struct_size, ABI major ==, ABI minor <=, name, version,
 *      kind, manifest) BEFORE calling anything else of the plugin,
 *   4. from then on talks to the plugin only through descriptor->invoke / cancel / shutdown.
 *
 * Rules that keep the boundary stable across separately built binaries:
 *   - Only C types cross it. Payloads are bytes with explicit lengths (UTF-8 JSON unless an operation says
 *     otherwise); names and operation strings are NUL-terminated UTF-8.
 *   - Structs are append-only. A new member goes at the end with the minor version that added it; readers
 *     check struct_size before touching a member. Removing or reordering a member is a major bump, and the
 *     entry symbol's suffix changes with the major version (as PostgreSQL's PG_MODULE_MAGIC and SQLite's
 *     sqlite3_api_routines do).
 *   - Ownership: every pointer passed INTO a call is borrowed for the duration of that call only; the callee
 *     copies what it keeps. This holds for requests, for the bytes handed to an sh_done_fn, and for log
 *     messages. Nothing is ever freed across the boundary. The exceptions are the descriptor and the host
 *     table themselves: each side keeps its own alive for the life of the process.
 *   - Asynchrony: invoke() and every sh_service_fn return at once and report their result later, exactly once,
 *     through the sh_done_fn they were given, from any thread. Neither side blocks a thread waiting on I/O.
 *     An sh_done_fn may be called before the function that received it returns.
 *   - Errors: status != SH_OK carries a UTF-8 JSON body {"code": "...", "message": "..."}.
 */
#ifndef SYNCHOST_PLUGIN_H
#define SYNCHOST_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Versions (a host of minor N loads plugins of minor <= N; each name below says the minor that added it):
 *   1.0  the descriptor and host table below; operations run, instance.created, config.validate, record.fetch,
 *        send; services config.get, fetch.request, store.upsert/get, cursor.get/set, state.get/set, schedule.enqueue,
 *        notify.send.
 *   1.1  operation route (a plugin's HTTP routes, declared in the manifest's "routes"); store.list, aggregate,
 *        purge_keys, purge_deleted; schedule.runs; config.host (what the host offers); a route answer's
 *        "cache" member; every fetch option optional; an operation a host lacks is SH_ERR_UNAVAILABLE.
 *   1.2  fetch.open, fetch.read, fetch.close: a response body read in pieces as it arrives (an answer larger
 *        than the memory a plugin should hold).
 *   1.3  route request and answer are framed (below): bodies are bytes, not JSON strings. The host sends a
 *        plugin the route payload of the minor it declares (JSON with a string "body" to a 1.1/1.2 plugin).
 *        run and route requests carry "now": the host's clock at the call (a test host moves it; use it
 *        for "today", ages and expiries instead of the system clock).
 *   1.4  schedule.progress: a run reports how far it is (the console's progress bars, `run --verbose`); the
 *        manifest's "views": tables, charts and summary cards the host's console renders, with actions; a
 *        collection's "retention" {"days"?, "field"?, "tombstone_days"?}, applied by the host's retention job.
 *   1.5  send: the message's "html" (an HTML alternative of "text") and "attachments" [{"filename",
 *        "content_type", "data" (base64)}] (the host's reports); a notifier of an older minor gets neither, its
 *        text names the files instead.
 *   1.6  schedule.alerts: the instance's alerts as the host's alert rules raised them ({"include_resolved",
 *        "limit"} -> {"alerts": [...]}); the host's default rules take an instance's "alert_channel",
 *        "alert_min_score", "alert_max_errors" and "alert_max_delay_hours" config values where its plugin
 *        declares those keys.
 */
#define SH_ABI_MAJOR 1u
#define SH_ABI_MINOR 6u
/* major in the high 16 bits, minor in the low 16 bits */
#define SH_ABI_VERSION ((SH_ABI_MAJOR << 16) | SH_ABI_MINOR)
#define SH_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define SH_ABI_MINOR_OF(v) ((uint32_t)(v) & 0xFFFFu)

/*
 * Operation names: the `op` of descriptor->invoke (host -> plugin). Request and answer are UTF-8 JSON.
 */
#define SH_OP_RUN "run"                         /* 1.0 connector: run a job */
#define SH_OP_INSTANCE_CREATED "instance.created" /* 1.0 connector: an instance was added */
#define SH_OP_CONFIG_VALIDATE "config.validate" /* 1.0 check a config beyond its schema */
#define SH_OP_RECORD_FETCH "record.fetch"       /* 1.0 connector: read one record live */
#define SH_OP_SEND "send"                       /* 1.0 notifier: deliver a message */
#define SH_OP_ROUTE "route"                     /* 1.1 answer one of the manifest's HTTP routes; 1.3 framed:
                                                   frame 1 {"method","route","path","path_params","query",
                                                   "headers","instance"?}, frame 2 the request body (left out
                                                   when there is none) -> frame 1 {"status","headers"?,
                                                   "cache"?: {"until_ms"?}}, frame 2 the answer body */

/*
 * Service operations: the `op` of each sh_service_fn in sh_host_api (plugin -> host).
 */
#define SH_CONFIG_GET "get"                     /* 1.0 {} -> the calling instance's config object */
#define SH_CONFIG_HOST "host"                   /* 1.1 {} -> {"abi","host_version","services":{service:{op:since}},
                                                   "operations":{op:since},"limits":{...}}; any session, 0 too */
#define SH_FETCH_REQUEST "request"              /* 1.0 framed, see below */
#define SH_FETCH_OPEN "open"                    /* 1.2 the same request frames -> the head JSON alone, with
                                                   "stream": id; the body is read with fetch.read */
#define SH_FETCH_READ "read"                    /* 1.2 {"stream", "max_bytes"?: 1048576 (at most 16777216)} -> the
                                                   next bytes of the body, raw (at most max_bytes); 0 bytes = the
                                                   end, after which the stream is gone */
#define SH_FETCH_CLOSE "close"                  /* 1.2 {"stream"} -> {}: abandons the rest of the body. Streams
                                                   also close with the call (session) that opened them */
#define SH_STORE_UPSERT "upsert"                /* 1.0 framed: header {"collection","cursor"?,"dry_run"?}, then
                                                   key, data, key, data... -> {"inserted","updated","unchanged",...} */
#define SH_STORE_GET "get"                      /* 1.0 {"collection","key"} -> {"record": {"key","data"} | null} */
#define SH_STORE_CURSOR_GET "cursor.get"        /* 1.0 {"name"} -> {"value": any | null} */
#define SH_STORE_CURSOR_SET "cursor.set"        /* 1.0 {"name","value"} -> {} */
#define SH_STORE_STATE_GET "state.get"          /* 1.0 {"name"} -> {"value": any | null} */
#define SH_STORE_STATE_SET "state.set"          /* 1.0 {"name","value"} -> {} */
#define SH_STORE_LIST "list"                    /* 1.1 {"collection","key_from"?,"key_to"?,"filters"?,"limit"?,"cursor"?} */
#define SH_STORE_AGGREGATE "aggregate"          /* 1.1 counts and sums of live records */
#define SH_STORE_PURGE_KEYS "purge_keys"        /* 1.1 {"collection","keys":[...]} (at most 10000) */
#define SH_STORE_PURGE_DELETED "purge_deleted"  /* 1.1 {"collection","deleted_before"} */
#define SH_SCHEDULE_ENQUEUE "enqueue"           /* 1.0 run one of the plugin's jobs now or later */
#define SH_SCHEDULE_RUNS "runs"                 /* 1.1 the instance's recent runs */
#define SH_SCHEDULE_PROGRESS "progress"         /* 1.4 within a run: {"done","total","label"?,"bar"?} -> {}; "bar" names one
                                                   of several bars (e.g. each day of a backfill), default the run's */
#define SH_SCHEDULE_ALERTS "alerts"             /* 1.6 the instance's alerts from the host's rules: {"include_resolved","limit"} */
#define SH_NOTIFY_SEND "send"                   /* 1.0 queue a message for the notifier plugins */

/*
 * Frames: where a payload says "framed" it is a sequence of frames, each a little-endian uint32 length and
 * then that many bytes. fetch.request sends frame 1, a JSON head, and frame 2, the body (may be left out):
 *   {"url": "http(s)://...",            required
 *    "method": "GET",                   default GET
 *    "headers": {"name": "value"},      default none
 *    "options": {"timeout_ms": 30000,   per attempt
 *                "max_attempts": 3,     network errors, timeouts and retry_on_status are retried with backoff
 *                "retry_on_status": [429, 502, 503, 504],
 *                "initial_backoff_ms": 200,  doubled per attempt, 0.5-1.0x jitter, Retry-After honoured
 *                "rate_limit_key": none, "rate_per_second": none}}   calls sharing a key share a token bucket
 * and answers frame 1 {"status", "headers": {lower-case name: value}, "attempts"} and frame 2 the body.
 *
 * Times in JSON payloads (scheduled_for, run_at, since, synced_at, ...) are numbers: seconds since
 * 2001-01-01T00:00:00Z (Unix seconds - 978307200), as the Swift SDK's coders write them.
 */

/* The one exported symbol. Its suffix is the ABI major version. */
#define SH_ENTRY_SYMBOL "synchost_plugin_entry_v1"

/* "SYNCHPLG" and "SYNCHOST" as little-endian 64-bit integers. */
#define SH_PLUGIN_MAGIC 0x474C5048434E5953ull
#define SH_HOST_MAGIC 0x54534F48434E5953ull

enum sh_kind {
    SH_KIND_CONNECTOR = 1, /* syncs an upstream into collections; runs jobs */
    SH_KIND_NOTIFIER = 2   /* delivers messages (WeCom, SMS, e-mail...) */
};

enum sh_status {
    SH_OK = 0,
    SH_ERR_INVALID = 1,     /* the request is malformed or names something unknown */
    SH_ERR_NOT_FOUND = 2,   /* the thing asked for does not exist */
    SH_ERR_UNAVAILABLE = 3, /* the service or operation is not available in this host */
    SH_ERR_UPSTREAM = 4,    /* the upstream failed (network, HTTP, protocol) */
    SH_ERR_CONFIG = 5,      /* configuration or permission problem: retrying will not help */
    SH_ERR_CANCELLED = 6,   /* the call was cancelled (host shutdown, job timeout, user) */
    SH_ERR_INTERNAL = 7     /* a bug: the other side should log it and fail the call */
};

enum sh_log_level {
    SH_LOG_TRACE = 0,
    SH_LOG_DEBUG = 1,
    SH_LOG_INFO = 2,
    SH_LOG_NOTICE = 3,
    SH_LOG_WARNING = 4,
    SH_LOG_ERROR = 5,
    SH_LOG_CRITICAL = 6
};

/*
 * Completion callback. Called exactly once per call. `bytes` is valid only during the callback.
 * On SH_OK, `bytes` is the operation's response; otherwise it is the JSON error body.
 */
typedef void (*sh_done_fn)(void *done_ctx, int32_t status, const uint8_t *bytes, size_t len);

/*
 * A host service call. `session` is the value the host passed to invoke() (it tells the host which plugin
 * instance and run is asking; 0 means "the plugin itself, outside any call"). `op` names the operation of
 * the service; `request` is its payload. See docs/writing-a-plugin.md for every service's operations.
 */
typedef void (*sh_service_fn)(void *host_ctx, uint64_t session, const char *op, const uint8_t *request,
                              size_t request_len, sh_done_fn done, void *done_ctx);

/* Host -> plugin: the services every plugin reaches the same way. Append-only. */
typedef struct sh_host_api {
    uint64_t magic;        /* SH_HOST_MAGIC */
    uint32_t struct_size;  /* sizeof(sh_host_api) as the host was compiled */
    uint32_t abi_version;  /* SH_ABI_VERSION of the host */
    void *host_ctx;        /* pass back as the first argument of every function below */
    const char *host_version;

    /* --- ABI 1.0 --- */
    /* Synchronous and non-blocking. The host masks secrets (config values marked secret, tokens in URLs). */
    void (*log)(void *host_ctx, uint64_t session, int32_t level, const uint8_t *message, size_t len);
    /* "get": the calling instance's configuration as JSON (secrets included: do not log them). */
    sh_service_fn config;
    /* "request": HTTP with the host's timeouts, retries, backoff, rate limiting and TLS (binary framing). */
    sh_service_fn fetch;
    /* "upsert", "get", "list", "cursor.get", "cursor.set", "state.get", "state.set": the host's store. */
    sh_service_fn store;
    /* "enqueue": run one of the plugin's jobs now or at a later time through the host's run queue. */
    sh_service_fn schedule;
    /* "send": hand a message to the notifier plugins through the host's outbox. */
    sh_service_fn notify;
    /* --- new members are appended below this line, each with the minor version that added it --- */
} sh_host_api;

/* Plugin -> host: who the plugin is and how to call it. Append-only. */
typedef struct sh_plugin_descriptor {
    uint64_t magic;          /* SH_PLUGIN_MAGIC */
    uint32_t struct_size;    /* sizeof(sh_plugin_descriptor) as the plugin was compiled */
    uint32_t abi_version;    /* SH_ABI_VERSION the plugin was compiled against */
    const char *name;        /* [a-z][a-z0-9_]{0,39}; unique in a host */
    const char *version;     /* the plugin's own version, e.g. "1.2.0" */
    uint32_t kind;           /* enum sh_kind */
    /* "c", or "swift-MAJOR.MINOR" for plugins using the Swift runtime (it must match the host's, since
       Swift has no stable ABI on Linux and the process has one shared runtime). */
    const char *toolchain;
    const uint8_t *manifest; /* UTF-8 JSON: config schema, jobs and default schedules, collections, routes */
    size_t manifest_len;
    void *plugin_ctx;        /* pass back as the first argument of the functions below */

    /*
     * Host -> plugin operations. `session` identifies this call for service calls and cancel(); the
     * plugin passes it back to the host's services. Operations (request and response JSON are documented in
     * docs/writing-a-plugin.md): "run" (connector job), "instance.created", "config.validate",
     * "record.fetch" (live read of one record), "route" (a plugin HTTP route), "send" (notifier).
     * An operation the plugin does not know is answered with SH_ERR_UNAVAILABLE. Names: SH_OP_* above.
     */
    void (*invoke)(void *plugin_ctx, uint64_t session, const char *op, const uint8_t *request,
                   size_t request_len, sh_done_fn done, void *done_ctx);
    /* Ask the call identified by `session` to stop soon; its done() is still called exactly once. */
    void (*cancel)(void *plugin_ctx, uint64_t session);
    /* Called once at host shutdown, after every call has completed. The image stays mapped. */
    void (*shutdown)(void *plugin_ctx);
    /* --- new members are appended below this line --- */
} sh_plugin_descriptor;

/* The entry point, exported as SH_ENTRY_SYMBOL. Returns NULL if the plugin refuses the host (it may log
   why through host->log first). The descriptor must stay valid for the life of the process. */
typedef const sh_plugin_descriptor *(*sh_entry_fn)(const sh_host_api *host, uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* SYNCHOST_PLUGIN_H */
