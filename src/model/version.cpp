// The library's run-time version (include/ilert_sumo/version.hpp.in): the version of the code that
// was linked, as opposed to kVersion, the version of the headers a program was compiled with.
#include "ilert_sumo/version.hpp"

namespace ilert_sumo {

const char* version() noexcept { return ILERT_SUMO_VERSION_STRING; }

}  // namespace ilert_sumo
