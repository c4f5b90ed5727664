/* Daemon output to stderr, one line per call. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void br_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("blindrelay: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

noreturn void br_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("blindrelay: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}
