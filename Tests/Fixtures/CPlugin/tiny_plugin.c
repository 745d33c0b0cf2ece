/*
 * A synchost plugin in plain C, compiled by the tests with `cc -shared -fPIC -I Sources/PluginABI/include`.
 * It proves the header is the whole contract. Compile-time switches make the deliberately broken variants
 * the loader must reject: -DPLUGIN_NAME, -DABI_MAJOR_DELTA=1, -DABI_MINOR_DELTA=1, -DBROKEN_MANIFEST,
 * -DWRONG_MAGIC, -DUNRESOLVED_SYMBOL, -DNO_ENTRY.
 *
 * Operations: "run" of job "greet" logs, asks the host for the instance config (an asynchronous service
 * call) and answers with a RunResult whose message carries the config. "run" of job "sync" writes records
 * "a", "b" (and "c" when the request says "with_c":true) and reports a full sync of "greetings", complete
 * unless the request says "incomplete":true. "run" of job "bulk" writes N records (param "total", pages of
 * "page" records) resuming from its cursor, one page per store call — the crash test kills it midway.
 * "record.fetch" answers a record for any key but "missing" (none) and "fail" (upstream error).
 * "echo" answers its request; "hang" never answers.
 * Built with -DCRASHY (the process-isolation tests, as plugin "crashy") it also has jobs that end its process:
 * "segfault" (a write through NULL), "abort", "leak" (allocates and touches memory until malloc fails, then
 * aborts) and "freeze" (blocks the thread that called invoke for ever: a hung plugin).
 */
#define _GNU_SOURCE /* memmem */
#include "synchost_plugin.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "tiny_c"
#endif
#ifndef ABI_MAJOR_DELTA
#define ABI_MAJOR_DELTA 0
#endif
#ifndef ABI_MINOR_DELTA
#define ABI_MINOR_DELTA 0
#endif

#ifdef CRASHY
#define CRASH_JOBS ",{\"name\":\"segfault\",\"description\":\"writes through NULL\"},{\"name\":\"abort\",\"description\":\"abort()\"}," \
    "{\"name\":\"leak\",\"description\":\"allocates without bound\"},{\"name\":\"freeze\",\"description\":\"never returns from invoke\"}"
#else
#define CRASH_JOBS ""
#endif

#ifdef BROKEN_MANIFEST
static const char manifest[] = "{\"description\": \"broken\", \"jobs\": [ {\"name\": 42 ";
#else
static const char manifest[] =
    "{\"description\":\"A plugin written in C against synchost_plugin.h\","
    "\"config\":[{\"key\":\"greeting\",\"type\":\"string\",\"default\":\"hello\",\"description\":\"what to say\"},"
    "{\"key\":\"password\",\"type\":\"string\",\"secret\":true,\"description\":\"a secret\"}],"
    "\"jobs\":[{\"name\":\"greet\",\"description\":\"log and read config\",\"schedules\":[{\"cron\":\"*/5 * * * *\"}]},"
    "{\"name\":\"sync\",\"description\":\"full sync of a, b (c)\",\"params\":["
    "{\"key\":\"with_c\",\"type\":\"boolean\"},{\"key\":\"incomplete\",\"type\":\"boolean\"}]},"
    "{\"name\":\"bulk\",\"description\":\"many records, resumable\",\"params\":["
    "{\"key\":\"total\",\"type\":\"integer\",\"default\":1000},{\"key\":\"page\",\"type\":\"integer\",\"default\":100}]},"
    "{\"name\":\"slow\",\"description\":\"succeeds after ms\",\"params\":[{\"key\":\"ms\",\"type\":\"integer\",\"default\":1000}]},"
    "{\"name\":\"fail\",\"description\":\"always fails with an upstream error\"}" CRASH_JOBS "],"
    "\"collections\":[{\"name\":\"greetings\",\"key_field\":\"id\",\"tombstones\":true,\"description\":\"a, b, c\"},"
    "{\"name\":\"bulk\",\"key_field\":\"id\",\"description\":\"numbered records\"}],"
    "\"routes\":[{\"method\":\"POST\",\"path\":\"reverse\",\"description\":\"the request body, reversed\"}]}";
#endif

static const sh_host_api *host;

#ifdef UNRESOLVED_SYMBOL
extern void synchost_fixture_function_that_does_not_exist(void);
#endif

