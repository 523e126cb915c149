#ifndef LAKE_CPROJ_SHIM_H
#define LAKE_CPROJ_SHIM_H
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

/* PROJ, loaded on first use like SpatiaLite (whose dependency it is, so after SpatiaLite it costs
   nothing more): a point query turns one WGS 84 point into the lake's CRS with a transformation
   created once, where SpatiaLite's Transform() sets one up again for every call (about 0.1 ms,
   the whole of a served lookup's query). Only the five entry points lake uses; PJ_COORD is four
   doubles, passed and returned as such. */
typedef struct { double v[4]; } lake_pj_coord;
typedef void *(*lake_proj_context_fn)(void);
typedef void *(*lake_proj_crs_to_crs_fn)(void *ctx, const char *source, const char *target, void *area);
typedef void *(*lake_proj_normalize_fn)(void *ctx, const void *pj);
typedef lake_pj_coord (*lake_proj_trans_fn)(void *pj, int direction, lake_pj_coord coord);
typedef void *(*lake_proj_destroy_fn)(void *pj);

struct lake_proj_api {
    void *library;
    lake_proj_context_fn context_create;
    lake_proj_crs_to_crs_fn crs_to_crs;
    lake_proj_normalize_fn normalize;
    lake_proj_trans_fn trans;
    lake_proj_destroy_fn destroy;
};

static inline struct lake_proj_api *lake_proj_api_state(void) {
    static struct lake_proj_api api;
    return &api;
}

static inline void lake_proj_open_once(void) {
    struct lake_proj_api *api = lake_proj_api_state();
    static const char *const names[] = { "libproj.so.25", "libproj.so.22", "libproj.so.19", "libproj.so", "libproj.dylib", NULL };
    for (int i = 0; names[i] != NULL && api->library == NULL; i++) api->library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (api->library == NULL) return;
    api->context_create = (lake_proj_context_fn)dlsym(api->library, "proj_context_create");
    api->crs_to_crs = (lake_proj_crs_to_crs_fn)dlsym(api->library, "proj_create_crs_to_crs");
    api->normalize = (lake_proj_normalize_fn)dlsym(api->library, "proj_normalize_for_visualization");
    api->trans = (lake_proj_trans_fn)dlsym(api->library, "proj_trans");
    api->destroy = (lake_proj_destroy_fn)dlsym(api->library, "proj_destroy");
    if (!api->context_create || !api->crs_to_crs || !api->normalize || !api->trans || !api->destroy) api->library = NULL;
}

/* A transformation from `source` to `target` (e.g. "EPSG:4326", "EPSG:3035") taking and giving
   coordinates in GIS order (longitude/easting first), with its own PROJ context; NULL when PROJ
   cannot be loaded or does not know the CRSs. Use it from one thread at a time. */
static inline void *lake_proj_create(const char *source, const char *target) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, lake_proj_open_once);
    struct lake_proj_api *api = lake_proj_api_state();
    if (api->library == NULL) return NULL;
    void *ctx = api->context_create();
    if (ctx == NULL) return NULL;
    void *raw = api->crs_to_crs(ctx, source, target, NULL);
    if (raw == NULL) return NULL;
    void *pj = api->normalize(ctx, raw);
    api->destroy(raw);
    return pj;
}

/* Forward transformation of (x, y); 0 when PROJ gives no finite result. */
static inline int lake_proj_forward(void *pj, double *x, double *y) {
    lake_pj_coord c = {{ *x, *y, 0, 0 }};
    lake_pj_coord out = lake_proj_api_state()->trans(pj, 1 /* PJ_FWD */, c);
    if (!(out.v[0] == out.v[0]) || !(out.v[1] == out.v[1]) || out.v[0] > 1e300 || out.v[0] < -1e300) return 0;
    *x = out.v[0]; *y = out.v[1];
    return 1;
}
#endif
