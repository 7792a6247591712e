// Shim for the CDNNL system library (see Package.swift).
#pragma once
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
/* libgomp is what Debian's oneDNN 2.6 threads with (DNNL_CPU_RUNTIME_OMP). */
void omp_set_num_threads(int num_threads);
int omp_get_max_threads(void);