struct pending {
    sh_done_fn done;
    void *done_ctx;
};

static void reply(sh_done_fn done, void *ctx, int32_t status, const char *json) {
    done(ctx, status, (const uint8_t *)json, strlen(json));
}

/* Completion of the host's config.get: finish the plugin's own "run" with what the host said. */
static void config_done(void *ctx, int32_t status, const uint8_t *bytes, size_t len) {
    struct pending *p = ctx;
    char *out = malloc(len * 2 + 256);
    if (status != SH_OK) {
        reply(p->done, p->done_ctx, status, "{\"code\":\"internal\",\"message\":\"config.get failed\"}");
    } else {
        /* Escape the config JSON into the message string. */
        size_t n = (size_t)sprintf(out, "{\"complete\":true,\"counts\":{\"fetched\":1,\"pages\":1,\"inserted\":0,"
                                        "\"updated\":0,\"unchanged\":0,\"deleted\":0},\"details\":{},\"message\":\"config=");
        for (size_t i = 0; i < len; i++) {
            if (bytes[i] == '"' || bytes[i] == '\\') out[n++] = '\\';
            out[n++] = (char)bytes[i];
        }
        strcpy(out + n, "\"}");
        reply(p->done, p->done_ctx, SH_OK, out);
    }
    free(out);
    free(p);
}


