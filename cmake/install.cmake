# Installing tapir: the public headers, libtapir (static and shared), the programs, the
# preload library and tapir-run; a CMake package (find_package(tapir CONFIG) gives tapir::tapir,
# the shared library, and tapir::tapir_static), tapir.pc for pkg-config, and a .deb (cpack -G DEB).
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tapir DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS tapir tapir_shared EXPORT tapirTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS tapir-preload LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS tapird tapirctl tapir-run tapir-ping tapir-traceroute tapir-udp-echo tapir-broadcast
                tapir-sniff tapir-mcast-send tapir-mcast-recv tapir-tcp-echo tapir-httpd tapir-bulk
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/API.md
              ${PROJECT_SOURCE_DIR}/docs/PRELOAD.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(TAPIR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tapir)
install(EXPORT tapirTargets NAMESPACE tapir:: DESTINATION ${TAPIR_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/tapirConfig.cmake.in
  ${CMAKE_BINARY_DIR}/tapirConfig.cmake INSTALL_DESTINATION ${TAPIR_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/tapirConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/tapirConfig.cmake ${CMAKE_BINARY_DIR}/tapirConfigVersion.cmake
  DESTINATION ${TAPIR_CMAKE_DIR})

# tapir.pc finds its prefix from where it lies (${pcfiledir}), so the same file serves an
# install into /usr, /usr/local or a temporary directory (cmake --install --prefix).
file(RELATIVE_PATH TAPIR_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" TAPIR_PC_TO_PREFIX "${TAPIR_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/tapir.pc.in ${CMAKE_BINARY_DIR}/tapir.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/tapir.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# cpack -G DEB (from the build directory): one package, installed under /usr.
set(CPACK_PACKAGE_NAME tapir)
set(CPACK_PACKAGE_VENDOR "tapir")
set(CPACK_PACKAGE_CONTACT "tapir maintainers <tapir@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "user-space TCP/IP stack over a TAP device, with LD_PRELOAD")
set(CPACK_PACKAGE_DESCRIPTION
    "tapir is a user-space IPv4 stack (ARP, IP, ICMP, IGMP, UDP, TCP) over a Linux TAP device or an AF_PACKET socket, with a BSD-shaped socket API (libtapir), sample programs, and libtapir-preload.so with tapir-run to run unmodified Linux programs over it.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # dpkg-shlibdeps: libc6, libstdc++6, libssl3, libtins
set(CPACK_STRIP_FILES ON)  # the debug information stays in the build tree
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "iproute2")
include(CPack)
