/*
 * A synchost plugin in plain C, compiled by the tests with `cc -shared -fPIC -I Sources/PluginABI/include`.
 * It proves the header is the whole contract. Compile-time switches make the deliberately broken variants
 * the loader must reject: -DPLUGIN_NAME, -DABI_MAJOR_DELTA=1, -DABI_MINOR_DELTA=1, -DBROKEN_MANIFEST,
 * -DWRONG_MAGIC, -DUNRESOLVED_SYMBOL, -DNO_ENTRY.
 *
 * Operations: "run" logs, asks the host for the instance config (an asynchronous service call) and answers
 * with a RunResult whose message carries the config; "echo" answers its request; "hang" never answers.
 */
#include "synchost_plugin.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "tiny_c"
#endif
#ifndef ABI_MAJOR_DELTA
#define ABI_MAJOR_DELTA 0
#endif
#ifndef ABI_MINOR_DELTA
#define ABI_MINOR_DELTA 0
#endif

#ifdef BROKEN_MANIFEST
static const char manifest[] = "{\"description\": \"broken\", \"jobs\": [ {\"name\": 42 ";
#else
static const char manifest[] =
    "{\"description\":\"A plugin written in C against synchost_plugin.h\","
    "\"config\":[{\"key\":\"greeting\",\"type\":\"string\",\"default\":\"hello\",\"description\":\"what to say\"}],"
    "\"jobs\":[{\"name\":\"greet\",\"description\":\"log and read config\",\"schedules\":[{\"cron\":\"*/5 * * * *\"}]}],"
    "\"collections\":[{\"name\":\"greetings\",\"key_field\":\"id\",\"description\":\"none yet\"}]}";
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

static void invoke(void *plugin_ctx, uint64_t session, const char *op, const uint8_t *request, size_t len,
                   sh_done_fn done, void *done_ctx) {
    (void)plugin_ctx;
    if (strcmp(op, "run") == 0) {
        const char msg[] = "tiny_c: greet job running";
        host->log(host->host_ctx, session, SH_LOG_INFO, (const uint8_t *)msg, sizeof msg - 1);
        struct pending *p = malloc(sizeof *p);
        p->done = done;
        p->done_ctx = done_ctx;
        host->config(host->host_ctx, session, "get", (const uint8_t *)"{}", 2, config_done, p);
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
