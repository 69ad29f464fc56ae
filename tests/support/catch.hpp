// tests/support/catch.hpp: include this instead of a Catch2 header; works with Catch2 2.13
// (Debian 12) and Catch2 3. tests/CMakeLists.txt defines ILERT_SUMO_CATCH2_MAJOR from the
// version find_package(Catch2) found, so the header always matches the library linked.
#pragma once
#if defined(ILERT_SUMO_CATCH2_MAJOR)
#if ILERT_SUMO_CATCH2_MAJOR >= 3
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
#elif __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
