# Packaging tests (included from tests/CMakeLists.txt). Always on:
#   packaging.example_config.<daemon>  the shipped waddle.yaml passes the daemon's --check-config,
#                                      holds all its keys and no secret, and waddle.yaml(5)
#                                      documents them (scripts/check-example-config)
#   packaging.units                    systemd-analyze verify + security on every unit
#                                      (scripts/check-units)
# Opt-in, because they take minutes or change the machine:
#   -DWADDLE_PACKAGE_TESTS=ON          packaging.packages: builds the .deb and .rpm with cpack and
#                                      checks their contents, metadata and lintian
#                                      (scripts/check-packages)
#   -DWADDLE_PACKAGE_INSTALL_TEST=ON   packaging.install: installs the .deb on this machine, checks
#                                      it, then purges it (root only; scripts/check-packages --install)
option(WADDLE_PACKAGE_TESTS "Test building the .deb and .rpm (cpack, lintian; takes minutes)" OFF)
option(WADDLE_PACKAGE_INSTALL_TEST
       "Install the built .deb on this machine, check it and purge it (needs root)" OFF)

include("${PROJECT_SOURCE_DIR}/packaging/Daemons.cmake")
waddle_built_daemons(packaging_daemons)
set(packaging_generated "${PROJECT_BINARY_DIR}/packaging")
set(packaging_binaries)
foreach(entry ${packaging_daemons})
  waddle_daemon_field("${entry}" 0 section)
  waddle_daemon_field("${entry}" 1 binary)
  list(APPEND packaging_binaries "$<TARGET_FILE:${binary}>")
  set(manpage)
  if(EXISTS "${PROJECT_SOURCE_DIR}/man/waddle.yaml.5.scd")
    set(manpage "${PROJECT_BINARY_DIR}/man/waddle.yaml.5")
  endif()
  add_test(NAME packaging.example_config.${section}
    COMMAND "${PROJECT_SOURCE_DIR}/scripts/check-example-config"
            "${packaging_generated}/waddle.yaml" "$<TARGET_FILE:${binary}>" ${manpage})
  set_tests_properties(packaging.example_config.${section} PROPERTIES TIMEOUT 120)
endforeach()

find_program(SYSTEMD_ANALYZE systemd-analyze)
if(packaging_daemons AND SYSTEMD_ANALYZE)
  add_test(NAME packaging.units
    COMMAND "${PROJECT_SOURCE_DIR}/scripts/check-units" "${packaging_generated}/units" /usr/sbin
            ${packaging_binaries})
  set_tests_properties(packaging.units PROPERTIES TIMEOUT 120)
elseif(packaging_daemons)
  message(STATUS "packaging: systemd-analyze not found, packaging.units is not run")
endif()

if(WADDLE_PACKAGE_TESTS)
  add_test(NAME packaging.packages
    COMMAND "${PROJECT_SOURCE_DIR}/scripts/check-packages" "${PROJECT_BINARY_DIR}")
  set_tests_properties(packaging.packages PROPERTIES TIMEOUT 1200 RESOURCE_LOCK packaging
                       FIXTURES_SETUP packages)
endif()
if(WADDLE_PACKAGE_TESTS AND WADDLE_PACKAGE_INSTALL_TEST)
  add_test(NAME packaging.install
    COMMAND "${PROJECT_SOURCE_DIR}/scripts/check-packages" --install "${PROJECT_BINARY_DIR}")
  set_tests_properties(packaging.install PROPERTIES TIMEOUT 600 RESOURCE_LOCK packaging
                       FIXTURES_REQUIRED packages)
endif()
