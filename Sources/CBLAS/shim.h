// Shim for the CBLAS system library (see Package.swift).
#pragma once
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
