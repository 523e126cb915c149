#ifndef LAKE_CLIBPQ_SHIM_H
#define LAKE_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
