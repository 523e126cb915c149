#ifndef LAKE_CSQLITE_SHIM_H
#define LAKE_CSQLITE_SHIM_H
#include <sqlite3.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

/* SQLITE_TRANSIENT is a macro cast Swift cannot import. */
static inline sqlite3_destructor_type lake_sqlite_transient(void) { return SQLITE_TRANSIENT; }
/* sqlite3_db_config is variadic, which Swift cannot call. */
static inline int lake_sqlite_db_config_int(sqlite3 *db, int op, int value) {
    return sqlite3_db_config(db, op, value, (int *)0);
}

/* SpatiaLite is loaded the first time a connection needs its functions, not when lake starts:
   libspatialite pulls in GEOS, PROJ, librttopo and libxml2, whose loading and relocation cost
   more than a whole `lake query parcel`. These are the three entry points lake uses. */
typedef void *(*lake_spatialite_alloc_fn)(void);
typedef void (*lake_spatialite_init_fn)(sqlite3 *, const void *, int);
typedef void (*lake_spatialite_cleanup_fn)(const void *);

struct lake_spatialite_api {
    void *library;
    lake_spatialite_alloc_fn alloc;
    lake_spatialite_init_fn init;
    lake_spatialite_cleanup_fn cleanup;
    char error[512];
};

static inline struct lake_spatialite_api *lake_spatialite_api_state(void) {
    static struct lake_spatialite_api api;
    return &api;
}

static inline void lake_spatialite_open_once(void) {
    struct lake_spatialite_api *api = lake_spatialite_api_state();
    static const char *const names[] = {
        "libspatialite.so.8", "libspatialite.so.7", "libspatialite.so", "libspatialite.dylib", NULL
    };
    for (int i = 0; names[i] != NULL && api->library == NULL; i++) {
        api->library = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
    }
    if (api->library == NULL) {
        const char *why = dlerror();
        sqlite3_snprintf((int)sizeof api->error, api->error, "cannot load SpatiaLite (libspatialite.so): %s",
                         why ? why : "not found");
        return;
    }
    api->alloc = (lake_spatialite_alloc_fn)dlsym(api->library, "spatialite_alloc_connection");
    api->init = (lake_spatialite_init_fn)dlsym(api->library, "spatialite_init_ex");
    api->cleanup = (lake_spatialite_cleanup_fn)dlsym(api->library, "spatialite_cleanup_ex");
    if (!api->alloc || !api->init || !api->cleanup) {
        sqlite3_snprintf((int)sizeof api->error, api->error, "the SpatiaLite library found lacks spatialite_init_ex");
        api->library = NULL;
    }
}

/* Registers SpatiaLite's functions on `db`; returns the connection's SpatiaLite cache (give it
   to lake_spatialite_detach after closing `db`), or NULL with the reason in *error. */
static inline void *lake_spatialite_attach(sqlite3 *db, const char **error) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, lake_spatialite_open_once);
    struct lake_spatialite_api *api = lake_spatialite_api_state();
    if (api->library == NULL) { *error = api->error; return NULL; }
    void *cache = api->alloc();
    api->init(db, cache, 0);
    return cache;
}

static inline void lake_spatialite_detach(void *cache) {
    struct lake_spatialite_api *api = lake_spatialite_api_state();
    if (cache != NULL && api->cleanup != NULL) api->cleanup(cache);
}
#endif
