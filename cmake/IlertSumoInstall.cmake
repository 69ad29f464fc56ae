# Install rules of the library: headers, library, CMake package (config + version + targets),
# pkg-config file, LICENSE and the docs. The programs, their man pages and the relay's systemd
# unit are installed by examples/CMakeLists.txt.
#
# Components (cmake --install <build> --component <name>):
#   library   the shared library (BUILD_SHARED_LIBS=ON) and LICENSE
#   dev       headers, the static archive or the .so link, CMake package, pkg-config file, LICENSE
#   programs  ilert-parse, ilert-sumo-send, ilert-sumo-relay, sumo-emulator, ilert-sumo-report,
#             their man pages (when help2man is installed), the relay's systemd unit, LICENSE
#   docs      README.md, CHANGELOG.md, docs/*.md, LICENSE
# A plain `cmake --install <build>` installs all four.
include(CMakePackageConfigHelpers)

set(ILERT_SUMO_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/ilert_sumo")

install(TARGETS ilert_sumo EXPORT ilert_sumoTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT library NAMELINK_COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT library
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/ilert_sumo DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
  FILES_MATCHING PATTERN "*.hpp")
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/generated/ilert_sumo/version.hpp"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ilert_sumo COMPONENT dev)

foreach(_component library dev programs docs)
  install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT ${_component})
endforeach()
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT docs)
if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/CHANGELOG.md")
  install(FILES CHANGELOG.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT docs)
endif()
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs COMPONENT docs
  FILES_MATCHING PATTERN "*.md")

install(EXPORT ilert_sumoTargets NAMESPACE ilert_sumo:: DESTINATION ${ILERT_SUMO_CMAKE_DIR} COMPONENT dev)

get_target_property(_ilert_sumo_type ilert_sumo TYPE)
if(_ilert_sumo_type STREQUAL "STATIC_LIBRARY")
  set(ILERT_SUMO_STATIC ON)
else()
  set(ILERT_SUMO_STATIC OFF)
endif()
set(ILERT_SUMO_HAVE_LIBDEFLATE ${LibDeflate_FOUND})
set(ILERT_SUMO_HAVE_ZSTD ${Zstd_FOUND})
configure_package_config_file(cmake/ilert_sumoConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/ilert_sumoConfig.cmake"
  INSTALL_DESTINATION ${ILERT_SUMO_CMAKE_DIR})
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/ilert_sumoConfigVersion.cmake"
  COMPATIBILITY ${ILERT_SUMO_VERSION_COMPATIBILITY})  # set beside SOVERSION (CMakeLists.txt)
install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/ilert_sumoConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/ilert_sumoConfigVersion.cmake"
  cmake/FindLibDeflate.cmake cmake/FindZstd.cmake
  DESTINATION ${ILERT_SUMO_CMAKE_DIR} COMPONENT dev)

# pkg-config: a static library must also name its private dependencies. They are listed as
# plain -l flags (not Requires.private), so `pkg-config --static` links the system's shared
# libcurl instead of demanding static archives of curl's own dependencies.
set(ILERT_SUMO_PC_LIBS_PRIVATE "-lcurl -lz")
if(LibDeflate_FOUND)
  string(APPEND ILERT_SUMO_PC_LIBS_PRIVATE " -ldeflate")
endif()
if(Zstd_FOUND)
  string(APPEND ILERT_SUMO_PC_LIBS_PRIVATE " -lzstd")
endif()
string(APPEND ILERT_SUMO_PC_LIBS_PRIVATE " -pthread")
# Relocatable: the prefix is found relative to the .pc file, so `cmake --install --prefix X` works.
file(RELATIVE_PATH ILERT_SUMO_PC_PREFIX_FROM_PCDIR
     "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" ILERT_SUMO_PC_PREFIX_FROM_PCDIR "${ILERT_SUMO_PC_PREFIX_FROM_PCDIR}")
configure_file(cmake/ilert_sumo.pc.in "${CMAKE_CURRENT_BINARY_DIR}/ilert_sumo.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/ilert_sumo.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  COMPONENT dev)
