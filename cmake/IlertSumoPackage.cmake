# CPack: `cpack -G DEB` (or `cmake --build <build> --target package`) in the build directory makes
# one .deb, ilert-sumo_<version>_<arch>.deb, holding every install component (library, dev,
# programs, docs). Its Depends line is computed by dpkg-shlibdeps (Debian package dpkg-dev) from
# the installed programs and library: libcurl, libmicrohttpd, cpp-httplib (sumo-emulator), zlib,
# zstd, libdeflate, libstdc++.
# The package installs where the build was configured to: configure with
# -DCMAKE_INSTALL_PREFIX=/usr for a system package (the relay's systemd unit names its program by
# that path). .ci/package-check.sh builds, installs and runs it.
set(CPACK_PACKAGE_NAME "ilert-sumo")
set(CPACK_PACKAGE_VENDOR "ilert-sumo contributors")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
    "The ilert_sumo C++17 library (headers, CMake package, pkg-config file) and its programs: "
    "ilert-sumo-relay (webhook relay, with a systemd unit), ilert-sumo-send, ilert-parse, "
    "ilert-sumo-report and sumo-emulator (a local Sumo Logic HTTP source for tests).")
set(CPACK_RESOURCE_FILE_LICENSE "${CMAKE_CURRENT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_GENERATOR "DEB")
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_DEB_COMPONENT_INSTALL OFF)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "ilert-sumo contributors <ilert-sumo@invalid>")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The shared library's own directory, so dpkg-shlibdeps resolves the programs' libilert_sumo.so
# dependency to this package instead of failing.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
