// Shim for the CArchive system library (see Package.swift).
#pragma once
#include <archive.h>
#include <archive_entry.h>
