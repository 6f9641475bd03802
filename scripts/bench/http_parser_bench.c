// Request-head parsing cost of Debian's libhttp-parser (2.9), for scripts/bench/parser.sh: the same heads as the
// Swift parser's benchmark (Fuzz/Sources/HTTP1Bench), with callbacks that record what a proxy needs (the target
// and every header name/value as offsets), so both do comparable work. Prints ns per head.
#include <http_parser.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

struct ranges { const char *base; int n; int offsets[256]; int done; };

static int on_url(http_parser *p, const char *at, size_t len) {
    struct ranges *r = p->data; r->offsets[r->n++ & 255] = (int)(at - r->base) + (int)len; return 0; }
static int on_field(http_parser *p, const char *at, size_t len) {
    struct ranges *r = p->data; r->offsets[r->n++ & 255] = (int)(at - r->base) + (int)len; return 0; }
static int on_value(http_parser *p, const char *at, size_t len) {
    struct ranges *r = p->data; r->offsets[r->n++ & 255] = (int)(at - r->base) + (int)len; return 0; }
static int on_headers_complete(http_parser *p) { struct ranges *r = p->data; r->done = 1; return 1; /* no body */ }

static double bench(const char *name, const char *head, long iterations) {
    http_parser_settings settings;
    memset(&settings, 0, sizeof settings);
    settings.on_url = on_url;
    settings.on_header_field = on_field;
    settings.on_header_value = on_value;
    settings.on_headers_complete = on_headers_complete;
    size_t len = strlen(head);
    struct timespec a, b;
    long check = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < iterations; i++) {
        http_parser parser;
        struct ranges r = {head, 0, {0}, 0};
        http_parser_init(&parser, HTTP_REQUEST);
        parser.data = &r;
        http_parser_execute(&parser, &settings, head, len);
        check += r.n + r.done + (http_should_keep_alive(&parser) ? 1 : 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / iterations;
    printf("libhttp-parser %-8s %7.1f ns/head  (check %ld)\n", name, ns, check % 7);
    return ns;
}

/// `http_parser_bench probe`: how libhttp-parser treats the shapes the gateway must refuse (HPE_OK = accepted).
static int probe(void) {
    const char *cases[][2] = {
        {"repeated Content-Length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"},
        {"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"},
        {"bare LF line ends", "GET / HTTP/1.1\nHost: h\n\n"},
        {"CL with TE", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
        {"bare CR in a value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n"},
        {"space after chunk size", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n"},
        {"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n"},
    };
    http_parser_settings settings;
    memset(&settings, 0, sizeof settings);
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        http_parser parser;
        http_parser_init(&parser, HTTP_REQUEST);
        http_parser_execute(&parser, &settings, cases[i][1], strlen(cases[i][1]));
        printf("libhttp-parser %-24s %s\n", cases[i][0], http_errno_name(HTTP_PARSER_ERRNO(&parser)));
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "probe") == 0) return probe();
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    const char *only = argc > 2 ? argv[2] : "";
    if (strcmp(only, "browser") != 0) bench("wrk", "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", n);
    if (strcmp(only, "wrk") != 0) bench("browser",
          "GET /api/v1/items?page=2&sort=name HTTP/1.1\r\nHost: api.example.com\r\n"
          "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
          "Accept: application/json, text/plain, */*\r\nAccept-Language: en-US,en;q=0.5\r\n"
          "Accept-Encoding: gzip, deflate, br\r\nReferer: https://app.example.com/items\r\n"
          "Cookie: gw_session=abcdefghijklmnopqrstuvwxyz0123456789.ABCDEFGHIJKLMNOPQRSTUVWXYZ; theme=dark\r\n"
          "X-Request-Id: 0b7c7a3e-3d1f-4c7e-9f43-2a1d5c8e9f00\r\nConnection: keep-alive\r\n\r\n",
          strcmp(only, "browser") == 0 ? n : n / 2);
    return 0;
}
