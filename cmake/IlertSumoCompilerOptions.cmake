# Warning flags and sanitizer flags shared by every target of the project.

function(ilert_sumo_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                             -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
                                             -Wconversion -Wsign-conversion -Wnull-dereference
                                             -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
    if(ILERT_SUMO_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()

# Test/example code is held to -Wall -Wextra -Wpedantic, without the pickier conversion warnings.
function(ilert_sumo_set_basic_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
    if(ILERT_SUMO_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()

if(ILERT_SUMO_SANITIZE)
  message(STATUS "ilert_sumo: building with -fsanitize=${ILERT_SUMO_SANITIZE}")
  add_compile_options(-fsanitize=${ILERT_SUMO_SANITIZE} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${ILERT_SUMO_SANITIZE})
  if(ILERT_SUMO_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
    if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
      # RapidJSON 1.1.0's internal::Stack does `nullptr + n` on its first push (see the file).
      add_compile_options(-fsanitize-ignorelist=${CMAKE_CURRENT_LIST_DIR}/ubsan-ignorelist.txt)
    endif()
  endif()
endif()
