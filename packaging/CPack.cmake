# Packaging: what `cmake --build build --target package` puts in the .deb and the .rpm, and the
# files generated from the built daemons (example config, key reference, systemd units).
# Included at the end of the top-level CMakeLists.txt, after every target exists.
#
# Layout (FHS, prefix /usr): waddle in /usr/bin, daemons in /usr/sbin, units in
# /usr/lib/systemd/system, /etc/waddlebot/waddle.yaml (a conffile), migrations in
# /usr/share/waddlebot/migrations, overlay pages in /usr/share/waddlebot/overlay.
include_guard(GLOBAL)
include("${CMAKE_CURRENT_LIST_DIR}/Daemons.cmake")

set(WADDLE_PACKAGE_PREFIX /usr)
set(WADDLE_PACKAGE_SBINDIR "${WADDLE_PACKAGE_PREFIX}/${CMAKE_INSTALL_SBINDIR}")
set(WADDLE_GENERATED_DIR "${PROJECT_BINARY_DIR}/packaging")
waddle_built_daemons(WADDLE_BUILT_DAEMONS)

# --- generated from the daemons: example config, key reference, units --------------------------
find_package(Python3 COMPONENTS Interpreter)
set(WADDLE_UNIT_NAMES)
if(WADDLE_BUILT_DAEMONS AND Python3_Interpreter_FOUND)
  set(specs)
  set(outputs "${WADDLE_GENERATED_DIR}/waddle.yaml" "${WADDLE_GENERATED_DIR}/keys.scd"
              "${WADDLE_GENERATED_DIR}/units/waddle.target")
  set(binaries)
  foreach(entry ${WADDLE_BUILT_DAEMONS})
    waddle_daemon_field("${entry}" 0 section)
    waddle_daemon_field("${entry}" 1 binary)
    waddle_daemon_field("${entry}" 2 unit)
    list(APPEND specs "${entry}|$<TARGET_FILE:${binary}>")
    list(APPEND binaries ${binary})
    list(APPEND outputs "${WADDLE_GENERATED_DIR}/keys-${section}.scd"
                        "${WADDLE_GENERATED_DIR}/units/${unit}.service")
    list(APPEND WADDLE_UNIT_NAMES "${unit}.service")
  endforeach()
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND "${Python3_EXECUTABLE}" "${PROJECT_SOURCE_DIR}/packaging/generate.py"
            --out "${WADDLE_GENERATED_DIR}" --templates "${PROJECT_SOURCE_DIR}/systemd"
            --sbindir "${WADDLE_PACKAGE_SBINDIR}" ${specs}
    DEPENDS "${PROJECT_SOURCE_DIR}/packaging/generate.py"
            "${PROJECT_SOURCE_DIR}/systemd/waddle-daemon.service.in"
            "${PROJECT_SOURCE_DIR}/systemd/waddle.target.in" ${binaries}
    COMMENT "Generating waddle.yaml, its key reference and the systemd units from the daemons"
    VERBATIM)
  add_custom_target(waddle-generated ALL DEPENDS ${outputs})
  set(WADDLE_EXAMPLE_CONFIG "${WADDLE_GENERATED_DIR}/waddle.yaml")
elseif(NOT WADDLE_BUILT_DAEMONS)
  message(STATUS "packaging: no daemon is built yet; no example config or units")
else()
  message(WARNING "packaging: python3 not found; no example config or units are generated")
endif()

# --- install rules ---------------------------------------------------------------------------
foreach(entry ${WADDLE_BUILT_DAEMONS})
  waddle_daemon_field("${entry}" 1 binary)
  install(TARGETS ${binary} RUNTIME DESTINATION "${CMAKE_INSTALL_SBINDIR}")
endforeach()
if(WADDLE_UNIT_NAMES)
  list(TRANSFORM WADDLE_UNIT_NAMES PREPEND "${WADDLE_GENERATED_DIR}/units/" OUTPUT_VARIABLE
       unit_files)
  install(FILES ${unit_files} "${WADDLE_GENERATED_DIR}/units/waddle.target"
          DESTINATION lib/systemd/system)
  # The one file an admin edits: a conffile, so an upgrade never overwrites it.
  install(FILES "${WADDLE_EXAMPLE_CONFIG}" DESTINATION /etc/waddlebot)
endif()
install(FILES "${PROJECT_SOURCE_DIR}/packaging/sysusers.d/waddlebot.conf"
        DESTINATION lib/sysusers.d)
install(FILES "${PROJECT_SOURCE_DIR}/packaging/tmpfiles.d/waddlebot.conf"
        DESTINATION lib/tmpfiles.d)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/migrations/"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/waddlebot/migrations" FILES_MATCHING PATTERN "*.sql")
if(IS_DIRECTORY "${PROJECT_SOURCE_DIR}/services/overlay/web")
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/services/overlay/web/"
          DESTINATION "${CMAKE_INSTALL_DATADIR}/waddlebot/overlay")
endif()
set(doc_dir "${CMAKE_INSTALL_DATADIR}/doc/waddlebot")
install(FILES "${PROJECT_SOURCE_DIR}/packaging/copyright" DESTINATION "${doc_dir}")
install(FILES "${PROJECT_SOURCE_DIR}/README.md" "${PROJECT_SOURCE_DIR}/docs/operations.md"
              "${PROJECT_SOURCE_DIR}/docs/admin-socket.md"
              "${PROJECT_SOURCE_DIR}/docs/module-protocol.md"
              "${PROJECT_SOURCE_DIR}/docs/http-api.md" "${PROJECT_SOURCE_DIR}/docs/modules.md"
              "${PROJECT_SOURCE_DIR}/docs/overlay.md"
        DESTINATION "${doc_dir}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/docs/cli/" DESTINATION "${doc_dir}/cli"
        FILES_MATCHING PATTERN "*.md")
