/* Link-time wrappers around an allocator library's entry points, for programs whose Rust global
 * allocator never calls malloc (tikv-jemallocator, mimalloc). cargo-alloc-profile compiles this
 * file with one of WRAP_JEMALLOC, WRAP_JEMALLOC_UNPREFIXED or WRAP_MIMALLOC defined and links it
 * into the profiled executables with -Wl,--wrap=<symbol> for each entry point below.
 *
 * The real functions are declared weak so that an executable of the same workspace that does not
 * link the allocator still links (rustc garbage-collects the unused wrappers).
 *
 * Each wrapper calls the real function and tells the interposer (the preloaded runtime, found
 * with dlsym) what happened; without the interposer it is a plain pass-through. The protocol is
 * described in crates/preload/src/hooks/wrapped.rs. Compiled with frame pointers so the
 * interposer's frame-pointer walk goes through these frames into the Rust code that allocated. */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

struct taken {
    const void *rec;
    size_t size;
};

typedef unsigned long (*begin_fn)(void);
typedef void (*alloc_fn)(unsigned long, void *, size_t);
typedef void (*free_fn)(unsigned long, void *);
typedef void (*take_fn)(unsigned long, void *, struct taken *);
typedef void (*realloc_fn)(unsigned long, void *, const struct taken *, void *, size_t);

static begin_fn api_begin;
static alloc_fn api_alloc;
static free_fn api_free;
static take_fn api_take;
static realloc_fn api_realloc;
/* 0: not looked up yet, 1: interposer present, 2: absent. */
static int api_state;
/* Set while this thread looks the interposer up: dlsym may allocate. */
static __thread int looking_up;

static int api_ready(void) {
    int state = __atomic_load_n(&api_state, __ATOMIC_ACQUIRE);
    if (state != 0) {
        return state == 1;
    }
    if (looking_up) {
        return 0;
    }
    looking_up = 1;
    begin_fn b = (begin_fn)dlsym(RTLD_DEFAULT, "alloc_profile_wrap_begin");
    alloc_fn a = (alloc_fn)dlsym(RTLD_DEFAULT, "alloc_profile_wrap_alloc");
    free_fn f = (free_fn)dlsym(RTLD_DEFAULT, "alloc_profile_wrap_free");
    take_fn t = (take_fn)dlsym(RTLD_DEFAULT, "alloc_profile_wrap_take");
    realloc_fn r = (realloc_fn)dlsym(RTLD_DEFAULT, "alloc_profile_wrap_realloc");
    looking_up = 0;
    if (b && a && f && t && r) {
        api_begin = b;
        api_alloc = a;
        api_free = f;
        api_take = t;
        api_realloc = r;
        __atomic_store_n(&api_state, 1, __ATOMIC_RELEASE);
        return 1;
    }
    __atomic_store_n(&api_state, 2, __ATOMIC_RELEASE);
    return 0;
}

static unsigned long begin(void) {
    return api_ready() ? api_begin() : 0;
}

#define WRAP_ALLOC(name, params, args, size)                                                      \
    __attribute__((weak)) void *__real_##name params;                                             \
    __attribute__((noinline)) void *__wrap_##name params {                                        \
        unsigned long t = begin();                                                                \
        void *result = __real_##name args;                                                        \
        if (t) api_alloc(t, result, (size));                                                      \
        return result;                                                                            \
    }

#define WRAP_REALLOC(name, params, args, old, size)                                               \
    __attribute__((weak)) void *__real_##name params;                                             \
    __attribute__((noinline)) void *__wrap_##name params {                                        \
        unsigned long t = begin();                                                                \
        struct taken taken = {0, 0};                                                              \
        if (t) api_take(t, (old), &taken);                                                        \
        void *result = __real_##name args;                                                        \
        if (t) api_realloc(t, (old), &taken, result, (size));                                     \
        return result;                                                                            \
    }

#define WRAP_FREE(name, params, args, ptr)                                                        \
    __attribute__((weak)) void __real_##name params;                                              \
    __attribute__((noinline)) void __wrap_##name params {                                         \
        unsigned long t = begin();                                                                \
        if (t) api_free(t, (ptr));                                                                \
        __real_##name args;                                                                       \
    }

/* Overflow-checked n * size for calloc: the request size as the caller asked it. */
__attribute__((unused)) static size_t mul_size(size_t n, size_t size) {
    size_t r;
    return __builtin_mul_overflow(n, size, &r) ? (size_t)-1 : r;
}

#if defined(WRAP_JEMALLOC)
WRAP_ALLOC(_rjem_malloc, (size_t size), (size), size)
WRAP_ALLOC(_rjem_mallocx, (size_t size, int flags), (size, flags), size)
WRAP_ALLOC(_rjem_calloc, (size_t n, size_t size), (n, size), mul_size(n, size))
WRAP_REALLOC(_rjem_realloc, (void *p, size_t size), (p, size), p, size)
WRAP_REALLOC(_rjem_rallocx, (void *p, size_t size, int flags), (p, size, flags), p, size)
WRAP_FREE(_rjem_free, (void *p), (p), p)
WRAP_FREE(_rjem_sdallocx, (void *p, size_t size, int flags), (p, size, flags), p)
WRAP_FREE(_rjem_dallocx, (void *p, int flags), (p, flags), p)
#elif defined(WRAP_JEMALLOC_UNPREFIXED)
WRAP_ALLOC(malloc, (size_t size), (size), size)
WRAP_ALLOC(mallocx, (size_t size, int flags), (size, flags), size)
WRAP_ALLOC(calloc, (size_t n, size_t size), (n, size), mul_size(n, size))
WRAP_REALLOC(realloc, (void *p, size_t size), (p, size), p, size)
WRAP_REALLOC(rallocx, (void *p, size_t size, int flags), (p, size, flags), p, size)
WRAP_FREE(free, (void *p), (p), p)
WRAP_FREE(sdallocx, (void *p, size_t size, int flags), (p, size, flags), p)
WRAP_FREE(dallocx, (void *p, int flags), (p, flags), p)
#elif defined(WRAP_MIMALLOC)
WRAP_ALLOC(mi_malloc_aligned, (size_t size, size_t align), (size, align), size)
WRAP_ALLOC(mi_zalloc_aligned, (size_t size, size_t align), (size, align), size)
WRAP_REALLOC(mi_realloc_aligned, (void *p, size_t size, size_t align), (p, size, align), p, size)
WRAP_FREE(mi_free, (void *p), (p), p)
#else
#error "define WRAP_JEMALLOC, WRAP_JEMALLOC_UNPREFIXED or WRAP_MIMALLOC"
#endif
