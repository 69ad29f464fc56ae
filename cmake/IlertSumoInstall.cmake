# Install rules: headers, library, CMake package (config + version + targets), pkg-config file.
include(CMakePackageConfigHelpers)

set(ILERT_SUMO_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/ilert_sumo")

install(TARGETS ilert_sumo EXPORT ilert_sumoTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/ilert_sumo DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/generated/ilert_sumo/version.hpp"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ilert_sumo)

install(EXPORT ilert_sumoTargets NAMESPACE ilert_sumo:: DESTINATION ${ILERT_SUMO_CMAKE_DIR})

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
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/ilert_sumoConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/ilert_sumoConfigVersion.cmake"
  cmake/FindLibDeflate.cmake cmake/FindZstd.cmake
  DESTINATION ${ILERT_SUMO_CMAKE_DIR})

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
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/ilert_sumo.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