# Debian wants a changelog in every package's doc directory, compressed.
set(changelog "${WADDLE_GENERATED_DIR}/changelog.gz")
string(TIMESTAMP changelog_date "%a, %d %b %Y 00:00:00 +0000" UTC)  # honours SOURCE_DATE_EPOCH
file(WRITE "${WADDLE_GENERATED_DIR}/changelog"
     "waddlebot (${PROJECT_VERSION}) unstable; urgency=medium\n\n"
     "  * Release ${PROJECT_VERSION}: see the git history for changes.\n\n"
     " -- WaddleBot maintainers <maintainers@waddlebot.invalid>  ${changelog_date}\n")
add_custom_command(OUTPUT "${changelog}"
  COMMAND sh -c "gzip -9n -c \"$0\" > \"$1\"" "${WADDLE_GENERATED_DIR}/changelog" "${changelog}"
  DEPENDS "${WADDLE_GENERATED_DIR}/changelog"
  VERBATIM)
add_custom_target(waddle-changelog ALL DEPENDS "${changelog}")
install(FILES "${changelog}" DESTINATION "${doc_dir}")

# --- maintainer scripts (they name every unit built here) --------------------------------------
string(REPLACE ";" " " WADDLE_UNITS "waddle.target;${WADDLE_UNIT_NAMES}")
foreach(script deb/postinst deb/prerm deb/postrm rpm/post rpm/preun rpm/postun)
  configure_file("${PROJECT_SOURCE_DIR}/packaging/${script}.in"
                 "${WADDLE_GENERATED_DIR}/${script}" @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                  WORLD_READ WORLD_EXECUTE)
endforeach()
file(WRITE "${WADDLE_GENERATED_DIR}/deb/conffiles" "")
if(WADDLE_UNIT_NAMES)
  file(WRITE "${WADDLE_GENERATED_DIR}/deb/conffiles" "/etc/waddlebot/waddle.yaml\n")
endif()

# --- CPack -----------------------------------------------------------------------------------
set(CPACK_PACKAGE_NAME waddlebot)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "WaddleBot")
set(CPACK_PACKAGE_CONTACT "WaddleBot maintainers <maintainers@waddlebot.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "self-hosted community chat bot for Twitch, Discord and Slack")
# Debian wants the long description in lines of at most 80 characters.
set(CPACK_PACKAGE_DESCRIPTION
    "WaddleBot connects a community's Twitch channels, Discord servers and Slack
workspaces to one bot: a router runs commands, moderation rules, reputation and
event reactions through action modules and answers in chat and on OBS overlays.
This package holds the waddle admin CLI and the daemons, with hardened systemd
units, the schema migrations, man pages and shell completions.")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://waddlebot.invalid/")
set(CPACK_PACKAGING_INSTALL_PREFIX "${WADDLE_PACKAGE_PREFIX}")
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
find_program(RPMBUILD_PROGRAM rpmbuild)
if(RPMBUILD_PROGRAM)
  list(APPEND CPACK_GENERATOR RPM)
else()
  message(STATUS "packaging: rpmbuild not found, only the .deb is built (scripts/install-deps)")
endif()

# Debian: dependencies from the binaries' shared libraries (dpkg-shlibdeps) plus systemd, whose
# sysusers and tmpfiles the maintainer scripts run, and tzdata (community time zones).
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd, tzdata")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "postgresql-client")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql (>= 15), redis-server")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${WADDLE_GENERATED_DIR}/deb/postinst" "${WADDLE_GENERATED_DIR}/deb/prerm"
    "${WADDLE_GENERATED_DIR}/deb/postrm" "${WADDLE_GENERATED_DIR}/deb/conffiles")

# RPM: requirements come from rpmbuild's automatic soname scan plus systemd.
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_LICENSE "LicenseRef-not-yet-chosen")
set(CPACK_RPM_PACKAGE_GROUP "Applications/Communications")
set(CPACK_RPM_PACKAGE_REQUIRES "systemd, tzdata")
set(CPACK_RPM_PACKAGE_RELEASE 1)
set(CPACK_RPM_USER_FILELIST "%config(noreplace) /etc/waddlebot/waddle.yaml")
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE "${WADDLE_GENERATED_DIR}/rpm/post")
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE "${WADDLE_GENERATED_DIR}/rpm/preun")
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE "${WADDLE_GENERATED_DIR}/rpm/postun")
# Directories that belong to the base system, not to this package.
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /etc /usr/lib/systemd /usr/lib/systemd/system /usr/lib/sysusers.d /usr/lib/tmpfiles.d
    /usr/share/man /usr/share/man/man1 /usr/share/man/man5 /usr/share/man/man8
    /usr/share/bash-completion /usr/share/bash-completion/completions /usr/share/zsh
    /usr/share/zsh/site-functions /usr/share/zsh/vendor-completions /usr/share/fish
    /usr/share/fish/vendor_completions.d /usr/share/doc)
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none")

include(CPack)
