// Shim for the CPNG system library (see Package.swift).
#pragma once
#include <png.h>
