# Helpers that keep every target's flags the same.

set(WADDLE_WARNINGS -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)

# waddle_library(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# Defines the static library waddle_<name> with alias waddle::<name>. Headers are included as
# "<name>/file.hpp" relative to common/.
function(waddle_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(waddle_${name} STATIC ${ARG_SOURCES})
  add_library(waddle::${name} ALIAS waddle_${name})
  target_include_directories(waddle_${name} PUBLIC "${PROJECT_SOURCE_DIR}/common")
  target_compile_options(waddle_${name} PRIVATE ${WADDLE_WARNINGS})
  target_link_libraries(waddle_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# waddle_executable(<name> SOURCES ... [DEPS ...])
function(waddle_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${WADDLE_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()
