/* C code linked into a Rust program: its mallocs are counted and symbolized too. */
#include <stdlib.h>
#include <string.h>

char *make_buffer(size_t n) {
    char *p = malloc(n);
    if (p) memset(p, 'x', n);
    return p;
}

void free_buffer(char *p) { free(p); }
