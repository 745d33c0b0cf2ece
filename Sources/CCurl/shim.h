#ifndef SYNCHOST_CCURL_SHIM_H
#define SYNCHOST_CCURL_SHIM_H
#include <curl/curl.h>

// curl_easy_setopt is variadic, which Swift cannot call: one typed wrapper per argument kind.
static inline CURLcode sh_curl_set_long(CURL *c, CURLoption o, long v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode sh_curl_set_str(CURL *c, CURLoption o, const char *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode sh_curl_set_ptr(CURL *c, CURLoption o, void *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode sh_curl_set_slist(CURL *c, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(c, o, v); }
typedef size_t (*sh_curl_io_fn)(char *, size_t, size_t, void *);
static inline CURLcode sh_curl_set_fn(CURL *c, CURLoption o, sh_curl_io_fn v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode sh_curl_get_long(CURL *c, CURLINFO i, long *v) { return curl_easy_getinfo(c, i, v); }
#endif
