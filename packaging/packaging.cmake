# The Debian package, built with CPack: cpack -G DEB (scripts/package does it
# into build/). One package, dirproxy, holding everything `cmake --install`
# installs. Its maintainer scripts (packaging/deb/) create the dirproxy user
# and /etc/dirproxy; they enable and start nothing.

set(CPACK_PACKAGE_NAME dirproxy)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "user directory daemon: an internal directory in front of or behind LDAP")
set(CPACK_PACKAGE_CONTACT "dirproxy maintainers <maintainers@users.noreply.r-seed-3eeb96a9.example>"
    CACHE STRING "Maintainer: field of the Debian package")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
# Install with DESTDIR so that absolute destinations (/etc/dirproxy, the
# systemd unit directory) land in the package, and the install-time prefix
# the unit is written with is /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_NAME dirproxy)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # dirproxy_VERSION-RELEASE_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: the shared libraries' packages, computed by dpkg-shlibdeps, plus
# what the maintainer scripts use to create the user (systemd-sysusers, else
# adduser).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser | systemd")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"${CPACK_PACKAGE_DESCRIPTION_SUMMARY}
dirproxyd gives applications one user directory made of several: its own
writable internal directory (SQLite, Argon2id password hashes) in front of,
or behind, LDAP directories (OpenLDAP, Active Directory, 389-ds), consulted
in the configured order. Applications ask it over a local Unix socket who a
user is, which groups they are in and whether a password is right; admins
manage local users and groups with dirproxyctl.
.
The package installs dirproxyd.service and dirproxyd.socket (hardened,
Type=notify) and creates the dirproxy system user and /etc/dirproxy. It
enables and starts nothing: edit /etc/dirproxy/dirproxy.yaml, then run
systemctl enable --now dirproxyd. Data in /var/lib/dirproxy is kept when the
package is removed and deleted when it is purged.")
# conffiles: dpkg keeps an admin's changes to these across upgrades and
# leaves them in place on remove (CMake 3.25's DEB generator does not list
# /etc files by itself).
set(DIRPROXY_CONFFILES "")
if(IS_ABSOLUTE "${DIRPROXY_CONFIG_INSTALL_DIR}")
  string(APPEND DIRPROXY_CONFFILES "${DIRPROXY_CONFIG_INSTALL_DIR}/dirproxy.yaml\n")
endif()
file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/packaging/conffiles" "${DIRPROXY_CONFFILES}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_LIST_DIR}/deb/postinst"
    "${CMAKE_CURRENT_LIST_DIR}/deb/prerm"
    "${CMAKE_CURRENT_LIST_DIR}/deb/postrm"
    "${CMAKE_CURRENT_BINARY_DIR}/packaging/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
