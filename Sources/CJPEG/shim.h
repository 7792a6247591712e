// Shim for the CJPEG system library (see Package.swift).
#pragma once
#include <turbojpeg.h>
