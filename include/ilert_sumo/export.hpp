// ilert_sumo/export.hpp: ILERT_SUMO_EXPORT, the mark of the library's public API.
//
// The library is compiled with hidden visibility by default (CMake: CXX_VISIBILITY_PRESET hidden,
// VISIBILITY_INLINES_HIDDEN), so a shared libilert_sumo.so exports only what is declared in
// include/ilert_sumo/ with this mark: the functions and classes a program may call. Everything in
// src/ (ilert_sumo::detail, file-local helpers) stays internal and may change in any release.
// Used by every public header; programs never need to use it themselves.
#pragma once

#if defined(_WIN32) || defined(__CYGWIN__)
// Windows is not a supported platform (the spool and the relay are POSIX); the mark is empty there,
// which is right for the static library.
#define ILERT_SUMO_EXPORT
#elif defined(__GNUC__) || defined(__clang__)
#define ILERT_SUMO_EXPORT __attribute__((visibility("default")))
#else
#define ILERT_SUMO_EXPORT
#endif
