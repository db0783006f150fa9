# Extra link dependencies and definitions for tests (helpers append here).
if(TARGET unit_daemon)
  add_dependencies(unit_daemon waddle-testd)
  target_compile_definitions(unit_daemon PRIVATE WADDLE_TESTD="$<TARGET_FILE:waddle-testd>")
endif()
if(TARGET integration_schema_constraints)
  target_link_libraries(integration_schema_constraints PRIVATE waddle::migrate nlohmann_json::nlohmann_json)
endif()