/* --- framing helpers for store.upsert --- */
struct buf { uint8_t *p; size_t len, cap; };
static void put(struct buf *b, const void *data, size_t n) {
    if (b->len + n > b->cap) { b->cap = (b->len + n) * 2; b->p = realloc(b->p, b->cap); }
    memcpy(b->p + b->len, data, n); b->len += n;
}
static void frame(struct buf *b, const char *s, size_t n) {
    uint8_t l[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    put(b, l, 4); put(b, s, n);
}
static void frame_str(struct buf *b, const char *s) { frame(b, s, strlen(s)); }

/* job "sync": one upsert, then the result */
static int wants(const uint8_t *request, size_t len, const char *needle) {
    char *copy = malloc(len + 1); memcpy(copy, request, len); copy[len] = 0;
    int found = strstr(copy, needle) != NULL; free(copy); return found;
}
struct sync_call { sh_done_fn done; void *done_ctx; int complete; uint64_t session; struct buf page; };
static void sync_done(void *ctx, int32_t status, const uint8_t *bytes, size_t len) {
    struct sync_call *c = ctx;
    if (status != SH_OK) { c->done(c->done_ctx, status, bytes, len); free(c); return; }
    char out[512];
    snprintf(out, sizeof out, "{\"complete\":%s,\"full_sync\":[\"greetings\"],\"counts\":%.*s}",
             c->complete ? "true" : "false", (int)len, (const char *)bytes);
    reply(c->done, c->done_ctx, SH_OK, out);
    free(c);
}
/* 1.4: the run says how far it is (whatever the answer: progress never fails a run), then writes its page. */
static void sync_progress_done(void *ctx, int32_t status, const uint8_t *bytes, size_t len) {
    (void)status; (void)bytes; (void)len;
    struct sync_call *c = ctx;
    host->store(host->host_ctx, c->session, "upsert", c->page.p, c->page.len, sync_done, c);
    free(c->page.p);
}
static void run_sync(uint64_t session, const uint8_t *request, size_t len, sh_done_fn done, void *done_ctx) {
    struct buf b = {0};
    frame_str(&b, "{\"collection\":\"greetings\"}");
    frame_str(&b, "a"); frame_str(&b, "{\"id\":\"a\",\"n\":1}");
    frame_str(&b, "b"); frame_str(&b, "{\"id\":\"b\",\"n\":2}");
    if (wants(request, len, "\"with_c\":true")) { frame_str(&b, "c"); frame_str(&b, "{\"id\":\"c\",\"n\":3}"); }
    struct sync_call *c = malloc(sizeof *c);
    c->done = done; c->done_ctx = done_ctx; c->complete = !wants(request, len, "\"incomplete\":true");
    c->session = session; c->page = b;
    const char *progress = "{\"done\":1,\"total\":2,\"label\":\"greetings page 1\"}";
    host->schedule(host->host_ctx, session, "progress", (const uint8_t *)progress, strlen(progress), sync_progress_done, c);
}

/* job "bulk": cursor.get, then one upsert per page carrying the next cursor, until total */
struct bulk { uint64_t session; sh_done_fn done; void *done_ctx; long next, total, page, written; };
static long param(const uint8_t *request, size_t len, const char *name, long fallback) {
    char *copy = malloc(len + 1); memcpy(copy, request, len); copy[len] = 0;
    char key[64]; snprintf(key, sizeof key, "\"%s\":", name);
    char *at = strstr(copy, key);
    long v = at ? strtol(at + strlen(key), NULL, 10) : fallback;
    free(copy); return v;
}
static void bulk_step(struct bulk *k);
static void bulk_page_done(void *ctx, int32_t status, const uint8_t *bytes, size_t len) {
    struct bulk *k = ctx;
    if (status != SH_OK) { k->done(k->done_ctx, status, bytes, len); free(k); return; }
    bulk_step(k);
}
static void bulk_step(struct bulk *k) {
    if (k->next >= k->total) {
        char out[256];
        snprintf(out, sizeof out, "{\"complete\":true,\"counts\":{\"fetched\":%ld},\"message\":\"resumed\"}", k->written);
        reply(k->done, k->done_ctx, SH_OK, out);
        free(k); return;
    }
    long end = k->next + k->page < k->total ? k->next + k->page : k->total;
    struct buf b = {0};
    char header[128], key[32], data[160];
    snprintf(header, sizeof header, "{\"collection\":\"bulk\",\"cursor\":{\"stream\":\"bulk\",\"value\":%ld}}", end);
    frame_str(&b, header);
    for (long i = k->next; i < end; i++) {
        snprintf(key, sizeof key, "r%08ld", i);
        snprintf(data, sizeof data, "{\"id\":\"r%08ld\",\"n\":%ld,\"text\":\"record number %ld of the bulk collection\"}", i, i, i);
        frame_str(&b, key); frame_str(&b, data);
    }
    k->written += end - k->next;
    k->next = end;
    host->store(host->host_ctx, k->session, "upsert", b.p, b.len, bulk_page_done, k);
    free(b.p);
}
static void bulk_cursor_done(void *ctx, int32_t status, const uint8_t *bytes, size_t len) {
    struct bulk *k = ctx;
    if (status != SH_OK) { k->done(k->done_ctx, status, bytes, len); free(k); return; }
    /* {"value":123} or {} / {"value":null} */
    char *copy = malloc(len + 1); memcpy(copy, bytes, len); copy[len] = 0;
    char *at = strstr(copy, "\"value\":");
    if (at) k->next = strtol(at + 8, NULL, 10);
    free(copy);
    bulk_step(k);
}
static void run_bulk(uint64_t session, const uint8_t *request, size_t len, sh_done_fn done, void *done_ctx) {
    struct bulk *k = calloc(1, sizeof *k);
    k->session = session; k->done = done; k->done_ctx = done_ctx;
    k->total = param(request, len, "total", 1000);
    k->page = param(request, len, "page", 100);
    host->store(host->host_ctx, session, "cursor.get", (const uint8_t *)"{\"name\":\"bulk\"}", 15, bulk_cursor_done, k);
}

/* job "slow": answers from another thread after "ms" milliseconds */
struct slow { sh_done_fn done; void *done_ctx; long ms; };
static void *slow_thread(void *arg) {
    struct slow *w = arg;
    usleep((useconds_t)(w->ms * 1000));
    reply(w->done, w->done_ctx, SH_OK, "{\"complete\":true,\"message\":\"slow done\"}");
    free(w);
    return NULL;
}

/* Hands a host service's answer back as the answer of the plugin's own operation. */
struct relay { sh_done_fn done; void *done_ctx; };
static void relay_done(void *ctx, int32_t status, const uint8_t *bytes, size_t len) {
    struct relay *r = ctx;
    r->done(r->done_ctx, status, bytes, len);
    free(r);
}

/* op "fetch_min": GET the URL in the request with the smallest head the contract allows: {"url": ...}. */
static void fetch_min(uint64_t session, const uint8_t *request, size_t len, sh_done_fn done, void *done_ctx) {
    struct buf b = {0};
    char head[1100];
    snprintf(head, sizeof head, "{\"url\":\"%.*s\"}", (int)(len < 1000 ? len : 1000), (const char *)request);
    frame_str(&b, head);
    struct relay *r = malloc(sizeof *r);
    r->done = done; r->done_ctx = done_ctx;
    host->fetch(host->host_ctx, session, "request", b.p, b.len, relay_done, r);
    free(b.p);
}

/* op "service": calls "<service>:<op>" (config, fetch, store, schedule, notify) with {} and relays the answer. */
static void call_service(uint64_t session, const uint8_t *request, size_t len, sh_done_fn done, void *done_ctx) {
    char text[128];
    size_t n = len < sizeof text - 1 ? len : sizeof text - 1;
    memcpy(text, request, n); text[n] = 0;
    char *colon = strchr(text, ':');
    if (!colon) { reply(done, done_ctx, SH_ERR_INVALID, "{\"code\":\"invalid\",\"message\":\"expected service:op\"}"); return; }
    *colon = 0;
    sh_service_fn fn = strcmp(text, "config") == 0 ? host->config : strcmp(text, "fetch") == 0 ? host->fetch
        : strcmp(text, "store") == 0 ? host->store : strcmp(text, "schedule") == 0 ? host->schedule : host->notify;
    struct relay *r = malloc(sizeof *r);
    r->done = done; r->done_ctx = done_ctx;
    fn(host->host_ctx, session, colon + 1, (const uint8_t *)"{}", 2, relay_done, r);
}

/* route "POST reverse": the request body, reversed. ABI 1.3: frames both ways, any bytes. Built as an older
   plugin (-DABI_MINOR_DELTA=-1): the JSON payloads of 1.1/1.2, a text body (plain ASCII in the tests). */
static void route_reverse(const uint8_t *request, size_t len, sh_done_fn done, void *done_ctx) {
#if ABI_MINOR_DELTA >= 0 /* this header's minor: 1.3 or later */
#define rd32(p) ((uint32_t)(p)[0] | (uint32_t)(p)[1] << 8 | (uint32_t)(p)[2] << 16 | (uint32_t)(p)[3] << 24)
    const uint8_t *body = NULL;
    size_t body_len = 0;
    if (len >= 4) {
        size_t off = 4 + rd32(request);                          /* frame 1: the JSON head, not needed here */
        if (off + 4 <= len && off + 4 + rd32(request + off) <= len) { body_len = rd32(request + off); body = request + off + 4; }
    }
    struct buf out = {0};
    frame_str(&out, "{\"status\":200,\"headers\":{\"content-type\":\"application/octet-stream\"}}");
    char *reversed = malloc(body_len + 1);
    for (size_t i = 0; i < body_len; i++) reversed[i] = (char)body[body_len - 1 - i];
    frame(&out, reversed, body_len);
    free(reversed);
    done(done_ctx, SH_OK, out.p, out.len);
    free(out.p);
#else
    const char *key = "\"body\":\"";
    const char *start = memmem(request, len, key, strlen(key));
    size_t n = 0;
    if (start) { start += strlen(key); while (start + n < (const char *)request + len && start[n] != '"') n++; }
    char *out = malloc(n + 96);
    strcpy(out, "{\"status\":200,\"headers\":{\"content-type\":\"text/plain\"},\"body\":\"");
    size_t at = strlen(out);
    for (size_t i = 0; i < n; i++) out[at + i] = start[n - 1 - i];
    strcpy(out + at + n, "\"}");
    reply(done, done_ctx, SH_OK, out);
    free(out);
#endif
}

static void invoke(void *plugin_ctx, uint64_t session, const char *op, const uint8_t *request, size_t len,
                   sh_done_fn done, void *done_ctx) {
    (void)plugin_ctx;
    if (strcmp(op, "fetch_min") == 0) { fetch_min(session, request, len, done, done_ctx); return; }
    if (strcmp(op, "service") == 0) { call_service(session, request, len, done, done_ctx); return; }
#ifdef CRASHY
    if (strcmp(op, "run") == 0 && wants(request, len, "\"job\":\"segfault\"")) { volatile int *nowhere = NULL; *nowhere = 1; }
    if (strcmp(op, "run") == 0 && wants(request, len, "\"job\":\"abort\"")) abort();
    if (strcmp(op, "run") == 0 && wants(request, len, "\"job\":\"leak\"")) {
        for (;;) {
            char *p = malloc(16 << 20);
            if (!p) abort();
            memset(p, 1, 16 << 20);
        }
    }
    if (strcmp(op, "run") == 0 && wants(request, len, "\"job\":\"freeze\"")) { for (;;) pause(); }
#endif
    if (strcmp(op, "run") == 0 && wants(request, len, "\"job\":\"sync\"")) {
        run_sync(session, request, len, done, done_ctx);
    } else if (strcmp(op, "run") == 0 && wants(request, len, "\"job\":\"bulk\"")) {
        run_bulk(session, request, len, done, done_ctx);
    } else if (strcmp(op, "run") == 0 && wants(request, len, "\"job\":\"slow\"")) {
        struct slow *w = malloc(sizeof *w);
        w->done = done; w->done_ctx = done_ctx; w->ms = param(request, len, "ms", 1000);
        pthread_t t;
        pthread_create(&t, NULL, slow_thread, w);
        pthread_detach(t);
    } else if (strcmp(op, "run") == 0 && wants(request, len, "\"job\":\"fail\"")) {
        reply(done, done_ctx, SH_ERR_UPSTREAM, "{\"code\":\"upstream\",\"message\":\"upstream said no\"}");
    } else if (strcmp(op, "record.fetch") == 0) {
        if (wants(request, len, "\"key\":\"missing\"")) reply(done, done_ctx, SH_OK, "{\"record\":null}");
        else if (wants(request, len, "\"key\":\"fail\"")) reply(done, done_ctx, SH_ERR_UPSTREAM, "{\"code\":\"upstream\",\"message\":\"upstream is down\"}");
        else reply(done, done_ctx, SH_OK, "{\"record\":{\"key\":\"live1\",\"data\":{\"id\":\"live1\",\"fresh\":true}}}");
    } else if (strcmp(op, "run") == 0) {
        const char msg[] = "tiny_c: greet job running";
        host->log(host->host_ctx, session, SH_LOG_INFO, (const uint8_t *)msg, sizeof msg - 1);
        struct pending *p = malloc(sizeof *p);
        p->done = done;
        p->done_ctx = done_ctx;
        host->config(host->host_ctx, session, "get", (const uint8_t *)"{}", 2, config_done, p);
    } else if (strcmp(op, SH_OP_ROUTE) == 0) {
        route_reverse(request, len, done, done_ctx);
    } else if (strcmp(op, "echo") == 0) {
        done(done_ctx, SH_OK, request, len);
    } else if (strcmp(op, "hang") == 0) {
        /* never answers: the host's timeout must handle it */
    } else {
        reply(done, done_ctx, SH_ERR_UNAVAILABLE, "{\"code\":\"unavailable\",\"message\":\"unknown operation\"}");
    }
}

static void cancel(void *plugin_ctx, uint64_t session) { (void)plugin_ctx; (void)session; }
static void shutdown_plugin(void *plugin_ctx) { (void)plugin_ctx; }

static sh_plugin_descriptor descriptor;

#ifdef NO_ENTRY
#define ENTRY_NAME synchost_plugin_entry_v0
#else
#define ENTRY_NAME synchost_plugin_entry_v1
#endif

__attribute__((visibility("default"))) const sh_plugin_descriptor *ENTRY_NAME(const sh_host_api *h, uint32_t host_abi) {
    if (h == NULL || h->magic != SH_HOST_MAGIC || SH_ABI_MAJOR_OF(host_abi) != SH_ABI_MAJOR) return NULL;
#ifdef UNRESOLVED_SYMBOL
    synchost_fixture_function_that_does_not_exist();
#endif
    host = h;
#ifdef WRONG_MAGIC
    descriptor.magic = 0x1234;
#else
    descriptor.magic = SH_PLUGIN_MAGIC;
#endif
    descriptor.struct_size = sizeof descriptor;
    descriptor.abi_version = ((SH_ABI_MAJOR + ABI_MAJOR_DELTA) << 16) | (SH_ABI_MINOR + ABI_MINOR_DELTA);
    descriptor.name = PLUGIN_NAME;
    descriptor.version = "1.0.0";
    descriptor.kind = SH_KIND_CONNECTOR;
    descriptor.toolchain = "c";
    descriptor.manifest = (const uint8_t *)manifest;
    descriptor.manifest_len = sizeof manifest - 1;
    descriptor.plugin_ctx = NULL;
    descriptor.invoke = invoke;
    descriptor.cancel = cancel;
    descriptor.shutdown = shutdown_plugin;
    return &descriptor;
}
